//! The HTTP side: routes, ingestion handlers, the JSON API and the UI files. Who may reach
//! them is decided first, by [`access::guard`].

use std::io::Read as _;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::{Body, Bytes, HttpBody as _};
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceResponse,
};
use prost::Message as _;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::access::{self, Access};
use crate::otlp::{self, Format};
use crate::otlp_logs;
use crate::relay::{Job, Relay};
use crate::rollbar;
use crate::store::{Store, now_ms};
use edge_telemetry_core::trace::xray_rules::RuleSet;
use edge_telemetry_core::trace::xray_rules::json::{
    get_sampling_rules_document, sampling_targets_document,
};

const INDEX_HTML: &str = include_str!("../ui/index.html");
const APP_JS: &str = include_str!("../ui/app.js");
const APP_CSS: &str = include_str!("../ui/app.css");

/// Default and largest `limit` of the list endpoints.
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 1000;

/// What the handlers share.
#[derive(Debug)]
pub struct AppState {
    pub store: Arc<Store>,
    pub relay: Relay,
    pub access: Arc<Access>,
    pub max_body_bytes: usize,
    /// What the X-Ray daemon port received.
    pub xray: Arc<crate::xray::XrayStats>,
    /// Named filter expressions (`--group`).
    pub groups: Arc<Vec<crate::groups::Group>>,
    /// Forwarding to AWS X-Ray, when configured.
    pub xray_forward: Option<crate::xray_forward::Forwarder>,
    /// Shipping log records to CloudWatch Logs, when configured.
    pub cloudwatch_logs: Option<crate::cloudwatch_logs::Shipper>,
    /// The sampling rules served to services (`--xray-sampling-rules`, else X-Ray's default).
    pub xray_rules: Arc<RuleSet>,
    /// What the sampling API served.
    pub xray_sampling: Arc<SamplingStats>,
}

/// Counters of the X-Ray sampling API (`/api/status` → `xray.sampling`).
#[derive(Debug, Default)]
pub struct SamplingStats {
    /// `GetSamplingRules` calls answered.
    pub rules_served: AtomicU64,
    /// Statistics documents received with `SamplingTargets`.
    pub statistics_received: AtomicU64,
    /// Requests the services reported sampled.
    pub sampled_reported: AtomicU64,
}

type Shared = State<Arc<AppState>>;

/// All routes.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route(access::TRACES_PATH, post(post_traces))
        .route(access::LOGS_PATH, post(post_logs))
        .route(access::ITEM_PATHS[0], post(post_item))
        .route(access::ITEM_PATHS[1], post(post_item))
        .route("/api/status", get(status))
        .route("/api/traces", get(list_traces))
        .route("/api/traces/{trace_id}", get(trace))
        .route("/api/search", get(search))
        .route(access::SAMPLING_PATHS[0], post(get_sampling_rules))
        .route(access::SAMPLING_PATHS[1], post(sampling_targets))
        .route("/api/groups", get(groups))
        .route("/api/groups/{name}", get(group_traces))
        .route("/api/errors", get(error_groups))
        .route("/api/errors/{uuid}", get(error))
        .route(
            "/",
            get(|| async { ui(INDEX_HTML, "text/html; charset=utf-8") }),
        )
        .route(
            "/index.html",
            get(|| async { ui(INDEX_HTML, "text/html; charset=utf-8") }),
        )
        .route(
            "/app.js",
            get(|| async { ui(APP_JS, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/app.css",
            get(|| async { ui(APP_CSS, "text/css; charset=utf-8") }),
        )
        .fallback(|| async { json_error(StatusCode::NOT_FOUND, "not found") })
        .layer(middleware::from_fn_with_state(
            state.access.clone(),
            access::guard,
        ))
        .with_state(state)
}

fn ui(text: &'static str, content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        text,
    )
        .into_response()
}

/// A JSON response that is never cached.
fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body.to_string(),
    )
        .into_response()
}

fn json_error(status: StatusCode, message: &str) -> Response {
    json_response(status, &json!({ "error": message }))
}

/// Why an ingest request failed.
#[derive(Debug)]
enum Rejection {
    BadRequest(String),
    TooLarge(String),
    Unsupported(String),
    Internal(String),
}

impl Rejection {
    fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unsupported(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
    fn message(&self) -> &str {
        match self {
            Self::BadRequest(m) | Self::TooLarge(m) | Self::Unsupported(m) | Self::Internal(m) => m,
        }
    }
}

/// `Content-Type` without parameters, lowercased.
fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next()?.trim().to_ascii_lowercase();
    (!essence.is_empty()).then_some(essence)
}

/// Whether the body is gzip (`Content-Encoding: gzip`); other codings are unsupported.
fn gzipped(headers: &HeaderMap) -> Result<bool, Rejection> {
    let Some(value) = headers.get(header::CONTENT_ENCODING) else {
        return Ok(false);
    };
    let value = value.to_str().unwrap_or("").trim().to_ascii_lowercase();
    match value.as_str() {
        "" | "identity" => Ok(false),
        "gzip" | "x-gzip" => Ok(true),
        other => Err(Rejection::Unsupported(format!(
            "unsupported Content-Encoding `{other}` (gzip or none)"
        ))),
    }
}

fn too_large(limit: usize) -> Rejection {
    Rejection::TooLarge(format!("request body over the limit of {limit} bytes"))
}

/// Bytes of an over-limit body read and thrown away before the 413, so that the client,
/// still sending, gets the answer instead of a reset connection. Larger bodies are cut off.
const DRAIN_LIMIT: u64 = 64 * 1024 * 1024;

/// Reads the whole body, at most `limit` bytes (413 beyond: the rest is read and dropped,
/// up to [`DRAIN_LIMIT`]).
async fn read_body(
    headers: &HeaderMap,
    mut body: Body,
    limit: usize,
) -> Result<Vec<u8>, Rejection> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        if declared.is_some_and(|n| n <= DRAIN_LIMIT) {
            drain(&mut body, DRAIN_LIMIT).await;
        }
        return Err(too_large(limit));
    }
    let mut out = Vec::with_capacity(declared.map_or(8192, |n| n as usize));
    while let Some(data) = next_frame(&mut body).await {
        let data = data.map_err(|e| Rejection::BadRequest(format!("cannot read the body: {e}")))?;
        if out.len() + data.len() > limit {
            drain(&mut body, DRAIN_LIMIT.saturating_sub(out.len() as u64)).await;
            return Err(too_large(limit));
        }
        out.extend_from_slice(&data);
    }
    Ok(out)
}

/// The next data of `body` (trailers give empty data).
async fn next_frame(body: &mut Body) -> Option<Result<axum::body::Bytes, axum::Error>> {
    std::future::poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx))
        .await
        .map(|f| f.map(|frame| frame.into_data().unwrap_or_default()))
}

/// Reads and drops up to `cap` more bytes of `body`.
async fn drain(body: &mut Body, cap: u64) {
    let mut seen = 0u64;
    while seen <= cap {
        match next_frame(body).await {
            Some(Ok(data)) => seen += data.len() as u64,
            _ => break,
        }
    }
}

/// Inflates a gzip body, at most `limit` bytes out.
fn gunzip(body: &[u8], limit: usize) -> Result<Vec<u8>, Rejection> {
    let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(limit));
    flate2::read::MultiGzDecoder::new(body)
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| Rejection::BadRequest(format!("invalid gzip body: {e}")))?;
    if out.len() > limit {
        return Err(Rejection::TooLarge(format!(
            "request body inflates to more than the limit of {limit} bytes"
        )));
    }
    Ok(out)
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Rejection> + Send + 'static,
) -> Result<T, Rejection> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Rejection::Internal(format!("worker failed: {e}")))?
}

/// An OTLP signal the collector takes in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    Traces,
    Logs,
}

impl Signal {
    /// Its OTLP/HTTP path.
    pub fn path(self) -> &'static str {
        match self {
            Self::Traces => access::TRACES_PATH,
            Self::Logs => access::LOGS_PATH,
        }
    }
}

/// `POST /v1/traces`.
async fn post_traces(State(app): Shared, request: Request) -> Response {
    post_otlp(app, request, Signal::Traces).await
}

/// `POST /v1/logs`.
async fn post_logs(State(app): Shared, request: Request) -> Response {
    post_otlp(app, request, Signal::Logs).await
}

/// An OTLP request of either signal: decoded, stored, relayed, answered in its format with
/// `partialSuccess` when some of it was rejected.
async fn post_otlp(app: Arc<AppState>, request: Request, signal: Signal) -> Response {
    let (parts, body) = request.into_parts();
    let path = signal.path();
    let mut response = match ingest_otlp(&app, &parts.headers, body, signal).await {
        Ok((format, (rejected, error_message), raw, gzip)) => {
            // Only the body goes upstream, with a content type of our own: nothing the client
            // sent as a header (its credentials included) is forwarded.
            app.relay.send(Job::Otlp {
                signal,
                body: raw,
                content_type: format.media_type().to_owned(),
                content_encoding: gzip.then(|| "gzip".to_owned()),
            });
            if rejected > 0 {
                eprintln!("edge-collector: POST {path}: {error_message}");
            }
            let rejected = (rejected > 0)
                .then(|| (i64::try_from(rejected).unwrap_or(i64::MAX), error_message));
            match (format, rejected, signal) {
                (Format::Protobuf, rejected, Signal::Traces) => protobuf(
                    ExportTraceServiceResponse {
                        partial_success: rejected.map(|(n, m)| ExportTracePartialSuccess {
                            rejected_spans: n,
                            error_message: m,
                        }),
                    }
                    .encode_to_vec(),
                ),
                (Format::Protobuf, rejected, Signal::Logs) => protobuf(
                    ExportLogsServiceResponse {
                        partial_success: rejected.map(|(n, m)| ExportLogsPartialSuccess {
                            rejected_log_records: n,
                            error_message: m,
                        }),
                    }
                    .encode_to_vec(),
                ),
                (Format::Json, Some((n, m)), signal) => {
                    let key = if signal == Signal::Logs {
                        "rejectedLogRecords"
                    } else {
                        "rejectedSpans"
                    };
                    // proto3 JSON writes 64-bit integers as strings.
                    json_response(
                        StatusCode::OK,
                        &json!({ "partialSuccess": { key: n.to_string(), "errorMessage": m } }),
                    )
                }
                (Format::Json, None, _) => json_response(StatusCode::OK, &json!({})),
            }
        }
        Err(rejection) => {
            eprintln!(
                "edge-collector: POST {path}: {} {}",
                rejection.status().as_u16(),
                rejection.message()
            );
            json_error(rejection.status(), rejection.message())
        }
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn protobuf(body: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "application/x-protobuf")], body).into_response()
}

/// Decodes and stores an OTLP request: the format, how many records were rejected and why,
/// the raw body (for the relay) and whether it was gzip.
async fn ingest_otlp(
    app: &Arc<AppState>,
    headers: &HeaderMap,
    body: Body,
    signal: Signal,
) -> Result<(Format, (u64, String), Vec<u8>, bool), Rejection> {
    let format = match media_type(headers).as_deref() {
        Some("application/json") => Format::Json,
        Some("application/x-protobuf" | "application/protobuf") => Format::Protobuf,
        Some(other) => {
            return Err(Rejection::Unsupported(format!(
                "unsupported Content-Type `{other}` (application/json or application/x-protobuf)"
            )));
        }
        None => {
            return Err(Rejection::Unsupported(
                "missing Content-Type (application/json or application/x-protobuf)".to_owned(),
            ));
        }
    };
    let gzip = gzipped(headers)?;
    let raw = read_body(headers, body, app.max_body_bytes).await?;
    let state = app.clone();
    blocking(move || {
        let inflated;
        let bytes = if gzip {
            inflated = gunzip(&raw, state.max_body_bytes)?;
            &inflated[..]
        } else {
            &raw[..]
        };
        let rejected = match signal {
            Signal::Traces => {
                let decoded = otlp::decode(bytes, format).map_err(Rejection::BadRequest)?;
                state
                    .store
                    .insert_spans(&decoded.spans)
                    .map_err(Rejection::Internal)?;
                if let Some(forward) = &state.xray_forward {
                    forward.send_spans(&decoded.spans, crate::store::now_ms() as u64 / 1000);
                }
                (decoded.rejected, decoded.error_message)
            }
            Signal::Logs => {
                let decoded = otlp_logs::decode(bytes, format).map_err(Rejection::BadRequest)?;
                state
                    .store
                    .insert_logs(&decoded.logs)
                    .map_err(Rejection::Internal)?;
                if let Some(shipper) = &state.cloudwatch_logs {
                    shipper.send_logs(&decoded.logs);
                }
                (decoded.rejected, decoded.error_message)
            }
        };
        Ok((format, rejected, raw, gzip))
    })
    .await
}

/// `POST /api/1/item/`.
async fn post_item(State(app): Shared, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let result = async {
        match media_type(&parts.headers).as_deref() {
            Some("application/json") => {}
            Some(other) => {
                return Err(Rejection::Unsupported(format!(
                    "unsupported Content-Type `{other}` (application/json)"
                )));
            }
            None => {
                return Err(Rejection::Unsupported(
                    "missing Content-Type (application/json)".to_owned(),
                ));
            }
        }
        let gzip = gzipped(&parts.headers)?;
        let raw = read_body(&parts.headers, body, app.max_body_bytes).await?;
        let state = app.clone();
        blocking(move || {
            let plain = if gzip {
                gunzip(&raw, state.max_body_bytes)?
            } else {
                raw
            };
            let item = rollbar::parse_item(&plain, now_ms()).map_err(Rejection::BadRequest)?;
            let inserted = state
                .store
                .insert_item(&item)
                .map_err(Rejection::Internal)?;
            Ok((item, inserted))
        })
        .await
    }
    .await;
    match result {
        Ok((item, inserted)) => {
            let uuid = item.uuid.clone();
            if inserted {
                app.relay.send(Job::Item {
                    body: item.item.into_bytes(),
                });
            }
            json_response(
                StatusCode::OK,
                &json!({ "err": 0, "result": { "id": null, "uuid": uuid } }),
            )
        }
        Err(rejection) => {
            eprintln!(
                "edge-collector: POST /api/1/item/: {} {}",
                rejection.status().as_u16(),
                rejection.message()
            );
            json_response(
                rejection.status(),
                &json!({ "err": 1, "message": rejection.message() }),
            )
        }
    }
}

/// Runs a query on the blocking pool; errors become 500.
async fn query(
    app: Arc<AppState>,
    f: impl FnOnce(&Store) -> Result<Option<Value>, String> + Send + 'static,
    not_found: &'static str,
) -> Response {
    let store = app.store.clone();
    match tokio::task::spawn_blocking(move || f(&store)).await {
        Ok(Ok(Some(value))) => json_response(StatusCode::OK, &value),
        Ok(Ok(None)) => json_error(StatusCode::NOT_FOUND, not_found),
        Ok(Err(e)) => {
            eprintln!("edge-collector: {e}");
            json_error(StatusCode::INTERNAL_SERVER_ERROR, &e)
        }
        Err(e) => json_error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

fn limit(text: Option<&str>) -> usize {
    text.and_then(|l| l.trim().parse::<usize>().ok())
        .filter(|&l| l > 0)
        .unwrap_or(DEFAULT_LIMIT)
        .min(MAX_LIMIT)
}

async fn status(State(app): Shared) -> Response {
    let relay = json!({
        "honeycomb": app.relay.honeycomb,
        "rollbar": app.relay.rollbar,
        "forwarded": app.relay.stats.forwarded.load(Ordering::Relaxed),
        "dropped": app.relay.stats.dropped.load(Ordering::Relaxed),
    });
    let access = json!({
        "locked": app.access.locked(),
        "refused": app.access.stats.refused.load(Ordering::Relaxed),
        "rateLimited": app.access.stats.rate_limited.load(Ordering::Relaxed),
    });
    let mut xray = app.xray.to_json();
    let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
    xray["sampling"] = json!({
        "rulesServed": n(&app.xray_sampling.rules_served),
        "statisticsReceived": n(&app.xray_sampling.statistics_received),
        "sampledReported": n(&app.xray_sampling.sampled_reported),
    });
    xray["forward"] = app
        .xray_forward
        .as_ref()
        .map_or(Value::Null, |f| f.stats.to_json());
    let cloudwatch = app
        .cloudwatch_logs
        .as_ref()
        .map_or(Value::Null, |s| s.stats.to_json());
    query(
        app,
        move |store| {
            let c = store.counts()?;
            Ok(Some(json!({
                "traces": c.traces,
                "spans": c.spans,
                "errors": c.errors,
                "logs": c.logs,
                "dbBytes": c.db_bytes,
                "relay": relay,
                "cloudwatchLogs": cloudwatch,
                "access": access,
                "xray": xray,
            })))
        },
        "",
    )
    .await
}

#[derive(Debug, Deserialize)]
struct ListParams {
    limit: Option<String>,
    service: Option<String>,
    q: Option<String>,
}

async fn list_traces(State(app): Shared, Query(p): Query<ListParams>) -> Response {
    let limit = limit(p.limit.as_deref());
    query(
        app,
        move |store| {
            store
                .list_traces(limit, p.service.as_deref(), p.q.as_deref())
                .map(Some)
        },
        "",
    )
    .await
}

/// `POST /GetSamplingRules`: the rules, as the X-Ray daemon answers the SDKs.
async fn get_sampling_rules(State(app): Shared) -> Response {
    app.xray_sampling
        .rules_served
        .fetch_add(1, Ordering::Relaxed);
    json_response(
        StatusCode::OK,
        &get_sampling_rules_document(&app.xray_rules),
    )
}

/// `POST /SamplingTargets`: takes the services' statistics and answers each rule's quota.
async fn sampling_targets(State(app): Shared, body: Bytes) -> Response {
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return json_error(StatusCode::BAD_REQUEST, "the body must be JSON");
    };
    let docs = request["SamplingStatisticsDocuments"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    let stats = &app.xray_sampling;
    stats
        .statistics_received
        .fetch_add(docs.len() as u64, Ordering::Relaxed);
    let sampled: u64 = docs.iter().filter_map(|d| d["SampledCount"].as_u64()).sum();
    stats.sampled_reported.fetch_add(sampled, Ordering::Relaxed);
    let now = now_ms() / 1000.0;
    json_response(
        StatusCode::OK,
        &sampling_targets_document(&app.xray_rules, &request, now),
    )
}

/// How many of the newest traces a group's expression is evaluated on.
const GROUP_SCAN: usize = 1000;

/// `/api/groups`: the groups and their filter expressions.
async fn groups(State(app): Shared) -> Response {
    let list: Vec<Value> = app
        .groups
        .iter()
        .map(|g| json!({ "name": g.name, "filterExpression": g.filter_expression }))
        .collect();
    json_response(StatusCode::OK, &json!({ "groups": list }))
}

/// `/api/groups/{name}`: the newest traces (of the last 1,000) the group's expression
/// matches, in `/api/traces`' shape.
async fn group_traces(
    State(app): Shared,
    Path(name): Path<String>,
    Query(p): Query<ListParams>,
) -> Response {
    let Some(group) = app.groups.iter().find(|g| g.name == name).cloned() else {
        return json_error(StatusCode::NOT_FOUND, "unknown group");
    };
    let limit = limit(p.limit.as_deref());
    query(
        app,
        move |store| {
            let listed = store.list_traces(GROUP_SCAN, None, None)?;
            let mut traces = Vec::new();
            for row in listed["traces"].as_array().into_iter().flatten() {
                let Some(id) = row["traceId"].as_str() else {
                    continue;
                };
                if let Some(trace) = store.trace(id)?
                    && crate::groups::TraceFacts::new(&trace).matches(&group.expr)
                {
                    traces.push(row.clone());
                    if traces.len() >= limit {
                        break;
                    }
                }
            }
            Ok(Some(json!({
                "group": group.name,
                "filterExpression": group.filter_expression,
                "traces": traces,
            })))
        },
        "",
    )
    .await
}

fn valid_hex_id(id: &str, len: usize) -> bool {
    id.len() == len && id.bytes().all(|b| b.is_ascii_hexdigit())
}

async fn trace(State(app): Shared, Path(trace_id): Path<String>) -> Response {
    let trace_id = trace_id.trim().to_ascii_lowercase();
    if !valid_hex_id(&trace_id, 32) {
        return json_error(
            StatusCode::NOT_FOUND,
            "unknown trace (ids are 32 hex digits)",
        );
    }
    query(app, move |store| store.trace(&trace_id), "unknown trace").await
}

#[derive(Debug, Deserialize)]
struct SearchParams {
    q: Option<String>,
    limit: Option<String>,
}

async fn search(State(app): Shared, Query(p): Query<SearchParams>) -> Response {
    let limit = limit(p.limit.as_deref());
    let text = p.q.unwrap_or_default();
    query(app, move |store| store.search(&text, limit).map(Some), "").await
}

#[derive(Debug, Deserialize)]
struct ErrorsParams {
    limit: Option<String>,
}

async fn error_groups(State(app): Shared, Query(p): Query<ErrorsParams>) -> Response {
    let limit = p.limit.as_deref().map_or(MAX_LIMIT, |l| limit(Some(l)));
    query(app, move |store| store.error_groups(limit).map(Some), "").await
}

async fn error(State(app): Shared, Path(uuid): Path<String>) -> Response {
    query(
        app,
        move |store| store.error(uuid.trim()),
        "unknown error item",
    )
    .await
}
