//! `TraceLayer`, `cors` and `Telemetry` in a real axum server on 127.0.0.1, exporting over
//! OTLP/HTTP to the local collector (in-process), read back from the collector's API.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use edge_telemetry_axum::{ErrorType, Telemetry, TelemetryConfig, TraceLayer, cors};
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

struct Harness {
    collector: edge_telemetry_collector::Running,
    telemetry: Telemetry,
    addr: SocketAddr,
}

fn app() -> Router {
    Router::new()
        .route("/items/{id}", get(|| async { "item" }))
        .route(
            "/logged",
            get(|| async {
                tracing::warn!(order.id = 7, "stock low quixotrend");
                let inner = tracing::info_span!("reserve");
                inner.in_scope(|| tracing::info!("reserved"));
                "logged"
            }),
        )
        .route(
            "/broken",
            get(|| async {
                let mut r = StatusCode::SERVICE_UNAVAILABLE.into_response();
                r.extensions_mut().insert(ErrorType("DbDown"));
                r
            }),
        )
        .layer(TraceLayer::new())
        .layer(cors(["http://page.example"]))
}

/// One collector and one server for the whole file (the `tracing` dispatcher is global).
fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| {
        let collector =
            edge_telemetry_collector::start(edge_telemetry_collector::Config::ephemeral())
                .expect("collector starts");
        let telemetry = Telemetry::new(&TelemetryConfig::new(
            "layer-test",
            format!("{}/v1/traces", collector.url()),
        ))
        .expect("telemetry");
        let addr = common::serve(&telemetry, app);
        Harness {
            collector,
            telemetry,
            addr,
        }
    })
}

struct Reply {
    status: u16,
    headers: http::HeaderMap,
}

impl Reply {
    /// `(trace id, span id, flags)` from `Server-Timing: traceparent;desc="00-…"`.
    fn server_timing(&self) -> (String, String, String) {
        let value = self.headers["server-timing"].to_str().expect("ascii");
        let desc = value
            .strip_prefix("traceparent;desc=\"00-")
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or_else(|| panic!("Server-Timing {value}"));
        let parts: Vec<&str> = desc.split('-').collect();
        (parts[0].into(), parts[1].into(), parts[2].into())
    }
}

fn request(method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut b = http::Request::builder()
        .method(method)
        .uri(format!("http://{}{path}", harness().addr));
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let response = agent.run(b.body(()).expect("request")).expect("response");
    Reply {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
    }
}

/// The collector's trace `trace_id` once it has `spans` spans.
fn trace(trace_id: &str, spans: usize) -> Value {
    trace_with(trace_id, spans, 0)
}

/// The collector's trace `trace_id` once it has `spans` spans and `logs` log records.
fn trace_with(trace_id: &str, spans: usize, logs: usize) -> Value {
    let h = harness();
    h.telemetry.provider.force_flush().expect("flush");
    if let Some(l) = &h.telemetry.logs {
        l.force_flush().expect("flush logs");
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut r = ureq::get(&format!("{}/api/traces/{trace_id}", h.collector.url()))
            .config()
            .http_status_as_error(false)
            .build()
            .call()
            .expect("collector");
        if r.status() == 200 {
            let v: Value = serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
            if v["spans"].as_array().map_or(0, Vec::len) >= spans
                && v["logs"].as_array().map_or(0, Vec::len) >= logs
            {
                return v;
            }
        }
        assert!(
            Instant::now() < deadline,
            "trace {trace_id}: no {spans} spans"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether the collector has any span of `trace_id` after a flush and a short wait.
fn exported(trace_id: &str) -> bool {
    let h = harness();
    h.telemetry.provider.force_flush().expect("flush");
    std::thread::sleep(Duration::from_millis(300));
    let r = ureq::get(&format!("{}/api/traces/{trace_id}", h.collector.url()))
        .config()
        .http_status_as_error(false)
        .build()
        .call()
        .expect("collector");
    r.status() == 200
}

#[test]
fn w3c_trace_context_is_continued_with_http_attributes() {
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let tp = format!("00-{trace_id}-00f067aa0ba902b7-01");
    let xr = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
    let reply = request(
        "GET",
        "/items/7?token=secret&x",
        &[
            ("traceparent", &tp),
            ("tracestate", "v=1"),
            ("x-amzn-trace-id", xr),
            ("user-agent", "layer-test/1"),
        ],
    );
    assert_eq!(reply.status, 200);
    let (tid, sid, flags) = reply.server_timing();
    assert_eq!(tid, trace_id, "W3C first, X-Ray ignored");
    assert_eq!(flags, "01");
    let t = trace(trace_id, 1);
    let s = &t["spans"][0];
    assert_eq!(s["name"], "GET /items/{id}");
    assert_eq!(s["kind"], "server");
    assert_eq!(s["spanId"], sid.as_str());
    assert_eq!(s["parentSpanId"], "00f067aa0ba902b7");
    assert_eq!(s["traceState"], "v=1");
    assert_eq!(s["service"], "layer-test");
    let a = &s["attributes"];
    assert_eq!(a["http.request.method"], "GET");
    assert_eq!(a["http.route"], "/items/{id}");
    assert_eq!(a["url.path"], "/items/7");
    assert_eq!(a["url.query"], "token=REDACTED&x", "query values scrubbed");
    assert_eq!(a["http.response.status_code"], 200);
    assert_eq!(a["server.address"], "127.0.0.1");
    assert_eq!(a["server.port"], i64::from(harness().addr.port()));
    assert_eq!(a["user_agent.original"], "layer-test/1");
    assert_eq!(a["network.protocol.version"], "1.1");
}

#[test]
fn an_xray_header_alone_is_continued() {
    let reply = request(
        "GET",
        "/items/1",
        &[(
            "X-Amzn-Trace-Id",
            "Root=1-6759e988-bd862e3fe1be46a994272793;Parent=63995c3f42cd8ad8;Sampled=1",
        )],
    );
    let (tid, sid, flags) = reply.server_timing();
    assert_eq!(tid, "6759e988bd862e3fe1be46a994272793");
    assert_eq!(flags, "01");
    let t = trace(&tid, 1);
    assert_eq!(t["spans"][0]["spanId"], sid.as_str());
    assert_eq!(t["spans"][0]["parentSpanId"], "63995c3f42cd8ad8");
}

#[test]
fn xray_sampling_decisions_are_followed_and_requested_ones_made_here() {
    // Sampled=0: the caller decided not to record; nothing is exported.
    let reply = request(
        "GET",
        "/items/2",
        &[(
            "x-amzn-trace-id",
            "Root=1-7759e988-bd862e3fe1be46a994272793;Parent=73995c3f42cd8ad8;Sampled=0",
        )],
    );
    let (tid, _, flags) = reply.server_timing();
    assert_eq!(tid, "7759e988bd862e3fe1be46a994272793");
    assert_eq!(flags, "00");
    assert!(!exported(&tid), "an unsampled trace is not exported");
    // Sampled=?: this service decides (AlwaysOn: recorded).
    let reply = request(
        "GET",
        "/items/3",
        &[(
            "x-amzn-trace-id",
            "Root=1-8759e988-bd862e3fe1be46a994272793;Parent=83995c3f42cd8ad8;Sampled=?",
        )],
    );
    let (tid, _, flags) = reply.server_timing();
    assert_eq!(flags, "01");
    assert_eq!(
        trace(&tid, 1)["spans"][0]["parentSpanId"],
        "83995c3f42cd8ad8"
    );
}

#[test]
fn server_errors_are_span_errors_with_their_named_type() {
    let reply = request("GET", "/broken", &[]);
    assert_eq!(reply.status, 503);
    let (tid, _, _) = reply.server_timing();
    let s = &trace(&tid, 1)["spans"][0];
    assert_eq!(s["name"], "GET /broken");
    assert_eq!(s["parentSpanId"], Value::Null, "a new trace");
    assert_eq!(s["status"]["code"], "error");
    assert_eq!(s["attributes"]["error.type"], "DbDown");
    assert_eq!(s["attributes"]["http.response.status_code"], 503);
}

#[test]
fn cors_lets_allowed_pages_send_every_trace_header() {
    let preflight = request(
        "OPTIONS",
        "/items/1",
        &[
            ("origin", "http://page.example"),
            ("access-control-request-method", "GET"),
            (
                "access-control-request-headers",
                "traceparent,tracestate,baggage,x-amzn-trace-id",
            ),
        ],
    );
    assert_eq!(preflight.status, 200);
    assert_eq!(
        preflight.headers["access-control-allow-origin"],
        "http://page.example"
    );
    let allowed = preflight.headers["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_owned();
    for h in ["traceparent", "tracestate", "baggage", "x-amzn-trace-id"] {
        assert!(allowed.split(',').any(|a| a.trim() == h), "{h}: {allowed}");
    }
    assert!(
        preflight.headers.get("server-timing").is_none(),
        "preflights get no span"
    );
    let reply = request("GET", "/items/1", &[("origin", "http://page.example")]);
    assert_eq!(
        reply.headers["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .to_ascii_lowercase(),
        "server-timing"
    );
    let other = request("GET", "/items/1", &[("origin", "http://evil.example")]);
    assert!(other.headers.get("access-control-allow-origin").is_none());
}

/// W3C Trace Context Level 2's random flag: kept as the caller sent it (sampled or not), set
/// on traces started here, in `Server-Timing` and on the exported span alike.
#[test]
fn the_random_flag_is_kept_and_set_on_new_traces() {
    let cases = [
        // (caller's flags, flags the service sends, exported?)
        (Some("03"), "03", true),
        (Some("02"), "02", false),
        (Some("01"), "01", true),
        (Some("00"), "00", false),
        (None, "03", true),
    ];
    for (i, (caller, want, is_exported)) in cases.into_iter().enumerate() {
        let trace_id = format!("9bf92f3577b34da6a3ce929d0e0e47{i:02x}");
        let tp = caller.map(|f| format!("00-{trace_id}-00f067aa0ba902b7-{f}"));
        let headers: Vec<(&str, &str)> = tp.iter().map(|v| ("traceparent", v.as_str())).collect();
        let reply = request("GET", "/items/9", &headers);
        let (tid, sid, flags) = reply.server_timing();
        assert_eq!(flags, want, "caller {caller:?}: Server-Timing");
        if caller.is_some() {
            assert_eq!(tid, trace_id);
        }
        if is_exported {
            let t = trace(&tid, 1);
            let s = &t["spans"][0];
            assert_eq!(s["spanId"], sid.as_str());
            let exported = s["flags"].as_i64().expect("flags") & 0xff;
            assert_eq!(
                format!("{exported:02x}"),
                want,
                "caller {caller:?}: exported flags"
            );
        } else {
            assert!(!exported(&tid), "caller {caller:?}: not sampled");
        }
    }
}

#[test]
fn tracing_events_become_log_records_with_the_ids_of_their_span() {
    let parent = "00-0af7651916cd43dd8448eb211c8031aa-b7ad6b7169203331-01";
    let reply = request("GET", "/logged", &[("traceparent", parent)]);
    assert_eq!(reply.status, 200);
    let (trace_id, server_span, _) = reply.server_timing();
    let t = trace_with(&trace_id, 2, 2);
    let logs = t["logs"].as_array().unwrap();
    assert_eq!(logs[0]["body"], "stock low quixotrend");
    assert_eq!(logs[0]["severity"], "WARN");
    assert_eq!(logs[0]["severityNumber"], 13);
    assert_eq!(
        logs[0]["spanId"],
        server_span.as_str(),
        "under the SERVER span"
    );
    assert_eq!(logs[0]["attributes"]["order.id"], 7);
    assert_eq!(logs[0]["service"], "layer-test");
    let reserve = t["spans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "reserve")
        .expect("the inner span");
    assert_eq!(logs[1]["body"], "reserved");
    assert_eq!(logs[1]["spanId"], reserve["spanId"], "under the inner span");
}
