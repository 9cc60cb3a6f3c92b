//! Errors to Rollbar, wasm side: which errors become items (`ignoredMessages`,
//! de-duplication, `itemsPerMinute`, `maxItems`), the item itself, its link to the active
//! span both ways, the item queue, and the panic hook. `errors.js` listens for errors and
//! moves the bytes with the export transport. Policy is in core (`item_limits`, `rollbar`,
//! `stack`, `batch`, `retry`).

use std::cell::{Cell, RefCell};

use edge_telemetry_core::config::RollbarConfig;
use edge_telemetry_core::errors::item_limits::{
    ItemLimiter, Refusal, error_fingerprint, innermost_frame_key, is_ignored,
};
use edge_telemetry_core::errors::rollbar::{
    Body, DEFAULT_ENDPOINT, Exception, Item, Json, Level, MAX_ITEM_BYTES, Scrubber,
    encode_item_with, format_uuid_v4, merge_custom,
};
use edge_telemetry_core::errors::stack::{StackFrame, parse_stack};
use edge_telemetry_core::export::exporter::honeycomb_trace_url;
use edge_telemetry_core::trace::table::SpanHandle;
use edge_telemetry_core::web::url::scrub_urls_in_text;
use js_sys::{Array, Function, Object, Reflect, RegExp};
use opentelemetry::trace::SpanContext;
use wasm_bindgen::prelude::*;

use crate::api::{deliver, with_engine};
use crate::convert::{self, hex, regex_matches};
use crate::export::{Channel, js_f64};
use crate::platform::{debug_log, now_millis, random_seed};
use crate::state::{self, count, with_sdk};
use edge_telemetry_core::sdk::{ErrorMark, ItemDrop};

/// `framework` when the app names none (rollbar.js's default).
pub const DEFAULT_FRAMEWORK: &str = "browser-js";

/// What an error came from (the `kind` argument of `errorCapture`), as JS names it
/// (`Source.Manual`, …).
#[wasm_bindgen]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// `captureException`.
    Manual = 0,
    /// `captureMessage`.
    Message = 1,
    /// A window `error` event.
    Uncaught = 2,
    /// An `unhandledrejection` event.
    Rejection = 3,
    /// A render error caught by the React `ErrorBoundary`.
    React = 4,
    /// A Rust panic (the SDK's own, or an app's through `reportPanic`).
    Panic = 5,
}

impl Source {
    fn default_level(self) -> Level {
        match self {
            Self::Message => Level::Info,
            Self::Panic => Level::Critical,
            _ => Level::Error,
        }
    }
}

/// The page's error reporter. Its `Debug` output names the headers, never their values.
pub struct Reporter {
    /// Scrubs sensitive fields.
    pub scrubber: Scrubber,
    /// Rate limits and de-duplication.
    pub limiter: ItemLimiter,
    /// String rules of `ignoredMessages`.
    pub ignored: Vec<String>,
    /// RegExp rules of `ignoredMessages`.
    pub ignored_regexes: Vec<RegExp>,
    /// The fields every item shares (body, uuid and time are replaced per item).
    pub template: Item,
    /// Honeycomb team, environment and dataset (the service name) for trace links, when
    /// configured.
    pub trace_link: Option<(String, String, String)>,
    /// Span marks of items `beforeSend` is looking at.
    pub pending: Vec<PendingMark>,
}

impl std::fmt::Debug for Reporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reporter")
            .field("ignored", &self.ignored.len())
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl Reporter {
    /// A reporter for `cfg` (its items go through the engine's item channel).
    pub fn new(
        cfg: &RollbarConfig,
        extras: convert::RollbarExtras,
        service_name: &str,
        sdk_environment: Option<&str>,
        service_version: Option<&str>,
        user_agent: Option<String>,
    ) -> Self {
        let mut scrub: Vec<&str> =
            edge_telemetry_core::errors::rollbar::DEFAULT_SCRUB_FIELDS.to_vec();
        scrub.extend(cfg.scrub_fields.iter().map(String::as_str));
        let mut template = Item::new(
            String::new(),
            Level::Error,
            0,
            cfg.environment
                .clone()
                .or_else(|| sdk_environment.map(str::to_owned))
                .unwrap_or_else(|| "production".to_owned()),
            Body::Message(String::new()),
            edge_telemetry_core::resource::SDK_VERSION.to_owned(),
        );
        template.context = cfg.context.clone();
        template.capture_ip = cfg.capture_ip;
        template.person = extras.person;
        template.custom = extras.custom;
        template.framework = Some(
            cfg.framework
                .clone()
                .unwrap_or_else(|| DEFAULT_FRAMEWORK.to_owned()),
        );
        template.browser = user_agent;
        template.code_version = cfg
            .code_version
            .clone()
            .or_else(|| service_version.map(str::to_owned));
        template.source_map_enabled = cfg.source_map_enabled;
        template.guess_uncaught_frames = cfg.guess_uncaught_frames;
        let trace_link = match (&cfg.honeycomb_team, &cfg.honeycomb_environment) {
            (Some(team), Some(env)) => Some((team.clone(), env.clone(), service_name.to_owned())),
            _ => None,
        };
        Self {
            scrubber: Scrubber::new(&scrub),
            limiter: ItemLimiter::new(cfg.items_per_minute, cfg.max_items),
            ignored: cfg.ignored_messages.clone(),
            ignored_regexes: extras.ignored_regexes,
            template,
            trace_link,
            pending: Vec::new(),
        }
    }
}

/// The item URL: `endpoint` resolved against the page (a relay path like `/rollbar` works).
pub fn item_url(endpoint: Option<&str>, page: Option<&str>) -> Option<String> {
    let endpoint = endpoint.unwrap_or(DEFAULT_ENDPOINT);
    match page {
        Some(base) => web_sys::Url::new_with_base(endpoint, base),
        None => web_sys::Url::new(endpoint),
    }
    .ok()
    .filter(|u| matches!(u.protocol().as_str(), "http:" | "https:"))
    .map(|u| u.href())
}

fn debug(msg: impl FnOnce() -> String) {
    if state::debug_enabled() {
        debug_log(&msg());
    }
}

/// One error of a cause chain, as `errors.js` read it.
struct RawError {
    class: String,
    message: String,
    stack: String,
}

/// Reads `[class, message, stack, class, message, stack, ...]`.
/// The error and its causes, as `errors.js` read them: Error-shaped plain objects
/// `{name, message, stack}` (strings), outermost first.
fn read_chain(chain: &JsValue) -> Vec<RawError> {
    convert::array_items(chain)
        .unwrap_or_default()
        .iter()
        .map(|e| {
            let text = |k: &str| {
                Reflect::get(e, &JsValue::from_str(k))
                    .ok()
                    .and_then(|v| v.as_string())
                    .unwrap_or_default()
            };
            RawError {
                class: text("name"),
                message: text("message"),
                stack: text("stack"),
            }
        })
        .collect()
}

fn uuid() -> String {
    let seed = random_seed();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&seed[..16]);
    format_uuid_v4(bytes)
}

/// The span an error belongs to: `hint` (the span it was thrown under, tagged by
/// `withSpan`), else the active span. `None`: none; a root span is started for it.
fn error_span(hint: SpanHandle) -> Option<(SpanHandle, SpanContext)> {
    with_sdk(|sdk| sdk.engine.error_span(hint)).flatten()
}

/// The span an item is linked to, marked only once the item is queued.
#[derive(Debug)]
pub struct PendingMark {
    uuid: String,
    handle: SpanHandle,
    /// A root span started for this error (ended when marked, discarded otherwise).
    created: bool,
    message: bool,
    class: String,
    text: String,
    stack: String,
}

/// What `capture` decided.
enum Captured {
    /// Not reported (counted).
    Refused,
    /// The encoded item and the span mark to apply once it is queued.
    Item { body: String, mark: PendingMark },
}

fn ignored(r: &Reporter, message: &str) -> bool {
    is_ignored(message, &r.ignored)
        || r.ignored_regexes
            .iter()
            .any(|re| regex_matches(re, message))
}

/// Runs the filters (ignoredMessages, de-duplication, limits) on an error; counts a refusal.
fn admit(first: &RawError, frames: &[StackFrame], now: u64) -> bool {
    let verdict = with_sdk(|sdk| {
        let r = sdk.reporter.as_mut()?;
        if ignored(r, &first.message) {
            return Some(Err(None));
        }
        let fp = error_fingerprint(&first.class, &first.message, &innermost_frame_key(frames));
        Some(r.limiter.admit(fp, now).map_err(Some))
    })
    .flatten();
    match verdict {
        None => false,
        Some(Ok(())) => true,
        Some(Err(None)) => {
            count(|s| s.items_ignored += 1);
            debug(|| "edge-telemetry: error ignored (rollbar.ignoredMessages)".to_owned());
            false
        }
        Some(Err(Some(Refusal::Duplicate))) => {
            count(|s| s.items_deduplicated += 1);
            false
        }
        Some(Err(Some(why))) => {
            count(|s| s.items_dropped += 1);
            debug(|| {
                let limit = if why == Refusal::MaxItems {
                    "rollbar.maxItems"
                } else {
                    "rollbar.itemsPerMinute"
                };
                let dropped = state::stats().items_dropped;
                format!("edge-telemetry: error item dropped ({limit}); {dropped} dropped so far")
            });
            false
        }
    }
}

/// Builds the item for an error, linked to its span (see [`error_span`]; a root span is
/// started when there is none). `custom`: the call's extra data (already converted).
fn capture(
    source: Source,
    level: Option<Level>,
    mut chain: Vec<RawError>,
    custom: Json,
    hint: SpanHandle,
) -> Captured {
    // Script URLs in stacks may carry tokens in their query, as the page URL may.
    for e in &mut chain {
        if e.stack.contains('?') {
            e.stack = scrub_urls_in_text(&e.stack);
        }
    }
    let Some(first) = chain.first() else {
        return Captured::Refused;
    };
    let now = now_millis();
    let mut frames: Vec<Vec<StackFrame>> = Vec::with_capacity(chain.len());
    frames.push(parse_stack(&first.stack));
    if !admit(first, &frames[0], now) {
        return Captured::Refused;
    }
    frames.extend(chain[1..].iter().map(|e| parse_stack(&e.stack)));

    let uuid = uuid();
    let (handle, context, created) = match error_span(hint) {
        Some((h, c)) => (h, c, false),
        None => {
            let started = with_engine(|e| {
                let h = e.start_error_span();
                (h, e.span_context(h).cloned())
            });
            match started {
                Some((h, Some(c))) => (h, c, true),
                _ => (0, SpanContext::empty_context(), false),
            }
        }
    };

    let body = if source == Source::Message {
        Body::Message(first.message.clone())
    } else {
        let mut exceptions: Vec<Exception> = chain
            .iter()
            .zip(frames)
            .map(|(e, frames)| Exception {
                class: e.class.clone(),
                message: e.message.clone(),
                frames,
            })
            .collect();
        if exceptions.len() == 1 {
            Body::Trace(exceptions.remove(0))
        } else {
            Body::TraceChain(exceptions)
        }
    };
    let valid = context.is_valid();
    let page = crate::api::current_page_url();
    let encoded = with_sdk(|sdk| {
        let r = sdk.reporter.as_ref()?;
        let mut item = r.template.clone();
        item.uuid = uuid.clone();
        item.level = level.unwrap_or(source.default_level());
        item.timestamp_secs = now / 1000;
        item.body = body;
        item.request_url = page;
        item.custom = merge_custom(r.template.custom.as_ref(), custom);
        if valid {
            let trace_id = hex(&context.trace_id().to_bytes());
            let span_id = hex(&context.span_id().to_bytes());
            item.trace_url = r.trace_link.as_ref().map(|(team, env, dataset)| {
                honeycomb_trace_url(team, env, dataset, &trace_id, &span_id, now / 1000)
            });
            item.trace_id = Some(trace_id);
            item.span_id = Some(span_id);
        }
        if source == Source::React {
            item.framework = Some("react".to_owned());
        }
        Some(encode_item_with(&item, &r.scrubber, MAX_ITEM_BYTES, js_f64))
    })
    .flatten();
    let mark = PendingMark {
        uuid,
        handle,
        created,
        message: source == Source::Message,
        class: first.class.clone(),
        text: first.message.clone(),
        stack: first.stack.clone(),
    };
    match encoded {
        Some(body) => Captured::Item { body, mark },
        None => {
            settle(mark, false);
            Captured::Refused
        }
    }
}

/// Marks the span of a queued item (an `exception` event, or `message` for messages, ERROR
/// status, `rollbar.item.uuid`) or, when the item was not queued, leaves it alone; a root
/// span started for the error is ended, or discarded unexported.
fn settle(mark: PendingMark, queued: bool) {
    let PendingMark {
        uuid,
        handle,
        created,
        message,
        class,
        text,
        stack,
    } = mark;
    if !queued {
        if created {
            with_sdk(|sdk| sdk.engine.discard(handle));
        }
        return;
    }
    let mark = ErrorMark {
        message,
        class,
        text,
        stack,
        uuid,
    };
    with_sdk(|sdk| sdk.engine.mark_error(handle, mark));
    if created {
        deliver(with_sdk(|sdk| sdk.engine.end(handle, None)).flatten());
    }
}

/// Queues `body` and settles its span mark; the uuid when queued.
fn queue_item(body: String, mark: PendingMark) -> Option<String> {
    let uuid = mark.uuid.clone();
    let queued = enqueue(body);
    settle(mark, queued);
    queued.then_some(uuid)
}

/// Queues an encoded item; false when it was dropped (counted).
fn enqueue(body: String) -> bool {
    if body.len() > MAX_ITEM_BYTES {
        count(|s| s.items_dropped += 1);
        debug(|| "edge-telemetry: error item dropped: over 128 KB after beforeSend".to_owned());
        return false;
    }
    match with_sdk(|sdk| sdk.engine.queue_item(body, now_millis())) {
        Some(Ok(arm)) => {
            if let Some(ms) = arm {
                state::schedule(Channel::Items, ms);
            }
            true
        }
        Some(Err(why)) => {
            debug(|| match why {
                ItemDrop::Paused => {
                    "edge-telemetry: error item dropped: Rollbar rate limit (429), paused"
                        .to_owned()
                }
                ItemDrop::Full => "edge-telemetry: error item dropped: item queue full".to_owned(),
                ItemDrop::Off => "edge-telemetry: error item dropped: reporting is off".to_owned(),
            });
            false
        }
        None => false,
    }
}

/// Marks waiting for `beforeSend` / `transform` (at most a few: the hooks run synchronously).
const MAX_PENDING_MARKS: usize = 8;

/// Reports an error. `kind`: where it came from; `level`: a level name or undefined;
/// `chain`: the error and its causes as `{name, message, stack}` objects (for messages:
/// one with the message only); `custom`: extra data; `hint`: the span the error was thrown
/// under (0: the active one); `hooked`: a `beforeSend` hook will see the item first.
///
/// Returns the item's uuid once queued, `[uuid, body]` when `hooked` (then `errorQueue` or
/// `errorNotSent` with that uuid), or `undefined` when the error is not reported (ignored,
/// duplicate, over a limit, the queue paused or full, or reporting is off; counted).
#[wasm_bindgen(js_name = errorCapture)]
pub fn error_capture(
    kind: Source,
    level: JsValue,
    chain: JsValue,
    custom: JsValue,
    hint: SpanHandle,
    hooked: bool,
) -> JsValue {
    let level = level.as_string().and_then(|l| Level::parse(&l));
    let custom = convert::to_json(&custom);
    match capture(kind, level, read_chain(&chain), custom, hint) {
        Captured::Refused => JsValue::UNDEFINED,
        Captured::Item { body, mark } if hooked => {
            let uuid = JsValue::from_str(&mark.uuid);
            let stale = with_sdk(|sdk| {
                let r = sdk.reporter.as_mut()?;
                r.pending.push(mark);
                (r.pending.len() > MAX_PENDING_MARKS).then(|| r.pending.remove(0))
            })
            .flatten();
            if let Some(stale) = stale {
                settle(stale, false);
            }
            Array::of2(&uuid, &JsValue::from_str(&body)).into()
        }
        Captured::Item { body, mark } => queue_item(body, mark)
            .map(|u| JsValue::from_str(&u))
            .unwrap_or(JsValue::UNDEFINED),
    }
}

fn take_pending(uuid: &str) -> Option<PendingMark> {
    with_sdk(|sdk| {
        let r = sdk.reporter.as_mut()?;
        let i = r.pending.iter().position(|m| m.uuid == uuid)?;
        Some(r.pending.remove(i))
    })
    .flatten()
}

/// Queues the item `uuid` as `beforeSend` returned it; false when dropped (counted).
#[wasm_bindgen(js_name = errorQueue)]
pub fn error_queue(uuid: String, body: String) -> bool {
    match take_pending(&uuid) {
        Some(mark) => queue_item(body, mark).is_some(),
        None => enqueue(body),
    }
}

/// Item `uuid` is not sent: `beforeSend` dropped it (`raised` false), or an error was raised
/// while reporting (`raised` true). Counted; its span is left alone.
#[wasm_bindgen(js_name = errorNotSent)]
pub fn error_not_sent(raised: bool, uuid: Option<String>) {
    count(|s| {
        if raised {
            s.reporting_errors += 1;
        } else {
            s.items_dropped += 1;
        }
    });
    if let Some(mark) = uuid.as_deref().and_then(take_pending) {
        settle(mark, false);
    }
}

/// What `errors.js` needs: `{url, headers, timeoutMillis, captureUncaught,
/// captureUnhandledRejections, fallback}` (`fallback`: an item for a trap the panic hook did
/// not see, with its uuid and time to fill in), or `undefined` when reporting is off.
#[wasm_bindgen(js_name = errorSettings)]
pub fn error_settings() -> JsValue {
    with_sdk(|sdk| {
        let capture_uncaught = sdk.engine.config().rollbar.capture_uncaught;
        let capture_rejections = sdk.engine.config().rollbar.capture_unhandled_rejections;
        let r = sdk.reporter.as_ref()?;
        let o = Object::new();
        let mut fallback = r.template.clone();
        fallback.level = Level::Critical;
        fallback.body = Body::Trace(Exception {
            class: "RuntimeError".to_owned(),
            message: "unreachable".to_owned(),
            frames: Vec::new(),
        });
        let set = |k: &str, v: &JsValue| Reflect::set(&o, &JsValue::from_str(k), v).ok();
        set("captureUncaught", &JsValue::from_bool(capture_uncaught));
        set(
            "captureUnhandledRejections",
            &JsValue::from_bool(capture_rejections),
        );
        set(
            "fallback",
            &JsValue::from_str(&encode_item_with(
                &fallback,
                &r.scrubber,
                MAX_ITEM_BYTES,
                js_f64,
            )),
        );
        Some(o.into())
    })
    .flatten()
    .unwrap_or(JsValue::UNDEFINED)
}

// ---------------------------------------------------------------------------------------
// Panics
// ---------------------------------------------------------------------------------------

thread_local! {
    /// `errors.js`'s last-gasp sender: called with `["spans" | "items", body, ...]`.
    static ON_FATAL: RefCell<Option<Function>> = const { RefCell::new(None) };
    /// Set while the hook runs: a panic inside it is not reported again.
    static IN_HOOK: Cell<bool> = const { Cell::new(false) };
}

/// Installs the panic hook (chained: the previous hook runs after ours). `on_fatal(out,
/// lost)` receives what must leave the page now, because after the trap that follows a
/// panic the module is dead: `out` is `["items" | "spans", body, ...]` (the panic's item,
/// then every queued item and span); `lost` is the panic message when the SDK's state was
/// in use and no item could be built.
#[wasm_bindgen(js_name = installPanicHook)]
pub fn install_panic_hook(on_fatal: Function) {
    ON_FATAL.with(|f| *f.borrow_mut() = Some(on_fatal));
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !IN_HOOK.with(|h| h.replace(true)) {
            let here = js_sys::Error::new("");
            let stack = Reflect::get(&here, &JsValue::from_str("stack"))
                .ok()
                .and_then(|s| s.as_string())
                .unwrap_or_default();
            // Without the frames of the hook's own `new Error()` call through the JS glue.
            let stack: Vec<&str> = stack
                .lines()
                .filter(|l| !l.contains("__wbg_") && !l.contains("externref shim"))
                .collect();
            report_panic(&info.to_string(), &stack.join("\n"));
        }
        previous(info);
    }));
}

/// Reports a panic and hands everything queued to `on_fatal`.
fn report_panic(message: &str, stack: &str) {
    let chain = vec![RawError {
        class: "panic".to_owned(),
        message: message.to_owned(),
        stack: stack.to_owned(),
    }];
    if let Captured::Item { body, mark } = capture(Source::Panic, None, chain, Json::Null, 0) {
        queue_item(body, mark);
    }
    // The active span, if any, would be lost with the module: end it now.
    if let Some(h) = with_sdk(|sdk| sdk.engine.active_span()).filter(|h| *h != 0) {
        deliver(with_sdk(|sdk| sdk.engine.end(h, None)).flatten());
    }
    let out = Array::new();
    for (kind, body) in with_sdk(|sdk| sdk.engine.drain()).unwrap_or_default() {
        out.push(&JsValue::from(Channel::from(kind) as u32));
        out.push(&JsValue::from_str(&body));
    }
    // A panic while the SDK's state was in use leaves it unreachable: `errors.js` then
    // sends its fallback item with this message (without trace ids).
    let unreachable = with_sdk(|_| ()).is_none() && state::is_initialized();
    let lost = if unreachable {
        JsValue::from_str(message)
    } else {
        JsValue::UNDEFINED
    };
    if let Some(f) = ON_FATAL.with(|f| f.borrow().clone()) {
        let _ = f.call2(&JsValue::UNDEFINED, &out, &lost);
    }
}

/// Panics with `message`: how the tests check the hook. Not part of the public API.
#[wasm_bindgen(js_name = debugPanic)]
pub fn debug_panic(message: String) {
    panic!("{message}");
}
