//! [`HeaderMapCarrier`]: an `http::HeaderMap` as an OpenTelemetry [`Extractor`].

use opentelemetry::propagation::Extractor;

/// An [`Extractor`] over an `http::HeaderMap` that returns *every* value of a header from
/// [`Extractor::get_all`], in order, which is what
/// [`edge_telemetry_core::propagation::W3cPropagator`] (and
/// [`crate::TracePropagator`]) needs to see two `traceparent`
/// headers (invalid) or a `tracestate` split over several lines (combined). A value that is
/// not visible ASCII is passed on as an empty string, so it still counts (and is invalid)
/// rather than silently disappearing.
#[derive(Debug, Clone, Copy)]
pub struct HeaderMapCarrier<'a>(pub &'a http::HeaderMap);

impl Extractor for HeaderMapCarrier<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|v| v.to_str().unwrap_or(""))
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }

    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        let all: Vec<&str> = self
            .0
            .get_all(key)
            .iter()
            .map(|v| v.to_str().unwrap_or(""))
            .collect();
        (!all.is_empty()).then_some(all)
    }
}
