//! Forwarding to AWS X-Ray against a local AWS endpoint: `moto_server` (from PyPI, `pip
//! install "moto[server]"`, installed by `scripts/setup`) started on 127.0.0.1 by this test.
//! A browser's OTLP spans and a backend's segments (over the daemon port) of one trace reach
//! X-Ray through `PutTraceSegments` and come back from `BatchGetTraces` with the trace id,
//! parent links and HTTP fields.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use edge_telemetry_collector::xray_forward::XrayForwardConfig;
use serde_json::{Value, json};
use std::net::{TcpListener, UdpSocket};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// An ephemeral collector forwarding to X-Ray at `endpoint` with dummy credentials.
fn forwarding_to(endpoint: &str) -> edge_telemetry_collector::Config {
    let mut config = edge_telemetry_collector::Config::ephemeral();
    config.xray_forward = Some(XrayForwardConfig {
        region: "us-east-1".into(),
        access_key_id: "testing".into(),
        secret_access_key: "testing".into(),
        session_token: None,
        endpoint_url: Some(endpoint.to_owned()),
    });
    config
}

fn xray_client(moto: &Moto) -> aws_sdk_xray::Client {
    use aws_sdk_xray::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_xray::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .endpoint_url(&moto.url)
        .build();
    aws_sdk_xray::Client::from_conf(config)
}

#[test]
fn browser_spans_and_backend_segments_reach_xray_in_one_trace() {
    let moto = Moto::start();
    let running = collector_with(forwarding_to(&moto.url));
    let client = Client::new(&running);

    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let w3c = format!("{:08x}a11ce0000000000000000001", now.as_secs());
    let xray = format!("1-{}-{}", &w3c[..8], &w3c[8..]);
    let start = now.as_nanos() as u64;
    // The browser: a click (root) and its fetch (CLIENT), over OTLP/HTTP JSON.
    let otlp = json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "shop-web"}}]},
        "scopeSpans": [{"scope": {"name": "edge-telemetry"}, "spans": [
            {"traceId": w3c, "spanId": "00000000000c11c4", "name": "click", "kind": 1,
             "startTimeUnixNano": start.to_string(), "endTimeUnixNano": (start + 90_000_000).to_string(),
             "status": {}},
            {"traceId": w3c, "spanId": "00000000000fe7c4", "parentSpanId": "00000000000c11c4",
             "name": "GET", "kind": 3,
             "startTimeUnixNano": (start + 1_000_000).to_string(), "endTimeUnixNano": (start + 80_000_000).to_string(),
             "attributes": [
                {"key": "http.request.method", "value": {"stringValue": "GET"}},
                {"key": "url.full", "value": {"stringValue": "http://api.shop/api/cart"}},
                {"key": "http.response.status_code", "value": {"intValue": "200"}}],
             "status": {}}]}]}]});
    assert_eq!(
        client.post_json("/v1/traces", &otlp.to_string()).status,
        200
    );
    // The backend: its segment under the fetch, with an SQL subsegment, over the daemon port.
    let t = start as f64 / 1e9;
    let segment = json!({
        "name": "cart-api", "id": "000000000005e900", "trace_id": xray,
        "parent_id": "00000000000fe7c4", "start_time": t + 0.01, "end_time": t + 0.07,
        "http": {"request": {"method": "GET", "url": "http://api.shop/api/cart"}, "response": {"status": 200}},
        "subsegments": [{"name": "SELECT carts", "id": "0000000000005011",
            "start_time": t + 0.02, "end_time": t + 0.03, "namespace": "remote",
            "sql": {"sanitized_query": "SELECT * FROM carts"}}]
    });
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.send_to(
        format!("{{\"format\":\"json\",\"version\":1}}\n{segment}").as_bytes(),
        running.xray_addr().unwrap(),
    )
    .unwrap();

    // Back from X-Ray.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let xr = xray_client(&moto);
    let deadline = Instant::now() + Duration::from_secs(20);
    let docs: Vec<Value> = loop {
        let out = rt
            .block_on(xr.batch_get_traces().trace_ids(&xray).send())
            .expect("BatchGetTraces");
        let docs: Vec<Value> = out
            .traces()
            .iter()
            .flat_map(|t| t.segments())
            .filter_map(|s| s.document())
            .map(|d| serde_json::from_str(d).expect("a JSON document"))
            .collect();
        if docs.len() >= 3 {
            break docs;
        }
        assert!(
            Instant::now() < deadline,
            "X-Ray has {} of 3 documents; collector: {}",
            docs.len(),
            client.api("/api/status")["xray"]
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let by_id = |id: &str| {
        docs.iter()
            .find(|d| d["id"] == id)
            .unwrap_or_else(|| panic!("no document {id} in {docs:?}"))
    };
    for d in &docs {
        assert_eq!(d["trace_id"], xray.as_str(), "one trace: {d}");
    }
    let click = by_id("00000000000c11c4");
    assert_eq!(
        click["name"], "shop-web",
        "the browser's root is a segment named by its service"
    );
    assert!(click.get("parent_id").is_none());
    let fetch = by_id("00000000000fe7c4");
    assert_eq!(fetch["type"], "subsegment");
    assert_eq!(fetch["parent_id"], "00000000000c11c4");
    assert_eq!(fetch["namespace"], "remote");
    assert_eq!(fetch["http"]["request"]["url"], "http://api.shop/api/cart");
    let backend = by_id("000000000005e900");
    assert_eq!(
        backend["parent_id"], "00000000000fe7c4",
        "the backend's segment under the browser's fetch"
    );
    assert_eq!(backend["http"]["response"]["status"], 200);
    assert_eq!(
        backend["subsegments"][0]["sql"]["sanitized_query"],
        "SELECT * FROM carts"
    );

    let forward = client.api("/api/status")["xray"]["forward"].clone();
    assert_eq!(forward["sent"], 3, "{forward}");
    assert_eq!(forward["dropped"], 0, "{forward}");
}

#[test]
fn forwarding_failures_are_counted_and_never_block_ingestion() {
    // Nothing listens at this endpoint: every attempt fails; ingestion goes on.
    let dead = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let running = collector_with(forwarding_to(&format!("http://{dead}")));
    let client = Client::new(&running);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let w3c = format!("{:08x}dead00000000000000000001", now.as_secs());
    let body = one_span(
        &w3c,
        "00000000000000d1",
        "GET /",
        "web",
        now.as_nanos() as u64,
    );
    let started = Instant::now();
    assert_eq!(client.post_json("/v1/traces", &body).status, 200);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "ingestion did not wait"
    );
    assert_eq!(
        client.api(&format!("/api/traces/{w3c}"))["spans"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let forward = loop {
        let f = client.api("/api/status")["xray"]["forward"].clone();
        if f["dropped"] == 1 {
            break f;
        }
        assert!(Instant::now() < deadline, "the batch was not given up: {f}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(forward["retries"].as_u64().unwrap() >= 1, "{forward}");
    // A span whose trace id is not X-Ray's is not sent at all.
    let body = one_span(
        &trace_id(9),
        "00000000000000d2",
        "GET /",
        "web",
        now.as_nanos() as u64,
    );
    assert_eq!(client.post_json("/v1/traces", &body).status, 200);
    assert_eq!(
        client.api("/api/status")["xray"]["forward"]["notXrayIds"],
        1
    );
}
