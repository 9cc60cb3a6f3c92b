//! Open spans, addressed by small integer handles.
//!
//! The JS `Span` object holds only a `u32` handle; the span itself lives here until it
//! ends. Handles carry a generation, so a stale handle (a span already ended, its slot
//! reused) finds nothing instead of another span. The table is bounded: when a page starts
//! more than `max_open` spans without ending them, the oldest open span is evicted (and
//! counted by the caller), so forgotten spans cannot grow memory without bound.
//!
//! The contexts of the [`RECENTLY_ENDED`] spans that ended last are kept too, so a span can
//! still answer `spanContext()` after `end()` without the end call handing its context back
//! across the wasm boundary (a string per span was a third of the cost of a span).

use crate::prelude::*;
use alloc::collections::VecDeque;

use crate::model::SpanContext;

use crate::trace::span::SpanData;

/// Default bound on spans open at once.
pub const DEFAULT_MAX_OPEN_SPANS: usize = 4096;
/// Contexts of ended spans kept for [`SpanTable::context`].
pub const RECENTLY_ENDED: usize = 1024;

/// A span that has started and not ended.
#[derive(Clone, Debug)]
pub struct OpenSpan {
    /// Its context (also for non-recording spans, which still propagate).
    pub context: SpanContext,
    /// The recorded data; `None` for a non-recording span (boxed: see `StartedSpan::data`).
    pub data: Option<Box<SpanData>>,
}

/// A handle to an open span. `0` is never a valid handle.
pub type SpanHandle = u32;

#[derive(Debug)]
struct Slot {
    generation: u16,
    seq: u64,
    span: Option<OpenSpan>,
}

/// The open-span table.
#[derive(Debug)]
pub struct SpanTable {
    slots: Vec<Slot>,
    free: Vec<u16>,
    max_open: usize,
    open: usize,
    seq: u64,
    ended: VecDeque<(SpanHandle, SpanContext)>,
}

impl Default for SpanTable {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_OPEN_SPANS)
    }
}

impl SpanTable {
    /// A table holding at most `max_open` spans (clamped to 1..=65535).
    pub fn new(max_open: usize) -> Self {
        Self {
            slots: Vec::new(),
            free: Vec::new(),
            max_open: max_open.clamp(1, 65_535),
            open: 0,
            seq: 0,
            ended: VecDeque::new(),
        }
    }

    /// Stores `span`; returns its handle and the span evicted to make room, if any.
    pub fn insert(&mut self, span: OpenSpan) -> (SpanHandle, Option<OpenSpan>) {
        let evicted = if self.open >= self.max_open {
            self.evict_oldest()
        } else {
            None
        };
        let index = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    seq: 0,
                    span: None,
                });
                (self.slots.len() - 1) as u16
            }
        };
        self.seq += 1;
        let slot = &mut self.slots[index as usize];
        // Generation 0 is skipped so that no handle is ever 0.
        slot.generation = slot.generation.wrapping_add(1).max(1);
        slot.seq = self.seq;
        slot.span = Some(span);
        self.open += 1;
        (
            (u32::from(slot.generation) << 16) | u32::from(index),
            evicted,
        )
    }

    fn slot_index(&self, handle: SpanHandle) -> Option<usize> {
        let index = (handle & 0xFFFF) as usize;
        let generation = (handle >> 16) as u16;
        let slot = self.slots.get(index)?;
        (generation != 0 && slot.generation == generation && slot.span.is_some()).then_some(index)
    }

    /// The open span behind `handle`.
    pub fn get(&self, handle: SpanHandle) -> Option<&OpenSpan> {
        self.slot_index(handle)
            .and_then(|i| self.slots[i].span.as_ref())
    }

    /// The open span behind `handle`, mutably.
    pub fn get_mut(&mut self, handle: SpanHandle) -> Option<&mut OpenSpan> {
        self.slot_index(handle)
            .and_then(|i| self.slots[i].span.as_mut())
    }

    /// Removes and returns the span (when it ends); its context is kept among the
    /// recently ended.
    pub fn remove(&mut self, handle: SpanHandle) -> Option<OpenSpan> {
        let i = self.slot_index(handle)?;
        let span = self.take(i)?;
        if self.ended.len() >= RECENTLY_ENDED {
            self.ended.pop_front();
        }
        self.ended.push_back((handle, span.context.clone()));
        Some(span)
    }

    /// The context of an open span, or of one of the [`RECENTLY_ENDED`] spans that ended
    /// last.
    pub fn context(&self, handle: SpanHandle) -> Option<&SpanContext> {
        self.get(handle).map(|s| &s.context).or_else(|| {
            self.ended
                .iter()
                .rev()
                .find(|(h, _)| *h == handle)
                .map(|(_, c)| c)
        })
    }

    fn take(&mut self, i: usize) -> Option<OpenSpan> {
        let span = self.slots[i].span.take()?;
        self.free.push(i as u16);
        self.open -= 1;
        Some(span)
    }

    fn evict_oldest(&mut self) -> Option<OpenSpan> {
        let oldest = self
            .slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.span.is_some())
            .min_by_key(|(_, s)| s.seq)
            .map(|(i, _)| i)?;
        self.take(oldest)
    }

    /// Spans open now.
    pub fn len(&self) -> usize {
        self.open
    }

    /// Whether no span is open.
    pub fn is_empty(&self) -> bool {
        self.open == 0
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::model::{SpanId, TraceFlags, TraceId, TraceState};

    fn open(n: u64) -> OpenSpan {
        OpenSpan {
            context: SpanContext::new(
                TraceId::from(1u128),
                SpanId::from(n),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            ),
            data: None,
        }
    }

    fn id_of(s: &OpenSpan) -> u64 {
        u64::from_be_bytes(s.context.span_id().to_bytes())
    }

    #[test]
    fn handles_find_their_span_and_go_stale_after_removal() {
        let mut t = SpanTable::new(8);
        let (a, _) = t.insert(open(1));
        let (b, _) = t.insert(open(2));
        assert_ne!(a, 0);
        assert_eq!(t.get(a).map(id_of), Some(1));
        assert_eq!(t.remove(a).map(|s| id_of(&s)), Some(1));
        assert!(t.get(a).is_none());
        assert!(t.remove(a).is_none());
        let (c, _) = t.insert(open(3)); // reuses a's slot with a new generation
        assert_ne!(c, a);
        assert!(t.get(a).is_none());
        assert_eq!(t.get(c).map(id_of), Some(3));
        assert_eq!(t.get(b).map(id_of), Some(2));
        assert_eq!(t.len(), 2);
        assert!(t.get(0).is_none());
        assert!(t.get(u32::MAX).is_none());
    }

    #[test]
    fn ended_spans_keep_their_context_for_a_while() {
        let mut t = SpanTable::new(8);
        let (a, _) = t.insert(open(1));
        assert_eq!(t.context(a).map(|c| c.span_id()), Some(SpanId::from(1)));
        t.remove(a);
        let (b, _) = t.insert(open(2)); // a's slot, new generation
        assert_eq!(t.context(a).map(|c| c.span_id()), Some(SpanId::from(1)));
        assert_eq!(t.context(b).map(|c| c.span_id()), Some(SpanId::from(2)));
        t.remove(b);
        for n in 0..RECENTLY_ENDED as u64 {
            let (h, _) = t.insert(open(10 + n));
            t.remove(h);
        }
        assert!(
            t.context(a).is_none(),
            "forgotten after RECENTLY_ENDED more ends"
        );
        assert!(t.context(0).is_none());
    }

    #[test]
    fn full_table_evicts_the_oldest_open_span() {
        let mut t = SpanTable::new(2);
        let (a, _) = t.insert(open(1));
        let (b, _) = t.insert(open(2));
        let (c, evicted) = t.insert(open(3));
        assert_eq!(evicted.map(|s| id_of(&s)), Some(1));
        assert!(t.get(a).is_none());
        assert!(t.get(b).is_some() && t.get(c).is_some());
        assert_eq!(t.len(), 2);
    }
}
