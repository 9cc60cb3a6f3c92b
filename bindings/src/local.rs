//! Globals of the single-threaded wasm module, without `thread_local!`.
//!
//! `thread_local!` costs each access a lazy-initialisation check and each `with` call site a
//! copy of that code (65 instantiations, 13 KB before `wasm-opt`; ARCHITECTURE.md, "The wasm
//! build"). The module runs on one thread (wasm32 without the `atomics` feature, checked
//! below), so a plain `static` holding a `Cell` or `RefCell` is enough.

/// A `static` for the module's one thread. Gives shared references only: the value inside
/// is a `Cell` or `RefCell`, whose borrow flag keeps re-entrant calls safe.
#[derive(Debug)]
pub struct Local<T>(T);

// SAFETY: the glue runs in a wasm module without threads (a build with `atomics` is refused
// below); on other targets it is compiled only for lints, never run.
unsafe impl<T> Sync for Local<T> {}

#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
compile_error!("the glue keeps its state in single-threaded statics (bindings/src/local.rs)");

impl<T> Local<T> {
    /// Wraps `value`.
    pub const fn new(value: T) -> Self {
        Self(value)
    }
}

impl<T> core::ops::Deref for Local<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}
