//! Automatic root spans: the page load (`documentLoad`, from Navigation Timing) and user
//! interactions. Names and attributes follow OpenTelemetry JS's document-load and
//! user-interaction instrumentations, so Honeycomb boards built for those work unchanged.

use crate::model::{KeyValue, SpanContext};
use crate::prelude::*;

use crate::propagation::extract_span_context;
use crate::time::millis_to_unix_nanos;
use crate::web::http::{HTTP_RESPONSE_STATUS_CODE, URL_FULL};
use crate::web::url::scrub_url;

/// Name of the page-load span.
pub const DOCUMENT_LOAD_SPAN_NAME: &str = "documentLoad";
/// `event_type` on interaction spans (OpenTelemetry JS user-interaction).
pub const EVENT_TYPE: &str = "event_type";
/// `target_element`: the element's tag name.
pub const TARGET_ELEMENT: &str = "target_element";
/// `target_xpath`: where the element is in the document.
pub const TARGET_XPATH: &str = "target_xpath";
/// Interactions traced by default.
pub const DEFAULT_INTERACTION_EVENTS: [&str; 2] = ["click", "submit"];

/// `PerformanceNavigationTiming` fields recorded as events on the page-load span, in the
/// order they happen. Fields that are 0 (did not happen, e.g. `secureConnectionStart` on
/// http) are skipped.
pub const NAVIGATION_TIMING_EVENTS: [&str; 15] = [
    "fetchStart",
    "domainLookupStart",
    "domainLookupEnd",
    "connectStart",
    "secureConnectionStart",
    "connectEnd",
    "requestStart",
    "responseStart",
    "responseEnd",
    "domInteractive",
    "domContentLoadedEventStart",
    "domContentLoadedEventEnd",
    "domComplete",
    "loadEventStart",
    "loadEventEnd",
];

/// The remote parent a page load joins: the first valid `traceparent` among `candidates`
/// (the `<meta name="traceparent">` content, then `Server-Timing: traceparent` descriptions).
pub fn document_load_parent<S: AsRef<str>>(candidates: &[S]) -> Option<SpanContext> {
    candidates
        .iter()
        .find_map(|c| extract_span_context(&[c.as_ref().trim()], &[]))
}

/// Attributes of the page-load span when it starts.
pub fn document_load_attributes(page_url: Option<&str>) -> Vec<KeyValue> {
    page_url
        .map(|u| vec![KeyValue::new(URL_FULL, scrub_url(u))])
        .unwrap_or_default()
}

/// The page-load span's events from Navigation Timing `values` (milliseconds since the
/// time origin, in [`NAVIGATION_TIMING_EVENTS`] order), as `(name, epoch nanoseconds)`, and
/// its end time (`loadEventEnd`, else the last event). Zero, negative and missing values are
/// skipped.
pub fn navigation_events(
    values: &[f64],
    time_origin_ms: f64,
) -> (Vec<(&'static str, u64)>, Option<u64>) {
    let events: Vec<(&'static str, u64)> = NAVIGATION_TIMING_EVENTS
        .iter()
        .zip(values)
        .filter(|(_, v)| **v > 0.0)
        .filter_map(|(name, v)| Some((*name, millis_to_unix_nanos(time_origin_ms + v)?)))
        .collect();
    let end = events.last().map(|(_, t)| *t);
    (events, end)
}

/// Attributes of the page-load span from the navigation response (`responseStatus`, 0 when
/// the browser does not report it).
pub fn document_load_end_attributes(response_status: f64) -> Vec<KeyValue> {
    if (1.0..1000.0).contains(&response_status) {
        vec![KeyValue::new(
            HTTP_RESPONSE_STATUS_CODE,
            response_status as i64,
        )]
    } else {
        Vec::new()
    }
}

/// Attributes of an interaction span. `target` is the element's tag name and `xpath` its
/// path; empty ones are left out.
pub fn interaction_attributes(event_type: &str, target: &str, xpath: &str) -> Vec<KeyValue> {
    let mut attrs = vec![KeyValue::new(EVENT_TYPE, event_type.to_owned())];
    if !target.is_empty() {
        attrs.push(KeyValue::new(TARGET_ELEMENT, target.to_owned()));
    }
    if !xpath.is_empty() {
        attrs.push(KeyValue::new(TARGET_XPATH, xpath.to_owned()));
    }
    attrs
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::model::Value;

    #[test]
    fn parent_is_the_first_valid_traceparent() {
        let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert!(document_load_parent::<&str>(&[]).is_none());
        let p = document_load_parent(&["garbage", "", &format!(" {tp} ")]).unwrap();
        assert_eq!(p.trace_id().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert!(p.is_remote());
        assert!(p.is_sampled());
        let all_zero = "00-00000000000000000000000000000000-00f067aa0ba902b7-01";
        assert!(document_load_parent(&[all_zero]).is_none());
    }

    #[test]
    fn navigation_events_skip_what_did_not_happen() {
        let mut values = [0.0; 15];
        values[0] = 1.5; // fetchStart
        values[4] = 0.0; // secureConnectionStart on http
        values[14] = 120.25; // loadEventEnd
        let (events, end) = navigation_events(&values, 1_000_000.0);
        assert_eq!(
            events,
            vec![
                ("fetchStart", 1_000_001_500_000),
                ("loadEventEnd", 1_000_120_250_000)
            ]
        );
        assert_eq!(end, Some(1_000_120_250_000));
        let (events, end) = navigation_events(&[f64::NAN, -1.0], 1.0);
        assert!(events.is_empty());
        assert_eq!(end, None);
    }

    #[test]
    fn attributes() {
        let a = document_load_attributes(Some("https://shop.example/p?token=abc#x"));
        assert_eq!(a[0].key.as_str(), URL_FULL);
        assert_eq!(a[0].value.as_str(), "https://shop.example/p?token=REDACTED");
        assert!(document_load_end_attributes(0.0).is_empty());
        assert_eq!(
            document_load_end_attributes(200.0)[0].value,
            Value::I64(200)
        );
        let i = interaction_attributes("click", "BUTTON", "//*[@id=\"buy\"]");
        assert_eq!(i.len(), 3);
        assert_eq!(interaction_attributes("submit", "", "").len(), 1);
    }
}
