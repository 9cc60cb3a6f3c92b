//! # edge-telemetry-core
//!
//! The pure-Rust heart of edge-telemetry. Nothing in this crate knows about JavaScript,
//! wasm-bindgen or the browser: time, randomness and I/O come in through small traits
//! ([`time::Clock`], [`ids::IdGenerator`]) so every policy here is a function of plain
//! values and is tested natively and, compiled for `wasm32`, under Node.
//!
//! Concepts (vocabulary from the `opentelemetry` API crate):
//! - [`propagation`]: W3C Trace Context Level 2 (`traceparent`, `tracestate`) and W3C
//!   Baggage, parsed and formatted exactly per spec, plus [`propagation::W3cPropagator`],
//!   an `opentelemetry::propagation::TextMapPropagator` for native Rust services.
//! - [`ids`]: trace and span id generation (W3C random ids, AWS X-Ray style ids).
//! - [`span`]: the span model (attributes with limits, events, links, status).
//! - [`context`]: which span is active, and parent selection.
//! - [`tracer`]: starts spans with the right parent, ids and flags.
//! - [`url`] and [`http`]: URL scrubbing and the HTTP client span policy used by the
//!   fetch/XHR instrumentation (which URLs get trace headers, span names, attributes,
//!   status).
//! - [`otlp`]: finished spans encoded as OTLP/HTTP JSON request bodies (whole or in chunks
//!   of a maximum size), and the `partialSuccess` of the response.
//! - [`exporter`] and [`retry`]: the export URL and headers (Honeycomb-style), and the
//!   OTLP retry policy (retryable statuses, `Retry-After`, backoff, deadline).
//! - [`sampling`]: deterministic 1-in-N trace sampling by trace id (Honeycomb `SampleRate`).
//! - [`session`]: the `session.id` kept in `sessionStorage`, with an inactivity timeout.
//! - [`resource`]: resource attributes (service, deployment, SDK, browser).
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
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod batch;
pub mod config;
pub mod context;
pub mod exporter;
pub mod http;
pub mod ids;
pub mod item_limits;
pub mod json;
pub mod otlp;
pub mod page;
pub mod propagation;
pub mod resource;
pub mod retry;
pub mod rollbar;
pub mod sampling;
pub mod session;
pub mod span;
pub mod stack;
pub mod stats;
pub mod table;
pub mod time;
pub mod tracer;
pub mod url;
