//! Configuration, from environment variables only (see the crate README).

use std::fmt;
use std::path::PathBuf;

/// The local collector, where spans and items go by default.
pub const DEFAULT_COLLECTOR: &str = "http://127.0.0.1:4318";
/// Honeycomb's OTLP/HTTP traces endpoint.
pub const HONEYCOMB_TRACES: &str = "https://api.honeycomb.io/v1/traces";
/// Rollbar's item endpoint.
pub const ROLLBAR_ITEMS: &str = "https://api.rollbar.com/api/1/item/";

/// Everything the backend needs to start.
#[derive(Clone, PartialEq)]
pub struct Config {
    /// `DEMO_BACKEND_ADDR`, default `127.0.0.1:8080` (port 0: a free port).
    pub addr: String,
    /// `DEMO_DB`, default `target/demo-backend.sqlite`; `:memory:` allowed.
    pub db: String,
    /// `DEMO_TRACING`: `off` (also `0`, `false`) disables tracing entirely (for the load
    /// benchmark's baseline): no spans, no `Server-Timing`.
    pub tracing: bool,
    /// Where spans are posted (OTLP/HTTP protobuf): the full `/v1/traces` URL.
    pub traces_endpoint: String,
    /// Extra headers for the span exporter (`x-honeycomb-team`).
    pub traces_headers: Vec<(String, String)>,
    /// `OTEL_SERVICE_NAME`, default `demo-backend`.
    pub service_name: String,
    /// Where Rollbar items are posted.
    pub rollbar_endpoint: String,
    /// `ROLLBAR_ACCESS_TOKEN` (`post_server_item`), sent as `X-Rollbar-Access-Token`.
    pub rollbar_token: Option<String>,
    /// `DEMO_ENVIRONMENT`, default `development`: the items' `environment`.
    pub environment: String,
    /// `DEMO_ALLOWED_ORIGINS`: CORS is answered for these origins only.
    pub allowed_origins: Vec<String>,
    /// `DEMO_STATIC_DIR`: the built frontend, served at `/`.
    pub static_dir: Option<PathBuf>,
    /// The collector URL written into the served `config.json`.
    pub collector: String,
    /// `AWS_XRAY_DAEMON_ADDRESS` (`host:port`, or `tcp:… udp:host:port`): also send every span
    /// as an X-Ray segment to that daemon (the local collector's daemon port, or AWS's).
    pub xray_daemon: Option<std::net::SocketAddr>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .traces_headers
            .iter()
            .map(|(k, _)| (k.as_str(), "<redacted>"))
            .collect();
        f.debug_struct("Config")
            .field("addr", &self.addr)
            .field("db", &self.db)
            .field("tracing", &self.tracing)
            .field("traces_endpoint", &self.traces_endpoint)
            .field("traces_headers", &headers)
            .field("service_name", &self.service_name)
            .field("rollbar_endpoint", &self.rollbar_endpoint)
            .field(
                "rollbar_token",
                &self.rollbar_token.as_ref().map(|_| "<redacted>"),
            )
            .field("environment", &self.environment)
            .field("allowed_origins", &self.allowed_origins)
            .field("static_dir", &self.static_dir)
            .field("collector", &self.collector)
            .field("xray_daemon", &self.xray_daemon)
            .finish()
    }
}

impl Config {
    /// From the process environment.
    pub fn from_env() -> Self {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// From `var` (a variable's value; empty values count as unset).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let var = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let otlp = var("OTEL_EXPORTER_OTLP_ENDPOINT");
        let honeycomb = var("HONEYCOMB_API_KEY");
        let base = otlp
            .clone()
            .unwrap_or_else(|| DEFAULT_COLLECTOR.to_owned())
            .trim_end_matches('/')
            .to_owned();
        let (traces_endpoint, traces_headers) = match (&otlp, honeycomb) {
            (None, Some(key)) => (
                HONEYCOMB_TRACES.to_owned(),
                vec![("x-honeycomb-team".to_owned(), key)],
            ),
            _ => (traces_url(&base), Vec::new()),
        };
        let rollbar_token = var("ROLLBAR_ACCESS_TOKEN");
        let rollbar_endpoint = match (var("ROLLBAR_ENDPOINT"), &rollbar_token) {
            (Some(endpoint), _) => endpoint,
            (None, Some(_)) => ROLLBAR_ITEMS.to_owned(),
            (None, None) => format!("{base}/api/1/item/"),
        };
        let tracing = !matches!(
            var("DEMO_TRACING")
                .as_deref()
                .map(str::to_ascii_lowercase)
                .as_deref(),
            Some("off" | "0" | "false" | "no")
        );
        Self {
            addr: var("DEMO_BACKEND_ADDR").unwrap_or_else(|| "127.0.0.1:8080".to_owned()),
            db: var("DEMO_DB").unwrap_or_else(|| "target/demo-backend.sqlite".to_owned()),
            tracing,
            traces_endpoint,
            traces_headers,
            service_name: var("OTEL_SERVICE_NAME").unwrap_or_else(|| "demo-backend".to_owned()),
            rollbar_endpoint,
            rollbar_token,
            environment: var("DEMO_ENVIRONMENT").unwrap_or_else(|| "development".to_owned()),
            allowed_origins: var("DEMO_ALLOWED_ORIGINS")
                .unwrap_or_else(|| "http://127.0.0.1:5173,http://localhost:5173".to_owned())
                .split(',')
                .map(|o| o.trim().trim_end_matches('/').to_owned())
                .filter(|o| !o.is_empty())
                .collect(),
            static_dir: var("DEMO_STATIC_DIR").map(PathBuf::from),
            collector: base,
            xray_daemon: var("AWS_XRAY_DAEMON_ADDRESS")
                .and_then(|v| edge_telemetry_axum::xray::daemon_address(&v)),
        }
    }

    /// Defaults for tests: a free port on loopback, an in-memory database, spans and items
    /// to the collector at `collector` (`http://HOST:PORT`).
    pub fn for_collector(collector: &str) -> Self {
        let collector = collector.trim_end_matches('/').to_owned();
        Self::from_vars(|name| match name {
            "DEMO_BACKEND_ADDR" => Some("127.0.0.1:0".to_owned()),
            "DEMO_DB" => Some(":memory:".to_owned()),
            "OTEL_EXPORTER_OTLP_ENDPOINT" => Some(collector.clone()),
            _ => None,
        })
    }
}

/// `<base>/v1/traces`, unless `base` already ends so.
fn traces_url(base: &str) -> String {
    if base.ends_with("/v1/traces") {
        base.to_owned()
    } else {
        format!("{base}/v1/traces")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &'static [(&'static str, &'static str)]) -> Config {
        Config::from_vars(|name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn defaults() {
        let c = vars(&[]);
        assert_eq!(c.addr, "127.0.0.1:8080");
        assert_eq!(c.db, "target/demo-backend.sqlite");
        assert_eq!(c.traces_endpoint, "http://127.0.0.1:4318/v1/traces");
        assert_eq!(c.rollbar_endpoint, "http://127.0.0.1:4318/api/1/item/");
        assert_eq!(c.service_name, "demo-backend");
        assert!(c.tracing);
        assert_eq!(
            c.allowed_origins,
            ["http://127.0.0.1:5173", "http://localhost:5173"]
        );
    }

    #[test]
    fn honeycomb_and_rollbar_keys() {
        let c = vars(&[
            ("HONEYCOMB_API_KEY", "hc-secret"),
            ("ROLLBAR_ACCESS_TOKEN", "rb-secret"),
            ("DEMO_TRACING", "off"),
        ]);
        assert_eq!(c.traces_endpoint, HONEYCOMB_TRACES);
        assert_eq!(
            c.traces_headers,
            [("x-honeycomb-team".to_owned(), "hc-secret".to_owned())]
        );
        assert_eq!(c.rollbar_endpoint, ROLLBAR_ITEMS);
        assert!(!c.tracing);
        let debug = format!("{c:?}");
        assert!(!debug.contains("secret"), "{debug}");

        let c = vars(&[
            ("HONEYCOMB_API_KEY", "k"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9999/"),
        ]);
        assert_eq!(c.traces_endpoint, "http://127.0.0.1:9999/v1/traces");
        assert!(c.traces_headers.is_empty());
        assert_eq!(c.rollbar_endpoint, "http://127.0.0.1:9999/api/1/item/");
    }
}
