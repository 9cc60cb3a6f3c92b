//! SDK configuration (the `init` options after conversion from JS) and its validation.
//! Type checks happen while reading the JS object; value rules live here so they are
//! tested natively.

use std::fmt;

use opentelemetry::KeyValue;

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
    /// `idGenerator`.
    pub id_format: IdFormat,
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

    /// Checks value rules; errors name the option.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (field, v) in [
            ("rollbar.accessToken", &self.access_token),
            ("rollbar.endpoint", &self.endpoint),
            ("rollbar.environment", &self.environment),
            ("rollbar.honeycombTeam", &self.honeycomb_team),
            ("rollbar.honeycombEnvironment", &self.honeycomb_environment),
        ] {
            if v.as_deref().is_some_and(|s| s.trim().is_empty()) {
                return Err(ConfigError::new(field, "must not be empty"));
            }
        }
        if self
            .environment
            .as_deref()
            .is_some_and(|e| e.chars().count() > MAX_ROLLBAR_ENVIRONMENT_LEN)
        {
            return Err(ConfigError::new(
                "rollbar.environment",
                format!("must be at most {MAX_ROLLBAR_ENVIRONMENT_LEN} characters"),
            ));
        }
        if self.scrub_fields.iter().any(String::is_empty) {
            return Err(ConfigError::new(
                "rollbar.scrubFields",
                "must not contain an empty string",
            ));
        }
        Ok(())
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
            id_format: IdFormat::W3c,
            debug: false,
        }
    }
}

/// A bad `init` option. The message names the field so the developer can fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The option's path as the user wrote it, e.g. `spanLimits.attributeCountLimit`.
    pub field: String,
    /// What is wrong, e.g. `must be a boolean, got string`.
    pub problem: String,
}

impl ConfigError {
    /// A new error for `field`.
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "edge-telemetry init: option `{}` {}",
            self.field, self.problem
        )
    }
}

impl std::error::Error for ConfigError {}

/// Reads a count option (a whole number from 0 to 2^32-1).
pub fn count_option(field: &str, value: f64) -> Result<u32, ConfigError> {
    if value.is_finite() && value.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&value) {
        Ok(value as u32)
    } else {
        Err(ConfigError::new(
            field,
            // Not `{value}`: Rust's float formatting would add ~10 KB to the wasm module.
            format!("must be a whole number from 0 to {}", u32::MAX),
        ))
    }
}

/// Reads the `idGenerator` option.
pub fn id_format_option(field: &str, value: &str) -> Result<IdFormat, ConfigError> {
    match value {
        "w3c" => Ok(IdFormat::W3c),
        "xray" => Ok(IdFormat::Xray),
        other => Err(ConfigError::new(
            field,
            format!("must be \"w3c\" or \"xray\", got \"{other}\""),
        )),
    }
}

impl SdkConfig {
    /// Checks value rules that types alone do not catch.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let name = self.service_name.trim();
        if name.is_empty() {
            return Err(ConfigError::new("serviceName", "must not be empty"));
        }
        if self.service_name.chars().count() > MAX_SERVICE_NAME_LEN {
            return Err(ConfigError::new(
                "serviceName",
                format!("must be at most {MAX_SERVICE_NAME_LEN} characters"),
            ));
        }
        if self.span_limits.attribute_value_length_limit == Some(0) {
            return Err(ConfigError::new(
                "spanLimits.attributeValueLengthLimit",
                "must be at least 1",
            ));
        }
        if self
            .propagate_trace_header_cors_urls
            .iter()
            .any(String::is_empty)
        {
            return Err(ConfigError::new(
                "propagateTraceHeaderCorsUrls",
                "must not contain an empty string",
            ));
        }
        if self.sample_rate == 0 {
            return Err(ConfigError::new("sampleRate", "must be at least 1"));
        }
        if self.session_inactivity_millis == 0 {
            return Err(ConfigError::new(
                "sessionInactivityTimeoutMillis",
                "must be at least 1",
            ));
        }
        let e = &self.export;
        for (field, v) in [
            ("apiKey", &e.api_key),
            ("endpoint", &e.endpoint),
            ("tracesEndpoint", &e.traces_endpoint),
            ("dataset", &e.dataset),
        ] {
            if v.as_deref().is_some_and(|s| s.trim().is_empty()) {
                return Err(ConfigError::new(field, "must not be empty"));
            }
        }
        if e.retry.max_attempts == 0 {
            return Err(ConfigError::new("retry.maxAttempts", "must be at least 1"));
        }
        if e.retry.max_backoff_millis < e.retry.initial_backoff_millis {
            return Err(ConfigError::new(
                "retry.maxBackoffMillis",
                "must not be less than retry.initialBackoffMillis",
            ));
        }
        e.batch.validate()?;
        self.rollbar.validate()
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert_eq!(SdkConfig::default().validate(), Ok(()));
    }

    #[test]
    fn errors_name_the_field() {
        let cfg = SdkConfig {
            service_name: "  ".into(),
            ..SdkConfig::default()
        };
        let err = cfg.validate().unwrap_err();
        assert_eq!(err.field, "serviceName");
        assert!(err.to_string().contains("`serviceName`"));

        let mut cfg = SdkConfig::default();
        cfg.span_limits.attribute_value_length_limit = Some(0);
        assert_eq!(
            cfg.validate().unwrap_err().field,
            "spanLimits.attributeValueLengthLimit"
        );

        let cfg = SdkConfig {
            propagate_trace_header_cors_urls: vec![String::new()],
            ..SdkConfig::default()
        };
        assert_eq!(
            cfg.validate().unwrap_err().field,
            "propagateTraceHeaderCorsUrls"
        );
    }

    #[test]
    fn export_rules_name_the_field() {
        let mut cfg = SdkConfig::default();
        assert!(!cfg.export.enabled());
        cfg.export.endpoint = Some(" ".into());
        assert_eq!(cfg.validate().unwrap_err().field, "endpoint");
        cfg.export.endpoint = Some("/otlp".into());
        assert!(cfg.export.enabled());
        cfg.sample_rate = 0;
        assert_eq!(cfg.validate().unwrap_err().field, "sampleRate");
        cfg.sample_rate = 4;
        cfg.export.retry.max_attempts = 0;
        assert_eq!(cfg.validate().unwrap_err().field, "retry.maxAttempts");
        cfg.export.retry = RetryConfig::default();
        cfg.export.batch.max_queue_size = 0;
        assert_eq!(cfg.validate().unwrap_err().field, "batch.maxQueueSize");
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
    fn counts() {
        assert_eq!(count_option("f", 0.0), Ok(0));
        assert_eq!(count_option("f", 128.0), Ok(128));
        for bad in [-1.0, 1.5, f64::NAN, f64::INFINITY, 5e9] {
            assert_eq!(count_option("f", bad).unwrap_err().field, "f");
        }
    }

    #[test]
    fn id_formats() {
        assert_eq!(id_format_option("idGenerator", "xray"), Ok(IdFormat::Xray));
        assert!(id_format_option("idGenerator", "XRAY").is_err());
    }

    #[test]
    fn rollbar_rules_name_the_field_and_never_show_the_token() {
        let mut cfg = SdkConfig::default();
        assert!(!cfg.rollbar.reporting(), "off without a token or endpoint");
        cfg.rollbar.access_token = Some("post_client_secret789".into());
        assert!(cfg.rollbar.reporting());
        assert!(!format!("{:?}", cfg.rollbar).contains("secret789"));
        cfg.rollbar.enabled = false;
        assert!(!cfg.rollbar.reporting());
        cfg.rollbar.environment = Some("x".repeat(256));
        assert_eq!(cfg.validate().unwrap_err().field, "rollbar.environment");
        cfg.rollbar.environment = Some(" ".into());
        assert_eq!(cfg.validate().unwrap_err().field, "rollbar.environment");
        cfg.rollbar.environment = None;
        cfg.rollbar.scrub_fields = vec![String::new()];
        assert_eq!(cfg.validate().unwrap_err().field, "rollbar.scrubFields");
    }
}
