//! The functions the npm package's `index.js` calls. They never throw for bad arguments
//! (bad input is counted in `getStats().invalidArguments` and, in debug mode, logged);
//! only `init` reports errors, as one `Error` naming the field.

use core::cell::RefCell;
use edge_telemetry_bindings::js::{self, JsValue};
use edge_telemetry_bindings::read::Callback;
use edge_telemetry_bindings::read::RegExp;
use edge_telemetry_core::boundary::{Instrumentation, Outcome, RequestApi, StartFlag};
use edge_telemetry_core::errors::rollbar::DEFAULT_ENDPOINT;
use edge_telemetry_core::export::exporter::{export_headers, logs_url, traces_url};
use edge_telemetry_core::export::otlp::OtlpEncoder;
use edge_telemetry_core::export::otlp_logs::{LogsEncoder, Severity};
use edge_telemetry_core::model::{Key, KeyValue, SpanContext, SpanKind, Value};
use edge_telemetry_core::prelude::*;
use edge_telemetry_core::propagation::Baggage;
use edge_telemetry_core::resource::{ResourceConfig, SDK_NAME, SDK_VERSION, resource_attributes};
use edge_telemetry_core::sdk::{Parent, SpanStart, item_channel, log_channel, span_channel};
use edge_telemetry_core::trace::context::{Depth, ScopeId};
use edge_telemetry_core::trace::ids::AnyIdGenerator;
use edge_telemetry_core::trace::span::{span_kind_from_code, span_kind_from_name};
use edge_telemetry_core::trace::table::SpanHandle;
use edge_telemetry_core::web::http::HttpOutcome;
use edge_telemetry_core::web::page::NAVIGATION_TIMING_EVENTS;

use crate::convert;
use crate::export::{self, deliver};
use crate::local::Local;
use crate::platform::{BrowserClock, browser_info, current_page_url, debug_log, random_seed};
use crate::state::{self, Engine, Sdk, count, store_session, with_engine, with_sdk};

pub(crate) fn invalid(what: &str) {
    count(|s| s.invalid_arguments += 1);
    if state::debug_enabled() {
        debug_log(&edge_telemetry_core::cat!(
            "edge-telemetry: ignored an invalid argument to ",
            what
        ));
    }
}

/// Whether `url` matches one of the page's RegExp rules.
fn regex_match(rules: &[RegExp]) -> impl FnOnce(&str) -> bool + '_ {
    move |url| rules.iter().any(|re| convert::regex_matches(re, url))
}

/// Resolves the traces URL against the page (so a relay path like `/otlp` works).
/// `url` resolved against the page (a relative path like `/otlp` works), when it is http(s).
fn resolve_http_url(url: &str, page: Option<&str>) -> Option<String> {
    js::url_href(url, page).filter(|u| u.starts_with("http:") || u.starts_with("https:"))
}

/// The resource of the page's spans and logs.
fn resource(cfg: &edge_telemetry_core::config::SdkConfig, global: &JsValue) -> Vec<KeyValue> {
    resource_attributes(
        ResourceConfig {
            service_name: &cfg.service_name,
            service_version: cfg.service_version.as_deref(),
            environment: cfg.environment.as_deref(),
            extra: cfg.resource_attributes.clone(),
        },
        &browser_info(global),
    )
}

/// Initialises the SDK with options the facade checked (`options.js`, from core's
/// `config::schema`). Returns `true`, or `false` when it was already initialised (nothing
/// changes). `schedule(channel, ms)` arms `export.js`'s timer of a channel; `epoch()` gives
/// the page's task number (see `requestEnd`); `stored_session`: what sessionStorage held
/// under `SESSION_STORAGE_KEY` (the facade reads it while the module loads: the first read
/// of a page's sessionStorage costs 1-5 ms, then off the path to a ready engine); `global`:
/// the page's `globalThis` (its `location` and `navigator` are read from it).
pub fn init(
    options: JsValue,
    schedule: JsValue,
    epoch: JsValue,
    stored_session: Option<String>,
    global: JsValue,
) -> bool {
    let opts = convert::read_init_options(&options);
    let page = current_page_url(&global);
    let cfg = &opts.config;
    // The facade checked the URLs; one that still does not resolve turns its channel off.
    let export_url = cfg
        .export
        .enabled()
        .then(|| {
            let url = traces_url(
                cfg.export.endpoint.as_deref(),
                cfg.export.traces_endpoint.as_deref(),
            );
            resolve_http_url(&url, page.as_deref())
        })
        .flatten();
    let exporter = if let Some(url) = export_url {
        let (headers, warnings) = export_headers(
            cfg.export.api_key.as_deref(),
            cfg.export.dataset.as_deref(),
            &cfg.export.headers,
        );
        if cfg.debug {
            for w in warnings {
                debug_log(&edge_telemetry_core::cat!("edge-telemetry: ", w.message()));
            }
        }
        let resource = resource(cfg, &global);
        let encoder = OtlpEncoder::new(&resource, SDK_NAME, SDK_VERSION, export::js_f64);
        Some(span_channel(&cfg.export, encoder, url, headers))
    } else {
        None
    };
    let item_url = cfg
        .rollbar
        .reporting()
        .then(|| {
            let endpoint = cfg.rollbar.endpoint.as_deref().unwrap_or(DEFAULT_ENDPOINT);
            resolve_http_url(endpoint, page.as_deref())
        })
        .flatten();
    let items =
        item_url.map(|url| item_channel(&cfg.export, url, cfg.rollbar.access_token.as_deref()));
    let logs = logs_url(
        cfg.export.endpoint.as_deref(),
        cfg.export.logs_endpoint.as_deref(),
        cfg.export.api_key.is_some(),
    )
    .and_then(|url| resolve_http_url(&url, page.as_deref()))
    .map(|url| {
        let (headers, _) = export_headers(
            cfg.export.api_key.as_deref(),
            cfg.export.dataset.as_deref(),
            &cfg.export.headers,
        );
        let resource = resource(cfg, &global);
        let encoder = LogsEncoder::new(&resource, SDK_NAME, SDK_VERSION, export::js_f64);
        log_channel(&cfg.export, encoder, url, headers)
    });
    if state::is_initialized() {
        if opts.config.debug {
            debug_log("edge-telemetry: init called again; the first configuration stays");
        }
        return false;
    }
    let ids = AnyIdGenerator::new(opts.config.ids(), random_seed());
    let debug = opts.config.debug;
    let export_on = exporter.is_some();
    let mut engine = Engine::new(
        opts.config,
        ids,
        BrowserClock,
        page,
        stored_session.as_deref(),
    );
    store_session(&mut engine);
    if let Some(spans) = exporter {
        engine.set_span_channel(spans);
    }
    if let Some(items) = items {
        engine.set_item_channel(items);
    }
    if let Some(logs) = logs {
        engine.set_log_channel(logs);
    }
    let sdk = Sdk {
        engine,
        regex_rules: opts.regex_rules,
        on_span_end: opts.on_span_end,
        schedule: Callback::of(schedule),
        epoch: Callback::of(epoch),
    };
    let installed = state::install(sdk);
    if installed && debug {
        debug_log(if export_on {
            "edge-telemetry: initialised (debug mode: exports, drops and failures are logged)"
        } else {
            "edge-telemetry: initialised without export (no apiKey, endpoint or tracesEndpoint); debug mode logs drops and failures"
        });
    }
    installed
}

/// Which instrumentations `init` enabled: the sum of their [`Instrumentation`] values.
pub fn instrumentations() -> u32 {
    with_sdk(|s| {
        let c = s.engine.config();
        [
            (c.instrument_fetch, Instrumentation::Fetch),
            (c.instrument_xhr, Instrumentation::Xhr),
            (c.instrument_document_load, Instrumentation::DocumentLoad),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, i)| i as u32)
        .sum()
    })
    .unwrap_or(0)
}

/// The event types that start an interaction span (`userInteractionEvents`).
pub fn interaction_events() -> Vec<String> {
    with_sdk(|s| s.engine.config().interaction_events.clone()).unwrap_or_default()
}

/// The page moved from `from` to `to` without loading (history API, hash change).
pub fn navigation(from: String, to: String) {
    with_sdk(|s| s.engine.navigation(&from, &to));
}

/// `log.info(message, attributes)` and the others, and captured console calls: `severity` a
/// `Severity` value, `body` the message as the facade rendered it.
pub fn log(severity: u32, body: String, attributes: JsValue) {
    let Some(severity) = Severity::from_code(severity) else {
        invalid("log (severity)");
        return;
    };
    let mut attrs = Vec::new();
    if convert::read_attributes(&attributes, &mut attrs) > 0 {
        invalid("log (attributes)");
    }
    export::queued(
        edge_telemetry_core::boundary::Channel::Logs,
        with_sdk(|s| s.engine.log(severity, Value::from(body), attrs, None)),
    );
}

pub(crate) fn parse_kind(v: &JsValue) -> Option<SpanKind> {
    if v.is_undefined() {
        return Some(SpanKind::Internal);
    }
    match v.as_string() {
        Some(name) => span_kind_from_name(&name),
        None => v.as_f64().and_then(span_kind_from_code),
    }
}

fn opt(options: &JsValue, key: &str) -> JsValue {
    js::get(options, key)
}

/// Starts a span; returns its handle (0 before `init`). The JS layer passes the options'
/// fields (`kind`, `attributes`, `startTime`, `parent` — a span as its handle —, `links`)
/// one by one: reading them here by name would cost a JS string per key and call.
/// `flags`: a sum of [`StartFlag`] values. (Most starts come through [`crate::ops`] instead.)
pub fn start_span(
    name: JsValue,
    kind: JsValue,
    attributes: JsValue,
    start_v: JsValue,
    parent_v: JsValue,
    links_v: JsValue,
    flags: u32,
) -> SpanHandle {
    state::release_requests();
    if !state::is_initialized() {
        return 0;
    }
    let mut attrs = Vec::new();
    let bad_attrs = convert::read_attributes(&attributes, &mut attrs);
    let parent = if parent_v.is_undefined() {
        Parent::Active
    } else {
        convert::to_parent(&parent_v)
    };
    let links = if links_v.is_array() {
        convert::array_items(&links_v)
            .unwrap_or_default()
            .into_iter()
            .map(|l| {
                let mut attrs = Vec::new();
                convert::read_attributes(&opt(&l, "attributes"), &mut attrs);
                (convert::to_parent(&opt(&l, "context")), attrs)
            })
            .collect()
    } else {
        Vec::new()
    };
    let start = time_arg(&start_v, "startSpan (startTime)");
    start_read(
        convert::to_name(&name),
        parse_kind(&kind),
        (attrs, bad_attrs),
        parent,
        links,
        start,
        flags,
    )
}

/// Starts a span from its converted arguments (`None`: invalid, counted here).
pub(crate) fn start_read(
    name: Option<String>,
    kind: Option<SpanKind>,
    (attrs, bad_attrs): (Vec<KeyValue>, u64),
    parent: Parent,
    links: Vec<(Parent, Vec<KeyValue>)>,
    start: Option<u64>,
    flags: u32,
) -> SpanHandle {
    let name = name.unwrap_or_else(|| {
        invalid("startSpan (name)");
        "unnamed".to_owned()
    });
    if flags & StartFlag::BadOptions as u32 != 0 {
        invalid("startSpan (options)");
    }
    let kind = kind.unwrap_or_else(|| {
        invalid("startSpan (kind)");
        SpanKind::Internal
    });
    if bad_attrs > 0 {
        count(|s| s.attributes_dropped += bad_attrs);
    }
    if parent == Parent::Invalid {
        invalid("startSpan (parent)");
    }
    let parent = match parent {
        _ if flags & StartFlag::Root as u32 != 0 => Parent::Root,
        Parent::Invalid => Parent::Active,
        p => p,
    };
    with_engine(|e| {
        e.start_span(SpanStart {
            name,
            kind,
            parent,
            attributes: attrs,
            links,
            start,
        })
    })
    .unwrap_or(0)
}

/// `span.setAttribute(key, value)`.
pub fn span_set_attribute(handle: SpanHandle, key: JsValue, value: JsValue) {
    set_attribute_read(
        handle,
        key.as_string().filter(|k| !k.is_empty()),
        convert::to_value(&value),
    );
}

/// `span.setAttribute` with converted arguments (`None`: invalid, counted here).
pub(crate) fn set_attribute_read(
    handle: SpanHandle,
    key: Option<impl Into<Key>>,
    value: Option<Value>,
) {
    let (Some(key), Some(value)) = (key, value) else {
        count(|s| s.attributes_dropped += 1);
        invalid("setAttribute");
        return;
    };
    with_sdk(|s| s.engine.set_attribute(handle, KeyValue::new(key, value)));
}

/// `span.setAttributes(attributes)`.
pub fn span_set_attributes(handle: SpanHandle, attributes: JsValue) {
    let mut kvs = Vec::new();
    let bad = convert::read_attributes(&attributes, &mut kvs);
    set_attributes_read(handle, (kvs, bad));
}

/// `span.setAttributes` with converted attributes and how many were invalid.
pub(crate) fn set_attributes_read(handle: SpanHandle, (kvs, bad): (Vec<KeyValue>, u64)) {
    if bad > 0 {
        count(|s| s.attributes_dropped += bad);
        invalid("setAttributes");
    }
    with_sdk(|s| s.engine.set_attributes(handle, kvs));
}

/// A time argument: epoch nanoseconds, or `None` for now (absent or invalid). Converted
/// before the SDK state is borrowed: reading it may run page code (array getters, proxies)
/// that throws.
pub(crate) fn time_arg(v: &JsValue, what: &str) -> Option<u64> {
    checked_time(convert::to_time(v, BrowserClock::time_origin_ms()), what)
}

/// A converted time argument; an invalid one is counted and read as now.
pub(crate) fn checked_time(t: Result<Option<u64>, convert::Invalid>, what: &str) -> Option<u64> {
    match t {
        Ok(t) => t,
        Err(convert::Invalid) => {
            invalid(what);
            None
        }
    }
}

/// `span.addEvent(name, attributesOrTime?, time?)`.
pub fn span_add_event(
    handle: SpanHandle,
    name: JsValue,
    attributes_or_time: JsValue,
    time: JsValue,
) {
    let name = convert::to_name(&name).unwrap_or_else(|| {
        invalid("addEvent (name)");
        "unnamed".to_owned()
    });
    let is_time = attributes_or_time.as_f64().is_some()
        || js::date_time(&attributes_or_time).is_some()
        || attributes_or_time.is_array();
    let (attrs_v, time_v) = if is_time {
        (JsValue::UNDEFINED, attributes_or_time)
    } else {
        (attributes_or_time, time)
    };
    let mut attrs = Vec::new();
    if convert::read_attributes(&attrs_v, &mut attrs) > 0 {
        invalid("addEvent (attributes)");
    }
    let time = time_arg(&time_v, "addEvent (time)");
    with_sdk(|s| s.engine.add_event(handle, name, time, attrs));
}

/// `span.setStatus({code, message})`.
pub fn span_set_status(handle: SpanHandle, status: JsValue) {
    match convert::to_status(&status) {
        Some(st) => {
            with_sdk(|s| s.engine.set_status(handle, st));
        }
        None => invalid("setStatus"),
    }
}

/// `span.recordException(exception, time?)`: an `exception` event; the status is left to
/// the caller, as in OpenTelemetry.
pub fn span_record_exception(handle: SpanHandle, exception: JsValue, time: JsValue) {
    let Some((kind, message, stack)) = convert::exception_fields(&exception) else {
        invalid("recordException");
        return;
    };
    let time = time_arg(&time, "recordException (time)");
    with_sdk(|s| {
        s.engine
            .record_exception(handle, kind, message, stack, time)
    });
}

/// `span.updateName(name)`.
pub fn span_update_name(handle: SpanHandle, name: JsValue) {
    match convert::to_name(&name) {
        Some(n) => {
            with_sdk(|s| s.engine.update_name(handle, n));
        }
        None => invalid("updateName"),
    }
}

/// `span.end(endTime?)`. A second call is ignored (counted as a call after end). The span's
/// context stays available to `spanContext()` for a while (see `SpanTable::context`).
pub fn span_end(handle: SpanHandle, end_time: JsValue) {
    end_read(handle, time_arg(&end_time, "end (endTime)"));
}

/// `span.end` with a converted time.
pub(crate) fn end_read(handle: SpanHandle, end: Option<u64>) {
    deliver(with_sdk(|s| s.engine.end(handle, end)).flatten());
}

/// `span.spanContext()`.
pub fn span_context(handle: SpanHandle) -> JsValue {
    let ctx = with_sdk(|s| s.engine.span_context(handle).cloned()).flatten();
    convert::span_context_to_js(&ctx.unwrap_or_else(SpanContext::empty_context))
}

/// `span.traceparent()`; empty for an unknown span.
pub fn span_traceparent(handle: SpanHandle) -> String {
    with_sdk(|s| s.engine.span_context(handle).map(convert::traceparent_of))
        .flatten()
        .unwrap_or_default()
}

/// `span.isRecording()`.
pub fn span_is_recording(handle: SpanHandle) -> bool {
    with_sdk(|s| s.engine.is_recording(handle)).unwrap_or(false)
}

/// What `withSpan`'s span argument refers to (`undefined`: none).
fn scope_target(span: &JsValue) -> Parent {
    if span.is_undefined() {
        Parent::Root
    } else {
        convert::to_parent(span)
    }
}

/// Enters a synchronous scope in which `span` (a Span, span context, traceparent, or
/// null/undefined for none) is active; returns the depth to pass to `exitSpan`. An ended
/// or invalid span leaves the active span unchanged (counted).
pub fn enter_span(span: JsValue) -> u32 {
    let target = scope_target(&span);
    with_sdk(|s| s.engine.enter(target)).map_or(u32::MAX, |d| d.index() as u32)
}

/// Leaves the scopes entered since `enterSpan` returned `depth`.
pub fn exit_span(depth: u32) {
    with_sdk(|s| s.engine.exit(Depth::at(depth as usize)));
}

/// Opens an async scope for `span` (see the context model); returns its id + 1 (0: none).
pub fn open_scope(span: JsValue) -> u32 {
    let target = scope_target(&span);
    with_sdk(|s| s.engine.open_scope(target))
        .flatten()
        .map_or(0, |id| id.index() + 1)
}

/// Closes an async scope opened by `openScope`.
pub fn close_scope(id: u32) {
    if id > 0 {
        with_sdk(|s| s.engine.close_scope(ScopeId::at(id - 1)));
    }
}

/// The active span's handle (0: none, or the active context is remote).
pub fn active_span() -> SpanHandle {
    state::release_requests();
    with_sdk(|s| s.engine.active_span()).unwrap_or(0)
}

/// Sets the page-level W3C baggage sent with every propagated request (`null` clears it).
pub fn set_baggage(entries: JsValue) {
    let mut baggage = Baggage::new();
    if !entries.is_null() && !entries.is_undefined() {
        let mut kvs = Vec::new();
        if convert::read_attributes(&entries, &mut kvs) > 0 {
            invalid("setBaggage");
        }
        for kv in kvs {
            baggage.set(
                kv.key.as_str().to_owned(),
                convert::value_to_string(&kv.value),
            );
        }
    }
    with_sdk(|s| s.engine.set_baggage(&baggage));
}

/// `injectHeaders(headers, url?)`: writes the active span's trace headers into a `Headers`
/// object or a plain object. With `url` (resolved by the caller), only for same-origin or
/// allow-listed URLs. Returns the number of headers written.
pub fn inject_headers(headers: JsValue, url: JsValue) -> u32 {
    state::release_requests();
    let url = if url.is_undefined() || url.is_null() {
        None
    } else {
        url.as_string()
    };
    let list = with_sdk(|s| {
        s.engine
            .inject_headers(url.as_deref(), regex_match(&s.regex_rules))
    })
    .unwrap_or_default();
    let n = list.len() as u32;
    if headers.is_headers() {
        for (k, v) in list.iter() {
            if !js::header_set(&headers, k, v) {
                invalid("injectHeaders");
            }
        }
    } else if headers.is_object() && !headers.is_function() && !headers.is_array() {
        for (k, v) in list.iter() {
            if !js::set(&headers, k, &JsValue::from_str(v)) {
                invalid("injectHeaders");
            }
        }
    } else {
        invalid("injectHeaders");
        return 0;
    }
    n
}

/// An instrumented request starts: the one call the wrappers make before sending it. Starts
/// its CLIENT span under the active span, keeps the active span for the page's callbacks on
/// this request, and pushes the trace headers it must carry onto `out` as one string of
/// lines, name and value in turn (`"traceparent\n00-…"`: one string to copy out of wasm,
/// where each costs a `TextDecoder` call; nothing when the URL is neither same-origin nor
/// allow-listed, or when `own_traceparent`, the page set one itself). Returns the span's
/// handle (0: not instrumented) for [`request_end`].
pub fn request_start(
    method: String,
    url: String,
    api: u32,
    own_traceparent: bool,
    out: JsValue,
) -> SpanHandle {
    let xhr = RequestApi::from_code(api) == Some(RequestApi::Xhr);
    state::release_requests();
    let started = with_sdk(|s| {
        let regex = regex_match(&s.regex_rules);
        let r = s
            .engine
            .request_start(&method, &url, xhr, !own_traceparent, regex);
        store_session(&mut s.engine);
        r
    });
    let Some((handle, headers)) = started else {
        return 0;
    };
    let Ok(mut lines) = HEADER_LINES.try_borrow_mut() else {
        return handle;
    };
    lines.clear();
    for (k, v) in headers.iter() {
        if !lines.is_empty() {
            lines.push('\n');
        }
        lines.push_str(k);
        lines.push('\n');
        lines.push_str(v);
    }
    if lines.is_ascii() {
        // Where the text is in wasm memory: index.js reads it with one String.fromCharCode,
        // instead of the TextDecoder call that a JS string from wasm-bindgen costs (about
        // 1 µs, a tenth of a wrapped fetch's own time).
        if !lines.is_empty() {
            js::push(&out, &JsValue::from(lines.as_ptr() as u32));
            js::push(&out, &JsValue::from(lines.len() as u32));
        }
    } else {
        js::push(&out, &JsValue::from_str(&lines));
    }
    handle
}

/// The trace headers of the last `requestStart`, "name\nvalue\n...": kept (and its capacity
/// reused) until the next one, so that JS can read it from memory.
static HEADER_LINES: Local<RefCell<String>> = Local::new(RefCell::new(String::new()));

/// An instrumented request ended, when it settled: `status` with a response, `error_type`
/// (the error's name) for a network error. Its span ends and goes to `onSpanEnd` and export;
/// the active span the request kept for the page's callbacks stays for the rest of this task
/// (see `Sdk::request_end`).
pub fn request_end(handle: SpanHandle, outcome: u32, status: u32, error_type: Option<String>) {
    let Some(outcome) = Outcome::from_code(outcome) else {
        invalid("requestEnd");
        return;
    };
    let outcome = match outcome {
        Outcome::Response => HttpOutcome::Response(status.min(u32::from(u16::MAX)) as u16),
        Outcome::NetworkError => HttpOutcome::NetworkError(error_type.unwrap_or_default()),
        Outcome::Aborted => HttpOutcome::Aborted,
        Outcome::Timeout => HttpOutcome::Timeout,
    };
    deliver(
        with_sdk(|s| {
            let epoch = s.epoch();
            s.engine.request_end(handle, &outcome, None, epoch)
        })
        .flatten(),
    );
}

/// Replays calls recorded before the module was ready: until called with NaN, the engine's
/// clock reads `ms`, the `performance.now()` value the call was made at.
pub fn replay_at(ms: f64) {
    crate::platform::set_replay_time(ms);
}

/// Counts an invalid argument found by the JS layer.
pub fn count_invalid() {
    invalid("a call");
}

/// Counts an internal fault caught by the JS layer.
pub fn count_fault() {
    count(|s| s.internal_errors += 1);
}

/// `getStats()`: the SDK's counters.
pub fn get_stats() -> JsValue {
    let o = js::object();
    for (k, v) in state::stats().entries() {
        js::set(&o, k, &JsValue::from_f64(v as f64));
    }
    // The module's linear memory (it only grows: a figure that keeps growing is a leak).
    #[cfg(target_arch = "wasm32")]
    let memory = core::arch::wasm32::memory_size(0) as f64 * 65536.0;
    #[cfg(not(target_arch = "wasm32"))]
    let memory = 0.0;
    js::set(&o, "wasmMemoryBytes", &JsValue::from_f64(memory));
    o
}

/// Starts the `documentLoad` span at the navigation's start, under the first valid
/// traceparent of `parents` (meta tag, Server-Timing) or as a root. Returns its handle.
pub fn document_load_start(parents: JsValue) -> SpanHandle {
    let candidates: Vec<String> = convert::array_items(&parents)
        .unwrap_or_default()
        .iter()
        .filter_map(JsValue::as_string)
        .collect();
    let origin = BrowserClock::time_origin_ms();
    with_engine(|e| e.document_load_start(&candidates, origin)).unwrap_or(0)
}

/// Ends the `documentLoad` span with the Navigation Timing `entry`'s events (or now, when
/// the browser has no entry).
pub fn document_load_end(handle: SpanHandle, entry: JsValue) {
    let get = |k: &str| js::get(&entry, k).as_f64().unwrap_or(0.0);
    let values: Vec<f64> = NAVIGATION_TIMING_EVENTS.iter().map(|k| get(k)).collect();
    let status = get("responseStatus");
    let origin = BrowserClock::time_origin_ms();
    deliver(with_sdk(|s| s.engine.document_load_end(handle, &values, origin, status)).flatten());
}

/// Starts a root span for a user interaction (`event_type`, and the target element's tag
/// name and XPath when known), active until [`interaction_end`].
pub fn interaction_start(event_type: String, target: String, xpath: String) -> SpanHandle {
    with_engine(|e| e.interaction_start(event_type, &target, &xpath)).unwrap_or(0)
}

/// Ends an interaction span after the event's task.
pub fn interaction_end(handle: SpanHandle) {
    deliver(with_sdk(|s| s.engine.interaction_end(handle)).flatten());
}
