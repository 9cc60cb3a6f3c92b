//! The backend against an in-process collector: trace continuation through the core
//! crate's propagator, SERVER and DB spans, Server-Timing, CORS, Rollbar items from
//! `/api/fail` and panics, graceful shutdown flushing spans.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry::trace::TraceContextExt as _;
use serde_json::Value;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID: &str = "00f067aa0ba902b7";

fn traceparent(flags: &str) -> String {
    format!("00-{TRACE_ID}-{PARENT_ID}-{flags}")
}

#[test]
fn a_request_with_traceparent_continues_the_trace_with_server_and_db_spans() {
    let s = setup();
    let tp = traceparent("01");
    let reply = get(
        &format!("{}/api/activities/home", s.backend.url()),
        &[
            ("traceparent", &tp),
            ("tracestate", "vendor=a"),
            ("tracestate", "other=b"),
            ("baggage", "cart=7731"),
            ("user-agent", "demo-test/1.0"),
        ],
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let activities = reply.json()["activities"].as_array().expect("list").clone();
    assert!(activities.len() >= 3, "seeded: {activities:?}");
    for key in ["id", "handle", "message", "createdAt"] {
        assert!(
            activities[0].get(key).is_some(),
            "{key} in {}",
            activities[0]
        );
    }
    let ids: Vec<i64> = activities
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");

    let (trace_id, span_id, flags) = reply.server_timing();
    assert_eq!(trace_id, TRACE_ID, "continued");
    assert_ne!(span_id, PARENT_ID, "a new span");
    assert_eq!(flags, "01");

    let trace = trace(&s, TRACE_ID, 2);
    let server = span(&trace, "GET /api/activities/home");
    assert_eq!(server["kind"], "server");
    assert_eq!(
        server["spanId"],
        span_id.as_str(),
        "Server-Timing names the server span"
    );
    assert_eq!(server["parentSpanId"], PARENT_ID);
    assert_eq!(server["service"], "demo-backend");
    assert_eq!(
        server["traceState"], "vendor=a,other=b",
        "both tracestate headers combined"
    );
    let a = &server["attributes"];
    assert_eq!(a["http.request.method"], "GET");
    assert_eq!(a["http.route"], "/api/activities/home");
    assert_eq!(a["url.path"], "/api/activities/home");
    assert_eq!(a["url.scheme"], "http");
    assert_eq!(a["http.response.status_code"], 200);
    assert_eq!(a["server.address"], "127.0.0.1");
    assert_eq!(a["user_agent.original"], "demo-test/1.0");
    assert_eq!(server["status"]["code"], "unset");

    let db = span(&trace, "SELECT activities");
    assert_eq!(db["kind"], "client");
    assert_eq!(db["parentSpanId"], span_id.as_str());
    assert_eq!(db["service"], "demo-backend");
    assert_eq!(db["attributes"]["db.system.name"], "sqlite");
    assert_eq!(db["attributes"]["db.operation.name"], "SELECT");
    assert_eq!(db["attributes"]["db.collection.name"], "activities");
    assert!(
        db["attributes"]["db.query.text"]
            .as_str()
            .unwrap()
            .starts_with("SELECT id, handle, message, created_at FROM activities")
    );
    assert_eq!(trace["spans"].as_array().unwrap().len(), 2, "{trace}");
}

#[test]
fn without_traceparent_a_new_trace_starts_and_server_timing_links_to_it() {
    let s = setup();
    let reply = get(&format!("{}/api/health", s.backend.url()), &[]);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json(), serde_json::json!({"status": "ok"}));
    let (trace_id, span_id, _) = reply.server_timing();
    let trace = trace(&s, &trace_id, 1);
    let server = span(&trace, "GET /api/health");
    assert_eq!(server["spanId"], span_id.as_str());
    assert_eq!(server["parentSpanId"], Value::Null);
}

#[test]
fn the_random_flag_is_kept() {
    let s = setup();
    let reply = get(
        &format!("{}/api/health", s.backend.url()),
        &[("traceparent", &traceparent("03"))],
    );
    let (trace_id, _, flags) = reply.server_timing();
    assert_eq!(trace_id, TRACE_ID);
    assert_eq!(flags, "03", "sampled + random, as received");
}

/// W3C Trace Context: more than one `traceparent` header is invalid, and an invalid
/// traceparent means a new trace. opentelemetry-rust's `TraceContextPropagator` with
/// `HeaderExtractor` (what a typical axum app uses) continues the first one instead.
#[test]
fn two_traceparent_headers_start_a_new_trace_unlike_opentelemetry_rust() {
    let s = setup();
    let first = traceparent("01");
    let second = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let reply = get(
        &format!("{}/api/health", s.backend.url()),
        &[("traceparent", &first), ("traceparent", second)],
    );
    assert_eq!(reply.status, 200);
    let (trace_id, span_id, _) = reply.server_timing();
    assert_ne!(trace_id, TRACE_ID);
    assert_ne!(trace_id, "0af7651916cd43dd8448eb211c80319c");
    let trace = trace(&s, &trace_id, 1);
    assert_eq!(span(&trace, "GET /api/health")["spanId"], span_id.as_str());
    assert_eq!(span(&trace, "GET /api/health")["parentSpanId"], Value::Null);

    // The same headers through both propagators.
    let mut headers = http::HeaderMap::new();
    headers.append("traceparent", first.parse().unwrap());
    headers.append("traceparent", second.parse().unwrap());
    headers.append("tracestate", "a=1".parse().unwrap());
    headers.append("tracestate", "b=2".parse().unwrap());
    let ours = edge_telemetry_core::propagation::W3cPropagator
        .extract(&edge_telemetry_demo_backend::HeaderMapCarrier(&headers));
    assert!(!ours.span().span_context().is_valid(), "ours: invalid");
    let theirs = opentelemetry_sdk::propagation::TraceContextPropagator::new()
        .extract(&opentelemetry_http::HeaderExtractor(&headers));
    let theirs = theirs.span().span_context().clone();
    assert!(
        theirs.is_valid(),
        "opentelemetry-rust continues one of them"
    );
    assert_eq!(theirs.trace_id().to_string(), TRACE_ID, "the first");
    assert_eq!(
        theirs.trace_state().header(),
        "a=1",
        "and drops the second tracestate"
    );

    // One traceparent with the random flag: ours keeps it, opentelemetry-rust drops it.
    let mut headers = http::HeaderMap::new();
    headers.append("traceparent", traceparent("03").parse().unwrap());
    let ours = edge_telemetry_core::propagation::W3cPropagator
        .extract(&edge_telemetry_demo_backend::HeaderMapCarrier(&headers));
    assert_eq!(ours.span().span_context().trace_flags().to_u8(), 3);
    let theirs = opentelemetry_sdk::propagation::TraceContextPropagator::new()
        .extract(&opentelemetry_http::HeaderExtractor(&headers));
    assert_eq!(theirs.span().span_context().trace_flags().to_u8(), 1);
}

#[test]
fn cors_preflight_and_headers_for_allowed_origins_only() {
    let s = setup();
    let url = format!("{}/api/activities", s.backend.url());
    let preflight = request(
        "OPTIONS",
        &url,
        &[
            ("origin", "http://localhost:5173"),
            ("access-control-request-method", "POST"),
            (
                "access-control-request-headers",
                "traceparent,tracestate,baggage,x-amzn-trace-id,content-type",
            ),
        ],
        None,
    );
    assert!(
        preflight.status == 200 || preflight.status == 204,
        "{}",
        preflight.status
    );
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("http://localhost:5173")
    );
    let methods = preflight
        .header("access-control-allow-methods")
        .expect("allow methods");
    for m in ["GET", "POST"] {
        assert!(
            methods.split(',').any(|a| a.trim() == m),
            "{m} in {methods}"
        );
    }
    let allowed = preflight
        .header("access-control-allow-headers")
        .expect("allow headers")
        .to_ascii_lowercase();
    for h in [
        "traceparent",
        "tracestate",
        "baggage",
        "x-amzn-trace-id",
        "content-type",
    ] {
        assert!(
            allowed.split(',').any(|a| a.trim() == h),
            "{h} in {allowed}"
        );
    }

    let other = request(
        "OPTIONS",
        &url,
        &[
            ("origin", "http://evil.example"),
            ("access-control-request-method", "POST"),
            ("access-control-request-headers", "traceparent"),
        ],
        None,
    );
    assert_eq!(
        other.header("access-control-allow-origin"),
        None,
        "another origin is not allowed: the browser then refuses the request"
    );

    let reply = get(
        &format!("{}/api/health", s.backend.url()),
        &[("origin", "http://127.0.0.1:5173")],
    );
    assert_eq!(
        reply.header("access-control-allow-origin"),
        Some("http://127.0.0.1:5173")
    );
    assert_eq!(
        reply
            .header("access-control-expose-headers")
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("server-timing")
    );
    let vary: Vec<String> = reply
        .headers
        .get_all("vary")
        .iter()
        .flat_map(|v| {
            v.to_str()
                .unwrap()
                .split(',')
                .map(|p| p.trim().to_ascii_lowercase())
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(vary.iter().any(|v| v == "origin"), "{vary:?}");
    reply.server_timing();
    let reply = get(
        &format!("{}/api/health", s.backend.url()),
        &[("origin", "http://evil.example")],
    );
    // Without Access-Control-Allow-Origin the browser hides the response from the page
    // (tower-http still lists the exposed headers, which mean nothing then).
    assert_eq!(reply.header("access-control-allow-origin"), None);
    reply.server_timing();
}

#[test]
fn posting_an_activity_adds_it_to_the_feed() {
    let s = setup();
    let url = format!("{}/api/activities", s.backend.url());
    let json = [("content-type", "application/json")];
    let created = request(
        "POST",
        &url,
        &json,
        Some(r#"{"handle":"quark","message":"Rule of acquisition 34"}"#),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let activity = created.json()["activity"].clone();
    assert_eq!(activity["handle"], "quark");
    assert_eq!(activity["message"], "Rule of acquisition 34");
    let (trace_id, span_id, _) = created.server_timing();

    let feed = get(&format!("{}/api/activities/home", s.backend.url()), &[]).json();
    assert_eq!(feed["activities"][0], activity, "newest first");

    for bad in [
        "",
        "{",
        r#"{"handle":"x"}"#,
        r#"{"handle":"","message":"m"}"#,
    ] {
        let reply = request("POST", &url, &json, Some(bad));
        assert_eq!(reply.status, 400, "{bad}");
        assert!(reply.json()["error"].is_string());
    }

    let trace = trace(&s, &trace_id, 2);
    let db = span(&trace, "INSERT activities");
    assert_eq!(db["parentSpanId"], span_id.as_str());
    assert_eq!(db["attributes"]["db.operation.name"], "INSERT");
    let server = span(&trace, "POST /api/activities");
    assert_eq!(server["attributes"]["http.response.status_code"], 201);
}

fn error_item(s: &Setup, uuid: &str) -> Value {
    let reply = api(&s.collector, &format!("/api/errors/{uuid}"));
    assert_eq!(reply.status, 200, "item {uuid}: {}", reply.body);
    reply.json()
}

#[test]
fn api_fail_reports_a_server_item_with_the_trace_id() {
    let s = setup();
    let tp = traceparent("01");
    let reply = get(
        &format!("{}/api/fail", s.backend.url()),
        &[("traceparent", &tp)],
    );
    assert_eq!(reply.status, 500);
    let body = reply.json();
    let uuid = body["rollbarUuid"].as_str().expect("uuid").to_owned();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("no such table: archived_activities"),
        "{body}"
    );
    let (trace_id, span_id, _) = reply.server_timing();
    assert_eq!(trace_id, TRACE_ID);

    let item = error_item(&s, &uuid);
    assert_eq!(item["traceId"], TRACE_ID);
    assert_eq!(item["spanId"], span_id.as_str());
    assert_eq!(item["level"], "error");
    assert_eq!(item["class"], "DbError");
    let data = &item["item"]["data"];
    assert_eq!(data["platform"], std::env::consts::OS);
    assert_eq!(data["language"], "rust");
    assert_eq!(data["framework"], "axum");
    assert_eq!(data["context"], "GET /api/fail");
    assert!(data.get("client").is_none());
    let chain = data["body"]["trace_chain"].as_array().expect("trace_chain");
    // DbError, rusqlite's SqliteFailure, and its own source (the SQLite error code).
    assert_eq!(chain.len(), 3, "{chain:?}");
    assert_eq!(chain[1]["exception"]["class"], "SqliteFailure");
    let frame = &chain[0]["frames"][0];
    assert!(
        frame["filename"].as_str().unwrap().ends_with("db.rs"),
        "{frame}"
    );
    assert!(frame["lineno"].as_u64().unwrap() > 0);

    let trace = trace(&s, TRACE_ID, 2);
    let server = span(&trace, "GET /api/fail");
    assert_eq!(server["status"]["code"], "error");
    assert_eq!(server["attributes"]["http.response.status_code"], 500);
    assert_eq!(server["attributes"]["error.type"], "DbError");
    let db = span(&trace, "SELECT archived_activities");
    assert_eq!(db["status"]["code"], "error");
    assert!(
        db["status"]["message"]
            .as_str()
            .unwrap()
            .contains("no such table")
    );
    assert_eq!(
        trace["errors"][0]["uuid"],
        uuid.as_str(),
        "linked to the trace"
    );
}

#[test]
fn a_panic_in_a_handler_is_a_500_and_a_critical_item_with_the_trace_id() {
    let s = setup();
    let reply = get(&format!("{}/api/panic", s.backend.url()), &[]);
    assert_eq!(reply.status, 500);
    let body = reply.json();
    assert_eq!(body["error"], "internal error");
    let uuid = body["rollbarUuid"].as_str().expect("uuid").to_owned();
    let (trace_id, span_id, _) = reply.server_timing();

    let item = error_item(&s, &uuid);
    assert_eq!(item["level"], "critical");
    assert_eq!(item["traceId"], trace_id.as_str());
    assert_eq!(item["spanId"], span_id.as_str());
    assert_eq!(item["class"], "panic");
    assert_eq!(item["message"], "demo panic: /api/panic fails on purpose");
    let frame = &item["frames"][0];
    assert!(
        frame["filename"].as_str().unwrap().ends_with("server.rs"),
        "{frame}"
    );

    let trace = trace(&s, &trace_id, 1);
    let server = span(&trace, "GET /api/panic");
    assert_eq!(server["status"]["code"], "error");
    assert_eq!(server["attributes"]["error.type"], "panic");

    // The server keeps serving.
    assert_eq!(
        get(&format!("{}/api/health", s.backend.url()), &[]).status,
        200
    );
}

#[test]
fn graceful_shutdown_flushes_the_spans() {
    let Setup { collector, backend } = setup();
    let reply = get(&format!("{}/api/activities/home", backend.url()), &[]);
    let (trace_id, _, _) = reply.server_timing();
    // No flush: stopping the backend shuts the tracer provider down, which exports.
    backend.stop().expect("clean stop");
    let status = api(&collector, "/api/status").json();
    assert_eq!(status["spans"], 2, "{status}");
    let trace = wait_trace(&collector, &trace_id, 2);
    span(&trace, "SELECT activities");
}

#[test]
fn unknown_api_paths_are_404_with_server_timing() {
    let s = setup();
    let reply = get(&format!("{}/api/nope", s.backend.url()), &[]);
    assert_eq!(reply.status, 404);
    let (trace_id, _, _) = reply.server_timing();
    let trace = trace(&s, &trace_id, 1);
    let server = span(&trace, "GET");
    assert_eq!(server["attributes"].get("http.route"), None);
    assert_eq!(server["attributes"]["url.path"], "/api/nope");
}

#[test]
fn with_tracing_off_requests_still_work() {
    let s = setup_with(|c| c.tracing = false);
    let reply = get(&format!("{}/api/activities/home", s.backend.url()), &[]);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("server-timing"), None);
    s.backend.flush().unwrap();
    let status = api(&s.collector, "/api/status").json();
    assert_eq!(status["spans"], 0);
}

/// With `AWS_XRAY_DAEMON_ADDRESS` at the collector's daemon port, the request's SERVER span
/// and its SQL span also arrive there as an X-Ray segment and subsegment (the collector keeps
/// one row per span id: the trace is the same two spans).
#[test]
fn segments_reach_the_collectors_daemon_port() {
    let collector = edge_telemetry_collector::start(edge_telemetry_collector::Config::ephemeral())
        .expect("collector");
    let daemon = collector.xray_addr().expect("daemon port");
    let mut config = edge_telemetry_demo_backend::Config::for_collector(&collector.url());
    config.xray_daemon = Some(daemon);
    let backend = edge_telemetry_demo_backend::start(config).expect("backend");
    let s = Setup { collector, backend };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let trace_id = format!("{now:08x}c0ffee0000000000000000ab");
    let tp = format!("00-{trace_id}-{PARENT_ID}-01");
    let reply = get(
        &format!("{}/api/activities/home", s.backend.url()),
        &[("traceparent", &tp)],
    );
    assert_eq!(reply.status, 200);
    let trace = trace(&s, &trace_id, 2);
    assert_eq!(
        span(&trace, "GET /api/activities/home")["parentSpanId"],
        PARENT_ID
    );
    let status = common::wait_json(&s.collector, "/api/status", |v| {
        v["xray"]["stored"].as_u64().unwrap_or(0) >= 2
    });
    assert_eq!(status["xray"]["invalid"], 0, "{status}");
    assert_eq!(trace["spans"].as_array().unwrap().len(), 2, "{trace}");
}
