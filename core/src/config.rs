//! SDK configuration (the `init` options after conversion from JS) and its validation.
//! Type checks happen while reading the JS object; value rules live here so they are
//! tested natively.

use std::fmt;

use crate::ids::IdFormat;
use crate::span::SpanLimits;

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
}

impl Default for SdkConfig {
    fn default() -> Self {
        Self {
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
            format!("must be a whole number from 0 to {}, got {value}", u32::MAX),
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
        Ok(())
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
}
