//! OTLP logs against the real server on 127.0.0.1: JSON as the browser SDK encodes it,
//! protobuf and gzip, a trace's logs in time order beside its spans, full-text search that
//! finds a trace by a word only its log line holds, partial success for bad ids, retention
//! with the trace.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use edge_telemetry_core::export::otlp::push_f64;
use edge_telemetry_core::export::otlp_logs::{LogRecord, LogsEncoder, Severity};
use edge_telemetry_core::model::{KeyValue, SpanContext, SpanId, TraceFlags, TraceId, TraceState};
use edge_telemetry_core::propagation::traceparent::parse_hex_bytes;
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord as ProtoRecord, ResourceLogs, ScopeLogs};
use prost::Message as _;
use serde_json::json;

const JSON: (&str, &str) = ("content-type", "application/json");
const PROTOBUF: (&str, &str) = ("content-type", "application/x-protobuf");
const GZIP: (&str, &str) = ("content-encoding", "gzip");

fn context(trace: &str, span: &str) -> SpanContext {
    SpanContext::new(
        TraceId::from_bytes(parse_hex_bytes(trace).unwrap()),
        SpanId::from_bytes(parse_hex_bytes(span).unwrap()),
        TraceFlags::SAMPLED,
        false,
        TraceState::default(),
    )
}

#[test]
fn browser_logs_sit_beside_their_trace_and_search_finds_the_trace_by_a_log_word() {
    let running = collector();
    let client = Client::new(&running);
    let start = now_ns();
    assert_eq!(
        client
            .post("/v1/traces", &[JSON], sdk_body(TRACE_ID, start).as_bytes())
            .status,
        200
    );
    let encoder = LogsEncoder::new(
        &[KeyValue::new("service.name", "shop-web")],
        "edge-telemetry",
        "0.1.0",
        push_f64,
    );
    let mut later = LogRecord::new(start + 200_000_000, Severity::Error, "payment declined");
    later.span_context = Some(context(TRACE_ID, CHILD_ID));
    later.attributes = vec![KeyValue::new("order.id", 42i64)];
    let mut first = LogRecord::new(
        start + 100_000_000,
        Severity::Info,
        "checkout zanzibarquux begins",
    );
    first.span_context = Some(context(TRACE_ID, ROOT_ID));
    let outside = LogRecord::new(start, Severity::Debug, "no trace here");
    // Out of order on the wire: the trace shows them by time.
    let body = encoder.encode(&[later, first, outside]);
    let answer = client.post("/v1/logs", &[JSON, GZIP], &gzip(body.as_bytes()));
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    assert_eq!(answer.json(), json!({}));
    assert_eq!(client.api("/api/status")["logs"], 3);

    let trace = client.api(&format!("/api/traces/{TRACE_ID}"));
    let logs = trace["logs"].as_array().unwrap();
    assert_eq!(logs.len(), 2, "{logs:?}");
    assert_eq!(logs[0]["body"], "checkout zanzibarquux begins");
    assert_eq!(logs[0]["spanId"], ROOT_ID);
    assert_eq!(logs[0]["severity"], "INFO");
    assert_eq!(logs[1]["body"], "payment declined");
    assert_eq!(logs[1]["severityNumber"], 17);
    assert_eq!(logs[1]["spanId"], CHILD_ID);
    assert_eq!(logs[1]["attributes"], json!({"order.id": 42}));
    assert_eq!(logs[1]["service"], "shop-web");
    assert!((logs[1]["time"].as_f64().unwrap() - (start as f64 / 1e6 + 200.0)).abs() < 0.01);

    // A word only the log line holds finds the trace, and the log.
    let found = client.api("/api/traces?q=zanzibarquux");
    assert_eq!(found["traces"][0]["traceId"], TRACE_ID);
    assert_eq!(found["traces"].as_array().unwrap().len(), 1);
    let search = client.api("/api/search?q=zanzibarquux");
    assert_eq!(search["logs"][0]["traceId"], TRACE_ID);
    assert_eq!(search["logs"][0]["spanId"], ROOT_ID);
    assert_eq!(search["spans"], json!([]));
    let attr = client.api("/api/search?q=order.id");
    assert_eq!(attr["logs"][0]["body"], "payment declined");
    // A log outside any trace is found by search, not listed under a trace.
    let alone = client.api("/api/search?q=%22no%20trace%20here%22");
    assert_eq!(alone["logs"][0]["traceId"], serde_json::Value::Null);
}

#[test]
fn protobuf_logs_and_bad_ids_get_a_partial_success() {
    let running = collector();
    let client = Client::new(&running);
    let record = |trace_id: Vec<u8>, body: &str| ProtoRecord {
        time_unix_nano: now_ns(),
        severity_number: 13,
        severity_text: "WARN".into(),
        body: Some(AnyValue {
            value: Some(any_value::Value::StringValue(body.into())),
        }),
        trace_id,
        span_id: vec![7; 8],
        ..Default::default()
    };
    let request = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![record(vec![9; 16], "kept"), record(vec![9; 5], "bad id")],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let answer = client.post("/v1/logs", &[PROTOBUF], &request.encode_to_vec());
    assert_eq!(answer.status, 200);
    let response = ExportLogsServiceResponse::decode(&answer.body[..]).unwrap();
    let partial = response.partial_success.expect("a partial success");
    assert_eq!(partial.rejected_log_records, 1);
    assert!(partial.error_message.contains("1 log record(s) rejected"));
    let trace = client.api(&format!("/api/traces/{}", "09".repeat(16)));
    assert_eq!(trace["spans"], json!([]));
    assert_eq!(trace["logs"][0]["body"], "kept");

    // JSON: the same rejection, with proto3 JSON's key.
    let bad = r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"zz","body":{"stringValue":"x"}}]}]}]}"#;
    let answer = client.post("/v1/logs", &[JSON], bad.as_bytes());
    assert_eq!(answer.json()["partialSuccess"]["rejectedLogRecords"], "1");
    // Not OTLP: 400, nothing stored.
    assert_eq!(client.post("/v1/logs", &[JSON], b"[]").status, 400);
    assert_eq!(client.api("/api/status")["logs"], 1);
}
