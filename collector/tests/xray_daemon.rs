//! The X-Ray daemon port: 1,000 datagrams over real UDP on 127.0.0.1, valid segments mixed
//! with oversize, truncated, non-JSON and wrong-header ones. Every valid one is stored (and
//! shows in the trace with the OTLP spans of the same trace), every bad one is counted and
//! dropped, and the collector keeps serving.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use serde_json::{Value, json};
use std::net::UdpSocket;

const HEADER: &str = "{\"format\": \"json\", \"version\": 1}\n";

/// An X-Ray trace id whose W3C form is `trace_id(n)` with the epoch-seconds prefix of now.
fn xray_trace(n: u64) -> (String, String) {
    let w3c = trace_id(n);
    (format!("1-{}-{}", &w3c[..8], &w3c[8..]), w3c)
}

fn segment(n: u64, i: u64) -> Value {
    let (xray, _) = xray_trace(n);
    let start = now_ns() as f64 / 1e9;
    json!({
        "name": "orders-api", "id": format!("{:016x}", 0x5e9_0000 + n * 100 + i),
        "trace_id": xray, "parent_id": "b7ad6b7169203331",
        "start_time": start, "end_time": start + 0.01,
        "http": {"request": {"method": "GET", "url": "http://orders/api"}, "response": {"status": 200}},
        "annotations": {"batch": n},
    })
}

#[test]
fn a_thousand_datagrams_valid_ones_stored_bad_ones_counted() {
    let running = collector();
    let client = Client::new(&running);
    let daemon = running.xray_addr().expect("the daemon port is bound");
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.connect(daemon).unwrap();

    let mut valid = 0u64;
    let mut bad = [0u64; 4]; // oversize, truncated, non-JSON, wrong header
    let mut sent = 0u64;
    for k in 0..1000u64 {
        let n = k / 10;
        let doc = segment(n, k % 10);
        let datagram: Vec<u8> = match k % 20 {
            3 => {
                bad[0] += 1;
                let mut big = doc.clone();
                big["metadata"] = json!({"default": {"blob": "x".repeat(64_500)}});
                format!("{HEADER}{big}").into_bytes()
            }
            7 => {
                bad[1] += 1;
                let full = format!("{HEADER}{doc}");
                full.as_bytes()[..full.len() / 2].to_vec()
            }
            11 => {
                bad[2] += 1;
                format!("{HEADER}<segment name=\"orders-api\"/>").into_bytes()
            }
            15 => {
                bad[3] += 1;
                format!("{{\"format\":\"json\",\"version\":9}}\n{doc}").into_bytes()
            }
            _ => {
                valid += 1;
                format!("{HEADER}{doc}").into_bytes()
            }
        };
        socket.send(&datagram).expect("send");
        sent += 1;
        // Paced: a burst of datagrams larger than the socket's receive buffer would be dropped
        // by the kernel before the collector sees them.
        if sent.is_multiple_of(20) {
            eventually("the daemon port to catch up", || {
                let x = &client.api("/api/status")["xray"];
                (x["received"].as_u64() == Some(sent)).then_some(())
            });
        }
    }
    assert_eq!(valid, 800);
    let status = client.api("/api/status");
    let x = &status["xray"];
    assert_eq!(x["received"], 1000);
    assert_eq!(x["stored"], valid, "{x}");
    assert_eq!(x["oversize"], bad[0], "{x}");
    assert_eq!(x["notJson"], bad[1] + bad[2], "truncated and non-JSON: {x}");
    assert_eq!(x["badHeader"], bad[3], "{x}");
    assert_eq!(x["invalid"], 0, "{x}");

    // Every valid segment of trace 7 is in the trace, with an OTLP span of the same trace.
    let (_, w3c) = xray_trace(7);
    let otlp = one_span(&w3c, "b7ad6b7169203331", "GET /orders", "web", now_ns());
    assert_eq!(client.post_json("/v1/traces", &otlp).status, 200);
    let trace = eventually("trace 7", || {
        let t = client.api(&format!("/api/traces/{w3c}"));
        (t["spans"].as_array().map_or(0, Vec::len) >= 9).then_some(t)
    });
    let spans = trace["spans"].as_array().unwrap();
    let segments: Vec<&Value> = spans
        .iter()
        .filter(|s| s["service"] == "orders-api")
        .collect();
    assert_eq!(
        segments.len(),
        8,
        "10 sent, k%20 in {{3,7,11,15}} hit 2 of trace 7's"
    );
    for s in &segments {
        assert_eq!(s["kind"], "server");
        assert_eq!(
            s["parentSpanId"], "b7ad6b7169203331",
            "under the browser's span"
        );
        assert_eq!(s["attributes"]["http.request.method"], "GET");
        assert_eq!(s["attributes"]["annotation.batch"], 7);
    }
    assert!(
        spans.iter().any(|s| s["service"] == "web"),
        "the OTLP span too"
    );

    // Still serving: more segments and OTLP after all of that.
    let late = segment(500, 0);
    socket.send(format!("{HEADER}{late}").as_bytes()).unwrap();
    let (_, late_trace) = xray_trace(500);
    eventually("the late segment", || {
        let t = client.api(&format!("/api/traces/{late_trace}"));
        (t["spans"].as_array().map_or(0, Vec::len) == 1).then_some(())
    });
}

#[test]
fn the_daemon_port_can_be_off_and_a_taken_port_does_not_stop_the_collector() {
    let mut config = edge_telemetry_collector::Config::ephemeral();
    config.xray_addr = None;
    let off = collector_with(config);
    assert_eq!(off.xray_addr(), None);

    let taken = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut config = edge_telemetry_collector::Config::ephemeral();
    config.xray_addr = Some(taken.local_addr().unwrap().to_string());
    let running = collector_with(config);
    assert_eq!(running.xray_addr(), None, "reported, not fatal");
    let client = Client::new(&running);
    assert_eq!(client.api("/api/status")["xray"]["received"], 0);
}
