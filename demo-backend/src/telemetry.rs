//! The tracing pipeline: `tracing` spans → `tracing-opentelemetry` → an `opentelemetry_sdk`
//! tracer provider with a batch processor → `opentelemetry-otlp` (OTLP/HTTP protobuf),
//! posted by [`UreqClient`] (ureq over rustls + ring, so no reqwest and no aws-lc-rs).

use crate::config::Config;
use bytes::Bytes;
use opentelemetry::propagation::Extractor;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_http::{HttpClient, HttpError};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider};
use std::collections::HashMap;
use std::time::Duration;
use tracing_subscriber::layer::SubscriberExt as _;

/// The instrumentation scope of our spans.
pub const SCOPE: &str = "edge-telemetry-demo-backend";

/// A tracer provider and the `tracing` dispatcher that feeds it.
#[derive(Debug, Clone)]
pub struct Telemetry {
    /// Flushed by [`SdkTracerProvider::force_flush`], shut down (flushing) on stop.
    pub provider: SdkTracerProvider,
    /// `tracing` registry + the OpenTelemetry layer, installed on the server's threads.
    pub dispatch: tracing::Dispatch,
}

impl Telemetry {
    /// Builds the exporter, provider and dispatcher for `config` (nothing global is set).
    pub fn new(config: &Config) -> Result<Self, String> {
        let headers: HashMap<String, String> = config.traces_headers.iter().cloned().collect();
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_http_client(UreqClient::new())
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(config.traces_endpoint.clone())
            .with_headers(headers)
            .with_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| format!("cannot build the OTLP exporter: {e}"))?;
        // A deep queue: the load benchmark checks that no span is dropped.
        let batch = BatchConfigBuilder::default()
            .with_max_queue_size(1 << 16)
            .with_max_export_batch_size(1024)
            .with_scheduled_delay(Duration::from_millis(200))
            .build();
        let provider = SdkTracerProvider::builder()
            .with_span_processor(
                BatchSpanProcessor::builder(exporter)
                    .with_batch_config(batch)
                    .build(),
            )
            .with_resource(
                Resource::builder()
                    .with_service_name(config.service_name.clone())
                    .build(),
            )
            .build();
        let tracer = provider.tracer(SCOPE);
        let layer = tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_tracked_inactivity(false)
            .with_threads(false);
        let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
        Ok(Self { provider, dispatch })
    }
}

/// [`opentelemetry_http::HttpClient`] over a blocking ureq agent. The batch span
/// processor calls it from its own thread, so blocking there is fine.
#[derive(Debug, Clone)]
pub struct UreqClient {
    agent: ureq::Agent,
}

impl UreqClient {
    /// An agent that hands back every status (the exporter reads it) and gives up after 10 s.
    pub fn new() -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .new_agent();
        Self { agent }
    }
}

impl Default for UreqClient {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait::async_trait]
impl HttpClient for UreqClient {
    async fn send_bytes(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, HttpError> {
        let mut response = self.agent.run(request.map(|body| body.to_vec()))?;
        let status = response.status();
        let body = response
            .body_mut()
            .with_config()
            .limit(4 * 1024 * 1024)
            .read_to_vec()?;
        Ok(http::Response::builder()
            .status(status)
            .body(Bytes::from(body))?)
    }
}

/// An [`Extractor`] over an `http::HeaderMap` that returns *every* value of a header from
/// [`Extractor::get_all`], in order, which is what
/// [`edge_telemetry_core::propagation::W3cPropagator`] needs to see two `traceparent`
/// headers (invalid) or a `tracestate` split over several lines (combined). A value that is
/// not visible ASCII is passed on as an empty string, so it still counts (and is invalid)
/// rather than silently disappearing.
#[derive(Debug, Clone, Copy)]
pub struct HeaderMapCarrier<'a>(pub &'a http::HeaderMap);

impl Extractor for HeaderMapCarrier<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|v| v.to_str().unwrap_or(""))
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }

    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        let all: Vec<&str> = self
            .0
            .get_all(key)
            .iter()
            .map(|v| v.to_str().unwrap_or(""))
            .collect();
        (!all.is_empty()).then_some(all)
    }
}
