//! One outgoing channel: a queue of items, how they are encoded into request bodies, where
//! they go (URL and headers), and when to retry. Spans and Rollbar items are two channels
//! of the same kind; a new kind of payload (logs, X-Ray segments) is a new channel value,
//! not a new code path.
//!
//! The glue's transport asks [`Channel::take`] for the requests that are due, sends them,
//! and reports each attempt with [`Channel::result`]; it arms one timer for
//! [`Channel::next_due`].

use crate::prelude::*;
use core::fmt;

use crate::export::batch::{BatchConfig, BatchQueue, Push, TakeMode};
use crate::export::otlp::OtlpEncoder;
use crate::export::otlp_logs::LogsEncoder;
use crate::export::retry::{ExportOutcome, RetryConfig};
use crate::trace::span::SpanData;

/// Largest request body on the page-hide path: under the browser's 64 KiB keepalive quota.
pub const HIDDEN_MAX_BODY_BYTES: usize = 60 * 1024 - 1;

/// How a channel's items become request bodies.
pub trait Encode<T> {
    /// One request body holding `items`.
    fn encode(&self, items: &[T]) -> String;
    /// Request bodies for `items`, each under `max_bytes` where an item allows it, with the
    /// number of items each holds (in order).
    fn encode_chunked(&self, items: &[T], max_bytes: usize) -> Vec<(String, u32)>;
}

/// What the engine's channels queue: a finished span, or a text already encoded (a Rollbar
/// item's JSON, a log record's). One element type for every channel, so the queue's code (a `VecDeque` and
/// the batch bookkeeping around it) is compiled once instead of once per channel: 3.8 KB of
/// the engine module before `wasm-opt` (issue 14). A channel is built for one of them; an
/// element of the other kind, which the engine never queues there, is left out of the body.
#[derive(Debug)]
pub enum Payload {
    /// A finished span. Boxed from start to export: a move is a pointer, not the record.
    Span(Box<SpanData>),
    /// An encoded item.
    Text(String),
}

impl Payload {
    /// The span, when this is one.
    pub fn span(&self) -> Option<&SpanData> {
        match self {
            Payload::Span(s) => Some(s),
            Payload::Text(_) => None,
        }
    }

    /// The text, when this is one.
    pub fn text(&self) -> Option<&str> {
        match self {
            Payload::Text(t) => Some(t),
            Payload::Span(_) => None,
        }
    }
}

impl Encode<Payload> for OtlpEncoder {
    fn encode(&self, items: &[Payload]) -> String {
        let spans: Vec<&SpanData> = items.iter().filter_map(Payload::span).collect();
        OtlpEncoder::encode(self, &spans)
    }
    fn encode_chunked(&self, items: &[Payload], max_bytes: usize) -> Vec<(String, u32)> {
        let spans: Vec<&SpanData> = items.iter().filter_map(Payload::span).collect();
        OtlpEncoder::encode_chunked(self, &spans, max_bytes)
    }
}

impl Encode<Payload> for Verbatim {
    fn encode(&self, items: &[Payload]) -> String {
        items.iter().filter_map(Payload::text).collect()
    }
    fn encode_chunked(&self, items: &[Payload], _max_bytes: usize) -> Vec<(String, u32)> {
        items
            .iter()
            .filter_map(Payload::text)
            .map(|t| (t.to_owned(), 1))
            .collect()
    }
}

/// Items that are already request bodies (Rollbar items): one per request, as they are.
#[derive(Clone, Copy, Debug, Default)]
pub struct Verbatim;

impl Encode<Payload> for LogsEncoder {
    fn encode(&self, items: &[Payload]) -> String {
        self.encode_encoded(items.iter().filter_map(Payload::text))
    }
    fn encode_chunked(&self, items: &[Payload], max_bytes: usize) -> Vec<(String, u32)> {
        let records: Vec<&str> = items.iter().filter_map(Payload::text).collect();
        self.encode_encoded_chunked(&records, max_bytes)
    }
}

/// The engine's encoders as one type, so that its channels are one type and the
/// channel's code (`take`, the batch bookkeeping) is compiled once: 1.4 KB of the engine
/// module, issue 14.
#[derive(Debug)]
pub enum Bodies {
    /// Spans as OTLP/JSON.
    Otlp(OtlpEncoder),
    /// Items as they are.
    Verbatim,
    /// Log records (each encoded when it was made) as OTLP/JSON.
    Logs(LogsEncoder),
}

impl Encode<Payload> for Bodies {
    fn encode(&self, items: &[Payload]) -> String {
        match self {
            Bodies::Otlp(e) => Encode::encode(e, items),
            Bodies::Verbatim => Encode::encode(&Verbatim, items),
            Bodies::Logs(e) => Encode::encode(e, items),
        }
    }
    fn encode_chunked(&self, items: &[Payload], max_bytes: usize) -> Vec<(String, u32)> {
        match self {
            Bodies::Otlp(e) => Encode::encode_chunked(e, items, max_bytes),
            Bodies::Verbatim => Encode::encode_chunked(&Verbatim, items, max_bytes),
            Bodies::Logs(e) => Encode::encode_chunked(e, items, max_bytes),
        }
    }
}

/// One request to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The batch id to report the result under.
    pub id: u32,
    /// The body; empty when `resend`.
    pub body: String,
    /// Items in it.
    pub items: u32,
    /// A batch the transport holds (it was held behind a probe): send its body again.
    pub resend: bool,
}

/// A queue and where its requests go.
pub struct Channel<T, E> {
    /// Items waiting or in flight.
    pub queue: BatchQueue<T>,
    /// Items to bodies.
    pub encoder: E,
    /// Retry limits.
    pub retry: RetryConfig,
    /// Where to POST.
    pub url: String,
    /// Request headers (keys and tokens among them: never logged).
    pub headers: Vec<(String, String)>,
    /// Whether to gzip bodies (except on the page-hide path).
    pub gzip: bool,
}

/// The names of `headers`, for output that must not show values (keys, tokens).
pub fn header_names(headers: &[(String, String)]) -> Vec<&str> {
    headers.iter().map(|(k, _)| k.as_str()).collect()
}

impl<T, E> fmt::Debug for Channel<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Channel")
            .field("url", &self.url)
            .field("header_names", &header_names(&self.headers))
            .field("queued", &self.queue.queued())
            .field("in_flight", &self.queue.in_flight())
            .field("gzip", &self.gzip)
            .finish_non_exhaustive()
    }
}

/// Where a channel's requests go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChannelSettings<'a> {
    /// The URL to POST to.
    pub url: &'a str,
    /// Request headers (keys and tokens among them: never logged).
    pub headers: &'a [(String, String)],
    /// Time one attempt may take before it is aborted; also how long a flush waits.
    pub timeout_millis: u32,
    /// Whether bodies are gzipped (except on the page-hide path).
    pub gzip: bool,
}

impl<T, E: Encode<T>> Channel<T, E> {
    /// A channel posting to `url` with `headers`.
    pub fn new(
        batch: BatchConfig,
        retry: RetryConfig,
        encoder: E,
        url: String,
        headers: Vec<(String, String)>,
        gzip: bool,
    ) -> Self {
        Self {
            queue: BatchQueue::new(batch),
            encoder,
            retry,
            url,
            headers,
            gzip,
        }
    }

    /// Queues an item at `now` (epoch milliseconds).
    pub fn push(&mut self, item: T, now: u64) -> Push {
        self.queue.push(item, now)
    }
}

/// What the transport does with any channel, whatever its items are.
pub trait Outgoing {
    /// Where its requests go.
    fn settings(&self) -> ChannelSettings<'_>;
    /// The next batch that is due, as requests: a held batch to send again, one new batch, or
    /// on the page-hide path (`hidden`) as many as keep each body under
    /// [`HIDDEN_MAX_BODY_BYTES`]. Empty when nothing is due.
    fn take(&mut self, now: u64, hidden: bool) -> Vec<Request>;
    /// Records how an attempt to send batch `id` ended (`status` 0: no response): what
    /// happens next, and how many items the batch holds. `None` for an unknown batch.
    fn result(
        &mut self,
        id: u32,
        status: u16,
        retry_after: Option<&str>,
        now: u64,
        jitter: f64,
    ) -> Option<(ExportOutcome, u64)>;
    /// Milliseconds until a batch is due (`None`: nothing queued, or every slot busy).
    fn next_due(&self, now: u64) -> Option<u64>;
    /// Starts a flush; its token.
    fn flush(&mut self) -> u32;
    /// A flush's state: `None` waiting, `Some(true)` everything acknowledged, `Some(false)`
    /// some given up.
    fn flush_result(&mut self, token: u32) -> Option<bool>;
    /// Items waiting.
    fn queued(&self) -> usize;
}

impl<T, E: Encode<T>> Outgoing for Channel<T, E> {
    fn settings(&self) -> ChannelSettings<'_> {
        ChannelSettings {
            url: &self.url,
            headers: &self.headers,
            timeout_millis: self.queue.config().export_timeout_millis,
            gzip: self.gzip,
        }
    }

    fn take(&mut self, now: u64, hidden: bool) -> Vec<Request> {
        let mode = if hidden {
            TakeMode::Hidden
        } else if let Some((id, n)) = self.queue.resume() {
            return vec![Request {
                id,
                body: String::new(),
                items: n as u32,
                resend: true,
            }];
        } else {
            TakeMode::Due
        };
        let Some(batch) = self.queue.take(now, mode) else {
            return Vec::new();
        };
        let bodies = if hidden {
            self.encoder
                .encode_chunked(&batch.items, HIDDEN_MAX_BODY_BYTES)
        } else {
            vec![(self.encoder.encode(&batch.items), batch.items.len() as u32)]
        };
        let ids = if bodies.len() > 1 {
            let counts: Vec<u32> = bodies.iter().map(|(_, n)| *n).collect();
            self.queue.split(batch.id, &counts).unwrap_or_default()
        } else {
            vec![batch.id]
        };
        ids.into_iter()
            .zip(bodies)
            .map(|(id, (body, items))| Request {
                id,
                body,
                items,
                resend: false,
            })
            .collect()
    }

    fn result(
        &mut self,
        id: u32,
        status: u16,
        retry_after: Option<&str>,
        now: u64,
        jitter: f64,
    ) -> Option<(ExportOutcome, u64)> {
        self.queue
            .attempt_ended(id, status, retry_after, now, &self.retry, jitter)
    }

    fn next_due(&self, now: u64) -> Option<u64> {
        self.queue.next_due(now)
    }

    fn flush(&mut self) -> u32 {
        self.queue.flush()
    }

    fn flush_result(&mut self, token: u32) -> Option<bool> {
        self.queue.flush_result(token)
    }

    fn queued(&self) -> usize {
        self.queue.queued()
    }
}
