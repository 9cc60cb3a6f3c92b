//! Centralized X-Ray sampling through the daemon's sampling API: the local collector serves a
//! rules file at `/GetSamplingRules` and quotas at `/SamplingTargets`, as the X-Ray daemon
//! does for the SDKs; a real server's `Telemetry` polls it and samples by those rules, and
//! reports its statistics back.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use axum::Router;
use axum::routing::get;
use edge_telemetry_axum::{Telemetry, TelemetryConfig, TraceLayer};
use edge_telemetry_collector::{Command, Config};
use serde_json::Value;
use std::time::{Duration, Instant};

fn app() -> Router {
    Router::new()
        .route("/quiet/{id}", get(|| async { "quiet" }))
        .route("/loud", get(|| async { "loud" }))
        .layer(TraceLayer::new())
}

fn status(collector: &edge_telemetry_collector::Running) -> Value {
    let mut r = ureq::get(&format!("{}/api/status", collector.url()))
        .call()
        .expect("status");
    serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap()
}

/// The flags of the `Server-Timing` traceparent of GET `path`.
fn flags(addr: std::net::SocketAddr, path: &str) -> String {
    let r = ureq::get(&format!("http://{addr}{path}"))
        .call()
        .expect("request");
    let timing = r.headers()["server-timing"].to_str().unwrap().to_owned();
    timing
        .trim_end_matches('"')
        .rsplit('-')
        .next()
        .unwrap()
        .to_owned()
}

#[test]
fn rules_from_the_daemon_api_decide_and_statistics_go_back() {
    let dir = std::env::temp_dir().join(format!("sampling-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("rules.json");
    // Nothing under /quiet/; everything else (a reservoir far above what the test sends).
    std::fs::write(
        &file,
        r#"{"version": 2,
            "rules": [{"description": "quiet", "host": "*", "http_method": "GET",
                       "url_path": "/quiet/*", "fixed_target": 0, "rate": 0}],
            "default": {"fixed_target": 100000, "rate": 1}}"#,
    )
    .unwrap();
    let args = [
        "--addr",
        "127.0.0.1:0",
        "--db",
        ":memory:",
        "--xray-addr",
        "off",
        "--xray-sampling-rules",
        file.to_str().unwrap(),
    ];
    let config: Config = match Command::parse(args.iter().map(|s| (*s).to_owned()), |_| None) {
        Ok(Command::Run(c)) => c,
        other => panic!("{other:?}"),
    };
    let collector = edge_telemetry_collector::start(config).expect("collector");
    let mut t = TelemetryConfig::new("sampled-api", format!("{}/v1/traces", collector.url()));
    t.xray_sampling_daemon = Some(collector.url());
    t.xray_targets_interval = Duration::from_millis(200);
    let telemetry = Telemetry::new(&t).expect("telemetry");
    let addr = common::serve(&telemetry, app);

    let deadline = Instant::now() + Duration::from_secs(10);
    while status(&collector)["xray"]["sampling"]["rulesServed"] == 0 {
        assert!(Instant::now() < deadline, "the rules were never fetched");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(100));
    // The SDKs' default (one a second, then 5 %) would leave most of these unsampled.
    let loud: Vec<String> = (0..8).map(|_| flags(addr, "/loud")).collect();
    assert!(
        loud.iter().all(|f| f == "03"),
        "the served default rule samples all: {loud:?}"
    );
    let quiet: Vec<String> = (0..8)
        .map(|i| flags(addr, &format!("/quiet/{i}")))
        .collect();
    assert!(
        quiet.iter().all(|f| f == "02"),
        "the quiet rule samples none: {quiet:?}"
    );

    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let s = &status(&collector)["xray"]["sampling"];
        if s["sampledReported"].as_u64().unwrap_or(0) >= 8 {
            assert!(s["statisticsReceived"].as_u64().unwrap() >= 2, "{s}");
            break;
        }
        assert!(Instant::now() < deadline, "statistics never reported: {s}");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_bad_rules_file_stops_the_collector_naming_it() {
    let e = Command::parse(
        ["--xray-sampling-rules", "/nonexistent/rules.json"]
            .iter()
            .map(|s| (*s).to_owned()),
        |_| None,
    )
    .unwrap_err();
    assert!(
        e.contains("--xray-sampling-rules") && e.contains("cannot read"),
        "{e}"
    );
}
