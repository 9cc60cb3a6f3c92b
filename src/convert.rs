//! JsValue conversion: the `init` options, attribute values, time inputs, parents, and
//! span data handed to `onSpanEnd`. Every read of a user object is guarded in `wasm.js`, so
//! getters or proxies that throw are treated as invalid input instead of unwinding through
//! wasm.

use edge_telemetry_bindings::js::{self, JsValue};
use edge_telemetry_bindings::read::{Callback, RegExp};
use edge_telemetry_core::config::{SdkConfig, id_format, schema};
use edge_telemetry_core::export::retry::RetryConfig;
use edge_telemetry_core::model::{
    Array as ValueArray, KeyValue, SpanContext, SpanId, Status, StringValue, TraceFlags, TraceId,
    TraceState, Value,
};
use edge_telemetry_core::prelude::*;
use edge_telemetry_core::propagation::{
    format_traceparent, format_tracestate, parse_hex_bytes, parse_traceparent,
};
use edge_telemetry_core::sdk::Parent;
use edge_telemetry_core::text::decimal;
use edge_telemetry_core::time::{hrtime_to_unix_nanos, time_input_to_unix_nanos};
use edge_telemetry_core::trace::span::{SpanData, span_kind_code, status_code, status_from_code};

pub use edge_telemetry_bindings::read::{
    MAX_ARRAY_ITEMS, array_items, get, number_to_string, read_bool, read_count,
    read_rollbar_channel, read_rules, read_string, read_strings, regex_matches,
};

/// The property on the JS `Span` object holding its handle.
pub const SPAN_HANDLE_PROPERTY: &str = "__edgeSpanId";

/// Options the glue keeps as JS values next to the core config.
#[derive(Debug)]
pub struct InitOptions {
    /// The validated core configuration.
    pub config: SdkConfig,
    /// RegExp rules of `propagateTraceHeaderCorsUrls`.
    pub regex_rules: Vec<RegExp>,
    /// `onSpanEnd`.
    pub on_span_end: Option<Callback>,
}

/// Calls `put` for each count of the group option `name` (its fields in `group`) present.
fn read_counts(obj: &JsValue, name: &str, group: &[schema::Opt], mut put: impl FnMut(&str, u32)) {
    let g = get(obj, name);
    for o in group {
        if let Some(n) = read_count(&g, o.name) {
            put(o.name, n);
        }
    }
}

/// Reads the export, resource, sampling and automatic-span options.
fn read_export_options(options: &JsValue, config: &mut SdkConfig) {
    config.service_version = read_string(options, "serviceVersion");
    config.environment = read_string(options, "environment");
    read_attributes(
        &get(options, "resourceAttributes"),
        &mut config.resource_attributes,
    );
    let e = &mut config.export;
    e.api_key = read_string(options, "apiKey");
    e.endpoint = read_string(options, "endpoint");
    e.traces_endpoint = read_string(options, "tracesEndpoint");
    e.logs_endpoint = read_string(options, "logsEndpoint");
    e.dataset = read_string(options, "dataset");
    let headers = get(options, "headers");
    // Only an object: `Reflect.ownKeys(undefined)` throws, and the page's first exception
    // costs milliseconds (V8 computes the bundle's line positions for its stack), which the
    // engine's first `init` paid on every page without `headers`.
    if let Some(keys) = js::keys(&headers).as_ref().and_then(array_items) {
        for key in keys {
            let value = js::get_value(&headers, &key).as_string();
            if let (Some(name), Some(value)) = (key.as_string(), value) {
                e.headers.push((name, value));
            }
        }
    }
    e.gzip = read_string(options, "compression").as_deref() != Some("none");
    let b = &mut e.batch;
    read_counts(options, "batch", schema::BATCH, |key, n| match key {
        "scheduledDelayMillis" => b.scheduled_delay_millis = n,
        "maxQueueSize" => b.max_queue_size = n,
        "maxExportBatchSize" => b.max_export_batch_size = n,
        "exportTimeoutMillis" => b.export_timeout_millis = n,
        _ => b.max_concurrent_exports = n,
    });
    let r: &mut RetryConfig = &mut e.retry;
    read_counts(options, "retry", schema::RETRY, |key, n| match key {
        // Validated for compatibility, and ignored: batches that fail for a retryable reason
        // are retried while the queue holds them (issue 17).
        "maxAttempts" => {}
        "initialBackoffMillis" => r.initial_backoff_millis = n,
        _ => r.max_backoff_millis = n,
    });
    config.sample_rate = read_count(options, "sampleRate").unwrap_or(config.sample_rate);
    if let Some(ms) = read_count(options, "sessionInactivityTimeoutMillis") {
        config.session_inactivity_millis = u64::from(ms);
    }
    config.instrument_document_load = read_bool(options, "instrumentDocumentLoad", true);
    if let Some(events) = read_strings(options, "userInteractionEvents") {
        config.interaction_events = events;
    }
}

/// Reads the `init` options, as the facade (`options.js`) checked them against
/// [`schema::OPTIONS`]: anything else is left at its default.
pub fn read_init_options(options: &JsValue) -> InitOptions {
    let mut config = SdkConfig::default();
    if let Some(name) = read_string(options, "serviceName") {
        config.service_name = name;
    }
    config.instrument_fetch = read_bool(options, "instrumentFetch", true);
    config.instrument_xhr = read_bool(options, "instrumentXhr", true);
    config.debug = read_bool(options, "debug", false);
    config.xray_header = read_bool(options, "addXRayTraceIdHeader", false);
    let (strings, regex_rules) = read_rules(options, "propagateTraceHeaderCorsUrls");
    config.propagate_trace_header_cors_urls = strings;
    let l = &mut config.span_limits;
    read_counts(
        options,
        "spanLimits",
        schema::SPAN_LIMITS,
        |key, n| match key {
            "attributeCountLimit" => l.attribute_count_limit = n,
            "attributeValueLengthLimit" => l.attribute_value_length_limit = Some(n),
            "eventCountLimit" => l.event_count_limit = n,
            "linkCountLimit" => l.link_count_limit = n,
            "attributePerEventCountLimit" => l.attribute_per_event_count_limit = n,
            _ => l.attribute_per_link_count_limit = n,
        },
    );
    if let Some(ids) = read_string(options, "idGenerator") {
        config.id_format = Some(id_format(&ids));
    }
    let on_span_end = Callback::of(get(options, "onSpanEnd"));
    read_export_options(options, &mut config);
    // The rest of the `rollbar` options is the item encoder's (edge_telemetry_errors).
    read_rollbar_channel(options, &mut config.rollbar);
    InitOptions {
        config,
        regex_rules,
        on_span_end,
    }
}

/// A span name from any value: strings as they are, numbers and booleans as text, anything
/// else `None` (the caller counts it and uses a placeholder).
pub fn to_name(v: &JsValue) -> Option<String> {
    if let Some(s) = v.as_string() {
        return Some(s);
    }
    if let Some(n) = v.as_f64() {
        return Some(number_to_string(n));
    }
    v.as_bool().map(|b| edge_telemetry_core::cat!(b))
}

/// An attribute value as text (for baggage), without Rust's float formatting.
pub fn value_to_string(v: &Value) -> String {
    match v {
        Value::F64(f) => number_to_string(*f),
        Value::String(s) => s.as_str().to_owned(),
        Value::I64(i) => edge_telemetry_core::cat!(*i),
        Value::Bool(b) => edge_telemetry_core::cat!(*b),
        other => js::json(&value_to_js(other)).unwrap_or_default(),
    }
}

/// Sets `traceId` and `spanId` (lowercase hex) on `o`.
fn set_ids(o: &JsValue, ctx: &SpanContext) {
    set(
        o,
        "traceId",
        &JsValue::from_str(&hex(&ctx.trace_id().to_bytes())),
    );
    set(
        o,
        "spanId",
        &JsValue::from_str(&hex(&ctx.span_id().to_bytes())),
    );
}

/// Largest integer a JS number represents exactly.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// A JS number as an attribute value: an int when it is a safe integer, else a double.
pub fn number_value(n: f64) -> Value {
    if edge_telemetry_core::float::is_integral(n) && n.abs() <= MAX_SAFE_INTEGER {
        Value::I64(n as i64)
    } else {
        Value::F64(n)
    }
}

/// An attribute value: string, number, boolean, or an array of one of those (integers
/// become int values, other numbers doubles). `None` for anything else.
pub fn to_value(v: &JsValue) -> Option<Value> {
    if let Some(s) = v.as_string() {
        return Some(Value::String(s.into()));
    }
    if let Some(n) = v.as_f64() {
        return Some(number_value(n));
    }
    if let Some(b) = v.as_bool() {
        return Some(Value::Bool(b));
    }
    let items = array_items(v)?;
    let first = items.first();
    if first.is_none_or(|f| f.is_string()) {
        let strings: Option<Vec<StringValue>> = items
            .iter()
            .map(|i| i.as_string().map(StringValue::from))
            .collect();
        return strings.map(|s| Value::Array(ValueArray::String(s)));
    }
    if first.is_some_and(|f| f.as_bool().is_some()) {
        let bools: Option<Vec<bool>> = items.iter().map(JsValue::as_bool).collect();
        return bools.map(|b| Value::Array(ValueArray::Bool(b)));
    }
    let numbers: Option<Vec<f64>> = items.iter().map(JsValue::as_f64).collect();
    let numbers = numbers?;
    if numbers
        .iter()
        .all(|n| matches!(number_value(*n), Value::I64(_)))
    {
        Some(Value::Array(ValueArray::I64(
            numbers.iter().map(|n| *n as i64).collect(),
        )))
    } else {
        Some(Value::Array(ValueArray::F64(numbers)))
    }
}

/// Reads the own enumerable string-keyed properties of `obj` (`Object.keys`, as
/// OpenTelemetry JS reads attributes, and as `ops.js` does) as attributes; returns how many
/// were invalid (non-object input counts as one).
pub fn read_attributes(obj: &JsValue, out: &mut Vec<KeyValue>) -> u64 {
    if obj.is_undefined() || obj.is_null() {
        return 0;
    }
    if !obj.is_object() || obj.is_function() {
        return 1;
    }
    let Some(keys) = js::keys(obj).as_ref().and_then(array_items) else {
        return 1;
    };
    let mut invalid = 0;
    for key in keys {
        let Some(name) = key.as_string().filter(|k| !k.is_empty()) else {
            invalid += 1;
            continue;
        };
        match to_value(&js::get_value(obj, &key)) {
            Some(value) => out.push(KeyValue::new(name, value)),
            None => invalid += 1,
        }
    }
    invalid
}

/// An argument that is present but not valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Invalid;

/// A time input (`number` epoch ms or performance.now() ms, `Date`, `[seconds, nanos]`)
/// in epoch nanoseconds; `Ok(None)` when absent.
pub fn to_time(v: &JsValue, time_origin_ms: f64) -> Result<Option<u64>, Invalid> {
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    let nanos = if let Some(ms) = v.as_f64() {
        return number_time(ms, time_origin_ms);
    } else if let Some(ms) = js::date_time(v) {
        time_input_to_unix_nanos(ms, 0.0)
    } else if let Some(items) = array_items(v) {
        match items.as_slice() {
            [s, n] => hrtime_to_unix_nanos(s.as_f64().unwrap_or(-1.0), n.as_f64().unwrap_or(-1.0)),
            _ => None,
        }
    } else {
        None
    };
    nanos.map(Some).ok_or(Invalid)
}

/// A time given as a number (epoch ms, or a `performance.now()` reading) in epoch nanoseconds.
pub fn number_time(ms: f64, time_origin_ms: f64) -> Result<Option<u64>, Invalid> {
    time_input_to_unix_nanos(ms, time_origin_ms)
        .map(Some)
        .ok_or(Invalid)
}

/// Reads a span reference: a `Span` (by its handle), a `{traceId, spanId, traceFlags}`
/// object, a `traceparent` string, or `null` (explicitly none: [`Parent::Root`]).
pub fn to_parent(v: &JsValue) -> Parent {
    if v.is_null() {
        return Parent::Root;
    }
    if let Some(h) = v.as_f64() {
        // A span's handle, as the JS layer passes spans.
        return if h >= 1.0 && h <= f64::from(u32::MAX) && edge_telemetry_core::float::is_integral(h)
        {
            Parent::Span(h as u32)
        } else {
            Parent::Invalid
        };
    }
    if let Some(s) = v.as_string() {
        return parse_traceparent(&[s.as_str()]).map_or(Parent::Invalid, |tp| {
            Parent::Context(SpanContext::new(
                tp.trace_id,
                tp.parent_id,
                tp.flags,
                true,
                TraceState::default(),
            ))
        });
    }
    if !v.is_object() {
        return Parent::Invalid;
    }
    let prop = |k: &str| get(v, k);
    if let Some(h) = prop(SPAN_HANDLE_PROPERTY).as_f64() {
        return Parent::Span(h as u32);
    }
    span_context_from_object(v, &prop).map_or(Parent::Invalid, Parent::Context)
}

fn span_context_from_object(v: &JsValue, prop: &dyn Fn(&str) -> JsValue) -> Option<SpanContext> {
    let _ = v;
    let trace_id = parse_hex_bytes::<16>(&prop("traceId").as_string()?)?;
    let span_id = parse_hex_bytes::<8>(&prop("spanId").as_string()?)?;
    let flags = prop("traceFlags").as_f64().unwrap_or(0.0);
    let is_remote = prop("isRemote").as_bool().unwrap_or(false);
    let trace_state = prop("traceState")
        .as_string()
        .and_then(|s| edge_telemetry_core::propagation::parse_tracestate(&[s.as_str()]))
        .unwrap_or_default();
    let ctx = SpanContext::new(
        TraceId::from_bytes(trace_id),
        SpanId::from_bytes(span_id),
        TraceFlags::new(flags as u8),
        is_remote,
        trace_state,
    );
    ctx.is_valid().then_some(ctx)
}

/// A status from `{code, message}` (codes as OpenTelemetry JS: 0 unset, 1 ok, 2 error).
pub fn to_status(v: &JsValue) -> Option<Status> {
    let code = get(v, "code").as_f64()?;
    let message = get(v, "message").as_string();
    status_from_code(code, message)
}

/// `(type, message, stacktrace)` of a thrown value: an Error's name/message/stack, or a
/// string as the message.
pub fn exception_fields(v: &JsValue) -> Option<(String, String, Option<String>)> {
    if let Some(s) = v.as_string() {
        return Some(("Error".into(), s, None));
    }
    if !v.is_object() {
        return None;
    }
    let prop = |k: &str| get(v, k).as_string();
    let message = prop("message")?;
    Some((
        prop("name").unwrap_or_else(|| "Error".into()),
        message,
        prop("stack"),
    ))
}

/// `spanContext()` of a span, as OpenTelemetry JS shapes it.
pub fn span_context_to_js(ctx: &SpanContext) -> JsValue {
    let o = js::object();
    set_ids(&o, ctx);
    set(&o, "traceFlags", &JsValue::from(ctx.trace_flags().to_u8()));
    set(
        &o,
        "traceState",
        &JsValue::from_str(&format_tracestate(ctx.trace_state())),
    );
    set(&o, "isRemote", &JsValue::from_bool(ctx.is_remote()));
    o
}

/// The `traceparent` header value of a context.
pub fn traceparent_of(ctx: &SpanContext) -> String {
    format_traceparent(ctx.trace_id(), ctx.span_id(), ctx.trace_flags())
}

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    edge_telemetry_core::propagation::write_hex(&mut s, bytes);
    s
}

fn set(o: &JsValue, k: &str, v: &JsValue) {
    js::set(o, k, v);
}

fn value_to_js(v: &Value) -> JsValue {
    match v {
        Value::Bool(b) => JsValue::from_bool(*b),
        Value::I64(i) => JsValue::from_f64(*i as f64),
        Value::F64(f) => JsValue::from_f64(*f),
        Value::String(s) => JsValue::from_str(s.as_str()),
        Value::Array(a) => {
            let out = js::array();
            match a {
                ValueArray::Bool(x) => x.iter().for_each(|b| {
                    js::push(&out, &JsValue::from_bool(*b));
                }),
                ValueArray::I64(x) => x.iter().for_each(|i| {
                    js::push(&out, &JsValue::from_f64(*i as f64));
                }),
                ValueArray::F64(x) => x.iter().for_each(|f| {
                    js::push(&out, &JsValue::from_f64(*f));
                }),
                ValueArray::String(x) => x.iter().for_each(|s| {
                    js::push(&out, &JsValue::from_str(s.as_str()));
                }),
            }
            out
        }
    }
}

fn attributes_to_js(attrs: &[KeyValue]) -> JsValue {
    let o = js::object();
    for kv in attrs {
        set(&o, kv.key.as_str(), &value_to_js(&kv.value));
    }
    o
}

/// A finished span as the plain object given to `onSpanEnd` (see `ReadableSpan` in the
/// package's typings).
pub fn span_data_to_js(s: &SpanData) -> JsValue {
    let o = js::object();
    let ctx = &s.span_context;
    set(&o, "name", &JsValue::from_str(&s.name));
    set(&o, "kind", &JsValue::from(span_kind_code(&s.kind)));
    set_ids(&o, ctx);
    if s.parent_span_id != SpanId::INVALID {
        set(
            &o,
            "parentSpanId",
            &JsValue::from_str(&hex(&s.parent_span_id.to_bytes())),
        );
    }
    set(&o, "traceFlags", &JsValue::from(ctx.trace_flags().to_u8()));
    set(
        &o,
        "traceState",
        &JsValue::from_str(&format_tracestate(ctx.trace_state())),
    );
    set(
        &o,
        "startTimeUnixNano",
        &JsValue::from_str(&decimal(s.start_time_unix_nano)),
    );
    set(
        &o,
        "endTimeUnixNano",
        &JsValue::from_str(&decimal(s.end_time_unix_nano)),
    );
    set(&o, "attributes", &attributes_to_js(&s.attributes));
    let events = js::array();
    for e in &s.events {
        let eo = js::object();
        set(&eo, "name", &JsValue::from_str(&e.name));
        set(
            &eo,
            "timeUnixNano",
            &JsValue::from_str(&decimal(e.time_unix_nano)),
        );
        set(&eo, "attributes", &attributes_to_js(&e.attributes));
        js::push(&events, &eo);
    }
    set(&o, "events", &events);
    let links = js::array();
    for l in &s.links {
        let lo = js::object();
        set(
            &lo,
            "traceId",
            &JsValue::from_str(&hex(&l.span_context.trace_id().to_bytes())),
        );
        set(
            &lo,
            "spanId",
            &JsValue::from_str(&hex(&l.span_context.span_id().to_bytes())),
        );
        set(&lo, "attributes", &attributes_to_js(&l.attributes));
        js::push(&links, &lo);
    }
    set(&o, "links", &links);
    let status = js::object();
    let (code, message) = status_code(&s.status);
    set(&status, "code", &JsValue::from(code));
    if let Some(m) = message.filter(|m| !m.is_empty()) {
        set(&status, "message", &JsValue::from_str(m));
    }
    set(&o, "status", &status);
    set(
        &o,
        "droppedAttributesCount",
        &JsValue::from(s.dropped_attributes_count),
    );
    set(
        &o,
        "droppedEventsCount",
        &JsValue::from(s.dropped_events_count),
    );
    set(
        &o,
        "droppedLinksCount",
        &JsValue::from(s.dropped_links_count),
    );
    o
}
