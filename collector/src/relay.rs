//! Relay mode: what the collector accepted is forwarded upstream from a background thread,
//! with the keys of the server's environment (the browser needs none).
//!
//! The queue is bounded ([`QUEUE`] requests); when it is full the request is dropped and
//! counted. Each request is tried up to [`ATTEMPTS`] times, again on network errors, 429
//! and 5xx (after `Retry-After` when given, at most [`MAX_RETRY_AFTER`], else after an
//! exponential backoff). Keys are never logged: messages name the upstream and the status.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use crate::config::RelayConfig;

/// Requests waiting to be forwarded.
pub const QUEUE: usize = 256;
/// Tries per request.
pub const ATTEMPTS: u32 = 4;
/// The longest `Retry-After` waited for.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);
/// First backoff; doubled on each retry.
const BACKOFF: Duration = Duration::from_millis(250);
/// Per-request timeout.
const TIMEOUT: Duration = Duration::from_secs(15);

/// Something to forward.
#[derive(Clone, Debug)]
pub enum Job {
    /// An OTLP request of `signal`, the body exactly as received.
    Otlp {
        signal: crate::server::Signal,
        body: Vec<u8>,
        content_type: String,
        content_encoding: Option<String>,
    },
    /// A Rollbar item (JSON, without the browser's `access_token`).
    Item { body: Vec<u8> },
}

/// Counters shown in `/api/status`.
#[derive(Debug, Default)]
pub struct RelayStats {
    pub forwarded: AtomicU64,
    pub dropped: AtomicU64,
}

/// The forwarding thread's handle.
#[derive(Debug)]
pub struct Relay {
    sender: Mutex<Option<SyncSender<Job>>>,
    pub stats: Arc<RelayStats>,
    pub honeycomb: bool,
    pub rollbar: bool,
    done: Mutex<Option<Receiver<()>>>,
}

impl Relay {
    /// Starts the thread when anything is configured.
    pub fn start(config: RelayConfig) -> Self {
        let stats = Arc::new(RelayStats::default());
        let honeycomb = config.honeycomb.is_some();
        let rollbar = config.rollbar.is_some();
        let disabled = |stats| Self {
            sender: Mutex::new(None),
            stats,
            honeycomb,
            rollbar,
            done: Mutex::new(None),
        };
        if !honeycomb && !rollbar {
            return disabled(stats);
        }
        let (sender, receiver) = sync_channel::<Job>(QUEUE);
        let (done_tx, done) = sync_channel::<()>(1);
        let thread_stats = stats.clone();
        let spawned = thread::Builder::new()
            .name("edge-collector-relay".to_owned())
            .spawn(move || {
                let worker = Worker {
                    config,
                    stats: thread_stats,
                    agent: ureq::Agent::config_builder()
                        .timeout_global(Some(TIMEOUT))
                        .http_status_as_error(false)
                        .user_agent("edge-collector")
                        .build()
                        .into(),
                };
                while let Ok(job) = receiver.recv() {
                    worker.forward(job);
                }
                let _ = done_tx.send(());
            });
        if let Err(e) = spawned {
            eprintln!("edge-collector: relay disabled: cannot start its thread: {e}");
            return disabled(stats);
        }
        Self {
            sender: Mutex::new(Some(sender)),
            stats,
            honeycomb,
            rollbar,
            done: Mutex::new(Some(done)),
        }
    }

    /// Queues a job for its upstream (nothing when that upstream is not configured).
    pub fn send(&self, job: Job) {
        let wanted = match job {
            Job::Otlp { .. } => self.honeycomb,
            Job::Item { .. } => self.rollbar,
        };
        if !wanted {
            return;
        }
        let sender = self
            .sender
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let Some(sender) = sender else {
            self.stats.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        };
        match sender.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.stats.dropped.fetch_add(1, Ordering::Relaxed);
                eprintln!("edge-collector: relay queue full, request dropped");
            }
            Err(TrySendError::Disconnected(_)) => {
                self.stats.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Closes the queue and waits up to `timeout` for what is queued to be forwarded.
    pub fn shutdown(&self, timeout: Duration) {
        self.sender.lock().unwrap_or_else(|p| p.into_inner()).take();
        let done = self.done.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(done) = done {
            let _ = done.recv_timeout(timeout);
        }
    }
}

struct Worker {
    config: RelayConfig,
    stats: Arc<RelayStats>,
    agent: ureq::Agent,
}

impl Worker {
    fn forward(&self, job: Job) {
        let (what, ok) = match &job {
            Job::Otlp {
                signal,
                body,
                content_type,
                content_encoding,
            } => {
                let Some(hc) = &self.config.honeycomb else {
                    return;
                };
                let url = hc.url(signal.path());
                let ok = self.try_send("honeycomb", || {
                    let mut request = self
                        .agent
                        .post(&url)
                        .header("content-type", content_type.as_str())
                        .header("x-honeycomb-team", hc.api_key.as_str());
                    if let Some(dataset) = &hc.dataset {
                        request = request.header("x-honeycomb-dataset", dataset.as_str());
                    }
                    if let Some(encoding) = content_encoding {
                        request = request.header("content-encoding", encoding.as_str());
                    }
                    request.send(&body[..])
                });
                ("honeycomb", ok)
            }
            Job::Item { body } => {
                let Some(rb) = &self.config.rollbar else {
                    return;
                };
                let ok = self.try_send("rollbar", || {
                    self.agent
                        .post(&rb.endpoint)
                        .header("content-type", "application/json")
                        .header("x-rollbar-access-token", rb.access_token.as_str())
                        .send(&body[..])
                });
                ("rollbar", ok)
            }
        };
        let counter = if ok {
            &self.stats.forwarded
        } else {
            eprintln!("edge-collector: relay to {what} gave up, request dropped");
            &self.stats.dropped
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn try_send(
        &self,
        upstream: &str,
        send: impl Fn() -> Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> bool {
        let mut backoff = BACKOFF;
        for attempt in 1..=ATTEMPTS {
            let wait = match send() {
                Ok(mut response) => {
                    let status = response.status().as_u16();
                    // Read (and drop) the body so the connection can be reused.
                    let _ = response.body_mut().read_to_vec();
                    if (200..300).contains(&status) {
                        return true;
                    }
                    let retry = status == 429 || status >= 500;
                    eprintln!(
                        "edge-collector: relay to {upstream}: HTTP {status}{}",
                        if retry && attempt < ATTEMPTS {
                            ", retrying"
                        } else {
                            ""
                        }
                    );
                    if !retry {
                        return false;
                    }
                    response
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(|secs| Duration::from_secs(secs).min(MAX_RETRY_AFTER))
                        .unwrap_or(backoff)
                }
                Err(e) => {
                    eprintln!("edge-collector: relay to {upstream}: {}", redact_error(&e));
                    backoff
                }
            };
            if attempt < ATTEMPTS {
                thread::sleep(wait);
                backoff *= 2;
            }
        }
        false
    }
}

/// A transport error's text (ureq's errors name the URL and the cause, never headers).
fn redact_error(e: &ureq::Error) -> String {
    e.to_string()
}
