//! Which span is active.
//!
//! Browsers have no async context (the TC39 AsyncContext proposal has not shipped), and the
//! SDK does not use zone.js. The model, documented for users in the package README:
//!
//! 1. **Synchronous scopes** (a stack): `withSpan(span, fn)` makes `span` active while `fn`
//!    runs; so do the SDK's own callbacks (e.g. interaction handlers). Innermost wins.
//! 2. **Async scopes** (a list): when `fn` returns a promise, or an instrumented request is
//!    in flight, the span stays active *for code that has no synchronous scope* until the
//!    promise settles. The most recently opened unsettled scope wins. This carries context
//!    across `await` the way Sentry's idle spans do, at the cost that unrelated concurrent
//!    work started meanwhile is parented to it too (pass `root: true` or an explicit parent
//!    to opt out).
//!
//! The stack is generic over a handle `H` so the glue can keep the JS span object next to
//! its context and hand the same span back from `activeSpan()`.

use crate::model::SpanContext;
use crate::prelude::*;

/// Async scopes kept at most; the oldest is forgotten beyond this (counted), so promises
/// that never settle cannot grow memory without bound.
pub const MAX_ASYNC_SCOPES: usize = 64;

/// One active span: its context and the caller's handle to it (none for a remote parent).
#[derive(Clone, Debug)]
pub struct Active<H> {
    /// The span's context.
    pub context: SpanContext,
    /// The caller's handle (e.g. the JS span object), if there is one.
    pub handle: Option<H>,
}

/// Identifies an async scope for [`ContextStack::close_scope`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScopeId(u32);

impl ScopeId {
    /// The id as a number (to hand across an FFI boundary).
    pub fn index(self) -> u32 {
        self.0
    }
    /// Rebuilds an id from [`index`](Self::index).
    pub fn at(index: u32) -> Self {
        Self(index)
    }
}

/// A saved depth of the synchronous stack, for [`ContextStack::restore`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use = "restore the stack with this token when the scope ends"]
pub struct Depth(usize);

impl Depth {
    /// The depth as a number (to hand across an FFI boundary).
    pub fn index(self) -> usize {
        self.0
    }
    /// Rebuilds a depth from [`index`](Self::index).
    pub fn at(index: usize) -> Self {
        Self(index)
    }
}

/// The active-span state of one page.
#[derive(Debug)]
pub struct ContextStack<H> {
    sync: Vec<Option<Active<H>>>,
    scopes: Vec<(ScopeId, Active<H>)>,
    next_scope: u32,
    forgotten_scopes: u64,
}

impl<H> Default for ContextStack<H> {
    fn default() -> Self {
        Self {
            sync: Vec::new(),
            scopes: Vec::new(),
            next_scope: 0,
            forgotten_scopes: 0,
        }
    }
}

impl<H> ContextStack<H> {
    /// An empty stack: nothing active.
    pub fn new() -> Self {
        Self::default()
    }

    /// Enters a synchronous scope; `None` means "explicitly no active span" (a root
    /// context). Returns the depth to [`restore`](Self::restore) when the scope ends.
    pub fn enter(&mut self, active: Option<Active<H>>) -> Depth {
        let depth = Depth(self.sync.len());
        self.sync.push(active);
        depth
    }

    /// Leaves every synchronous scope entered since `depth` was returned. Tolerates
    /// unbalanced use (a callback that threw between enter and restore).
    pub fn restore(&mut self, depth: Depth) {
        self.sync.truncate(depth.0);
    }

    /// Opens an async scope that stays active until [`close_scope`](Self::close_scope).
    pub fn open_scope(&mut self, active: Active<H>) -> ScopeId {
        if self.scopes.len() >= MAX_ASYNC_SCOPES {
            self.scopes.remove(0);
            self.forgotten_scopes += 1;
        }
        let id = ScopeId(self.next_scope);
        self.next_scope = self.next_scope.wrapping_add(1);
        self.scopes.push((id, active));
        id
    }

    /// Closes an async scope (a no-op if it was already closed or forgotten).
    pub fn close_scope(&mut self, id: ScopeId) {
        if let Some(pos) = self.scopes.iter().rposition(|(sid, _)| *sid == id) {
            self.scopes.remove(pos);
        }
    }

    /// The active span: the innermost synchronous scope if there is one, else the most
    /// recently opened async scope, else none.
    pub fn active(&self) -> Option<&Active<H>> {
        match self.sync.last() {
            Some(entry) => entry.as_ref(),
            None => self.scopes.last().map(|(_, a)| a),
        }
    }

    /// The active span's context.
    pub fn active_context(&self) -> Option<&SpanContext> {
        self.active().map(|a| &a.context)
    }

    /// Async scopes forgotten because more than [`MAX_ASYNC_SCOPES`] were open.
    pub fn forgotten_scopes(&self) -> u64 {
        self.forgotten_scopes
    }

    /// Synchronous scope depth (for tests and debug output).
    pub fn depth(&self) -> usize {
        self.sync.len()
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::model::{SpanId, TraceFlags, TraceId, TraceState};

    fn active(span: u64) -> Active<&'static str> {
        Active {
            context: SpanContext::new(
                TraceId::from(9u128),
                SpanId::from(span),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            ),
            handle: Some("h"),
        }
    }

    fn active_id(s: &ContextStack<&'static str>) -> Option<u64> {
        s.active_context()
            .map(|c| u64::from_be_bytes(c.span_id().to_bytes()))
    }

    #[test]
    fn sync_scopes_nest_and_restore() {
        let mut s = ContextStack::new();
        assert_eq!(active_id(&s), None);
        let d1 = s.enter(Some(active(1)));
        let d2 = s.enter(Some(active(2)));
        assert_eq!(active_id(&s), Some(2));
        s.restore(d2);
        assert_eq!(active_id(&s), Some(1));
        s.restore(d1);
        assert_eq!(active_id(&s), None);
    }

    #[test]
    fn restore_tolerates_unbalanced_scopes() {
        let mut s = ContextStack::new();
        let d1 = s.enter(Some(active(1)));
        let _ = s.enter(Some(active(2)));
        let _ = s.enter(Some(active(3)));
        s.restore(d1);
        assert_eq!(s.depth(), 0);
    }

    #[test]
    fn explicit_none_hides_async_scopes() {
        let mut s = ContextStack::new();
        s.open_scope(active(5));
        assert_eq!(active_id(&s), Some(5));
        let d = s.enter(None);
        assert_eq!(active_id(&s), None);
        s.restore(d);
        assert_eq!(active_id(&s), Some(5));
    }

    #[test]
    fn sync_scope_wins_over_async_and_latest_async_wins() {
        let mut s = ContextStack::new();
        let a = s.open_scope(active(1));
        let b = s.open_scope(active(2));
        assert_eq!(active_id(&s), Some(2));
        let d = s.enter(Some(active(3)));
        assert_eq!(active_id(&s), Some(3));
        s.restore(d);
        s.close_scope(b);
        assert_eq!(active_id(&s), Some(1));
        s.close_scope(b); // twice is harmless
        s.close_scope(a);
        assert_eq!(active_id(&s), None);
    }

    #[test]
    fn async_scopes_are_bounded() {
        let mut s = ContextStack::new();
        let first = s.open_scope(active(1));
        for i in 0..MAX_ASYNC_SCOPES as u64 {
            s.open_scope(active(i + 2));
        }
        assert_eq!(s.forgotten_scopes(), 1);
        s.close_scope(first); // already forgotten: no effect
        assert_eq!(active_id(&s), Some(MAX_ASYNC_SCOPES as u64 + 1));
    }
}
