//! The `demo-backend` binary: configuration from the environment, its first stdout line,
//! static files and `config.json`, and SIGTERM → graceful shutdown that flushes spans.
#![cfg(all(not(target_arch = "wasm32"), unix))]

mod common;

use common::*;
use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};

#[test]
fn the_binary_serves_static_files_and_flushes_spans_on_sigterm() {
    let collector = edge_telemetry_collector::start(edge_telemetry_collector::Config::ephemeral())
        .expect("collector");
    let dir = std::env::temp_dir().join(format!("demo-backend-static-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("assets")).unwrap();
    std::fs::write(dir.join("index.html"), "<!doctype html><title>demo</title>").unwrap();
    std::fs::write(dir.join("assets/app.js"), "console.log(1)").unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_demo-backend"))
        .env_clear()
        .env("DEMO_BACKEND_ADDR", "127.0.0.1:0")
        .env("DEMO_DB", ":memory:")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url())
        .env("OTEL_SERVICE_NAME", "demo-backend-binary")
        .env("DEMO_STATIC_DIR", &dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let url = line
        .trim_end()
        .strip_prefix("demo-backend listening on ")
        .unwrap_or_else(|| panic!("first line: {line:?}"))
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    let index = get(&format!("{url}/"), &[]);
    assert_eq!(index.status, 200);
    assert!(index.body.contains("<title>demo</title>"));
    assert!(
        index
            .header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    index.server_timing();
    let js = get(&format!("{url}/assets/app.js"), &[]);
    assert_eq!(js.body, "console.log(1)");
    assert!(
        js.header("content-type")
            .unwrap()
            .starts_with("text/javascript")
    );
    let spa = get(&format!("{url}/some/client/route"), &[]);
    assert!(
        spa.body.contains("<title>demo</title>"),
        "index.html fallback"
    );
    let escape = get(&format!("{url}/../Cargo.toml"), &[]);
    assert!(escape.body.contains("<title>demo</title>"));
    assert_eq!(get(&format!("{url}/api/missing"), &[]).status, 404);
    let config = get(&format!("{url}/config.json"), &[]).json();
    assert_eq!(config["apiBase"], "");
    assert_eq!(config["collector"], collector.url().as_str());
    assert_eq!(
        config["rollbarEndpoint"],
        format!("{}/api/1/item/", collector.url()).as_str()
    );

    let (trace_id, _, _) = get(&format!("{url}/api/activities/home"), &[]).server_timing();
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "{exit:?}");

    // Everything was exported before the process exited.
    let trace = api(&collector, &format!("/api/traces/{trace_id}")).json();
    assert_eq!(trace["spans"].as_array().unwrap().len(), 2, "{trace}");
    assert_eq!(
        span(&trace, "GET /api/activities/home")["service"],
        "demo-backend-binary"
    );
    let status = api(&collector, "/api/status").json();
    assert_eq!(
        status["spans"], 8,
        "7 requests, one of them with a DB span: {status}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
