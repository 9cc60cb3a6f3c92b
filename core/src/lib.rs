//! # edge-telemetry-core
//!
//! The pure-Rust heart of edge-telemetry. Nothing in this crate knows about JavaScript,
//! wasm-bindgen or the browser: time, randomness and I/O come in through small traits
//! ([`time::Clock`], [`trace::ids::IdGenerator`]) so every policy here is a function of plain
//! values and is tested natively and, compiled for `wasm32`, under Node.
//!
//! The folders are the architecture:
//! - [`model`]: the trace vocabulary (ids, span context, `tracestate`, attribute values,
//!   status, links), named as in the `opentelemetry` API crate but without `std`; with the
//!   `otel` feature (on by default), conversions to and from the `opentelemetry` types.
//! - [`propagation`]: W3C Trace Context Level 2 (`traceparent`, `tracestate`) and W3C
//!   Baggage, parsed and formatted exactly per spec, plus (the `otel` feature)
//!   `W3cPropagator`, an `opentelemetry::propagation::TextMapPropagator` for native Rust
//!   services.
//! - [`trace`]: ids (W3C random, AWS X-Ray style), the span model (attributes with limits,
//!   events, links, status), the tracer, the open-span table, the active context, sampling.
//! - [`web`]: what the browser instrumentation decides: URL scrubbing, the HTTP client span
//!   policy (which URLs get trace headers, names, attributes, status), the page-load and
//!   interaction spans, the browser session.
//! - [`export`]: the batch queue, OTLP/HTTP JSON encoding, the export URL and headers
//!   (Honeycomb-style), and the retry policy (retryable statuses, `Retry-After`, backoff).
//! - [`errors`]: errors to Rollbar: stack parsing, the item encoder, the item limits.
//! - [`sdk`]: the engine that owns all of the above for one page: the state machine the
//!   wasm glue drives with plain values.
//! - [`config`], [`resource`], [`stats`], [`time`], [`json`]: options and their defaults,
//!   resource attributes, the counters, clocks, and the JSON writer the encoders share.
//!
//! ```
//! use edge_telemetry_core::propagation::{format_traceparent, parse_traceparent};
//!
//! let tp = parse_traceparent(&["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03"]).unwrap();
//! assert!(tp.flags.is_sampled());
//! assert_eq!(
//!     format_traceparent(tp.trace_id, tp.parent_id, tp.flags),
//!     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03"
//! );
//! ```
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

/// What the standard library's prelude gives, from `alloc`: this crate is `no_std` without
/// the `std` feature (the wasm modules build it that way), and so are `bindings/`, the glue
/// and the item encoder in the npm package, which import this too.
pub mod prelude {
    pub use alloc::borrow::ToOwned;
    pub use alloc::boxed::Box;
    pub use alloc::string::{String, ToString};
    pub use alloc::vec::Vec;
    pub use alloc::{format, vec};
}

pub mod boundary;
pub mod config;
pub mod errors;
pub mod export;
pub mod float;
pub mod json;
pub mod model;
pub mod propagation;
pub mod resource;
pub mod sdk;
pub mod stats;
pub mod text;
pub mod time;
pub mod trace;
pub mod web;
