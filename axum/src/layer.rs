//! [`TraceLayer`]: the SERVER span of each request, continuing the caller's trace.

use crate::carrier::HeaderMapCarrier;
use axum::extract::MatchedPath;
use edge_telemetry_core::model::TraceFlags;
use edge_telemetry_core::propagation::{TracePropagator, format_traceparent, trace_flags_to_send};
use edge_telemetry_core::web::url::scrub_query_into;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Request, Response};
use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry::trace::TraceContextExt as _;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tracing::Instrument as _;
use tracing::field::Empty;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// A response extension that names the error behind a 5xx for the span's `error.type`
/// (otherwise the status code is used): `response.extensions_mut().insert(ErrorType("DbError"))`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorType(pub &'static str);

/// The `tower::Layer` that traces each request (see the crate's documentation). Apply it
/// with axum's `Router::layer` after the routes (and fallback), so `http.route` and the
/// span name come from the matched route.
#[derive(Clone, Copy, Debug, Default)]
pub struct TraceLayer {
    propagator: TracePropagator,
}

impl TraceLayer {
    /// Extracts W3C Trace Context, then X-Ray's header.
    pub const fn new() -> Self {
        Self {
            propagator: TracePropagator::new(),
        }
    }
}

impl<S> tower_layer::Layer<S> for TraceLayer {
    type Service = TraceService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TraceService {
            inner,
            propagator: self.propagator,
        }
    }
}

/// The service [`TraceLayer`] wraps around `S`.
#[derive(Clone, Debug)]
pub struct TraceService<S> {
    inner: S,
    propagator: TracePropagator,
}

/// `traceparent;desc="00-…"`: the `Server-Timing` entry that names the span in `cx`, for a
/// valid span context. The flags are [`trace_flags_to_send`]'s (the W3C `random` flag set
/// on traces started here, kept as received on continued ones).
pub fn server_timing(cx: &opentelemetry::Context) -> Option<String> {
    let span = cx.span();
    let sc = span.span_context();
    sc.is_valid().then(|| {
        format!(
            "traceparent;desc=\"{}\"",
            format_traceparent(
                sc.trace_id().into(),
                sc.span_id().into(),
                TraceFlags::new(trace_flags_to_send(cx))
            )
        )
    })
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B, RB> tower_service::Service<Request<B>> for TraceService<S>
where
    S: tower_service::Service<Request<B>, Response = Response<RB>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    RB: Send + 'static,
{
    type Response = Response<RB>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response<RB>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let span = request_span(&request);
        let parent = self
            .propagator
            .extract(&HeaderMapCarrier(request.headers()));
        let _ = span.set_parent(parent);
        let timing = server_timing(&span.context());
        let future = {
            let _entered = span.enter();
            self.inner.call(request)
        };
        Box::pin(
            async move {
                let span = tracing::Span::current();
                let mut response = future.await?;
                record_response(&span, &response);
                if let Some(value) = timing.and_then(|v| HeaderValue::from_str(&v).ok()) {
                    response
                        .headers_mut()
                        .append(HeaderName::from_static("server-timing"), value);
                }
                Ok(response)
            }
            .instrument(span),
        )
    }
}

/// The SERVER span for `request`, named `METHOD route` (or `METHOD` without a route).
fn request_span<B>(request: &Request<B>) -> tracing::Span {
    let method = request.method();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    let name = match route {
        Some(route) => format!("{method} {route}"),
        None => method.to_string(),
    };
    let headers = request.headers();
    let (host, port) = host_and_port(headers);
    let uri = request.uri();
    let query = uri.query().map(|q| {
        let mut out = String::with_capacity(q.len() + 16);
        scrub_query_into(&mut out, q);
        out
    });
    tracing::info_span!(
        "request",
        otel.name = %name,
        otel.kind = "server",
        otel.status_code = Empty,
        otel.status_description = Empty,
        "http.request.method" = %method,
        "http.route" = route,
        "http.response.status_code" = Empty,
        "url.path" = uri.path(),
        "url.scheme" = uri.scheme_str().unwrap_or("http"),
        "url.query" = query.as_deref(),
        "server.address" = host.as_deref(),
        "server.port" = port.map(i64::from),
        "user_agent.original" = header_str(headers, &header::USER_AGENT),
        "network.protocol.version" = protocol_version(request.version()),
        "error.type" = Empty,
    )
}

fn record_response<RB>(span: &tracing::Span, response: &Response<RB>) {
    let status = response.status();
    span.record("http.response.status_code", i64::from(status.as_u16()));
    if status.is_server_error() {
        span.record("otel.status_code", "error");
        match response.extensions().get::<ErrorType>() {
            Some(ErrorType(named)) => span.record("error.type", *named),
            None => span.record("error.type", status.as_str()),
        };
    }
}

fn protocol_version(version: http::Version) -> &'static str {
    match version {
        http::Version::HTTP_09 => "0.9",
        http::Version::HTTP_10 => "1.0",
        http::Version::HTTP_2 => "2",
        http::Version::HTTP_3 => "3",
        _ => "1.1",
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `server.address` and `server.port` from `Host`.
fn host_and_port(headers: &HeaderMap) -> (Option<String>, Option<u16>) {
    let Some(host) = header_str(headers, &header::HOST) else {
        return (None, None);
    };
    match host.rsplit_once(':') {
        Some((name, port)) if !name.ends_with(']') || host.starts_with('[') => {
            match port.parse::<u16>() {
                Ok(port) => (Some(name.to_owned()), Some(port)),
                Err(_) => (Some(host.to_owned()), None),
            }
        }
        _ => (Some(host.to_owned()), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_port_cases() {
        let mut h = HeaderMap::new();
        assert_eq!(host_and_port(&h), (None, None));
        for (host, want) in [
            ("shop.example:8080", (Some("shop.example"), Some(8080))),
            ("shop.example", (Some("shop.example"), None)),
            ("[::1]:3000", (Some("[::1]"), Some(3000))),
            ("[::1]", (Some("[::1]"), None)),
            ("shop.example:x", (Some("shop.example:x"), None)),
        ] {
            h.insert(header::HOST, HeaderValue::from_static(host));
            let (name, port) = host_and_port(&h);
            assert_eq!((name.as_deref(), port), want, "{host}");
        }
    }
}
