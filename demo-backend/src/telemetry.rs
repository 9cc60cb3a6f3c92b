//! The tracing pipeline, from the service crate (`edge-telemetry-axum`): `tracing` spans →
//! `tracing-opentelemetry` → an `opentelemetry_sdk` tracer provider with a batch processor →
//! `opentelemetry-otlp` (OTLP/HTTP protobuf) over ureq.

use crate::config::Config;
pub use edge_telemetry_axum::{HeaderMapCarrier, Telemetry, UreqClient};

/// The instrumentation scope of our spans.
pub const SCOPE: &str = "edge-telemetry-demo-backend";

/// The pipeline for `config`'s service name, endpoint and headers.
pub fn telemetry(config: &Config) -> Result<Telemetry, String> {
    let mut t = edge_telemetry_axum::TelemetryConfig::new(
        config.service_name.clone(),
        config.traces_endpoint.clone(),
    );
    t.headers = config.traces_headers.clone();
    t.scope = SCOPE;
    t.xray_daemon = config.xray_daemon;
    t.xray_annotations = vec!["http.route".to_owned()];
    Telemetry::new(&t)
}
