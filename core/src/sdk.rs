//! The engine: one plain-value state machine behind the browser SDK.
//!
//! [`Sdk`] owns the tracer, the open-span table, the context stack, the browser session,
//! the page-level baggage and the counters. Its methods take plain values (and read time
//! from its [`Clock`], ids from its [`IdGenerator`]) and return plain results: a span
//! handle, the trace headers for a request, a finished span. The wasm glue converts JS
//! values into these and back; it decides nothing itself.
//!
//! ```
//! use edge_telemetry_core::config::SdkConfig;
//! use edge_telemetry_core::sdk::{Parent, Sdk, SpanStart};
//! use edge_telemetry_core::time::ManualClock;
//! use edge_telemetry_core::trace::ids::RandomIdGenerator;
//!
//! let config = SdkConfig { service_name: "shop-web".to_owned(), ..SdkConfig::default() };
//! let clock = ManualClock::new(1_700_000_000_000_000_000);
//! let mut sdk = Sdk::new(config, RandomIdGenerator::new([7; 32]), clock, None, None);
//! let root = sdk.start_span(SpanStart::named("checkout"));
//! let depth = sdk.enter(Parent::Span(root));
//! let child = sdk.start_span(SpanStart::named("pay"));
//! sdk.exit(depth);
//! let ended = sdk.end(child, None).unwrap();
//! assert_eq!(ended.data.parent_span_id, sdk.span_context(root).unwrap().span_id());
//! ```

use crate::model::{KeyValue, SpanContext, SpanKind, Status, Value};
use crate::prelude::*;

use crate::config::{ExportConfig, SdkConfig};
use crate::errors::capture::{MAX_WAITING_ERRORS, NotSent, RawError};
use crate::errors::rollbar::ACCESS_TOKEN_HEADER;
use crate::errors::rollbar::MAX_ITEM_BYTES;
use crate::errors::telemetry::{Telemetry, element_name};
use crate::export::batch::{BatchConfig, Push};
use crate::export::channel::{Bodies, Channel, ChannelSettings, Outgoing, Payload, Request};
use crate::export::otlp::{OtlpEncoder, parse_partial_success};
use crate::export::otlp_logs::{LogRecord, LogsEncoder, Severity};
use crate::export::retry::{ExportOutcome, FailReason, RetryConfig, RetryStatuses};
use crate::propagation::write_hex;
use crate::propagation::{
    BAGGAGE_HEADER, Baggage, HeaderList, XRAY_HEADER, format_baggage, format_xray,
    inject_trace_context,
};
use crate::stats::Stats;
use crate::time::{Clock, millis_to_unix_nanos};
use crate::trace::context::{Active, ContextStack, Depth, ScopeId};
use crate::trace::ids::IdGenerator;
use crate::trace::span::{
    AttributeOutcome, EXCEPTION_EVENT_NAME, SpanData, SpanLimits, exception_attributes,
    limit_attributes, truncate_chars,
};
use crate::trace::table::{OpenSpan, SpanHandle, SpanTable};
use crate::trace::tracer::{ParentChoice, Tracer, select_parent};
use crate::web::http::{
    HttpOutcome, client_span_end, client_span_start_parsed, should_propagate_parsed,
};
use crate::web::page::{
    DOCUMENT_LOAD_SPAN_NAME, document_load_attributes, document_load_end_attributes,
    document_load_parent, interaction_attributes, navigation_events,
};
use crate::web::session::{SESSION_ID_ATTRIBUTE, SessionTracker};
use crate::web::url::{Url, scrub_urls_in_text};

/// The attribute that links a span to the Rollbar item reported under it.
pub const ITEM_UUID_ATTRIBUTE: &str = "rollbar.item.uuid";
/// The name of the root span started for an error reported with no span active.
pub const ERROR_SPAN_NAME: &str = "exception";

/// Which span a new span, a scope or a link refers to.
#[derive(Clone, Debug, PartialEq)]
pub enum Parent {
    /// Whatever is active (the default).
    Active,
    /// None: a new trace.
    Root,
    /// One of our spans, by handle (an ended one still counts while it is recent).
    Span(SpanHandle),
    /// A span context (remote, or from another tracer).
    Context(SpanContext),
    /// Something that is not a span reference (counted; treated as [`Parent::Active`]).
    Invalid,
}

/// What [`Sdk::start_span`] needs.
#[derive(Clone, Debug)]
pub struct SpanStart {
    /// The span name.
    pub name: String,
    /// The span kind.
    pub kind: SpanKind,
    /// The parent.
    pub parent: Parent,
    /// Attributes, before limits.
    pub attributes: Vec<KeyValue>,
    /// Links: the span referred to and the link's attributes.
    pub links: Vec<(Parent, Vec<KeyValue>)>,
    /// Epoch nanoseconds, or `None` for now.
    pub start: Option<u64>,
}

impl SpanStart {
    /// An INTERNAL span under the active span, now, with nothing else.
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            kind: SpanKind::Internal,
            parent: Parent::Active,
            attributes: Vec::new(),
            links: Vec::new(),
            start: None,
        }
    }
}

/// A span that ended while recording: what goes to `onSpanEnd` and the export queue.
#[derive(Clone, Debug)]
pub struct Ended {
    /// The finished span (boxed: see `StartedSpan::data`).
    pub data: Box<SpanData>,
    /// The clock when it ended, in epoch milliseconds (the export schedule's time).
    pub now_ms: u64,
}

/// How a span that an error item is linked to gets marked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorMark {
    /// When the error was captured (the event's time), in epoch nanoseconds.
    pub time: u64,
    /// A `captureMessage`: a `message` event and no ERROR status.
    pub message: bool,
    /// The error's class.
    pub class: String,
    /// The error's message.
    pub text: String,
    /// The stack (empty: none).
    pub stack: String,
    /// The item's uuid.
    pub uuid: String,
}

/// The outgoing channels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChannelKind {
    /// Finished spans, as OTLP/HTTP JSON.
    Spans,
    /// Rollbar items, one per request.
    Items,
    /// Log records, as OTLP/HTTP JSON.
    Logs,
}

impl ChannelKind {
    /// Every kind, in a stable order.
    pub const ALL: [ChannelKind; 3] = [ChannelKind::Spans, ChannelKind::Items, ChannelKind::Logs];

    /// What its items are called in debug output.
    fn noun(self) -> &'static str {
        match self {
            ChannelKind::Spans => " span(s)",
            ChannelKind::Items => " item(s)",
            ChannelKind::Logs => " log record(s)",
        }
    }
}

/// The span channel.
pub type SpanChannel = Channel<Payload, Bodies>;
/// The Rollbar item channel.
pub type ItemChannel = Channel<Payload, Bodies>;
/// The log record channel.
pub type LogChannel = Channel<Payload, Bodies>;

/// Longest log body kept, in characters (a longer one is cut, counted in `logsTruncated`).
pub const MAX_LOG_BODY_CHARS: usize = 16 * 1024;

/// Requests in flight whose scope is kept (the oldest is forgotten past it, counted).
pub const MAX_REQUEST_SCOPES: usize = 256;

/// Items queued at most; more are dropped and counted.
pub const MAX_QUEUED_ITEMS: u32 = 100;
/// Item requests in flight at once.
pub const MAX_CONCURRENT_ITEMS: u32 = 4;

/// The span channel of an export configuration, posting to `url` with `headers`.
pub fn span_channel(
    export: &ExportConfig,
    encoder: OtlpEncoder,
    url: String,
    headers: Vec<(String, String)>,
) -> SpanChannel {
    Channel::new(
        export.batch,
        export.retry,
        Bodies::Otlp(encoder),
        url,
        headers,
        export.gzip,
    )
}

/// The log channel of an export configuration, posting to `url` with `headers`: the same
/// batching, retries and compression as spans.
pub fn log_channel(
    export: &ExportConfig,
    encoder: LogsEncoder,
    url: String,
    headers: Vec<(String, String)>,
) -> LogChannel {
    Channel::new(
        export.batch,
        export.retry,
        Bodies::Logs(encoder),
        url,
        headers,
        export.gzip,
    )
}

/// The Rollbar item channel: one item per request, sent at once, at most
/// [`MAX_QUEUED_ITEMS`] waiting and [`MAX_CONCURRENT_ITEMS`] in flight; every 5xx and network
/// errors retried, a 429 pauses sending; an attempt (and a flush) is bounded by the export
/// configuration's `batch.exportTimeoutMillis`. The token goes in its header, when the page
/// has one.
pub fn item_channel(export: &ExportConfig, url: String, access_token: Option<&str>) -> ItemChannel {
    let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
    if let Some(token) = access_token {
        headers.push((ACCESS_TOKEN_HEADER.to_owned(), token.to_owned()));
    }
    Channel::new(
        BatchConfig {
            scheduled_delay_millis: 0,
            max_queue_size: MAX_QUEUED_ITEMS,
            max_export_batch_size: 1,
            export_timeout_millis: export.batch.export_timeout_millis,
            max_concurrent_exports: MAX_CONCURRENT_ITEMS,
        },
        RetryConfig {
            statuses: RetryStatuses::Rollbar,
            ..RetryConfig::default()
        },
        Bodies::Verbatim,
        url,
        headers,
        false,
    )
}

/// What the transport does with a request after an attempt ([`Sdk::attempt`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Nothing more: it was acknowledged, or given up (counted).
    Done,
    /// Send it again after this many milliseconds.
    Retry(u64),
    /// Keep it without a timer: [`Sdk::take`] hands it back (`resend`) once the endpoint
    /// answers the batch probing it.
    Held,
}

/// Why an item was not queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemDrop {
    /// No item channel (error reporting is off).
    Off,
    /// Over 128 KB (after `beforeSend`).
    TooLarge,
    /// The queue is full.
    Full,
    /// Rollbar asked for a pause (429).
    Paused,
}

/// Marks waiting for their item: while the item encoder loads (the page keeps at most
/// [`MAX_WAITING_ERRORS`] errors meanwhile), and while `beforeSend` / `transform` look at an
/// item. Past this many, the oldest is given up: its span is let go unmarked (a root span
/// started for it ended).
pub const MAX_PENDING_MARKS: usize = 128;

// Every error the page keeps waiting has its mark, with room for the hooks' few.
const _: () = assert!(MAX_PENDING_MARKS > MAX_WAITING_ERRORS + 8);

/// The span an item is linked to, marked only once the item is queued.
#[derive(Clone, Debug)]
pub struct PendingMark {
    /// The span.
    pub handle: SpanHandle,
    /// A root span started for this error: ended when marked, discarded otherwise.
    pub created: bool,
    /// How it is marked.
    pub mark: ErrorMark,
    /// The span, when it ended while the mark waited: held back from `onSpanEnd` and the
    /// export queue until the mark is settled.
    pub ended: Option<Ended>,
}

/// An error the engine linked to its span ([`Sdk::capture_error`]): what its item needs
/// from the engine. The span's mark waits until the item is queued or refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorLink {
    /// The item's uuid.
    pub uuid: String,
    /// When it was captured, in epoch milliseconds.
    pub now_ms: u64,
    /// The trace and span id (hex) of the span it is linked to.
    pub trace: Option<(String, String)>,
    /// Rollbar telemetry: the page's recent events (a JSON array), `None` when there is none.
    pub telemetry: Option<String>,
}

/// The engine. `G` makes ids, `C` tells the time.
#[derive(Debug)]
pub struct Sdk<G, C> {
    config: SdkConfig,
    tracer: Tracer<G>,
    clock: C,
    table: SpanTable,
    stack: ContextStack<SpanHandle>,
    page_url: Option<String>,
    baggage: String,
    session: SessionTracker,
    session_attribute: KeyValue,
    session_changed: bool,
    auto_scopes: Vec<(SpanHandle, ScopeId)>,
    /// Requests' scopes: the request, its scope, and the task (epoch) it ended in.
    request_scopes: Vec<(SpanHandle, ScopeId, Option<u32>)>,
    spans: Option<SpanChannel>,
    items: Option<ItemChannel>,
    logs: Option<LogChannel>,
    /// With error reporting on: the recent events its items carry.
    telemetry: Option<Telemetry>,
    pending: Vec<PendingMark>,
    /// What the engine did and dropped.
    pub stats: Stats,
}

fn session_attribute(session: &SessionTracker) -> KeyValue {
    KeyValue::new(
        SESSION_ID_ATTRIBUTE,
        crate::model::StringValue::from(alloc::sync::Arc::<str>::from(session.id())),
    )
}

/// Sixteen bytes from the id generator (a new session's id).
fn fresh_id<G: IdGenerator>(tracer: &mut Tracer<G>) -> [u8; 16] {
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&tracer.ids_mut().new_span_id().to_bytes());
    id[8..].copy_from_slice(&tracer.ids_mut().new_span_id().to_bytes());
    id
}

impl<G: IdGenerator, C: Clock> Sdk<G, C> {
    /// An engine for `config`. `page_url`: the page's URL (same-origin checks);
    /// `stored_session`: what the session storage held (continued when still live).
    pub fn new(
        config: SdkConfig,
        ids: G,
        clock: C,
        page_url: Option<String>,
        stored_session: Option<&str>,
    ) -> Self {
        let mut tracer = Tracer::new(ids, config.span_limits).with_sample_rate(config.sample_rate);
        let now_ms = clock.now_unix_nanos() / 1_000_000;
        let session = SessionTracker::new(
            stored_session,
            now_ms,
            config.session_inactivity_millis,
            fresh_id(&mut tracer),
        );
        Self {
            page_url,
            tracer,
            clock,
            table: SpanTable::default(),
            stack: ContextStack::new(),
            baggage: String::new(),
            session_attribute: session_attribute(&session),
            session,
            session_changed: true,
            auto_scopes: Vec::new(),
            request_scopes: Vec::new(),
            spans: None,
            items: None,
            logs: None,
            telemetry: None,
            pending: Vec::new(),
            stats: Stats::default(),
            config,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &SdkConfig {
        &self.config
    }

    /// The page URL given at start.
    pub fn page_url(&self) -> Option<&str> {
        self.page_url.as_deref()
    }

    /// Now, in epoch nanoseconds.
    pub fn now_nanos(&self) -> u64 {
        self.clock.now_unix_nanos()
    }

    /// The value to keep in session storage, when it changed since the last call.
    pub fn take_session_update(&mut self) -> Option<String> {
        core::mem::take(&mut self.session_changed).then(|| self.session.stored_value())
    }

    /// Sends finished spans through `channel`.
    pub fn set_span_channel(&mut self, channel: SpanChannel) {
        self.spans = Some(channel);
    }

    /// Sends Rollbar items through `channel`, with the page's recent events (telemetry).
    pub fn set_item_channel(&mut self, channel: ItemChannel) {
        self.items = Some(channel);
        self.telemetry = Some(Telemetry::default());
    }

    /// Sends log records through `channel`.
    pub fn set_log_channel(&mut self, channel: LogChannel) {
        self.logs = Some(channel);
    }

    fn channel(&self, kind: ChannelKind) -> Option<&Channel<Payload, Bodies>> {
        match kind {
            ChannelKind::Spans => self.spans.as_ref(),
            ChannelKind::Items => self.items.as_ref(),
            ChannelKind::Logs => self.logs.as_ref(),
        }
    }

    fn channel_mut(&mut self, kind: ChannelKind) -> Option<&mut Channel<Payload, Bodies>> {
        match kind {
            ChannelKind::Spans => self.spans.as_mut(),
            ChannelKind::Items => self.items.as_mut(),
            ChannelKind::Logs => self.logs.as_mut(),
        }
    }

    fn outgoing(&self, kind: ChannelKind) -> Option<&dyn Outgoing> {
        self.channel(kind).map(|c| c as &dyn Outgoing)
    }

    fn outgoing_mut(&mut self, kind: ChannelKind) -> Option<&mut dyn Outgoing> {
        self.channel_mut(kind).map(|c| c as &mut dyn Outgoing)
    }

    /// The channels that are on.
    pub fn channels(&self) -> Vec<ChannelKind> {
        ChannelKind::ALL
            .into_iter()
            .filter(|k| self.outgoing(*k).is_some())
            .collect()
    }

    /// Where a channel posts; `None` when it is off.
    pub fn channel_settings(&self, kind: ChannelKind) -> Option<ChannelSettings<'_>> {
        self.outgoing(kind).map(Outgoing::settings)
    }

    /// Queues a finished span for export; the delay to arm the span channel's timer with.
    /// A full queue drops it (counted; the 1st, 10th, 100th… drop is noted in debug mode).
    pub fn queue_span(
        &mut self,
        data: Box<SpanData>,
        now_ms: u64,
    ) -> (Option<u64>, Option<String>) {
        let Some(channel) = self.spans.as_mut() else {
            return (None, None);
        };
        match channel.push(Payload::Span(data), now_ms) {
            Push::Arm(ms) => (Some(ms), None),
            Push::Queued => (None, None),
            // Only items pause (Rollbar's 429); spans are never paused.
            Push::Dropped | Push::Paused => {
                self.stats.spans_dropped += 1;
                let note = self.drop_note(self.stats.spans_dropped, ChannelKind::Spans);
                (None, note)
            }
        }
    }

    /// The debug note for the 1st, 10th, 100th… item of `kind` dropped from a full queue.
    fn drop_note(&self, dropped: u64, kind: ChannelKind) -> Option<String> {
        let digits = crate::text::decimal(dropped);
        (self.config.debug && digits.starts_with('1') && digits.bytes().skip(1).all(|b| b == b'0'))
            .then(|| {
                crate::cat!(
                    "edge-telemetry: export queue full, ",
                    dropped,
                    kind.noun(),
                    " dropped so far (batch.maxQueueSize)"
                )
            })
    }

    /// Makes a log record of `body` at `severity`, at `time` (epoch nanoseconds; `None`:
    /// now), observed now, with the active span's ids, and queues it for export; the delay
    /// to arm the log channel's timer with; with error reporting on, also a telemetry event
    /// for the page's next items. Attributes are held to the span limits, the
    /// session's id is added, a string body has the query values of its URLs scrubbed and is
    /// cut to [`MAX_LOG_BODY_CHARS`] (counted). Without a log channel nothing is made; a full
    /// queue drops the record (counted).
    pub fn log(
        &mut self,
        severity: Severity,
        body: Value,
        attributes: Vec<KeyValue>,
        time: Option<u64>,
    ) -> (Option<u64>, Option<String>) {
        if self.logs.is_none() && self.telemetry.is_none() {
            return (None, None);
        }
        let now = self.clock.now_unix_nanos();
        let now_ms = now / 1_000_000;
        if let (Some(t), Value::String(text)) = (self.telemetry.as_mut(), &body) {
            t.log(time.unwrap_or(now) / 1_000_000, severity, text.as_str());
        }
        if self.logs.is_none() {
            return (None, None);
        }
        self.touch_session(now_ms);
        let limits = *self.tracer.limits();
        let (mut attributes, dropped, truncated) = limit_attributes(
            attributes,
            limits.attribute_count_limit,
            limits.attribute_value_length_limit,
        );
        self.stats.attributes_dropped += u64::from(dropped);
        self.stats.attributes_truncated += u64::from(truncated);
        attributes.push(self.session_attribute.clone());
        let body = match body {
            Value::String(text) => {
                let mut text = scrub_urls_in_text(text.as_str());
                if let Some(cut) = truncate_chars(&text, MAX_LOG_BODY_CHARS) {
                    text = cut.to_owned();
                    self.stats.logs_truncated += 1;
                }
                Value::from(text)
            }
            other => other,
        };
        let mut record = LogRecord::new(time.unwrap_or(now), severity, body);
        record.observed_time_unix_nano = now;
        record.attributes = attributes;
        record.dropped_attributes_count = dropped;
        record.span_context = self.stack.active_context().cloned();
        let Some(channel) = self.logs.as_mut() else {
            return (None, None);
        };
        let Bodies::Logs(encoder) = &channel.encoder else {
            return (None, None);
        };
        let text = encoder.encode_one(&record);
        match channel.push(Payload::Text(text), now_ms) {
            Push::Arm(ms) => {
                self.stats.logs_queued += 1;
                (Some(ms), None)
            }
            Push::Queued => {
                self.stats.logs_queued += 1;
                (None, None)
            }
            Push::Dropped | Push::Paused => {
                self.stats.logs_dropped += 1;
                (
                    None,
                    self.drop_note(self.stats.logs_dropped, ChannelKind::Logs),
                )
            }
        }
    }

    /// Queues an encoded item; the delay to arm the item channel's timer with, or why it
    /// was dropped (counted).
    pub fn queue_item(&mut self, body: String, now_ms: u64) -> Result<Option<u64>, ItemDrop> {
        let Some(channel) = self.items.as_mut() else {
            return Err(ItemDrop::Off);
        };
        match channel.push(Payload::Text(body), now_ms) {
            Push::Arm(ms) => Ok(Some(ms)),
            Push::Queued => Ok(None),
            why @ (Push::Dropped | Push::Paused) => {
                self.stats.items_dropped += 1;
                Err(if why == Push::Paused {
                    ItemDrop::Paused
                } else {
                    ItemDrop::Full
                })
            }
        }
    }

    /// The requests due on a channel (on the page-hide path, everything queued, in bodies
    /// that fit the keepalive budget); the note says what went out, in debug mode.
    pub fn take(&mut self, kind: ChannelKind, hidden: bool) -> (Vec<Request>, Option<String>) {
        let now = self.clock.now_unix_nanos() / 1_000_000;
        let Some(channel) = self.outgoing_mut(kind) else {
            return (Vec::new(), None);
        };
        let requests = channel.take(now, hidden);
        let queued = channel.queued();
        if kind == ChannelKind::Items || requests.is_empty() {
            return (requests, None);
        }
        if let Some(r) = requests.first().filter(|r| r.resend) {
            self.stats.export_requests += 1;
            let note = self.config.debug.then(|| {
                crate::cat!(
                    "edge-telemetry: the endpoint answers: sending again ",
                    r.items,
                    kind.noun(),
                    " held while it failed"
                )
            });
            return (requests, note);
        }
        let bytes: u64 = requests.iter().map(|r| r.body.len() as u64).sum();
        let spans: u32 = requests.iter().map(|r| r.items).sum();
        self.stats.export_bytes += bytes;
        self.stats.export_requests += requests.len() as u64;
        let note = self.config.debug.then(|| {
            crate::cat!(
                "edge-telemetry: exporting ",
                spans,
                kind.noun(),
                " in ",
                requests.len(),
                " request(s), ",
                bytes,
                " bytes of JSON",
                if hidden {
                    " (page hidden: keepalive)"
                } else {
                    ""
                },
                "; ",
                queued,
                " still queued"
            )
        });
        (requests, note)
    }

    /// Records how an attempt to send request `id` ended (`status` 0: no response; the
    /// response body, for OTLP's `partialSuccess`): what the transport does with the request
    /// next. The note explains, in debug mode.
    pub fn attempt(
        &mut self,
        kind: ChannelKind,
        id: u32,
        status: u16,
        retry_after: Option<&str>,
        body: Option<&str>,
        jitter: f64,
    ) -> (Next, Option<String>) {
        let now = self.clock.now_unix_nanos() / 1_000_000;
        let ended = self
            .outgoing_mut(kind)
            .and_then(|c| c.result(id, status, retry_after, now, jitter));
        let Some((outcome, n)) = ended else {
            return (Next::Done, None);
        };
        let debug = self.config.debug;
        let s = &mut self.stats;
        let noun = kind.noun();
        let (next, note) = match (kind, outcome) {
            (ChannelKind::Spans | ChannelKind::Logs, ExportOutcome::Success) => {
                let partial = body.and_then(parse_partial_success);
                let rejected = partial.as_ref().map_or(0, |p| p.rejected_spans.min(n));
                let (exported, rejected_count) = if kind == ChannelKind::Logs {
                    (&mut s.logs_exported, &mut s.logs_rejected)
                } else {
                    (&mut s.spans_exported, &mut s.spans_rejected)
                };
                *exported += n - rejected;
                *rejected_count += rejected;
                let note = match partial {
                    Some(p) => crate::cat!(
                        "edge-telemetry: endpoint accepted ",
                        n,
                        noun,
                        " but rejected ",
                        p.rejected_spans,
                        ": ",
                        p.error_message
                    ),
                    None => crate::cat!(
                        "edge-telemetry: export of ",
                        n,
                        noun,
                        " acknowledged (",
                        status,
                        ")"
                    ),
                };
                (Next::Done, note)
            }
            (ChannelKind::Spans | ChannelKind::Logs, ExportOutcome::Held) => {
                s.export_retries += 1;
                (
                    Next::Held,
                    crate::cat!(
                        "edge-telemetry: export of ",
                        n,
                        noun,
                        " failed (",
                        describe(status),
                        "); held until the endpoint answers the batch probing it"
                    ),
                )
            }
            (ChannelKind::Spans | ChannelKind::Logs, ExportOutcome::Retry { delay_millis }) => {
                s.export_retries += 1;
                s.export_requests += 1;
                (
                    Next::Retry(delay_millis),
                    crate::cat!(
                        "edge-telemetry: export of ",
                        n,
                        noun,
                        " failed (",
                        describe(status),
                        "), retrying in ",
                        delay_millis,
                        " ms"
                    ),
                )
            }
            (ChannelKind::Spans | ChannelKind::Logs, ExportOutcome::Failed(reason)) => {
                *if kind == ChannelKind::Logs {
                    &mut s.logs_export_failed
                } else {
                    &mut s.spans_export_failed
                } += n;
                let why = match reason {
                    FailReason::NotRetryable(_) => "not retryable",
                    FailReason::RateLimited { .. } => "rate limited",
                };
                (
                    Next::Done,
                    crate::cat!(
                        "edge-telemetry: export of ",
                        n,
                        noun,
                        " failed (",
                        describe(status),
                        "), ",
                        why,
                        ": ",
                        n,
                        noun,
                        " dropped"
                    ),
                )
            }
            (ChannelKind::Items, ExportOutcome::Success) => {
                s.items_sent += 1;
                (Next::Done, String::new())
            }
            (ChannelKind::Items, ExportOutcome::Held) => (
                Next::Held,
                crate::cat!(
                    "edge-telemetry: error item not sent (HTTP ",
                    status,
                    "); held until the endpoint answers"
                ),
            ),
            (ChannelKind::Items, ExportOutcome::Retry { delay_millis }) => (
                Next::Retry(delay_millis),
                crate::cat!(
                    "edge-telemetry: error item not sent (HTTP ",
                    status,
                    "), retrying in ",
                    delay_millis,
                    " ms"
                ),
            ),
            (ChannelKind::Items, ExportOutcome::Failed(reason)) => {
                s.items_failed += 1;
                let note = match reason {
                    FailReason::RateLimited { pause_millis } => crate::cat!(
                        "edge-telemetry: Rollbar rate limit (429): no items for ",
                        pause_millis,
                        " ms"
                    ),
                    _ => crate::cat!(
                        "edge-telemetry: error item not sent (HTTP ",
                        status,
                        "), given up"
                    ),
                };
                (Next::Done, note)
            }
        };
        (next, (debug && !note.is_empty()).then_some(note))
    }

    /// Milliseconds until a channel has a request due (`None`: nothing queued, or every
    /// slot busy).
    pub fn next_due(&self, kind: ChannelKind) -> Option<u64> {
        let now = self.clock.now_unix_nanos() / 1_000_000;
        self.outgoing(kind)?.next_due(now)
    }

    /// Starts a flush of a channel; its token (`None`: the channel is off).
    pub fn flush(&mut self, kind: ChannelKind) -> Option<u32> {
        self.outgoing_mut(kind).map(|c| c.flush())
    }

    /// A flush's state: `None` waiting, `Some(true)` done (or the channel is off),
    /// `Some(false)` some given up.
    pub fn flush_result(&mut self, kind: ChannelKind, token: u32) -> Option<bool> {
        self.outgoing_mut(kind)
            .map_or(Some(true), |c| c.flush_result(token))
    }

    /// Everything queued on every channel, as bodies to send at once: the last gasp before
    /// the module dies (a panic). Items first.
    pub fn drain(&mut self) -> Vec<(ChannelKind, String)> {
        // Spans held for a mark, and root spans started for an error, go out unmarked.
        while !self.pending.is_empty() {
            if let Some(e) = self.give_up(0) {
                self.queue_span(e.data, e.now_ms);
            }
        }
        let mut out = Vec::new();
        for kind in [ChannelKind::Items, ChannelKind::Spans, ChannelKind::Logs] {
            loop {
                let (requests, _) = self.take(kind, true);
                if requests.is_empty() {
                    break;
                }
                out.extend(requests.into_iter().map(|r| (kind, r.body)));
            }
        }
        out
    }

    fn context_of(&self, parent: &Parent) -> Option<SpanContext> {
        match parent {
            Parent::Span(h) => self.table.context(*h).cloned(),
            Parent::Context(c) => Some(c.clone()),
            Parent::Active | Parent::Root | Parent::Invalid => None,
        }
    }

    /// Starts a span; returns its handle. Never fails: an unknown parent falls back to the
    /// active span, a link to an unknown span is dropped (counted).
    pub fn start_span(&mut self, start: SpanStart) -> SpanHandle {
        if start.parent == Parent::Invalid {
            self.stats.invalid_arguments += 1;
        }
        let choice = match &start.parent {
            Parent::Root => ParentChoice::Root,
            p @ (Parent::Span(_) | Parent::Context(_)) => match self.context_of(p) {
                Some(c) => ParentChoice::Explicit(c),
                None => ParentChoice::Active,
            },
            Parent::Active | Parent::Invalid => ParentChoice::Active,
        };
        let parent = select_parent(&choice, self.stack.active_context());
        let mut links = Vec::with_capacity(start.links.len());
        for (p, attrs) in start.links {
            match self.context_of(&p) {
                Some(c) => links.push((c, attrs)),
                None => self.stats.links_dropped += 1,
            }
        }
        let now = self.clock.now_unix_nanos();
        let at = start.start.unwrap_or(now);
        self.open(
            start.name,
            start.kind,
            parent.as_ref(),
            at,
            now,
            start.attributes,
            links,
        )
    }

    /// Starts a span in the tracer, applies attributes, the session and links, and stores
    /// it in the table. `now_nanos`: the clock, read once by the caller (it is a fifth of a
    /// span's cost in a browser).
    #[allow(clippy::too_many_arguments)]
    fn open(
        &mut self,
        name: String,
        kind: SpanKind,
        parent: Option<&SpanContext>,
        start_nanos: u64,
        now_nanos: u64,
        attributes: Vec<KeyValue>,
        links: Vec<(SpanContext, Vec<KeyValue>)>,
    ) -> SpanHandle {
        let started = self.tracer.start(name, kind, parent, start_nanos);
        let limits = *self.tracer.limits();
        let mut data = started.data;
        let now_ms = now_nanos / 1_000_000;
        self.touch_session(now_ms);
        if let Some(d) = data.as_mut() {
            d.set_attribute(self.session_attribute.clone(), &limits);
            for kv in attributes {
                if d.set_attribute(kv, &limits) == AttributeOutcome::Dropped {
                    self.stats.attributes_dropped += 1;
                }
            }
            for (c, attrs) in links {
                if !d.add_link(c, attrs, &limits) {
                    self.stats.links_dropped += 1;
                }
            }
        }
        let recording = data.is_some();
        let (handle, evicted) = self.table.insert(OpenSpan {
            context: started.context,
            data,
        });
        self.stats.spans_started += 1;
        self.stats.spans_not_recorded += u64::from(!recording);
        self.stats.spans_evicted += u64::from(evicted);
        handle
    }

    /// Keeps the session alive at `now_ms`, or starts a new one when it expired.
    fn touch_session(&mut self, now_ms: u64) {
        let tracer = &mut self.tracer;
        if self.session.touch(now_ms, || fresh_id(tracer)) {
            self.session_attribute = session_attribute(&self.session);
            self.session_changed = true;
        }
    }

    /// Runs `f` on a recording span's data; counts calls on ended or unknown spans.
    fn with_data(
        &mut self,
        handle: SpanHandle,
        f: impl FnOnce(&mut SpanData, &SpanLimits, &mut Stats),
    ) {
        let limits = *self.tracer.limits();
        match self.table.get_mut(handle) {
            Some(OpenSpan { data: Some(d), .. }) => f(d, &limits, &mut self.stats),
            Some(_) => {} // not recording: nothing to do
            None if handle != 0 => self.stats.calls_after_end += 1,
            None => {}
        }
    }

    /// `span.setAttribute`.
    pub fn set_attribute(&mut self, handle: SpanHandle, kv: KeyValue) {
        self.with_data(handle, |d, l, s| set_one(d, l, s, kv));
    }

    /// `span.setAttributes`.
    pub fn set_attributes(&mut self, handle: SpanHandle, kvs: Vec<KeyValue>) {
        self.with_data(handle, |d, l, s| {
            kvs.into_iter().for_each(|kv| set_one(d, l, s, kv))
        });
    }

    /// `span.addEvent`; `time` in epoch nanoseconds, `None` for now.
    pub fn add_event(
        &mut self,
        handle: SpanHandle,
        name: String,
        time: Option<u64>,
        attributes: Vec<KeyValue>,
    ) {
        let time = time.unwrap_or_else(|| self.clock.now_unix_nanos());
        self.with_data(handle, |d, l, s| add_event(d, l, s, name, time, attributes));
    }

    /// `span.recordException`: an `exception` event (the status is left to the caller, as in
    /// OpenTelemetry).
    pub fn record_exception(
        &mut self,
        handle: SpanHandle,
        kind: String,
        message: String,
        stack: Option<String>,
        time: Option<u64>,
    ) {
        let attributes = exception_attributes(kind, message, stack);
        self.add_event(handle, EXCEPTION_EVENT_NAME.to_owned(), time, attributes);
    }

    /// `span.setStatus`.
    pub fn set_status(&mut self, handle: SpanHandle, status: Status) {
        self.with_data(handle, |d, _, _| d.set_status(status));
    }

    /// `span.updateName`.
    pub fn update_name(&mut self, handle: SpanHandle, name: String) {
        self.with_data(handle, |d, _, _| d.name = name);
    }

    /// `span.end`: the finished span when it was recording. A second call, or an unknown
    /// handle, is counted and gives `None`; the span's context stays available to
    /// [`Sdk::span_context`] for a while.
    pub fn end(&mut self, handle: SpanHandle, end: Option<u64>) -> Option<Ended> {
        let Some(data) = self.table.remove(handle) else {
            if handle != 0 {
                self.stats.calls_after_end += 1;
            }
            return None;
        };
        let mut data = data?;
        let now = self.clock.now_unix_nanos();
        data.end_time_unix_nano = end.unwrap_or(now).max(data.start_time_unix_nano);
        self.stats.spans_ended += 1;
        let ended = Ended {
            data,
            now_ms: now / 1_000_000,
        };
        self.hold_ended(handle, ended)
    }

    /// A span that ends while an error's mark for it waits is held by that mark.
    fn hold_ended(&mut self, handle: SpanHandle, ended: Ended) -> Option<Ended> {
        match self
            .pending
            .iter_mut()
            .find(|m| m.handle == handle && m.ended.is_none())
        {
            Some(m) => {
                m.ended = Some(ended);
                None
            }
            None => Some(ended),
        }
    }

    /// Forgets an open span without ending it (nothing is exported).
    pub fn discard(&mut self, handle: SpanHandle) {
        self.table.remove(handle);
    }

    /// A span's context (also for a recently ended span).
    pub fn span_context(&self, handle: SpanHandle) -> Option<&SpanContext> {
        self.table.context(handle)
    }

    /// Whether the span is open and recording.
    pub fn is_recording(&self, handle: SpanHandle) -> bool {
        self.table.get(handle).is_some_and(|s| s.data.is_some())
    }

    /// Spans open now.
    pub fn open_spans(&self) -> usize {
        self.table.len()
    }

    fn active_entry(&mut self, parent: &Parent) -> Result<Option<Active<SpanHandle>>, ()> {
        match parent {
            Parent::Active | Parent::Root => Ok(None),
            Parent::Span(h) => match self.table.context(*h) {
                Some(c) => Ok(Some(Active {
                    context: c.clone(),
                    handle: Some(*h),
                })),
                None => Err(()),
            },
            Parent::Context(c) => Ok(Some(Active {
                context: c.clone(),
                handle: None,
            })),
            Parent::Invalid => Err(()),
        }
    }

    /// Enters a synchronous scope in which `span` is active ([`Parent::Root`]: none); returns
    /// the depth to pass to [`Sdk::exit`]. An ended or invalid span leaves the active span
    /// unchanged (counted).
    pub fn enter(&mut self, span: Parent) -> Depth {
        let entry = match self.active_entry(&span) {
            Ok(e) => e,
            Err(()) => {
                self.stats.invalid_arguments += 1;
                self.stack.active().cloned()
            }
        };
        self.stack.enter(entry)
    }

    /// Leaves the scopes entered since `depth`.
    pub fn exit(&mut self, depth: Depth) {
        self.stack.restore(depth);
    }

    /// Opens an async scope for `span` (see the context model); `None` when there is none
    /// to open.
    pub fn open_scope(&mut self, span: Parent) -> Option<ScopeId> {
        let entry = self.active_entry(&span).ok().flatten()?;
        let before = self.stack.forgotten_scopes();
        let id = self.stack.open_scope(entry);
        self.stats.async_scopes_forgotten += self.stack.forgotten_scopes() - before;
        Some(id)
    }

    /// Opens an async scope for whatever is active now (an instrumented request in flight).
    pub fn open_active_scope(&mut self) -> Option<ScopeId> {
        let entry = self.stack.active().cloned()?;
        Some(self.stack.open_scope(entry))
    }

    /// Closes an async scope.
    pub fn close_scope(&mut self, id: ScopeId) {
        self.stack.close_scope(id);
    }

    /// The active span: its handle (0 for a remote context) and context.
    pub fn active(&self) -> Option<(SpanHandle, &SpanContext)> {
        self.stack
            .active()
            .map(|a| (a.handle.unwrap_or(0), &a.context))
    }

    /// The active span's handle, when it is one of ours and still open (0: none).
    pub fn active_span(&self) -> SpanHandle {
        self.stack
            .active()
            .and_then(|a| a.handle)
            .filter(|h| self.table.get(*h).is_some())
            .unwrap_or(0)
    }

    /// Sets the page-level baggage sent with every propagated request.
    pub fn set_baggage(&mut self, baggage: &Baggage) {
        self.baggage = format_baggage(baggage);
    }

    /// The trace headers for `ctx` (traceparent, tracestate, X-Ray's with
    /// `addXRayTraceIdHeader`, page baggage); empty when
    /// there is no valid context or (with `url`) the URL is neither same-origin nor
    /// allow-listed. `regex`: whether one of the page's RegExp rules matches a URL.
    /// `url`: the request's URL, with `Url::parse` of it.
    fn trace_headers(
        &self,
        ctx: Option<&SpanContext>,
        url: Option<(&str, Option<&Url<'_>>)>,
        regex: impl FnOnce(&str) -> bool,
    ) -> HeaderList {
        let mut out = HeaderList::default();
        let Some(ctx) = ctx.filter(|c| c.is_valid()) else {
            return out;
        };
        let page = self.page_url.as_deref().and_then(Url::parse);
        if let Some((url, target)) = url
            && !should_propagate_parsed(
                url,
                target,
                page.as_ref(),
                &self.config.propagate_trace_header_cors_urls,
                || regex(url),
            )
        {
            return out;
        }
        inject_trace_context(ctx, |k, v| out.set(k, v));
        if self.config.xray_header {
            out.set(
                XRAY_HEADER,
                format_xray(ctx.trace_id(), ctx.span_id(), ctx.is_sampled()),
            );
        }
        if !self.baggage.is_empty() {
            out.set(BAGGAGE_HEADER, self.baggage.clone());
        }
        out
    }

    /// `injectHeaders`: the active span's trace headers, for `url` when given.
    pub fn inject_headers(
        &self,
        url: Option<&str>,
        regex: impl FnOnce(&str) -> bool,
    ) -> HeaderList {
        let target = url.and_then(Url::parse);
        self.trace_headers(
            self.stack.active_context(),
            url.map(|u| (u, target.as_ref())),
            regex,
        )
    }

    /// Starts a CLIENT span for a request to absolute `url` (fetch, or XHR when `xhr`).
    pub fn http_start(&mut self, method: &str, url: &str, xhr: bool) -> SpanHandle {
        self.http_start_parsed(method, url, Url::parse(url).as_ref(), xhr)
    }

    /// [`Sdk::http_start`] with `Url::parse(url)` done once for the request.
    fn http_start_parsed(
        &mut self,
        method: &str,
        url: &str,
        parsed: Option<&Url<'_>>,
        xhr: bool,
    ) -> SpanHandle {
        let info = client_span_start_parsed(method, url, parsed);
        let parent = self.stack.active_context().cloned();
        let now = self.clock.now_unix_nanos();
        let h = self.open(
            info.name,
            SpanKind::Client,
            parent.as_ref(),
            now,
            now,
            info.attributes,
            Vec::new(),
        );
        if xhr {
            self.stats.xhr_requests += 1;
        } else {
            self.stats.fetch_requests += 1;
        }
        h
    }

    /// The trace headers request span `handle` sends to `url` (empty when the URL is
    /// neither same-origin nor allow-listed).
    pub fn http_headers(
        &mut self,
        handle: SpanHandle,
        url: &str,
        regex: impl FnOnce(&str) -> bool,
    ) -> HeaderList {
        self.http_headers_parsed(handle, url, Url::parse(url).as_ref(), regex)
    }

    /// [`Sdk::http_headers`] with `Url::parse(url)` done once for the request.
    fn http_headers_parsed(
        &mut self,
        handle: SpanHandle,
        url: &str,
        parsed: Option<&Url<'_>>,
        regex: impl FnOnce(&str) -> bool,
    ) -> HeaderList {
        let ctx = self.table.get(handle).map(|s| s.context.clone());
        let list = self.trace_headers(ctx.as_ref(), Some((url, parsed)), regex);
        if !list.is_empty() {
            self.stats.requests_propagated += 1;
        }
        list
    }

    /// Ends request span `handle` with its outcome, now.
    pub fn http_end(&mut self, handle: SpanHandle, outcome: &HttpOutcome) -> Option<Ended> {
        self.http_end_at(handle, outcome, None)
    }

    fn http_end_at(
        &mut self,
        handle: SpanHandle,
        outcome: &HttpOutcome,
        end: Option<u64>,
    ) -> Option<Ended> {
        let (attrs, status) = client_span_end(outcome);
        self.with_data(handle, |d, l, s| {
            attrs.into_iter().for_each(|kv| set_one(d, l, s, kv));
            if status != Status::Unset {
                d.set_status(status);
            }
        });
        self.end(handle, end)
    }

    /// An instrumented request starts (fetch, or XHR when `xhr`): its CLIENT span under the
    /// active span, an async scope that keeps the active span for the page's callbacks on
    /// this request until [`Sdk::request_end`], and the trace headers to add (none when
    /// `propagate` is false, e.g. the page set its own `traceparent`, or when the URL is
    /// neither same-origin nor allow-listed).
    pub fn request_start(
        &mut self,
        method: &str,
        url: &str,
        xhr: bool,
        propagate: bool,
        regex: impl FnOnce(&str) -> bool,
    ) -> (SpanHandle, HeaderList) {
        let scope = self.open_active_scope();
        let parsed = Url::parse(url);
        let handle = self.http_start_parsed(method, url, parsed.as_ref(), xhr);
        if let Some(t) = self.telemetry.as_mut() {
            let now_ms = self.clock.now_unix_nanos() / 1_000_000;
            t.request_start(handle, now_ms, method, url, xhr);
        }
        if let Some(scope) = scope {
            if self.request_scopes.len() >= MAX_REQUEST_SCOPES {
                // Requests that never settle: their scope is forgotten, not kept forever.
                let (_, oldest, _) = self.request_scopes.remove(0);
                self.stack.close_scope(oldest);
                self.stats.async_scopes_forgotten += 1;
            }
            self.request_scopes.push((handle, scope, None));
        }
        let headers = if propagate {
            self.http_headers_parsed(handle, url, parsed.as_ref(), regex)
        } else {
            HeaderList::default()
        };
        (handle, headers)
    }

    /// The request of `handle` ended at `end` (now when `None`), in task `epoch` (a number
    /// the page advances once per task in which requests ended): its span ends with the
    /// outcome. Its scope stays open for the page's callbacks on the response, in this task,
    /// and is closed by [`Sdk::release_requests`] once a later task has begun. Nothing reads
    /// the context but calls into the engine, so releasing at the first call of a later task
    /// is the same as releasing when that task begins, without a call of its own.
    pub fn request_end(
        &mut self,
        handle: SpanHandle,
        outcome: &HttpOutcome,
        end: Option<u64>,
        epoch: u32,
    ) -> Option<Ended> {
        if let Some(r) = self.request_scopes.iter_mut().find(|r| r.0 == handle) {
            r.2 = Some(epoch);
        }
        if let Some(t) = self.telemetry.as_mut() {
            let end_ms = end.unwrap_or_else(|| self.clock.now_unix_nanos()) / 1_000_000;
            match outcome {
                HttpOutcome::Response(status) => t.request_end(handle, end_ms, *status),
                HttpOutcome::NetworkError(_) | HttpOutcome::Timeout => {
                    t.request_end(handle, end_ms, 0);
                }
                // Not an error, and no answer to show.
                HttpOutcome::Aborted => t.request_forget(handle),
            }
        }
        self.http_end_at(handle, outcome, end)
    }

    /// Whether ended requests still keep a scope (then [`Sdk::release_requests`] is due
    /// before the next call, with the page's current epoch).
    pub fn requests_to_release(&self) -> bool {
        self.request_scopes.iter().any(|r| r.2.is_some())
    }

    /// Closes the scopes of requests that ended in a task before `epoch`.
    pub fn release_requests(&mut self, epoch: u32) {
        let stack = &mut self.stack;
        self.request_scopes
            .retain(|&(_, scope, ended)| match ended {
                Some(e) if e != epoch => {
                    stack.close_scope(scope);
                    false
                }
                _ => true,
            });
    }

    /// Starts a root span that holds an async scope (so it parents work with nothing else
    /// active) until [`Sdk::end_auto_span`].
    fn start_auto_span(
        &mut self,
        name: String,
        parent: Option<SpanContext>,
        start: u64,
        attributes: Vec<KeyValue>,
    ) -> SpanHandle {
        let now = self.clock.now_unix_nanos();
        let h = self.open(
            name,
            SpanKind::Internal,
            parent.as_ref(),
            start,
            now,
            attributes,
            Vec::new(),
        );
        if let Some(s) = self.table.get(h) {
            let scope = self.stack.open_scope(Active {
                context: s.context.clone(),
                handle: Some(h),
            });
            self.auto_scopes.push((h, scope));
        }
        h
    }

    /// Ends an automatic span at `end` (now when `None`), closing its scope.
    fn end_auto_span(&mut self, handle: SpanHandle, end: Option<u64>) -> Option<Ended> {
        if let Some(pos) = self.auto_scopes.iter().position(|(h, _)| *h == handle) {
            let (_, scope) = self.auto_scopes.remove(pos);
            self.stack.close_scope(scope);
        }
        self.end(handle, end)
    }

    /// Starts the `documentLoad` span at the navigation's start (`time_origin_ms`), under the
    /// first valid traceparent of `parents` (meta tag, Server-Timing) or as a root.
    pub fn document_load_start(&mut self, parents: &[String], time_origin_ms: f64) -> SpanHandle {
        let parent = document_load_parent(parents);
        let start =
            millis_to_unix_nanos(time_origin_ms).unwrap_or_else(|| self.clock.now_unix_nanos());
        let attrs = document_load_attributes(self.page_url.as_deref());
        self.start_auto_span(DOCUMENT_LOAD_SPAN_NAME.to_owned(), parent, start, attrs)
    }

    /// Ends the `documentLoad` span with the Navigation Timing values (in the order of
    /// `NAVIGATION_TIMING_EVENTS`) and the response status; at the load end, or now when the
    /// browser has no entry.
    pub fn document_load_end(
        &mut self,
        handle: SpanHandle,
        timing: &[f64],
        time_origin_ms: f64,
        response_status: f64,
    ) -> Option<Ended> {
        let (events, end) = navigation_events(timing, time_origin_ms);
        let attrs = document_load_end_attributes(response_status);
        self.with_data(handle, |d, l, s| {
            for (name, t) in events {
                add_event(d, l, s, name.to_owned(), t, Vec::new());
            }
            attrs.into_iter().for_each(|kv| set_one(d, l, s, kv));
        });
        self.end_auto_span(handle, end)
    }

    /// Starts a root span for a user interaction (`event_type`, and the target element's tag
    /// name and XPath when known), active until [`Sdk::interaction_end`].
    pub fn interaction_start(
        &mut self,
        event_type: String,
        target: &str,
        xpath: &str,
    ) -> SpanHandle {
        let attrs = interaction_attributes(&event_type, target, xpath);
        let now = self.clock.now_unix_nanos();
        if let Some(t) = self.telemetry.as_mut() {
            t.dom(now / 1_000_000, &event_type, &element_name(target, xpath));
        }
        self.start_auto_span(event_type, None, now, attrs)
    }

    /// The page moved to another URL without loading (history API, hash change): a
    /// telemetry event for its next items (URLs scrubbed).
    pub fn navigation(&mut self, from: &str, to: &str) {
        let now_ms = self.clock.now_unix_nanos() / 1_000_000;
        if let Some(t) = self.telemetry.as_mut() {
            t.navigation(now_ms, from, to);
        }
    }

    /// Ends an interaction span (after the event's task).
    pub fn interaction_end(&mut self, handle: SpanHandle) -> Option<Ended> {
        self.end_auto_span(handle, None)
    }

    /// Links an error to its span for its item, which the item encoder builds later: the
    /// span it was thrown under (`hint`), else the active span, else a root span `exception`
    /// started for it. `first`: the outermost error, for the span's mark; `message`: a
    /// `captureMessage`. The mark waits until the item is queued ([`Sdk::queue_captured`]) or
    /// not sent ([`Sdk::not_sent`]); a span that ends meanwhile is held. `None` when error
    /// reporting is off. Also returns a span released because too many marks waited.
    pub fn capture_error(
        &mut self,
        message: bool,
        first: RawError,
        hint: SpanHandle,
        uuid: String,
    ) -> (Option<ErrorLink>, Option<Ended>) {
        if self.items.is_none() {
            return (None, None);
        }
        let now = self.clock.now_unix_nanos();
        let (handle, context, created) = match self.error_span(hint) {
            Some((h, c)) => (h, c, false),
            None => {
                let h = self.start_error_span();
                match self.span_context(h).cloned() {
                    Some(c) => (h, c, true),
                    None => (0, SpanContext::empty_context(), false),
                }
            }
        };
        let trace = context.is_valid().then(|| {
            let mut trace_id = String::with_capacity(32);
            let mut span_id = String::with_capacity(16);
            write_hex(&mut trace_id, &context.trace_id().to_bytes());
            write_hex(&mut span_id, &context.span_id().to_bytes());
            (trace_id, span_id)
        });
        let RawError {
            class,
            message: text,
            mut stack,
        } = first;
        // Script URLs in stacks may carry tokens in their query, as the page URL may.
        if stack.contains('?') {
            stack = scrub_urls_in_text(&stack);
        }
        let mark = PendingMark {
            handle,
            created,
            mark: ErrorMark {
                time: now,
                message,
                class,
                text,
                stack,
                uuid: uuid.clone(),
            },
            ended: None,
        };
        self.pending.push(mark);
        let released = if self.pending.len() > MAX_PENDING_MARKS {
            self.give_up(0)
        } else {
            None
        };
        let link = ErrorLink {
            uuid,
            now_ms: now / 1_000_000,
            trace,
            telemetry: self
                .telemetry
                .as_ref()
                .filter(|t| !t.is_empty())
                .map(Telemetry::to_json),
        };
        (Some(link), released)
    }

    /// Gives up waiting mark `i`: its span is let go unmarked, a root span started for the
    /// error ended (the item may still be sent, and names it).
    fn give_up(&mut self, i: usize) -> Option<Ended> {
        let m = self.pending.remove(i);
        match m.ended {
            Some(e) => self.hold_ended(m.handle, e),
            None if m.created => self.end(m.handle, None),
            None => None,
        }
    }

    /// Queues item `uuid` (as the encoder built it, or as `beforeSend` returned it) and
    /// settles its span's mark: the delay to arm the item channel's timer with when queued;
    /// the span to deliver, when the mark held it or a root span was started for the error.
    pub fn queue_captured(
        &mut self,
        uuid: &str,
        body: String,
    ) -> (Result<Option<u64>, ItemDrop>, Option<Ended>) {
        let now_ms = self.clock.now_unix_nanos() / 1_000_000;
        let queued = if body.len() > MAX_ITEM_BYTES {
            self.stats.items_dropped += 1;
            Err(ItemDrop::TooLarge)
        } else {
            self.queue_item(body, now_ms)
        };
        let ended = self
            .take_pending(uuid)
            .and_then(|m| self.settle(m, queued.is_ok()));
        (queued, ended)
    }

    /// Marks the span of a queued item (see [`Sdk::mark_error`]) or, when the item was not
    /// queued, leaves it alone. A root span started for the error is ended (returned) or
    /// discarded unexported; a span the mark held is returned (for another mark of it still
    /// waiting, held by that one).
    pub fn settle(&mut self, pending: PendingMark, queued: bool) -> Option<Ended> {
        let PendingMark {
            handle,
            created,
            mark,
            mut ended,
        } = pending;
        if created && !queued {
            self.discard(handle);
            return None;
        }
        if queued {
            match ended.as_mut() {
                Some(e) => {
                    let limits = *self.tracer.limits();
                    mark_data(&mut e.data, &limits, &mut self.stats, mark);
                }
                None => self.mark_error(handle, mark),
            }
        }
        if created {
            return self.end(handle, None);
        }
        self.hold_ended(handle, ended?)
    }

    /// Item `uuid` leaves with a later page (the page is hidden before the item encoder
    /// arrived; the item is kept in storage): its span is marked now, to leave with this one.
    pub fn defer(&mut self, uuid: &str) -> Option<Ended> {
        let m = self.take_pending(uuid)?;
        self.settle(m, true)
    }

    /// The waiting mark of item `uuid`.
    pub fn take_pending(&mut self, uuid: &str) -> Option<PendingMark> {
        let i = self.pending.iter().position(|m| m.mark.uuid == uuid)?;
        Some(self.pending.remove(i))
    }

    /// Item `uuid` is not sent, for `why`. Counted; its span is left alone (a span the mark
    /// held is returned). The note explains, in debug mode.
    pub fn not_sent(
        &mut self,
        why: NotSent,
        uuid: Option<&str>,
    ) -> (Option<Ended>, Option<String>) {
        let s = &mut self.stats;
        let note = match why {
            NotSent::Raised => {
                s.reporting_errors += 1;
                None
            }
            NotSent::Duplicate => {
                s.items_deduplicated += 1;
                None
            }
            NotSent::Ignored => {
                s.items_ignored += 1;
                Some("edge-telemetry: error ignored (rollbar.ignoredMessages)".to_owned())
            }
            NotSent::Dropped | NotSent::MaxItems | NotSent::PerMinute | NotSent::Lost => {
                s.items_dropped += 1;
                let why = match why {
                    NotSent::MaxItems => "rollbar.maxItems",
                    NotSent::PerMinute => "rollbar.itemsPerMinute",
                    NotSent::Lost => "the item encoder did not load in time",
                    _ => "beforeSend",
                };
                Some(crate::cat!(
                    "edge-telemetry: error item dropped (",
                    why,
                    "); ",
                    s.items_dropped,
                    " dropped so far"
                ))
            }
        };
        let ended = uuid
            .and_then(|u| self.take_pending(u))
            .and_then(|m| self.settle(m, false));
        (ended, note.filter(|_| self.config.debug))
    }

    /// The span an error belongs to: `hint` (the span it was thrown under) when known, else
    /// the active span.
    pub fn error_span(&self, hint: SpanHandle) -> Option<(SpanHandle, SpanContext)> {
        if hint != 0
            && let Some(c) = self.table.context(hint)
        {
            return Some((hint, c.clone()));
        }
        self.active().map(|(h, c)| (h, c.clone()))
    }

    /// Starts the root span of an error reported with no span to link it to.
    pub fn start_error_span(&mut self) -> SpanHandle {
        let now = self.clock.now_unix_nanos();
        self.open(
            ERROR_SPAN_NAME.to_owned(),
            SpanKind::Internal,
            None,
            now,
            now,
            Vec::new(),
            Vec::new(),
        )
    }

    /// Marks the span of a queued item (see [`mark_data`]).
    pub fn mark_error(&mut self, handle: SpanHandle, mark: ErrorMark) {
        self.with_data(handle, |d, l, s| mark_data(d, l, s, mark));
    }
}

/// Marks the span of a queued item: an `exception` event (`message` for messages) with the
/// item's uuid at the time the error was captured, ERROR status (not for messages) and
/// `rollbar.item.uuid`.
fn mark_data(d: &mut SpanData, l: &SpanLimits, s: &mut Stats, mark: ErrorMark) {
    let ErrorMark {
        time,
        message,
        class,
        text,
        stack,
        uuid,
    } = mark;
    let (name, mut attrs) = if message {
        ("message", vec![KeyValue::new("message", text.clone())])
    } else {
        (
            EXCEPTION_EVENT_NAME,
            exception_attributes(class, text.clone(), Some(stack).filter(|s| !s.is_empty())),
        )
    };
    attrs.push(KeyValue::new(ITEM_UUID_ATTRIBUTE, uuid.clone()));
    add_event(d, l, s, name.to_owned(), time, attrs);
    if !message {
        d.set_status(Status::error(text));
    }
    d.set_attribute(KeyValue::new(ITEM_UUID_ATTRIBUTE, uuid), l);
}

fn describe(status: u16) -> String {
    if status == 0 {
        "network error or timeout".to_owned()
    } else {
        crate::cat!("HTTP ", status)
    }
}

fn set_one(d: &mut SpanData, limits: &SpanLimits, stats: &mut Stats, kv: KeyValue) {
    match d.set_attribute(kv, limits) {
        AttributeOutcome::Dropped => stats.attributes_dropped += 1,
        AttributeOutcome::Truncated => stats.attributes_truncated += 1,
        AttributeOutcome::Stored => {}
    }
}

fn add_event(
    d: &mut SpanData,
    limits: &SpanLimits,
    stats: &mut Stats,
    name: String,
    time: u64,
    attrs: Vec<KeyValue>,
) {
    if !d.add_event(name, time, attrs, limits) {
        stats.events_dropped += 1;
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::errors::capture::{ErrorReport, NotAdmitted, Reporter, Source};
    use crate::errors::rollbar::Json;
    use crate::model::{SpanId, TraceFlags, TraceId, TraceState};
    use crate::time::ManualClock;
    use crate::trace::ids::RandomIdGenerator;

    const T0: u64 = 1_700_000_000_000_000_000;
    const PAGE: &str = "https://shop.example/cart";

    type TestSdk = Sdk<RandomIdGenerator, ManualClock>;

    fn sdk_with(config: SdkConfig) -> TestSdk {
        Sdk::new(
            config,
            RandomIdGenerator::new([3; 32]),
            ManualClock::new(T0),
            Some(PAGE.to_owned()),
            None,
        )
    }

    fn sdk() -> TestSdk {
        sdk_with(SdkConfig {
            service_name: "shop-web".to_owned(),
            propagate_trace_header_cors_urls: vec!["https://api.example".to_owned()],
            ..SdkConfig::default()
        })
    }

    fn remote() -> SpanContext {
        SpanContext::new(
            TraceId::from_bytes([0x4b; 16]),
            SpanId::from_bytes([0x0f; 8]),
            TraceFlags::SAMPLED,
            true,
            TraceState::default(),
        )
    }

    fn attr<'a>(data: &'a SpanData, key: &str) -> Option<&'a crate::model::Value> {
        data.attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| &kv.value)
    }

    #[test]
    fn life_cycle_parent_choice_and_times() {
        let mut sdk = sdk();
        let root = sdk.start_span(SpanStart {
            attributes: vec![KeyValue::new("cart.items", 3)],
            ..SpanStart::named("checkout")
        });
        let root_ctx = sdk.span_context(root).unwrap().clone();
        assert!(sdk.is_recording(root));
        // Active scope → child of root.
        let depth = sdk.enter(Parent::Span(root));
        let child = sdk.start_span(SpanStart::named("pay"));
        // root: true ignores the active span.
        let new_trace = sdk.start_span(SpanStart {
            parent: Parent::Root,
            ..SpanStart::named("other")
        });
        sdk.exit(depth);
        // An explicit remote parent.
        let continued = sdk.start_span(SpanStart {
            parent: Parent::Context(remote()),
            start: Some(T0 - 5),
            ..SpanStart::named("continued")
        });
        // An unknown handle falls back to the active span (none now): a root.
        let orphan = sdk.start_span(SpanStart {
            parent: Parent::Span(999),
            ..SpanStart::named("orphan")
        });
        let child_ctx = sdk.span_context(child).unwrap().clone();
        assert_eq!(child_ctx.trace_id(), root_ctx.trace_id());
        assert_ne!(
            sdk.span_context(new_trace).unwrap().trace_id(),
            root_ctx.trace_id()
        );
        assert_eq!(
            sdk.span_context(continued).unwrap().trace_id(),
            remote().trace_id()
        );
        assert_ne!(
            sdk.span_context(orphan).unwrap().trace_id(),
            root_ctx.trace_id()
        );

        let ended = sdk.end(child, None).unwrap();
        assert_eq!(ended.data.parent_span_id, root_ctx.span_id());
        assert_eq!(ended.data.start_time_unix_nano, T0);
        assert_eq!(ended.now_ms, T0 / 1_000_000);
        let c = sdk.end(continued, Some(T0 - 10)).unwrap();
        assert_eq!(c.data.parent_span_id, remote().span_id());
        assert_eq!(
            (c.data.start_time_unix_nano, c.data.end_time_unix_nano),
            (T0 - 5, T0 - 5),
            "an end before the start is clamped to the start"
        );
        // The session id is on every span.
        assert!(attr(&ended.data, SESSION_ID_ATTRIBUTE).is_some());
        // A second end is counted and gives nothing; the context is still known.
        assert!(sdk.end(child, None).is_none());
        assert_eq!(sdk.stats.calls_after_end, 1);
        assert!(sdk.span_context(child).is_some());
        // An ended span still parents.
        let late = sdk.start_span(SpanStart {
            parent: Parent::Span(child),
            ..SpanStart::named("late")
        });
        assert_eq!(
            sdk.span_context(late).unwrap().trace_id(),
            root_ctx.trace_id()
        );
        assert_eq!(sdk.stats.spans_started, 6);
        assert_eq!(sdk.stats.spans_ended, 2);
        assert_eq!(sdk.open_spans(), 4);
    }

    #[test]
    fn span_operations_and_their_counters() {
        let mut sdk = sdk_with(SdkConfig {
            span_limits: SpanLimits {
                attribute_count_limit: 3,
                event_count_limit: 1,
                ..SpanLimits::default()
            },
            ..SdkConfig::default()
        });
        let h = sdk.start_span(SpanStart::named("work"));
        sdk.set_attribute(h, KeyValue::new("a", 1));
        sdk.set_attributes(h, vec![KeyValue::new("b", 2), KeyValue::new("c", 3)]);
        assert_eq!(sdk.stats.attributes_dropped, 1, "session.id + a + b fill 3");
        sdk.add_event(h, "first".to_owned(), Some(T0 + 1), Vec::new());
        sdk.record_exception(h, "TypeError".to_owned(), "boom".to_owned(), None, None);
        assert_eq!(sdk.stats.events_dropped, 1);
        sdk.set_status(h, Status::error("bad"));
        sdk.update_name(h, "renamed".to_owned());
        let d = sdk.end(h, None).unwrap().data;
        assert_eq!(d.name, "renamed");
        assert_eq!(d.events.len(), 1);
        assert_eq!(d.status, Status::error("bad"));
        // Calls after end are counted, not applied.
        sdk.set_attribute(h, KeyValue::new("late", 1));
        sdk.update_name(h, "x".to_owned());
        assert_eq!(sdk.stats.calls_after_end, 2);
        // Handle 0 (a span from before init) is ignored silently.
        sdk.set_attribute(0, KeyValue::new("z", 1));
        assert_eq!(sdk.stats.calls_after_end, 2);
    }

    #[test]
    fn unsampled_spans_are_counted_and_not_returned() {
        let mut sdk = sdk();
        let ctx = SpanContext::new(
            TraceId::from_bytes([1; 16]),
            SpanId::from_bytes([2; 8]),
            TraceFlags::default(),
            true,
            TraceState::default(),
        );
        let h = sdk.start_span(SpanStart {
            parent: Parent::Context(ctx),
            ..SpanStart::named("unsampled")
        });
        assert!(!sdk.is_recording(h));
        assert!(sdk.end(h, None).is_none());
        assert_eq!(sdk.stats.spans_not_recorded, 1);
        assert_eq!(sdk.stats.calls_after_end, 0);
    }

    #[test]
    fn scopes_and_the_active_span() {
        let mut sdk = sdk();
        let a = sdk.start_span(SpanStart::named("a"));
        assert_eq!(sdk.active_span(), 0);
        let scope = sdk.open_scope(Parent::Span(a)).unwrap();
        assert_eq!(sdk.active_span(), a);
        let d = sdk.enter(Parent::Root);
        assert_eq!(sdk.active_span(), 0, "entering no span hides the scope");
        sdk.exit(d);
        // An invalid reference keeps what is active, counted.
        let d = sdk.enter(Parent::Invalid);
        assert_eq!(sdk.active_span(), a);
        assert_eq!(sdk.stats.invalid_arguments, 1);
        sdk.exit(d);
        // A remote context is active but is not one of our spans.
        let d = sdk.enter(Parent::Context(remote()));
        assert_eq!(sdk.active_span(), 0);
        assert_eq!(sdk.active().unwrap().1.trace_id(), remote().trace_id());
        sdk.exit(d);
        // While a request is in flight its callbacks see the same span.
        let in_flight = sdk.open_active_scope().unwrap();
        sdk.close_scope(scope);
        assert_eq!(sdk.active_span(), a);
        sdk.close_scope(in_flight);
        assert_eq!(sdk.active_span(), 0);
        assert!(sdk.open_active_scope().is_none());
        assert!(sdk.open_scope(Parent::Span(12345)).is_none());
    }

    #[test]
    fn http_spans_headers_only_where_allowed_and_baggage() {
        let mut sdk = sdk();
        let mut baggage = Baggage::new();
        baggage.set("cart".to_owned(), "7731".to_owned());
        sdk.set_baggage(&baggage);
        let root = sdk.start_span(SpanStart::named("click"));
        let depth = sdk.enter(Parent::Span(root));
        let same = sdk.http_start("GET", "https://shop.example/api/feed?q=1", false);
        let allowed = sdk.http_start("POST", "https://api.example/v1", true);
        let other = sdk.http_start("GET", "https://other.example/x", false);
        sdk.exit(depth);
        let no = |_: &str| false;
        let h = sdk.http_headers(same, "https://shop.example/api/feed?q=1", no);
        let ctx = sdk.span_context(same).unwrap().clone();
        let tp = h.iter().find(|(k, _)| *k == "traceparent").unwrap().1;
        assert!(tp.contains(&format!("{:032x}", ctx.trace_id())));
        assert!(tp.contains(&format!("{:016x}", ctx.span_id())));
        assert_eq!(
            h.iter().find(|(k, _)| *k == "baggage").map(|(_, v)| v),
            Some("cart=7731")
        );
        assert!(
            !sdk.http_headers(allowed, "https://api.example/v1", no)
                .is_empty()
        );
        assert!(
            sdk.http_headers(other, "https://other.example/x", no)
                .is_empty()
        );
        // The page's RegExp rules are asked only about that URL.
        let mut asked = None;
        let regex = |u: &str| {
            asked = Some(u.to_owned());
            true
        };
        assert!(
            !sdk.http_headers(other, "https://other.example/x", regex)
                .is_empty()
        );
        assert_eq!(asked.as_deref(), Some("https://other.example/x"));
        assert_eq!(
            (
                sdk.stats.fetch_requests,
                sdk.stats.xhr_requests,
                sdk.stats.requests_propagated
            ),
            (2, 1, 3)
        );
        let ended = sdk.http_end(same, &HttpOutcome::Response(503)).unwrap();
        assert_eq!(
            ended.data.parent_span_id,
            sdk.span_context(root).unwrap().span_id()
        );
        assert_eq!(ended.data.kind, SpanKind::Client);
        assert!(matches!(ended.data.status, Status::Error { .. }));
        // injectHeaders follows the same rules, from the active span.
        assert!(sdk.inject_headers(None, no).is_empty(), "nothing active");
        let d = sdk.enter(Parent::Span(root));
        assert!(!sdk.inject_headers(None, no).is_empty());
        assert!(
            sdk.inject_headers(Some("https://other.example/"), no)
                .is_empty()
        );
        sdk.exit(d);
    }

    #[test]
    fn xray_header_names_the_same_span_where_traceparent_goes() {
        let mut sdk = sdk_with(SdkConfig {
            xray_header: true,
            ..SdkConfig::default()
        });
        let no = |_: &str| false;
        let header = |h: &HeaderList, name: &str| h.get(name).map(str::to_owned);
        for flags in [TraceFlags::SAMPLED, TraceFlags::default()] {
            let parent = SpanContext::new(
                TraceId::from_bytes([0x58; 16]),
                SpanId::from_bytes([0x0f; 8]),
                flags,
                true,
                TraceState::default(),
            );
            let d = sdk.enter(Parent::Context(parent));
            let req = sdk.http_start("GET", "https://shop.example/api", false);
            sdk.exit(d);
            let ctx = sdk.span_context(req).unwrap().clone();
            let h = sdk.http_headers(req, "https://shop.example/api", no);
            let sampled = if flags.is_sampled() { 1 } else { 0 };
            assert_eq!(
                header(&h, "x-amzn-trace-id"),
                Some(format!(
                    "Root=1-58585858-585858585858585858585858;Parent={:016x};Sampled={sampled}",
                    ctx.span_id()
                ))
            );
            let tp = header(&h, "traceparent").unwrap();
            assert!(tp.contains(&format!("-{:016x}-", ctx.span_id())), "{tp}");
            assert_eq!(h.keys(), vec!["traceparent", XRAY_HEADER]);
            assert!(
                sdk.http_headers(req, "https://other.example/x", no)
                    .is_empty(),
                "neither header to an origin that is not allowed"
            );
        }
        let mut plain = sdk_with(SdkConfig::default());
        let req = plain.http_start("GET", "https://shop.example/api", false);
        let h = plain.http_headers(req, "https://shop.example/api", no);
        assert_eq!(h.keys(), vec!["traceparent"], "off by default");
    }

    #[test]
    fn automatic_spans_hold_a_scope_until_they_end() {
        let mut sdk = sdk();
        let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned();
        let load = sdk.document_load_start(&["garbage".to_owned(), tp], 1_700_000_000_000.0);
        assert_eq!(sdk.active_span(), load, "work during the load is under it");
        let ctx = sdk.span_context(load).unwrap().clone();
        assert_eq!(
            format!("{:032x}", ctx.trace_id()),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        let timing = vec![0.0; crate::web::page::NAVIGATION_TIMING_EVENTS.len()];
        let ended = sdk
            .document_load_end(load, &timing, 1_700_000_000_000.0, 200.0)
            .unwrap();
        assert_eq!(ended.data.name, DOCUMENT_LOAD_SPAN_NAME);
        assert_eq!(ended.data.start_time_unix_nano, T0);
        assert_eq!(sdk.active_span(), 0, "its scope closed");

        let click = sdk.interaction_start("click".to_owned(), "BUTTON", "//button[1]");
        assert_eq!(sdk.active_span(), click);
        let fetch = sdk.http_start("GET", "https://shop.example/x", false);
        assert_eq!(
            sdk.span_context(fetch).unwrap().trace_id(),
            sdk.span_context(click).unwrap().trace_id()
        );
        let ended = sdk.interaction_end(click).unwrap();
        assert_eq!(ended.data.name, "click");
        assert_eq!(sdk.active_span(), 0);
    }

    #[test]
    fn errors_link_to_the_hint_or_active_span_and_mark_it() {
        let mut sdk = sdk();
        assert!(sdk.error_span(0).is_none());
        let work = sdk.start_span(SpanStart::named("work"));
        let other = sdk.start_span(SpanStart::named("other"));
        let d = sdk.enter(Parent::Span(other));
        assert_eq!(sdk.error_span(work).unwrap().0, work, "the hint wins");
        assert_eq!(sdk.error_span(0).unwrap().0, other, "else the active span");
        sdk.exit(d);
        sdk.mark_error(
            work,
            ErrorMark {
                time: T0,
                message: false,
                class: "TypeError".to_owned(),
                text: "boom".to_owned(),
                stack: String::new(),
                uuid: "u-1".to_owned(),
            },
        );
        let data = sdk.end(work, None).unwrap().data;
        assert_eq!(data.events[0].name, EXCEPTION_EVENT_NAME);
        assert_eq!(data.status, Status::error("boom"));
        assert_eq!(
            attr(&data, ITEM_UUID_ATTRIBUTE).map(|v| v.as_str().into_owned()),
            Some("u-1".to_owned())
        );
        // A message: a `message` event and no ERROR status.
        let e = sdk.start_error_span();
        sdk.mark_error(
            e,
            ErrorMark {
                time: T0,
                message: true,
                class: String::new(),
                text: "hello".to_owned(),
                stack: String::new(),
                uuid: "u-2".to_owned(),
            },
        );
        let data = sdk.end(e, None).unwrap().data;
        assert_eq!(data.name, ERROR_SPAN_NAME);
        assert_eq!(data.events[0].name, "message");
        assert_eq!(data.status, Status::Unset);
        // A discarded span is gone without being exported.
        let gone = sdk.start_error_span();
        sdk.discard(gone);
        assert!(sdk.end(gone, None).is_none());
    }

    #[test]
    fn the_session_is_kept_renewed_and_reported_for_storage() {
        let clock = ManualClock::new(T0);
        let mut sdk: TestSdk = Sdk::new(
            SdkConfig {
                session_inactivity_millis: 1000,
                ..SdkConfig::default()
            },
            RandomIdGenerator::new([5; 32]),
            clock,
            None,
            None,
        );
        let stored = sdk.take_session_update().expect("a new session is stored");
        assert!(sdk.take_session_update().is_none());
        let first = sdk.start_span(SpanStart::named("a"));
        let id = |sdk: &mut TestSdk, h| {
            let data = sdk.end(h, None).unwrap().data;
            attr(&data, SESSION_ID_ATTRIBUTE)
                .unwrap()
                .as_str()
                .into_owned()
        };
        let first_id = id(&mut sdk, first);
        assert!(stored.contains(&first_id));
        // A page reload continues the stored session.
        let mut again: TestSdk = Sdk::new(
            SdkConfig::default(),
            RandomIdGenerator::new([6; 32]),
            ManualClock::new(T0 + 1_000_000),
            None,
            Some(&stored),
        );
        let h = again.start_span(SpanStart::named("b"));
        assert_eq!(id(&mut again, h), first_id);
        // Past the inactivity timeout a new session starts and must be stored.
        sdk.clock.advance(2_000_000_000);
        let late = sdk.start_span(SpanStart::named("c"));
        let late_id = id(&mut sdk, late);
        assert_ne!(late_id, first_id);
        assert!(sdk.take_session_update().unwrap().contains(&late_id));
    }

    fn encoder() -> OtlpEncoder {
        OtlpEncoder::new(&[], "edge-telemetry", "0", crate::export::otlp::push_f64)
    }

    fn with_channels(debug: bool) -> TestSdk {
        let mut sdk = sdk_with(SdkConfig {
            debug,
            ..SdkConfig::default()
        });
        let export = ExportConfig::default();
        sdk.set_span_channel(span_channel(
            &export,
            encoder(),
            "https://collector.example/v1/traces".to_owned(),
            vec![("x-honeycomb-team".to_owned(), "key".to_owned())],
        ));
        sdk.set_item_channel(item_channel(
            &export,
            "https://api.rollbar.com/api/1/item/".to_owned(),
            Some("token"),
        ));
        sdk.set_log_channel(log_channel(
            &export,
            LogsEncoder::new(&[], "edge-telemetry", "0", crate::export::otlp::push_f64),
            "https://collector.example/v1/logs".to_owned(),
            Vec::new(),
        ));
        sdk
    }

    #[test]
    fn logs_carry_the_active_span_and_share_the_channel_machinery() {
        let mut sdk = with_channels(true);
        let root = sdk.start_span(SpanStart::named("checkout"));
        let depth = sdk.enter(Parent::Span(root));
        let long = "x".repeat(MAX_LOG_BODY_CHARS + 10);
        let (arm, _) = sdk.log(
            Severity::Warn,
            Value::from("GET https://shop.example/pay?card=4111 failed"),
            vec![KeyValue::new("order", 7i64)],
            None,
        );
        assert!(arm.is_some(), "the first record arms the timer");
        sdk.exit(depth);
        sdk.log(Severity::Info, Value::from(long), Vec::new(), Some(T0 - 5));
        assert_eq!((sdk.stats.logs_queued, sdk.stats.logs_truncated), (2, 1));
        sdk.flush(ChannelKind::Logs).unwrap();
        let (requests, note) = sdk.take(ChannelKind::Logs, false);
        assert!(note.unwrap().contains("exporting 2 log record(s)"));
        let body = &requests[0].body;
        let cx = sdk.span_context(root).unwrap().clone();
        let mut trace = String::new();
        crate::propagation::write_hex(&mut trace, &cx.trace_id().to_bytes());
        assert_eq!(
            body.matches(&*trace).count(),
            1,
            "only the first is under the span: {body}"
        );
        assert!(
            body.contains("card=REDACTED"),
            "query values scrubbed: {body}"
        );
        assert!(!body.contains("4111"));
        assert!(body.contains(r#""severityNumber":13,"severityText":"WARN""#));
        assert!(body.contains(SESSION_ID_ATTRIBUTE));
        assert!(body.contains(&crate::cat!("\"timeUnixNano\":\"", T0 - 5, "\"")));
        let answer = r#"{"partialSuccess":{"rejectedLogRecords":"1","errorMessage":"too big"}}"#;
        let (_, note) = sdk.attempt(
            ChannelKind::Logs,
            requests[0].id,
            200,
            None,
            Some(answer),
            0.5,
        );
        assert!(note.unwrap().contains("2 log record(s) but rejected 1"));
        assert_eq!((sdk.stats.logs_exported, sdk.stats.logs_rejected), (1, 1));
        // A full queue drops and counts, with a debug note on the first drop.
        let max = ExportConfig::default().batch.max_queue_size;
        for _ in 0..max {
            sdk.log(Severity::Debug, Value::from("fill"), Vec::new(), None);
        }
        let (arm, note) = sdk.log(Severity::Debug, Value::from("over"), Vec::new(), None);
        assert_eq!(arm, None);
        assert!(note.unwrap().contains("1 log record(s) dropped so far"));
        assert_eq!(sdk.stats.logs_dropped, 1);
        // The page-hide path: bodies under the keepalive budget.
        let mut hidden = Vec::new();
        loop {
            let (requests, _) = sdk.take(ChannelKind::Logs, true);
            if requests.is_empty() {
                break;
            }
            hidden.extend(requests);
        }
        assert!(hidden.len() > 4);
        assert!(
            hidden
                .iter()
                .all(|r| r.body.len() <= crate::export::channel::HIDDEN_MAX_BODY_BYTES)
        );
        assert_eq!(hidden.iter().map(|r| r.items).sum::<u32>(), max);
    }

    #[test]
    fn one_channel_abstraction_for_spans_items_and_logs() {
        let mut sdk = with_channels(true);
        assert_eq!(sdk.channels(), ChannelKind::ALL);
        let spans = sdk.channel_settings(ChannelKind::Spans).unwrap();
        assert_eq!(spans.url, "https://collector.example/v1/traces");
        assert!(spans.gzip);
        let items = sdk.channel_settings(ChannelKind::Items).unwrap();
        assert_eq!(
            items.headers[1],
            (ACCESS_TOKEN_HEADER.to_owned(), "token".to_owned())
        );
        assert_eq!(
            items.timeout_millis,
            ExportConfig::default().batch.export_timeout_millis
        );
        assert!(!items.gzip);

        // A span: queued, due after the scheduled delay, sent, acknowledged with a partial
        // success.
        let h = sdk.start_span(SpanStart::named("checkout"));
        let ended = sdk.end(h, None).unwrap();
        let (arm, note) = sdk.queue_span(ended.data, ended.now_ms);
        assert_eq!(
            arm,
            Some(u64::from(
                ExportConfig::default().batch.scheduled_delay_millis
            ))
        );
        assert!(note.is_none());
        assert!(
            sdk.take(ChannelKind::Spans, false).0.is_empty(),
            "not due yet"
        );
        let flush = sdk.flush(ChannelKind::Spans).unwrap();
        assert_eq!(sdk.flush_result(ChannelKind::Spans, flush), None);
        let (requests, note) = sdk.take(ChannelKind::Spans, false);
        assert_eq!(requests.len(), 1);
        assert!(requests[0].body.contains("checkout"));
        assert!(note.unwrap().contains("exporting 1 span(s)"));
        let id = requests[0].id;
        let (retry, _) = sdk.attempt(ChannelKind::Spans, id, 503, None, None, 0.5);
        assert_eq!(retry, Next::Retry(1000), "503 is retried");
        let body = r#"{"partialSuccess":{"rejectedSpans":"1","errorMessage":"bad"}}"#;
        let (done, note) = sdk.attempt(ChannelKind::Spans, id, 200, None, Some(body), 0.5);
        assert_eq!(done, Next::Done);
        assert!(note.unwrap().contains("rejected 1: bad"));
        assert_eq!(sdk.flush_result(ChannelKind::Spans, flush), Some(true));
        assert_eq!(
            (
                sdk.stats.spans_exported,
                sdk.stats.spans_rejected,
                sdk.stats.export_requests,
                sdk.stats.export_retries
            ),
            (0, 1, 2, 1)
        );

        // An item: sent at once, one per request; a 429 pauses the channel and drops what
        // comes meanwhile.
        assert_eq!(sdk.queue_item("{\"a\":1}".to_owned(), 0), Ok(Some(0)));
        let (requests, _) = sdk.take(ChannelKind::Items, false);
        assert_eq!(requests[0].body, "{\"a\":1}");
        let (done, note) = sdk.attempt(
            ChannelKind::Items,
            requests[0].id,
            429,
            Some("60"),
            None,
            0.5,
        );
        assert_eq!(done, Next::Done);
        assert!(note.unwrap().contains("429"));
        assert_eq!(
            sdk.queue_item("{}".to_owned(), T0 / 1_000_000),
            Err(ItemDrop::Paused)
        );
        assert_eq!((sdk.stats.items_failed, sdk.stats.items_dropped), (1, 1));
        // Unknown ids are ignored.
        assert_eq!(
            sdk.attempt(ChannelKind::Items, 9999, 200, None, None, 0.5),
            (Next::Done, None)
        );
    }

    #[test]
    fn channels_off_and_the_last_gasp() {
        let mut off = sdk();
        assert!(off.channels().is_empty());
        assert_eq!(off.queue_item("{}".to_owned(), 0), Err(ItemDrop::Off));
        let h = off.start_span(SpanStart::named("x"));
        let e = off.end(h, None).unwrap();
        assert_eq!(off.queue_span(e.data, e.now_ms), (None, None));
        assert_eq!(off.flush(ChannelKind::Spans), None);
        assert_eq!(off.flush_result(ChannelKind::Spans, 1), Some(true));

        let mut sdk = with_channels(false);
        for i in 0..3 {
            let h = sdk.start_span(SpanStart::named(format!("s{i}")));
            let e = sdk.end(h, None).unwrap();
            sdk.queue_span(e.data, e.now_ms);
        }
        sdk.queue_item("{\"item\":1}".to_owned(), T0 / 1_000_000)
            .unwrap();
        let out = sdk.drain();
        assert_eq!(
            out[0],
            (ChannelKind::Items, "{\"item\":1}".to_owned()),
            "items first"
        );
        assert_eq!(out.len(), 2, "the three spans in one body");
        assert_eq!(out[1].0, ChannelKind::Spans);
        assert!(out[1].1.contains("s0") && out[1].1.contains("s2"));
        assert!(sdk.drain().is_empty());
    }

    #[test]
    fn a_request_starts_ends_and_releases_its_scope() {
        let mut sdk = sdk();
        let click = sdk.start_span(SpanStart::named("click"));
        let d = sdk.enter(Parent::Span(click));
        let (h, headers) =
            sdk.request_start("GET", "https://shop.example/api", false, true, |_| false);
        sdk.exit(d);
        assert!(headers.iter().any(|(k, _)| k == "traceparent"));
        // The page's callbacks on this request still see the click as active.
        assert_eq!(sdk.active_span(), click);
        // The page set its own traceparent: no headers, the span is still made.
        let (own, none) =
            sdk.request_start("GET", "https://shop.example/x", true, false, |_| false);
        assert!(none.is_empty());
        assert!(sdk.is_recording(own));
        let ended = sdk
            .request_end(h, &HttpOutcome::Response(200), Some(T0 + 5), 1)
            .unwrap();
        assert_eq!(ended.data.end_time_unix_nano, T0 + 5);
        assert_eq!(
            ended.data.parent_span_id,
            sdk.span_context(click).unwrap().span_id()
        );
        assert_eq!(sdk.active_span(), click, "kept for the page's callbacks");
        assert!(sdk.requests_to_release());
        sdk.release_requests(1);
        assert_eq!(
            sdk.active_span(),
            click,
            "still the task it ended in (epoch 1)"
        );
        sdk.release_requests(2);
        assert_eq!(
            sdk.active_span(),
            click,
            "the other request's scope still holds it"
        );
        assert!(
            sdk.request_end(own, &HttpOutcome::Aborted, None, 2)
                .is_some()
        );
        assert_eq!(sdk.active_span(), click, "not before a later task");
        sdk.release_requests(3);
        assert!(!sdk.requests_to_release());
        assert_eq!(sdk.active_span(), 0, "both scopes closed");
        assert_eq!((sdk.stats.fetch_requests, sdk.stats.xhr_requests), (1, 1));
        // Requests that never settle do not keep scopes forever.
        let d = sdk.enter(Parent::Span(click));
        for _ in 0..MAX_REQUEST_SCOPES + 3 {
            sdk.request_start("GET", "https://shop.example/hang", false, false, |_| false);
        }
        sdk.exit(d);
        assert_eq!(sdk.request_scopes.len(), MAX_REQUEST_SCOPES);
        assert!(sdk.stats.async_scopes_forgotten >= 3);
    }

    fn reporter() -> Reporter {
        let cfg = crate::config::RollbarConfig {
            ignored_messages: vec!["ResizeObserver".to_owned()],
            items_per_minute: 2,
            honeycomb_team: Some("team".to_owned()),
            honeycomb_environment: Some("dev".to_owned()),
            ..crate::config::RollbarConfig::default()
        };
        Reporter::new(
            &cfg,
            crate::errors::capture::ItemExtras::default(),
            "shop-web",
            Some("staging"),
            Some("1.2.3"),
            Some("UA".to_owned()),
        )
    }

    fn raw(message: &str) -> RawError {
        RawError {
            class: "TypeError".to_owned(),
            message: message.to_owned(),
            stack: format!(
                "TypeError: {message}\n    at pay (https://shop.example/app.js?token=abc:10:5)"
            ),
        }
    }

    /// Captures an error under `hint` and has `reporter` encode its item, as the page does
    /// with the two modules.
    fn capture(
        sdk: &mut TestSdk,
        reporter: &mut Reporter,
        source: Source,
        message: &str,
        hint: SpanHandle,
        uuid: &str,
    ) -> (ErrorLink, Result<String, NotAdmitted>) {
        let (link, released) = sdk.capture_error(
            source == Source::Message,
            raw(message),
            hint,
            uuid.to_owned(),
        );
        assert!(released.is_none());
        let link = link.expect("reporting is on");
        let report = ErrorReport {
            uuid: link.uuid.clone(),
            source,
            level: None,
            chain: vec![raw(message)],
            custom: Json::Null,
            page_url: Some("https://shop.example/cart?id=7".to_owned()),
            now_ms: link.now_ms,
            trace: link.trace.clone(),
            telemetry: None,
        };
        let item = reporter.encode(
            report,
            &|m: &str| m.contains("by-regex"),
            crate::export::otlp::push_f64,
        );
        (link, item)
    }

    fn uuids_on(data: &SpanData) -> usize {
        data.attributes
            .iter()
            .filter(|kv| kv.key.as_str() == ITEM_UUID_ATTRIBUTE)
            .count()
    }

    #[test]
    fn errors_become_items_linked_to_their_span() {
        let mut sdk = with_channels(false);
        let mut reporter = reporter();
        let work = sdk.start_span(SpanStart::named("work"));
        let (link, item) = capture(
            &mut sdk,
            &mut reporter,
            Source::Uncaught,
            "boom",
            work,
            "u-1",
        );
        let body = item.unwrap();
        let ctx = sdk.span_context(work).unwrap().clone();
        assert_eq!(
            link.trace,
            Some((
                format!("{:032x}", ctx.trace_id()),
                format!("{:016x}", ctx.span_id())
            ))
        );
        assert!(body.contains(&format!("{:032x}", ctx.trace_id())), "{body}");
        assert!(body.contains(&format!("{:016x}", ctx.span_id())));
        assert!(body.contains("\"environment\":\"staging\""));
        assert!(
            body.contains("ui.honeycomb.io/team/environments/dev"),
            "the trace link: {body}"
        );
        assert!(
            !body.contains("token=abc"),
            "query values in stacks are scrubbed"
        );
        assert!(body.contains("id=REDACTED"), "and in the page URL");
        // Marked only once queued.
        let (queued, ended) = sdk.queue_captured("u-1", body);
        assert_eq!(queued, Ok(Some(0)));
        assert!(ended.is_none(), "the page's own span is not ended");
        let data = sdk.end(work, None).unwrap().data;
        assert_eq!(uuids_on(&data), 1);
        let stack = data.events[0]
            .attributes
            .iter()
            .find(|kv| kv.key.as_str() == "exception.stacktrace")
            .map(|kv| kv.value.as_str().into_owned())
            .unwrap();
        assert!(!stack.contains("token=abc"), "{stack}");

        // With no span, a root span `exception` is started and ended when the item is queued.
        let (link, item) = capture(&mut sdk, &mut reporter, Source::Manual, "alone", 0, "u-2");
        assert!(link.trace.is_some());
        let (_, ended) = sdk.queue_captured("u-2", item.unwrap());
        let ended = ended.unwrap().data;
        assert_eq!(ended.name, ERROR_SPAN_NAME);
        assert_eq!(uuids_on(&ended), 1);
        // Reporting off: nothing is captured.
        let mut off = sdk_with(SdkConfig::default());
        assert!(
            off.capture_error(false, raw("x"), 0, "u".to_owned())
                .0
                .is_none()
        );
    }

    #[test]
    fn a_span_that_ends_while_its_mark_waits_is_held_until_the_item_is_settled() {
        let mut sdk = with_channels(false);
        let mut reporter = reporter();
        let work = sdk.start_span(SpanStart::named("work"));
        let (link, item) = capture(
            &mut sdk,
            &mut reporter,
            Source::Uncaught,
            "early",
            work,
            "u-1",
        );
        sdk.clock.advance(5_000_000);
        assert!(
            sdk.end(work, None).is_none(),
            "held while the item is encoded"
        );
        let (queued, ended) = sdk.queue_captured("u-1", item.unwrap());
        assert!(queued.is_ok());
        let data = ended.expect("delivered once queued").data;
        assert_eq!(uuids_on(&data), 1, "marked");
        assert_eq!(
            data.events[0].time_unix_nano / 1_000_000,
            link.now_ms,
            "the event is at the time of the error"
        );
        // Two errors under one span: held until both are settled; a refused one leaves no mark.
        let work = sdk.start_span(SpanStart::named("twice"));
        let (a, _) = sdk.capture_error(false, raw("a"), work, "a".to_owned());
        let (b, _) = sdk.capture_error(false, raw("b"), work, "b".to_owned());
        assert!(a.is_some() && b.is_some());
        assert!(sdk.end(work, None).is_none());
        assert!(
            sdk.not_sent(NotSent::Duplicate, Some("a")).0.is_none(),
            "b still waits"
        );
        assert_eq!(sdk.stats.items_deduplicated, 1);
        let (_, ended) = sdk.queue_captured("b", "{}".to_owned());
        assert_eq!(uuids_on(&ended.unwrap().data), 1, "only b's mark");
        // Past the limit, the oldest mark is given up and its span released unmarked.
        let spans: Vec<SpanHandle> = (0..=MAX_PENDING_MARKS)
            .map(|i| sdk.start_span(SpanStart::named(format!("s{i}"))))
            .collect();
        let first = spans[0];
        let mut released = None;
        for (i, h) in spans.iter().enumerate() {
            if i == 1 {
                assert!(sdk.end(first, None).is_none());
            }
            released = sdk.capture_error(false, raw("x"), *h, format!("x{i}")).1;
        }
        assert_eq!(uuids_on(&released.expect("the first span").data), 0);
        // Deferred to a later page: marked now, and a held span is let go.
        let later = sdk.start_span(SpanStart::named("later"));
        sdk.capture_error(false, raw("kept"), later, "k".to_owned());
        assert!(sdk.end(later, None).is_none());
        assert_eq!(uuids_on(&sdk.defer("k").unwrap().data), 1);
        // A panic's last gasp takes the held spans and the root spans started for waiting
        // errors, unmarked (x1 was given up for "k").
        assert!(sdk.end(spans[2], None).is_none());
        sdk.capture_error(false, raw("alone"), 0, "root".to_owned());
        let drained = sdk.drain();
        let spans_out: String = drained
            .iter()
            .filter(|(k, _)| *k == ChannelKind::Spans)
            .map(|(_, b)| b.as_str())
            .collect();
        assert!(spans_out.contains("\"name\":\"s2\""), "{spans_out}");
        assert!(spans_out.contains(&format!("\"name\":\"{ERROR_SPAN_NAME}\"")));
        assert!(sdk.pending.is_empty());
    }

    #[test]
    fn refusals_and_hooks_are_counted() {
        let mut sdk = with_channels(false);
        let mut reporter = reporter();
        let mut refused = |sdk: &mut TestSdk, m: &str, u: &str| {
            let (_, item) = capture(sdk, &mut reporter, Source::Manual, m, 0, u);
            let why = item.err()?;
            assert!(sdk.not_sent(why.into(), Some(u)).0.is_none());
            Some(why)
        };
        assert_eq!(
            refused(&mut sdk, "ResizeObserver loop", "a"),
            Some(NotAdmitted::Ignored)
        );
        assert_eq!(
            refused(&mut sdk, "x by-regex", "b"),
            Some(NotAdmitted::Ignored)
        );
        assert_eq!(sdk.stats.items_ignored, 2);
        assert_eq!(refused(&mut sdk, "one", "c"), None);
        assert_eq!(refused(&mut sdk, "one", "d"), Some(NotAdmitted::Duplicate));
        assert_eq!(sdk.stats.items_deduplicated, 1);
        assert_eq!(refused(&mut sdk, "two", "e"), None);
        assert_eq!(
            refused(&mut sdk, "three", "f"),
            Some(NotAdmitted::PerMinute),
            "itemsPerMinute 2"
        );
        assert_eq!(sdk.stats.items_dropped, 1);

        // beforeSend: a dropped item leaves its span alone and discards the root span
        // started for it.
        let (link, _) = sdk.capture_error(true, raw("hello"), 0, "m-1".to_owned());
        assert!(link.is_some());
        let handle = sdk.pending.last().unwrap().handle;
        assert!(sdk.not_sent(NotSent::Dropped, Some("m-1")).0.is_none());
        assert_eq!(sdk.stats.items_dropped, 2);
        assert!(
            sdk.end(handle, None).is_none(),
            "the root span was discarded, not exported"
        );
        sdk.not_sent(NotSent::Raised, Some("unknown"));
        assert_eq!(sdk.stats.reporting_errors, 1);
        for (_, why) in NotSent::ALL {
            assert_eq!(NotSent::from_code(why as u32), why);
        }
        for (_, source) in Source::ALL {
            assert_eq!(Source::from_code(source as u32), source);
        }
        assert_eq!(NotSent::from_code(99), NotSent::Raised);
        // Too large after beforeSend.
        let (queued, _) = sdk.queue_captured("none", "x".repeat(MAX_ITEM_BYTES + 1));
        assert_eq!(queued, Err(ItemDrop::TooLarge));
        // The trap item is ready to send as it is: no timestamp (Rollbar takes its arrival).
        let trap = reporter.trap_item("t-1".to_owned(), crate::export::otlp::push_f64);
        assert!(
            trap.contains("\"t-1\"")
                && trap.contains("RuntimeError")
                && !trap.contains("\"timestamp\"")
        );
    }
}
