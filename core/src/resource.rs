//! Resource attributes: what every exported span says about the service, the SDK and the
//! browser (OpenTelemetry semantic conventions: service, deployment, telemetry SDK,
//! browser and user agent).

use crate::model::{Array, KeyValue, StringValue, Value};
use crate::prelude::*;

use crate::config::DEFAULT_SERVICE_NAME;

/// `service.name`
pub const SERVICE_NAME: &str = "service.name";
/// `service.version`
pub const SERVICE_VERSION: &str = "service.version";
/// `deployment.environment.name`
pub const DEPLOYMENT_ENVIRONMENT_NAME: &str = "deployment.environment.name";
/// `telemetry.sdk.name`
pub const TELEMETRY_SDK_NAME: &str = "telemetry.sdk.name";
/// `telemetry.sdk.language`
pub const TELEMETRY_SDK_LANGUAGE: &str = "telemetry.sdk.language";
/// `telemetry.sdk.version`
pub const TELEMETRY_SDK_VERSION: &str = "telemetry.sdk.version";
/// `user_agent.original`
pub const USER_AGENT_ORIGINAL: &str = "user_agent.original";
/// `browser.brands` (string array)
pub const BROWSER_BRANDS: &str = "browser.brands";
/// `browser.platform`
pub const BROWSER_PLATFORM: &str = "browser.platform";
/// `browser.mobile`
pub const BROWSER_MOBILE: &str = "browser.mobile";
/// `browser.language`
pub const BROWSER_LANGUAGE: &str = "browser.language";

/// Value of `telemetry.sdk.name`.
pub const SDK_NAME: &str = "edge-telemetry";
/// Value of `telemetry.sdk.language` (the conventions' value for browser JavaScript).
pub const SDK_LANGUAGE: &str = "webjs";
/// Value of `telemetry.sdk.version`.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// What the page's `navigator` says about the browser. Unknown values are `None` (or an
/// empty `brands`) and are left out, as the conventions ask.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BrowserInfo {
    /// `navigator.userAgent`.
    pub user_agent: Option<String>,
    /// `navigator.userAgentData.brands`, each `"<brand> <version>"`.
    pub brands: Vec<String>,
    /// `navigator.userAgentData.platform` (not the legacy `navigator.platform`).
    pub platform: Option<String>,
    /// `navigator.userAgentData.mobile`.
    pub mobile: Option<bool>,
    /// `navigator.language`.
    pub language: Option<String>,
}

/// The app's resource options.
#[derive(Clone, Debug)]
pub struct ResourceConfig<'a> {
    /// `serviceName`.
    pub service_name: &'a str,
    /// `serviceVersion`.
    pub service_version: Option<&'a str>,
    /// `environment`.
    pub environment: Option<&'a str>,
    /// `resourceAttributes`: applied first, so the fields above and the browser info
    /// override them.
    pub extra: Vec<KeyValue>,
}

impl Default for ResourceConfig<'_> {
    fn default() -> Self {
        Self {
            service_name: DEFAULT_SERVICE_NAME,
            service_version: None,
            environment: None,
            extra: Vec::new(),
        }
    }
}

/// The resource attributes, each key once: `cfg.extra` first, then the explicit fields
/// and the browser info where known (overriding `extra`), then `telemetry.sdk.*` (which
/// nothing overrides). Keys keep the position of their first appearance. Empty strings
/// count as unknown.
pub fn resource_attributes(cfg: ResourceConfig<'_>, browser: &BrowserInfo) -> Vec<KeyValue> {
    let mut out = Vec::with_capacity(cfg.extra.len() + 11);
    for kv in cfg.extra {
        set(&mut out, kv);
    }
    set_str(&mut out, SERVICE_NAME, Some(cfg.service_name));
    set_str(&mut out, SERVICE_VERSION, cfg.service_version);
    set_str(&mut out, DEPLOYMENT_ENVIRONMENT_NAME, cfg.environment);
    set_str(&mut out, USER_AGENT_ORIGINAL, browser.user_agent.as_deref());
    if !browser.brands.is_empty() {
        let brands = browser.brands.iter().cloned().map(StringValue::from);
        set(
            &mut out,
            KeyValue::new(
                BROWSER_BRANDS,
                Value::Array(Array::String(brands.collect())),
            ),
        );
    }
    set_str(&mut out, BROWSER_PLATFORM, browser.platform.as_deref());
    if let Some(mobile) = browser.mobile {
        set(&mut out, KeyValue::new(BROWSER_MOBILE, mobile));
    }
    set_str(&mut out, BROWSER_LANGUAGE, browser.language.as_deref());
    set(&mut out, KeyValue::new(TELEMETRY_SDK_NAME, SDK_NAME));
    set(
        &mut out,
        KeyValue::new(TELEMETRY_SDK_LANGUAGE, SDK_LANGUAGE),
    );
    set(&mut out, KeyValue::new(TELEMETRY_SDK_VERSION, SDK_VERSION));
    out
}

/// Sets `key` to a non-empty `value`; does nothing for `None` or `""`.
fn set_str(out: &mut Vec<KeyValue>, key: &'static str, value: Option<&str>) {
    if let Some(v) = value.filter(|v| !v.is_empty()) {
        set(out, KeyValue::new(key, v.to_owned()));
    }
}

/// Replaces the value of an existing key in place, or appends.
fn set(out: &mut Vec<KeyValue>, kv: KeyValue) {
    match out.iter_mut().find(|e| e.key == kv.key) {
        Some(existing) => existing.value = kv.value,
        None => out.push(kv),
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use std::collections::HashSet;

    fn get<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a Value> {
        attrs
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| &kv.value)
    }

    fn s(v: &str) -> Value {
        Value::String(v.to_owned().into())
    }

    fn chrome() -> BrowserInfo {
        BrowserInfo {
            user_agent: Some("Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0".into()),
            brands: vec!["Chromium 126".into(), "Google Chrome 126".into()],
            platform: Some("Linux".into()),
            mobile: Some(false),
            language: Some("en-US".into()),
        }
    }

    #[test]
    fn full_resource() {
        let cfg = ResourceConfig {
            service_name: "shop-web",
            service_version: Some("1.4.2"),
            environment: Some("production"),
            extra: vec![],
        };
        let attrs = resource_attributes(cfg, &chrome());
        let brands = Value::Array(Array::String(vec![
            "Chromium 126".into(),
            "Google Chrome 126".into(),
        ]));
        let expected: &[(&str, Value)] = &[
            (SERVICE_NAME, s("shop-web")),
            (SERVICE_VERSION, s("1.4.2")),
            (DEPLOYMENT_ENVIRONMENT_NAME, s("production")),
            (
                USER_AGENT_ORIGINAL,
                s("Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0"),
            ),
            (BROWSER_BRANDS, brands),
            (BROWSER_PLATFORM, s("Linux")),
            (BROWSER_MOBILE, Value::Bool(false)),
            (BROWSER_LANGUAGE, s("en-US")),
            (TELEMETRY_SDK_NAME, s("edge-telemetry")),
            (TELEMETRY_SDK_LANGUAGE, s("webjs")),
            (TELEMETRY_SDK_VERSION, s(env!("CARGO_PKG_VERSION"))),
        ];
        let got: Vec<(&str, Value)> = attrs
            .iter()
            .map(|kv| (kv.key.as_str(), kv.value.clone()))
            .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn unknowns_are_left_out() {
        let cfg = ResourceConfig {
            service_name: "svc",
            service_version: Some(""),
            environment: None,
            extra: vec![],
        };
        let browser = BrowserInfo {
            platform: Some(String::new()),
            ..BrowserInfo::default()
        };
        let attrs = resource_attributes(cfg, &browser);
        let keys: Vec<&str> = attrs.iter().map(|kv| kv.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                SERVICE_NAME,
                TELEMETRY_SDK_NAME,
                TELEMETRY_SDK_LANGUAGE,
                TELEMETRY_SDK_VERSION
            ]
        );
        let default = resource_attributes(ResourceConfig::default(), &BrowserInfo::default());
        assert_eq!(get(&default, SERVICE_NAME), Some(&s(DEFAULT_SERVICE_NAME)));
    }

    #[test]
    fn precedence() {
        let extra = vec![
            KeyValue::new("app.team", "checkout"),
            KeyValue::new(SERVICE_NAME, "from-extra"),
            KeyValue::new(SERVICE_VERSION, "0.0.1"),
            KeyValue::new(DEPLOYMENT_ENVIRONMENT_NAME, "staging"),
            KeyValue::new(BROWSER_LANGUAGE, "fr"),
            KeyValue::new(BROWSER_MOBILE, true),
            KeyValue::new(TELEMETRY_SDK_NAME, "spoofed"),
            KeyValue::new(TELEMETRY_SDK_LANGUAGE, "rust"),
            KeyValue::new(TELEMETRY_SDK_VERSION, "9.9.9"),
            KeyValue::new("app.team", "payments"), // a repeated extra key: the last wins
        ];
        let cfg = ResourceConfig {
            service_name: "svc",
            service_version: None,
            environment: Some("production"),
            extra,
        };
        let browser = BrowserInfo {
            mobile: Some(false),
            ..BrowserInfo::default()
        };
        let attrs = resource_attributes(cfg, &browser);
        // (key, value): explicit fields beat extra; extra fills what is unknown.
        let cases: &[(&str, Value)] = &[
            ("app.team", s("payments")),
            (SERVICE_NAME, s("svc")),
            (SERVICE_VERSION, s("0.0.1")),
            (DEPLOYMENT_ENVIRONMENT_NAME, s("production")),
            (BROWSER_LANGUAGE, s("fr")),
            (BROWSER_MOBILE, Value::Bool(false)),
            (TELEMETRY_SDK_NAME, s(SDK_NAME)),
            (TELEMETRY_SDK_LANGUAGE, s(SDK_LANGUAGE)),
            (TELEMETRY_SDK_VERSION, s(SDK_VERSION)),
        ];
        for (key, value) in cases {
            assert_eq!(get(&attrs, key), Some(value), "{key}");
        }
        let unique: HashSet<&str> = attrs.iter().map(|kv| kv.key.as_str()).collect();
        assert_eq!(unique.len(), attrs.len());
        assert_eq!(attrs.len(), cases.len());
        // Extra keys keep their place.
        assert_eq!(attrs[0].key.as_str(), "app.team");
    }
}
