//! The propagators for native services (the `otel` feature): [`W3cPropagator`], an
//! `opentelemetry` `TextMapPropagator` over this module's parsers, and the ordered baggage
//! it keeps in an `opentelemetry::Context`.

use opentelemetry::Context;
use opentelemetry::baggage::BaggageExt;
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TraceContextExt;
use std::sync::OnceLock;

use super::*;
use crate::model::SpanContext;

/// Our ordered copy of the baggage, stored in the `Context` next to opentelemetry's
/// (unordered) one so that a header passed through comes out in the order it came in.
#[derive(Debug)]
struct OrderedBaggage(Baggage);

/// Returns a copy of `cx` carrying `baggage`, both as opentelemetry baggage
/// ([`BaggageExt::baggage`] sees it) and in order for [`baggage_from_context`] and
/// [`W3cPropagator`].
pub fn context_with_baggage(cx: &Context, baggage: Baggage) -> Context {
    cx.with_baggage(baggage.to_opentelemetry())
        .with_value(OrderedBaggage(baggage))
}

/// The baggage in `cx`, in order.
///
/// opentelemetry's baggage ([`BaggageExt::baggage`]) is the source of truth. When it still
/// holds exactly what [`context_with_baggage`] (or [`W3cPropagator`] extraction) stored, the
/// stored order is used; when it was changed since, for example with
/// [`BaggageExt::with_baggage`], its entries are returned sorted by key.
pub fn baggage_from_context(cx: &Context) -> Baggage {
    match ordered_baggage(cx) {
        Some(ordered) => ordered.clone(),
        None => Baggage::from_opentelemetry(cx.baggage()),
    }
}

/// The ordered copy in `cx`, if it still matches opentelemetry's baggage there.
fn ordered_baggage(cx: &Context) -> Option<&Baggage> {
    let OrderedBaggage(ordered) = cx.get::<OrderedBaggage>()?;
    let current = cx.baggage();
    let same = ordered.len() == current.len()
        && ordered.iter().all(|entry| {
            current
                .get_with_metadata(&entry.key)
                .is_some_and(|(value, metadata)| {
                    value.as_str() == entry.value && metadata.as_str() == entry.metadata
                })
        });
    same.then_some(ordered)
}
/// The three header names, for [`TextMapPropagator::fields`].
fn fields() -> &'static [String; 3] {
    static FIELDS: OnceLock<[String; 3]> = OnceLock::new();
    FIELDS.get_or_init(|| {
        [
            TRACEPARENT_HEADER.to_owned(),
            TRACESTATE_HEADER.to_owned(),
            BAGGAGE_HEADER.to_owned(),
        ]
    })
}
/// A [`TextMapPropagator`] for W3C Trace Context Level 2 and W3C Baggage.
///
/// Unlike opentelemetry's `TraceContextPropagator` (0.33), it reads every value of a
/// repeated header through [`Extractor::get_all`]: two `traceparent` headers are invalid
/// (no remote span context), several `tracestate` or `baggage` headers are combined in
/// order. It rejects fields of the wrong length and keeps the `random` flag.
///
/// - Extraction puts the remote span context into the context when `traceparent` is valid
///   (otherwise the context's span is left as it was), and replaces the context's baggage
///   when at least one `baggage` header is present (see [`context_with_baggage`]).
/// - Injection writes `traceparent` and, when not empty, `tracestate` for a valid span
///   context, and nothing for an invalid one. `baggage` is written, when not empty, whether
///   or not there is a span: W3C Baggage is independent of tracing.
#[derive(Debug, Default, Clone)]
pub struct W3cPropagator;

impl W3cPropagator {
    /// A new propagator (it holds no state).
    pub const fn new() -> Self {
        Self
    }
}

impl TextMapPropagator for W3cPropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        inject_trace_context(&SpanContext::from(cx.span().span_context()), |k, v| {
            injector.set(k, v)
        });
        inject_baggage(cx, injector);
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let traceparent = extractor.get_all(TRACEPARENT_HEADER).unwrap_or_default();
        let mut cx = match parse_traceparent(&traceparent) {
            Some(parent) => {
                let tracestate = extractor.get_all(TRACESTATE_HEADER).unwrap_or_default();
                cx.with_remote_span_context((&remote_span_context(parent, &tracestate)).into())
            }
            None => cx.clone(),
        };
        if let Some(values) = extractor.get_all(BAGGAGE_HEADER) {
            cx = context_with_baggage(&cx, parse_baggage(&values));
        }
        cx
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(fields())
    }
}

/// Writes `baggage` for the baggage in `cx`, when there is any.
fn inject_baggage(cx: &Context, injector: &mut dyn Injector) {
    if cx.baggage().is_empty() {
        return;
    }
    let baggage = match ordered_baggage(cx) {
        Some(ordered) => format_baggage(ordered),
        None => format_baggage(&Baggage::from_opentelemetry(cx.baggage())),
    };
    if !baggage.is_empty() {
        injector.set(BAGGAGE_HEADER, baggage);
    }
}

/// Marks a [`Context`] extracted from an `X-Amzn-Trace-Id` whose caller left the sampling
/// decision to this service (`Sampled=?` or no `Sampled`): a sampler should decide as for a
/// new trace instead of following the remote parent's (unset) sampled flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SamplingRequested;

/// Whether `cx` carries [`SamplingRequested`].
pub fn sampling_requested(cx: &Context) -> bool {
    cx.get::<SamplingRequested>().is_some()
}

/// The four header names [`TracePropagator`] reads, for [`TextMapPropagator::fields`].
fn composite_fields() -> &'static [String; 4] {
    static FIELDS: OnceLock<[String; 4]> = OnceLock::new();
    FIELDS.get_or_init(|| {
        [
            TRACEPARENT_HEADER.to_owned(),
            TRACESTATE_HEADER.to_owned(),
            BAGGAGE_HEADER.to_owned(),
            XRAY_HEADER_LOWER.to_owned(),
        ]
    })
}

/// Stored in a [`Context`] by [`TracePropagator`]'s extraction: the trace this service
/// continues, and whether its caller set the W3C `random` flag (an X-Ray header says nothing
/// about it: `false`). See [`trace_flags_to_send`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContinuedTrace {
    /// The caller's trace id.
    pub trace_id: opentelemetry::trace::TraceId,
    /// Whether the caller's trace id is random (its `random` flag).
    pub random: bool,
}

/// The trace flags to send for the span in `cx` (in `traceparent`, `Server-Timing`, and the
/// exported span), following W3C Trace Context Level 2's `random` flag:
///
/// - a remote span's flags as received;
/// - a local span in a trace continued from a caller (a [`ContinuedTrace`] for its trace id):
///   its flags, with `random` as the caller sent it;
/// - a local span in a trace started here: its flags with `random` set. This assumes the
///   tracer's trace ids are random in at least their right-most 7 bytes, as
///   `opentelemetry_sdk`'s default `RandomIdGenerator` and X-Ray's ids are.
///
/// `opentelemetry_sdk` (0.33) keeps a sampled remote parent's flags on its children but
/// starts new traces with only the `sampled` flag, and gives a span it does not sample no
/// flags at all, so a plain SDK span under a parent with flags `02` would go out with `00`.
pub fn trace_flags_to_send(cx: &Context) -> u8 {
    let span = cx.span();
    let sc = span.span_context();
    let flags = sc.trace_flags().to_u8();
    if !sc.is_valid() || sc.is_remote() {
        return flags;
    }
    let random = match cx.get::<ContinuedTrace>() {
        Some(c) if c.trace_id == sc.trace_id() => c.random,
        _ => true,
    };
    if random {
        flags | RANDOM_FLAG
    } else {
        flags & !RANDOM_FLAG
    }
}

/// `X-Amzn-Trace-Id` as carriers that lowercase their keys expect it.
const XRAY_HEADER_LOWER: &str = "x-amzn-trace-id";

/// W3C Trace Context and Baggage first, then AWS X-Ray's `X-Amzn-Trace-Id`: a composite
/// [`TextMapPropagator`] for services that receive requests from browsers and from AWS.
///
/// - Extraction runs [`W3cPropagator`]; when `traceparent` is not valid (absent, repeated,
///   malformed) and exactly one valid `X-Amzn-Trace-Id` with a `Parent` was received, its
///   span context becomes the remote parent (see [`extract_xray`]), marked with
///   [`SamplingRequested`] when the caller left the decision to us. Baggage comes from the
///   `baggage` header either way.
/// - Injection writes what [`W3cPropagator`] writes, with the flags of
///   [`trace_flags_to_send`] (the `random` flag kept or set as Level 2 asks), and, with
///   [`TracePropagator::with_xray`], `X-Amzn-Trace-Id` for the same span.
/// - Extraction also stores a [`ContinuedTrace`], which [`trace_flags_to_send`] reads.
#[derive(Clone, Copy, Debug, Default)]
pub struct TracePropagator {
    inject_xray: bool,
}

impl TracePropagator {
    /// Extracts W3C then X-Ray, injects W3C only.
    pub const fn new() -> Self {
        Self { inject_xray: false }
    }

    /// Also injects `X-Amzn-Trace-Id` (for calls to services traced by X-Ray).
    pub const fn with_xray(self, inject: bool) -> Self {
        Self {
            inject_xray: inject,
        }
    }
}

impl TextMapPropagator for TracePropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let sc = span.span_context();
        let ours = SpanContext::new(
            sc.trace_id().into(),
            sc.span_id().into(),
            crate::model::TraceFlags::new(trace_flags_to_send(cx)),
            sc.is_remote(),
            sc.trace_state().into(),
        );
        inject_trace_context(&ours, |k, v| injector.set(k, v));
        inject_baggage(cx, injector);
        if self.inject_xray && sc.is_valid() {
            injector.set(
                XRAY_HEADER_LOWER,
                format_xray(sc.trace_id().into(), sc.span_id().into(), sc.is_sampled()),
            );
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let w3c = W3cPropagator.extract_with_context(cx, extractor);
        let traceparent = extractor.get_all(TRACEPARENT_HEADER).unwrap_or_default();
        if let Some(parent) = parse_traceparent(&traceparent) {
            return w3c.with_value(ContinuedTrace {
                trace_id: parent.trace_id.into(),
                random: parent.flags.to_u8() & RANDOM_FLAG != 0,
            });
        }
        let values = extractor.get_all(XRAY_HEADER_LOWER).unwrap_or_default();
        match extract_xray(&values) {
            Some((remote, requested)) => {
                let cx =
                    w3c.with_remote_span_context((&remote).into())
                        .with_value(ContinuedTrace {
                            trace_id: remote.trace_id().into(),
                            random: false,
                        });
                if requested {
                    cx.with_value(SamplingRequested)
                } else {
                    cx
                }
            }
            None => w3c,
        }
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(composite_fields())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{SpanId, TraceFlags, TraceId, TraceState};
    use std::collections::HashMap;

    const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn fields_lists_the_three_headers() {
        let fields: Vec<&str> = W3cPropagator.fields().collect();
        assert_eq!(fields, ["traceparent", "tracestate", "baggage"]);
    }

    #[test]
    fn extract_reads_every_header_value() {
        let headers = HeaderList::new(&[
            ("TraceParent", TP),
            ("tracestate", "a=1"),
            ("baggage", "k=v"),
            ("Tracestate", "b=2"),
            ("BAGGAGE", "j=w"),
        ]);
        let cx = W3cPropagator.extract_with_context(&Context::new(), &headers);
        let span = cx.span();
        let sc = SpanContext::from(span.span_context());
        assert!(sc.is_remote());
        assert_eq!(
            sc.trace_id(),
            TraceId::from_bytes([
                0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e,
                0x47, 0x36
            ])
        );
        assert_eq!(
            sc.span_id(),
            SpanId::from_bytes([0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7])
        );
        assert_eq!(format_tracestate(sc.trace_state()), "a=1,b=2");
        assert_eq!(format_baggage(&baggage_from_context(&cx)), "k=v,j=w");
    }

    /// (headers, expected trace id of the remote parent (None: no remote parent), whether
    /// it came from X-Ray with the decision left to us).
    #[test]
    fn composite_extraction_vectors() {
        const XR: &str =
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
        const XR_ASK: &str = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8";
        const W3C_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
        const XR_TRACE: &str = "5759e988bd862e3fe1be46a994272793";
        type Case<'a> = (&'a [(&'a str, &'a str)], Option<(&'a str, bool)>);
        let cases: &[Case<'_>] = &[
            (
                &[("traceparent", TP), ("x-amzn-trace-id", XR)],
                Some((W3C_TRACE, false)),
            ),
            (
                &[("X-Amzn-Trace-Id", XR), ("traceparent", TP)],
                Some((W3C_TRACE, false)),
            ),
            (&[("X-Amzn-Trace-Id", XR)], Some((XR_TRACE, false))),
            (&[("x-amzn-trace-id", XR_ASK)], Some((XR_TRACE, true))),
            (
                &[("traceparent", "00-bad"), ("x-amzn-trace-id", XR)],
                Some((XR_TRACE, false)),
            ),
            (
                &[
                    ("traceparent", TP),
                    ("traceparent", TP),
                    ("x-amzn-trace-id", XR),
                ],
                Some((XR_TRACE, false)),
            ),
            (&[("x-amzn-trace-id", XR), ("x-amzn-trace-id", XR)], None),
            (
                &[(
                    "x-amzn-trace-id",
                    "Root=1-5759e988-bd862e3fe1be46a994272793",
                )],
                None,
            ),
            (&[], None),
        ];
        for (headers, expect) in cases {
            let mut list = HeaderList::new(headers);
            list.set("baggage", "k=v".to_owned());
            let cx = TracePropagator::new().extract(&list);
            let span = cx.span();
            let sc = span.span_context();
            match expect {
                None => assert!(!sc.is_valid(), "{headers:?}"),
                Some((trace, requested)) => {
                    assert_eq!(sc.trace_id().to_string(), *trace, "{headers:?}");
                    assert!(sc.is_remote());
                    assert_eq!(sampling_requested(&cx), *requested, "{headers:?}");
                }
            }
            assert_eq!(
                format_baggage(&baggage_from_context(&cx)),
                "k=v",
                "{headers:?}"
            );
        }
        let cx = TracePropagator::new().extract(&HeaderList::new(&[("x-amzn-trace-id", XR)]));
        let span = cx.span();
        assert_eq!(
            span.span_context().span_id().to_string(),
            "53995c3f42cd8ad8"
        );
        assert!(span.span_context().is_sampled());
    }

    /// The random flag (W3C Trace Context Level 2): (what the span is, flags it has, the
    /// extracted trace's random flag if continued, flags to send).
    #[test]
    fn random_flag_vectors() {
        use opentelemetry::trace::{SpanContext as OtSc, TraceFlags as OtFlags, TraceId as OtId};
        type Continued = Option<(OtId, bool)>;
        let trace = OtId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736);
        let other = OtId::from(7);
        let span = opentelemetry::trace::SpanId::from(9);
        let cx_of =
            |remote: bool, flags: u8, continued: Option<(opentelemetry::trace::TraceId, bool)>| {
                let sc = OtSc::new(trace, span, OtFlags::new(flags), remote, Default::default());
                let cx = Context::new().with_remote_span_context(sc);
                match continued {
                    Some((trace_id, random)) => cx.with_value(ContinuedTrace { trace_id, random }),
                    None => cx,
                }
            };
        let cases: &[(bool, u8, Continued, u8)] = &[
            // A remote span: as received.
            (true, 0x03, None, 0x03),
            (true, 0x02, None, 0x02),
            (true, 0x00, None, 0x00),
            // Ours, under a caller that set random: kept, sampled or not (the SDK gave the
            // unsampled span no flags).
            (false, 0x01, Some((trace, true)), 0x03),
            (false, 0x00, Some((trace, true)), 0x02),
            // Ours, under a caller that did not set it: not claimed.
            (false, 0x01, Some((trace, false)), 0x01),
            (false, 0x00, Some((trace, false)), 0x00),
            // Ours, in a trace started here (no continued trace, or another trace's).
            (false, 0x01, None, 0x03),
            (false, 0x00, None, 0x02),
            (false, 0x01, Some((other, false)), 0x03),
        ];
        for (remote, flags, continued, want) in cases {
            let cx = cx_of(*remote, *flags, *continued);
            assert_eq!(
                trace_flags_to_send(&cx),
                *want,
                "remote {remote}, flags {flags:02x}, continued {continued:?}"
            );
            let mut out = HashMap::new();
            TracePropagator::new().inject_context(&cx, &mut out);
            assert!(
                out["traceparent"].ends_with(&format!("-{want:02x}")),
                "{out:?}"
            );
        }
        assert_eq!(trace_flags_to_send(&Context::new()), 0, "no span");
    }

    #[test]
    fn extraction_records_the_continued_trace() {
        let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03";
        let cx = TracePropagator::new().extract(&HeaderList::new(&[("traceparent", tp)]));
        let c = cx.get::<ContinuedTrace>().expect("continued");
        assert!(c.random);
        assert_eq!(c.trace_id.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
        let cx = TracePropagator::new().extract(&HeaderList::new(&[("traceparent", TP)]));
        assert!(!cx.get::<ContinuedTrace>().expect("continued").random);
        let xr = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
        let cx = TracePropagator::new().extract(&HeaderList::new(&[("x-amzn-trace-id", xr)]));
        assert!(
            !cx.get::<ContinuedTrace>().expect("continued").random,
            "X-Ray says nothing"
        );
        let cx = TracePropagator::new().extract(&HeaderList::new(&[]));
        assert!(cx.get::<ContinuedTrace>().is_none());
    }

    #[test]
    fn composite_injection_adds_xray_only_when_asked() {
        let cx = W3cPropagator.extract(&HeaderList::new(&[("traceparent", TP)]));
        let mut plain = HashMap::new();
        TracePropagator::new().inject_context(&cx, &mut plain);
        assert_eq!(plain.keys().collect::<Vec<_>>(), vec!["traceparent"]);
        let mut both = HashMap::new();
        TracePropagator::new()
            .with_xray(true)
            .inject_context(&cx, &mut both);
        assert_eq!(
            both.get("x-amzn-trace-id").map(String::as_str),
            Some("Root=1-4bf92f35-77b34da6a3ce929d0e0e4736;Parent=00f067aa0ba902b7;Sampled=1")
        );
        assert_eq!(both.get("traceparent").map(String::as_str), Some(TP));
        let mut none = HashMap::new();
        TracePropagator::new()
            .with_xray(true)
            .inject_context(&Context::new(), &mut none);
        assert!(none.is_empty());
        let propagator = TracePropagator::new();
        let fields: Vec<&str> = propagator.fields().collect();
        assert_eq!(
            fields,
            ["traceparent", "tracestate", "baggage", "x-amzn-trace-id"]
        );
    }

    #[test]
    fn extract_failure_leaves_the_context_alone() {
        let headers = HeaderList::new(&[
            ("traceparent", TP),
            ("traceparent", TP),
            ("tracestate", "a=1"),
        ]);
        let cx = W3cPropagator.extract_with_context(&Context::new(), &headers);
        assert!(!cx.span().span_context().is_valid());
        assert!(!cx.has_active_span());
        assert!(cx.baggage().is_empty(), "no baggage header, no baggage set");
    }

    #[test]
    fn inject_writes_nothing_for_an_invalid_span_context() {
        let mut out = HashMap::new();
        W3cPropagator.inject_context(&Context::new(), &mut out);
        assert!(out.is_empty());

        let invalid = SpanContext::new(
            TraceId::INVALID,
            SpanId::from_bytes([1; 8]),
            TraceFlags::SAMPLED,
            true,
            TraceState::default(),
        );
        W3cPropagator.inject_context(
            &Context::new().with_remote_span_context((&invalid).into()),
            &mut out,
        );
        assert!(out.is_empty());
    }

    #[test]
    fn inject_writes_baggage_without_a_span() {
        let mut baggage = Baggage::new();
        baggage.set("k", "v 1");
        let cx = context_with_baggage(&Context::new(), baggage);
        let mut out = HashMap::new();
        W3cPropagator.inject_context(&cx, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out.get("baggage").map(String::as_str), Some("k=v%201"));
    }

    #[test]
    fn baggage_changed_through_opentelemetry_is_used() {
        let mut baggage = Baggage::new();
        baggage.set("z", "1");
        baggage.set("a", "2");
        let cx = context_with_baggage(&Context::new(), baggage.clone());
        assert_eq!(baggage_from_context(&cx), baggage, "order kept");

        let mut changed = cx.baggage().clone_for_test();
        changed.insert("m", "3");
        let cx = cx.with_baggage(changed);
        let mut out = HashMap::new();
        W3cPropagator.inject_context(&cx, &mut out);
        assert_eq!(
            out.get("baggage").map(String::as_str),
            Some("a=2,m=3,z=1"),
            "stale ordered copy ignored, sorted by key"
        );
    }

    /// `opentelemetry::baggage::Baggage` is not `Clone`; rebuild it.
    trait CloneForTest {
        fn clone_for_test(&self) -> opentelemetry::baggage::Baggage;
    }

    impl CloneForTest for opentelemetry::baggage::Baggage {
        fn clone_for_test(&self) -> opentelemetry::baggage::Baggage {
            Baggage::from_opentelemetry(self).to_opentelemetry()
        }
    }
}
