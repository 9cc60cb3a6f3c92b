//! Errors to Rollbar, wasm side: JS conversion only. `errors.js` listens for errors and
//! reads them into `{name, message, stack}` objects; the engine (`core::sdk`, over
//! `core::errors::capture`) decides which become items, builds them and links them to their
//! span both ways; the items channel moves the bytes. Here: the exports, the uuid from the
//! browser's CSPRNG, the page's RegExp rules, and the panic hook.

use std::cell::{Cell, RefCell};

use edge_telemetry_core::errors::capture::{RawError, Reporter, Source as CoreSource};
use edge_telemetry_core::errors::rollbar::{DEFAULT_ENDPOINT, Json, Level, format_uuid_v4};
use edge_telemetry_core::sdk::{Captured, ItemDrop, PendingMark};
use edge_telemetry_core::trace::table::SpanHandle;
use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::convert::{self, regex_matches};
use crate::export::{Channel, deliver, js_f64, schedule};
use crate::local::Local;
use crate::platform::{current_page_url, debug_log, now_millis, random_seed};
use crate::state::{self, count, with_sdk};

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

impl From<Source> for CoreSource {
    fn from(s: Source) -> Self {
        match s {
            Source::Manual => CoreSource::Manual,
            Source::Message => CoreSource::Message,
            Source::Uncaught => CoreSource::Uncaught,
            Source::Rejection => CoreSource::Rejection,
            Source::React => CoreSource::React,
            Source::Panic => CoreSource::Panic,
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

fn note(n: Option<String>) {
    if let Some(n) = n {
        debug_log(&n);
    }
}

fn debug(msg: impl FnOnce() -> String) {
    if state::debug_enabled() {
        debug_log(&msg());
    }
}

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

/// A v4 uuid from the browser's CSPRNG.
fn uuid() -> String {
    let seed = random_seed();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&seed[..16]);
    format_uuid_v4(bytes)
}

/// Queues an item (and settles its span mark); the item's uuid when queued.
fn queue(body: String, mark: Option<PendingMark>) -> bool {
    let Some((queued, ended)) = with_sdk(|s| s.engine.queue_captured(body, mark)) else {
        return false;
    };
    deliver(ended);
    match queued {
        Ok(arm) => {
            if let Some(ms) = arm {
                schedule(Channel::Items, ms);
            }
            true
        }
        Err(why) => {
            debug(|| {
                match why {
                    ItemDrop::Paused => "error item dropped: Rollbar rate limit (429), paused",
                    ItemDrop::Full => "error item dropped: item queue full",
                    ItemDrop::TooLarge => "error item dropped: over 128 KB after beforeSend",
                    ItemDrop::Off => "error item dropped: reporting is off",
                }
                .replace("error item", "edge-telemetry: error item")
            });
            false
        }
    }
}

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
    state::release_requests();
    let level = level.as_string().and_then(|l| Level::parse(&l));
    let custom = convert::to_json(&custom);
    let chain = read_chain(&chain);
    let (uuid, page) = (uuid(), current_page_url());
    let Some((captured, n)) = with_sdk(|s| {
        let rules = &s.ignored_regexes;
        let r = s.engine.capture_error(
            kind.into(),
            level,
            chain,
            custom,
            hint,
            uuid,
            page,
            &|m: &str| rules.iter().any(|re| regex_matches(re, m)),
            js_f64,
        );
        state::store_session(&mut s.engine);
        r
    }) else {
        return JsValue::UNDEFINED;
    };
    note(n);
    match captured {
        Captured::Refused => JsValue::UNDEFINED,
        Captured::Item { body, mark } if hooked => {
            let uuid = JsValue::from_str(&mark.mark.uuid);
            if let Some(stale) = with_sdk(|s| s.engine.hold(mark)).flatten() {
                deliver(with_sdk(|s| s.engine.settle(stale, false)).flatten());
            }
            Array::of2(&uuid, &JsValue::from_str(&body)).into()
        }
        Captured::Item { body, mark } => {
            let uuid = mark.mark.uuid.clone();
            if queue(body, Some(mark)) {
                JsValue::from_str(&uuid)
            } else {
                JsValue::UNDEFINED
            }
        }
    }
}

/// Queues the item `uuid` as `beforeSend` returned it; false when dropped (counted).
#[wasm_bindgen(js_name = errorQueue)]
pub fn error_queue(uuid: String, body: String) -> bool {
    let mark = with_sdk(|s| s.engine.take_pending(&uuid)).flatten();
    queue(body, mark)
}

/// Item `uuid` is not sent: `beforeSend` dropped it (`raised` false), or an error was raised
/// while reporting (`raised` true). Counted; its span is left alone.
#[wasm_bindgen(js_name = errorNotSent)]
pub fn error_not_sent(raised: bool, uuid: Option<String>) {
    match with_sdk(|s| s.engine.not_sent(raised, uuid.as_deref())) {
        Some(ended) => deliver(ended),
        // Reached while the state is in use (a hook calling back into the SDK): still counted.
        None => count(|s| {
            if raised {
                s.reporting_errors += 1;
            } else {
                s.items_dropped += 1;
            }
        }),
    }
}

/// What `errors.js` needs: `{captureUncaught, captureUnhandledRejections, trapItem}`
/// (`trapItem`: the item to send as it is for a trap the panic hook did not see), or
/// `undefined` when reporting is off.
#[wasm_bindgen(js_name = errorSettings)]
pub fn error_settings() -> JsValue {
    with_sdk(|sdk| {
        let c = &sdk.engine.config().rollbar;
        let (uncaught, rejections) = (c.capture_uncaught, c.capture_unhandled_rejections);
        let trap = sdk.engine.trap_item(uuid(), js_f64)?;
        let o = Object::new();
        let set = |k: &str, v: &JsValue| Reflect::set(&o, &JsValue::from_str(k), v).ok();
        set("captureUncaught", &JsValue::from_bool(uncaught));
        set(
            "captureUnhandledRejections",
            &JsValue::from_bool(rejections),
        );
        set("trapItem", &JsValue::from_str(&trap));
        Some(o.into())
    })
    .flatten()
    .unwrap_or(JsValue::UNDEFINED)
}

// ---------------------------------------------------------------------------------------
// Panics
// ---------------------------------------------------------------------------------------

/// `errors.js`'s last-gasp sender: called with `[Channel, body, ...]` and a lost item.
static ON_FATAL: Local<RefCell<Option<Function>>> = Local::new(RefCell::new(None));
/// A copy of the reporter, for a panic met while the engine's state is in use.
static PANIC_REPORTER: Local<RefCell<Option<Reporter>>> = Local::new(RefCell::new(None));
/// Set while the hook runs: a panic inside it is not reported again.
static IN_HOOK: Local<Cell<bool>> = Local::new(Cell::new(false));

/// Keeps a copy of the reporter for panics met while the engine's state is in use.
pub fn keep_panic_reporter(reporter: Reporter) {
    if let Ok(mut r) = PANIC_REPORTER.try_borrow_mut() {
        *r = Some(reporter);
    }
}

/// Installs the panic hook (chained: the previous hook runs after ours). `on_fatal(out,
/// lost)` receives what must leave the page now, because after the trap that follows a
/// panic the module is dead: `out` is `[Channel, body, ...]` (the panic's item, then every
/// queued item and span); `lost` is the panic's item built from the copy of the reporter
/// (without trace ids) when the SDK's state was in use.
#[wasm_bindgen(js_name = installPanicHook)]
pub fn install_panic_hook(on_fatal: Function) {
    if let Ok(mut f) = ON_FATAL.try_borrow_mut() {
        *f = Some(on_fatal);
    }
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !IN_HOOK.replace(true) {
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
    let (id, page) = (uuid(), current_page_url());
    let captured = with_sdk(|s| {
        s.engine.capture_error(
            CoreSource::Panic,
            None,
            chain,
            Json::Null,
            0,
            id.clone(),
            page.clone(),
            &|_: &str| false,
            js_f64,
        )
    });
    let reached = captured.is_some();
    if let Some((Captured::Item { body, mark }, _)) = captured {
        queue(body, Some(mark));
    }
    // The active span, if any, would be lost with the module: end it now.
    if let Some(h) = with_sdk(|sdk| sdk.engine.active_span()).filter(|h| *h != 0) {
        deliver(with_sdk(|sdk| sdk.engine.end(h, None)).flatten());
    }
    let out = Array::new();
    for (kind, body) in with_sdk(|sdk| sdk.engine.drain()).unwrap_or_default() {
        let o = Object::new();
        let _ = Reflect::set(
            &o,
            &"channel".into(),
            &JsValue::from(Channel::from(kind) as u32),
        );
        let _ = Reflect::set(&o, &"body".into(), &JsValue::from_str(&body));
        out.push(&o);
    }
    // A panic while the SDK's state was in use leaves it unreachable: the item is built from
    // the copy of the reporter, without trace ids.
    let unreachable = !reached && state::is_initialized();
    let lost = if unreachable {
        PANIC_REPORTER
            .try_borrow()
            .ok()
            .and_then(|r| {
                r.as_ref()
                    .map(|r| r.panic_item(id, message, stack, now_millis(), page, js_f64))
            })
            .map_or(JsValue::UNDEFINED, |item| JsValue::from_str(&item))
    } else {
        JsValue::UNDEFINED
    };
    if let Some(f) = ON_FATAL.try_borrow().ok().and_then(|f| f.clone()) {
        let _ = f.call2(&JsValue::UNDEFINED, &out, &lost);
    }
}

/// Panics with `message`: how the tests check the hook. Not part of the public API.
#[wasm_bindgen(js_name = debugPanic)]
pub fn debug_panic(message: String) {
    panic!("{message}");
}
