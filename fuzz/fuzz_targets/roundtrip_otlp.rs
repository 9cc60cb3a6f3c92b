//! Encoder → collector round trip for spans: spans built from any input, encoded by the SDK's
//! `OtlpEncoder` (core), decoded by the collector's OTLP decoder. Every span with valid ids
//! comes back with its ids, parent, name, kind, times, service and attributes; one with an
//! invalid id is rejected, counted, alone.
#![no_main]

use arbitrary::Arbitrary;
use edge_telemetry_core::export::otlp::{OtlpEncoder, push_f64};
use edge_telemetry_core::model::{
    KeyValue, SpanContext, SpanId, SpanKind, TraceFlags, TraceId, TraceState, Value,
};
use edge_telemetry_core::trace::span::{SpanData, SpanLimits};
use edge_telemetry_fuzz::check_span;
use edge_telemetry_fuzz::otlp::{Format, decode};
use libfuzzer_sys::fuzz_target;
use serde_json::json;

#[derive(Arbitrary, Debug)]
enum InValue {
    Str(String),
    Int(i64),
    Bool(bool),
    Double(f64),
}

#[derive(Arbitrary, Debug)]
struct InSpan {
    name: String,
    kind: u8,
    trace: u128,
    span: u64,
    parent: u64,
    start: u64,
    duration: u32,
    attributes: Vec<(String, InValue)>,
}

#[derive(Arbitrary, Debug)]
struct Input {
    service: String,
    spans: Vec<InSpan>,
}

const KINDS: [(SpanKind, i32); 5] = [
    (SpanKind::Internal, 1),
    (SpanKind::Server, 2),
    (SpanKind::Client, 3),
    (SpanKind::Producer, 4),
    (SpanKind::Consumer, 5),
];

fn context(trace: u128, span: u64) -> SpanContext {
    SpanContext::new(
        TraceId::from(trace),
        SpanId::from(span),
        TraceFlags::SAMPLED,
        false,
        TraceState::default(),
    )
}

fn expected(value: &Value) -> Option<serde_json::Value> {
    Some(match value {
        Value::String(s) => json!(s.as_str()),
        Value::I64(n) => json!(n),
        Value::Bool(b) => json!(b),
        Value::F64(f) if f.is_finite() => json!(f),
        _ => return None,
    })
}

fuzz_target!(|input: Input| {
    let limits = SpanLimits::default();
    let spans: Vec<SpanData> = input
        .spans
        .iter()
        .map(|s| {
            let parent = (s.parent != 0).then(|| context(s.trace, s.parent));
            let (kind, _) = KINDS[usize::from(s.kind) % KINDS.len()];
            let mut d = SpanData::new(
                s.name.clone(),
                kind,
                context(s.trace, s.span),
                parent.as_ref(),
                s.start,
            );
            d.end_time_unix_nano = s.start.saturating_add(u64::from(s.duration));
            for (k, v) in &s.attributes {
                let v = match v {
                    InValue::Str(s) => Value::from(s.clone()),
                    InValue::Int(n) => Value::from(*n),
                    InValue::Bool(b) => Value::from(*b),
                    InValue::Double(f) => Value::from(*f),
                };
                d.set_attribute(KeyValue::new(k.clone(), v), &limits);
            }
            d
        })
        .collect();
    let encoder = OtlpEncoder::new(
        &[KeyValue::new("service.name", input.service.clone())],
        "fuzz",
        "1",
        push_f64,
    );
    let body = encoder.encode(&spans);
    let decoded = decode(body.as_bytes(), Format::Json)
        .unwrap_or_else(|e| panic!("the encoder's body was refused: {e}\n{body}"));
    let valid: Vec<&SpanData> = spans
        .iter()
        .filter(|s| {
            s.span_context.trace_id() != TraceId::INVALID
                && s.span_context.span_id() != SpanId::INVALID
        })
        .collect();
    assert_eq!(decoded.spans.len(), valid.len(), "{body}");
    assert_eq!(decoded.rejected as usize, spans.len() - valid.len());
    for (got, want) in decoded.spans.iter().zip(valid) {
        check_span(got);
        assert_eq!(
            got.trace_id,
            format!("{:032x}", want.span_context.trace_id())
        );
        assert_eq!(got.span_id, format!("{:016x}", want.span_context.span_id()));
        let parent = (want.parent_span_id != SpanId::INVALID)
            .then(|| format!("{:016x}", want.parent_span_id));
        assert_eq!(got.parent_span_id, parent);
        assert_eq!(got.name, want.name);
        let kind = KINDS.iter().find(|(k, _)| *k == want.kind).unwrap().1;
        assert_eq!(got.kind, kind);
        assert_eq!(got.start_ns, want.start_time_unix_nano);
        assert_eq!(got.end_ns, want.end_time_unix_nano);
        if !input.service.is_empty() {
            assert_eq!(&*got.service, input.service.as_str());
        }
        let attributes: serde_json::Value = serde_json::from_str(&got.attributes).unwrap();
        for kv in &want.attributes {
            if let Some(v) = expected(&kv.value) {
                assert_eq!(
                    attributes.get(kv.key.as_str()),
                    Some(&v),
                    "{}: {body}",
                    kv.key.as_str()
                );
            }
        }
    }
});
