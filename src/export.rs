//! The outgoing channels, wasm side: one set of functions serves every channel (spans,
//! Rollbar items). `export.js` (the timer, fetch, gzip, page lifecycle) asks for the requests
//! that are due and reports how each attempt ended; the engine (`core::sdk`, over
//! `core::export::channel`) decides everything else.

use edge_telemetry_core::prelude::*;
use edge_telemetry_core::sdk::{ChannelKind, Ended};
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;

pub use edge_telemetry_bindings::read::js_f64;

use crate::platform::{debug_log, unit_random};
use crate::state;
use crate::state::with_sdk;

/// An outgoing channel, as JS names it (`Channel.Spans`, `Channel.Items`).
#[wasm_bindgen]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    /// Finished spans (OTLP/HTTP JSON).
    Spans = 0,
    /// Rollbar items.
    Items = 1,
}

impl From<Channel> for ChannelKind {
    fn from(c: Channel) -> Self {
        match c {
            Channel::Spans => ChannelKind::Spans,
            Channel::Items => ChannelKind::Items,
        }
    }
}

impl From<ChannelKind> for Channel {
    fn from(k: ChannelKind) -> Self {
        match k {
            ChannelKind::Spans => Channel::Spans,
            ChannelKind::Items => Channel::Items,
        }
    }
}

fn note(note: Option<String>) {
    if let Some(n) = note {
        debug_log(&n);
    }
}

/// The channels that are on, as `Channel` values.
#[wasm_bindgen]
pub fn channels() -> Array {
    let out = Array::new();
    for kind in with_sdk(|s| s.engine.channels()).unwrap_or_default() {
        out.push(&JsValue::from(Channel::from(kind) as u32));
    }
    out
}

/// What `export.js` needs to send on `channel`: `{url, headers: {name: value}, timeoutMillis,
/// gzip}`, or `undefined` when the channel is off.
#[wasm_bindgen(js_name = channelSettings)]
pub fn channel_settings(channel: Channel) -> JsValue {
    with_sdk(|sdk| {
        let c = sdk.engine.channel_settings(channel.into())?;
        let o = Object::new();
        let headers = Object::new();
        for (k, v) in c.headers {
            let _ = Reflect::set(&headers, &JsValue::from_str(k), &JsValue::from_str(v));
        }
        let set = |k: &str, v: &JsValue| Reflect::set(&o, &JsValue::from_str(k), v).ok();
        set("url", &JsValue::from_str(c.url));
        set("headers", &headers);
        set(
            "timeoutMillis",
            &JsValue::from_f64(f64::from(c.timeout_millis)),
        );
        set("gzip", &JsValue::from_bool(c.gzip));
        Some(o.into())
    })
    .flatten()
    .unwrap_or(JsValue::UNDEFINED)
}

/// The requests due on `channel` as `[{id, body}, ...]` (one, or on the page-hide path
/// several, each body under 60 KiB); `undefined` when nothing is due.
#[wasm_bindgen(js_name = channelTake)]
pub fn channel_take(channel: Channel, hidden: bool) -> JsValue {
    let Some((requests, n)) = with_sdk(|s| s.engine.take(channel.into(), hidden)) else {
        return JsValue::UNDEFINED;
    };
    note(n);
    if requests.is_empty() {
        return JsValue::UNDEFINED;
    }
    let out = Array::new();
    for r in requests {
        let o = Object::new();
        let _ = Reflect::set(&o, &"id".into(), &JsValue::from_f64(f64::from(r.id)));
        let _ = Reflect::set(
            &o,
            &"body".into(),
            &Uint8Array::from(r.body.as_bytes()).into(),
        );
        out.push(&o);
    }
    out.into()
}

/// Records how an attempt to send request `id` on `channel` ended (`status` 0: no
/// response) and returns the delay before retrying it, or -1 when it is done (acknowledged
/// or given up).
#[wasm_bindgen(js_name = channelResult)]
pub fn channel_result(
    channel: Channel,
    id: u32,
    status: u32,
    retry_after: Option<String>,
    body: Option<String>,
) -> f64 {
    let status = status.min(999) as u16;
    let jitter = unit_random();
    let Some((delay, n)) = with_sdk(|s| {
        s.engine.attempt(
            channel.into(),
            id,
            status,
            retry_after.as_deref(),
            body.as_deref(),
            jitter,
        )
    }) else {
        return -1.0;
    };
    note(n);
    delay.map_or(-1.0, |ms| ms as f64)
}

/// Milliseconds until a request is due on `channel`, or -1 (nothing queued, or every slot
/// busy).
#[wasm_bindgen(js_name = channelNextDue)]
pub fn channel_next_due(channel: Channel) -> f64 {
    with_sdk(|s| s.engine.next_due(channel.into()))
        .flatten()
        .map_or(-1.0, |ms| ms as f64)
}

/// Starts a flush of `channel`; its token (0: nothing to wait for, the channel is off).
#[wasm_bindgen(js_name = channelFlushBegin)]
pub fn channel_flush_begin(channel: Channel) -> u32 {
    with_sdk(|s| s.engine.flush(channel.into()))
        .flatten()
        .unwrap_or(0)
}

/// Where a flush stands.
#[wasm_bindgen]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlushState {
    /// Something before it is still queued or in flight.
    Waiting = 0,
    /// Everything before it was acknowledged (or the channel is off).
    Done = 1,
    /// Some of it was given up (counted).
    GaveUp = 2,
}

/// A flush's state.
#[wasm_bindgen(js_name = channelFlushResult)]
pub fn channel_flush_result(channel: Channel, token: u32) -> FlushState {
    match with_sdk(|s| s.engine.flush_result(channel.into(), token)) {
        Some(None) => FlushState::Waiting,
        Some(Some(true)) | None => FlushState::Done,
        Some(Some(false)) => FlushState::GaveUp,
    }
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

/// Arms `channel`'s timer in `export.js` to fire within `ms`.
pub fn schedule(channel: Channel, ms: u64) {
    if let Some(f) = with_sdk(|s| s.schedule.clone()).flatten() {
        let _ = f.call(&[
            &JsValue::from(channel as u32),
            &JsValue::from_f64(ms as f64),
        ]);
    }
}
