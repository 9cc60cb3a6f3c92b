//! A tiny Rust "backend" that continues a browser trace, for end-to-end tests.
//!
//! ```text
//! cargo run -p edge-telemetry-collector --example continue_trace -- \
//!     --endpoint http://127.0.0.1:4318 \
//!     --traceparent 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 \
//!     [--tracestate vendor=value] [--service demo-rust]
//! ```
//!
//! `--endpoint` is the collector's base URL (a URL ending in `/v1/traces` is accepted too).
//! It extracts the remote context from `--traceparent` (and `--tracestate`) with
//! `edge_telemetry_core::propagation::W3cPropagator`, records a SERVER span `GET /api/items`
//! as its child and a CLIENT span `SELECT items` (SQLite query) under that, exports both with
//! opentelemetry-otlp over HTTP/protobuf to `<endpoint>/v1/traces`, flushes, and prints one
//! JSON line: `{"traceId":"…","serverSpanId":"…","dbSpanId":"…"}`.
//!
//! Exit status: 0 on success, 2 for bad arguments (or a traceparent that is invalid or not
//! sampled), 1 when the export fails.

fn main() {
    #[cfg(not(target_arch = "wasm32"))]
    real::main();
}

#[cfg(not(target_arch = "wasm32"))]
mod real {
    use edge_telemetry_core::propagation::{HeaderList, W3cPropagator};
    use opentelemetry::KeyValue;
    use opentelemetry::propagation::TextMapPropagator;
    use opentelemetry::trace::{Span, SpanKind, TraceContextExt, Tracer, TracerProvider};
    use opentelemetry_otlp::{Protocol, WithExportConfig};
    use opentelemetry_sdk::Resource;
    use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
    use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
    use std::process::exit;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    const USAGE: &str = "usage: continue_trace --endpoint http://127.0.0.1:PORT \
--traceparent 00-<32 hex trace id>-<16 hex span id>-01 [--tracestate LIST] [--service NAME] [--timeout-ms MS]";

    /// Command line options.
    #[derive(Debug)]
    struct Args {
        endpoint: String,
        traceparent: String,
        tracestate: Option<String>,
        service: String,
        timeout: Duration,
    }

    fn usage_error(message: &str) -> ! {
        eprintln!("continue_trace: {message}\n{USAGE}");
        exit(2)
    }

    fn parse_args() -> Args {
        let mut endpoint = None;
        let mut traceparent = None;
        let mut tracestate = None;
        let mut service = None;
        let mut timeout_ms: u64 = 10_000;
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            if arg == "-h" || arg == "--help" {
                println!("{USAGE}");
                exit(0);
            }
            let (name, inline) = match arg.split_once('=') {
                Some((n, v)) if n.starts_with("--") => (n.to_owned(), Some(v.to_owned())),
                _ => (arg.clone(), None),
            };
            let slot = match name.as_str() {
                "--endpoint" => &mut endpoint,
                "--traceparent" => &mut traceparent,
                "--tracestate" => &mut tracestate,
                "--service" => &mut service,
                "--timeout-ms" => {
                    let value = inline
                        .or_else(|| args.next())
                        .unwrap_or_else(|| usage_error("--timeout-ms needs a value"));
                    timeout_ms = value.parse().unwrap_or_else(|_| {
                        usage_error(&format!("--timeout-ms: not a number: {value:?}"))
                    });
                    continue;
                }
                _ => usage_error(&format!("unknown argument {arg:?}")),
            };
            let value = inline
                .or_else(|| args.next())
                .unwrap_or_else(|| usage_error(&format!("{name} needs a value")));
            *slot = Some(value);
        }
        let endpoint = endpoint.unwrap_or_else(|| usage_error("--endpoint is required"));
        // A base URL; a full traces URL is accepted too.
        let endpoint = endpoint.trim_end_matches('/');
        let endpoint = endpoint
            .strip_suffix("/v1/traces")
            .unwrap_or(endpoint)
            .to_owned();
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            usage_error(&format!(
                "--endpoint must be an http(s) base URL such as http://127.0.0.1:4318, got {endpoint:?}"
            ));
        }
        let service = service.unwrap_or_else(|| "demo-rust".to_owned());
        if service.is_empty() {
            usage_error("--service must not be empty");
        }
        Args {
            endpoint,
            traceparent: traceparent.unwrap_or_else(|| usage_error("--traceparent is required")),
            tracestate,
            service,
            timeout: Duration::from_millis(timeout_ms),
        }
    }

    /// Passes every batch on to the OTLP exporter and remembers what happened, so that a
    /// failed export turns into a non-zero exit status instead of a log line.
    #[derive(Debug)]
    struct Checked<E> {
        inner: E,
        exported: Arc<AtomicUsize>,
        errors: Arc<Mutex<Vec<String>>>,
    }

    impl<E: SpanExporter> SpanExporter for Checked<E> {
        async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
            let n = batch.len();
            let result = self.inner.export(batch).await;
            match &result {
                Ok(()) => {
                    self.exported.fetch_add(n, Ordering::SeqCst);
                }
                Err(e) => self
                    .errors
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(e.to_string()),
            }
            result
        }

        fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
            self.inner.shutdown_with_timeout(timeout)
        }

        fn force_flush(&self) -> OTelSdkResult {
            self.inner.force_flush()
        }

        fn set_resource(&mut self, resource: &Resource) {
            self.inner.set_resource(resource);
        }
    }

    fn fail(message: &str) -> ! {
        eprintln!("continue_trace: {message}");
        exit(1)
    }

    pub fn main() {
        let args = parse_args();

        // The remote parent, exactly as a server would read it from the request headers.
        let mut pairs = vec![("traceparent", args.traceparent.as_str())];
        if let Some(state) = &args.tracestate {
            pairs.push(("tracestate", state.as_str()));
        }
        let remote = W3cPropagator.extract(&HeaderList::new(&pairs));
        let parent = remote.span().span_context().clone();
        if !parent.is_valid() {
            usage_error(&format!(
                "invalid --traceparent {:?} (expected 00-<32 hex>-<16 hex>-<2 hex>, ids not all zero)",
                args.traceparent
            ));
        }
        if !parent.is_sampled() {
            usage_error(&format!(
                "--traceparent {:?} is not sampled (flags without 01): the spans would not be \
                 exported; pass a sampled traceparent",
                args.traceparent
            ));
        }

        let otlp = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(format!("{}/v1/traces", args.endpoint))
            .with_timeout(args.timeout)
            .build()
            .unwrap_or_else(|e| fail(&format!("cannot build the OTLP exporter: {e}")));
        let exported = Arc::new(AtomicUsize::new(0));
        let errors = Arc::new(Mutex::new(Vec::new()));
        let exporter = Checked {
            inner: otlp,
            exported: Arc::clone(&exported),
            errors: Arc::clone(&errors),
        };
        let provider = SdkTracerProvider::builder()
            .with_resource(
                Resource::builder()
                    .with_service_name(args.service.clone())
                    .build(),
            )
            .with_batch_exporter(exporter)
            .build();
        let tracer = provider.tracer("continue_trace");

        let mut server = tracer
            .span_builder("GET /api/items")
            .with_kind(SpanKind::Server)
            .with_attributes([
                KeyValue::new("http.request.method", "GET"),
                KeyValue::new("http.route", "/api/items"),
                KeyValue::new("url.path", "/api/items"),
                KeyValue::new("http.response.status_code", 200_i64),
            ])
            .start_with_context(&tracer, &remote);
        let server_span_id = server.span_context().span_id();
        let trace_id = server.span_context().trace_id();
        server.add_event("request.received", vec![]);

        let server_cx = remote.with_span(server);
        let mut db = tracer
            .span_builder("SELECT items")
            .with_kind(SpanKind::Client)
            .with_attributes([
                KeyValue::new("db.system.name", "sqlite"),
                KeyValue::new("db.query.text", "SELECT * FROM items"),
                KeyValue::new("db.operation.name", "SELECT"),
                KeyValue::new("db.collection.name", "items"),
            ])
            .start_with_context(&tracer, &server_cx);
        let db_span_id = db.span_context().span_id();
        std::thread::sleep(Duration::from_millis(3));
        db.end();
        std::thread::sleep(Duration::from_millis(1));
        server_cx.span().end();

        let shutdown = provider.shutdown();
        let errors = errors.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if !errors.is_empty() {
            fail(&format!(
                "export to {}/v1/traces failed: {}",
                args.endpoint,
                errors.join("; ")
            ));
        }
        if let Err(e) = shutdown {
            // A timeout here means the export did not finish in time.
            let detail = match e {
                OTelSdkError::Timeout(d) => format!("timed out after {d:?}"),
                other => other.to_string(),
            };
            fail(&format!(
                "flushing spans to {}/v1/traces failed: {detail}",
                args.endpoint
            ));
        }
        let count = exported.load(Ordering::SeqCst);
        if count != 2 {
            fail(&format!(
                "expected to export 2 spans to {}/v1/traces, exported {count}",
                args.endpoint
            ));
        }

        println!(
            "{}",
            serde_json::json!({
                "traceId": trace_id.to_string(),
                "serverSpanId": server_span_id.to_string(),
                "dbSpanId": db_span_id.to_string(),
            })
        );
    }
}
