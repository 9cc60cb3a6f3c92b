//! Relay mode against a local fake upstream, the command line, and the binary itself.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::process::Command as Process;
use std::time::Duration;

use common::*;
use edge_telemetry_collector::{Command, Config, HoneycombRelay, RelayConfig, RollbarRelay};
use serde_json::{Value, json};

const API_KEY: &str = "hcaik_SECRET_server_side_key_123";
const ROLLBAR_TOKEN: &str = "rollbar_SECRET_post_server_item";

fn relay_config(upstream: &FakeUpstream) -> RelayConfig {
    RelayConfig {
        honeycomb: Some(HoneycombRelay {
            endpoint: format!("{}/", upstream.url()),
            api_key: API_KEY.to_owned(),
            dataset: Some("edge-demo".to_owned()),
        }),
        rollbar: Some(RollbarRelay {
            endpoint: format!("{}/api/1/item/", upstream.url()),
            access_token: ROLLBAR_TOKEN.to_owned(),
        }),
    }
}

#[test]
fn accepted_requests_are_forwarded_with_the_servers_keys() {
    // The first forward gets a 503 and is retried.
    let upstream = FakeUpstream::start(vec![503]);
    let mut config = Config::ephemeral();
    config.relay = relay_config(&upstream);
    let running = collector_with(config);
    let client = Client::new(&running);

    let body = gzip(sdk_body(TRACE_ID, now_ns()).as_bytes());
    let answer = client.post(
        "/v1/traces",
        &[
            ("content-type", "application/json"),
            ("content-encoding", "gzip"),
            ("x-honeycomb-team", "browser-key-must-not-pass"),
        ],
        &body,
    );
    assert_eq!(answer.status, 200);
    // Rejected requests are not forwarded.
    let bad = client.post_json("/v1/traces", "{nope");
    assert_eq!(bad.status, 400);
    let item = r#"{"access_token":"browser-token","data":{"uuid":"77777777-7777-4777-8777-777777777777","body":{"message":{"body":"relayed"}}}}"#;
    let answer = client.post(
        "/api/1/item/",
        &[
            ("content-type", "application/json"),
            ("x-rollbar-access-token", "browser-token"),
        ],
        item.as_bytes(),
    );
    assert_eq!(answer.status, 200);
    let logs = r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"1700000000000000000","severityNumber":9,"body":{"stringValue":"relayed log"}}]}]}]}"#;
    let answer = client.post(
        "/v1/logs",
        &[
            ("content-type", "application/json"),
            ("x-honeycomb-team", "browser-key-must-not-pass"),
        ],
        logs.as_bytes(),
    );
    assert_eq!(answer.status, 200);
    // The local copy is stored either way.
    assert_eq!(client.counts(), (1, 2, 1));

    let status = eventually("three forwards", || {
        let status = client.api("/api/status");
        (status["relay"]["forwarded"] == 3).then_some(status)
    });
    assert_eq!(
        status["relay"],
        json!({"honeycomb": true, "rollbar": true, "forwarded": 3, "dropped": 0})
    );

    let requests = upstream.requests();
    let traces: Vec<_> = requests.iter().filter(|r| r.path == "/v1/traces").collect();
    assert_eq!(traces.len(), 2, "one 503, one retry");
    for forwarded in &traces {
        assert_eq!(forwarded.method, "POST");
        assert_eq!(forwarded.header("x-honeycomb-team"), Some(API_KEY));
        assert_eq!(forwarded.header("x-honeycomb-dataset"), Some("edge-demo"));
        assert_eq!(forwarded.header("content-type"), Some("application/json"));
        assert_eq!(forwarded.header("content-encoding"), Some("gzip"));
        assert_eq!(forwarded.body, body, "the body exactly as received");
    }
    let logs_forwarded: Vec<_> = requests.iter().filter(|r| r.path == "/v1/logs").collect();
    assert_eq!(
        logs_forwarded.len(),
        1,
        "logs go to the upstream's /v1/logs"
    );
    assert_eq!(logs_forwarded[0].header("x-honeycomb-team"), Some(API_KEY));
    assert_eq!(logs_forwarded[0].body, logs.as_bytes());
    let items: Vec<_> = requests
        .iter()
        .filter(|r| r.path == "/api/1/item/")
        .collect();
    assert_eq!(items.len(), 1);
    assert_eq!(
        items[0].header("x-rollbar-access-token"),
        Some(ROLLBAR_TOKEN)
    );
    let forwarded: Value = serde_json::from_slice(&items[0].body).unwrap();
    assert!(forwarded.get("access_token").is_none());
    assert_eq!(
        forwarded["data"]["uuid"],
        "77777777-7777-4777-8777-777777777777"
    );
    assert_eq!(forwarded["data"]["body"]["message"]["body"], "relayed");
    for request in &requests {
        let text = format!("{request:?}");
        assert!(!text.contains("browser-key-must-not-pass") && !text.contains("browser-token"));
    }
}

#[test]
fn keys_are_redacted_from_the_config_debug_output() {
    let env = |name: &str| match name {
        "HONEYCOMB_API_KEY" => Some(API_KEY.to_owned()),
        "HONEYCOMB_DATASET" => Some("demo".to_owned()),
        "ROLLBAR_ACCESS_TOKEN" => Some(ROLLBAR_TOKEN.to_owned()),
        "ROLLBAR_ENDPOINT" => Some("http://127.0.0.1:9/item".to_owned()),
        "EDGE_COLLECTOR_DB" => Some("from-env.sqlite".to_owned()),
        _ => None,
    };
    let Ok(Command::Run(config)) = Command::parse(["--max-traces", "5", "--max-age-hours=2"], env)
    else {
        panic!("parses");
    };
    let debug = format!("{config:?} {config:#?}");
    assert!(
        !debug.contains(API_KEY) && !debug.contains(ROLLBAR_TOKEN),
        "{debug}"
    );
    assert!(debug.contains("<redacted>"));
    let honeycomb = config.relay.honeycomb.as_ref().unwrap();
    assert_eq!(honeycomb.api_key, API_KEY);
    assert_eq!(honeycomb.traces_url(), "https://api.honeycomb.io/v1/traces");
    assert_eq!(
        honeycomb.url("/v1/logs"),
        "https://api.honeycomb.io/v1/logs"
    );
    assert_eq!(honeycomb.dataset.as_deref(), Some("demo"));
    assert_eq!(
        config.relay.rollbar.as_ref().unwrap().endpoint,
        "http://127.0.0.1:9/item"
    );
    assert_eq!(config.db, "from-env.sqlite");
    assert_eq!(config.addr, "127.0.0.1:4318");
    assert_eq!(config.retention.max_traces, 5);
    assert_eq!(config.retention.max_age, Duration::from_secs(7200));
    assert_eq!(config.retention.max_db_bytes, 256 * 1024 * 1024);
    assert_eq!(config.max_body_bytes, 16 * 1024 * 1024);

    let no_env = |_: &str| None;
    let Ok(Command::Run(config)) = Command::parse(
        [
            "--addr",
            "127.0.0.1:0",
            "--db",
            ":memory:",
            "--max-db-mb",
            "8",
            "--max-body-mb",
            "1",
        ],
        no_env,
    ) else {
        panic!("parses");
    };
    assert!(config.relay.honeycomb.is_none() && config.relay.rollbar.is_none());
    assert_eq!(
        (config.addr.as_str(), config.db.as_str()),
        ("127.0.0.1:0", ":memory:")
    );
    assert_eq!(config.retention.max_db_bytes, 8 * 1024 * 1024);
    assert_eq!(config.max_body_bytes, 1024 * 1024);
    assert!(matches!(
        Command::parse(["--help"], no_env),
        Ok(Command::Help)
    ));
    for bad in [
        &["--nope"][..],
        &["--max-traces"],
        &["--max-traces", "x"],
        &["--max-traces", "0"],
        &["--max-age-hours", "-1"],
    ] {
        assert!(
            Command::parse(bad.iter().copied(), no_env).is_err(),
            "{bad:?}"
        );
    }
}

/// The binary: prints the listening line first, serves, relays, never prints the keys,
/// and exits cleanly on SIGTERM.
#[test]
fn the_binary_prints_its_urls_and_never_logs_keys() {
    let upstream = FakeUpstream::start(vec![500, 500, 500, 500]);
    let binary = Binary::start(
        Process::new(env!("CARGO_BIN_EXE_edge-collector"))
            .args(["--addr", "127.0.0.1:0", "--db", ":memory:"])
            .env("HONEYCOMB_API_KEY", API_KEY)
            .env("HONEYCOMB_ENDPOINT", upstream.url())
            .env("ROLLBAR_ACCESS_TOKEN", ROLLBAR_TOKEN)
            .env("ROLLBAR_ENDPOINT", format!("{}/item", upstream.url())),
    );
    let (line, base) = (binary.line.clone(), binary.base.clone());
    assert_eq!(
        line.trim_end(),
        format!(
            "edge-collector listening on {base} (UI {base}/ , OTLP {base}/v1/traces and /v1/logs , Rollbar {base}/api/1/item/)"
        )
    );
    assert!(base.starts_with("http://127.0.0.1:") && !base.ends_with(":0"));

    let client = Client::for_url(&base);
    assert_eq!(
        client
            .post_json("/v1/traces", &sdk_body(TRACE_ID, now_ns()))
            .status,
        200
    );
    assert_eq!(client.post_json("/v1/traces", "[]").status, 400);
    assert_eq!(
        client
            .post_json(
                "/api/1/item/",
                r#"{"data":{"body":{"message":{"body":"x"}}}}"#
            )
            .status,
        200
    );
    // The upstream keeps failing: the relay retries, gives up, and logs without the key.
    eventually("the relay to give up on the trace request", || {
        (client.api("/api/status")["relay"]["dropped"] == 1).then_some(())
    });

    let (stdout, stderr) = binary.stop();
    let logs = format!("{stdout}{stderr}");
    assert!(stderr.contains("relay to honeycomb"), "stderr: {stderr}");
    assert!(
        !logs.contains(API_KEY) && !logs.contains(ROLLBAR_TOKEN),
        "{logs}"
    );
    assert!(!logs.contains("SECRET"), "{logs}");
    let received = upstream.requests();
    assert!(
        received
            .iter()
            .any(|r| r.header("x-honeycomb-team") == Some(API_KEY))
    );
}
