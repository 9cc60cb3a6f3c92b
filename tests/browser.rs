//! Glue tests in headless Chromium (wasm-bindgen-test): the exported functions against the
//! real browser clock, CSPRNG, Headers and location. One wasm instance serves all tests,
//! so the SDK is initialised once.
#![cfg(target_arch = "wasm32")]

use edge_telemetry::api;
use js_sys::{Array, Function, Object, Reflect, RegExp};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;
use web_sys::Headers;

wasm_bindgen_test_configure!(run_in_browser);

fn obj(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &JsValue::from_str(k), v).unwrap();
    }
    o.into()
}

fn get(o: &JsValue, k: &str) -> JsValue {
    Reflect::get(o, &JsValue::from_str(k)).unwrap()
}

/// `startSpan(name, options)` / `startRootSpan` as index.js calls the export: option
/// fields one by one, a span parent as its handle.
fn start_span(name: JsValue, options: JsValue, root: bool) -> u32 {
    let field = |k: &str| {
        if options.is_object() {
            Reflect::get(&options, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED)
        } else {
            JsValue::UNDEFINED
        }
    };
    let mut flags = u32::from(root) * api::StartFlag::Root as u32;
    if !options.is_undefined() && !options.is_null() && !options.is_object() {
        flags |= api::StartFlag::BadOptions as u32;
    }
    if field("root").as_bool() == Some(true) {
        flags |= api::StartFlag::Root as u32;
    }
    let mut parent = field("parent");
    if parent.is_object() {
        let h = Reflect::get(&parent, &"__edgeSpanId".into()).unwrap_or(JsValue::UNDEFINED);
        if h.as_f64().is_some() {
            parent = h;
        }
    }
    api::start_span(
        name,
        field("kind"),
        field("attributes"),
        field("startTime"),
        parent,
        field("links"),
        flags,
    )
}

fn ended() -> Array {
    let ended: Array = Reflect::get(&js_sys::global(), &"__ended".into())
        .unwrap()
        .unchecked_into();
    ended
}

fn ensure_init() {
    let g = js_sys::global();
    if get(&g, "__ended").is_undefined() {
        Reflect::set(&g, &"__ended".into(), &Array::new()).unwrap();
        let cb = Function::new_with_args("s", "globalThis.__ended.push(s)");
        let rules = Array::of2(
            &"https://api.allowed.example".into(),
            &RegExp::new("^https://re\\.example/", ""),
        );
        let opts = obj(&[
            ("serviceName", "glue-tests".into()),
            ("onSpanEnd", cb.into()),
            ("propagateTraceHeaderCorsUrls", rules.into()),
            ("instrumentFetch", false.into()),
            ("instrumentXhr", false.into()),
        ]);
        // The page's task number (index.js advances it a task after requests ended).
        let epoch = Function::new_no_args("return globalThis.__epoch | 0");
        assert!(api::init(
            opts,
            JsValue::UNDEFINED,
            epoch.into(),
            None,
            js_sys::global().into()
        ));
    }
}

#[wasm_bindgen_test]
fn second_init_is_a_no_op() {
    ensure_init();
    assert!(!api::init(
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
        None,
        JsValue::UNDEFINED
    ));
}

#[wasm_bindgen_test]
fn spans_nest_through_the_active_stack_and_reach_on_span_end() {
    ensure_init();
    let parent = start_span(
        "parent".into(),
        obj(&[("attributes", obj(&[("a", 1.into())]))]),
        false,
    );
    assert_ne!(parent, 0);
    let depth = api::enter_span(obj(&[("__edgeSpanId", parent.into())]));
    assert_eq!(api::active_span(), parent);
    let child = start_span("child".into(), JsValue::UNDEFINED, false);
    api::exit_span(depth);
    assert_eq!(api::active_span(), 0);
    api::span_set_attribute(child, "k".into(), Array::of2(&1.into(), &2.into()).into());
    api::span_add_event(
        child,
        "evt".into(),
        obj(&[("x", true.into())]),
        JsValue::UNDEFINED,
    );
    api::span_set_status(child, obj(&[("code", 2.into()), ("message", "bad".into())]));
    let before = ended().length();
    api::span_end(child, JsValue::UNDEFINED);
    api::span_end(parent, JsValue::UNDEFINED);
    let spans = ended();
    assert_eq!(spans.length(), before + 2);
    let c = spans.get(before);
    let p = spans.get(before + 1);
    assert_eq!(get(&c, "name").as_string().unwrap(), "child");
    assert_eq!(get(&c, "traceId"), get(&p, "traceId"));
    assert_eq!(get(&c, "parentSpanId"), get(&p, "spanId"));
    assert!(get(&p, "parentSpanId").is_undefined());
    assert_eq!(get(&get(&c, "status"), "code").as_f64(), Some(2.0));
    assert_eq!(get(&get(&c, "events"), "length").as_f64(), Some(1.0));
    assert!(Array::is_array(&get(&get(&c, "attributes"), "k")));
    let start: u64 = get(&c, "startTimeUnixNano")
        .as_string()
        .unwrap()
        .parse()
        .unwrap();
    let end: u64 = get(&c, "endTimeUnixNano")
        .as_string()
        .unwrap()
        .parse()
        .unwrap();
    let now_ns = js_sys::Date::now() * 1e6;
    assert!(
        start <= end && (start as f64 - now_ns).abs() < 60e9,
        "browser clock gives epoch nanos"
    );
}

#[wasm_bindgen_test]
fn traceparent_matches_span_context() {
    ensure_init();
    let h = start_span("s".into(), JsValue::UNDEFINED, true);
    let tp = api::span_traceparent(h);
    let ctx = api::span_context(h);
    let want = format!(
        "00-{}-{}-03",
        get(&ctx, "traceId").as_string().unwrap(),
        get(&ctx, "spanId").as_string().unwrap()
    );
    assert_eq!(tp, want);
    let after_end_before = get(&api::get_stats(), "callsAfterEnd").as_f64().unwrap();
    api::span_end(h, JsValue::UNDEFINED);
    assert_eq!(
        api::span_traceparent(h),
        tp,
        "the context outlives the span"
    );
    api::span_end(h, JsValue::UNDEFINED);
    assert_eq!(
        get(&api::get_stats(), "callsAfterEnd").as_f64().unwrap(),
        after_end_before + 1.0,
        "a second end is counted and ignored"
    );
    assert_eq!(
        api::span_traceparent(12345),
        "",
        "an unknown handle has no context"
    );
}

#[wasm_bindgen_test]
fn explicit_traceparent_parent_continues_the_remote_trace() {
    ensure_init();
    let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-02";
    let h = start_span("child".into(), obj(&[("parent", tp.into())]), false);
    let ctx = api::span_context(h);
    assert_eq!(
        get(&ctx, "traceId").as_string().unwrap(),
        "4bf92f3577b34da6a3ce929d0e0e4736"
    );
    assert_eq!(
        get(&ctx, "traceFlags").as_f64(),
        Some(2.0),
        "unsampled parent: random kept, not sampled"
    );
    assert!(!api::span_is_recording(h));
    api::span_end(h, JsValue::UNDEFINED);
}

#[wasm_bindgen_test]
fn inject_headers_respects_origin_rules() {
    ensure_init();
    let span = start_span("s".into(), JsValue::UNDEFINED, false);
    let depth = api::enter_span(obj(&[("__edgeSpanId", span.into())]));
    let same = get(&get(&js_sys::global(), "location"), "href")
        .as_string()
        .unwrap();
    let cases = [
        (same.as_str(), true),
        ("https://api.allowed.example/v1", true),
        ("https://re.example/x", true),
        ("https://api.allowed.example.evil.test/", false),
        ("https://elsewhere.example/", false),
    ];
    for (url, want) in cases {
        let h = Headers::new().unwrap();
        api::inject_headers(h.clone().into(), url.into());
        let got = h.get("traceparent").unwrap();
        assert_eq!(got.is_some(), want, "{url}");
        if let Some(v) = got {
            assert_eq!(v, api::span_traceparent(span));
        }
    }
    let plain = Object::new();
    assert_eq!(
        api::inject_headers(plain.clone().into(), JsValue::UNDEFINED),
        1
    );
    assert_eq!(
        get(&plain, "traceparent").as_string(),
        Some(api::span_traceparent(span))
    );
    api::exit_span(depth);
    api::span_end(span, JsValue::UNDEFINED);
}

#[wasm_bindgen_test]
fn http_client_span_policy_end_to_end() {
    ensure_init();
    let before = ended().length();
    let other = Array::new();
    let o = api::request_start(
        "GET",
        "https://other.example/",
        api::RequestApi::Fetch,
        false,
        &other,
    );
    assert_eq!(other.length(), 0, "no headers for an origin not allowed");
    let trace = Array::new();
    let h = api::request_start(
        "GET",
        "https://api.allowed.example/items?id=7",
        api::RequestApi::Fetch,
        false,
        &trace,
    );
    // ASCII text in the module's memory: its address and length (index.js reads it).
    assert_eq!(trace.length(), 2, "address and length");
    let (at, len) = (
        trace.get(0).as_f64().unwrap(),
        trace.get(1).as_f64().unwrap(),
    );
    // SAFETY: the glue keeps the text until the next requestStart, in this same module.
    let text = unsafe { core::slice::from_raw_parts(at as usize as *const u8, len as usize) };
    assert_eq!(
        core::str::from_utf8(text).ok(),
        Some(format!("traceparent\n{}", api::span_traceparent(h)).as_str()),
        "name and value lines"
    );
    // The page set its own traceparent: the span, no headers.
    let own = Array::new();
    let x = api::request_start(
        "GET",
        "https://api.allowed.example/",
        api::RequestApi::Xhr,
        true,
        &own,
    );
    assert!(x != 0 && own.length() == 0);
    api::request_end(h, api::Outcome::Response, 503, None);
    api::request_end(o, api::Outcome::Aborted, 0, None);
    api::request_end(
        x,
        api::Outcome::NetworkError,
        0,
        Some("TypeError".to_owned()),
    );
    // A later task: the scopes the requests kept are given back at the next call.
    let g = js_sys::global();
    let epoch = get(&g, "__epoch").as_f64().unwrap_or(0.0);
    Reflect::set(&g, &"__epoch".into(), &(epoch + 1.0).into()).unwrap();
    assert_eq!(
        api::active_span(),
        0,
        "no scope left open after the requests"
    );
    let s = ended().get(before);
    let attrs = get(&s, "attributes");
    assert_eq!(get(&s, "kind").as_f64(), Some(2.0));
    assert_eq!(get(&s, "name").as_string().unwrap(), "GET");
    assert_eq!(
        get(&attrs, "url.full").as_string().unwrap(),
        "https://api.allowed.example/items?id=REDACTED"
    );
    assert_eq!(
        get(&attrs, "http.response.status_code").as_f64(),
        Some(503.0)
    );
    assert_eq!(get(&attrs, "error.type").as_string().unwrap(), "503");
    assert_eq!(get(&get(&s, "status"), "code").as_f64(), Some(2.0));
}

#[wasm_bindgen_test]
fn hostile_arguments_never_panic_and_are_counted() {
    ensure_init();
    let before = get(&api::get_stats(), "invalidArguments").as_f64().unwrap();
    let huge = JsValue::from_str(&"x".repeat(1_000_000));
    let throwing_proxy = js_sys::eval("new Proxy({}, { get() { throw new Error('boom') }, ownKeys() { throw new Error('boom') } })").unwrap();
    let values = [
        JsValue::UNDEFINED,
        JsValue::NULL,
        Object::new().into(),
        Array::new().into(),
        js_sys::Symbol::for_("x").into(),
        huge,
        JsValue::from_f64(f64::NAN),
        JsValue::from_f64(-1.0),
        Function::new_no_args("").into(),
        throwing_proxy,
    ];
    let h = start_span("hostile".into(), JsValue::UNDEFINED, false);
    for v in &values {
        start_span(v.clone(), v.clone(), false);
        api::span_set_attribute(h, v.clone(), v.clone());
        api::span_set_attribute(h, "k".into(), v.clone());
        api::span_set_attributes(h, v.clone());
        api::span_add_event(h, v.clone(), v.clone(), v.clone());
        api::span_set_status(h, v.clone());
        api::span_record_exception(h, v.clone(), v.clone());
        api::span_update_name(h, v.clone());
        let d = api::enter_span(v.clone());
        api::exit_span(d);
        api::open_scope(v.clone());
        api::inject_headers(v.clone(), v.clone());
        api::set_baggage(v.clone());
    }
    api::set_baggage(JsValue::NULL);
    api::span_end(h, JsValue::from_f64(f64::NAN));
    let after = get(&api::get_stats(), "invalidArguments").as_f64().unwrap();
    assert!(
        after > before + 20.0,
        "invalid arguments counted: {before} -> {after}"
    );
    // Still working afterwards.
    let ok = start_span("after".into(), JsValue::UNDEFINED, false);
    assert!(api::span_is_recording(ok));
    api::span_end(ok, JsValue::UNDEFINED);
}

#[wasm_bindgen_test]
fn buffered_span_calls_run_in_order_at_their_own_times() {
    use edge_telemetry::ops::{Arg, Op, run_ops};
    ensure_init();
    let (str_, num, undef, span, bool_) = (
        Arg::Str as u32 as f64,
        Arg::Num as u32 as f64,
        Arg::Undefined as u32 as f64,
        Arg::Span as u32 as f64,
        Arg::Bool as u32 as f64,
    );
    #[rustfmt::skip]
    let ops = [
        // startSpan('ops-parent', { attributes: { k: 5 } }) at 1000 ms
        Op::Start as u32 as f64, 0.0, str_, 0.0, undef, 0.0, undef, 0.0, undef, 0.0, 1.0, str_, 1.0, num, 5.0, 1000.0,
        // startSpan('ops-child', { kind: CLIENT, parent: <the first span of this buffer> }) at 1001 ms
        Op::Start as u32 as f64, 0.0, str_, 2.0, num, 2.0, span, -1.0, undef, 0.0, 0.0, 1001.0,
        // child.setAttribute('k', true); child.end() at 1005 ms; parent.end() at 1010 ms
        Op::SetAttribute as u32 as f64, -2.0, str_, 1.0, bool_, 1.0,
        Op::End as u32 as f64, -2.0, undef, 0.0, 1005.0,
        Op::End as u32 as f64, -1.0, undef, 0.0, 1010.0,
        // not a record: counted, and the rest is not read
        99.0, 1.0, 2.0,
    ];
    let stats = |k: &str| get(&api::get_stats(), k).as_f64().unwrap();
    let faults = stats("internalErrors");
    let before = ended().length();
    let handles = run_ops(&ops, "ops-parent\0k\0ops-child");
    assert_eq!(handles.len(), 2);
    assert!(handles.iter().all(|h| *h != 0));
    assert_eq!(stats("internalErrors"), faults + 1.0);
    let spans = ended();
    assert_eq!(spans.length(), before + 2, "both spans ended, child first");
    let (c, p) = (spans.get(before), spans.get(before + 1));
    assert_eq!(get(&c, "name").as_string().unwrap(), "ops-child");
    assert_eq!(get(&c, "parentSpanId"), get(&p, "spanId"));
    assert_eq!(get(&c, "kind").as_f64(), Some(2.0));
    assert_eq!(get(&get(&c, "attributes"), "k").as_bool(), Some(true));
    assert_eq!(get(&get(&p, "attributes"), "k").as_f64(), Some(5.0));
    let origin = Reflect::get(&get(&js_sys::global(), "performance"), &"timeOrigin".into())
        .unwrap()
        .as_f64()
        .unwrap();
    let at = |ms: u64| {
        (edge_telemetry_core::time::millis_to_unix_nanos(origin).unwrap() + ms * 1_000_000)
            .to_string()
    };
    let time = |s: &JsValue, k: &str| get(s, k).as_string().unwrap();
    assert_eq!(time(&p, "startTimeUnixNano"), at(1000));
    assert_eq!(time(&c, "startTimeUnixNano"), at(1001));
    assert_eq!(time(&c, "endTimeUnixNano"), at(1005));
    assert_eq!(time(&p, "endTimeUnixNano"), at(1010));
}
