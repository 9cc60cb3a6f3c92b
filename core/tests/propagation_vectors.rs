//! `W3cPropagator` end to end through an `opentelemetry::Context`: extract from received
//! headers, inject into outgoing ones.
//!
//! Several cases are ones where opentelemetry's own `TraceContextPropagator` (0.33) differs:
//! it continues the first of two `traceparent` headers, reads only the first `tracestate`
//! header, accepts wrong-length fields and drops the `random` flag.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use edge_telemetry_core::propagation::{
    Baggage, HeaderList, RANDOM_FLAG, W3cPropagator, baggage_from_context, context_with_baggage,
};
use opentelemetry::Context;
use opentelemetry::baggage::BaggageExt;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{SpanContext, TraceContextExt, TraceFlags, TraceState};
use opentelemetry::{SpanId, TraceId};

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID: &str = "00f067aa0ba902b7";
const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const OTHER_TP: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

fn extract(headers: &[(&str, &str)]) -> Context {
    W3cPropagator::new().extract_with_context(&Context::new(), &HeaderList::new(headers))
}

fn inject(cx: &Context) -> HeaderList {
    let mut out = HeaderList::default();
    W3cPropagator::new().inject_context(cx, &mut out);
    out
}

fn remote(cx: &Context) -> SpanContext {
    cx.span().span_context().clone()
}

#[test]
fn extract_then_inject_round_trips() {
    let received = [
        ("traceparent", TP),
        ("tracestate", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"),
        (
            "baggage",
            "userId=alice,serverNode=DF%2028;p=1,isProduction=false",
        ),
    ];
    let cx = extract(&received);
    let sc = remote(&cx);
    assert!(sc.is_valid());
    assert!(sc.is_remote());
    assert!(sc.is_sampled());
    assert_eq!(format!("{:032x}", sc.trace_id()), TRACE_ID);
    assert_eq!(format!("{:016x}", sc.span_id()), PARENT_ID);
    assert_eq!(sc.trace_state().get("congo"), Some("t61rcWkgMzE"));
    assert_eq!(
        cx.baggage()
            .get("serverNode")
            .map(|v| v.as_str().to_owned()),
        Some("DF 28".to_owned())
    );

    let sent = inject(&cx);
    assert_eq!(sent.values("traceparent"), [TP]);
    assert_eq!(
        sent.values("tracestate"),
        ["rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"]
    );
    assert_eq!(
        sent.values("baggage"),
        ["userId=alice,serverNode=DF%2028;p=1,isProduction=false"],
        "baggage order survives the round trip"
    );
    assert_eq!(sent.len(), 3);
}

#[test]
fn two_traceparent_headers_give_no_remote_context() {
    for headers in [
        [("traceparent", TP), ("traceparent", OTHER_TP)],
        [("traceparent", TP), ("TraceParent", TP)],
    ] {
        let cx = extract(&[headers[0], headers[1], ("tracestate", "a=1")]);
        assert!(!remote(&cx).is_valid(), "{headers:?}");
        assert!(!cx.has_active_span());
        assert!(
            inject(&cx).is_empty(),
            "nothing to continue, nothing written"
        );
    }
}

#[test]
fn two_tracestate_headers_are_combined() {
    let cx = extract(&[
        ("traceparent", TP),
        ("tracestate", "rojo=1, ,"),
        ("Tracestate", "congo=2"),
        ("TRACESTATE", "x@y=3"),
    ]);
    let sc = remote(&cx);
    assert_eq!(sc.trace_state().get("rojo"), Some("1"));
    assert_eq!(sc.trace_state().get("congo"), Some("2"));
    assert_eq!(inject(&cx).values("tracestate"), ["rojo=1,congo=2,x@y=3"]);
}

#[test]
fn invalid_tracestate_is_dropped_but_traceparent_kept() {
    let cx = extract(&[
        ("traceparent", TP),
        ("tracestate", "rojo=1"),
        ("tracestate", "rojo=2"),
    ]);
    assert!(remote(&cx).is_valid());
    assert_eq!(remote(&cx).trace_state(), &TraceState::default());
    let sent = inject(&cx);
    assert_eq!(sent.values("traceparent"), [TP]);
    assert!(sent.values("tracestate").is_empty());
}

#[test]
fn random_flag_is_kept() {
    for (flags, written) in [("02", "02"), ("03", "03"), ("ff", "03")] {
        let cx = extract(&[("traceparent", &format!("00-{TRACE_ID}-{PARENT_ID}-{flags}"))]);
        let sc = remote(&cx);
        assert_eq!(sc.trace_flags().to_u8() & RANDOM_FLAG, RANDOM_FLAG);
        assert_eq!(
            inject(&cx).values("traceparent"),
            [format!("00-{TRACE_ID}-{PARENT_ID}-{written}")],
            "flags {flags}"
        );
    }
}

#[test]
fn wrong_length_fields_are_rejected() {
    for tp in [
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e47366-00f067aa0ba902b-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b77-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-001",
        "0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    ] {
        assert!(!remote(&extract(&[("traceparent", tp)])).is_valid(), "{tp}");
    }
}

#[test]
fn future_version_is_continued_as_version_00() {
    let cx = extract(&[(
        "traceparent",
        &format!("cc-{TRACE_ID}-{PARENT_ID}-01-what-the-future-will-be-like"),
    )]);
    assert_eq!(inject(&cx).values("traceparent"), [TP]);
}

#[test]
fn baggage_headers_are_combined_and_invalid_members_skipped() {
    let cx = extract(&[
        ("baggage", "a=1,bad key=2"),
        ("Baggage", " b = %E2%82%AC ; p"),
    ]);
    assert!(!remote(&cx).is_valid());
    let baggage = baggage_from_context(&cx);
    assert_eq!(baggage.get("a"), Some("1"));
    assert_eq!(baggage.get("b"), Some("\u{20ac}"));
    assert_eq!(
        baggage.get_entry("b").map(|e| e.metadata.as_str()),
        Some("p")
    );
    assert_eq!(
        inject(&cx).values("baggage"),
        ["a=1,b=%E2%82%AC;p"],
        "baggage is written without a span"
    );
}

#[test]
fn local_span_is_injected_with_masked_flags() {
    let sc = SpanContext::new(
        TraceId::from_bytes([0xab; 16]),
        SpanId::from_bytes([0xcd; 8]),
        TraceFlags::new(0x0f),
        false,
        TraceState::from_key_value([("vendor", "x")]).expect("valid"),
    );
    let mut baggage = Baggage::new();
    baggage.set("tenant", "acme corp");
    let cx = context_with_baggage(&Context::new().with_remote_span_context(sc), baggage);
    let sent = inject(&cx);
    assert_eq!(
        sent.values("traceparent"),
        [format!("00-{}-{}-03", "ab".repeat(16), "cd".repeat(8))]
    );
    assert_eq!(sent.values("tracestate"), ["vendor=x"]);
    assert_eq!(sent.values("baggage"), ["tenant=acme%20corp"]);
}
