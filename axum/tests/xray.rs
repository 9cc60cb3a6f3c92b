//! Segments: a real axum server with `Telemetry`'s X-Ray output pointed at a UDP socket
//! standing in for the X-Ray daemon on 127.0.0.1; each datagram is read and checked as the
//! daemon reads it (header line, then one segment document).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use edge_telemetry_axum::xray::{DAEMON_HEADER, MAX_DATAGRAM_BYTES};
use edge_telemetry_axum::{Telemetry, TelemetryConfig, TraceLayer};
use serde_json::Value;
use std::net::{SocketAddr, UdpSocket};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The trace headers this service would send on a call made while handling the request.
async fn outgoing_headers() -> String {
    use opentelemetry::propagation::TextMapPropagator as _;
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    let cx = tracing::Span::current().context();
    let mut headers = std::collections::HashMap::new();
    edge_telemetry_axum::TracePropagator::new()
        .with_xray(true)
        .inject_context(&cx, &mut headers);
    serde_json::to_string(&headers).unwrap()
}

struct Harness {
    telemetry: Telemetry,
    addr: SocketAddr,
    daemon: Mutex<UdpSocket>,
    /// Every document received so far (tests run in parallel and share the socket).
    seen: Mutex<Vec<Value>>,
}

fn app() -> Router {
    Router::new()
        .route(
            "/orders/{id}",
            get(|| async {
                let _db = tracing::info_span!(
                    "SELECT orders",
                    otel.kind = "client",
                    "db.system.name" = "postgresql",
                    "db.namespace" = "shop",
                    "db.query.text" = "SELECT * FROM orders WHERE id = $1",
                )
                .entered();
                "order"
            }),
        )
        .route("/fault", get(|| async { StatusCode::BAD_GATEWAY }))
        .route("/headers", get(outgoing_headers))
        .route("/unsampled/headers", get(outgoing_headers))
        .route(
            "/throttled",
            get(|| async { StatusCode::TOO_MANY_REQUESTS }),
        )
        .route("/missing", get(|| async { StatusCode::NOT_FOUND }))
        .route(
            "/huge",
            get(|| async {
                let note = "x".repeat(100_000);
                let _render = tracing::info_span!("render", "order.note" = note.as_str()).entered();
                "big"
            }),
        )
        .layer(TraceLayer::new())
}

fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| {
        let daemon = UdpSocket::bind("127.0.0.1:0").expect("udp");
        daemon
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let collector =
            edge_telemetry_collector::start(edge_telemetry_collector::Config::ephemeral())
                .expect("collector");
        let mut config =
            TelemetryConfig::new("xray-test", format!("{}/v1/traces", collector.url()));
        config.xray_daemon = Some(daemon.local_addr().unwrap());
        config.xray_annotations = vec!["http.route".to_owned()];
        // Nothing under /unsampled/ (no reservoir, rate 0); everything else.
        config.xray_sampling_rules = Some(
            edge_telemetry_axum::xray::local_rules(
                r#"{"version": 2,
                    "rules": [{"description": "quiet", "host": "*", "http_method": "GET",
                               "url_path": "/unsampled/*", "fixed_target": 0, "rate": 0}],
                    "default": {"fixed_target": 100000, "rate": 1}}"#,
            )
            .expect("rules"),
        );
        std::mem::forget(collector);
        let telemetry = Telemetry::new(&config).expect("telemetry");
        let addr = common::serve(&telemetry, app);
        Harness {
            telemetry,
            addr,
            daemon: Mutex::new(daemon),
            seen: Mutex::new(Vec::new()),
        }
    })
}

fn get_path(path: &str, headers: &[(&str, &str)]) -> u16 {
    fetch(path, headers).0
}

/// Status, `Server-Timing` and body.
fn fetch(path: &str, headers: &[(&str, &str)]) -> (u16, String, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut b = http::Request::builder().uri(format!("http://{}{path}", harness().addr));
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let mut r = agent.run(b.body(()).unwrap()).unwrap();
    let timing = r
        .headers()
        .get("server-timing")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (
        r.status().as_u16(),
        timing,
        r.body_mut().read_to_string().unwrap(),
    )
}

/// The documents of `trace` (X-Ray form) once `n` have arrived.
fn documents(trace: &str, n: usize) -> Vec<Value> {
    let h = harness();
    h.telemetry.provider.force_flush().expect("flush");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut buf = vec![0u8; 70_000];
    loop {
        {
            let socket = h.daemon.lock().unwrap();
            while let Ok(len) = socket.recv(&mut buf) {
                assert!(len <= MAX_DATAGRAM_BYTES, "datagram of {len} bytes");
                let text = std::str::from_utf8(&buf[..len]).expect("utf-8");
                let body = text
                    .strip_prefix(DAEMON_HEADER)
                    .unwrap_or_else(|| panic!("no daemon header: {text:.80}"));
                let doc: Value = serde_json::from_str(body).expect("one JSON document");
                h.seen.lock().unwrap().push(doc);
            }
        }
        let docs: Vec<Value> = h
            .seen
            .lock()
            .unwrap()
            .iter()
            .filter(|d| d["trace_id"] == trace)
            .cloned()
            .collect();
        if docs.len() >= n {
            return docs;
        }
        assert!(
            Instant::now() < deadline,
            "trace {trace}: {} of {n} documents",
            docs.len()
        );
    }
}

/// A W3C trace id X-Ray accepts (epoch seconds first), its X-Ray form, and a traceparent.
fn browser_trace(salt: u32) -> (String, String, String) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let id = format!("{now:08x}{salt:08x}0123456789abcdef");
    let xray = format!("1-{}-{}", &id[..8], &id[8..]);
    let tp = format!("00-{id}-b7ad6b7169203331-01");
    (id, xray, tp)
}

#[test]
fn a_request_becomes_a_segment_under_the_browser_span_with_a_sql_subsegment() {
    let (_, xray, tp) = browser_trace(1);
    assert_eq!(get_path("/orders/7", &[("traceparent", &tp)]), 200);
    let docs = documents(&xray, 2);
    let seg = docs
        .iter()
        .find(|d| d.get("type").is_none())
        .expect("a segment");
    assert_eq!(seg["name"], "xray-test");
    assert_eq!(seg["parent_id"], "b7ad6b7169203331", "the browser's span");
    assert_eq!(seg["http"]["request"]["method"], "GET");
    assert_eq!(seg["http"]["response"]["status"], 200);
    assert_eq!(seg["annotations"]["http_route"], "/orders/{id}");
    let (start, end) = (
        seg["start_time"].as_f64().unwrap(),
        seg["end_time"].as_f64().unwrap(),
    );
    assert!(end >= start && start > 1.7e9, "{start} {end}");
    let sub = docs
        .iter()
        .find(|d| d["type"] == "subsegment")
        .expect("a subsegment");
    assert_eq!(sub["parent_id"], seg["id"]);
    assert_eq!(
        sub["sql"]["sanitized_query"],
        "SELECT * FROM orders WHERE id = $1"
    );
}

#[test]
fn error_fault_and_throttle_follow_the_status() {
    for (i, (path, status, field)) in [
        ("/fault", 502, "fault"),
        ("/throttled", 429, "throttle"),
        ("/missing", 404, "error"),
    ]
    .into_iter()
    .enumerate()
    {
        let (_, xray, tp) = browser_trace(10 + i as u32);
        assert_eq!(get_path(path, &[("traceparent", &tp)]), status);
        let seg = &documents(&xray, 1)[0];
        assert_eq!(seg[field], true, "{path}: {seg}");
        assert_eq!(seg["http"]["response"]["status"], status);
    }
}

#[test]
fn a_segment_over_the_datagram_limit_is_sent_without_its_metadata() {
    let (_, xray, tp) = browser_trace(20);
    assert_eq!(get_path("/huge", &[("traceparent", &tp)]), 200);
    let docs = documents(&xray, 2);
    let render = docs
        .iter()
        .find(|d| d["name"] == "render")
        .expect("the oversize subsegment");
    assert!(render.get("metadata").is_none(), "shed to fit");
    let seg = docs.iter().find(|d| d.get("type").is_none()).unwrap();
    assert_eq!(render["parent_id"], seg["id"]);
    assert!(
        seg.get("metadata").is_some(),
        "the segment fitted as it was"
    );
}

#[test]
fn new_traces_get_xray_trace_ids() {
    assert_eq!(get_path("/orders/1", &[]), 200);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let h = harness();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        documents("none", 0);
        let found = h.seen.lock().unwrap().iter().any(|d| {
            d.get("parent_id").is_none()
                && d["trace_id"].as_str().is_some_and(|t| {
                    let secs = u64::from_str_radix(&t[2..10], 16).unwrap();
                    secs.abs_diff(now) < 60
                })
        });
        if found {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no root segment with an epoch trace id"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// X-Ray sampling rules decide new traces; the decision is the sampled flag of `traceparent`,
/// `Sampled=` of `X-Amzn-Trace-Id` and `Server-Timing` alike, and unsampled traces send no
/// segment.
#[test]
fn sampling_rules_decide_and_the_decision_travels_in_both_headers() {
    for (path, sampled) in [("/headers", true), ("/unsampled/headers", false)] {
        let (status, timing, body) = fetch(path, &[]);
        assert_eq!(status, 200);
        let headers: Value = serde_json::from_str(&body).unwrap();
        let tp = headers["traceparent"].as_str().expect("traceparent");
        let xr = headers["x-amzn-trace-id"]
            .as_str()
            .expect("X-Amzn-Trace-Id");
        let flags = if sampled { "03" } else { "02" };
        assert!(tp.ends_with(&format!("-{flags}")), "{path}: {tp}");
        assert!(timing.ends_with(&format!("-{flags}\"")), "{path}: {timing}");
        assert!(
            xr.ends_with(if sampled { ";Sampled=1" } else { ";Sampled=0" }),
            "{path}: {xr}"
        );
        let trace = &tp[3..35];
        let xray = format!("1-{}-{}", &trace[..8], &trace[8..]);
        assert!(xr.starts_with(&format!("Root={xray};")), "{xr}");
        if sampled {
            documents(&xray, 1);
        } else {
            std::thread::sleep(Duration::from_millis(300));
            assert!(
                documents(&xray, 0).is_empty(),
                "an unsampled trace sends no segment"
            );
        }
    }
}
