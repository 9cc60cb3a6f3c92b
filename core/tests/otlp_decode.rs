//! What `otlp` encodes, decoded with the official OTLP definitions: the `opentelemetry-proto`
//! crate's serde JSON support (hex ids, 64-bit integers as strings, integer enums), and
//! compared with the official mapping of an equivalent `opentelemetry_sdk` span
//! (`opentelemetry-proto/src/transform/trace.rs`).
//!
//! Native only: the decoder's dependencies have no place in the wasm32 test build.
#![cfg(not(target_arch = "wasm32"))]

use std::borrow::Cow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use edge_telemetry_core::export::otlp::{
    OtlpEncoder, PartialSuccess, encode_span, parse_partial_success, push_f64,
};
use edge_telemetry_core::model::{
    Array, KeyValue, SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, Value,
};
use edge_telemetry_core::propagation::parse_tracestate;
use edge_telemetry_core::trace::span::{SpanData, SpanLimits};
use opentelemetry::InstrumentationScope;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value;
use opentelemetry_proto::tonic::trace::v1::{Span as ProtoSpan, span::SpanKind as ProtoKind};
use opentelemetry_proto::transform::common::tonic::Attributes;

const SCOPE_NAME: &str = "edge-telemetry";
const SCOPE_VERSION: &str = "0.1.0";
const TRACE_ID: u128 = 0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736;
const REMOTE_PARENT: u64 = 0x00f0_67aa_0ba9_02b7;

fn resource() -> Vec<KeyValue> {
    vec![
        KeyValue::new("service.name", "shop-frontend"),
        KeyValue::new("service.version", "1.2.3"),
        KeyValue::new("telemetry.sdk.language", "webjs"),
    ]
}

fn encoder() -> OtlpEncoder {
    OtlpEncoder::new(&resource(), SCOPE_NAME, SCOPE_VERSION, push_f64)
}

fn context(trace: u128, span: u64, flags: TraceFlags, remote: bool, state: &str) -> SpanContext {
    SpanContext::new(
        TraceId::from(trace),
        SpanId::from(span),
        flags,
        remote,
        parse_tracestate(&[state]).unwrap(),
    )
}

/// Every attribute type the API has, arrays included.
fn all_attribute_types() -> Vec<KeyValue> {
    vec![
        KeyValue::new("http.request.method", "GET"),
        KeyValue::new(
            "escaped",
            "quote \" backslash \\ newline \n tab \t nul \u{0} bell \u{7} é 😀",
        ),
        KeyValue::new("http.response.status_code", 200),
        KeyValue::new("negative", i64::MIN),
        KeyValue::new("large", i64::MAX),
        KeyValue::new("cache.hit", true),
        KeyValue::new("not", false),
        KeyValue::new("ratio", 0.1),
        KeyValue::new("integral.double", 3.0),
        KeyValue::new("negative.zero", -0.0),
        KeyValue::new("tiny", 5e-324),
        KeyValue::new("huge", f64::MAX),
        KeyValue::new("third", 1.0 / 3.0),
        KeyValue::new("two.pow.53", 9_007_199_254_740_992.0),
        KeyValue::new(
            "strings",
            Value::Array(Array::String(vec!["a".into(), "b \"c\"".into()])),
        ),
        KeyValue::new("bools", Value::Array(Array::Bool(vec![true, false]))),
        KeyValue::new("ints", Value::Array(Array::I64(vec![1, -2, i64::MAX]))),
        KeyValue::new("doubles", Value::Array(Array::F64(vec![0.5, -1e-7, 1e300]))),
        KeyValue::new("empty", Value::Array(Array::String(vec![]))),
    ]
}

/// A root span and a child of a remote parent carrying everything a span can hold, then one
/// span of each kind.
fn spans() -> Vec<SpanData> {
    let limits = SpanLimits {
        attribute_count_limit: 19,
        attribute_per_event_count_limit: 2,
        link_count_limit: 2,
        event_count_limit: 2,
        ..SpanLimits::default()
    };
    let mut root = SpanData::new(
        "documentLoad".into(),
        SpanKind::Internal,
        context(TRACE_ID, 1, TraceFlags::SAMPLED, false, ""),
        None,
        1_700_000_000_000_000_000,
    );
    root.end_time_unix_nano = 1_700_000_000_123_456_789;
    root.set_status(Status::Ok);

    let parent = context(TRACE_ID, REMOTE_PARENT, TraceFlags::SAMPLED, true, "");
    let mut child = SpanData::new(
        "GET /api/\"cart\"\n".into(),
        SpanKind::Client,
        context(
            TRACE_ID,
            0xb7ad_6b71_6920_3331,
            TraceFlags::SAMPLED,
            false,
            "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7",
        ),
        Some(&parent),
        1_700_000_000_200_000_000,
    );
    child.end_time_unix_nano = u64::MAX;
    for kv in all_attribute_types() {
        child.set_attribute(kv, &limits);
    }
    child.set_attribute(KeyValue::new("over.the.limit", 1), &limits);
    child.add_event(
        "exception".into(),
        1_700_000_000_250_000_000,
        vec![
            KeyValue::new("exception.type", "TypeError"),
            KeyValue::new("exception.message", "x is undefined"),
            KeyValue::new("exception.stacktrace", "dropped by the limit"),
        ],
        &limits,
    );
    child.add_event("no attributes".into(), 0, vec![], &limits);
    child.add_event("over the limit".into(), 1, vec![], &limits);
    child.add_link(
        context(7, 8, TraceFlags::SAMPLED, true, "vendor=value"),
        vec![
            KeyValue::new("link.kind", "follows"),
            KeyValue::new("n", 1.5),
        ],
        &limits,
    );
    child.add_link(
        context(9, 10, TraceFlags::default(), false, ""),
        vec![],
        &limits,
    );
    child.add_link(
        context(11, 12, TraceFlags::default(), false, ""),
        vec![],
        &limits,
    );
    child.set_status(Status::error("HTTP 503 \"unavailable\""));

    let mut all = vec![root, child];
    let kinds = [
        SpanKind::Internal,
        SpanKind::Server,
        SpanKind::Client,
        SpanKind::Producer,
        SpanKind::Consumer,
    ];
    for (i, kind) in kinds.into_iter().enumerate() {
        let i = i as u64;
        let mut s = SpanData::new(
            format!("kind {i}"),
            kind,
            context(TRACE_ID, 100 + i, TraceFlags::default(), false, ""),
            Some(&context(TRACE_ID, 1, TraceFlags::SAMPLED, false, "")),
            10 + i,
        );
        s.end_time_unix_nano = 20 + i;
        if i == 4 {
            s.set_status(Status::error(""));
        }
        all.push(s);
    }
    all
}

fn decode(body: &str) -> ExportTraceServiceRequest {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// The spans of a decoded request, after checking its resource and scope.
fn spans_of(request: ExportTraceServiceRequest) -> Vec<ProtoSpan> {
    assert_eq!(request.resource_spans.len(), 1);
    let rs = request.resource_spans.into_iter().next().unwrap();
    let res = rs.resource.expect("resource");
    assert_eq!(
        res.attributes,
        Attributes::from(
            resource()
                .iter()
                .map(opentelemetry::KeyValue::from)
                .collect::<Vec<_>>()
        )
        .0
    );
    assert_eq!(res.dropped_attributes_count, 0);
    assert_eq!(rs.scope_spans.len(), 1);
    let ss = rs.scope_spans.into_iter().next().unwrap();
    let scope = ss.scope.expect("scope");
    assert_eq!(
        (scope.name.as_str(), scope.version.as_str()),
        (SCOPE_NAME, SCOPE_VERSION)
    );
    assert!(scope.attributes.is_empty());
    ss.spans
}

fn system_time(nanos: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(nanos)
}

/// The same span as an `opentelemetry_sdk` span, for the official mapping to OTLP.
fn sdk_span(span: &SpanData) -> opentelemetry_sdk::trace::SpanData {
    let attributes =
        |kvs: &[KeyValue]| -> Vec<opentelemetry::KeyValue> { kvs.iter().map(Into::into).collect() };
    let mut events = opentelemetry_sdk::trace::SpanEvents::default();
    events.events = span
        .events
        .iter()
        .map(|e| {
            opentelemetry::trace::Event::new(
                e.name.clone(),
                system_time(e.time_unix_nano),
                attributes(&e.attributes),
                e.dropped_attributes_count,
            )
        })
        .collect();
    events.dropped_count = span.dropped_events_count;
    let mut links = opentelemetry_sdk::trace::SpanLinks::default();
    links.links = span
        .links
        .iter()
        .map(|l| {
            let mut link = opentelemetry::trace::Link::with_context((&l.span_context).into());
            link.attributes = attributes(&l.attributes);
            link.dropped_attributes_count = l.dropped_attributes_count;
            link
        })
        .collect();
    links.dropped_count = span.dropped_links_count;
    opentelemetry_sdk::trace::SpanData {
        span_context: (&span.span_context).into(),
        parent_span_id: span.parent_span_id.into(),
        parent_span_is_remote: span.parent_is_remote,
        span_kind: span.kind.into(),
        name: Cow::Owned(span.name.clone()),
        start_time: system_time(span.start_time_unix_nano),
        end_time: system_time(span.end_time_unix_nano),
        attributes: attributes(&span.attributes),
        dropped_attributes_count: span.dropped_attributes_count,
        events,
        links,
        status: (&span.status).into(),
        instrumentation_scope: InstrumentationScope::builder(SCOPE_NAME)
            .with_version(SCOPE_VERSION)
            .build(),
    }
}

#[test]
fn decodes_as_the_official_mapping_of_the_same_spans() {
    let spans = spans();
    let decoded = spans_of(decode(&encoder().encode(&spans)));
    assert_eq!(decoded.len(), spans.len());
    for (got, span) in decoded.iter().zip(&spans) {
        assert_eq!(*got, ProtoSpan::from(sdk_span(span)), "{}", span.name);
    }
}

#[test]
fn decoded_fields() {
    let spans = spans();
    let decoded = spans_of(decode(&encoder().encode(&spans)));

    let root = &decoded[0];
    assert_eq!(root.trace_id, TRACE_ID.to_be_bytes());
    assert_eq!(root.span_id, 1u64.to_be_bytes());
    assert!(root.parent_span_id.is_empty());
    assert_eq!(root.trace_state, "");
    assert_eq!(
        root.flags, 0x101,
        "sampled, parent remoteness known (no parent)"
    );
    assert_eq!(root.name, "documentLoad");
    assert_eq!(root.kind, ProtoKind::Internal as i32);
    assert_eq!(root.start_time_unix_nano, 1_700_000_000_000_000_000);
    assert_eq!(root.end_time_unix_nano, 1_700_000_000_123_456_789);
    assert!(root.attributes.is_empty() && root.events.is_empty() && root.links.is_empty());
    let status = root.status.as_ref().unwrap();
    assert_eq!((status.code, status.message.as_str()), (1, ""));

    let child = &decoded[1];
    assert_eq!(child.span_id, 0xb7ad_6b71_6920_3331u64.to_be_bytes());
    assert_eq!(child.parent_span_id, REMOTE_PARENT.to_be_bytes());
    assert_eq!(child.trace_state, "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
    assert_eq!(child.flags, 0x301, "sampled, parent known to be remote");
    assert_eq!(child.name, "GET /api/\"cart\"\n");
    assert_eq!(child.kind, ProtoKind::Client as i32);
    assert_eq!(child.end_time_unix_nano, u64::MAX);

    // Attributes: each with its type and exact value.
    assert_eq!(child.attributes.len(), all_attribute_types().len());
    assert_eq!(child.dropped_attributes_count, 1);
    for (got, want) in child.attributes.iter().zip(all_attribute_types()) {
        assert_eq!(got.key, want.key.as_str());
        let got = got.value.as_ref().and_then(|v| v.value.as_ref()).unwrap();
        assert_value(got, &want.value);
    }

    assert_eq!(child.events.len(), 2);
    assert_eq!(child.dropped_events_count, 1);
    let exception = &child.events[0];
    assert_eq!(exception.name, "exception");
    assert_eq!(exception.time_unix_nano, 1_700_000_000_250_000_000);
    assert_eq!(exception.attributes.len(), 2);
    assert_eq!(exception.dropped_attributes_count, 1);
    assert_eq!(exception.attributes[1].key, "exception.message");
    assert_eq!(
        exception.attributes[1].value.as_ref().unwrap().value,
        Some(any_value::Value::StringValue("x is undefined".into()))
    );
    assert_eq!(
        (
            child.events[1].time_unix_nano,
            child.events[1].attributes.len()
        ),
        (0, 0)
    );

    assert_eq!(child.links.len(), 2);
    assert_eq!(child.dropped_links_count, 1);
    let link = &child.links[0];
    assert_eq!(link.trace_id, 7u128.to_be_bytes());
    assert_eq!(link.span_id, 8u64.to_be_bytes());
    assert_eq!(link.trace_state, "vendor=value");
    assert_eq!(link.flags, 0x301, "sampled, link target known to be remote");
    assert_eq!(link.attributes.len(), 2);
    assert_eq!(
        link.attributes[1].value.as_ref().unwrap().value,
        Some(any_value::Value::DoubleValue(1.5))
    );
    let local = &child.links[1];
    assert_eq!((local.flags, local.trace_state.as_str()), (0x100, ""));

    let status = child.status.as_ref().unwrap();
    assert_eq!(
        (status.code, status.message.as_str()),
        (2, "HTTP 503 \"unavailable\"")
    );

    let kinds: Vec<i32> = decoded[2..].iter().map(|s| s.kind).collect();
    let want = [
        ProtoKind::Internal,
        ProtoKind::Server,
        ProtoKind::Client,
        ProtoKind::Producer,
        ProtoKind::Consumer,
    ];
    assert_eq!(kinds, want.map(|k| k as i32));
    for s in &decoded[2..] {
        assert_eq!(s.flags, 0x100, "not sampled, local parent");
        assert_eq!(s.parent_span_id, 1u64.to_be_bytes());
    }
    let error = decoded[6].status.as_ref().unwrap();
    assert_eq!((error.code, error.message.as_str()), (2, ""));
}

/// An `AnyValue` has the API value's type and exactly its value (doubles bit for bit).
fn assert_value(got: &any_value::Value, want: &Value) {
    use any_value::Value as P;
    match (got, want) {
        (P::StringValue(g), Value::String(w)) => assert_eq!(g, w.as_str()),
        (P::BoolValue(g), Value::Bool(w)) => assert_eq!(g, w),
        (P::IntValue(g), Value::I64(w)) => assert_eq!(g, w),
        (P::DoubleValue(g), Value::F64(w)) => assert_eq!(g.to_bits(), w.to_bits(), "{w}"),
        (P::ArrayValue(g), Value::Array(w)) => {
            let items: Vec<Value> = match w {
                Array::String(v) => v.iter().cloned().map(Value::String).collect(),
                Array::Bool(v) => v.iter().copied().map(Value::Bool).collect(),
                Array::I64(v) => v.iter().copied().map(Value::I64).collect(),
                Array::F64(v) => v.iter().copied().map(Value::F64).collect(),
            };
            assert_eq!(g.values.len(), items.len());
            for (g, w) in g.values.iter().zip(&items) {
                assert_value(g.value.as_ref().unwrap(), w);
            }
        }
        (g, w) => panic!("{g:?} decoded for {w:?}"),
    }
}

#[test]
fn every_chunk_decodes_and_together_they_hold_every_span_in_order() {
    let spans: Vec<SpanData> = spans().into_iter().cycle().take(70).collect();
    let enc = encoder();
    let want: Vec<Vec<u8>> = spans
        .iter()
        .map(|s| s.span_context.span_id().to_bytes().to_vec())
        .collect();
    for max in [1, 500, 2_000, 10_000, 100_000] {
        let bodies = enc.encode_chunked(&spans, max);
        let mut got = Vec::new();
        for (body, count) in &bodies {
            let decoded = spans_of(decode(body));
            assert_eq!(decoded.len(), *count as usize);
            assert!(
                body.len() <= max || decoded.len() == 1,
                "{} > {max}",
                body.len()
            );
            got.extend(decoded);
        }
        let ids: Vec<Vec<u8>> = got.iter().map(|s| s.span_id.clone()).collect();
        assert_eq!(ids, want, "max {max}");
        for (g, s) in got.iter().zip(&spans) {
            assert_eq!(*g, ProtoSpan::from(sdk_span(s)));
        }
    }
}

#[test]
fn a_lone_span_decodes_as_a_span() {
    let span = &spans()[1];
    let mut json = String::new();
    encode_span(span, &mut json);
    let decoded: ProtoSpan = serde_json::from_str(&json).unwrap();
    assert_eq!(decoded, ProtoSpan::from(sdk_span(span)));
}

/// proto3 JSON writes non-finite doubles as the strings "NaN", "Infinity" and "-Infinity".
/// `opentelemetry-proto` 0.33.1 cannot read them in an `AnyValue` (its `doubleValue` takes a
/// JSON number only), so they are checked here as plain JSON.
#[test]
fn non_finite_doubles_are_proto3_json_strings() {
    let mut span = spans().remove(0);
    let limits = SpanLimits::default();
    span.set_attribute(KeyValue::new("nan", f64::NAN), &limits);
    span.set_attribute(KeyValue::new("inf", f64::INFINITY), &limits);
    span.set_attribute(
        KeyValue::new(
            "mixed",
            Value::Array(Array::F64(vec![f64::NEG_INFINITY, 2.5])),
        ),
        &limits,
    );
    let body = encoder().encode(&[span]);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    let attrs = &json["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"];
    assert_eq!(
        attrs[0]["value"],
        serde_json::json!({ "doubleValue": "NaN" })
    );
    assert_eq!(
        attrs[1]["value"],
        serde_json::json!({ "doubleValue": "Infinity" })
    );
    assert_eq!(
        attrs[2]["value"],
        serde_json::json!({ "arrayValue": { "values": [
            { "doubleValue": "-Infinity" },
            { "doubleValue": 2.5 },
        ] } })
    );
}

#[test]
fn partial_success_as_the_official_types_write_it() {
    let cases = [
        (None, None),
        (Some((0, "")), None),
        (Some((5, "")), Some((5, ""))),
        (Some((0, "deprecated field")), Some((0, "deprecated field"))),
        (
            Some((2, "spans too old: \"a\"\n\u{1}")),
            Some((2, "spans too old: \"a\"\n\u{1}")),
        ),
    ];
    for (sent, want) in cases {
        let response = ExportTraceServiceResponse {
            partial_success: sent.map(|(rejected_spans, msg): (i64, &str)| {
                ExportTracePartialSuccess {
                    rejected_spans,
                    error_message: msg.into(),
                }
            }),
        };
        let body = serde_json::to_string(&response).unwrap();
        let want = want.map(|(rejected, msg): (u64, &str)| PartialSuccess {
            rejected_spans: rejected,
            error_message: msg.into(),
        });
        assert_eq!(parse_partial_success(&body), want, "{body}");
    }
}
