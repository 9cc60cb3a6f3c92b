//! SDK configuration: the `init` options after conversion from JS, and their defaults.
//! What each option accepts is written once, as data, in [`schema`]; the package's facade
//! checks `init`'s options against it before they reach the engine.

use crate::prelude::*;
pub mod schema;

use core::fmt;

use crate::model::KeyValue;

use crate::export::batch::BatchConfig;
use crate::export::retry::RetryConfig;
use crate::trace::ids::IdFormat;
use crate::trace::span::SpanLimits;
use crate::web::page::DEFAULT_INTERACTION_EVENTS;
use crate::web::session::DEFAULT_SESSION_INACTIVITY_MILLIS;

/// `service.name` when the app gives none (OpenTelemetry's default).
pub const DEFAULT_SERVICE_NAME: &str = "unknown_service";
/// Longest accepted `serviceName`.
pub const MAX_SERVICE_NAME_LEN: usize = 256;

/// The `console` methods `captureConsole` may name, and the severity of their records (the
/// facade wraps them: `CONSOLE_SEVERITY` in the generated `options-schema.js`).
pub const CONSOLE_METHODS: &[(&str, crate::boundary::Severity)] = &[
    ("debug", crate::boundary::Severity::Debug),
    ("log", crate::boundary::Severity::Info),
    ("info", crate::boundary::Severity::Info),
    ("warn", crate::boundary::Severity::Warn),
    ("error", crate::boundary::Severity::Error),
];

/// Validated SDK configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct SdkConfig {
    /// `serviceName`.
    pub service_name: String,
    /// `instrumentFetch` (default true).
    pub instrument_fetch: bool,
    /// `instrumentXhr` (default true).
    pub instrument_xhr: bool,
    /// String rules of `propagateTraceHeaderCorsUrls` (RegExp rules stay in the glue).
    pub propagate_trace_header_cors_urls: Vec<String>,
    /// `spanLimits`.
    pub span_limits: SpanLimits,
    /// `idGenerator`, when given (see [`SdkConfig::ids`]).
    pub id_format: Option<IdFormat>,
    /// `addXRayTraceIdHeader` (default false): requests that carry `traceparent` also carry
    /// AWS X-Ray's `X-Amzn-Trace-Id` for the same span, and trace ids are X-Ray's.
    pub xray_header: bool,
    /// `debug`: log drops and failures to the console.
    pub debug: bool,
    /// `serviceVersion` (`service.version`).
    pub service_version: Option<String>,
    /// `environment` (`deployment.environment.name`).
    pub environment: Option<String>,
    /// `resourceAttributes`: more resource attributes.
    pub resource_attributes: Vec<KeyValue>,
    /// Where and how spans are exported.
    pub export: ExportConfig,
    /// `sampleRate`: keep 1 in N traces (1 keeps all).
    pub sample_rate: u32,
    /// `instrumentDocumentLoad` (default true): the `documentLoad` root span.
    pub instrument_document_load: bool,
    /// `userInteractionEvents` (default click and submit): a root span per interaction.
    pub interaction_events: Vec<String>,
    /// `sessionInactivityTimeoutMillis`: a new `session.id` after this long without spans.
    pub session_inactivity_millis: u64,
    /// `rollbar`: where and how errors are reported.
    pub rollbar: RollbarConfig,
}

/// The `rollbar` options (rollbar.js names where the concept is the same). Errors are
/// reported when `accessToken` or `endpoint` is given and `enabled` is not false.
#[derive(Clone, PartialEq)]
pub struct RollbarConfig {
    /// `accessToken`: a `post_client_item` token, sent as `X-Rollbar-Access-Token`. Never
    /// logged (see the `Debug` impl). Leave it out behind a relay that adds it.
    pub access_token: Option<String>,
    /// `endpoint`: the item URL (default Rollbar's `/api/1/item/`).
    pub endpoint: Option<String>,
    /// `enabled` (default true).
    pub enabled: bool,
    /// `environment` (default: the SDK's `environment`, else `production`).
    pub environment: Option<String>,
    /// `codeVersion` (default: `serviceVersion`).
    pub code_version: Option<String>,
    /// `captureUncaught` (default true): window `error` events.
    pub capture_uncaught: bool,
    /// `captureUnhandledRejections` (default true).
    pub capture_unhandled_rejections: bool,
    /// `scrubFields`: added to the default sensitive field names.
    pub scrub_fields: Vec<String>,
    /// String rules of `ignoredMessages` (RegExp rules stay in the glue).
    pub ignored_messages: Vec<String>,
    /// `itemsPerMinute` (default 60; 0: no limit).
    pub items_per_minute: u32,
    /// `maxItems` per page load (default 0: no limit).
    pub max_items: u32,
    /// `captureIp`: send `user_ip: "$remote_ip"` so Rollbar records the client address.
    pub capture_ip: bool,
    /// `framework` (default `browser-js`).
    pub framework: Option<String>,
    /// `context` (e.g. the route).
    pub context: Option<String>,
    /// `sourceMapEnabled` (`client.javascript.source_map_enabled`).
    pub source_map_enabled: bool,
    /// `guessUncaughtFrames` (`client.javascript.guess_uncaught_frames`).
    pub guess_uncaught_frames: bool,
    /// `honeycombTeam` and `honeycombEnvironment`: with both, items link to the trace.
    pub honeycomb_team: Option<String>,
    /// See `honeycomb_team`.
    pub honeycomb_environment: Option<String>,
}

impl Default for RollbarConfig {
    fn default() -> Self {
        Self {
            access_token: None,
            endpoint: None,
            enabled: true,
            environment: None,
            code_version: None,
            capture_uncaught: true,
            capture_unhandled_rejections: true,
            scrub_fields: Vec::new(),
            ignored_messages: Vec::new(),
            items_per_minute: crate::errors::item_limits::DEFAULT_ITEMS_PER_MINUTE,
            max_items: 0,
            capture_ip: false,
            framework: None,
            context: None,
            source_map_enabled: false,
            guess_uncaught_frames: false,
            honeycomb_team: None,
            honeycomb_environment: None,
        }
    }
}

impl RollbarConfig {
    /// Whether errors are reported at all.
    pub fn reporting(&self) -> bool {
        self.enabled && (self.access_token.is_some() || self.endpoint.is_some())
    }
}

/// Longest `rollbar.environment` Rollbar accepts.
pub const MAX_ROLLBAR_ENVIRONMENT_LEN: usize = 255;

impl fmt::Debug for RollbarConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RollbarConfig")
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| "<redacted>"),
            )
            .field("endpoint", &self.endpoint)
            .field("enabled", &self.enabled)
            .field("environment", &self.environment)
            .field("scrub_fields", &self.scrub_fields)
            .field("items_per_minute", &self.items_per_minute)
            .field("max_items", &self.max_items)
            .finish_non_exhaustive()
    }
}

/// The exporter options (Honeycomb's web SDK names). Export is on when any of `apiKey`,
/// `endpoint` or `tracesEndpoint` is given.
#[derive(Clone, PartialEq)]
pub struct ExportConfig {
    /// `apiKey`, sent as `x-honeycomb-team`. Never logged (see the `Debug` impl).
    pub api_key: Option<String>,
    /// `endpoint`: OTLP/HTTP base URL; `/v1/traces` is appended when missing.
    pub endpoint: Option<String>,
    /// `tracesEndpoint`: the full traces URL, used as given.
    pub traces_endpoint: Option<String>,
    /// `logsEndpoint`: the full logs URL, used as given (otherwise derived from `endpoint`:
    /// [`crate::export::exporter::logs_url`]).
    pub logs_endpoint: Option<String>,
    /// `dataset`: for Honeycomb classic keys.
    pub dataset: Option<String>,
    /// `headers`: more request headers.
    pub headers: Vec<(String, String)>,
    /// `compression` is `"gzip"` (the default) rather than `"none"`.
    pub gzip: bool,
    /// `batch`.
    pub batch: BatchConfig,
    /// `retry`.
    pub retry: RetryConfig,
}

impl Default for ExportConfig {
    fn default() -> Self {
        Self {
            api_key: None,
            endpoint: None,
            traces_endpoint: None,
            logs_endpoint: None,
            dataset: None,
            headers: Vec::new(),
            gzip: true,
            batch: BatchConfig::default(),
            retry: RetryConfig::default(),
        }
    }
}

impl ExportConfig {
    /// Whether spans are exported at all.
    pub fn enabled(&self) -> bool {
        self.api_key.is_some() || self.endpoint.is_some() || self.traces_endpoint.is_some()
    }
}

impl fmt::Debug for ExportConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("ExportConfig")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("endpoint", &self.endpoint)
            .field("traces_endpoint", &self.traces_endpoint)
            .field("logs_endpoint", &self.logs_endpoint)
            .field("dataset", &self.dataset)
            .field("header_names", &header_names)
            .field("gzip", &self.gzip)
            .field("batch", &self.batch)
            .field("retry", &self.retry)
            .finish()
    }
}

impl Default for SdkConfig {
    fn default() -> Self {
        Self {
            service_version: None,
            environment: None,
            resource_attributes: Vec::new(),
            export: ExportConfig::default(),
            sample_rate: 1,
            instrument_document_load: true,
            interaction_events: DEFAULT_INTERACTION_EVENTS.map(str::to_owned).to_vec(),
            session_inactivity_millis: DEFAULT_SESSION_INACTIVITY_MILLIS,
            rollbar: RollbarConfig::default(),
            service_name: DEFAULT_SERVICE_NAME.to_owned(),
            instrument_fetch: true,
            instrument_xhr: true,
            propagate_trace_header_cors_urls: Vec::new(),
            span_limits: SpanLimits::default(),
            id_format: None,
            xray_header: false,
            debug: false,
        }
    }
}

impl SdkConfig {
    /// The trace ids' format: `idGenerator`, else X-Ray's when `addXRayTraceIdHeader` is on
    /// (X-Ray keeps only traces whose id starts with a recent epoch second), else W3C's.
    pub fn ids(&self) -> IdFormat {
        self.id_format.unwrap_or(if self.xray_header {
            IdFormat::Xray
        } else {
            IdFormat::W3c
        })
    }
}

/// The `idGenerator` option's value: `"xray"` for X-Ray ids, W3C ids otherwise.
pub fn id_format(name: &str) -> IdFormat {
    if name == "xray" {
        IdFormat::Xray
    } else {
        IdFormat::W3c
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn export_and_reporting_switch_on_with_an_endpoint_or_key() {
        let mut cfg = SdkConfig::default();
        assert!(!cfg.export.enabled());
        cfg.export.endpoint = Some("/otlp".into());
        assert!(cfg.export.enabled());
        assert!(!cfg.rollbar.reporting(), "off without a token or endpoint");
        cfg.rollbar.access_token = Some("post_client_secret789".into());
        assert!(cfg.rollbar.reporting());
        assert!(!format!("{:?}", cfg.rollbar).contains("secret789"));
        cfg.rollbar.enabled = false;
        assert!(!cfg.rollbar.reporting());
    }

    #[test]
    fn debug_output_never_shows_the_api_key() {
        let cfg = ExportConfig {
            api_key: Some("hcaik_secret123".into()),
            headers: vec![("authorization".into(), "Bearer secret456".into())],
            ..ExportConfig::default()
        };
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("<redacted>") && shown.contains("authorization"));
    }

    #[test]
    fn id_formats() {
        assert_eq!(id_format("xray"), IdFormat::Xray);
        assert_eq!(id_format("w3c"), IdFormat::W3c);
        let mut cfg = SdkConfig::default();
        assert_eq!(cfg.ids(), IdFormat::W3c);
        cfg.xray_header = true;
        assert_eq!(cfg.ids(), IdFormat::Xray, "X-Ray's header makes X-Ray ids");
        cfg.id_format = Some(IdFormat::Xray);
        assert_eq!(cfg.ids(), IdFormat::Xray);
        cfg.xray_header = false;
        cfg.id_format = Some(IdFormat::W3c);
        assert_eq!(cfg.ids(), IdFormat::W3c);
    }
}
