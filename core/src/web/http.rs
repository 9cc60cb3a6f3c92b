//! HTTP client instrumentation policy, shared by the fetch and XHR wrappers: which requests
//! get trace headers, and what a CLIENT span records (OpenTelemetry HTTP client semantic
//! conventions, stable).

use crate::model::{KeyValue, Status, Value};
use crate::prelude::*;

use crate::web::url::{Url, scrub_parsed};

/// `http.request.method`
pub const HTTP_REQUEST_METHOD: &str = "http.request.method";
/// `http.request.method_original`
pub const HTTP_REQUEST_METHOD_ORIGINAL: &str = "http.request.method_original";
/// `http.response.status_code`
pub const HTTP_RESPONSE_STATUS_CODE: &str = "http.response.status_code";
/// `url.full`
pub const URL_FULL: &str = "url.full";
/// `server.address`
pub const SERVER_ADDRESS: &str = "server.address";
/// `server.port`
pub const SERVER_PORT: &str = "server.port";
/// `error.type`
pub const ERROR_TYPE: &str = "error.type";
/// The `method` value for methods the conventions do not know.
pub const OTHER_METHOD: &str = "_OTHER";

/// Methods the conventions know (case-sensitive, as fetch normalises them).
const KNOWN_METHODS: [&str; 10] = [
    "CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "QUERY", "TRACE",
];

/// Whether a URL matches one string rule of `propagateTraceHeaderCorsUrls`: equal to the
/// URL, or a prefix of it that ends at a boundary (the rule ends with `/`, or the URL
/// continues with `/`, `?` or `#`). So `https://api.example.com` matches
/// `https://api.example.com/v1` but not `https://api.example.com.evil.net/`.
pub fn url_matches_rule(url: &str, rule: &str) -> bool {
    if rule.is_empty() {
        return false;
    }
    match url.strip_prefix(rule) {
        Some("") => true,
        Some(rest) => rule.ends_with('/') || rest.starts_with(['/', '?', '#']),
        None => false,
    }
}

/// Whether trace headers go on a request to `url` (absolute, as resolved by the browser):
/// only http(s), and only same-origin with `page` or allowed by a string rule or, failing
/// those, by `regex_rules` (the caller's RegExp rules, evaluated lazily).
pub fn should_propagate(
    url: &str,
    page: Option<&Url<'_>>,
    string_rules: &[String],
    regex_rules: impl FnOnce() -> bool,
) -> bool {
    should_propagate_parsed(
        url,
        Url::parse(url).as_ref(),
        page,
        string_rules,
        regex_rules,
    )
}

/// [`should_propagate`] for `url` already parsed (`target`: `Url::parse(url)`).
pub fn should_propagate_parsed(
    url: &str,
    target: Option<&Url<'_>>,
    page: Option<&Url<'_>>,
    string_rules: &[String],
    regex_rules: impl FnOnce() -> bool,
) -> bool {
    let Some(target) = target else {
        return false;
    };
    if !target.is_http() {
        return false;
    }
    if page.is_some_and(|p| target.same_origin(p)) {
        return true;
    }
    string_rules.iter().any(|r| url_matches_rule(url, r)) || regex_rules()
}

/// A CLIENT span's name and start attributes.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientSpanStart {
    /// `{method}`, or `HTTP` for an unknown method.
    pub name: String,
    /// `http.request.method` (+ `_original`), `url.full` (scrubbed), `server.address`,
    /// `server.port`.
    pub attributes: Vec<KeyValue>,
}

/// The name and attributes of a CLIENT span for `method` and absolute `url`.
pub fn client_span_start(method: &str, url: &str) -> ClientSpanStart {
    client_span_start_parsed(method, url, Url::parse(url).as_ref())
}

/// [`client_span_start`] for `url` already parsed (`parsed`: `Url::parse(url)`).
pub fn client_span_start_parsed(
    method: &str,
    url: &str,
    parsed: Option<&Url<'_>>,
) -> ClientSpanStart {
    let mut attributes = Vec::with_capacity(5);
    let name = match KNOWN_METHODS.iter().find(|m| **m == method) {
        Some(known) => {
            attributes.push(KeyValue::new(HTTP_REQUEST_METHOD, *known));
            (*known).to_owned()
        }
        None => {
            attributes.push(KeyValue::new(HTTP_REQUEST_METHOD, OTHER_METHOD));
            attributes.push(KeyValue::new(
                HTTP_REQUEST_METHOD_ORIGINAL,
                method.to_owned(),
            ));
            "HTTP".to_owned()
        }
    };
    attributes.push(KeyValue::new(URL_FULL, scrub_parsed(url, parsed)));
    if let Some(u) = parsed.filter(|u| !u.host.is_empty()) {
        attributes.push(KeyValue::new(
            SERVER_ADDRESS,
            u.host_without_brackets().to_owned(),
        ));
        if let Some(port) = u.port_or_default() {
            attributes.push(KeyValue::new(SERVER_PORT, i64::from(port)));
        }
    }
    ClientSpanStart { name, attributes }
}

/// How a request ended.
#[derive(Clone, Debug, PartialEq)]
pub enum HttpOutcome {
    /// A response arrived with this status (0 for an opaque response).
    Response(u16),
    /// The request failed before a response; the error's type (e.g. `TypeError`).
    NetworkError(String),
    /// The request timed out (XHR `timeout`).
    Timeout,
    /// The page aborted the request: not an error.
    Aborted,
}

/// How AWS X-Ray reads an HTTP status in a segment: `error` for a 4xx (the client's
/// mistake), `throttle` too for a 429, `fault` for a 5xx. OpenTelemetry marks only a CLIENT
/// span's 4xx as an error, so X-Ray documents and filter expressions need this reading.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XrayStatusFlags {
    /// A 4xx.
    pub error: bool,
    /// A 429.
    pub throttle: bool,
    /// A 5xx.
    pub fault: bool,
}

/// [`XrayStatusFlags`] of `status`.
pub fn xray_status_flags(status: u64) -> XrayStatusFlags {
    XrayStatusFlags {
        error: (400..500).contains(&status),
        throttle: status == 429,
        fault: (500..600).contains(&status),
    }
}

/// The attributes and status to set when a request ends: ERROR for 4xx/5xx (with
/// `error.type` = the status code), network errors and timeouts; an aborted request and
/// an opaque response leave the status unset.
pub fn client_span_end(outcome: &HttpOutcome) -> (Vec<KeyValue>, Status) {
    match outcome {
        HttpOutcome::Response(0) => (Vec::new(), Status::Unset),
        HttpOutcome::Response(code) => {
            let mut attrs = vec![KeyValue::new(HTTP_RESPONSE_STATUS_CODE, i64::from(*code))];
            if *code >= 400 {
                attrs.push(KeyValue::new(
                    ERROR_TYPE,
                    crate::text::decimal(u64::from(*code)),
                ));
                (attrs, Status::error(""))
            } else {
                (attrs, Status::Unset)
            }
        }
        HttpOutcome::NetworkError(kind) => {
            let kind = if kind.is_empty() {
                "_OTHER"
            } else {
                kind.as_str()
            };
            (
                vec![KeyValue::new(ERROR_TYPE, Value::from(kind.to_owned()))],
                Status::error(kind.to_owned()),
            )
        }
        HttpOutcome::Timeout => (
            vec![KeyValue::new(ERROR_TYPE, "timeout")],
            Status::error("timeout"),
        ),
        HttpOutcome::Aborted => (Vec::new(), Status::Unset),
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn xray_reads_4xx_as_error_429_as_throttle_5xx_as_fault() {
        let f = |e, t, x| XrayStatusFlags {
            error: e,
            throttle: t,
            fault: x,
        };
        for (status, want) in [
            (200, f(false, false, false)),
            (399, f(false, false, false)),
            (400, f(true, false, false)),
            (404, f(true, false, false)),
            (429, f(true, true, false)),
            (499, f(true, false, false)),
            (500, f(false, false, true)),
            (503, f(false, false, true)),
            (600, f(false, false, false)),
        ] {
            assert_eq!(xray_status_flags(status), want, "{status}");
        }
    }

    fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a Value> {
        attrs
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| &kv.value)
    }

    #[test]
    fn string_rules_match_at_boundaries() {
        let cases = [
            (
                "https://api.example.com/v1",
                "https://api.example.com",
                true,
            ),
            ("https://api.example.com", "https://api.example.com", true),
            ("https://api.example.com?q", "https://api.example.com", true),
            (
                "https://api.example.com.evil.net/",
                "https://api.example.com",
                false,
            ),
            (
                "https://api.example.com:8443/",
                "https://api.example.com",
                false,
            ),
            (
                "https://api.example.com/v10",
                "https://api.example.com/v1",
                false,
            ),
            (
                "https://api.example.com/v1/x",
                "https://api.example.com/v1/",
                true,
            ),
            ("https://x/", "", false),
        ];
        for (url, rule, want) in cases {
            assert_eq!(url_matches_rule(url, rule), want, "{url} vs {rule}");
        }
    }

    #[test]
    fn propagation_decision() {
        let page = Url::parse("http://127.0.0.1:5000/index.html").unwrap();
        let rules = vec!["http://127.0.0.1:6000".to_owned()];
        let no_regex = || false;
        assert!(should_propagate(
            "http://127.0.0.1:5000/api",
            Some(&page),
            &rules,
            no_regex
        ));
        assert!(should_propagate(
            "http://127.0.0.1:6000/api",
            Some(&page),
            &rules,
            no_regex
        ));
        assert!(!should_propagate(
            "http://127.0.0.1:7000/api",
            Some(&page),
            &rules,
            no_regex
        ));
        assert!(should_propagate(
            "http://127.0.0.1:7000/api",
            Some(&page),
            &rules,
            || true
        ));
        assert!(!should_propagate(
            "data:text/plain,x",
            Some(&page),
            &rules,
            || true
        ));
        assert!(!should_propagate("not a url", Some(&page), &rules, || true));
        assert!(!should_propagate(
            "http://127.0.0.1:5000/api",
            None,
            &[],
            no_regex
        ));
    }

    #[test]
    fn client_span_names_and_attributes() {
        let s = client_span_start(
            "POST",
            "https://user:pw@api.example.com/items?id=7&sig=abc#x",
        );
        assert_eq!(s.name, "POST");
        assert_eq!(
            attr(&s.attributes, HTTP_REQUEST_METHOD),
            Some(&Value::from("POST"))
        );
        assert_eq!(
            attr(&s.attributes, URL_FULL),
            Some(&Value::from(
                "https://REDACTED:REDACTED@api.example.com/items?id=REDACTED&sig=REDACTED"
            ))
        );
        assert_eq!(
            attr(&s.attributes, SERVER_ADDRESS),
            Some(&Value::from("api.example.com"))
        );
        assert_eq!(attr(&s.attributes, SERVER_PORT), Some(&Value::I64(443)));

        let other = client_span_start("purge", "http://[::1]:8080/");
        assert_eq!(other.name, "HTTP");
        assert_eq!(
            attr(&other.attributes, HTTP_REQUEST_METHOD),
            Some(&Value::from("_OTHER"))
        );
        assert_eq!(
            attr(&other.attributes, HTTP_REQUEST_METHOD_ORIGINAL),
            Some(&Value::from("purge"))
        );
        assert_eq!(
            attr(&other.attributes, SERVER_ADDRESS),
            Some(&Value::from("::1"))
        );
    }

    #[test]
    fn outcomes() {
        let (a, s) = client_span_end(&HttpOutcome::Response(200));
        assert_eq!(
            (attr(&a, HTTP_RESPONSE_STATUS_CODE), s),
            (Some(&Value::I64(200)), Status::Unset)
        );
        let (a, s) = client_span_end(&HttpOutcome::Response(404));
        assert_eq!(attr(&a, ERROR_TYPE), Some(&Value::from("404")));
        assert!(matches!(s, Status::Error { .. }));
        let (a, s) = client_span_end(&HttpOutcome::NetworkError("TypeError".into()));
        assert_eq!(attr(&a, ERROR_TYPE), Some(&Value::from("TypeError")));
        assert!(matches!(s, Status::Error { .. }));
        let (a, s) = client_span_end(&HttpOutcome::Aborted);
        assert_eq!((a.len(), s), (0, Status::Unset));
        let (_, s) = client_span_end(&HttpOutcome::Timeout);
        assert!(matches!(s, Status::Error { .. }));
    }
}
