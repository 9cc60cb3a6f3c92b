//! The tracing pipeline: `tracing` spans → `tracing-opentelemetry` → an `opentelemetry_sdk`
//! tracer provider with a batch processor → `opentelemetry-otlp` (OTLP/HTTP protobuf),
//! posted by [`UreqClient`] (ureq over rustls + ring, so no reqwest and no aws-lc-rs); and
//! `tracing` events → `opentelemetry-appender-tracing` → a logger provider → OTLP logs, each
//! record with the ids of the span it happened in.

use bytes::Bytes;
use edge_telemetry_core::export::exporter::logs_url;
use edge_telemetry_core::propagation::{RANDOM_FLAG, sampling_requested, trace_flags_to_send};
use edge_telemetry_core::trace::xray_rules::{RuleSet, SamplingRequest};
use opentelemetry::trace::{
    Link, Span as _, SpanContext, SpanId, SpanKind, TraceContextExt as _, TraceFlags, TraceId,
    TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_aws::trace::XrayIdGenerator;
use opentelemetry_aws::xray_exporter::{SegmentTranslator, XrayExporter};
use opentelemetry_http::{HttpClient, HttpError};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{BatchLogProcessor, SdkLoggerProvider};
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, Sampler, SamplingDecision, SamplingResult,
    SdkTracerProvider, ShouldSample, Span, SpanData, SpanProcessor,
};
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tracing_subscriber::layer::SubscriberExt as _;

/// What [`Telemetry::new`] needs.
#[derive(Clone, Debug)]
pub struct TelemetryConfig {
    /// `service.name`.
    pub service_name: String,
    /// The OTLP/HTTP traces URL (for example `http://127.0.0.1:4318/v1/traces`).
    pub traces_endpoint: String,
    /// The OTLP/HTTP logs URL: `tracing` events become log records with the current span's
    /// ids and go here. By default the traces URL with `/v1/logs` in place of `/v1/traces`
    /// (core's `logs_url`); `None` sends no logs.
    pub logs_endpoint: Option<String>,
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
    /// X-Ray sampling rules for new traces (for example [`crate::xray::local_rules`] of a
    /// rules file); `None`: every new trace is sampled (unless `xray_sampling_daemon` is set).
    pub xray_sampling_rules: Option<RuleSet>,
    /// Centralized X-Ray sampling: rules and quotas from this X-Ray daemon's sampling API
    /// (`http://host:port`, the daemon's TCP address; the local collector serves it), kept
    /// up to date by [`crate::xray::poll_sampling`]. Until the first answer, the X-Ray SDKs'
    /// default applies (one trace a second, then 5 %).
    pub xray_sampling_daemon: Option<String>,
    /// How often the sampling rules are fetched (default 5 minutes, as X-Ray's SDKs).
    pub xray_rules_interval: Duration,
    /// How often statistics are sent and quotas fetched (default 10 s).
    pub xray_targets_interval: Duration,
}

impl TelemetryConfig {
    /// The defaults for `service_name` exporting to `traces_endpoint`.
    pub fn new(service_name: impl Into<String>, traces_endpoint: impl Into<String>) -> Self {
        let traces_endpoint = traces_endpoint.into();
        Self {
            service_name: service_name.into(),
            logs_endpoint: logs_url(Some(&traces_endpoint), None, false),
            traces_endpoint,
            headers: Vec::new(),
            scope: "edge-telemetry-axum",
            max_queue_size: 1 << 16,
            max_export_batch_size: 1024,
            scheduled_delay: Duration::from_millis(200),
            xray_daemon: None,
            xray_annotations: Vec::new(),
            xray_sampling_rules: None,
            xray_sampling_daemon: None,
            xray_rules_interval: Duration::from_secs(300),
            xray_targets_interval: Duration::from_secs(10),
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

/// A tracer provider, a logger provider and the `tracing` dispatcher that feeds them. Nothing global is set:
/// install [`Telemetry::dispatch`] where the service runs (`tracing::dispatcher::set_default`
/// on its threads, or `set_global_default`).
#[derive(Debug, Clone)]
pub struct Telemetry {
    /// Flush with [`SdkTracerProvider::force_flush`]; shut it down (flushing) on stop.
    pub provider: SdkTracerProvider,
    /// With [`TelemetryConfig::logs_endpoint`]: the log records of `tracing` events. Shut it
    /// down (flushing) on stop, with the tracer provider.
    pub logs: Option<SdkLoggerProvider>,
    /// `tracing` registry + the OpenTelemetry layer (+ the log bridge).
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
            .with_headers(headers.clone())
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
        let sampler = match (&config.xray_sampling_rules, &config.xray_sampling_daemon) {
            (Some(rules), _) => EdgeSampler::xray_rules(rules.clone(), &config.service_name),
            (None, Some(_)) => {
                EdgeSampler::xray_rules(RuleSet::centralized(Vec::new()), &config.service_name)
            }
            (None, None) => EdgeSampler::new(Sampler::AlwaysOn),
        };
        if let (Some(daemon), Some(rules)) = (&config.xray_sampling_daemon, sampler.rules()) {
            crate::xray::poll_sampling(
                rules,
                daemon.clone(),
                config.xray_rules_interval,
                config.xray_targets_interval,
            );
        }
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
            .with_sampler(sampler.clone())
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
        let logs = match &config.logs_endpoint {
            Some(url) => Some(logger_provider(config, url, &headers)?),
            None => None,
        };
        // Events become log records with the ids of the span they happen in: the tracing
        // layer makes the span's OpenTelemetry context current while it is entered, and the
        // logger reads it.
        let bridge = logs.as_ref().map(OpenTelemetryTracingBridge::new);
        let dispatch =
            tracing::Dispatch::new(tracing_subscriber::registry().with(layer).with(bridge));
        Ok(Self {
            provider,
            logs,
            dispatch,
            xray: xray_counts,
        })
    }

    /// Flushes and stops the span and log pipelines (what is queued is exported first).
    pub fn shutdown(&self) -> Result<(), String> {
        let traces = self.provider.shutdown();
        let logs = self
            .logs
            .as_ref()
            .map_or(Ok(()), SdkLoggerProvider::shutdown);
        traces
            .and(logs)
            .map_err(|e| format!("telemetry shutdown: {e}"))
    }
}

/// The log pipeline: a batch log processor over OTLP/HTTP protobuf to `url`, with the same
/// resource and headers as spans.
fn logger_provider(
    config: &TelemetryConfig,
    url: &str,
    headers: &HashMap<String, String>,
) -> Result<SdkLoggerProvider, String> {
    let exporter = opentelemetry_otlp::LogExporter::builder()
        .with_http()
        .with_http_client(UreqClient::new())
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(url)
        .with_headers(headers.clone())
        .with_timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| format!("cannot build the OTLP log exporter: {e}"))?;
    let processor = BatchLogProcessor::builder(exporter)
        .with_batch_config(
            opentelemetry_sdk::logs::BatchConfigBuilder::default()
                .with_max_queue_size(config.max_queue_size)
                .with_max_export_batch_size(config.max_export_batch_size)
                .with_scheduled_delay(config.scheduled_delay)
                .build(),
        )
        .build();
    Ok(SdkLoggerProvider::builder()
        .with_log_processor(processor)
        .with_resource(
            Resource::builder()
                .with_service_name(config.service_name.clone())
                .build(),
        )
        .build())
}

/// Parent-based sampling that also follows AWS X-Ray's "you decide": a span under a remote
/// parent extracted from `X-Amzn-Trace-Id` with `Sampled=?` (or none; see
/// [`crate::SamplingRequested`]) is decided by the root sampler, as a new trace is, instead
/// of being dropped for its parent's unset sampled flag. Every other span with a parent
/// follows it. The root sampler is an OpenTelemetry [`Sampler`] ([`EdgeSampler::new`]) or
/// X-Ray sampling rules ([`EdgeSampler::xray_rules`]); its decision is the span's sampled
/// flag, so it travels in `traceparent` and in `X-Amzn-Trace-Id`'s `Sampled=` alike.
#[derive(Clone, Debug)]
pub struct EdgeSampler {
    root: Root,
}

#[derive(Clone, Debug)]
enum Root {
    Otel(Sampler),
    Rules {
        rules: Arc<Mutex<RuleSet>>,
        service_name: String,
    },
}

impl EdgeSampler {
    /// `root` decides new traces and traces whose caller asked us to.
    pub fn new(root: Sampler) -> Self {
        Self {
            root: Root::Otel(root),
        }
    }

    /// X-Ray sampling rules decide new traces (and those whose caller asked us to), matched
    /// against `service_name` and the span's `http.request.method`, `url.path` and
    /// `server.address`; the trace id's random bits stand in for the random number.
    pub fn xray_rules(rules: RuleSet, service_name: impl Into<String>) -> Self {
        Self {
            root: Root::Rules {
                rules: Arc::new(Mutex::new(rules)),
                service_name: service_name.into(),
            },
        }
    }

    /// The rules, for reporting statistics or applying targets (`None` for an OpenTelemetry
    /// root sampler).
    pub fn rules(&self) -> Option<Arc<Mutex<RuleSet>>> {
        match &self.root {
            Root::Rules { rules, .. } => Some(rules.clone()),
            Root::Otel(_) => None,
        }
    }
}

/// A span's attribute as a string.
fn attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<std::borrow::Cow<'a, str>> {
    attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.as_str())
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
        let parent = parent_context
            .map(|cx| cx.span().span_context().clone())
            .filter(SpanContext::is_valid);
        let asked = parent_context.is_some_and(sampling_requested)
            && parent.as_ref().is_some_and(SpanContext::is_remote);
        let trace_state = parent
            .as_ref()
            .map(|p| p.trace_state().clone())
            .unwrap_or_default();
        if let Some(parent) = parent.as_ref().filter(|_| !asked) {
            return SamplingResult {
                decision: if parent.is_sampled() {
                    SamplingDecision::RecordAndSample
                } else {
                    SamplingDecision::Drop
                },
                attributes: Vec::new(),
                trace_state,
            };
        }
        match &self.root {
            Root::Otel(root) => {
                let mut result =
                    root.should_sample(None, trace_id, name, span_kind, attributes, links);
                result.trace_state = trace_state;
                result
            }
            Root::Rules {
                rules,
                service_name,
            } => {
                let method = attribute(attributes, "http.request.method");
                let path = attribute(attributes, "url.path");
                let host = attribute(attributes, "server.address");
                let request = SamplingRequest {
                    service_name,
                    service_type: "",
                    host: host.as_deref().unwrap_or(""),
                    http_method: method.as_deref().unwrap_or(""),
                    url_path: path.as_deref().unwrap_or(""),
                };
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
                // The right-most 56 bits, which W3C Level 2 and X-Ray both make random.
                let low = u128::from_be_bytes(trace_id.to_bytes()) as u64 & ((1 << 56) - 1);
                let random = low as f64 / (1u64 << 56) as f64;
                let sampled = rules
                    .lock()
                    .map(|mut r| r.decide(&request, now, random).sampled)
                    .unwrap_or(false);
                SamplingResult {
                    decision: if sampled {
                        SamplingDecision::RecordAndSample
                    } else {
                        SamplingDecision::Drop
                    },
                    attributes: Vec::new(),
                    trace_state,
                }
            }
        }
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
