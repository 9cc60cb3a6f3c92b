//! # edge-telemetry (wasm glue)
//!
//! The JS boundary of edge-telemetry's engine module. All policy lives in
//! `edge-telemetry-core`; this crate converts JS values (handles into `wasm.js`'s table,
//! through `edge-telemetry-bindings`' `js` module: no wasm-bindgen), reads the browser clock
//! and CSPRNG, and keeps the page's SDK state. It exports low-level functions addressed by
//! span handles (`exports.rs`); the npm package's
//! `index.js` (in `pkg-template/`) wraps them into the public API (`init`, `startSpan`,
//! `Span`, `withSpan`, fetch/XHR instrumentation) and guarantees that nothing throws into
//! the page.
//!
//! ```js
//! import { init, startSpan, withSpan } from 'edge-telemetry';
//! init({ serviceName: 'shop-web', propagateTraceHeaderCorsUrls: [/^https:\/\/api\.shop\.example\//] });
//! const span = startSpan('checkout', { attributes: { 'cart.items': 3 } });
//! await withSpan(span, () => fetch('/api/checkout', { method: 'POST' })); // carries traceparent
//! span.end();
//! ```
//!
//! Modules: [`api`] (exported functions), [`convert`] (JsValue conversion), [`export`]
//! (the span export queue), [`errors`] (errors to Rollbar, the panic hook), [`platform`]
//! (clock, randomness, console), [`state`] (the page's SDK state).

#![cfg_attr(all(target_arch = "wasm32", not(feature = "std")), no_std)]

extern crate alloc;

pub mod api;
pub mod convert;
pub mod errors;
pub mod export;
#[cfg(target_arch = "wasm32")]
mod exports;
pub mod ops;
pub mod platform;
pub mod state;

pub use edge_telemetry_bindings::local;

/// A panic in the package's `no_std` build: reported as the panic hook does in a `std` build
/// ([`errors::on_panic`]: the panic's item and everything queued handed to `errors.js`),
/// then the module traps. The report is written without `core::fmt` (issue 14): the
/// location as `std` writes it, and the message when it is text without arguments (a
/// `panic!` or `unreachable!` of a literal, core's `unwrap` on `None`); a message formatted
/// with values (`index out of bounds: the len is 3 but the index is 5`, `Result::unwrap`'s
/// error, and `expect`'s text, which core passes as a value) is named by its location only.
/// The engine's own code has no `expect`. [`errors::panic_report`] builds it.
#[cfg(all(target_arch = "wasm32", not(feature = "std")))]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    let location = info.location().map(|l| (l.file(), l.line(), l.column()));
    errors::on_panic(&errors::panic_report(location, info.message().as_str()));
    core::arch::wasm32::unreachable()
}

/// The allocator: talc instead of the standard library's dlmalloc. 2.9 KB gzip smaller, with
/// the same cost per span (lol_alloc's free list was 0.5 KB smaller again but made a span
/// twice as slow); measured in ARCHITECTURE.md, "The wasm build". Without realloc in place:
/// 0.1 KB smaller, no measurable cost.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
