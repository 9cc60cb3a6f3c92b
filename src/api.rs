//! The functions the npm package's `index.js` calls. They never throw for bad arguments
//! (bad input is counted in `getStats().invalidArguments` and, in debug mode, logged);
//! only `init` reports errors, as one `Error` naming the field.

use edge_telemetry_core::export::exporter::{export_headers, traces_url};
use edge_telemetry_core::export::otlp::OtlpEncoder;
use edge_telemetry_core::propagation::{
    BAGGAGE_HEADER, Baggage, HeaderList, format_baggage, inject_trace_context,
};
use edge_telemetry_core::resource::{ResourceConfig, SDK_NAME, SDK_VERSION, resource_attributes};
use edge_telemetry_core::time::Clock;
use edge_telemetry_core::trace::context::{Active, ContextStack, ScopeId};
use edge_telemetry_core::trace::ids::AnyIdGenerator;
use edge_telemetry_core::trace::span::{
    AttributeOutcome, EXCEPTION_EVENT_NAME, exception_attributes, span_kind_from_code,
    span_kind_from_name,
};
use edge_telemetry_core::trace::table::{OpenSpan, SpanHandle, SpanTable};
use edge_telemetry_core::trace::tracer::{ParentChoice, Tracer, select_parent};
use edge_telemetry_core::web::http::{
    HttpOutcome, client_span_end, client_span_start, should_propagate,
};
use edge_telemetry_core::web::page::{
    DOCUMENT_LOAD_SPAN_NAME, NAVIGATION_TIMING_EVENTS, document_load_attributes,
    document_load_end_attributes, document_load_parent, interaction_attributes, navigation_events,
};
use edge_telemetry_core::web::session::{
    SESSION_ID_ATTRIBUTE, SESSION_STORAGE_KEY, SessionTracker,
};
use edge_telemetry_core::web::url::Url;
use js_sys::{Array, Function, Object, Reflect};
use opentelemetry::KeyValue;
use opentelemetry::propagation::Injector;
use opentelemetry::trace::{SpanContext, SpanKind, Status};
use wasm_bindgen::prelude::*;
use web_sys::Headers;

use crate::convert::{self, ParentRef};
use crate::export::{self, Exporter};
use crate::platform::{
    BrowserClock, browser_info, debug_log, now_millis, random_seed, storage_get, storage_set,
};
use crate::state::{self, Sdk, count, with_sdk};

fn invalid(what: &str) {
    count(|s| s.invalid_arguments += 1);
    if state::debug_enabled() {
        debug_log(&format!(
            "edge-telemetry: ignored an invalid argument to {what}"
        ));
    }
}

/// `location.href` now.
pub fn current_page_url() -> Option<String> {
    let location = Reflect::get(&js_sys::global(), &JsValue::from_str("location")).ok()?;
    Reflect::get(&location, &JsValue::from_str("href"))
        .ok()?
        .as_string()
}

fn fresh_session_id() -> [u8; 16] {
    let seed = random_seed();
    let mut id = [0u8; 16];
    id.copy_from_slice(&seed[..16]);
    id
}

fn session_attribute(session: &SessionTracker) -> KeyValue {
    KeyValue::new(
        SESSION_ID_ATTRIBUTE,
        opentelemetry::StringValue::from(std::sync::Arc::<str>::from(session.id())),
    )
}

/// Resolves the traces URL against the page (so a relay path like `/otlp` works); the
/// error names `tracesEndpoint` or `endpoint`.
fn resolve_export_url(
    config: &edge_telemetry_core::config::ExportConfig,
    page: Option<&str>,
) -> Result<String, edge_telemetry_core::config::ConfigError> {
    let field = if config.traces_endpoint.is_some() {
        "tracesEndpoint"
    } else {
        "endpoint"
    };
    let url = traces_url(
        config.endpoint.as_deref(),
        config.traces_endpoint.as_deref(),
    );
    let parsed = match page {
        Some(base) => web_sys::Url::new_with_base(&url, base),
        None => web_sys::Url::new(&url),
    }
    .ok()
    .filter(|u| matches!(u.protocol().as_str(), "http:" | "https:"));
    parsed.map(|u| u.href()).ok_or_else(|| {
        edge_telemetry_core::config::ConfigError::new(field, "must be an http or https URL")
    })
}

/// Initialises the SDK. Returns `true`, or `false` when it was already initialised (the
/// options are still validated, and nothing changes). Throws an `Error` naming the field
/// for bad options. `schedule` is `export.js`'s timer.
#[wasm_bindgen]
pub fn init(options: JsValue, schedule: JsValue) -> Result<bool, JsError> {
    let opts = convert::read_init_options(&options).map_err(|e| JsError::new(&e.to_string()))?;
    let page = current_page_url();
    let cfg = &opts.config;
    let exporter = if cfg.export.enabled() {
        let url = resolve_export_url(&cfg.export, page.as_deref())
            .map_err(|e| JsError::new(&e.to_string()))?;
        let (headers, warnings) = export_headers(
            cfg.export.api_key.as_deref(),
            cfg.export.dataset.as_deref(),
            &cfg.export.headers,
        );
        if cfg.debug {
            for w in warnings {
                debug_log(&format!("edge-telemetry: {}", w.message()));
            }
        }
        let resource = resource_attributes(
            ResourceConfig {
                service_name: &cfg.service_name,
                service_version: cfg.service_version.as_deref(),
                environment: cfg.environment.as_deref(),
                extra: cfg.resource_attributes.clone(),
            },
            &browser_info(),
        );
        let encoder = OtlpEncoder::new(&resource, SDK_NAME, SDK_VERSION, export::js_f64);
        Some(Exporter::new(&cfg.export, encoder, url, headers))
    } else {
        None
    };
    let reporter = if cfg.rollbar.reporting() {
        let url = crate::errors::item_url(cfg.rollbar.endpoint.as_deref(), page.as_deref())
            .ok_or_else(|| {
                JsError::new(
                    &edge_telemetry_core::config::ConfigError::new(
                        "rollbar.endpoint",
                        "must be an http or https URL",
                    )
                    .to_string(),
                )
            })?;
        Some(crate::errors::Reporter::new(
            &cfg.rollbar,
            url,
            opts.rollbar,
            &cfg.service_name,
            cfg.environment.as_deref(),
            cfg.service_version.as_deref(),
            browser_info().user_agent,
        ))
    } else {
        None
    };
    if state::is_initialized() {
        if opts.config.debug {
            debug_log("edge-telemetry: init called again; the first configuration stays");
        }
        return Ok(false);
    }
    let ids = AnyIdGenerator::new(opts.config.id_format, random_seed());
    let debug = opts.config.debug;
    let session = SessionTracker::new(
        storage_get(SESSION_STORAGE_KEY).as_deref(),
        now_millis(),
        opts.config.session_inactivity_millis,
        fresh_session_id(),
    );
    storage_set(SESSION_STORAGE_KEY, &session.stored_value());
    let export_on = exporter.is_some();
    let sdk = Sdk {
        tracer: Tracer::new(ids, opts.config.span_limits).with_sample_rate(opts.config.sample_rate),
        table: SpanTable::default(),
        stack: ContextStack::new(),
        page_url: page,
        regex_rules: opts.regex_rules,
        on_span_end: opts.on_span_end,
        baggage: String::new(),
        exporter,
        reporter,
        schedule: schedule.dyn_into::<Function>().ok(),
        session_attribute: session_attribute(&session),
        session,
        auto_scopes: Vec::new(),
        config: opts.config,
    };
    let installed = state::install(sdk);
    if installed && debug {
        debug_log(if export_on {
            "edge-telemetry: initialised (debug mode: exports, drops and failures are logged)"
        } else {
            "edge-telemetry: initialised without export (no apiKey, endpoint or tracesEndpoint); debug mode logs drops and failures"
        });
    }
    Ok(installed)
}

/// Which instrumentations `init` enabled: bit 0 fetch, bit 1 XMLHttpRequest, bit 2 the
/// page-load span.
#[wasm_bindgen(js_name = instrumentations)]
pub fn instrumentations() -> u32 {
    with_sdk(|s| {
        u32::from(s.config.instrument_fetch)
            | u32::from(s.config.instrument_xhr) << 1
            | u32::from(s.config.instrument_document_load) << 2
    })
    .unwrap_or(0)
}

/// The event types that start an interaction span (`userInteractionEvents`).
#[wasm_bindgen(js_name = interactionEvents)]
pub fn interaction_events() -> Vec<String> {
    with_sdk(|s| s.config.interaction_events.clone()).unwrap_or_default()
}

fn parse_kind(v: &JsValue) -> Option<SpanKind> {
    if v.is_undefined() {
        return Some(SpanKind::Internal);
    }
    match v.as_string() {
        Some(name) => span_kind_from_name(&name),
        None => v.as_f64().and_then(span_kind_from_code),
    }
}

fn opt(options: &JsValue, key: &str) -> JsValue {
    if options.is_object() {
        Reflect::get(options, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

fn context_of(sdk: &Sdk, parent: &ParentRef) -> Option<SpanContext> {
    match parent {
        // An ended span still parents (its context is among the recently ended).
        ParentRef::Handle(h) => sdk.table.context(*h).cloned(),
        ParentRef::Context(c) => Some(c.clone()),
        ParentRef::None | ParentRef::Invalid => None,
    }
}

/// Starts a span in the tracer, applies attributes and links, and stores it in the table.
/// Returns its handle and how many attributes the limits dropped; counts the span.
pub(crate) fn open_span(
    sdk: &mut Sdk,
    name: String,
    kind: SpanKind,
    parent: Option<&SpanContext>,
    start: Time,
    attributes: Vec<KeyValue>,
    links: Vec<(SpanContext, Vec<KeyValue>)>,
) -> (SpanHandle, u64) {
    let started = sdk.tracer.start(name, kind, parent, start.nanos);
    let limits = *sdk.tracer.limits();
    let mut dropped = 0;
    let mut data = started.data;
    if sdk.session.touch(start.now_millis(), fresh_session_id) {
        sdk.session_attribute = session_attribute(&sdk.session);
        storage_set(SESSION_STORAGE_KEY, &sdk.session.stored_value());
    }
    if let Some(d) = data.as_mut() {
        d.set_attribute(sdk.session_attribute.clone(), &limits);
        for kv in attributes {
            dropped += u64::from(d.set_attribute(kv, &limits) == AttributeOutcome::Dropped);
        }
        for (c, attrs) in links {
            if !d.add_link(c, attrs, &limits) {
                count(|s| s.links_dropped += 1);
            }
        }
    }
    let recording = data.is_some();
    let (handle, evicted) = sdk.table.insert(OpenSpan {
        context: started.context,
        data,
    });
    count(|s| {
        s.spans_started += 1;
        s.spans_not_recorded += u64::from(!recording);
        s.spans_evicted += u64::from(evicted.is_some());
    });
    (handle, dropped)
}

/// `startSpan` flag: `startRootSpan`, or `root: true`.
pub const START_ROOT: u32 = 1;
/// `startSpan` flag: the options were not an object (or could not be read).
pub const START_BAD_OPTIONS: u32 = 2;

/// Starts a span; returns its handle (0 before `init`). The JS layer passes the options'
/// fields (`kind`, `attributes`, `startTime`, `parent` — a span as its handle —, `links`)
/// one by one: reading them here by name would cost a JS string per key and call.
/// `flags`: [`START_ROOT`], [`START_BAD_OPTIONS`].
#[wasm_bindgen(js_name = startSpan)]
pub fn start_span(
    name: JsValue,
    kind: JsValue,
    attributes: JsValue,
    start_v: JsValue,
    parent_v: JsValue,
    links_v: JsValue,
    flags: u32,
) -> SpanHandle {
    if !state::is_initialized() {
        return 0;
    }
    let name = convert::to_name(&name).unwrap_or_else(|| {
        invalid("startSpan (name)");
        "unnamed".to_owned()
    });
    if flags & START_BAD_OPTIONS != 0 {
        invalid("startSpan (options)");
    }
    let kind = parse_kind(&kind).unwrap_or_else(|| {
        invalid("startSpan (kind)");
        SpanKind::Internal
    });
    let mut attrs = Vec::new();
    let bad_attrs = convert::read_attributes(&attributes, &mut attrs);
    let attributes = attrs;
    let parent = if parent_v.is_undefined() {
        None
    } else {
        Some(convert::to_parent(&parent_v))
    };
    if matches!(parent, Some(ParentRef::Invalid)) {
        invalid("startSpan (parent)");
    }
    let root = flags & START_ROOT != 0;
    let links: Vec<(ParentRef, Vec<KeyValue>)> = if Array::is_array(&links_v) {
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
    with_sdk(|sdk| {
        let choice = match (&parent, root) {
            (_, true) | (Some(ParentRef::None), _) => ParentChoice::Root,
            (Some(p @ (ParentRef::Handle(_) | ParentRef::Context(_))), _) => {
                match context_of(sdk, p) {
                    Some(c) => ParentChoice::Explicit(c),
                    None => ParentChoice::Active,
                }
            }
            _ => ParentChoice::Active,
        };
        let parent_ctx = select_parent(&choice, sdk.stack.active_context());
        let links = links.into_iter().filter_map(|(p, attrs)| {
            let c = context_of(sdk, &p);
            if c.is_none() {
                count(|s| s.links_dropped += 1);
            }
            c.map(|c| (c, attrs))
        });
        let links: Vec<_> = links.collect();
        let (handle, dropped) = open_span(
            sdk,
            name,
            kind,
            parent_ctx.as_ref(),
            start,
            attributes,
            links,
        );
        count(|s| s.attributes_dropped += bad_attrs + dropped);
        handle
    })
    .unwrap_or(0)
}

/// Runs `f` on a recording span's data; counts calls on ended or unknown spans.
fn with_data(
    handle: SpanHandle,
    f: impl FnOnce(
        &mut edge_telemetry_core::trace::span::SpanData,
        &edge_telemetry_core::trace::span::SpanLimits,
    ),
) {
    let found = with_sdk(|sdk| {
        let limits = *sdk.tracer.limits();
        match sdk.table.get_mut(handle) {
            Some(OpenSpan { data: Some(d), .. }) => {
                f(d, &limits);
                true
            }
            Some(_) => true, // non-recording: nothing to do
            None => false,
        }
    });
    if found == Some(false) && handle != 0 {
        count(|s| s.calls_after_end += 1);
    }
}

fn set_one(
    d: &mut edge_telemetry_core::trace::span::SpanData,
    limits: &edge_telemetry_core::trace::span::SpanLimits,
    kv: KeyValue,
) {
    match d.set_attribute(kv, limits) {
        AttributeOutcome::Dropped => count(|s| s.attributes_dropped += 1),
        AttributeOutcome::Truncated => count(|s| s.attributes_truncated += 1),
        AttributeOutcome::Stored => {}
    }
}

/// `span.setAttribute(key, value)`.
#[wasm_bindgen(js_name = spanSetAttribute)]
pub fn span_set_attribute(handle: SpanHandle, key: JsValue, value: JsValue) {
    let (Some(key), Some(value)) = (
        key.as_string().filter(|k| !k.is_empty()),
        convert::to_value(&value),
    ) else {
        count(|s| s.attributes_dropped += 1);
        invalid("setAttribute");
        return;
    };
    with_data(handle, |d, l| set_one(d, l, KeyValue::new(key, value)));
}

/// `span.setAttributes(attributes)`.
#[wasm_bindgen(js_name = spanSetAttributes)]
pub fn span_set_attributes(handle: SpanHandle, attributes: JsValue) {
    let mut kvs = Vec::new();
    let bad = convert::read_attributes(&attributes, &mut kvs);
    if bad > 0 {
        count(|s| s.attributes_dropped += bad);
        invalid("setAttributes");
    }
    with_data(handle, |d, l| {
        kvs.into_iter().for_each(|kv| set_one(d, l, kv))
    });
}

/// A point in time, and whether it is a clock reading taken just now (the clock is read
/// once per call: `performance.now()` was a fifth of the cost of a span).
#[derive(Clone, Copy, Debug)]
pub struct Time {
    /// Epoch nanoseconds.
    pub nanos: u64,
    /// Read from the clock now (not given by the caller).
    pub is_now: bool,
}

impl Time {
    /// The clock, now.
    pub fn now() -> Self {
        Self {
            nanos: BrowserClock.now_unix_nanos(),
            is_now: true,
        }
    }

    /// Now in epoch milliseconds: this reading when it is one, else the clock.
    pub fn now_millis(self) -> u64 {
        if self.is_now {
            self.nanos / 1_000_000
        } else {
            now_millis()
        }
    }
}

/// A time argument (now when absent or invalid). Converted before the SDK state is
/// borrowed: reading it may run page code (array getters, proxies) that throws.
fn time_arg(v: &JsValue, what: &str) -> Time {
    match convert::to_time(v, BrowserClock::time_origin_ms()) {
        Ok(Some(nanos)) => Time {
            nanos,
            is_now: false,
        },
        Ok(None) => Time::now(),
        Err(convert::Invalid) => {
            invalid(what);
            Time::now()
        }
    }
}

fn add_event(
    d: &mut edge_telemetry_core::trace::span::SpanData,
    l: &edge_telemetry_core::trace::span::SpanLimits,
    name: String,
    time: u64,
    attrs: Vec<KeyValue>,
) {
    if !d.add_event(name, time, attrs, l) {
        count(|s| s.events_dropped += 1);
    }
}

/// `span.addEvent(name, attributesOrTime?, time?)`.
#[wasm_bindgen(js_name = spanAddEvent)]
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
        || attributes_or_time.is_instance_of::<js_sys::Date>()
        || Array::is_array(&attributes_or_time);
    let (attrs_v, time_v) = if is_time {
        (JsValue::UNDEFINED, attributes_or_time)
    } else {
        (attributes_or_time, time)
    };
    let mut attrs = Vec::new();
    if convert::read_attributes(&attrs_v, &mut attrs) > 0 {
        invalid("addEvent (attributes)");
    }
    let time = time_arg(&time_v, "addEvent (time)").nanos;
    with_data(handle, |d, l| add_event(d, l, name, time, attrs));
}

/// `span.setStatus({code, message})`.
#[wasm_bindgen(js_name = spanSetStatus)]
pub fn span_set_status(handle: SpanHandle, status: JsValue) {
    match convert::to_status(&status) {
        Some(st) => with_data(handle, |d, _| d.set_status(st)),
        None => invalid("setStatus"),
    }
}

/// `span.recordException(exception, time?)`: an `exception` event; the status is left to
/// the caller, as in OpenTelemetry.
#[wasm_bindgen(js_name = spanRecordException)]
pub fn span_record_exception(handle: SpanHandle, exception: JsValue, time: JsValue) {
    let Some((kind, message, stack)) = convert::exception_fields(&exception) else {
        invalid("recordException");
        return;
    };
    let time = time_arg(&time, "recordException (time)").nanos;
    with_data(handle, |d, l| {
        add_event(
            d,
            l,
            EXCEPTION_EVENT_NAME.to_owned(),
            time,
            exception_attributes(kind, message, stack),
        )
    });
}

/// `span.updateName(name)`.
#[wasm_bindgen(js_name = spanUpdateName)]
pub fn span_update_name(handle: SpanHandle, name: JsValue) {
    match convert::to_name(&name) {
        Some(n) => with_data(handle, |d, _| d.name = n),
        None => invalid("updateName"),
    }
}

/// `span.end(endTime?)`. A second call is ignored (counted as a call after end). The span's
/// context stays available to `spanContext()` for a while (see `SpanTable::context`).
#[wasm_bindgen(js_name = spanEnd)]
pub fn span_end(handle: SpanHandle, end_time: JsValue) {
    end_span(handle, time_arg(&end_time, "end (endTime)"));
}

/// Ends span `handle` at `end`: hands it to `onSpanEnd` and the export queue.
pub(crate) fn end_span(handle: SpanHandle, end: Time) {
    let finished = with_sdk(|sdk| {
        let span = sdk.table.remove(handle)?;
        let recorded = span.data.map(|mut data| {
            data.end_time_unix_nano = end.nanos.max(data.start_time_unix_nano);
            (data, sdk.on_span_end.clone())
        });
        Some(recorded)
    })
    .flatten();
    let Some(recorded) = finished else {
        if handle != 0 {
            count(|s| s.calls_after_end += 1);
        }
        return;
    };
    if let Some((data, callback)) = recorded {
        count(|s| s.spans_ended += 1);
        if let Some(cb) = callback {
            // User code: run with no SDK borrow held; its exceptions stay its own.
            if cb
                .call1(&JsValue::UNDEFINED, &convert::span_data_to_js(&data))
                .is_err()
                && state::debug_enabled()
            {
                debug_log("edge-telemetry: onSpanEnd threw");
            }
        }
        if let Some(ms) = export::enqueue(data, end.now_millis())
            && let Some(schedule) = with_sdk(|s| s.schedule.clone()).flatten()
        {
            let _ = schedule.call1(&JsValue::UNDEFINED, &JsValue::from_f64(ms as f64));
        }
    }
}

/// `span.spanContext()`.
#[wasm_bindgen(js_name = spanContext)]
pub fn span_context(handle: SpanHandle) -> JsValue {
    let ctx = with_sdk(|sdk| sdk.table.context(handle).cloned()).flatten();
    convert::span_context_to_js(&ctx.unwrap_or_else(SpanContext::empty_context))
}

/// `span.traceparent()`; empty for an unknown span.
#[wasm_bindgen(js_name = spanTraceparent)]
pub fn span_traceparent(handle: SpanHandle) -> String {
    with_sdk(|sdk| sdk.table.context(handle).map(convert::traceparent_of))
        .flatten()
        .unwrap_or_default()
}

/// `span.isRecording()`.
#[wasm_bindgen(js_name = spanIsRecording)]
pub fn span_is_recording(handle: SpanHandle) -> bool {
    with_sdk(|sdk| sdk.table.get(handle).is_some_and(|s| s.data.is_some())).unwrap_or(false)
}

fn active_entry(sdk: &Sdk, span: &JsValue) -> Result<Option<Active<SpanHandle>>, convert::Invalid> {
    if span.is_undefined() {
        return Ok(None);
    }
    match convert::to_parent(span) {
        ParentRef::None => Ok(None),
        ParentRef::Handle(h) => match sdk.table.context(h) {
            Some(c) => Ok(Some(Active {
                context: c.clone(),
                handle: Some(h),
            })),
            None => Err(convert::Invalid),
        },
        ParentRef::Context(c) => Ok(Some(Active {
            context: c,
            handle: None,
        })),
        ParentRef::Invalid => Err(convert::Invalid),
    }
}

/// Enters a synchronous scope in which `span` (a Span, span context, traceparent, or
/// null/undefined for none) is active; returns the depth to pass to `exitSpan`. An ended
/// or invalid span leaves the active span unchanged (counted).
#[wasm_bindgen(js_name = enterSpan)]
pub fn enter_span(span: JsValue) -> u32 {
    let res = with_sdk(|sdk| {
        let entry = match active_entry(sdk, &span) {
            Ok(e) => e,
            Err(convert::Invalid) => {
                count(|s| s.invalid_arguments += 1);
                sdk.stack.active().cloned()
            }
        };
        sdk.stack.enter(entry)
    });
    res.map_or(u32::MAX, |d| d.index() as u32)
}

/// Leaves the scopes entered since `enterSpan` returned `depth`.
#[wasm_bindgen(js_name = exitSpan)]
pub fn exit_span(depth: u32) {
    with_sdk(|sdk| {
        sdk.stack
            .restore(edge_telemetry_core::trace::context::Depth::at(
                depth as usize,
            ))
    });
}

/// Opens an async scope for `span` (see the context model); returns its id + 1 (0: none).
#[wasm_bindgen(js_name = openScope)]
pub fn open_scope(span: JsValue) -> u32 {
    with_sdk(|sdk| match active_entry(sdk, &span) {
        Ok(Some(entry)) => {
            let before = sdk.stack.forgotten_scopes();
            let id = sdk.stack.open_scope(entry);
            let forgotten = sdk.stack.forgotten_scopes() - before;
            count(|s| s.async_scopes_forgotten += forgotten);
            id.index() + 1
        }
        _ => 0,
    })
    .unwrap_or(0)
}

/// Closes an async scope opened by `openScope`.
#[wasm_bindgen(js_name = closeScope)]
pub fn close_scope(id: u32) {
    if id > 0 {
        with_sdk(|sdk| {
            sdk.stack
                .close_scope(edge_telemetry_core::trace::context::ScopeId::at(id - 1))
        });
    }
}

/// The active span's handle (0: none, or the active context is remote).
#[wasm_bindgen(js_name = activeSpan)]
pub fn active_span() -> SpanHandle {
    with_sdk(|sdk| {
        sdk.stack
            .active()
            .and_then(|a| a.handle)
            .filter(|h| sdk.table.get(*h).is_some())
    })
    .flatten()
    .unwrap_or(0)
}

/// Sets the page-level W3C baggage sent with every propagated request (`null` clears it).
#[wasm_bindgen(js_name = setBaggage)]
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
    with_sdk(|sdk| sdk.baggage = format_baggage(&baggage));
}

/// The trace headers for `ctx` (traceparent, tracestate, page baggage); empty when there is
/// no valid context or (with `url`) the URL is neither same-origin nor allow-listed.
fn trace_headers(sdk: &Sdk, ctx: Option<&SpanContext>, url: Option<&str>) -> HeaderList {
    let mut out = HeaderList::default();
    let Some(ctx) = ctx.filter(|c| c.is_valid()) else {
        return out;
    };
    if let Some(url) = url {
        let page = sdk.page_url.as_deref().and_then(Url::parse);
        let regex = || {
            sdk.regex_rules
                .iter()
                .any(|re| convert::regex_matches(re, url))
        };
        if !should_propagate(
            url,
            page.as_ref(),
            &sdk.config.propagate_trace_header_cors_urls,
            regex,
        ) {
            return out;
        }
    }
    inject_trace_context(ctx, &mut out);
    if !sdk.baggage.is_empty() {
        out.set(BAGGAGE_HEADER, sdk.baggage.clone());
    }
    out
}

fn headers_to_js(headers: &HeaderList) -> JsValue {
    if headers.is_empty() {
        return JsValue::UNDEFINED;
    }
    let arr = Array::new();
    for (k, v) in headers.iter() {
        arr.push(&JsValue::from_str(k));
        arr.push(&JsValue::from_str(v));
    }
    arr.into()
}

/// `injectHeaders(headers, url?)`: writes the active span's trace headers into a `Headers`
/// object or a plain object. With `url` (resolved by the caller), only for same-origin or
/// allow-listed URLs. Returns the number of headers written.
#[wasm_bindgen(js_name = injectHeaders)]
pub fn inject_headers(headers: JsValue, url: JsValue) -> u32 {
    let url = if url.is_undefined() || url.is_null() {
        None
    } else {
        url.as_string()
    };
    let list = with_sdk(|sdk| {
        let ctx = sdk.stack.active_context().cloned();
        trace_headers(sdk, ctx.as_ref(), url.as_deref())
    })
    .unwrap_or_default();
    let n = list.len() as u32;
    if let Some(h) = headers.dyn_ref::<Headers>() {
        for (k, v) in list.iter() {
            if h.set(k, v).is_err() {
                invalid("injectHeaders");
            }
        }
    } else if headers.is_object() && !headers.is_function() && !Array::is_array(&headers) {
        for (k, v) in list.iter() {
            if Reflect::set(&headers, &JsValue::from_str(k), &JsValue::from_str(v)).is_err() {
                invalid("injectHeaders");
            }
        }
    } else {
        invalid("injectHeaders");
        return 0;
    }
    n
}

/// Starts a CLIENT span for an outgoing request to absolute `url`; returns its handle
/// (0: not instrumented).
#[wasm_bindgen(js_name = httpStart)]
pub fn http_start(method: &str, url: &str, xhr: bool) -> SpanHandle {
    let info = client_span_start(method, url);
    with_sdk(|sdk| {
        let parent = sdk.stack.active_context().cloned();
        let (h, _) = open_span(
            sdk,
            info.name,
            SpanKind::Client,
            parent.as_ref(),
            Time::now(),
            info.attributes,
            Vec::new(),
        );
        count(|s| {
            if xhr {
                s.xhr_requests += 1
            } else {
                s.fetch_requests += 1
            }
        });
        h
    })
    .unwrap_or(0)
}

/// The trace headers for request span `handle` to `url`, as `[name, value, ...]`, or
/// `undefined` when the URL is neither same-origin nor allow-listed.
#[wasm_bindgen(js_name = httpHeaders)]
pub fn http_headers(handle: SpanHandle, url: &str) -> JsValue {
    let list = with_sdk(|sdk| {
        let ctx = sdk.table.get(handle).map(|s| s.context.clone());
        trace_headers(sdk, ctx.as_ref(), Some(url))
    })
    .unwrap_or_default();
    if !list.is_empty() {
        count(|s| s.requests_propagated += 1);
    }
    headers_to_js(&list)
}

/// Ends request span `handle`. `outcome`: 0 response (with `status`), 1 network error
/// (`error_type` = the error's name), 2 aborted, 3 timeout.
#[wasm_bindgen(js_name = httpEnd)]
pub fn http_end(handle: SpanHandle, outcome: u32, status: u32, error_type: Option<String>) {
    let outcome = match outcome {
        0 => HttpOutcome::Response(status.min(u32::from(u16::MAX)) as u16),
        1 => HttpOutcome::NetworkError(error_type.unwrap_or_default()),
        2 => HttpOutcome::Aborted,
        _ => HttpOutcome::Timeout,
    };
    let (attrs, st) = client_span_end(&outcome);
    with_data(handle, |d, l| {
        attrs.into_iter().for_each(|kv| set_one(d, l, kv));
        if st != Status::Unset {
            d.set_status(st);
        }
    });
    span_end(handle, JsValue::UNDEFINED);
}

/// Counts an invalid argument found by the JS layer.
#[wasm_bindgen(js_name = countInvalid)]
pub fn count_invalid() {
    invalid("a call");
}

/// Counts an internal fault caught by the JS layer.
#[wasm_bindgen(js_name = countFault)]
pub fn count_fault() {
    count(|s| s.internal_errors += 1);
}

/// `getStats()`: the SDK's counters.
#[wasm_bindgen(js_name = getStats)]
pub fn get_stats() -> JsValue {
    let o = Object::new();
    let mut stats = state::stats();
    stats.open_spans = with_sdk(|s| s.table.len() as u64).unwrap_or(0);
    for (k, v) in stats.entries() {
        let _ = Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_f64(v as f64));
    }
    o.into()
}

/// Opens an async scope for whatever is active now (used while an instrumented request is
/// in flight, so its callbacks see the same active span); 0 when nothing is active.
#[wasm_bindgen(js_name = openActiveScope)]
pub fn open_active_scope() -> u32 {
    with_sdk(|sdk| match sdk.stack.active().cloned() {
        Some(entry) => sdk.stack.open_scope(entry).index() + 1,
        None => 0,
    })
    .unwrap_or(0)
}

/// Starts a root span that holds an async scope (so it parents work with nothing else
/// active) until [`end_auto_span`].
fn start_auto_span(
    name: String,
    parent: Option<SpanContext>,
    start: Time,
    attributes: Vec<KeyValue>,
) -> SpanHandle {
    with_sdk(|sdk| {
        let (h, _) = open_span(
            sdk,
            name,
            SpanKind::Internal,
            parent.as_ref(),
            start,
            attributes,
            Vec::new(),
        );
        if let Some(s) = sdk.table.get(h) {
            let scope = sdk.stack.open_scope(Active {
                context: s.context.clone(),
                handle: Some(h),
            });
            sdk.auto_scopes.push((h, scope));
        }
        h
    })
    .unwrap_or(0)
}

/// Closes the scope of an automatic span (the span itself is ended by the caller).
fn close_auto_scope(handle: SpanHandle) {
    with_sdk(|sdk| {
        if let Some(pos) = sdk.auto_scopes.iter().position(|(h, _)| *h == handle) {
            let (_, scope): (SpanHandle, ScopeId) = sdk.auto_scopes.remove(pos);
            sdk.stack.close_scope(scope);
        }
    });
}

/// Starts the `documentLoad` span at the navigation's start, under the first valid
/// traceparent of `parents` (meta tag, Server-Timing) or as a root. Returns its handle.
#[wasm_bindgen(js_name = documentLoadStart)]
pub fn document_load_start(parents: JsValue) -> SpanHandle {
    let candidates: Vec<String> = convert::array_items(&parents)
        .unwrap_or_default()
        .iter()
        .filter_map(JsValue::as_string)
        .collect();
    let parent = document_load_parent(&candidates);
    let start = edge_telemetry_core::time::millis_to_unix_nanos(BrowserClock::time_origin_ms())
        .map_or_else(Time::now, |nanos| Time {
            nanos,
            is_now: false,
        });
    let attrs = document_load_attributes(current_page_url().as_deref());
    start_auto_span(DOCUMENT_LOAD_SPAN_NAME.to_owned(), parent, start, attrs)
}

/// Ends the `documentLoad` span with the Navigation Timing `entry`'s events (or now, when
/// the browser has no entry).
#[wasm_bindgen(js_name = documentLoadEnd)]
pub fn document_load_end(handle: SpanHandle, entry: JsValue) {
    let get = |k: &str| {
        if entry.is_object() {
            Reflect::get(&entry, &JsValue::from_str(k))
                .ok()
                .and_then(|v| v.as_f64())
                .unwrap_or(0.0)
        } else {
            0.0
        }
    };
    let values: Vec<f64> = NAVIGATION_TIMING_EVENTS.iter().map(|k| get(k)).collect();
    let (events, end) = navigation_events(&values, BrowserClock::time_origin_ms());
    let attrs = document_load_end_attributes(get("responseStatus"));
    with_data(handle, |d, l| {
        for (name, t) in events {
            add_event(d, l, name.to_owned(), t, Vec::new());
        }
        attrs.into_iter().for_each(|kv| set_one(d, l, kv));
    });
    close_auto_scope(handle);
    end_span(
        handle,
        end.map_or_else(Time::now, |nanos| Time {
            nanos,
            is_now: false,
        }),
    );
}

/// Starts a root span for a user interaction (`event_type`, and the target element's tag
/// name and XPath when known), active until [`interaction_end`].
#[wasm_bindgen(js_name = interactionStart)]
pub fn interaction_start(event_type: String, target: String, xpath: String) -> SpanHandle {
    let attrs = interaction_attributes(&event_type, &target, &xpath);
    start_auto_span(event_type, None, Time::now(), attrs)
}

/// Ends an interaction span after the event's task.
#[wasm_bindgen(js_name = interactionEnd)]
pub fn interaction_end(handle: SpanHandle) {
    close_auto_scope(handle);
    span_end(handle, JsValue::UNDEFINED);
}
