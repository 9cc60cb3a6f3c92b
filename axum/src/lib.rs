//! Continue edge-telemetry's browser traces in a Rust service.
//!
//! - [`TraceLayer`]: a `tower::Layer` for axum (or any `tower` HTTP service). For each
//!   request it extracts the caller's trace context (W3C `traceparent`/`tracestate`/`baggage`
//!   first, then AWS X-Ray's `X-Amzn-Trace-Id`: [`TracePropagator`]), opens a SERVER span
//!   with the HTTP semantic conventions (`http.request.method`, `http.route` from axum's
//!   `MatchedPath`, `url.path`, `url.query` with its values scrubbed, `server.address`,
//!   `http.response.status_code`, `error.type`, an error status for 5xx), and answers with
//!   `Server-Timing: traceparent;desc="00-…"` so the browser links its span to the server's.
//! - [`cors`]: the CORS settings that let a page on another origin send the trace headers
//!   and read `Server-Timing` (a `tower-http` `CorsLayer`).
//! - [`xray`]: the same spans as X-Ray segment documents, over UDP to the X-Ray daemon (or the
//!   local collector's daemon port), when [`TelemetryConfig::xray_daemon`] is set.
//! - [`Telemetry`]: the `tracing` → OpenTelemetry → OTLP/HTTP pipeline, with
//!   [`EdgeSampler`] (parent-based; follows X-Ray's `Sampled=?`) and
//!   [`RandomFlagProcessor`] (W3C Level 2's `random` flag set on the traces this service
//!   starts and kept on those it continues; `Server-Timing` and [`TracePropagator`]'s
//!   injection follow the same rule).
//!
//! ```no_run
//! use axum::{Router, routing::get};
//! use edge_telemetry_axum::{Telemetry, TelemetryConfig, TraceLayer, cors};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let telemetry = Telemetry::new(&TelemetryConfig::new(
//!     "checkout-api",
//!     "http://127.0.0.1:4318/v1/traces",
//! ))?;
//! let _guard = tracing::dispatcher::set_default(&telemetry.dispatch);
//! let app: Router = Router::new()
//!     .route("/api/cart", get(|| async { "ok" }))
//!     .layer(TraceLayer::new())
//!     .layer(cors(["https://shop.example"]));
//! # Ok(()) }
//! ```
//!
//! `examples/service.rs` is the same as a program (`cargo run -p edge-telemetry-axum
//! --example service`). Nothing here builds for wasm32: there the crate is empty.
#![cfg(not(target_arch = "wasm32"))]

mod carrier;
mod cors;
mod layer;
mod telemetry;
pub mod xray;

pub use carrier::HeaderMapCarrier;
pub use cors::{TRACE_HEADERS, cors};
pub use edge_telemetry_core::propagation::{SamplingRequested, TracePropagator};
pub use layer::{ErrorType, TraceLayer, TraceService, server_timing};
pub use telemetry::{EdgeSampler, RandomFlagProcessor, Telemetry, TelemetryConfig, UreqClient};
