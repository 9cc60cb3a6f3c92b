//! Shipping log records to AWS CloudWatch Logs: when credentials and a region are configured,
//! every OTLP log record the collector accepts (the browser's, relayed; a service's, sent to
//! the collector over OTLP) goes to a log group, one log stream per service, through
//! `aws-sdk-cloudwatchlogs`' `PutLogEvents`.
//!
//! It lives in the collector rather than in the service crate because the collector is the
//! one process that holds the AWS keys (the browser's records pass through it anyway, and a
//! service that sends it OTLP needs no AWS dependency), as X-Ray forwarding does.
//!
//! [`batches`] is the policy, pure and tested on its own: `PutLogEvents`' documented limits
//! (at most [`MAX_BATCH_EVENTS`] events and [`MAX_BATCH_BYTES`] bytes per call counting
//! [`EVENT_OVERHEAD_BYTES`] per event, events in time order, one call spanning less than
//! 24 hours), messages over [`MAX_EVENT_BYTES`] cut, and events more than 14 days old or more
//! than 2 hours ahead (which the API rejects) left out and counted. [`run`] sends: the log
//! group and each stream are created on first use (and again if deleted), throttling and
//! server errors are retried with backoff, ingestion never waits (a bounded queue;
//! a full queue drops and counts), and shutdown sends what is queued.

use crate::otlp_logs::LogRow;
use crate::xray_forward::AwsConfig;
use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use edge_telemetry_core::model::TraceId;
use edge_telemetry_core::propagation::parse_hex_bytes;
use edge_telemetry_core::propagation::xray::write_xray_trace_id;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Events per `PutLogEvents` call at most.
pub const MAX_BATCH_EVENTS: usize = 10_000;
/// Bytes per call at most: the events' UTF-8 messages plus [`EVENT_OVERHEAD_BYTES`] each.
pub const MAX_BATCH_BYTES: usize = 1_048_576;
/// What CloudWatch counts for each event on top of its message.
pub const EVENT_OVERHEAD_BYTES: usize = 26;
/// Largest event (message plus overhead); longer messages are cut.
pub const MAX_EVENT_BYTES: usize = 256 * 1024;
/// One call's events span less than this (24 hours).
pub const MAX_BATCH_SPAN_MS: i64 = 24 * 3600 * 1000;
/// Events older than this are rejected by the API (14 days).
pub const MAX_AGE_MS: i64 = 14 * 24 * 3600 * 1000;
/// Events further ahead than this are rejected by the API (2 hours).
pub const MAX_AHEAD_MS: i64 = 2 * 3600 * 1000;
/// Events waiting to be sent before new ones are dropped.
pub const QUEUE: usize = 100_000;
/// How long events wait for more to share their calls.
pub const LINGER: Duration = Duration::from_millis(500);
/// Events gathered for one round of calls at most.
pub const GATHER: usize = 4 * MAX_BATCH_EVENTS;
/// Attempts per call (throttling and server errors are retried).
pub const ATTEMPTS: u32 = 8;

/// The end of a message that was cut.
const CUT_MARK: &str = "…[truncated]";

/// Where and as whom to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloudWatchLogsConfig {
    /// Region, keys and endpoint (`AWS_ENDPOINT_URL_CLOUDWATCH_LOGS` or `AWS_ENDPOINT_URL`).
    pub aws: AwsConfig,
    /// The log group (`--log-group`, default `edge-telemetry`).
    pub group: String,
}

/// One event for a stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEvent {
    /// The log stream (the service's name).
    pub stream: Arc<str>,
    /// Epoch milliseconds.
    pub timestamp_ms: i64,
    /// The message (JSON text for records from OTLP).
    pub message: String,
}

/// One `PutLogEvents` call's events, in time order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    /// The stream.
    pub stream: Arc<str>,
    /// `(timestamp_ms, message)`.
    pub events: Vec<(i64, String)>,
    /// Bytes as CloudWatch counts them.
    pub bytes: usize,
}

/// What [`batches`] left out or changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Prepared {
    /// Messages cut to [`MAX_EVENT_BYTES`].
    pub truncated: u64,
    /// Events more than 14 days old.
    pub too_old: u64,
    /// Events more than 2 hours ahead.
    pub too_new: u64,
}

/// `message` cut to fit one event, at a character boundary, ending in a mark; whether it was.
fn cut(message: &mut String) -> bool {
    let max = MAX_EVENT_BYTES - EVENT_OVERHEAD_BYTES;
    if message.len() <= max {
        return false;
    }
    let mut end = max - CUT_MARK.len();
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    message.truncate(end);
    message.push_str(CUT_MARK);
    true
}

/// `events` as `PutLogEvents` calls that keep every limit: per stream, in time order (stable
/// for equal times), a new call whenever the next event would make it more than
/// [`MAX_BATCH_EVENTS`] events, more than [`MAX_BATCH_BYTES`] bytes, or span 24 hours or more.
/// Messages over [`MAX_EVENT_BYTES`] are cut; events the API would reject for their time
/// (older than 14 days, more than 2 hours after `now_ms`) are left out. Counts in the second
/// value.
pub fn batches(events: Vec<LogEvent>, now_ms: i64) -> (Vec<Batch>, Prepared) {
    let mut prepared = Prepared::default();
    let mut by_stream: BTreeMap<Arc<str>, Vec<(i64, String)>> = BTreeMap::new();
    for mut e in events {
        if e.timestamp_ms < now_ms - MAX_AGE_MS {
            prepared.too_old += 1;
            continue;
        }
        if e.timestamp_ms > now_ms + MAX_AHEAD_MS {
            prepared.too_new += 1;
            continue;
        }
        prepared.truncated += u64::from(cut(&mut e.message));
        by_stream
            .entry(e.stream)
            .or_default()
            .push((e.timestamp_ms, e.message));
    }
    let mut out = Vec::new();
    for (stream, mut events) in by_stream {
        events.sort_by_key(|(t, _)| *t);
        let mut current = Batch {
            stream: stream.clone(),
            events: Vec::new(),
            bytes: 0,
        };
        for (t, message) in events {
            let size = message.len() + EVENT_OVERHEAD_BYTES;
            let full = current.events.len() == MAX_BATCH_EVENTS
                || current.bytes + size > MAX_BATCH_BYTES
                || current
                    .events
                    .first()
                    .is_some_and(|(first, _)| t - first >= MAX_BATCH_SPAN_MS);
            if full && !current.events.is_empty() {
                out.push(std::mem::replace(
                    &mut current,
                    Batch {
                        stream: stream.clone(),
                        events: Vec::new(),
                        bytes: 0,
                    },
                ));
            }
            current.bytes += size;
            current.events.push((t, message));
        }
        if !current.events.is_empty() {
            out.push(current);
        }
    }
    (out, prepared)
}

/// A log record as a CloudWatch event: its service's stream, its time, and a JSON message
/// with the severity (its text, else the name of its number), body, attributes, resource service, and its trace as both the W3C id
/// (`traceId`, `spanId`) and X-Ray's form (`xray_trace_id`, `1-xxxxxxxx-…`, as AWS's own
/// libraries log it), so CloudWatch joins the line to its X-Ray trace. A record too large
/// for one event has its body cut (the message stays JSON); the second value says so.
pub fn event_of(row: &LogRow) -> (LogEvent, bool) {
    let mut m = Map::new();
    m.insert(
        "severity".into(),
        json!(if row.severity_text.is_empty() {
            crate::otlp_logs::severity_name(row.severity_number)
        } else {
            row.severity_text.clone()
        }),
    );
    m.insert("body".into(), json!(row.body));
    m.insert("service".into(), json!(&*row.service));
    if let Some(t) = &row.trace_id {
        m.insert("traceId".into(), json!(t));
        if let Some(bytes) = parse_hex_bytes::<16>(t) {
            let mut xray = String::with_capacity(35);
            write_xray_trace_id(&mut xray, TraceId::from_bytes(bytes));
            m.insert("xray_trace_id".into(), json!(xray));
        }
    }
    if let Some(s) = &row.span_id {
        m.insert("spanId".into(), json!(s));
    }
    let attributes: Value = serde_json::from_str(&row.attributes).unwrap_or(Value::Null);
    if attributes.as_object().is_some_and(|a| !a.is_empty()) {
        m.insert("attributes".into(), attributes);
    }
    let mut message = Value::Object(m.clone()).to_string();
    let max = MAX_EVENT_BYTES - EVENT_OVERHEAD_BYTES;
    let mut cut_body = false;
    // The body shrinks by what the message is over (escapes count as they are written; a
    // second pass covers what they add back).
    for _ in 0..3 {
        if message.len() <= max {
            break;
        }
        let body = m["body"].as_str().unwrap_or_default().to_owned();
        let excess = message.len() - max + CUT_MARK.len() + 8;
        let mut end = body.len().saturating_sub(excess);
        while !body.is_char_boundary(end) {
            end -= 1;
        }
        m.insert("body".into(), json!(format!("{}{CUT_MARK}", &body[..end])));
        message = Value::Object(m.clone()).to_string();
        cut_body = true;
    }
    let event = LogEvent {
        stream: row.service.clone(),
        timestamp_ms: i64::try_from(row.time_ns / 1_000_000).unwrap_or(i64::MAX),
        message,
    };
    (event, cut_body)
}

/// What shipping did (for `/api/status` and tests).
#[derive(Debug, Default)]
pub struct ShipStats {
    /// Events CloudWatch accepted.
    pub sent: AtomicU64,
    /// `PutLogEvents` calls that succeeded.
    pub calls: AtomicU64,
    /// Calls retried (throttling, server errors, connection failures, a missing stream).
    pub retries: AtomicU64,
    /// Events dropped: queue full, or their call failed every attempt.
    pub dropped: AtomicU64,
    /// Events left out for their time (API limits), and messages cut.
    pub too_old: AtomicU64,
    pub too_new: AtomicU64,
    pub truncated: AtomicU64,
    /// Events the API reported rejected (`rejectedLogEventsInfo`).
    pub rejected: AtomicU64,
    /// Each successful call's `(events, bytes, span in ms)`, the latest 1,000.
    pub calls_made: Mutex<Vec<(usize, usize, i64)>>,
}

impl ShipStats {
    /// The counts as JSON, with the largest call made (events, bytes, time span).
    pub fn to_json(&self) -> Value {
        let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let made = self.calls_made.lock().unwrap_or_else(|p| p.into_inner());
        let largest = |f: fn(&(usize, usize, i64)) -> i64| made.iter().map(f).max().unwrap_or(0);
        json!({
            "largestCall": {
                "events": largest(|c| c.0 as i64),
                "bytes": largest(|c| c.1 as i64),
                "spanMs": largest(|c| c.2),
            },
            "sent": n(&self.sent),
            "calls": n(&self.calls),
            "retries": n(&self.retries),
            "dropped": n(&self.dropped),
            "tooOld": n(&self.too_old),
            "tooNew": n(&self.too_new),
            "truncated": n(&self.truncated),
            "rejected": n(&self.rejected),
        })
    }
}

/// The sending side: cheap to clone, never blocks.
#[derive(Clone, Debug)]
pub struct Shipper {
    tx: tokio::sync::mpsc::Sender<LogEvent>,
    stop: Arc<tokio::sync::Notify>,
    /// Its counters.
    pub stats: Arc<ShipStats>,
}

/// The receiving side, run by [`run`].
#[derive(Debug)]
pub struct Pending {
    rx: tokio::sync::mpsc::Receiver<LogEvent>,
    stop: Arc<tokio::sync::Notify>,
    config: CloudWatchLogsConfig,
    stats: Arc<ShipStats>,
}

/// A shipper and the queue [`run`] drains.
pub fn channel(config: CloudWatchLogsConfig) -> (Shipper, Pending) {
    let (tx, rx) = tokio::sync::mpsc::channel(QUEUE);
    let stats = Arc::new(ShipStats::default());
    let stop = Arc::new(tokio::sync::Notify::new());
    (
        Shipper {
            tx,
            stop: stop.clone(),
            stats: stats.clone(),
        },
        Pending {
            rx,
            stop,
            config,
            stats,
        },
    )
}

impl Shipper {
    /// Queues events; each one the queue has no room for is dropped and counted.
    pub fn send(&self, events: impl IntoIterator<Item = LogEvent>) {
        for e in events {
            if self.tx.try_send(e).is_err() {
                self.stats.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Makes [`run`] send what is queued and return (on shutdown).
    pub fn close(&self) {
        self.stop.notify_one();
    }

    /// Queues OTLP log records ([`event_of`]); bodies cut to fit are counted.
    pub fn send_logs(&self, logs: &[LogRow]) {
        self.send(logs.iter().map(|row| {
            let (event, cut) = event_of(row);
            self.stats
                .truncated
                .fetch_add(u64::from(cut), Ordering::Relaxed);
            event
        }));
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Sends what is queued until every [`Shipper`] is gone or one is closed (then what is left,
/// and returns).
pub async fn run(pending: Pending) {
    let Pending {
        mut rx,
        stop,
        config,
        stats,
    } = pending;
    let client = aws_sdk_cloudwatchlogs::Client::new(&config.aws.sdk_config());
    let mut sender = Sender {
        client,
        group: config.group.clone(),
        group_ready: false,
        streams: HashSet::new(),
        stats,
    };
    let mut queued = Vec::with_capacity(MAX_BATCH_EVENTS);
    let mut closing = false;
    loop {
        tokio::select! {
            _ = rx.recv_many(&mut queued, MAX_BATCH_EVENTS) => {}
            () = stop.notified() => {
                rx.close();
                while let Ok(e) = rx.try_recv() {
                    queued.push(e);
                }
                closing = true;
            }
        }
        if queued.is_empty() && (closing || rx.is_closed()) {
            break;
        }
        // Fewer, fuller calls: what arrives within LINGER joins (up to GATHER events).
        let until = tokio::time::Instant::now() + LINGER;
        while !closing && queued.len() < GATHER {
            let room = GATHER - queued.len();
            match tokio::time::timeout_at(until, rx.recv_many(&mut queued, room)).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        let (calls, prepared) = batches(std::mem::take(&mut queued), now_ms());
        let s = &sender.stats;
        s.too_old.fetch_add(prepared.too_old, Ordering::Relaxed);
        s.too_new.fetch_add(prepared.too_new, Ordering::Relaxed);
        s.truncated.fetch_add(prepared.truncated, Ordering::Relaxed);
        for batch in calls {
            sender.put(batch).await;
        }
        if closing {
            break;
        }
    }
}

struct Sender {
    client: aws_sdk_cloudwatchlogs::Client,
    group: String,
    group_ready: bool,
    streams: HashSet<Arc<str>>,
    stats: Arc<ShipStats>,
}

impl Sender {
    /// Creates the group and the stream unless known to exist (already existing is fine).
    async fn ensure(&mut self, stream: &Arc<str>) -> Result<(), String> {
        if !self.group_ready {
            match self
                .client
                .create_log_group()
                .log_group_name(&self.group)
                .send()
                .await
            {
                Ok(_) => {}
                Err(e) if code(&e) == "ResourceAlreadyExistsException" => {}
                Err(e) => return Err(describe(&e)),
            }
            self.group_ready = true;
        }
        if !self.streams.contains(stream) {
            match self
                .client
                .create_log_stream()
                .log_group_name(&self.group)
                .log_stream_name(&**stream)
                .send()
                .await
            {
                Ok(_) => {}
                Err(e) if code(&e) == "ResourceAlreadyExistsException" => {}
                Err(e) => return Err(describe(&e)),
            }
            self.streams.insert(stream.clone());
        }
        Ok(())
    }

    async fn put(&mut self, batch: Batch) {
        let n = batch.events.len() as u64;
        let span = batch.events.last().map_or(0, |l| l.0) - batch.events.first().map_or(0, |f| f.0);
        let events: Vec<InputLogEvent> = batch
            .events
            .iter()
            .filter_map(|(t, m)| {
                InputLogEvent::builder()
                    .timestamp(*t)
                    .message(m.as_str())
                    .build()
                    .ok()
            })
            .collect();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = match self.ensure(&batch.stream).await {
                Ok(()) => self
                    .client
                    .put_log_events()
                    .log_group_name(&self.group)
                    .log_stream_name(&*batch.stream)
                    .set_log_events(Some(events.clone()))
                    .send()
                    .await
                    .map_err(|e| (code(&e).to_owned(), retryable(&e), describe(&e))),
                Err(why) => Err((String::new(), true, why)),
            };
            match result {
                Ok(out) => {
                    let rejected = out.rejected_log_events_info().map_or(0, |r| {
                        let old = r.too_old_log_event_end_index().unwrap_or(0).max(0);
                        let expired = r.expired_log_event_end_index().unwrap_or(0).max(0);
                        let new = r
                            .too_new_log_event_start_index()
                            .map_or(0, |i| (n as i32 - i).max(0));
                        (old.max(expired) + new) as u64
                    });
                    let s = &self.stats;
                    s.rejected.fetch_add(rejected, Ordering::Relaxed);
                    s.sent.fetch_add(n - rejected.min(n), Ordering::Relaxed);
                    s.calls.fetch_add(1, Ordering::Relaxed);
                    let mut made = s.calls_made.lock().unwrap_or_else(|p| p.into_inner());
                    if made.len() == 1000 {
                        made.remove(0);
                    }
                    made.push((events.len(), batch.bytes, span));
                    return;
                }
                Err((code, retry, why)) if attempt < ATTEMPTS && retry => {
                    if code == "ResourceNotFoundException" {
                        // The group or stream was deleted meanwhile: create it again.
                        self.group_ready = false;
                        self.streams.remove(&batch.stream);
                    }
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    let _ = why;
                    tokio::time::sleep(Duration::from_millis((50u64 << attempt).min(5_000))).await;
                }
                Err((_, _, why)) => {
                    eprintln!(
                        "edge-collector: CloudWatch Logs PutLogEvents failed ({n} events dropped): {why}"
                    );
                    self.stats.dropped.fetch_add(n, Ordering::Relaxed);
                    return;
                }
            }
        }
    }
}

fn code<E, R>(e: &aws_sdk_cloudwatchlogs::error::SdkError<E, R>) -> &str
where
    E: aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata,
{
    match e {
        aws_sdk_cloudwatchlogs::error::SdkError::ServiceError(s) => s.err().code().unwrap_or(""),
        _ => "",
    }
}

fn describe<E, R>(e: &aws_sdk_cloudwatchlogs::error::SdkError<E, R>) -> String
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    aws_sdk_cloudwatchlogs::error::DisplayErrorContext(e).to_string()
}

/// Throttling, server errors, connection failures and a missing group or stream (created
/// again) are worth another attempt.
fn retryable<E, R>(e: &aws_sdk_cloudwatchlogs::error::SdkError<E, R>) -> bool
where
    E: aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata,
    R: std::fmt::Debug,
{
    use aws_sdk_cloudwatchlogs::error::SdkError;
    match e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(s) => {
            let code = s.err().code().unwrap_or("");
            code.contains("Throttl")
                || code == "ServiceUnavailableException"
                || code == "ResourceNotFoundException"
                || code == "InternalFailure"
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_765_000_000_000;

    fn event(stream: &str, t: i64, message: &str) -> LogEvent {
        LogEvent {
            stream: stream.into(),
            timestamp_ms: t,
            message: message.to_owned(),
        }
    }

    fn check_limits(calls: &[Batch]) {
        for b in calls {
            assert!(!b.events.is_empty());
            assert!(b.events.len() <= MAX_BATCH_EVENTS);
            let bytes: usize = b
                .events
                .iter()
                .map(|(_, m)| m.len() + EVENT_OVERHEAD_BYTES)
                .sum();
            assert_eq!(bytes, b.bytes);
            assert!(b.bytes <= MAX_BATCH_BYTES, "{} bytes", b.bytes);
            assert!(b.events.windows(2).all(|w| w[0].0 <= w[1].0), "time order");
            assert!(b.events.last().unwrap().0 - b.events[0].0 < MAX_BATCH_SPAN_MS);
            assert!(
                b.events
                    .iter()
                    .all(|(_, m)| m.len() + EVENT_OVERHEAD_BYTES <= MAX_EVENT_BYTES)
            );
        }
    }

    #[test]
    fn the_count_limit_splits_and_time_order_is_restored() {
        let events: Vec<LogEvent> = (0..25_000)
            .map(|i| event("svc", NOW - ((i * 7919) % 25_000), "x"))
            .collect();
        let (calls, prepared) = batches(events, NOW);
        assert_eq!(prepared, Prepared::default());
        check_limits(&calls);
        assert_eq!(
            calls.iter().map(|b| b.events.len()).collect::<Vec<_>>(),
            [10_000, 10_000, 5_000]
        );
        assert!(calls[0].events[9_999].0 <= calls[1].events[0].0);
    }

    #[test]
    fn the_byte_limit_counts_26_bytes_an_event_and_big_messages_are_cut() {
        // 4 events of the largest size fill a call exactly: 4 × 262,144 = 1,048,576.
        let big = "é".repeat(200_000); // 400,000 bytes: cut at a character boundary
        let events: Vec<LogEvent> = (0..9).map(|i| event("svc", NOW + i, &big)).collect();
        let (calls, prepared) = batches(events, NOW);
        assert_eq!(prepared.truncated, 9);
        check_limits(&calls);
        assert!(calls[0].events[0].1.ends_with(CUT_MARK));
        let sizes: Vec<usize> = calls.iter().map(|b| b.events.len()).collect();
        assert_eq!(sizes.iter().sum::<usize>(), 9);
        assert!(sizes[0] >= 4, "{sizes:?}");
        // Four events of the largest size are exactly the byte limit; a fifth of one byte
        // starts a new call.
        let m = "a".repeat(MAX_EVENT_BYTES - EVENT_OVERHEAD_BYTES);
        let mut events: Vec<LogEvent> = (0..4).map(|_| event("s", NOW, &m)).collect();
        events.push(event("s", NOW, "b"));
        let (calls, prepared) = batches(events, NOW);
        assert_eq!(prepared.truncated, 0);
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].bytes, MAX_BATCH_BYTES);
        assert_eq!(calls[1].events.len(), 1);
    }

    #[test]
    fn a_call_spans_less_than_24_hours_and_streams_are_apart() {
        let day = MAX_BATCH_SPAN_MS;
        let events = vec![
            event("a", NOW - day - 10, "first"),
            event("b", NOW - 5, "other stream"),
            event("a", NOW - 11, "within"),
            event("a", NOW - 10, "a day after the first"),
        ];
        let (calls, _) = batches(events, NOW);
        check_limits(&calls);
        let shape: Vec<(&str, usize)> =
            calls.iter().map(|b| (&*b.stream, b.events.len())).collect();
        assert_eq!(shape, [("a", 2), ("a", 1), ("b", 1)]);
    }

    #[test]
    fn events_the_api_would_reject_for_their_time_are_left_out() {
        let events = vec![
            event("s", NOW - MAX_AGE_MS - 1, "too old"),
            event("s", NOW - MAX_AGE_MS, "oldest kept"),
            event("s", NOW + MAX_AHEAD_MS, "latest kept"),
            event("s", NOW + MAX_AHEAD_MS + 1, "too new"),
        ];
        let (calls, prepared) = batches(events, NOW);
        assert_eq!((prepared.too_old, prepared.too_new), (1, 1));
        // 14 days apart: two calls.
        assert_eq!(calls.len(), 2);
    }

    #[test]
    fn records_carry_the_xray_form_of_their_trace_id() {
        let row = LogRow {
            trace_id: Some("5759e988bd862e3fe1be46a994272793".into()),
            span_id: Some("53995c3f42cd8ad8".into()),
            time_ns: 1_700_000_000_123_456_789,
            observed_ns: 0,
            severity_number: 9,
            severity_text: "INFO".into(),
            body: "served".into(),
            attributes: r#"{"n":1}"#.into(),
            resource: "{}".into(),
            service: "api".into(),
            scope_name: "".into(),
            search_text: String::new(),
        };
        let (e, cut) = event_of(&row);
        assert!(!cut);
        assert_eq!((&*e.stream, e.timestamp_ms), ("api", 1_700_000_000_123));
        let m: Value = serde_json::from_str(&e.message).unwrap();
        assert_eq!(m["xray_trace_id"], "1-5759e988-bd862e3fe1be46a994272793");
        assert_eq!(m["traceId"], "5759e988bd862e3fe1be46a994272793");
        assert_eq!(m["spanId"], "53995c3f42cd8ad8");
        assert_eq!(m["body"], "served");
        assert_eq!(m["attributes"]["n"], 1);
        // A body too large for one event is cut; the message stays JSON.
        let big = LogRow {
            body: "\"é\n".repeat(120_000),
            ..row
        };
        let (e, cut) = event_of(&big);
        assert!(cut);
        assert!(e.message.len() + EVENT_OVERHEAD_BYTES <= MAX_EVENT_BYTES);
        let m: Value = serde_json::from_str(&e.message).unwrap();
        assert!(m["body"].as_str().unwrap().ends_with(CUT_MARK));
    }
}
