//! Starting spans: parent selection, ids and trace flags.

use crate::model::{SpanContext, SpanKind, TraceFlags, TraceState};
use crate::prelude::*;

use crate::propagation::{RANDOM_FLAG, SAMPLED_FLAG};
use crate::trace::ids::IdGenerator;
use crate::trace::sampling::RatioSampler;
use crate::trace::span::{SpanData, SpanLimits};

/// Where a new span's parent comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum ParentChoice {
    /// The active span, if any (the default).
    Active,
    /// No parent: a new trace (`root: true`, `startRootSpan`, or `parent: null`).
    Root,
    /// This context (a span, a span context or a parsed `traceparent`).
    Explicit(SpanContext),
}

/// Picks the parent: an explicit parent, else the active span, else none. An invalid
/// explicit or active context gives a root.
pub fn select_parent(choice: &ParentChoice, active: Option<&SpanContext>) -> Option<SpanContext> {
    let parent = match choice {
        ParentChoice::Explicit(ctx) => Some(ctx),
        ParentChoice::Active => active,
        ParentChoice::Root => None,
    };
    parent.filter(|p| p.is_valid()).cloned()
}

/// A started span: always a context (propagated even when not recorded), plus the data
/// when the span is recorded.
#[derive(Debug)]
pub struct StartedSpan {
    /// The new span's context.
    pub context: SpanContext,
    /// The recording span, or `None` for a non-recording one (unsampled parent). Boxed:
    /// the span moves from the tracer to the table to the export queue, and a move of the
    /// box is a pointer where a move of the data was a 224-byte copy (40 % of a span's
    /// start and end natively, measured with perf).
    pub data: Option<Box<SpanData>>,
}

/// Starts spans. Sampling is parent-based: a root's trace is kept or not by the
/// [`RatioSampler`] (deterministic on the trace id); a child follows its parent's sampled
/// flag. A span that is not kept is not recorded but still gets its own span id, so trace
/// headers keep propagating (with the sampled flag off).
#[derive(Debug)]
pub struct Tracer<G> {
    ids: G,
    limits: SpanLimits,
    sampler: RatioSampler,
}

impl<G: IdGenerator> Tracer<G> {
    /// A tracer using `ids` for new ids and `limits` for every span; keeps every trace.
    pub fn new(ids: G, limits: SpanLimits) -> Self {
        Self {
            ids,
            limits,
            sampler: RatioSampler::new(1),
        }
    }

    /// Keeps 1 trace in `rate` (Honeycomb's `sampleRate`); with a rate above 1, recorded
    /// spans carry it as the `SampleRate` attribute.
    pub fn with_sample_rate(mut self, rate: u32) -> Self {
        self.sampler = RatioSampler::new(rate);
        self
    }

    /// The span limits.
    pub fn limits(&self) -> &SpanLimits {
        &self.limits
    }

    /// The id generator (for other random ids, such as a session's).
    pub fn ids_mut(&mut self) -> &mut G {
        &mut self.ids
    }

    /// Starts a span named `name` under `parent` (see [`select_parent`]) at `start_time`.
    pub fn start(
        &mut self,
        name: String,
        kind: SpanKind,
        parent: Option<&SpanContext>,
        start_time_unix_nano: u64,
    ) -> StartedSpan {
        let span_id = self.ids.new_span_id();
        let (trace_id, flags, trace_state) = match parent {
            Some(p) => (
                p.trace_id(),
                // Keep sampled and random (W3C Level 2: random describes the trace id, which
                // a child shares); clear bits we do not understand.
                TraceFlags::new(p.trace_flags().to_u8() & (SAMPLED_FLAG | RANDOM_FLAG)),
                p.trace_state().clone(),
            ),
            None => {
                let trace_id = self.ids.new_trace_id(start_time_unix_nano);
                let sampled = if self.sampler.should_sample(trace_id) {
                    SAMPLED_FLAG
                } else {
                    0
                };
                (
                    trace_id,
                    TraceFlags::new(sampled | RANDOM_FLAG),
                    TraceState::default(),
                )
            }
        };
        let context = SpanContext::new(trace_id, span_id, flags, false, trace_state);
        let data = flags.is_sampled().then(|| {
            let mut data = Box::new(SpanData::new(
                name,
                kind,
                context.clone(),
                parent,
                start_time_unix_nano,
            ));
            if self.sampler.rate() > 1 {
                data.set_attribute(self.sampler.attribute(), &self.limits);
            }
            data
        });
        StartedSpan { context, data }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::model::{SpanId, TraceId};
    use crate::trace::ids::RandomIdGenerator;

    fn remote(flags: u8) -> SpanContext {
        SpanContext::new(
            TraceId::from(0xabcu128),
            SpanId::from(0xdefu64),
            TraceFlags::new(flags),
            true,
            TraceState::from_members([("k".to_owned(), "v".to_owned())]),
        )
    }

    fn tracer() -> Tracer<RandomIdGenerator> {
        Tracer::new(RandomIdGenerator::new([4; 32]), SpanLimits::default())
    }

    #[test]
    fn root_spans_are_sampled_with_random_flag() {
        let s = tracer().start("r".into(), SpanKind::Internal, None, 1);
        assert_eq!(s.context.trace_flags().to_u8(), 0x03);
        assert!(s.context.is_valid());
        let data = s.data.unwrap();
        assert_eq!(data.parent_span_id, SpanId::INVALID);
        assert_eq!(data.start_time_unix_nano, 1);
    }

    #[test]
    fn children_continue_the_trace_and_keep_flags_and_tracestate() {
        let parent = remote(0x03 | 0x80);
        let s = tracer().start("c".into(), SpanKind::Client, Some(&parent), 1);
        assert_eq!(s.context.trace_id(), parent.trace_id());
        assert_ne!(s.context.span_id(), parent.span_id());
        assert_eq!(
            s.context.trace_flags().to_u8(),
            0x03,
            "random kept, unknown bit cleared"
        );
        assert_eq!(s.context.trace_state().get("k"), Some("v"));
        let data = s.data.unwrap();
        assert_eq!(data.parent_span_id, parent.span_id());
        assert!(data.parent_is_remote);
    }

    #[test]
    fn unsampled_parent_gives_a_non_recording_span_that_still_propagates() {
        let s = tracer().start("c".into(), SpanKind::Client, Some(&remote(0x02)), 1);
        assert!(s.data.is_none());
        assert!(s.context.is_valid());
        assert_eq!(s.context.trace_flags().to_u8(), 0x02);
    }

    #[test]
    fn sample_rate_keeps_one_in_n_roots_and_children_follow() {
        let mut t = tracer().with_sample_rate(4);
        let mut kept = 0;
        for _ in 0..4000 {
            let root = t.start("r".into(), SpanKind::Internal, None, 1);
            assert_eq!(
                root.context.trace_flags().to_u8() & 0x02,
                0x02,
                "random flag"
            );
            let child = t.start("c".into(), SpanKind::Client, Some(&root.context), 2);
            assert_eq!(
                child.data.is_some(),
                root.data.is_some(),
                "children follow the root"
            );
            assert_eq!(child.context.is_sampled(), root.context.is_sampled());
            assert!(child.context.is_valid(), "unsampled traces still propagate");
            if let Some(d) = root.data {
                kept += 1;
                assert!(
                    d.attributes.iter().any(|kv| kv.key.as_str() == "SampleRate"
                        && kv.value == crate::model::Value::I64(4))
                );
            }
        }
        assert!((850..1150).contains(&kept), "kept {kept} of 4000");
        let s = tracer().start("r".into(), SpanKind::Internal, None, 1);
        assert!(
            s.data.unwrap().attributes.is_empty(),
            "no SampleRate at rate 1"
        );
    }

    #[test]
    fn parent_selection() {
        let active = remote(1);
        let explicit = SpanContext::new(
            TraceId::from(5u128),
            SpanId::from(6u64),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        );
        assert_eq!(
            select_parent(&ParentChoice::Active, Some(&active)),
            Some(active.clone())
        );
        assert_eq!(select_parent(&ParentChoice::Active, None), None);
        assert_eq!(select_parent(&ParentChoice::Root, Some(&active)), None);
        assert_eq!(
            select_parent(&ParentChoice::Explicit(explicit.clone()), Some(&active)),
            Some(explicit)
        );
        let invalid = SpanContext::empty_context();
        assert_eq!(
            select_parent(&ParentChoice::Explicit(invalid), Some(&active)),
            None
        );
    }
}
