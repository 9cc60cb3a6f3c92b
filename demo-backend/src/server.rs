//! Routes, the middleware (the service crate's trace and CORS layers, the app's catch-panic
//! handling) and the handlers.

use crate::config::Config;
use crate::db::{Db, DbError};
use crate::report::{Origin, Reporter, install_panic_hook, take_panic};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
pub use edge_telemetry_axum::ErrorType;
use edge_telemetry_axum::TraceLayer;
use futures_util::FutureExt as _;
use opentelemetry::trace::TraceContextExt as _;
use serde_json::json;
use std::panic::AssertUnwindSafe;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// Shared by every request.
#[derive(Debug)]
pub struct AppState {
    /// The database.
    pub db: Arc<Db>,
    /// Rollbar items.
    pub reporter: Arc<Reporter>,
    /// Allowed CORS origins, exactly as browsers send `Origin`.
    pub origins: Vec<String>,
    /// The built frontend.
    pub static_dir: Option<PathBuf>,
    /// `config.json` for the frontend served from `static_dir`.
    pub frontend_config: String,
}

impl AppState {
    /// State for `config` around an opened database.
    pub fn new(config: &Config, db: Db) -> Self {
        install_panic_hook();
        Self {
            db: Arc::new(db),
            reporter: Arc::new(Reporter::new(config)),
            origins: config.allowed_origins.clone(),
            static_dir: config.static_dir.clone(),
            frontend_config: json!({
                "apiBase": "",
                "collector": config.collector,
                "rollbarEndpoint": format!("{}/api/1/item/", config.collector),
                "serviceName": "demo-frontend",
                // With an X-Ray daemon the page also sends X-Amzn-Trace-Id (and makes X-Ray ids).
                "xray": config.xray_daemon.is_some(),
            })
            .to_string(),
        }
    }
}

/// The whole app: API routes, static files (when configured), the app's own middleware
/// (panics, the span for error reports), the service crate's trace layer around every route,
/// and its CORS layer outside (preflights get no span).
pub fn router(state: Arc<AppState>) -> Router {
    let cors = edge_telemetry_axum::cors(&state.origins);
    Router::new()
        .route("/api/health", get(health))
        .route("/api/activities/home", get(home))
        .route("/api/activities", axum::routing::post(post_activity))
        .route("/api/fail", get(fail))
        .route("/api/panic", get(panic))
        .route("/config.json", get(frontend_config))
        .fallback(fallback)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            app_layer,
        ))
        .layer(TraceLayer::new())
        .layer(cors)
        .with_state(state)
}

/// The request's server span as handlers see it (an extension).
#[derive(Clone, Debug)]
pub struct RequestSpan {
    /// The span.
    pub span: tracing::Span,
    /// For error reports.
    pub origin: Origin,
}

/// Inside the trace layer, per request: the span (for error reports) as an extension, and
/// panics turned into 500 + a `critical` Rollbar item with the trace id.
async fn app_layer(State(app): State<Arc<AppState>>, mut request: Request, next: Next) -> Response {
    let span = tracing::Span::current();
    let span_context = span.context().span().span_context().clone();
    let path = request.uri().path().to_owned();
    let context = match request.extensions().get::<MatchedPath>() {
        Some(route) => format!("{} {}", request.method(), route.as_str()),
        None => request.method().to_string(),
    };
    let origin = Origin {
        context,
        path,
        trace_id: span_context
            .is_valid()
            .then(|| span_context.trace_id().to_string()),
        span_id: span_context
            .is_valid()
            .then(|| span_context.span_id().to_string()),
    };
    request.extensions_mut().insert(RequestSpan {
        span: span.clone(),
        origin: origin.clone(),
    });
    match AssertUnwindSafe(next.run(request)).catch_unwind().await {
        Ok(response) => response,
        Err(payload) => {
            let panic = take_panic(payload.as_ref());
            span.record("otel.status_description", panic.message.as_str());
            let reporter = app.reporter.clone();
            let sent = tokio::task::spawn_blocking(move || {
                reporter.send(&reporter.panic_item(&panic, &origin))
            })
            .await
            .unwrap_or_else(|e| Err(e.to_string()));
            let mut response = error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error",
                sent.map_err(|e| eprintln!("demo-backend: {e}")).ok(),
            );
            response.extensions_mut().insert(ErrorType("panic"));
            response
        }
    }
}

fn error_response(status: StatusCode, error: &str, uuid: Option<String>) -> Response {
    let body = match uuid {
        Some(uuid) => json!({ "error": error, "rollbarUuid": uuid }),
        None => json!({ "error": error }),
    };
    (status, Json(body)).into_response()
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// Runs `f` on the blocking pool inside the current span (so DB spans are its children).
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let span = tracing::Span::current();
    match tokio::task::spawn_blocking(move || span.in_scope(f)).await {
        Ok(value) => value,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

async fn home(
    State(app): State<Arc<AppState>>,
    request_span: Option<axum::Extension<RequestSpan>>,
) -> Response {
    let db = app.db.clone();
    match blocking(move || db.home(50)).await {
        Ok(activities) => {
            tracing::info!(activities = activities.len(), "home feed served");
            Json(json!({ "activities": activities })).into_response()
        }
        Err(e) => db_error(&app, e, request_span.map(|e| e.0)).await,
    }
}

async fn post_activity(
    State(app): State<Arc<AppState>>,
    request_span: Option<axum::Extension<RequestSpan>>,
    body: Bytes,
) -> Response {
    let parsed: Result<serde_json::Value, _> = serde_json::from_slice(&body);
    let field = |v: &serde_json::Value, name: &str| {
        v.get(name)
            .and_then(serde_json::Value::as_str)
            .map(str::trim)
            .map(str::to_owned)
    };
    let (handle, message) = match &parsed {
        Ok(v) => (field(v, "handle"), field(v, "message")),
        Err(_) => return bad_request("the body must be JSON: {\"handle\",\"message\"}"),
    };
    let handle = match handle {
        Some(h) if !h.is_empty() && h.chars().count() <= 40 => h,
        _ => return bad_request("handle: 1 to 40 characters"),
    };
    let message = match message {
        Some(m) if !m.is_empty() && m.chars().count() <= 280 => m,
        _ => return bad_request("message: 1 to 280 characters"),
    };
    let db = app.db.clone();
    match blocking(move || db.insert(&handle, &message)).await {
        Ok(activity) => {
            tracing::info!("activity posted");
            (StatusCode::CREATED, Json(json!({ "activity": activity }))).into_response()
        }
        Err(e) => db_error(&app, e, request_span.map(|e| e.0)).await,
    }
}

fn bad_request(error: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": error }))).into_response()
}

/// Fails on purpose: a real query against a table that does not exist.
async fn fail(
    State(app): State<Arc<AppState>>,
    request_span: Option<axum::Extension<RequestSpan>>,
) -> Response {
    let db = app.db.clone();
    match blocking(move || db.archived(1)).await {
        Ok(_) => Json(json!({ "status": "unexpectedly fine" })).into_response(),
        Err(e) => db_error(&app, e, request_span.map(|e| e.0)).await,
    }
}

/// Reports a database error as an `error` item and answers 500 with its uuid.
async fn db_error(app: &AppState, error: DbError, request_span: Option<RequestSpan>) -> Response {
    let message = error.to_string();
    tracing::error!(error = message.as_str(), "database error");
    let origin = match &request_span {
        Some(r) => {
            r.span.record("otel.status_description", message.as_str());
            r.origin.clone()
        }
        None => Origin::default(),
    };
    let reporter = app.reporter.clone();
    let sent = tokio::task::spawn_blocking(move || {
        let item = reporter.error_item(&error, "DbError", error.location, &origin);
        reporter.send(&item)
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    let mut response = error_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        &message,
        sent.map_err(|e| eprintln!("demo-backend: {e}")).ok(),
    );
    response.extensions_mut().insert(ErrorType("DbError"));
    response
}

#[allow(clippy::unused_async)]
async fn panic() -> Response {
    panic!("demo panic: /api/panic fails on purpose");
}

async fn frontend_config(State(app): State<Arc<AppState>>) -> Response {
    if app.static_dir.is_none() {
        return not_found();
    }
    (
        [(header::CONTENT_TYPE, "application/json")],
        app.frontend_config.clone(),
    )
        .into_response()
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Json(json!({ "error": "not found" }))).into_response()
}

/// Static files from `DEMO_STATIC_DIR` (index.html for unknown non-/api paths), else 404.
async fn fallback(
    State(app): State<Arc<AppState>>,
    method: Method,
    uri: axum::http::Uri,
) -> Response {
    let Some(dir) = &app.static_dir else {
        return not_found();
    };
    if uri.path().starts_with("/api/") || (method != Method::GET && method != Method::HEAD) {
        return not_found();
    }
    let relative = Path::new(uri.path().trim_start_matches('/'));
    let safe = relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)));
    let mut file = dir.join(relative);
    if !safe
        || relative.as_os_str().is_empty()
        || !tokio::fs::metadata(&file).await.is_ok_and(|m| m.is_file())
    {
        file = dir.join("index.html");
    }
    match tokio::fs::read(&file).await {
        Ok(bytes) => (
            [(header::CONTENT_TYPE, content_type(&file))],
            Body::from(bytes),
        )
            .into_response(),
        Err(_) => not_found(),
    }
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}
