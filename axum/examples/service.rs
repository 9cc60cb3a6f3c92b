//! A traced axum service: `cargo run -p edge-telemetry-axum --example service`.
//!
//! It listens on `127.0.0.1:3000` (`PORT` to change it), exports its spans over OTLP/HTTP to
//! the local collector (`scripts/collector`, or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`), lets
//! pages on `ALLOWED_ORIGINS` (comma-separated; default `http://localhost:5173`) send the
//! trace headers, and continues their traces. Try it with a W3C or an X-Ray header:
//!
//! ```text
//! curl -i -H 'traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' \
//!   http://127.0.0.1:3000/api/hello/ada
//! curl -i -H 'X-Amzn-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1' \
//!   http://127.0.0.1:3000/api/hello/ada
//! ```
//!
//! The reply's `Server-Timing` names the server span; the collector's UI shows it under the
//! caller's span.

#[cfg(not(target_arch = "wasm32"))]
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    use axum::extract::Path;
    use axum::routing::get;
    use edge_telemetry_axum::{Telemetry, TelemetryConfig, TraceLayer, cors};

    let env = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
    let endpoint = env(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "http://127.0.0.1:4318/v1/traces",
    );
    let origins = env("ALLOWED_ORIGINS", "http://localhost:5173");
    let telemetry = Telemetry::new(&TelemetryConfig::new("example-service", endpoint))?;
    tracing::dispatcher::set_global_default(telemetry.dispatch.clone())?;

    let app = axum::Router::new()
        .route(
            "/api/hello/{name}",
            get(|Path(name): Path<String>| async move {
                // A span of our own, a child of the SERVER span.
                let _work = tracing::info_span!("compose greeting").entered();
                format!("hello, {name}\n")
            }),
        )
        .layer(TraceLayer::new())
        .layer(cors(origins.split(',').map(str::trim)));
    let addr = format!("127.0.0.1:{}", env("PORT", "3000"));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!(
        "example-service listening on http://{}",
        listener.local_addr()?
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    telemetry.provider.shutdown()?;
    Ok(())
}

#[cfg(target_arch = "wasm32")]
fn main() {}
