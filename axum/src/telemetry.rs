//! The tracing pipeline: `tracing` spans → `tracing-opentelemetry` → an `opentelemetry_sdk`
//! tracer provider with a batch processor → `opentelemetry-otlp` (OTLP/HTTP protobuf),
//! posted by [`UreqClient`] (ureq over rustls + ring, so no reqwest and no aws-lc-rs).

use bytes::Bytes;
use edge_telemetry_core::propagation::{RANDOM_FLAG, sampling_requested, trace_flags_to_send};
use opentelemetry::trace::{
    Link, Span as _, SpanContext, SpanId, SpanKind, TraceContextExt as _, TraceFlags, TraceId,
    TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_aws::trace::XrayIdGenerator;
use opentelemetry_aws::xray_exporter::{SegmentTranslator, XrayExporter};
use opentelemetry_http::{HttpClient, HttpError};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, Sampler, SamplingResult, SdkTracerProvider,
    ShouldSample, Span, SpanData, SpanProcessor,
};
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;
use tracing_subscriber::layer::SubscriberExt as _;

/// What [`Telemetry::new`] needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TelemetryConfig {
    /// `service.name`.
    pub service_name: String,
    /// The OTLP/HTTP traces URL (for example `http://127.0.0.1:4318/v1/traces`).
    pub traces_endpoint: String,
    /// Headers sent with each export (for example Honeycomb's `x-honeycomb-team`).
    pub headers: Vec<(String, String)>,
    /// The instrumentation scope of the spans.
    pub scope: &'static str,
    /// Spans waiting for export before new ones are dropped (default 65,536).
    pub max_queue_size: usize,
    /// Spans per export (default 1,024).
    pub max_export_batch_size: usize,
    /// Longest wait before a batch is exported (default 200 ms).
    pub scheduled_delay: Duration,
    /// Also send every span as an X-Ray segment document to this X-Ray daemon (UDP; see
    /// [`crate::xray`]), and make trace ids X-Ray's (epoch seconds first). `None` by default;
    /// [`TelemetryConfig::with_xray_from_env`] reads `AWS_XRAY_DAEMON_ADDRESS`.
    pub xray_daemon: Option<SocketAddr>,
    /// Attributes that become X-Ray annotations (indexed, usable in filter expressions);
    /// every attribute is in the segment's metadata.
    pub xray_annotations: Vec<String>,
}

impl TelemetryConfig {
    /// The defaults for `service_name` exporting to `traces_endpoint`.
    pub fn new(service_name: impl Into<String>, traces_endpoint: impl Into<String>) -> Self {
        Self {
            service_name: service_name.into(),
            traces_endpoint: traces_endpoint.into(),
            headers: Vec::new(),
            scope: "edge-telemetry-axum",
            max_queue_size: 1 << 16,
            max_export_batch_size: 1024,
            scheduled_delay: Duration::from_millis(200),
            xray_daemon: None,
            xray_annotations: Vec::new(),
        }
    }

    /// Sends segments to `AWS_XRAY_DAEMON_ADDRESS` (`host:port`, or `tcp:… udp:host:port`)
    /// when it is set; an unreadable value is an error.
    pub fn with_xray_from_env(mut self) -> Result<Self, String> {
        if let Ok(value) = std::env::var("AWS_XRAY_DAEMON_ADDRESS") {
            self.xray_daemon =
                Some(crate::xray::daemon_address(&value).ok_or_else(|| {
                    format!("AWS_XRAY_DAEMON_ADDRESS {value:?} is not host:port")
                })?);
        }
        Ok(self)
    }
}

/// A tracer provider and the `tracing` dispatcher that feeds it. Nothing global is set:
/// install [`Telemetry::dispatch`] where the service runs (`tracing::dispatcher::set_default`
/// on its threads, or `set_global_default`).
#[derive(Debug, Clone)]
pub struct Telemetry {
    /// Flush with [`SdkTracerProvider::force_flush`]; shut it down (flushing) on stop.
    pub provider: SdkTracerProvider,
    /// `tracing` registry + the OpenTelemetry layer.
    pub dispatch: tracing::Dispatch,
    /// With [`TelemetryConfig::xray_daemon`]: what the X-Ray daemon client sent, shrank and
    /// dropped.
    pub xray: Option<std::sync::Arc<crate::xray::DaemonCounts>>,
}

impl Telemetry {
    /// Builds the exporter, provider ([`EdgeSampler`] over `AlwaysOn`, spans exported
    /// through [`RandomFlagProcessor`]) and dispatcher.
    pub fn new(config: &TelemetryConfig) -> Result<Self, String> {
        let headers: HashMap<String, String> = config.headers.iter().cloned().collect();
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_http_client(UreqClient::new())
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(config.traces_endpoint.clone())
            .with_headers(headers)
            .with_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| format!("cannot build the OTLP exporter: {e}"))?;
        let batch = || {
            BatchConfigBuilder::default()
                .with_max_queue_size(config.max_queue_size)
                .with_max_export_batch_size(config.max_export_batch_size)
                .with_scheduled_delay(config.scheduled_delay)
                .build()
        };
        let mut builder =
            SdkTracerProvider::builder().with_span_processor(RandomFlagProcessor::new(
                BatchSpanProcessor::builder(exporter)
                    .with_batch_config(batch())
                    .build(),
            ));
        let mut xray_counts = None;
        if let Some(addr) = config.xray_daemon {
            let client = crate::xray::XrayDaemonClient::new(addr)
                .map_err(|e| format!("cannot open a UDP socket for the X-Ray daemon: {e}"))?;
            xray_counts = Some(client.counts());
            let translator = SegmentTranslator::new()
                .metadata_all_attrs()
                .with_indexed_attrs(config.xray_annotations.iter().cloned());
            let xray = XrayExporter::new(client).with_translator(translator);
            builder = builder
                .with_span_processor(
                    BatchSpanProcessor::builder(xray)
                        .with_batch_config(batch())
                        .build(),
                )
                .with_id_generator(XrayIdGenerator::default());
        }
        let provider = builder
            .with_sampler(EdgeSampler::new(Sampler::AlwaysOn))
            .with_resource(
                Resource::builder()
                    .with_service_name(config.service_name.clone())
                    .build(),
            )
            .build();
        let tracer = provider.tracer(config.scope);
        let layer = tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_tracked_inactivity(false)
            .with_threads(false);
        let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
        Ok(Self {
            provider,
            dispatch,
            xray: xray_counts,
        })
    }
}

/// Parent-based sampling that also follows AWS X-Ray's "you decide": a span under a remote
/// parent extracted from `X-Amzn-Trace-Id` with `Sampled=?` (or none; see
/// [`crate::SamplingRequested`]) is decided by `root`, as a new trace is, instead of being
/// dropped for its parent's unset sampled flag. Every other span follows its parent, and
/// spans without a parent are decided by `root`.
#[derive(Clone, Debug)]
pub struct EdgeSampler {
    root: Sampler,
    parent_based: Sampler,
}

impl EdgeSampler {
    /// `root` decides new traces and traces whose caller asked us to.
    pub fn new(root: Sampler) -> Self {
        Self {
            parent_based: Sampler::ParentBased(Box::new(root.clone())),
            root,
        }
    }
}

impl ShouldSample for EdgeSampler {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        trace_id: TraceId,
        name: &str,
        span_kind: &SpanKind,
        attributes: &[KeyValue],
        links: &[Link],
    ) -> SamplingResult {
        let asked = parent_context
            .is_some_and(|cx| sampling_requested(cx) && cx.span().span_context().is_remote());
        let sampler = if asked {
            &self.root
        } else {
            &self.parent_based
        };
        sampler.should_sample(parent_context, trace_id, name, span_kind, attributes, links)
    }
}

/// A [`SpanProcessor`] in front of another that exports each span with the W3C `random`
/// flag it should carry ([`trace_flags_to_send`]): set on traces started here, kept as the
/// caller sent it on traces continued from one. `opentelemetry_sdk` starts new traces with
/// only the `sampled` flag, so without it a service's own traces would claim non-random ids.
#[derive(Debug)]
pub struct RandomFlagProcessor<P> {
    inner: P,
    /// Spans started and not yet ended whose flags lack the `random` flag they should have.
    pending: Mutex<HashSet<(TraceId, SpanId)>>,
}

impl<P> RandomFlagProcessor<P> {
    /// Exports through `inner`.
    pub fn new(inner: P) -> Self {
        Self {
            inner,
            pending: Mutex::new(HashSet::new()),
        }
    }
}

impl<P: SpanProcessor> SpanProcessor for RandomFlagProcessor<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        let sc = span.span_context().clone();
        // The flags the span should carry: those of a span in `cx`'s place with its flags.
        let own = cx.with_remote_span_context(SpanContext::new(
            sc.trace_id(),
            sc.span_id(),
            sc.trace_flags(),
            false,
            sc.trace_state().clone(),
        ));
        let want = trace_flags_to_send(&own);
        if want & RANDOM_FLAG != 0 && sc.trace_flags().to_u8() & RANDOM_FLAG == 0 {
            if let Ok(mut pending) = self.pending.lock() {
                pending.insert((sc.trace_id(), sc.span_id()));
            }
        }
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, mut span: SpanData) {
        let sc = &span.span_context;
        let key = (sc.trace_id(), sc.span_id());
        let fix = self.pending.lock().is_ok_and(|mut p| p.remove(&key));
        if fix {
            span.span_context = SpanContext::new(
                sc.trace_id(),
                sc.span_id(),
                TraceFlags::new(sc.trace_flags().to_u8() | RANDOM_FLAG),
                sc.is_remote(),
                sc.trace_state().clone(),
            );
        }
        self.inner.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
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

#[cfg(test)]
mod tests {
    use super::*;
    use edge_telemetry_core::propagation::{HeaderList, TracePropagator};
    use opentelemetry::propagation::TextMapPropagator as _;
    use opentelemetry_sdk::trace::SamplingDecision;

    fn decide(sampler: &EdgeSampler, header: &str) -> SamplingDecision {
        let cx = TracePropagator::new().extract(&HeaderList::new(&[("x-amzn-trace-id", header)]));
        let trace_id = cx.span().span_context().trace_id();
        sampler
            .should_sample(Some(&cx), trace_id, "GET /", &SpanKind::Server, &[], &[])
            .decision
    }

    #[test]
    fn xray_requested_decisions_go_to_the_root_sampler() {
        const ROOT: &str = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8";
        let on = EdgeSampler::new(Sampler::AlwaysOn);
        let off = EdgeSampler::new(Sampler::AlwaysOff);
        let sampled = format!("{ROOT};Sampled=1");
        let not = format!("{ROOT};Sampled=0");
        let asked = format!("{ROOT};Sampled=?");
        assert_eq!(decide(&on, &sampled), SamplingDecision::RecordAndSample);
        assert_eq!(
            decide(&off, &sampled),
            SamplingDecision::RecordAndSample,
            "parent"
        );
        assert_eq!(decide(&on, &not), SamplingDecision::Drop, "parent");
        assert_eq!(
            decide(&on, &asked),
            SamplingDecision::RecordAndSample,
            "root"
        );
        assert_eq!(decide(&off, &asked), SamplingDecision::Drop, "root");
        assert_eq!(
            decide(&on, ROOT),
            SamplingDecision::RecordAndSample,
            "no Sampled"
        );
        let none = on.should_sample(None, TraceId::from(7), "x", &SpanKind::Server, &[], &[]);
        assert_eq!(none.decision, SamplingDecision::RecordAndSample);
    }
}
