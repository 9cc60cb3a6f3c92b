//! Open spans, addressed by small integer handles.
//!
//! The JS `Span` object holds only a `u32` handle; the span itself lives here until it
//! ends. Handles carry a generation, so a stale handle (a span already ended, its slot
//! reused) finds nothing instead of another span. The table is bounded: when a page starts
//! more than `max_open` spans without ending them, the oldest open span is evicted (and
//! counted by the caller), so forgotten spans cannot grow memory without bound.
//!
//! A slot keeps its span's context after the span ends, and ended slots are reused oldest
//! first once more than [`RECENTLY_ENDED`] wait: the spans that ended last can still answer
//! `spanContext()` after `end()` without the end call handing the context back across the
//! wasm boundary (a string per span was a third of the cost of a span), and ending a span
//! moves nothing but its record's pointer.

use crate::prelude::*;
use alloc::collections::VecDeque;

use crate::model::SpanContext;

use crate::trace::span::SpanData;

/// Default bound on spans open at once.
pub const DEFAULT_MAX_OPEN_SPANS: usize = 4096;
/// Contexts of ended spans kept for [`SpanTable::context`].
pub const RECENTLY_ENDED: usize = 1024;
/// Slots a table holds at most (a handle's index is 16 bits).
const MAX_SLOTS: usize = 65_535;

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
    open: bool,
    seq: u64,
    span: OpenSpan,
}

/// The open-span table.
#[derive(Debug)]
pub struct SpanTable {
    slots: Vec<Slot>,
    /// Slots of ended spans, the longest ended first.
    free: VecDeque<u16>,
    max_open: usize,
    open: usize,
    seq: u64,
}

impl Default for SpanTable {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_OPEN_SPANS)
    }
}

impl SpanTable {
    /// A table holding at most `max_open` spans (clamped to 1..=65535 - [`RECENTLY_ENDED`]).
    pub fn new(max_open: usize) -> Self {
        // The slots a page cycles through (the open spans and the recently ended), allocated
        // at once: grown later, they would split the free memory that a large export body
        // needs (the module's memory grew by 1.1 MB in the bench's memory figure).
        Self {
            slots: Vec::with_capacity(RECENTLY_ENDED + 64),
            free: VecDeque::with_capacity(RECENTLY_ENDED + 64),
            max_open: max_open.clamp(1, MAX_SLOTS - RECENTLY_ENDED),
            open: 0,
            seq: 0,
        }
    }

    /// Stores `span`; returns its handle and whether the oldest open span was evicted to
    /// make room.
    pub fn insert(&mut self, span: OpenSpan) -> (SpanHandle, bool) {
        let evicted = self.open >= self.max_open && self.evict_oldest();
        self.seq += 1;
        let index = match self.free.len() > RECENTLY_ENDED {
            true => self.free.pop_front().unwrap_or_default() as usize,
            false => {
                self.slots.push(Slot {
                    generation: 0,
                    open: false,
                    seq: 0,
                    span,
                });
                let i = self.slots.len() - 1;
                return (self.opened(i), evicted);
            }
        };
        self.slots[index].span = span;
        (self.opened(index), evicted)
    }

    /// Marks slot `i` (its span just stored) open under a new generation; its handle.
    fn opened(&mut self, i: usize) -> SpanHandle {
        let slot = &mut self.slots[i];
        // Generation 0 is skipped so that no handle is ever 0.
        slot.generation = slot.generation.wrapping_add(1).max(1);
        slot.seq = self.seq;
        slot.open = true;
        self.open += 1;
        (u32::from(slot.generation) << 16) | i as u32
    }

    /// The slot behind `handle` (open or ended, not reused since).
    fn slot(&self, handle: SpanHandle) -> Option<&Slot> {
        let generation = (handle >> 16) as u16;
        let slot = self.slots.get((handle & 0xFFFF) as usize)?;
        (generation != 0 && slot.generation == generation).then_some(slot)
    }

    /// The open span behind `handle`.
    pub fn get(&self, handle: SpanHandle) -> Option<&OpenSpan> {
        self.slot(handle).filter(|s| s.open).map(|s| &s.span)
    }

    /// The open span behind `handle`, mutably.
    pub fn get_mut(&mut self, handle: SpanHandle) -> Option<&mut OpenSpan> {
        self.slot(handle)?;
        let slot = &mut self.slots[(handle & 0xFFFF) as usize];
        slot.open.then_some(&mut slot.span)
    }

    /// Ends the open span behind `handle`: `None` for a handle of no open span, else its
    /// recorded data (`None` inside for a non-recording span). Its context stays readable
    /// (see [`SpanTable::context`]).
    pub fn remove(&mut self, handle: SpanHandle) -> Option<Option<Box<SpanData>>> {
        self.get(handle)?;
        Some(self.close((handle & 0xFFFF) as usize))
    }

    fn close(&mut self, i: usize) -> Option<Box<SpanData>> {
        let slot = &mut self.slots[i];
        slot.open = false;
        self.free.push_back(i as u16);
        self.open -= 1;
        slot.span.data.take()
    }

    /// The context of an open span, or of one of the [`RECENTLY_ENDED`] spans that ended
    /// last.
    pub fn context(&self, handle: SpanHandle) -> Option<&SpanContext> {
        self.slot(handle).map(|s| &s.span.context)
    }

    fn evict_oldest(&mut self) -> bool {
        let oldest = self
            .slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.open)
            .min_by_key(|(_, s)| s.seq)
            .map(|(i, _)| i);
        oldest.map(|i| self.close(i)).is_some()
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
        assert!(matches!(t.remove(a), Some(None)));
        assert!(t.get(a).is_none());
        assert!(t.remove(a).is_none());
        let (c, _) = t.insert(open(3));
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
        let (b, _) = t.insert(open(2));
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
        assert!(evicted);
        assert!(t.get(a).is_none());
        assert_eq!(t.context(a).map(|c| c.span_id()), Some(SpanId::from(1)));
        assert!(t.get(b).is_some() && t.get(c).is_some());
        assert_eq!(t.len(), 2);
    }
}
