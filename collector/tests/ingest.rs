//! Ingestion against the real server on 127.0.0.1: OTLP JSON and protobuf, gzip, the
//! opentelemetry-rust exporter, Rollbar items, bad input, CORS, the UI files.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use edge_telemetry_collector::Config;
use edge_telemetry_core::errors::rollbar::{Body, Exception, Item, Level, Scrubber, encode_item};
use edge_telemetry_core::errors::stack::StackFrame;
use edge_telemetry_core::export::otlp::{OtlpEncoder, push_f64};
use edge_telemetry_core::model::{
    Array, KeyValue as SdkKeyValue, SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId,
    TraceState, Value as SdkValue,
};
use edge_telemetry_core::trace::span::{SpanData, SpanLimits};
use opentelemetry::KeyValue;
use opentelemetry::trace::{TraceContextExt as _, Tracer as _, TracerProvider as _};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue as ProtoKeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span as ProtoSpan};
use prost::Message as _;
use serde_json::{Value, json};

const JSON: (&str, &str) = ("content-type", "application/json");
const PROTOBUF: (&str, &str) = ("content-type", "application/x-protobuf");
const GZIP: (&str, &str) = ("content-encoding", "gzip");

#[test]
fn otlp_json_like_the_sdk_sends_is_stored_whole() {
    let running = collector();
    let client = Client::new(&running);
    let start = now_ns();
    let answer = client.post("/v1/traces", &[JSON], sdk_body(TRACE_ID, start).as_bytes());
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json(), json!({}));
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    assert!(
        answer
            .header("content-type")
            .unwrap()
            .starts_with("application/json")
    );

    let list = client.api("/api/traces");
    let summary = &list["traces"][0];
    assert_eq!(summary["traceId"], TRACE_ID);
    assert_eq!(summary["rootName"], "documentLoad");
    assert_eq!(summary["rootService"], "shop-web");
    assert_eq!(summary["services"], json!(["shop-web"]));
    assert_eq!(summary["spanCount"], 2);
    assert_eq!(summary["errorCount"], 1);
    assert_eq!(summary["error"], true);
    assert_eq!(summary["durationMs"], 1200.0);
    let start_ms = summary["start"].as_f64().unwrap();
    assert!((start_ms - start as f64 / 1e6).abs() < 0.01);

    let trace = client.api(&format!("/api/traces/{TRACE_ID}"));
    assert_eq!(trace["traceId"], TRACE_ID);
    let spans = trace["spans"].as_array().unwrap();
    assert_eq!(spans.len(), 2);
    let (root, child) = (&spans[0], &spans[1]);
    assert_eq!(root["spanId"], ROOT_ID);
    assert_eq!(root["parentSpanId"], Value::Null);
    assert_eq!(root["kind"], "internal");
    assert_eq!(root["status"], json!({"code": "ok", "message": ""}));
    assert_eq!(root["scope"], "edge-telemetry");
    assert_eq!(child["parentSpanId"], ROOT_ID);
    assert_eq!(child["name"], "GET /api/cart");
    assert_eq!(child["kind"], "client");
    assert_eq!(child["service"], "shop-web");
    assert_eq!(child["durationMs"], 250.0);
    assert_eq!(
        child["end"].as_f64().unwrap() - child["start"].as_f64().unwrap(),
        250.0
    );
    assert_eq!(
        child["status"],
        json!({"code": "error", "message": "HTTP 500"})
    );
    assert_eq!(child["flags"], 769);
    assert_eq!(child["traceState"], "congo=t61rcWkgMzE");
    assert_eq!(
        child["attributes"],
        json!({
            "http.request.method": "GET",
            "cart.id": "cart-7731",
            "http.response.status_code": 500,
            "retry.count": 2,
            "cache.hit": false,
            "ratio": 0.25,
            "tags": ["a", "b"],
            "ints": [1, -2],
            "nested": {"k": "v"},
            "raw": "AAEC",
        })
    );
    assert_eq!(child["resource"]["service.version"], "1.2.3");
    assert_eq!(child["resource"]["session.id"], "sess-42");
    let event = &child["events"][0];
    assert_eq!(event["name"], "exception");
    assert_eq!(
        event["attributes"]["exception.message"],
        "cart is undefined"
    );
    assert!((event["time"].as_f64().unwrap() - (start as f64 / 1e6 + 300.0)).abs() < 0.01);
    assert_eq!(
        child["links"][0]["traceId"],
        "0af7651916cd43dd8448eb211c80319c"
    );
    assert_eq!(child["links"][0]["spanId"], "b9c7c989f97918e1");
    assert_eq!(trace["errors"], json!([]));

    // The same request again (a retry) stores nothing twice.
    let again = client.post("/v1/traces", &[JSON], sdk_body(TRACE_ID, start).as_bytes());
    assert_eq!(again.status, 200);
    assert_eq!(client.counts(), (1, 2, 0));
}

/// What the SDK's own encoder writes, non-finite doubles included (which
/// `opentelemetry-proto`'s serde alone refuses).
#[test]
fn the_sdk_encoder_output_is_accepted() {
    let running = collector();
    let client = Client::new(&running);
    let limits = SpanLimits::default();
    let context = SpanContext::new(
        TraceId::from((0x1234_u128 << 64) | 1),
        SpanId::from(7),
        TraceFlags::SAMPLED,
        false,
        TraceState::default(),
    );
    let start = now_ns();
    let mut span = SpanData::new("click".into(), SpanKind::Internal, context, None, start);
    span.end_time_unix_nano = start + 3_000_000;
    span.set_attribute(SdkKeyValue::new("nan", f64::NAN), &limits);
    span.set_attribute(SdkKeyValue::new("inf", f64::NEG_INFINITY), &limits);
    span.set_attribute(SdkKeyValue::new("big", i64::MAX), &limits);
    span.set_attribute(
        SdkKeyValue::new(
            "list",
            SdkValue::Array(Array::F64(vec![1.5, f64::INFINITY])),
        ),
        &limits,
    );
    span.set_status(Status::error("boom"));
    let encoder = OtlpEncoder::new(
        &[SdkKeyValue::new("service.name", "shop-web")],
        "edge-telemetry",
        "0.1.0",
        push_f64,
    );
    let body = encoder.encode(&[span]);
    let answer = client.post("/v1/traces", &[JSON, GZIP], &gzip(body.as_bytes()));
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    let trace_id = format!("{:032x}", (0x1234_u128 << 64) | 1);
    let trace = client.api(&format!("/api/traces/{trace_id}"));
    let attributes = &trace["spans"][0]["attributes"];
    assert_eq!(attributes["nan"], "NaN");
    assert_eq!(attributes["inf"], "-Infinity");
    assert_eq!(attributes["big"], i64::MAX);
    assert_eq!(attributes["list"], json!([1.5, "Infinity"]));
    assert_eq!(trace["spans"][0]["status"]["code"], "error");
}

fn proto_request(spans: Vec<ProtoSpan>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![ProtoKeyValue {
                    key: "service.name".into(),
                    value: Some(AnyValue {
                        value: Some(any_value::Value::StringValue("checkout-api".into())),
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn proto_span(trace_id: &[u8], span_id: &[u8], parent: &[u8], name: &str) -> ProtoSpan {
    let start = now_ns();
    ProtoSpan {
        trace_id: trace_id.to_vec(),
        span_id: span_id.to_vec(),
        parent_span_id: parent.to_vec(),
        name: name.into(),
        kind: 2,
        start_time_unix_nano: start,
        end_time_unix_nano: start + 42_000_000,
        attributes: vec![ProtoKeyValue {
            key: "http.route".into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue("/api/checkout".into())),
            }),
            ..Default::default()
        }],
        flags: 0x101,
        ..Default::default()
    }
}

#[test]
fn otlp_protobuf_plain_and_gzip_are_stored() {
    let running = collector();
    let client = Client::new(&running);
    for (n, gzipped) in [(1u8, false), (2, true)] {
        let trace_id = [n; 16];
        let request = proto_request(vec![
            proto_span(&trace_id, &[1; 8], &[], "POST /api/checkout"),
            proto_span(&trace_id, &[2; 8], &[1; 8], "SELECT carts"),
        ]);
        let bytes = request.encode_to_vec();
        let answer = if gzipped {
            client.post("/v1/traces", &[PROTOBUF, GZIP], &gzip(&bytes))
        } else {
            client.post("/v1/traces", &[PROTOBUF], &bytes)
        };
        assert_eq!(answer.status, 200);
        assert_eq!(
            answer.header("content-type"),
            Some("application/x-protobuf")
        );
        let response = ExportTraceServiceResponse::decode(&answer.body[..]).unwrap();
        assert_eq!(response.partial_success, None);
        let hex_id = format!("{n:02x}").repeat(16);
        let trace = client.api(&format!("/api/traces/{hex_id}"));
        let spans = trace["spans"].as_array().unwrap();
        assert_eq!(spans.len(), 2);
        assert_eq!(spans[0]["service"], "checkout-api");
        assert_eq!(spans[0]["kind"], "server");
        assert_eq!(spans[0]["durationMs"], 42.0);
        assert_eq!(spans[1]["parentSpanId"], "0101010101010101");
        assert_eq!(spans[1]["attributes"]["http.route"], "/api/checkout");
    }
    assert_eq!(client.counts(), (2, 4, 0));
}

#[test]
fn gzip_json_is_stored() {
    let running = collector();
    let client = Client::new(&running);
    let body = gzip(sdk_body(TRACE_ID, now_ns()).as_bytes());
    let answer = client.post(
        "/v1/traces",
        &[("content-type", "application/json; charset=utf-8"), GZIP],
        &body,
    );
    assert_eq!(answer.status, 200);
    assert_eq!(client.counts(), (1, 2, 0));
}

/// A request made by the opentelemetry-rust OTLP/HTTP exporter (protobuf, reqwest).
#[test]
fn the_opentelemetry_rust_exporter_is_accepted() {
    use opentelemetry_otlp::{WithExportConfig as _, WithHttpConfig as _};
    let running = collector();
    let client = Client::new(&running);
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(format!("{}/v1/traces", running.url()))
        .with_timeout(std::time::Duration::from_secs(5))
        .with_headers(std::collections::HashMap::from([(
            "x-honeycomb-team".to_owned(),
            "browser-never-needs-this".to_owned(),
        )]))
        .build()
        .expect("exporter");
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_simple_exporter(exporter)
        .with_resource(
            opentelemetry_sdk::Resource::builder_empty()
                .with_service_name("checkout-backend")
                .build(),
        )
        .build();
    let tracer = provider.tracer("backend-test");
    let (trace_id, parent_id) = tracer.in_span("POST /api/checkout", |cx| {
        let span = cx.span();
        let ids = (
            span.span_context().trace_id(),
            span.span_context().span_id(),
        );
        tracer.in_span("charge card", |cx| {
            cx.span()
                .set_attribute(KeyValue::new("payment.amount", 42.5));
            cx.span()
                .set_attribute(KeyValue::new("payment.provider", "stripe"));
        });
        ids
    });
    provider.shutdown().expect("flushed");

    let trace = client.api(&format!("/api/traces/{trace_id}"));
    let spans = trace["spans"].as_array().unwrap();
    assert_eq!(spans.len(), 2, "{trace}");
    let parent = spans
        .iter()
        .find(|s| s["name"] == "POST /api/checkout")
        .unwrap();
    let child = spans.iter().find(|s| s["name"] == "charge card").unwrap();
    assert_eq!(parent["spanId"], parent_id.to_string());
    assert_eq!(parent["parentSpanId"], Value::Null);
    assert_eq!(child["parentSpanId"], parent_id.to_string());
    assert_eq!(child["service"], "checkout-backend");
    assert_eq!(child["resource"]["service.name"], "checkout-backend");
    assert_eq!(child["attributes"]["payment.amount"], 42.5);
    assert_eq!(child["attributes"]["payment.provider"], "stripe");
    let list = client.api("/api/traces");
    assert_eq!(list["traces"][0]["rootName"], "POST /api/checkout");
    assert_eq!(list["traces"][0]["rootService"], "checkout-backend");
}

#[test]
fn invalid_ids_get_a_partial_success_and_the_valid_spans_are_stored() {
    let running = collector();
    let client = Client::new(&running);
    let good = one_span(TRACE_ID, ROOT_ID, "good", "svc", now_ns());
    let mut body: Value = serde_json::from_str(&good).unwrap();
    let spans = body["resourceSpans"][0]["scopeSpans"][0]["spans"]
        .as_array_mut()
        .unwrap();
    let template = spans[0].clone();
    for (trace_id, span_id) in [
        ("abc", ROOT_ID),                               // not hex bytes
        ("4bf92f3577b34da6", CHILD_ID),                 // 8 bytes
        ("00000000000000000000000000000000", CHILD_ID), // all zeros
        (TRACE_ID, "0000000000000000"),                 // all-zero span id
        (TRACE_ID, "zzzzzzzzzzzzzzzz"),                 // not hex
    ] {
        let mut span = template.clone();
        span["traceId"] = json!(trace_id);
        span["spanId"] = json!(span_id);
        span["name"] = json!("bad");
        spans.push(span);
    }
    let answer = client.post_json("/v1/traces", &body.to_string());
    assert_eq!(answer.status, 200);
    let partial = &answer.json()["partialSuccess"];
    assert_eq!(partial["rejectedSpans"], "5");
    assert!(
        partial["errorMessage"]
            .as_str()
            .unwrap()
            .contains("trace id")
    );
    assert_eq!(client.counts(), (1, 1, 0));

    // Protobuf: the response carries it too.
    let trace_id = [9u8; 16];
    let request = proto_request(vec![
        proto_span(&trace_id, &[1; 8], &[], "ok"),
        proto_span(&trace_id, &[2; 7], &[], "short span id"),
        proto_span(&trace_id, &[3; 8], &[1; 3], "short parent"),
    ]);
    let answer = client.post("/v1/traces", &[PROTOBUF], &request.encode_to_vec());
    assert_eq!(answer.status, 200);
    let response = ExportTraceServiceResponse::decode(&answer.body[..]).unwrap();
    let partial = response.partial_success.unwrap();
    assert_eq!(partial.rejected_spans, 2);
    assert!(!partial.error_message.is_empty());
    assert_eq!(client.counts(), (2, 2, 0));
}

/// What, request headers, body, expected status.
type Case = (
    &'static str,
    Vec<(&'static str, &'static str)>,
    Vec<u8>,
    u16,
);

#[test]
fn bad_input_is_rejected_and_nothing_is_stored() {
    let mut config = Config::ephemeral();
    config.max_body_bytes = 64 * 1024;
    let running = collector_with(config);
    let client = Client::new(&running);
    let good = sdk_body(TRACE_ID, now_ns());
    let truncated = &good[..good.len() / 2];
    let valid_proto = proto_request(vec![proto_span(&[5; 16], &[1; 8], &[], "x")]).encode_to_vec();
    let big = format!(
        r#"{{"resourceSpans":[],"padding":"{}"}}"#,
        "x".repeat(70 * 1024)
    );
    let mut bad_gzip = gzip(good.as_bytes());
    let len = bad_gzip.len();
    bad_gzip[len / 2] ^= 0xff;
    bad_gzip.truncate(len - 4);

    let cases: Vec<Case> = vec![
        (
            "truncated JSON",
            vec![JSON],
            truncated.as_bytes().to_vec(),
            400,
        ),
        ("JSON array", vec![JSON], b"[1,2]".to_vec(), 400),
        (
            "wrong JSON types",
            vec![JSON],
            br#"{"resourceSpans":{"a":1}}"#.to_vec(),
            400,
        ),
        ("protobuf as JSON", vec![JSON], valid_proto.clone(), 400),
        (
            "malformed protobuf",
            vec![PROTOBUF],
            b"\xff\xff\xff\xff garbage".to_vec(),
            400,
        ),
        (
            "truncated protobuf",
            vec![PROTOBUF],
            valid_proto[..valid_proto.len() - 3].to_vec(),
            400,
        ),
        ("bad gzip", vec![JSON, GZIP], bad_gzip, 400),
        (
            "gzip header, plain body",
            vec![JSON, GZIP],
            good.as_bytes().to_vec(),
            400,
        ),
        (
            "text/plain",
            vec![("content-type", "text/plain")],
            good.as_bytes().to_vec(),
            415,
        ),
        ("no content type", vec![], good.as_bytes().to_vec(), 415),
        (
            "form",
            vec![("content-type", "application/x-www-form-urlencoded")],
            good.as_bytes().to_vec(),
            415,
        ),
        (
            "brotli",
            vec![JSON, ("content-encoding", "br")],
            good.as_bytes().to_vec(),
            415,
        ),
        ("over the limit", vec![JSON], big.as_bytes().to_vec(), 413),
        (
            "inflates over the limit",
            vec![JSON, GZIP],
            gzip(big.as_bytes()),
            413,
        ),
    ];
    for (what, headers, body, status) in cases {
        let answer = client.post("/v1/traces", &headers, &body);
        assert_eq!(
            answer.status,
            status,
            "{what}: {}",
            String::from_utf8_lossy(&answer.body)
        );
        let error = answer.json()["error"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(!error.is_empty(), "{what}: no message");
        assert_eq!(answer.header("cache-control"), Some("no-store"), "{what}");
    }

    let item = r#"{"data":{"body":{"message":{"body":"hello"}}}}"#;
    let item_cases: Vec<Case> = vec![
        ("not JSON", vec![JSON], b"{data:".to_vec(), 400),
        (
            "no data",
            vec![JSON],
            br#"{"access_token":"x"}"#.to_vec(),
            400,
        ),
        (
            "data not an object",
            vec![JSON],
            br#"{"data":"x"}"#.to_vec(),
            400,
        ),
        (
            "no body",
            vec![JSON],
            br#"{"data":{"level":"error"}}"#.to_vec(),
            400,
        ),
        (
            "text/plain",
            vec![("content-type", "text/plain")],
            item.as_bytes().to_vec(),
            415,
        ),
        ("over the limit", vec![JSON], big.as_bytes().to_vec(), 413),
    ];
    for (what, headers, body, status) in item_cases {
        let answer = client.post("/api/1/item/", &headers, &body);
        assert_eq!(answer.status, status, "item {what}");
        let json = answer.json();
        assert_eq!(json["err"], 1, "item {what}");
        assert!(!json["message"].as_str().unwrap().is_empty(), "item {what}");
    }

    assert_eq!(client.counts(), (0, 0, 0));
    assert_eq!(client.api("/api/search?q=documentLoad")["spans"], json!([]));
    assert_eq!(client.api("/api/errors")["groups"], json!([]));
    // Nothing was broken along the way.
    assert_eq!(
        client.post("/v1/traces", &[JSON], good.as_bytes()).status,
        200
    );
    assert_eq!(client.post_json("/api/1/item", item).status, 200);
    assert_eq!(client.counts(), (1, 2, 1));
}

#[test]
fn cors_preflight_and_response_headers() {
    let mut config = Config::ephemeral();
    config.access.allow_origins = vec!["http://localhost:5173".to_owned()];
    let running = collector_with(config);
    let client = Client::new(&running);
    for path in ["/v1/traces", "/api/1/item/"] {
        let answer = client.options(
            path,
            &[
                ("origin", "http://localhost:5173"),
                ("access-control-request-method", "POST"),
                (
                    "access-control-request-headers",
                    "content-type,content-encoding,x-honeycomb-team",
                ),
            ],
        );
        assert_eq!(answer.status, 204, "{path}");
        assert_eq!(
            answer.header("access-control-allow-origin"),
            Some("http://localhost:5173")
        );
        assert_eq!(
            answer.header("access-control-allow-methods"),
            Some("POST, OPTIONS")
        );
        assert_eq!(
            answer.header("access-control-allow-headers"),
            Some("content-type,content-encoding,x-honeycomb-team")
        );
        assert_eq!(answer.header("access-control-max-age"), Some("600"));
        assert_eq!(answer.header("vary"), Some("Origin"));
    }
    let answer = client.post(
        "/v1/traces",
        &[JSON, ("origin", "http://localhost:5173")],
        sdk_body(TRACE_ID, now_ns()).as_bytes(),
    );
    assert_eq!(
        answer.header("access-control-allow-origin"),
        Some("http://localhost:5173")
    );
    assert_eq!(answer.header("vary"), Some("Origin"));
    assert_eq!(
        answer.header("access-control-expose-headers"),
        Some("retry-after"),
        "the SDK can read a Retry-After across origins"
    );
    // Errors too; requests without an Origin get no CORS headers at all.
    let answer = client.post(
        "/v1/traces",
        &[
            ("content-type", "text/plain"),
            ("origin", "http://localhost:5173"),
        ],
        b"x",
    );
    assert_eq!(answer.status, 415);
    assert_eq!(
        answer.header("access-control-allow-origin"),
        Some("http://localhost:5173")
    );
    let answer = client.post("/v1/traces", &[("content-type", "text/plain")], b"x");
    assert_eq!(answer.status, 415);
    assert_eq!(answer.header("access-control-allow-origin"), None);
}

fn frame(filename: &str, lineno: u32, method: &str) -> StackFrame {
    StackFrame {
        filename: filename.into(),
        lineno: Some(lineno),
        colno: Some(7),
        method: Some(method.into()),
    }
}

fn sdk_item(uuid: &str, body: Body, trace_id: Option<&str>, timestamp_secs: u64) -> String {
    let mut item = Item::new(
        uuid.into(),
        Level::Error,
        timestamp_secs,
        "staging".into(),
        body,
        "0.1.0".into(),
    );
    item.context = Some("#/cart".into());
    item.request_url = Some("https://shop.example/cart?token=secret".into());
    item.browser = Some("Mozilla/5.0".into());
    item.code_version = Some("1.2.3".into());
    item.trace_id = trace_id.map(str::to_owned);
    item.span_id = trace_id.map(|_| CHILD_ID.to_owned());
    encode_item(&item, &Scrubber::default(), 128 * 1024)
}

fn type_error() -> Body {
    Body::Trace(Exception {
        class: "TypeError".into(),
        message: "cart is undefined".into(),
        frames: vec![
            frame("https://shop.example/app.js", 10, "main"),
            frame("https://shop.example/cart.js", 42, "renderCart"),
        ],
    })
}

#[test]
fn rollbar_items_are_stored_grouped_and_linked_to_their_trace() {
    let running = collector();
    let client = Client::new(&running);
    let t0 = now_ns() / 1_000_000_000;
    assert_eq!(
        client
            .post(
                "/v1/traces",
                &[JSON],
                sdk_body(TRACE_ID, now_ns()).as_bytes()
            )
            .status,
        200
    );
    let uuids = [
        "11111111-1111-4111-8111-111111111111",
        "22222222-2222-4222-8222-222222222222",
    ];
    for (i, uuid) in uuids.iter().enumerate() {
        let body = sdk_item(uuid, type_error(), Some(TRACE_ID), t0 + i as u64);
        let answer = client.post(
            "/api/1/item/",
            &[JSON, ("x-rollbar-access-token", "browser-token")],
            body.as_bytes(),
        );
        assert_eq!(answer.status, 200);
        assert_eq!(answer.header("cache-control"), Some("no-store"));
        assert_eq!(
            answer.json(),
            json!({"err": 0, "result": {"id": null, "uuid": uuid}})
        );
    }
    // A chained error, a message without uuid, and one with a fingerprint.
    let chain = Body::TraceChain(vec![
        Exception {
            class: "Error".into(),
            message: "checkout failed".into(),
            frames: vec![frame("https://shop.example/checkout.js", 5, "pay")],
        },
        Exception {
            class: "NetworkError".into(),
            message: "connection reset".into(),
            frames: vec![frame("https://shop.example/net.js", 9, "send")],
        },
    ]);
    let chain_uuid = "33333333-3333-4333-8333-333333333333";
    let chain_item = sdk_item(chain_uuid, chain, None, t0 + 3);
    assert_eq!(client.post_json("/api/1/item/", &chain_item).status, 200);
    let message = client.post_json(
        "/api/1/item",
        r#"{"access_token":"in-body-token","data":{"environment":"dev","level":"warning","body":{"message":{"body":"low stock"}},"custom":{"trace_id":"0AF7651916CD43DD8448EB211C80319C"}}}"#,
    );
    assert_eq!(message.status, 200);
    let message_uuid = message.json()["result"]["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(message_uuid.len(), 36);
    for uuid in [
        "44444444-4444-4444-8444-444444444444",
        "55555555-5555-4555-8555-555555555555",
    ] {
        let item = format!(
            r#"{{"data":{{"uuid":"{uuid}","fingerprint":"cart-errors","body":{{"trace":{{"exception":{{"class":"E{uuid}","message":"m"}},"frames":[]}}}}}}}}"#
        );
        assert_eq!(client.post_json("/api/1/item/", &item).status, 200);
    }
    assert_eq!(client.counts().2, 6);

    let groups = client.api("/api/errors")["groups"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(groups.len(), 4, "{groups:?}");
    let type_errors = groups.iter().find(|g| g["class"] == "TypeError").unwrap();
    assert_eq!(type_errors["count"], 2);
    assert_eq!(type_errors["message"], "cart is undefined");
    assert_eq!(type_errors["level"], "error");
    assert_eq!(type_errors["lastUuid"], uuids[1]);
    assert_eq!(type_errors["traceId"], TRACE_ID);
    assert_eq!(type_errors["environment"], "staging");
    assert_eq!(type_errors["firstSeen"], json!((t0 * 1000) as f64));
    assert_eq!(type_errors["lastSeen"], json!(((t0 + 1) * 1000) as f64));
    let fingerprinted = groups
        .iter()
        .find(|g| g["fingerprint"] == "cart-errors")
        .unwrap();
    assert_eq!(fingerprinted["count"], 2);
    let low_stock = groups.iter().find(|g| g["message"] == "low stock").unwrap();
    assert_eq!(low_stock["class"], "");
    assert_eq!(low_stock["level"], "warning");
    assert_eq!(low_stock["traceId"], "0af7651916cd43dd8448eb211c80319c");

    let detail = client.api(&format!("/api/errors/{}", uuids[0]));
    assert_eq!(detail["uuid"], uuids[0]);
    assert_eq!(detail["class"], "TypeError");
    assert_eq!(detail["message"], "cart is undefined");
    assert_eq!(detail["traceId"], TRACE_ID);
    assert_eq!(detail["spanId"], CHILD_ID);
    assert_eq!(detail["environment"], "staging");
    assert_eq!(detail["timestamp"], json!((t0 * 1000) as f64));
    assert_eq!(
        detail["frames"],
        json!([
            {"filename": "https://shop.example/app.js", "lineno": 10, "colno": 7, "method": "main"},
            {"filename": "https://shop.example/cart.js", "lineno": 42, "colno": 7, "method": "renderCart"},
        ])
    );
    assert_eq!(detail["item"]["data"]["uuid"], uuids[0]);
    assert_eq!(detail["item"]["data"]["notifier"]["name"], "edge-telemetry");

    let chained = client.api(&format!("/api/errors/{chain_uuid}"));
    assert_eq!(chained["class"], "Error");
    assert_eq!(chained["traceChain"][1]["class"], "NetworkError");
    assert_eq!(chained["traceChain"][1]["frames"][0]["method"], "send");
    assert_eq!(chained["frames"][0]["method"], "pay");
    assert_eq!(chained["traceId"], Value::Null);

    let message_detail = client.api(&format!("/api/errors/{message_uuid}"));
    assert_eq!(message_detail["frames"], json!([]));
    assert!(message_detail["item"].get("access_token").is_none());
    assert!(!message_detail["item"].to_string().contains("in-body-token"));

    // The trace lists its errors.
    let trace = client.api(&format!("/api/traces/{TRACE_ID}"));
    let errors = trace["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[0]["uuid"], uuids[0]);
    assert_eq!(errors[0]["spanId"], CHILD_ID);
    // An item whose trace has no spans (yet) still links to a trace page.
    let orphan = client.api("/api/traces/0af7651916cd43dd8448eb211c80319c");
    assert_eq!(orphan["spans"], json!([]));
    assert_eq!(orphan["errors"][0]["uuid"], message_uuid);

    assert_eq!(client.get("/api/errors/nope").status, 404);
    assert_eq!(
        client
            .get("/api/traces/ffffffffffffffffffffffffffffffff")
            .status,
        404
    );
    assert_eq!(client.get("/api/traces/not-an-id").status, 404);
}

#[test]
fn the_ui_is_served() {
    let running = collector();
    let client = Client::new(&running);
    for (path, kind) in [
        ("/", "text/html"),
        ("/app.js", "text/javascript"),
        ("/app.css", "text/css"),
    ] {
        let answer = client.get(path);
        assert_eq!(answer.status, 200, "{path}");
        assert!(
            answer.header("content-type").unwrap().starts_with(kind),
            "{path}"
        );
    }
    let missing = client.get("/nope");
    assert_eq!(missing.status, 404);
    assert!(missing.json()["error"].is_string());
}
