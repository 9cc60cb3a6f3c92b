//! Span export, wasm side: the batch queue and the OTLP encoder live here; `export.js`
//! (the timer, fetch, gzip, page lifecycle) asks for encoded batches and reports how each
//! attempt ended. Policy is in core (`batch`, `retry`, `otlp`, `exporter`).

use edge_telemetry_core::config::ExportConfig;
use edge_telemetry_core::export::batch::{BatchQueue, Push, TakeMode};
use edge_telemetry_core::export::otlp::{OtlpEncoder, parse_partial_success, push_non_finite};
use edge_telemetry_core::export::retry::{ExportOutcome, FailReason, RetryConfig};
use edge_telemetry_core::trace::span::SpanData;
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::platform::{debug_log, now_millis, unit_random};
use crate::state::{self, count, with_sdk};

/// Largest request body on the page-hide path: under the browser's 64 KiB keepalive quota.
pub const HIDDEN_MAX_BODY_BYTES: usize = 60 * 1024 - 1;

/// The page's exporter. Its `Debug` output names the headers, never their values.
pub struct Exporter {
    /// Finished spans and batches in flight.
    pub queue: BatchQueue<SpanData>,
    /// Encodes batches (resource and scope precomputed).
    pub encoder: OtlpEncoder,
    /// Retry limits.
    pub retry: RetryConfig,
    /// Where to POST.
    pub url: String,
    /// Request headers (the API key among them: never logged).
    pub headers: Vec<(String, String)>,
    /// Whether to gzip bodies.
    pub gzip: bool,
}

/// The names of `headers`, for `Debug` output that must not show values (keys, tokens).
pub fn header_names(headers: &[(String, String)]) -> Vec<&str> {
    headers.iter().map(|(k, _)| k.as_str()).collect()
}

impl std::fmt::Debug for Exporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exporter")
            .field("url", &self.url)
            .field("header_names", &header_names(&self.headers))
            .field("queued", &self.queue.queued())
            .field("in_flight", &self.queue.in_flight())
            .field("gzip", &self.gzip)
            .finish_non_exhaustive()
    }
}

impl Exporter {
    /// An exporter for `config`, posting to `url` with `headers`.
    pub fn new(
        config: &ExportConfig,
        encoder: OtlpEncoder,
        url: String,
        headers: Vec<(String, String)>,
    ) -> Self {
        Self {
            queue: BatchQueue::new(config.batch),
            encoder,
            retry: config.retry,
            url,
            headers,
            gzip: config.gzip,
        }
    }
}

/// Writes a double as JSON with JavaScript's number formatting (shortest round-trip text,
/// as Rust's), keeping Rust's float formatter out of the wasm module.
pub fn js_f64(v: f64, out: &mut String) {
    if push_non_finite(v, out) {
        return;
    }
    if v == 0.0 && v.is_sign_negative() {
        out.push_str("-0.0");
    } else {
        out.push_str(&crate::convert::number_to_string(v));
    }
}

fn debug(msg: impl FnOnce() -> String) {
    if state::debug_enabled() {
        debug_log(&msg());
    }
}

/// Queues a finished span for export at `now_ms`. Returns the delay to arm the export
/// timer with.
pub fn enqueue(data: SpanData, now_ms: u64) -> Option<u64> {
    let push =
        with_sdk(|sdk| sdk.exporter.as_mut().map(|e| e.queue.push(data, now_ms))).flatten()?;
    match push {
        Push::Arm(ms) => Some(ms),
        Push::Queued => None,
        // Only items pause (Rollbar's 429); spans are never paused.
        Push::Dropped | Push::Paused => {
            count(|s| s.spans_dropped += 1);
            let dropped = state::stats().spans_dropped;
            // 1st, 10th, 100th, ... drop: visible without flooding the console.
            let digits = dropped.to_string();
            if digits.starts_with('1') && digits[1..].bytes().all(|b| b == b'0') {
                debug(|| {
                    format!(
                        "edge-telemetry: export queue full, {dropped} span(s) dropped so far (batch.maxQueueSize)"
                    )
                });
            }
            None
        }
    }
}

/// What `export.js` needs: `{url, headers: [name, value, ...], timeoutMillis, gzip}`, or
/// `undefined` when export is off.
#[wasm_bindgen(js_name = exportSettings)]
pub fn export_settings() -> JsValue {
    with_sdk(|sdk| {
        let e = sdk.exporter.as_ref()?;
        let o = Object::new();
        let headers = Array::new();
        for (k, v) in &e.headers {
            headers.push(&JsValue::from_str(k));
            headers.push(&JsValue::from_str(v));
        }
        let set = |k: &str, v: &JsValue| Reflect::set(&o, &JsValue::from_str(k), v).ok();
        set("url", &JsValue::from_str(&e.url));
        set("headers", &headers);
        set(
            "timeoutMillis",
            &JsValue::from_f64(f64::from(e.queue.config().export_timeout_millis)),
        );
        set("gzip", &JsValue::from_bool(e.gzip));
        Some(o.into())
    })
    .flatten()
    .unwrap_or(JsValue::UNDEFINED)
}

/// The next batch due, encoded, as `[id, body, ...]` (one pair, or on the page-hide path
/// several, each body under 60 KiB); `undefined` when nothing is due.
#[wasm_bindgen(js_name = exportTake)]
pub fn export_take(hidden: bool) -> JsValue {
    let parts = with_sdk(|sdk| {
        let e = sdk.exporter.as_mut()?;
        let mode = if hidden {
            TakeMode::Hidden
        } else {
            TakeMode::Due
        };
        let batch = e.queue.take(now_millis(), mode)?;
        let bodies = if hidden {
            e.encoder
                .encode_chunked(&batch.items, HIDDEN_MAX_BODY_BYTES)
        } else {
            vec![(e.encoder.encode(&batch.items), batch.items.len() as u32)]
        };
        let ids = if bodies.len() > 1 {
            let counts: Vec<u32> = bodies.iter().map(|(_, n)| *n).collect();
            e.queue.split(batch.id, &counts)?
        } else {
            vec![batch.id]
        };
        Some((ids, bodies, e.queue.queued()))
    })
    .flatten();
    let Some((ids, bodies, queued)) = parts else {
        return JsValue::UNDEFINED;
    };
    let out = Array::new();
    let mut bytes = 0;
    let mut spans = 0;
    for (id, (body, n)) in ids.into_iter().zip(bodies) {
        bytes += body.len() as u64;
        spans += n;
        out.push(&JsValue::from_f64(f64::from(id)));
        out.push(&Uint8Array::from(body.as_bytes()).into());
    }
    count(|s| {
        s.export_bytes += bytes;
        s.export_requests += out.length() as u64 / 2;
    });
    debug(|| {
        format!(
            "edge-telemetry: exporting {spans} span(s) in {} request(s), {bytes} bytes of JSON{}; {queued} still queued",
            out.length() / 2,
            if hidden {
                " (page hidden: keepalive)"
            } else {
                ""
            },
        )
    });
    out.into()
}

/// Records how an attempt to send batch `id` ended (`status` 0: no response) and returns
/// the delay before retrying it, or -1 when the batch is done (acknowledged or given up).
#[wasm_bindgen(js_name = exportResult)]
pub fn export_result(
    id: u32,
    status: u32,
    retry_after: Option<String>,
    body: Option<String>,
) -> f64 {
    let status = status.min(999) as u16;
    let ended = with_sdk(|sdk| {
        let e = sdk.exporter.as_mut()?;
        e.queue.attempt_ended(
            id,
            status,
            retry_after.as_deref(),
            now_millis(),
            &e.retry,
            unit_random(),
        )
    })
    .flatten();
    let Some((outcome, spans)) = ended else {
        return -1.0;
    };
    match outcome {
        ExportOutcome::Success => {
            let rejected = body
                .as_deref()
                .and_then(parse_partial_success)
                .map(|p| {
                    debug(|| {
                        format!(
                            "edge-telemetry: endpoint accepted {spans} span(s) but rejected {}: {}",
                            p.rejected_spans, p.error_message
                        )
                    });
                    p.rejected_spans.min(spans)
                })
                .unwrap_or(0);
            count(|s| {
                s.spans_exported += spans - rejected;
                s.spans_rejected += rejected;
            });
            debug(|| format!("edge-telemetry: export of {spans} span(s) acknowledged ({status})"));
            -1.0
        }
        ExportOutcome::Retry { delay_millis } => {
            count(|s| {
                s.export_retries += 1;
                s.export_requests += 1;
            });
            debug(|| {
                format!(
                    "edge-telemetry: export of {spans} span(s) failed ({}), retrying in {delay_millis} ms",
                    describe(status)
                )
            });
            delay_millis as f64
        }
        ExportOutcome::Failed(reason) => {
            count(|s| s.spans_export_failed += spans);
            debug(|| {
                let why = match reason {
                    FailReason::NotRetryable(_) => "not retryable",
                    FailReason::AttemptsExhausted => "retry.maxAttempts reached",
                    FailReason::DeadlineExceeded => "batch.exportTimeoutMillis reached",
                    FailReason::RateLimited { .. } => "rate limited",
                };
                format!(
                    "edge-telemetry: export of {spans} span(s) failed ({}), {why}: {spans} span(s) dropped",
                    describe(status)
                )
            });
            -1.0
        }
    }
}

fn describe(status: u16) -> String {
    if status == 0 {
        "network error or timeout".to_owned()
    } else {
        format!("HTTP {status}")
    }
}

/// Milliseconds until a batch is due, or -1 (nothing queued, or every export slot busy).
#[wasm_bindgen(js_name = exportNextDue)]
pub fn export_next_due() -> f64 {
    due_ms(with_sdk(|sdk| sdk.exporter.as_ref()?.queue.next_due(now_millis())).flatten())
}

/// A queue's `next_due` for JS: milliseconds, or -1 for none.
pub fn due_ms(due: Option<u64>) -> f64 {
    due.map_or(-1.0, |ms| ms as f64)
}

/// Starts a flush; returns its token (0: nothing to wait for, export is off).
#[wasm_bindgen(js_name = flushBegin)]
pub fn flush_begin() -> u32 {
    with_sdk(|sdk| sdk.exporter.as_mut().map(|e| e.queue.flush()))
        .flatten()
        .unwrap_or(0)
}

/// A flush's state: 0 waiting, 1 everything acknowledged, 2 some spans given up.
#[wasm_bindgen(js_name = flushResult)]
pub fn flush_result(token: u32) -> u32 {
    flush_state(
        with_sdk(|sdk| sdk.exporter.as_mut().map(|e| e.queue.flush_result(token))).flatten(),
    )
}

/// A queue's `flush_result` for JS: 0 waiting, 1 done (or no queue), 2 some given up.
pub fn flush_state(result: Option<Option<bool>>) -> u32 {
    match result {
        Some(None) => 0,
        Some(Some(true)) | None => 1,
        Some(Some(false)) => 2,
    }
}
