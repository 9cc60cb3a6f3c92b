//! The CORS settings that let a page on another origin send the trace headers.

use http::{HeaderName, HeaderValue, Method, header};
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The request headers edge-telemetry's browser package may add: W3C Trace Context and
/// Baggage, and AWS X-Ray's (`addXRayTraceIdHeader`). A cross-origin request that carries
/// any of them is preflighted, and fails unless the service allows each one.
pub const TRACE_HEADERS: [HeaderName; 4] = [
    HeaderName::from_static("traceparent"),
    HeaderName::from_static("tracestate"),
    HeaderName::from_static("baggage"),
    HeaderName::from_static("x-amzn-trace-id"),
];

/// A `tower-http` [`CorsLayer`] for the page origins in `origins` (exactly as browsers send
/// `Origin`, e.g. `https://shop.example`): it allows [`TRACE_HEADERS`] and `Content-Type`,
/// the usual methods, exposes `Server-Timing` (so the page can link its span to the
/// server's), and caches preflights for 10 minutes. Other origins get no CORS headers.
/// Origins that are not valid header values are skipped. Adjust it with `CorsLayer`'s own
/// methods (for example `.allow_methods(...)`).
///
/// Put it outside [`crate::TraceLayer`] (`.layer(TraceLayer::new()).layer(cors(...))`) so
/// preflights are answered without a span.
pub fn cors<I, S>(origins: I) -> CorsLayer
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let origins: Vec<HeaderValue> = origins
        .into_iter()
        .filter_map(|o| HeaderValue::from_str(o.as_ref()).ok())
        .collect();
    let mut allow_headers = TRACE_HEADERS.to_vec();
    allow_headers.push(header::CONTENT_TYPE);
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_headers(allow_headers)
        .allow_methods([
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .expose_headers([HeaderName::from_static("server-timing")])
        .max_age(Duration::from_secs(600))
}
