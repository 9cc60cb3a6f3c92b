//! Who may do what, decided before any handler runs.
//!
//! - **Host.** A request whose `Host` is not an IP literal, `localhost` or a configured name
//!   (`--allowed-host`) is refused: a DNS-rebinding page reaches us under its own name.
//! - **Reads** (the UI and the JSON API) are same-origin only: no CORS headers, no
//!   private-network permission, and an API request that a browser marks as coming from
//!   another origin (`Origin`, `Sec-Fetch-Site`) is refused outright. With a read token
//!   configured they also need the token (`Authorization: Bearer`) or a login session (an
//!   `HttpOnly`, `SameSite=Strict` cookie set by `POST /login`).
//! - **Ingestion** (`POST` to [`INGEST_PATHS`]) from a browser is open to the origins named
//!   with `--allow-origin` only, and only those get CORS and private-network answers. Without
//!   `Origin` (a server, curl) it is accepted from loopback peers, and from other peers only
//!   with the ingest token. Each client (peer address and origin) has a token bucket; past it
//!   the answer is `429` with `Retry-After`.
//!
//! The decisions are plain functions of plain values ([`host_allowed`], [`Access::ingest`],
//! [`RateLimiter::check`]); [`guard`] is the middleware that applies them.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::extract::connect_info::ConnectInfo;
use axum::extract::rejection::ExtensionRejection;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::config::{Config, RateLimit, is_loopback, normalize_origin};

/// OTLP/HTTP traces.
pub const TRACES_PATH: &str = "/v1/traces";
/// OTLP/HTTP logs.
pub const LOGS_PATH: &str = "/v1/logs";
/// Rollbar items, as Rollbar spells it and without the final slash.
pub const ITEM_PATHS: [&str; 2] = ["/api/1/item/", "/api/1/item"];
/// The paths a browser or a service posts telemetry to. Everything else is a read.
/// The X-Ray daemon's sampling API, answered for services as the daemon's TCP port does.
pub const SAMPLING_PATHS: [&str; 2] = ["/GetSamplingRules", "/SamplingTargets"];
pub const INGEST_PATHS: [&str; 6] = [
    TRACES_PATH,
    LOGS_PATH,
    ITEM_PATHS[0],
    ITEM_PATHS[1],
    SAMPLING_PATHS[0],
    SAMPLING_PATHS[1],
];
/// The login page and form target.
pub const LOGIN_PATH: &str = "/login";
/// Ends a login session.
pub const LOGOUT_PATH: &str = "/logout";
/// The session cookie's name.
pub const SESSION_COOKIE: &str = "edge_collector_session";
/// How long a login session lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// At most this many login sessions; the oldest goes first.
const MAX_SESSIONS: usize = 1024;
/// Login attempts: a burst of this many per client, then one per [`LOGIN_INTERVAL`].
const LOGIN_BURST: u32 = 10;
const LOGIN_INTERVAL: Duration = Duration::from_secs(6);
/// Foreign origins logged once each, up to this many.
const MAX_LOGGED_ORIGINS: usize = 64;
/// Headers allowed when a preflight names none (the SDK's, Honeycomb's and Rollbar's).
const ALLOW_HEADERS: &str =
    "content-type, content-encoding, x-honeycomb-team, x-honeycomb-dataset, x-rollbar-access-token";
/// Chrome's Private Network Access request and answer headers.
const PNA_REQUEST: &str = "access-control-request-private-network";
const PNA_ALLOW: &str = "access-control-allow-private-network";

/// Whether `host` (a `Host` header value: `name`, `name:port`, `[v6]:port`) may reach us:
/// IP literals (a rebinding page cannot make a browser send one of ours under its own name),
/// `localhost`, and the configured names (`.example.com` also allows its subdomains).
pub fn host_allowed(host: &str, allowed: &[String]) -> bool {
    let name = host_name(host);
    if name.is_empty() {
        return false;
    }
    if name.parse::<IpAddr>().is_ok() || name == "localhost" {
        return true;
    }
    allowed.iter().any(|a| {
        let a = a.trim_end_matches('.');
        match a.strip_prefix('.') {
            Some(domain) => name == domain || name.ends_with(a),
            None => name == a,
        }
    })
}

/// The host part of a `Host` value, lowercased, without port, brackets or a final dot.
fn host_name(host: &str) -> String {
    let host = host.trim();
    let name = if let Some(rest) = host.strip_prefix('[') {
        match rest.split_once(']') {
            Some((ip, port)) if port.is_empty() || port.starts_with(':') => ip,
            _ => return String::new(),
        }
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => host,
        }
    };
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Compares two secrets in time that depends on their lengths only.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Why a request was refused: its status and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub status: StatusCode,
    pub message: String,
    /// Seconds, for `429`.
    pub retry_after: Option<u64>,
}

impl Refusal {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            retry_after: None,
        }
    }
}

/// Who sent an accepted ingest request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sender {
    /// A browser page of an allowed origin (the normalized origin).
    Origin(String),
    /// A program on this machine (no `Origin`, loopback peer).
    Local,
    /// A program elsewhere that presented the ingest token.
    Token,
}

/// Token buckets per client: `burst` requests at once, refilled at `per_second`.
#[derive(Debug)]
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

/// Buckets kept before idle (full) ones are forgotten.
const MAX_BUCKETS: usize = 4096;

impl RateLimiter {
    /// No limit when `per_second` is 0.
    pub fn new(limit: RateLimit) -> Self {
        Self {
            per_second: limit.per_second,
            burst: f64::from(limit.burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `client`'s bucket, or says how long until one is there.
    pub fn check(&self, client: &str, now: Instant) -> Result<(), Duration> {
        if self.per_second <= 0.0 {
            return Ok(());
        }
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(client) {
            let (rate, burst) = (self.per_second, self.burst);
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.saturating_duration_since(*at).as_secs_f64() * rate < burst
            });
        }
        let (tokens, at) = buckets
            .entry(client.to_owned())
            .or_insert((self.burst, now));
        *tokens = (*tokens + now.saturating_duration_since(*at).as_secs_f64() * self.per_second)
            .min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - *tokens) / self.per_second))
        }
    }
}

/// Login sessions: random ids with their expiry.
#[derive(Debug, Default)]
struct Sessions {
    by_id: Mutex<HashMap<String, Instant>>,
}

impl Sessions {
    fn create(&self, now: Instant) -> Result<String, String> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| format!("no randomness for a session: {e}"))?;
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let mut map = self.by_id.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, expiry| *expiry > now);
        if map.len() >= MAX_SESSIONS
            && let Some(oldest) = map.iter().min_by_key(|(_, e)| **e).map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        map.insert(id.clone(), now + SESSION_TTL);
        Ok(id)
    }

    fn valid(&self, id: &str, now: Instant) -> bool {
        let map = self.by_id.lock().unwrap_or_else(|p| p.into_inner());
        map.iter()
            .any(|(known, expiry)| *expiry > now && same_secret(known, id))
    }

    fn end(&self, id: &str) {
        let mut map = self.by_id.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|known, _| !same_secret(known, id));
    }
}

/// Counters shown in `/api/status`.
#[derive(Debug, Default)]
pub struct AccessStats {
    /// Requests refused for their `Host`, origin, missing token or rate.
    pub refused: AtomicU64,
    /// Of those, `429`s.
    pub rate_limited: AtomicU64,
}

/// The access policy of one collector.
#[derive(Debug)]
pub struct Access {
    allow_origins: HashSet<String>,
    allowed_hosts: Vec<String>,
    read_token: Option<String>,
    ingest_token: Option<String>,
    ingest_limit: RateLimiter,
    login_limit: RateLimiter,
    sessions: Sessions,
    logged_origins: Mutex<HashSet<String>>,
    pub stats: AccessStats,
}

impl Access {
    pub fn new(config: &Config) -> Self {
        Self {
            allow_origins: config.access.allow_origins.iter().cloned().collect(),
            allowed_hosts: config.access.allowed_hosts.clone(),
            read_token: config.access.read_token.clone(),
            ingest_token: config.access.ingest_token.clone(),
            ingest_limit: RateLimiter::new(config.access.ingest_rate),
            login_limit: RateLimiter::new(RateLimit {
                per_second: 1.0 / LOGIN_INTERVAL.as_secs_f64(),
                burst: LOGIN_BURST,
            }),
            sessions: Sessions::default(),
            logged_origins: Mutex::new(HashSet::new()),
            stats: AccessStats::default(),
        }
    }

    /// Whether reads need the read token.
    pub fn locked(&self) -> bool {
        self.read_token.is_some()
    }

    /// Whether a browser page of `origin` may send telemetry.
    pub fn origin_allowed(&self, origin: &str) -> bool {
        normalize_origin(origin).is_ok_and(|o| self.allow_origins.contains(&o))
    }

    /// Who may post telemetry: a page of an allowed origin, a local program, or a program
    /// with the ingest token. `credential` is what the request presented (bearer token,
    /// `x-honeycomb-team` or `x-rollbar-access-token`).
    pub fn ingest(
        &self,
        origin: Option<&str>,
        peer: Option<IpAddr>,
        credential: Option<&str>,
    ) -> Result<Sender, Refusal> {
        match origin {
            Some(origin) if self.origin_allowed(origin) => {
                Ok(Sender::Origin(normalize_origin(origin).unwrap_or_default()))
            }
            Some(origin) => {
                self.log_origin_once(origin);
                Err(Refusal::new(
                    StatusCode::FORBIDDEN,
                    format!("origin {origin} may not send to this collector (see --allow-origin)"),
                ))
            }
            None if peer.is_some_and(is_loopback) => Ok(Sender::Local),
            None => match (&self.ingest_token, credential) {
                (Some(token), Some(given)) if same_secret(token, given) => Ok(Sender::Token),
                _ => Err(Refusal::new(
                    StatusCode::UNAUTHORIZED,
                    "an ingest token is needed from this address (Authorization: Bearer …)",
                )),
            },
        }
    }

    fn log_origin_once(&self, origin: &str) {
        let mut seen = self
            .logged_origins
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if seen.len() < MAX_LOGGED_ORIGINS && seen.insert(origin.to_owned()) {
            eprintln!(
                "edge-collector: refused telemetry from origin {} (not in --allow-origin)",
                origin.escape_debug()
            );
        }
    }

    /// Takes one request from the client's bucket: a client is the peer address and who
    /// sent (an origin, or a program).
    pub fn rate(&self, peer: Option<IpAddr>, sender: &Sender, now: Instant) -> Result<(), Refusal> {
        let who = match sender {
            Sender::Origin(o) => o.as_str(),
            Sender::Local | Sender::Token => "-",
        };
        let client = format!(
            "{} {who}",
            peer.map_or_else(String::new, |ip| ip.to_string())
        );
        self.ingest_limit
            .check(&client, now)
            .map_err(|wait| Refusal {
                status: StatusCode::TOO_MANY_REQUESTS,
                message: "too many requests from this client".to_owned(),
                retry_after: Some(retry_secs(wait)),
            })
    }

    /// Whether a read presents the read token or a live session (always, when unlocked).
    pub fn read_allowed(&self, bearer: Option<&str>, session: Option<&str>, now: Instant) -> bool {
        let Some(token) = &self.read_token else {
            return true;
        };
        bearer.is_some_and(|b| same_secret(token, b))
            || session.is_some_and(|s| self.sessions.valid(s, now))
    }
}

/// Whole seconds, at least 1.
fn retry_secs(wait: Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

fn header_str(headers: &HeaderMap, name: impl axum::http::header::AsHeaderName) -> Option<&str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// The bearer token of `Authorization`.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = header_str(headers, header::AUTHORIZATION)?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The value of cookie `name`.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// Whether a browser says the request came from another origin: an `Origin` whose host is
/// not the `Host` asked for, or `Sec-Fetch-Site` other than `same-origin` / `none`.
fn cross_origin(headers: &HeaderMap, host: &str) -> bool {
    let foreign_origin = header_str(headers, header::ORIGIN).is_some_and(|origin| {
        let authority = origin.split_once("://").map_or(origin, |(_, rest)| rest);
        !authority.eq_ignore_ascii_case(host)
    });
    let foreign_fetch = header_str(headers, "sec-fetch-site")
        .is_some_and(|site| !matches!(site, "same-origin" | "none"));
    foreign_origin || foreign_fetch
}

/// The JSON answer of a refusal, in Rollbar's shape on its paths.
fn refusal_response(path: &str, refusal: &Refusal) -> Response {
    let body = if ITEM_PATHS.contains(&path) {
        json!({ "err": 1, "message": refusal.message })
    } else {
        json!({ "error": refusal.message })
    };
    let mut response = (
        refusal.status,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body.to_string(),
    )
        .into_response();
    let out = response.headers_mut();
    if let Some(secs) = refusal.retry_after {
        out.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    if refusal.status == StatusCode::UNAUTHORIZED {
        out.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"edge-collector\""),
        );
    }
    response
}

/// Headers on every answer: not framed, not sniffed, no referrer.
fn harden(response: &mut Response) {
    let out = response.headers_mut();
    out.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    out.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    out.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

/// The middleware: Host, then ingestion or reads as described in the module docs.
/// The peer's address comes from the server's connection info (or axum's
/// `MockConnectInfo` in tests); without it no request counts as local.
pub async fn guard(
    State(access): State<std::sync::Arc<Access>>,
    peer: Result<ConnectInfo<SocketAddr>, ExtensionRejection>,
    request: Request,
    next: Next,
) -> Response {
    let peer = peer.ok().map(|ConnectInfo(addr)| addr.ip());
    let mut response = decide(&access, peer, request, next).await;
    harden(&mut response);
    response
}

async fn decide(access: &Access, peer: Option<IpAddr>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let refuse = |refusal: Refusal| {
        access.stats.refused.fetch_add(1, Ordering::Relaxed);
        if refusal.status == StatusCode::TOO_MANY_REQUESTS {
            access.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
        }
        refusal_response(&path, &refusal)
    };
    let headers = request.headers();
    let host = header_str(headers, header::HOST)
        .map(str::to_owned)
        .or_else(|| request.uri().authority().map(|a| a.to_string()))
        .unwrap_or_default();
    if !host_allowed(&host, &access.allowed_hosts) {
        return refuse(Refusal::new(
            StatusCode::FORBIDDEN,
            format!(
                "host {} is not allowed (see --allowed-host)",
                host_name(&host).escape_debug()
            ),
        ));
    }
    let ingest = INGEST_PATHS.contains(&path.as_str())
        && matches!(*request.method(), Method::POST | Method::OPTIONS);
    if ingest {
        return ingest_request(access, peer, request, next, refuse).await;
    }
    if request.method() == Method::OPTIONS
        || (path.starts_with("/api/") && cross_origin(headers, &host))
    {
        return refuse(Refusal::new(
            StatusCode::FORBIDDEN,
            "the collector's API answers its own UI only",
        ));
    }
    let now = Instant::now();
    if path == LOGIN_PATH || path == LOGOUT_PATH {
        return login(access, peer, request, &host, now).await;
    }
    let session = cookie(headers, SESSION_COOKIE);
    if access.read_allowed(bearer(headers), session, now) {
        return next.run(request).await;
    }
    if request.method() == Method::GET && matches!(path.as_str(), "/" | "/index.html") {
        return redirect(LOGIN_PATH);
    }
    refuse(Refusal::new(
        StatusCode::UNAUTHORIZED,
        "log in at /login, or send the read token (Authorization: Bearer …)",
    ))
}

async fn ingest_request(
    access: &Access,
    peer: Option<IpAddr>,
    request: Request,
    next: Next,
    refuse: impl Fn(Refusal) -> Response,
) -> Response {
    let headers = request.headers();
    let origin = header_str(headers, header::ORIGIN).map(str::to_owned);
    let credential = bearer(headers)
        .or_else(|| header_str(headers, "x-honeycomb-team"))
        .or_else(|| header_str(headers, "x-rollbar-access-token"))
        .map(str::to_owned);
    let sender = match access.ingest(origin.as_deref(), peer, credential.as_deref()) {
        Ok(sender) => sender,
        Err(refusal) => return refuse(refusal),
    };
    let cors = match &sender {
        Sender::Origin(_) => origin.and_then(|o| HeaderValue::from_str(&o).ok()),
        Sender::Local | Sender::Token => None,
    };
    let mut response = if request.method() == Method::OPTIONS {
        if cors.is_none() {
            return refuse(Refusal::new(
                StatusCode::FORBIDDEN,
                "a preflight needs an Origin",
            ));
        }
        preflight(request.headers())
    } else {
        match access.rate(peer, &sender, Instant::now()) {
            Ok(()) => next.run(request).await,
            Err(refusal) => refuse(refusal),
        }
    };
    if let Some(origin) = cors {
        let out = response.headers_mut();
        out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        out.append(header::VARY, HeaderValue::from_static("Origin"));
        // Lets the SDK honour a Retry-After across origins.
        out.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("retry-after"),
        );
    }
    response
}

/// The answer to an allowed origin's preflight.
fn preflight(h: &HeaderMap) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let out = response.headers_mut();
    out.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST, OPTIONS"),
    );
    // An allowed origin may send the headers it asks for (its exporter's own, too).
    out.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        h.get(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .cloned()
            .unwrap_or(HeaderValue::from_static(ALLOW_HEADERS)),
    );
    out.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    // Chrome's Private Network Access: a public page of an allowed origin posting here.
    if h.get(PNA_REQUEST)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"))
    {
        out.insert(
            HeaderName::from_static(PNA_ALLOW),
            HeaderValue::from_static("true"),
        );
    }
    response
}

fn redirect(to: &'static str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, to), (header::CACHE_CONTROL, "no-store")],
    )
        .into_response()
}

const LOGIN_HTML: &str = include_str!("../ui/login.html");

fn login_page(status: StatusCode, message: &str) -> Response {
    let html = LOGIN_HTML.replace("{{message}}", message);
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response()
}

/// The most a login form may be.
const MAX_LOGIN_FORM: usize = 4096;

/// `GET /login` (the form), `POST /login` (token → session cookie), `POST /logout`.
async fn login(
    access: &Access,
    peer: Option<IpAddr>,
    request: Request,
    host: &str,
    now: Instant,
) -> Response {
    let path = request.uri().path().to_owned();
    if !access.locked() {
        return redirect("/");
    }
    match (request.method().clone(), path.as_str()) {
        (Method::GET, LOGIN_PATH) => return login_page(StatusCode::OK, ""),
        (Method::POST, _) => {}
        _ => return StatusCode::METHOD_NOT_ALLOWED.into_response(),
    }
    // A form posted from another origin is not the user's (login CSRF).
    if cross_origin(request.headers(), host) {
        return login_page(StatusCode::FORBIDDEN, "Log in from this page.");
    }
    let cookie_value = cookie(request.headers(), SESSION_COOKIE).map(str::to_owned);
    if path == LOGOUT_PATH {
        if let Some(id) = cookie_value {
            access.sessions.end(&id);
        }
        let mut response = redirect(LOGIN_PATH);
        response.headers_mut().insert(
            header::SET_COOKIE,
            HeaderValue::from_str(&format!(
                "{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"
            ))
            .unwrap_or(HeaderValue::from_static("")),
        );
        return response;
    }
    let client = peer.map_or_else(String::new, |ip| ip.to_string());
    if let Err(wait) = access.login_limit.check(&client, now) {
        let mut response = login_page(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many attempts; wait a little.",
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry_secs(wait)));
        return response;
    }
    let body = match axum::body::to_bytes(request.into_body(), MAX_LOGIN_FORM).await {
        Ok(body) => body,
        Err(_) => return login_page(StatusCode::PAYLOAD_TOO_LARGE, "That form is too large."),
    };
    let token = form_value(&body, "token").unwrap_or_default();
    if !access.read_allowed(Some(&token), None, now) {
        return login_page(StatusCode::UNAUTHORIZED, "That is not the read token.");
    }
    let id = match access.sessions.create(now) {
        Ok(id) => id,
        Err(e) => {
            eprintln!("edge-collector: {e}");
            return login_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "No session could be made.",
            );
        }
    };
    let mut response = redirect("/");
    if let Ok(value) = HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        SESSION_TTL.as_secs()
    )) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// A field of an `application/x-www-form-urlencoded` body, decoded.
fn form_value(body: &[u8], name: &str) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    text.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k).as_deref() == Some(name)).then(|| percent_decode(v))?
    })
}

/// `+` as space and `%XX` escapes; `None` when that is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        let allowed = vec!["collector.example.com".to_owned(), ".corp.test".to_owned()];
        for ok in [
            "127.0.0.1:4318",
            "localhost:4318",
            "LOCALHOST",
            "[::1]:4318",
            "192.0.2.7:80",
            "collector.example.com",
            "Collector.Example.com.:443",
            "corp.test",
            "a.b.corp.test:9",
        ] {
            assert!(host_allowed(ok, &allowed), "{ok}");
        }
        for bad in [
            "",
            "evil.example:4318",
            "localhost.evil.example",
            "127.0.0.1.nip.io:4318",
            "xcorp.test",
            "collector.example.com.evil",
            "[::1",
        ] {
            assert!(!host_allowed(bad, &allowed), "{bad}");
        }
    }

    #[test]
    fn origins() {
        assert_eq!(
            normalize_origin("HTTP://127.0.0.1:5173/").unwrap(),
            "http://127.0.0.1:5173"
        );
        assert_eq!(normalize_origin("null").unwrap(), "null");
        for bad in [
            "*",
            "http://*.example.com",
            "127.0.0.1:5173",
            "http://a/b",
            "ftp://x",
            "http://",
        ] {
            assert!(normalize_origin(bad).is_err(), "{bad}");
        }
    }

    fn access(origins: &[&str], ingest_token: Option<&str>, rate: RateLimit) -> Access {
        let mut config = Config::ephemeral();
        config.access.allow_origins = origins.iter().map(|o| (*o).to_owned()).collect();
        config.access.ingest_token = ingest_token.map(str::to_owned);
        config.access.ingest_rate = rate;
        Access::new(&config)
    }

    #[test]
    fn who_may_ingest() {
        let a = access(
            &["http://127.0.0.1:5173"],
            Some("ingest-token-1234567"),
            RateLimit::default(),
        );
        let lan: IpAddr = "192.0.2.9".parse().unwrap();
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(
            a.ingest(Some("http://127.0.0.1:5173"), Some(lan), None),
            Ok(Sender::Origin("http://127.0.0.1:5173".to_owned()))
        );
        let foreign = a
            .ingest(Some("http://127.0.0.1:9999"), Some(lo), None)
            .unwrap_err();
        assert_eq!(foreign.status, StatusCode::FORBIDDEN);
        assert_eq!(a.ingest(None, Some(lo), None), Ok(Sender::Local));
        assert_eq!(
            a.ingest(None, Some("::ffff:127.0.0.1".parse().unwrap()), None),
            Ok(Sender::Local)
        );
        assert_eq!(
            a.ingest(None, Some(lan), None).unwrap_err().status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            a.ingest(None, Some(lan), Some("ingest-token-123456X"))
                .unwrap_err()
                .status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            a.ingest(None, Some(lan), Some("ingest-token-1234567")),
            Ok(Sender::Token)
        );
        // No peer known (embedded without connection info): not loopback.
        assert!(a.ingest(None, None, None).is_err());
        // Without an ingest token nothing without an Origin gets in from elsewhere.
        let b = access(&[], None, RateLimit::default());
        assert!(b.ingest(None, Some(lan), Some("")).is_err());
    }

    #[test]
    fn rate_limit_per_client() {
        let limiter = RateLimiter::new(RateLimit {
            per_second: 2.0,
            burst: 3,
        });
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.check("a", t0), Ok(()));
        }
        let wait = limiter.check("a", t0).unwrap_err();
        assert!((wait.as_secs_f64() - 0.5).abs() < 1e-6, "{wait:?}");
        assert_eq!(retry_secs(wait), 1);
        // Others are unaffected.
        assert_eq!(limiter.check("b", t0), Ok(()));
        // Refilled at 2 per second.
        assert_eq!(limiter.check("a", t0 + Duration::from_millis(500)), Ok(()));
        assert!(limiter.check("a", t0 + Duration::from_millis(500)).is_err());
        // Off.
        let off = RateLimiter::new(RateLimit {
            per_second: 0.0,
            burst: 1,
        });
        for _ in 0..100 {
            assert_eq!(off.check("a", t0), Ok(()));
        }
    }

    #[test]
    fn cross_origin_reads() {
        let mut h = HeaderMap::new();
        assert!(!cross_origin(&h, "127.0.0.1:4318"));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:4318"),
        );
        assert!(!cross_origin(&h, "127.0.0.1:4318"));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8080"),
        );
        assert!(cross_origin(&h, "127.0.0.1:4318"));
        let mut h = HeaderMap::new();
        h.insert("sec-fetch-site", HeaderValue::from_static("same-site"));
        assert!(cross_origin(&h, "127.0.0.1:4318"));
        h.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
        assert!(!cross_origin(&h, "127.0.0.1:4318"));
    }

    #[test]
    fn secrets_and_forms() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
        assert_eq!(
            form_value(b"x=1&token=a%2Bb+c%3D", "token").as_deref(),
            Some("a+b c=")
        );
        assert_eq!(
            form_value(b"token=%zz%4", "token").as_deref(),
            Some("%zz%4")
        );
        assert_eq!(form_value(b"other=1", "token"), None);
    }

    #[test]
    fn sessions_expire_and_end() {
        let s = Sessions::default();
        let t0 = Instant::now();
        let id = s.create(t0).unwrap();
        assert_eq!(id.len(), 64);
        assert!(s.valid(&id, t0));
        assert!(!s.valid("nope", t0));
        assert!(!s.valid(&id, t0 + SESSION_TTL + Duration::from_secs(1)));
        s.end(&id);
        assert!(!s.valid(&id, t0));
    }
}
