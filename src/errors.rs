//! Errors to Rollbar, engine side: JS conversion only. `errors.js` listens for errors and
//! reads them into `{name, message, stack}` objects. The engine (`core::sdk`) links each
//! error to its span and holds the span's mark; the item itself (filters, stack parsing,
//! encoding) is built by the item encoder, a second wasm module (`errors-module/`) that
//! `errors.js` loads after start-up, and comes back here to be queued, which settles the
//! mark. Here: the exports, the uuid from the browser's CSPRNG, and the panic hook.

use core::cell::{Cell, RefCell};
use edge_telemetry_core::prelude::*;

use edge_telemetry_bindings::js::{self, JsValue};
use edge_telemetry_bindings::read::Callback;
use edge_telemetry_core::errors::capture::{NotSent, RawError, Source};
use edge_telemetry_core::errors::rollbar::format_uuid_v4;
use edge_telemetry_core::sdk::{ErrorLink, ItemDrop};
use edge_telemetry_core::trace::table::SpanHandle;

use crate::export::{Channel, code, deliver, schedule};
use crate::local::Local;
use crate::platform::{debug_log, now_millis, random_seed};
use crate::state::{self, count, with_sdk};

fn note(n: Option<String>) {
    if let Some(n) = n {
        debug_log(&n);
    }
}

/// A v4 uuid from the browser's CSPRNG.
fn uuid() -> String {
    let seed = random_seed();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&seed[..16]);
    format_uuid_v4(bytes)
}

/// `[uuid, timeMs, traceId, spanId]`: what the item encoder needs from the engine.
fn link_to_js(link: &ErrorLink) -> JsValue {
    let (trace, span) = match &link.trace {
        Some((t, s)) => (JsValue::from_str(t), JsValue::from_str(s)),
        None => (JsValue::UNDEFINED, JsValue::UNDEFINED),
    };
    let a = js::array();
    js::push(&a, &JsValue::from_str(&link.uuid));
    js::push(&a, &JsValue::from(link.now_ms as f64));
    js::push(&a, &trace);
    js::push(&a, &span);
    let telemetry = link
        .telemetry
        .as_deref()
        .map_or(JsValue::UNDEFINED, JsValue::from_str);
    js::push(&a, &telemetry);
    a
}

/// Queues item `uuid` (and settles its span's mark); true when queued.
fn queue(uuid: &str, body: String) -> bool {
    let Some((queued, ended)) = with_sdk(|s| s.engine.queue_captured(uuid, body)) else {
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
            if state::debug_enabled() {
                debug_log(match why {
                    ItemDrop::Paused => {
                        "edge-telemetry: error item dropped: Rollbar rate limit (429), paused"
                    }
                    ItemDrop::Full => "edge-telemetry: error item dropped: item queue full",
                    ItemDrop::TooLarge => {
                        "edge-telemetry: error item dropped: over 128 KB after beforeSend"
                    }
                    ItemDrop::Off => "edge-telemetry: error item dropped: reporting is off",
                });
            }
            false
        }
    }
}

/// Links an error to its span: `kind`, where it came from (a `Source` number); `hint`, the
/// span it was thrown under (0: the active one); `name`, `message`, `stack`: the outermost
/// error, for the span's mark. Returns `[uuid, timeMs, traceId, spanId, telemetry]` for the item
/// encoder (then `errorQueue` or `errorNotSent` with that uuid), or `undefined` when
/// reporting is off.
pub fn error_capture(
    kind: u32,
    hint: SpanHandle,
    name: String,
    message: String,
    stack: String,
) -> JsValue {
    state::release_requests();
    let first = RawError {
        class: name,
        message,
        stack,
    };
    let id = uuid();
    let Some((link, released)) = with_sdk(|s| {
        let r = s
            .engine
            .capture_error(Source::from_code(kind) == Source::Message, first, hint, id);
        state::store_session(&mut s.engine);
        r
    }) else {
        return JsValue::UNDEFINED;
    };
    deliver(released);
    link.as_ref().map_or(JsValue::UNDEFINED, link_to_js)
}

/// Queues item `uuid` as the item encoder built it (or `beforeSend` returned it); false when
/// dropped (counted).
pub fn error_queue(uuid: String, body: String) -> bool {
    queue(&uuid, body)
}

/// Item `uuid` is not sent, for `why` (a `NotSent` value). Counted; its span is left alone.
pub fn error_not_sent(why: u32, uuid: Option<String>) {
    let why = NotSent::from_code(why);
    match with_sdk(|s| s.engine.not_sent(why, uuid.as_deref())) {
        Some((ended, n)) => {
            deliver(ended);
            note(n);
        }
        // Reached while the state is in use (a hook calling back into the SDK): still counted.
        None => count(|s| match why {
            NotSent::Raised => s.reporting_errors += 1,
            NotSent::Duplicate => s.items_deduplicated += 1,
            NotSent::Ignored => s.items_ignored += 1,
            _ => s.items_dropped += 1,
        }),
    }
}

/// Item `uuid` is kept for a later page (the page is being hidden before the item encoder
/// arrived): its span is marked now.
pub fn error_deferred(uuid: String) {
    deliver(with_sdk(|s| s.engine.defer(&uuid)).flatten());
}

/// What `errors.js` needs: `{captureUncaught, captureUnhandledRejections, trapUuid}`
/// (`trapUuid`: the uuid of the item for a trap the panic hook did not see), or `undefined`
/// when reporting is off.
pub fn error_settings() -> JsValue {
    with_sdk(|sdk| {
        let c = &sdk.engine.config().rollbar;
        let (uncaught, rejections) = (c.capture_uncaught, c.capture_unhandled_rejections);
        if !sdk
            .engine
            .channels()
            .contains(&edge_telemetry_core::sdk::ChannelKind::Items)
        {
            return None;
        }
        let o = js::object();
        let set = |k: &str, v: &JsValue| js::set(&o, k, v);
        set("captureUncaught", &JsValue::from_bool(uncaught));
        set(
            "captureUnhandledRejections",
            &JsValue::from_bool(rejections),
        );
        set("trapUuid", &JsValue::from_str(&uuid()));
        Some(o)
    })
    .flatten()
    .unwrap_or(JsValue::UNDEFINED)
}

// ---------------------------------------------------------------------------------------
// Panics
// ---------------------------------------------------------------------------------------

/// `errors.js`'s side of a panic: `encode(link, message, stack)` returns the panic's item
/// when the item encoder is loaded (else keeps it, to send when it is); `fatal(out, lost)`
/// sends what must leave the page now.
static ON_PANIC: Local<RefCell<Option<(Callback, Callback)>>> = Local::new(RefCell::new(None));
/// Set while the hook runs: a panic inside it is not reported again.
static IN_HOOK: Local<Cell<bool>> = Local::new(Cell::new(false));

/// Installs the panic hook. After the trap that follows a panic the module is dead, so the
/// hook hands over everything that must leave the page now. `encode(link, message, stack)`:
/// the panic's item (`link` as `errorCapture` returns it), or undefined when the item
/// encoder is not loaded yet (it then sends the item when it is); `fatal(out, lost)`: `out`
/// is `[{channel, body}, ...]` (every queued item, the panic's first, then the spans);
/// `lost` is the panic's item when the SDK's state was in use (no trace ids). In the
/// package's `no_std` build the panic handler (src/lib.rs) calls [`on_panic`]; with `std`,
/// a hook chained before the previous one does.
pub fn install_panic_hook(encode: JsValue, fatal: JsValue) {
    if let (Ok(mut f), Some(encode), Some(fatal)) = (
        ON_PANIC.try_borrow_mut(),
        Callback::of(encode),
        Callback::of(fatal),
    ) {
        *f = Some((encode, fatal));
    }
    #[cfg(feature = "std")]
    {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            on_panic(&info.to_string());
            previous(info);
        }));
    }
}

/// A panic (`message`: "panicked at file:line:column:" and the message): reported once, with
/// the JS stack of this call, unless a panic is already being reported.
pub(crate) fn on_panic(message: &str) {
    if IN_HOOK.replace(true) {
        return;
    }
    // The JS stack of the call into wasm that panicked (`wasm.js` leaves out its own frame).
    report_panic(message, &js::stack());
}

/// Reports a panic and hands everything queued to `errors.js`.
fn report_panic(message: &str, stack: &str) {
    let Some((encode, fatal)) = ON_PANIC.try_borrow().ok().and_then(|f| f.clone()) else {
        return;
    };
    let first = || RawError {
        class: "panic".to_owned(),
        message: message.to_owned(),
        stack: stack.to_owned(),
    };
    let (msg, stk) = (JsValue::from_str(message), JsValue::from_str(stack));
    let item = |link: &JsValue| {
        encode
            .call(&[link, &msg, &stk])
            .unwrap_or(JsValue::from(NotSent::Raised as u32))
    };
    let id = uuid();
    let captured = with_sdk(|s| s.engine.capture_error(false, first(), 0, id.clone()));
    let reached = captured.is_some();
    if let Some((Some(link), released)) = captured {
        deliver(released);
        let out = item(&link_to_js(&link));
        if let Some(body) = out.as_string() {
            queue(&link.uuid, body);
        } else if let Some(why) = out.as_f64() {
            error_not_sent(why as u32, Some(link.uuid));
        } else {
            // errors.js sends the item once the encoder is there. The module dies now and
            // cannot wait for it: the span is marked at once, to leave in the last gasp.
            deliver(with_sdk(|s| s.engine.defer(&link.uuid)).flatten());
        }
    }
    // The active span, if any, would be lost with the module: end it now.
    if let Some(h) = with_sdk(|sdk| sdk.engine.active_span()).filter(|h| *h != 0) {
        deliver(with_sdk(|sdk| sdk.engine.end(h, None)).flatten());
    }
    let out = js::array();
    for (kind, body) in with_sdk(|sdk| sdk.engine.drain()).unwrap_or_default() {
        let o = js::object();
        js::set(&o, "channel", &JsValue::from(code(kind)));
        js::set(&o, "body", &JsValue::from_str(&body));
        js::push(&out, &o);
    }
    // A panic while the SDK's state was in use leaves it unreachable: the item has no trace
    // ids.
    let lost = if !reached && state::is_initialized() {
        let link = ErrorLink {
            uuid: id,
            now_ms: now_millis(),
            trace: None,
            telemetry: None,
        };
        Some(item(&link_to_js(&link)))
            .filter(JsValue::is_string)
            .unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    };
    let _ = fatal.call(&[&out, &lost]);
}

/// The panic's report (core's `panic_report`), with the message [`debug_panic`] handed over
/// when there is one.
pub fn panic_report(location: Option<(&str, u32, u32)>, message: Option<&str>) -> String {
    let stashed = DEBUG_MESSAGE
        .try_borrow_mut()
        .ok()
        .and_then(|mut m| m.take());
    edge_telemetry_core::errors::capture::panic_report(location, stashed.as_deref().or(message))
}

/// The message of [`debug_panic`] in the `no_std` build, whose report does not format.
static DEBUG_MESSAGE: Local<RefCell<Option<String>>> = Local::new(RefCell::new(None));

/// Panics with `message`: how the tests check the hook. Not part of the public API.
pub fn debug_panic(message: String) {
    #[cfg(feature = "std")]
    panic!("{message}");
    #[cfg(not(feature = "std"))]
    {
        if let Ok(mut m) = DEBUG_MESSAGE.try_borrow_mut() {
            *m = Some(message);
        }
        panic!("debugPanic");
    }
}
