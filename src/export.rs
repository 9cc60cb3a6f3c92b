//! The outgoing channels, wasm side: one set of functions serves every channel (spans,
//! Rollbar items). `export.js` (the timer, fetch, gzip, page lifecycle) asks for the requests
//! that are due and reports how each attempt ended; the engine (`core::sdk`, over
//! `core::export::channel`) decides everything else.

use edge_telemetry_bindings::js::{self, JsValue};
pub use edge_telemetry_core::boundary::{Channel, FlushState};
use edge_telemetry_core::boundary::{RESULT_DONE, RESULT_HELD};
use edge_telemetry_core::prelude::*;
use edge_telemetry_core::sdk::{ChannelKind, Ended, Next};

pub use edge_telemetry_bindings::read::js_f64;

use crate::platform::{debug_log, unit_random};
use crate::state;
use crate::state::with_sdk;

/// The channel numbered `c` (`Channel.Spans`, `Channel.Items`).
fn kind(c: u32) -> Option<ChannelKind> {
    match Channel::from_code(c)? {
        Channel::Spans => Some(ChannelKind::Spans),
        Channel::Items => Some(ChannelKind::Items),
        Channel::Logs => Some(ChannelKind::Logs),
    }
}

/// A channel's number for JS.
pub(crate) fn code(k: ChannelKind) -> u32 {
    match k {
        ChannelKind::Spans => Channel::Spans as u32,
        ChannelKind::Items => Channel::Items as u32,
        ChannelKind::Logs => Channel::Logs as u32,
    }
}

fn note(note: Option<String>) {
    if let Some(n) = note {
        debug_log(&n);
    }
}

/// The channels that are on, as `Channel` values.
pub fn channels() -> JsValue {
    let out = js::array();
    for kind in with_sdk(|s| s.engine.channels()).unwrap_or_default() {
        js::push(&out, &JsValue::from(code(kind)));
    }
    out
}

/// What `export.js` needs to send on `channel`: `{url, headers: {name: value}, timeoutMillis,
/// gzip}`, or `undefined` when the channel is off.
pub fn channel_settings(channel: u32) -> JsValue {
    with_sdk(|sdk| {
        let c = sdk.engine.channel_settings(kind(channel)?)?;
        let o = js::object();
        let headers = js::object();
        for (k, v) in c.headers {
            js::set(&headers, k, &JsValue::from_str(v));
        }
        let set = |k: &str, v: &JsValue| js::set(&o, k, v);
        set("url", &JsValue::from_str(c.url));
        set("headers", &headers);
        set(
            "timeoutMillis",
            &JsValue::from_f64(f64::from(c.timeout_millis)),
        );
        set("gzip", &JsValue::from_bool(c.gzip));
        Some(o)
    })
    .flatten()
    .unwrap_or(JsValue::UNDEFINED)
}

/// The requests due on `channel` as `[{id, body, resend}, ...]` (one, or on the page-hide
/// path several, each body under 60 KiB; `resend`: send the body of the held request `id`
/// again); `undefined` when nothing is due.
pub fn channel_take(channel: u32, hidden: bool) -> JsValue {
    let Some((requests, n)) = kind(channel).and_then(|k| with_sdk(|s| s.engine.take(k, hidden)))
    else {
        return JsValue::UNDEFINED;
    };
    note(n);
    if requests.is_empty() {
        return JsValue::UNDEFINED;
    }
    let out = js::array();
    for r in requests {
        let o = js::object();
        js::set(&o, "id", &JsValue::from(r.id));
        js::set(&o, "body", &js::bytes(r.body.as_bytes()));
        js::set(&o, "resend", &JsValue::from_bool(r.resend));
        js::push(&out, &o);
    }
    out
}

/// Records how an attempt to send request `id` on `channel` ended (`status` 0: no
/// response) and returns the delay before retrying it, `Result.Done` when it is done
/// (acknowledged or given up) or `Result.Held` when it waits for `channelTake`.
pub fn channel_result(
    channel: u32,
    id: u32,
    status: u32,
    retry_after: Option<String>,
    body: Option<String>,
) -> f64 {
    let status = status.min(999) as u16;
    let jitter = unit_random();
    let Some(channel) = kind(channel) else {
        return f64::from(RESULT_DONE);
    };
    let Some((next, n)) = with_sdk(|s| {
        s.engine.attempt(
            channel,
            id,
            status,
            retry_after.as_deref(),
            body.as_deref(),
            jitter,
        )
    }) else {
        return f64::from(RESULT_DONE);
    };
    note(n);
    match next {
        Next::Done => f64::from(RESULT_DONE),
        Next::Held => f64::from(RESULT_HELD),
        Next::Retry(ms) => ms as f64,
    }
}

/// Milliseconds until a request is due on `channel`, or -1 (nothing queued, or every slot
/// busy).
pub fn channel_next_due(channel: u32) -> f64 {
    kind(channel)
        .and_then(|k| with_sdk(|s| s.engine.next_due(k)))
        .flatten()
        .map_or(-1.0, |ms| ms as f64)
}

/// Starts a flush of `channel`; its token (0: nothing to wait for, the channel is off).
pub fn channel_flush_begin(channel: u32) -> u32 {
    kind(channel)
        .and_then(|k| with_sdk(|s| s.engine.flush(k)))
        .flatten()
        .unwrap_or(0)
}

/// A flush's state.
pub fn channel_flush_result(channel: u32, token: u32) -> u32 {
    let state = match kind(channel).and_then(|k| with_sdk(|s| s.engine.flush_result(k, token))) {
        Some(None) => FlushState::Waiting,
        Some(Some(true)) | None => FlushState::Done,
        Some(Some(false)) => FlushState::GaveUp,
    };
    state as u32
}

/// Hands a finished span to `onSpanEnd` and the export queue.
pub(crate) fn deliver(ended: Option<Ended>) {
    let Some(Ended { data, now_ms }) = ended else {
        return;
    };
    // Without a callback, one borrow queues it.
    let queued = with_sdk(|s| match &s.on_span_end {
        None => Ok(s.engine.queue_span(data, now_ms)),
        Some(cb) => Err((cb.clone(), data)),
    });
    let (arm, n) = match queued {
        None => return,
        Some(Ok(queued)) => queued,
        Some(Err((cb, data))) => {
            // User code: run with no SDK borrow held; its exceptions stay its own.
            if cb.call(&[&crate::convert::span_data_to_js(&data)]).is_err()
                && state::debug_enabled()
            {
                debug_log("edge-telemetry: onSpanEnd threw");
            }
            let Some(queued) = with_sdk(|s| s.engine.queue_span(data, now_ms)) else {
                return;
            };
            queued
        }
    };
    note(n);
    if let Some(ms) = arm {
        schedule(Channel::Spans, ms);
    }
}

/// After an item was queued on `channel`: its debug note, and the channel's timer armed when
/// the engine asks for it.
pub(crate) fn queued(channel: Channel, queued: Option<(Option<u64>, Option<String>)>) {
    let Some((arm, n)) = queued else {
        return;
    };
    note(n);
    if let Some(ms) = arm {
        schedule(channel, ms);
    }
}

/// Arms `channel`'s timer in `export.js` to fire within `ms`.
pub fn schedule(channel: Channel, ms: u64) {
    if let Some(f) = with_sdk(|s| s.schedule.clone()).flatten() {
        let _ = f.call(&[
            &JsValue::from(channel as u32),
            &JsValue::from_f64(ms as f64),
        ]);
    }
}
