//! Exporter configuration for a Honeycomb-style OTLP/HTTP JSON endpoint: the traces URL and
//! the request headers, following `@honeycombio/opentelemetry-web`.

use crate::prelude::*;
/// Endpoint when the app gives none (Honeycomb US).
pub const DEFAULT_ENDPOINT: &str = "https://api.honeycomb.io";
/// OTLP/HTTP traces path, appended to `endpoint`.
pub const TRACES_PATH: &str = "/v1/traces";
pub use crate::export::otlp_logs::LOGS_PATH;
/// Header carrying the API key.
pub const HONEYCOMB_TEAM_HEADER: &str = "x-honeycomb-team";
/// Header carrying the dataset (classic keys only).
pub const HONEYCOMB_DATASET_HEADER: &str = "x-honeycomb-dataset";
/// `content-type` header name.
pub const CONTENT_TYPE_HEADER: &str = "content-type";
/// Content type of OTLP/HTTP JSON.
pub const JSON_CONTENT_TYPE: &str = "application/json";

/// A configuration that works but probably not as intended; logged in debug mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExporterWarning {
    /// `dataset` was given with an environment (non-classic) key, which ignores it: the
    /// dataset is named after `serviceName`. Remove `dataset` or set `serviceName`.
    DatasetIgnored,
    /// A classic key was given without `dataset`; Honeycomb needs one. Set `dataset`.
    DatasetMissing,
}

impl ExporterWarning {
    /// A one-line message for the console.
    pub fn message(self) -> &'static str {
        match self {
            Self::DatasetIgnored => {
                "dataset is ignored: the API key is not a classic key, so the dataset is named after serviceName"
            }
            Self::DatasetMissing => "missing dataset: a classic API key needs the `dataset` option",
        }
    }
}

/// The traces URL. `traces_endpoint` is used as given; otherwise `endpoint` (default
/// [`DEFAULT_ENDPOINT`]) with [`TRACES_PATH`] appended unless its path already ends with
/// it (or with it and `/`). Trailing slashes do not double, and a query string or fragment
/// stays after the path. Empty strings count as absent.
pub fn traces_url(endpoint: Option<&str>, traces_endpoint: Option<&str>) -> String {
    if let Some(url) = traces_endpoint.filter(|s| !s.is_empty()) {
        return url.to_owned();
    }
    signal_url(endpoint, TRACES_PATH)
}

/// The logs URL, or `None` when logs have nowhere to go. `logs_endpoint` is used as given;
/// otherwise `endpoint` with [`LOGS_PATH`] in place of a trailing [`TRACES_PATH`], or
/// appended (as [`traces_url`] does); with neither, [`DEFAULT_ENDPOINT`]'s when an API key
/// is given (Honeycomb). A page that gives only `tracesEndpoint` sends no logs: the traces
/// URL says nothing about where logs go.
///
/// ```
/// use edge_telemetry_core::export::exporter::logs_url;
///
/// assert_eq!(logs_url(Some("/otlp"), None, false).as_deref(), Some("/otlp/v1/logs"));
/// assert_eq!(logs_url(Some("https://c.example/v1/traces"), None, false).as_deref(), Some("https://c.example/v1/logs"));
/// assert_eq!(logs_url(None, None, true).as_deref(), Some("https://api.honeycomb.io/v1/logs"));
/// assert_eq!(logs_url(None, Some("https://l.example/in"), false).as_deref(), Some("https://l.example/in"));
/// assert_eq!(logs_url(None, None, false), None);
/// ```
pub fn logs_url(
    endpoint: Option<&str>,
    logs_endpoint: Option<&str>,
    api_key: bool,
) -> Option<String> {
    if let Some(url) = logs_endpoint.filter(|s| !s.is_empty()) {
        return Some(url.to_owned());
    }
    let endpoint = endpoint.filter(|s| !s.is_empty());
    (endpoint.is_some() || api_key).then(|| signal_url(endpoint, LOGS_PATH))
}

/// `endpoint` (default [`DEFAULT_ENDPOINT`]) with the signal's `path` at the end of its path:
/// appended, or in place of a trailing [`TRACES_PATH`] or [`LOGS_PATH`] (with or without a
/// `/` after it). A query string or fragment stays after the path.
fn signal_url(endpoint: Option<&str>, path: &str) -> String {
    let endpoint = endpoint
        .filter(|s| !s.is_empty())
        .unwrap_or(DEFAULT_ENDPOINT);
    let cut = endpoint.find(['?', '#']).unwrap_or(endpoint.len());
    let (base, rest) = (
        crate::text::upto(endpoint, cut),
        crate::text::after(endpoint, cut),
    );
    let trimmed = base.strip_suffix('/').unwrap_or(base);
    if trimmed.ends_with(path) {
        return endpoint.to_owned();
    }
    let base = [TRACES_PATH, LOGS_PATH]
        .iter()
        .find_map(|p| trimmed.strip_suffix(p))
        .unwrap_or(base);
    let mut url = String::with_capacity(endpoint.len() + path.len());
    url.push_str(base.trim_end_matches('/'));
    url.push_str(path);
    url.push_str(rest);
    url
}

/// Whether `key` is a Honeycomb classic key, exactly as `honeycomb-opentelemetry-web`
/// decides: 32 characters of `[0-9a-f]`, or 64 characters matching `^hc[a-z]ic_[0-9a-z]*$`
/// (classic ingest keys).
pub fn is_classic_key(key: &str) -> bool {
    let b = key.as_bytes();
    match b.len() {
        32 => b.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')),
        64 => {
            b.starts_with(b"hc")
                && b[2].is_ascii_lowercase()
                && &b[3..6] == b"ic_"
                && b[6..]
                    .iter()
                    .all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'z'))
        }
        _ => false,
    }
}

/// Export request headers, in order: `content-type: application/json`, then
/// `x-honeycomb-team` (when `api_key`), then `x-honeycomb-dataset` (only for a classic key
/// with a dataset), then `extra` (the user's headers). A user header replaces any earlier
/// header of the same name, compared case-insensitively, so names are unique. Empty
/// `api_key` and `dataset` count as absent. The warnings never contain the key.
pub fn export_headers(
    api_key: Option<&str>,
    dataset: Option<&str>,
    extra: &[(String, String)],
) -> (Vec<(String, String)>, Vec<ExporterWarning>) {
    let api_key = api_key.filter(|s| !s.is_empty());
    let dataset = dataset.filter(|s| !s.is_empty());
    let mut headers = Vec::with_capacity(3 + extra.len());
    let mut warnings = Vec::new();
    headers.push((CONTENT_TYPE_HEADER.to_owned(), JSON_CONTENT_TYPE.to_owned()));
    if let Some(key) = api_key {
        headers.push((HONEYCOMB_TEAM_HEADER.to_owned(), key.to_owned()));
        match (is_classic_key(key), dataset) {
            (true, Some(dataset)) => {
                headers.push((HONEYCOMB_DATASET_HEADER.to_owned(), dataset.to_owned()))
            }
            (true, None) => warnings.push(ExporterWarning::DatasetMissing),
            (false, Some(_)) => warnings.push(ExporterWarning::DatasetIgnored),
            (false, None) => {}
        }
    }
    for (name, value) in extra {
        headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        headers.push((name.clone(), value.clone()));
    }
    (headers, warnings)
}

/// Seconds before an error that a Honeycomb trace link searches from (the trace may have
/// started well before the error).
pub const TRACE_LINK_LOOKBACK_SECS: u64 = 3600;
/// Seconds after an error that a Honeycomb trace link searches to.
pub const TRACE_LINK_LOOKAHEAD_SECS: u64 = 600;

/// A direct link to a trace in Honeycomb's UI ("Share a Trace"):
/// `https://ui.honeycomb.io/<team>/environments/<env>/datasets/<dataset>/trace?trace_id=…&span=…&trace_start_ts=…&trace_end_ts=…`,
/// searching from an hour before `at_secs` (Unix seconds) to ten minutes after. For OTLP
/// data the dataset is the service name. Path segments are percent-encoded.
pub fn honeycomb_trace_url(
    team: &str,
    environment: &str,
    dataset: &str,
    trace_id: &str,
    span_id: &str,
    at_secs: u64,
) -> String {
    let mut url = String::from("https://ui.honeycomb.io/");
    push_segment(&mut url, team);
    url.push_str("/environments/");
    push_segment(&mut url, environment);
    url.push_str("/datasets/");
    push_segment(&mut url, dataset);
    url.push_str("/trace?trace_id=");
    url.push_str(trace_id);
    url.push_str("&span=");
    url.push_str(span_id);
    url.push_str("&trace_start_ts=");
    crate::json::push_u64(at_secs.saturating_sub(TRACE_LINK_LOOKBACK_SECS), &mut url);
    url.push_str("&trace_end_ts=");
    crate::json::push_u64(at_secs.saturating_add(TRACE_LINK_LOOKAHEAD_SECS), &mut url);
    url
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn push_segment(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    const CLASSIC: &str = "0123456789abcdef0123456789abcdef";
    const INGEST_CLASSIC: &str = "hcaic_0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijkl";
    const ENV_KEY: &str = "bMQrTbM6Jezm7knh9p24rG";

    #[test]
    fn traces_urls() {
        let cases: &[(Option<&str>, Option<&str>, &str)] = &[
            (None, None, "https://api.honeycomb.io/v1/traces"),
            (Some(""), Some(""), "https://api.honeycomb.io/v1/traces"),
            (
                Some("https://api.eu1.honeycomb.io"),
                None,
                "https://api.eu1.honeycomb.io/v1/traces",
            ),
            (
                Some("https://api.eu1.honeycomb.io/"),
                None,
                "https://api.eu1.honeycomb.io/v1/traces",
            ),
            (
                Some("http://localhost:4318//"),
                None,
                "http://localhost:4318/v1/traces",
            ),
            (
                Some("https://collector.example.com/otlp"),
                None,
                "https://collector.example.com/otlp/v1/traces",
            ),
            (
                Some("https://collector.example.com/otlp/"),
                None,
                "https://collector.example.com/otlp/v1/traces",
            ),
            (
                Some("https://c.example/v1/traces"),
                None,
                "https://c.example/v1/traces",
            ),
            (
                Some("https://c.example/v1/traces/"),
                None,
                "https://c.example/v1/traces/",
            ),
            (
                Some("https://c.example/otlp/v1/traces"),
                None,
                "https://c.example/otlp/v1/traces",
            ),
            // Only a whole path segment counts.
            (
                Some("https://c.example/xv1/traces"),
                None,
                "https://c.example/xv1/traces/v1/traces",
            ),
            // Query strings and fragments stay after the path.
            (
                Some("https://c.example?token=a/v1/traces"),
                None,
                "https://c.example/v1/traces?token=a/v1/traces",
            ),
            (
                Some("https://c.example/otlp/?a=1&b=2"),
                None,
                "https://c.example/otlp/v1/traces?a=1&b=2",
            ),
            (
                Some("https://c.example/v1/traces?a=1"),
                None,
                "https://c.example/v1/traces?a=1",
            ),
            (
                Some("https://c.example#frag"),
                None,
                "https://c.example/v1/traces#frag",
            ),
            // tracesEndpoint wins and is used as given.
            (
                Some("https://ignored.example"),
                Some("https://t.example/custom"),
                "https://t.example/custom",
            ),
            (None, Some("https://t.example/"), "https://t.example/"),
        ];
        for &(endpoint, traces_endpoint, expected) in cases {
            assert_eq!(
                traces_url(endpoint, traces_endpoint),
                expected,
                "{endpoint:?} {traces_endpoint:?}"
            );
        }
    }

    #[test]
    fn classic_keys() {
        let cases: &[(&str, bool)] = &[
            (CLASSIC, true),
            ("ffffffffffffffffffffffffffffffff", true),
            (INGEST_CLASSIC, true),
            (
                "hczic_0000000000000000000000000000000000000000000000000000000000",
                true,
            ),
            (ENV_KEY, false),
            ("", false),
            // Uppercase hex is not classic (the upstream regex is lowercase).
            ("0123456789ABCDEF0123456789ABCDEF", false),
            ("0123456789abcdef0123456789abcde", false),
            ("0123456789abcdef0123456789abcdef0", false),
            ("0123456789abcdeg0123456789abcdef", false),
            // Ingest key shape but the wrong length.
            ("hcaic_0123", false),
            (
                "hcaic_0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklm",
                false,
            ),
            // Ingest key of the right length with a bad prefix or character.
            (
                "hcAic_0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijkl",
                false,
            ),
            (
                "hc1ic_0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijkl",
                false,
            ),
            (
                "hcaik_0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijkl",
                false,
            ),
            (
                "hcaic-0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijkl",
                false,
            ),
            (
                "hcaic_0123456789ABCDEFghijklmnopqrstuvwxyz0123456789abcdefghijkl",
                false,
            ),
            (
                "xcaic_0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijkl",
                false,
            ),
            // 64 characters of hex is not a classic key.
            (
                "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                false,
            ),
        ];
        for &(key, classic) in cases {
            assert_eq!(is_classic_key(key), classic, "{key}");
        }
        assert_eq!(INGEST_CLASSIC.len(), 64);
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|&(n, v)| (n.to_owned(), v.to_owned()))
            .collect()
    }

    #[test]
    fn headers_and_warnings() {
        use ExporterWarning::*;
        let ct = (CONTENT_TYPE_HEADER, JSON_CONTENT_TYPE);
        type Case<'a> = (
            Option<&'a str>,
            Option<&'a str>,
            Vec<(&'a str, &'a str)>,
            Vec<ExporterWarning>,
        );
        let cases: Vec<Case> = vec![
            (None, None, vec![ct], vec![]),
            (Some(""), Some(""), vec![ct], vec![]),
            // No key: nothing to check the dataset against.
            (None, Some("ds"), vec![ct], vec![]),
            (
                Some(ENV_KEY),
                None,
                vec![ct, (HONEYCOMB_TEAM_HEADER, ENV_KEY)],
                vec![],
            ),
            (
                Some(ENV_KEY),
                Some("ds"),
                vec![ct, (HONEYCOMB_TEAM_HEADER, ENV_KEY)],
                vec![DatasetIgnored],
            ),
            (
                Some(CLASSIC),
                Some("ds"),
                vec![
                    ct,
                    (HONEYCOMB_TEAM_HEADER, CLASSIC),
                    (HONEYCOMB_DATASET_HEADER, "ds"),
                ],
                vec![],
            ),
            (
                Some(INGEST_CLASSIC),
                Some("ds"),
                vec![
                    ct,
                    (HONEYCOMB_TEAM_HEADER, INGEST_CLASSIC),
                    (HONEYCOMB_DATASET_HEADER, "ds"),
                ],
                vec![],
            ),
            (
                Some(CLASSIC),
                None,
                vec![ct, (HONEYCOMB_TEAM_HEADER, CLASSIC)],
                vec![DatasetMissing],
            ),
            (
                Some(CLASSIC),
                Some(""),
                vec![ct, (HONEYCOMB_TEAM_HEADER, CLASSIC)],
                vec![DatasetMissing],
            ),
        ];
        for (key, dataset, headers, warnings) in cases {
            assert_eq!(
                export_headers(key, dataset, &[]),
                (pairs(&headers), warnings),
                "{key:?} {dataset:?}"
            );
        }
    }

    #[test]
    fn user_headers_replace_ours() {
        let extra = pairs(&[
            ("X-Honeycomb-Team", "user-key"),
            ("x-custom", "1"),
            ("Content-Type", "application/x-protobuf"),
            ("X-CUSTOM", "2"),
        ]);
        let (headers, _) = export_headers(Some(CLASSIC), Some("ds"), &extra);
        assert_eq!(
            headers,
            pairs(&[
                (HONEYCOMB_DATASET_HEADER, "ds"),
                ("X-Honeycomb-Team", "user-key"),
                ("Content-Type", "application/x-protobuf"),
                ("X-CUSTOM", "2"),
            ])
        );
    }

    #[test]
    fn warning_messages_name_the_option() {
        for w in [
            ExporterWarning::DatasetIgnored,
            ExporterWarning::DatasetMissing,
        ] {
            assert!(w.message().contains("dataset"), "{w:?}");
        }
    }

    #[test]
    fn honeycomb_trace_links_name_team_environment_dataset_and_time_range() {
        assert_eq!(
            honeycomb_trace_url(
                "acme",
                "prod",
                "shop web",
                "4bf92f3577b34da6a3ce929d0e0e4736",
                "00f067aa0ba902b7",
                1_700_000_000
            ),
            "https://ui.honeycomb.io/acme/environments/prod/datasets/shop%20web/trace?trace_id=4bf92f3577b34da6a3ce929d0e0e4736&span=00f067aa0ba902b7&trace_start_ts=1699996400&trace_end_ts=1700000600"
        );
    }
}
