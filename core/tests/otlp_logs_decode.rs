//! What `otlp_logs` encodes, decoded with the official OTLP definitions (`opentelemetry-proto`'s
//! serde JSON support: hex ids, 64-bit integers as strings, integer enums).
//!
//! Native only: the decoder's dependencies have no place in the wasm32 test build.
#![cfg(not(target_arch = "wasm32"))]

use edge_telemetry_core::export::otlp::push_f64;
use edge_telemetry_core::export::otlp_logs::{LogRecord, LogsEncoder, Severity};
use edge_telemetry_core::model::{
    Array, KeyValue, SpanContext, SpanId, TraceFlags, TraceId, TraceState, Value,
};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value;

const T0: u64 = 1_700_000_000_123_456_789;

fn decode(body: &str) -> ExportLogsServiceRequest {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

#[test]
fn records_decode_with_the_official_definitions() {
    let encoder = LogsEncoder::new(
        &[KeyValue::new("service.name", "shop-web")],
        "edge-telemetry",
        "0.1.0",
        push_f64,
    );
    let cx = SpanContext::new(
        TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736),
        SpanId::from(0x00f0_67aa_0ba9_02b7),
        TraceFlags::SAMPLED,
        false,
        TraceState::default(),
    );
    let mut under_span = LogRecord::new(T0, Severity::Error, "payment \"declined\"\n");
    under_span.span_context = Some(cx);
    under_span.observed_time_unix_nano = T0 + 5;
    under_span.attributes = vec![
        KeyValue::new("cart.items", 3i64),
        KeyValue::new("cart.total", 12.5),
        KeyValue::new("retry", true),
        KeyValue::new(
            "tags",
            Value::Array(Array::String(vec!["a".into(), "b".into()])),
        ),
    ];
    under_span.dropped_attributes_count = 2;
    let mut custom = LogRecord::new(T0 + 1, Severity::Debug, "fine");
    custom.severity_text = "verbose".into();
    let body = encoder.encode(&[
        under_span,
        custom,
        LogRecord::new(T0 + 2, Severity::Fatal, ""),
    ]);

    let request = decode(&body);
    let rl = &request.resource_logs[0];
    let resource = rl.resource.as_ref().unwrap();
    assert_eq!(resource.attributes[0].key, "service.name");
    let sl = &rl.scope_logs[0];
    assert_eq!(sl.scope.as_ref().unwrap().name, "edge-telemetry");
    assert_eq!(sl.scope.as_ref().unwrap().version, "0.1.0");
    let [a, b, c] = &sl.log_records[..] else {
        panic!("three records: {body}")
    };
    assert_eq!(a.time_unix_nano, T0);
    assert_eq!(a.observed_time_unix_nano, T0 + 5);
    assert_eq!(a.severity_number, 17);
    assert_eq!(a.severity_text, "ERROR");
    match a.body.as_ref().and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => assert_eq!(s, "payment \"declined\"\n"),
        other => panic!("{other:?}"),
    }
    assert_eq!(hex(&a.trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(hex(&a.span_id), "00f067aa0ba902b7");
    assert_eq!(a.flags, 1);
    assert_eq!(a.attributes.len(), 4);
    assert_eq!(a.dropped_attributes_count, 2);
    match a.attributes[1]
        .value
        .as_ref()
        .and_then(|v| v.value.as_ref())
    {
        Some(any_value::Value::DoubleValue(d)) => assert_eq!(*d, 12.5),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        (b.severity_number, b.severity_text.as_str()),
        (5, "verbose")
    );
    assert!(
        b.trace_id.is_empty() && b.span_id.is_empty(),
        "no span: no ids"
    );
    assert_eq!((c.severity_number, c.severity_text.as_str()), (21, "FATAL"));
}

#[test]
fn severities_are_the_data_models_numbers() {
    let all = [
        (Severity::Trace, 1, "TRACE"),
        (Severity::Debug, 5, "DEBUG"),
        (Severity::Info, 9, "INFO"),
        (Severity::Warn, 13, "WARN"),
        (Severity::Error, 17, "ERROR"),
        (Severity::Fatal, 21, "FATAL"),
    ];
    for (s, n, text) in all {
        assert_eq!((s.number(), s.text()), (n, text));
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
