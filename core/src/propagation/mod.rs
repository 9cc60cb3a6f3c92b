//! W3C Trace Context Level 2 (`traceparent`, `tracestate`), W3C Baggage (`baggage`) and AWS
//! X-Ray's `X-Amzn-Trace-Id`.
//!
//! - [`traceparent`], [`tracestate`], [`baggage`], [`xray`]: each header parsed and formatted exactly
//!   per spec, on plain strings, so the browser side can call them without a `Context`.
//! - [`extract_span_context`]: both trace headers to a remote `SpanContext`.
//! - `W3cPropagator` (the `otel` feature): an `opentelemetry::propagation::TextMapPropagator`
//!   for all three headers, for native Rust services.
//!
//! Every parser takes *all* the values received for its header (`&[&str]`), because the
//! specs define what several headers mean: two `traceparent` headers make the request's
//! trace context invalid, while several `tracestate` or `baggage` headers are combined in
//! order.

use crate::model::SpanContext;
use crate::prelude::*;

pub mod baggage;
pub mod headers;
#[cfg(feature = "otel")]
mod otel;
pub mod traceparent;
pub mod tracestate;
pub mod xray;

pub use baggage::{
    BAGGAGE_HEADER, Baggage, BaggageEntry, MAX_BAGGAGE_BYTES, MAX_BAGGAGE_MEMBERS, format_baggage,
    parse_baggage,
};
pub use headers::HeaderList;
#[cfg(feature = "otel")]
pub use otel::{
    ContinuedTrace, SamplingRequested, TracePropagator, W3cPropagator, baggage_from_context,
    context_with_baggage, sampling_requested, trace_flags_to_send,
};
pub use traceparent::{
    RANDOM_FLAG, SAMPLED_FLAG, TRACEPARENT_HEADER, TraceParent, format_traceparent,
    parse_hex_bytes, parse_traceparent, write_hex,
};
pub use tracestate::{
    MAX_TRACESTATE_MEMBERS, TRACESTATE_HEADER, format_tracestate, parse_tracestate,
};
pub use xray::{XRAY_HEADER, XrayHeader, XraySampled, extract_xray, format_xray, parse_xray};

/// Builds the remote [`SpanContext`] described by the `traceparent` and `tracestate` header
/// values received (all of them, in order).
///
/// `None` when `traceparent` is invalid or not exactly one header (see
/// [`parse_traceparent`]); `tracestate` is then not parsed at all, as the spec requires. An
/// invalid `tracestate` does not affect `traceparent`: the span context is returned with an
/// empty trace state. The flags are kept as received, the `random` flag included.
pub fn extract_span_context(traceparent: &[&str], tracestate: &[&str]) -> Option<SpanContext> {
    let parent = parse_traceparent(traceparent)?;
    Some(remote_span_context(parent, tracestate))
}

/// The remote span context for an already valid `traceparent`.
pub(crate) fn remote_span_context(parent: TraceParent, tracestate: &[&str]) -> SpanContext {
    SpanContext::new(
        parent.trace_id,
        parent.parent_id,
        parent.flags,
        true,
        parse_tracestate(tracestate).unwrap_or_default(),
    )
}

/// Writes `traceparent`, and `tracestate` when it is not empty, for a valid span context;
/// nothing for an invalid one, through `set(name, value)`. Shared by `W3cPropagator` and the
/// browser's request instrumentation.
pub fn inject_trace_context(span_context: &SpanContext, mut set: impl FnMut(&'static str, String)) {
    if !span_context.is_valid() {
        return;
    }
    set(
        TRACEPARENT_HEADER,
        format_traceparent(
            span_context.trace_id(),
            span_context.span_id(),
            span_context.trace_flags(),
        ),
    );
    let tracestate = format_tracestate(span_context.trace_state());
    if !tracestate.is_empty() {
        set(TRACESTATE_HEADER, tracestate);
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::model::{TraceFlags, TraceState};

    const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn inject_trace_context_writes_tracestate_only_when_present() {
        let sc = extract_span_context(&[TP], &["a=1"]).expect("valid");
        let mut out = HeaderList::default();
        inject_trace_context(&sc, |k, v| out.set(k, v));
        assert_eq!(out.values("traceparent"), vec![TP]);
        assert_eq!(out.values("tracestate"), vec!["a=1"]);

        let bare = extract_span_context(&[TP], &[]).expect("valid");
        let mut out = HeaderList::default();
        inject_trace_context(&bare, |k, v| out.set(k, v));
        assert_eq!(out.keys(), vec!["traceparent"]);

        let mut out = HeaderList::default();
        inject_trace_context(&SpanContext::empty_context(), |k, v| out.set(k, v));
        assert!(out.is_empty(), "an invalid context writes nothing");
    }

    #[test]
    fn extract_span_context_cases() {
        let sc = extract_span_context(&[TP], &["a=1", "b=2"]).expect("valid");
        assert!(sc.is_remote());
        assert!(sc.is_valid());
        assert_eq!(sc.trace_flags(), TraceFlags::SAMPLED);
        assert_eq!(format_tracestate(sc.trace_state()), "a=1,b=2");

        let sc = extract_span_context(&[TP], &["a=1,A=2"])
            .expect("tracestate does not affect traceparent");
        assert_eq!(sc.trace_state(), &TraceState::default());

        assert_eq!(extract_span_context(&[TP, TP], &["a=1"]), None);
        assert_eq!(extract_span_context(&[], &["a=1"]), None);
        assert_eq!(extract_span_context(&["00-bad"], &["a=1"]), None);
    }
}
