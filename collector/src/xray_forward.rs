//! Forwarding to AWS X-Ray: when credentials and a region are configured, every segment
//! document the daemon port accepts, and every OTLP span the collector accepts (converted to
//! a segment document, so the browser's part of a trace reaches X-Ray too), goes to X-Ray's
//! `PutTraceSegments` through `aws-sdk-xray`.
//!
//! Ingestion never waits for it: documents go into a bounded queue (full: the document is
//! dropped and counted), and one task sends them in batches of at most 50 (the API's
//! limit), retrying a throttled or failed call with exponential backoff before giving the
//! batch up (counted). Documents X-Ray reports as unprocessed are counted too.

use crate::otlp::SpanRecord;
use aws_sdk_xray::config::{BehaviorVersion, Credentials, Region, SharedCredentialsProvider};
use edge_telemetry_core::model::TraceId;
use edge_telemetry_core::propagation::parse_hex_bytes;
use edge_telemetry_core::propagation::xray::write_xray_trace_id;
use edge_telemetry_core::web::http::xray_status_flags;
use serde_json::{Map, Value, json};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Documents per `PutTraceSegments` call (the API's limit).
pub const BATCH: usize = 50;
/// Documents waiting to be sent before new ones are dropped.
pub const QUEUE: usize = 10_000;
/// Attempts per batch (throttling and server errors are retried).
pub const ATTEMPTS: u32 = 5;
/// X-Ray accepts traces whose id starts within the last 30 days.
const MAX_TRACE_AGE_SECS: u64 = 30 * 24 * 3600;

/// Where and as whom to send to an AWS service (X-Ray here, CloudWatch Logs in
/// [`crate::cloudwatch_logs`]).
#[derive(Clone, PartialEq, Eq)]
pub struct AwsConfig {
    /// `AWS_REGION` (or `AWS_DEFAULT_REGION`).
    pub region: String,
    /// `AWS_ACCESS_KEY_ID`.
    pub access_key_id: String,
    /// `AWS_SECRET_ACCESS_KEY`. Never logged.
    pub secret_access_key: String,
    /// `AWS_SESSION_TOKEN`. Never logged.
    pub session_token: Option<String>,
    /// The service's `AWS_ENDPOINT_URL_<SERVICE>` or `AWS_ENDPOINT_URL` (a local endpoint
    /// such as moto), else the service's regional endpoint.
    pub endpoint_url: Option<String>,
}

/// X-Ray forwarding's configuration.
pub type XrayForwardConfig = AwsConfig;

impl fmt::Debug for AwsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsConfig")
            .field("region", &self.region)
            .field("access_key_id", &"<redacted>")
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .field("endpoint_url", &self.endpoint_url)
            .finish()
    }
}

impl AwsConfig {
    /// The AWS SDK configuration every client of the collector is built from: these
    /// credentials and region, the endpoint when one is set, no retries of the SDK's own (the
    /// callers retry, counted) and 10 s per call.
    pub fn sdk_config(&self) -> aws_types::SdkConfig {
        use aws_sdk_xray::config::retry::RetryConfig;
        use aws_sdk_xray::config::timeout::TimeoutConfig;
        let credentials = Credentials::new(
            self.access_key_id.clone(),
            self.secret_access_key.clone(),
            self.session_token.clone(),
            None,
            "edge-collector",
        );
        let mut builder = aws_types::SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(self.region.clone()))
            .credentials_provider(SharedCredentialsProvider::new(credentials))
            .retry_config(RetryConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_timeout(Duration::from_secs(10))
                    .build(),
            );
        if let Some(url) = &self.endpoint_url {
            builder = builder.endpoint_url(url);
        }
        builder.build()
    }

    /// For X-Ray, from the standard AWS environment variables ([`AwsConfig::from_env_for`]).
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Option<Self> {
        Self::from_env_for(env, "AWS_ENDPOINT_URL_XRAY")
    }

    /// From the standard AWS environment variables, with the service's own endpoint variable
    /// (`AWS_ENDPOINT_URL_XRAY`, `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS`) before
    /// `AWS_ENDPOINT_URL`; `None` unless a region and both keys are set (`env` returns a
    /// variable's non-empty value).
    pub fn from_env_for(env: impl Fn(&str) -> Option<String>, endpoint_var: &str) -> Option<Self> {
        Some(Self {
            region: env("AWS_REGION").or_else(|| env("AWS_DEFAULT_REGION"))?,
            access_key_id: env("AWS_ACCESS_KEY_ID")?,
            secret_access_key: env("AWS_SECRET_ACCESS_KEY")?,
            session_token: env("AWS_SESSION_TOKEN"),
            endpoint_url: env(endpoint_var).or_else(|| env("AWS_ENDPOINT_URL")),
        })
    }
}

/// What forwarding did (for `/api/status`).
#[derive(Debug, Default)]
pub struct ForwardStats {
    /// Documents X-Ray accepted.
    pub sent: AtomicU64,
    /// Documents X-Ray returned as unprocessed.
    pub unprocessed: AtomicU64,
    /// Documents dropped: queue full, or their batch failed every attempt.
    pub dropped: AtomicU64,
    /// Calls retried (throttling, server errors, connection failures).
    pub retries: AtomicU64,
    /// OTLP spans not forwarded: their trace id is not X-Ray's (epoch seconds first).
    pub not_xray_ids: AtomicU64,
}

impl ForwardStats {
    /// The counts as JSON.
    pub fn to_json(&self) -> Value {
        let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
        json!({
            "sent": n(&self.sent),
            "unprocessed": n(&self.unprocessed),
            "dropped": n(&self.dropped),
            "retries": n(&self.retries),
            "notXrayIds": n(&self.not_xray_ids),
        })
    }
}

/// The sending side: cheap to clone, never blocks.
#[derive(Clone, Debug)]
pub struct Forwarder {
    tx: tokio::sync::mpsc::Sender<String>,
    /// Its counters.
    pub stats: Arc<ForwardStats>,
}

/// The receiving side, run by [`run`] on the collector's runtime.
#[derive(Debug)]
pub struct Pending {
    rx: tokio::sync::mpsc::Receiver<String>,
    config: XrayForwardConfig,
    stats: Arc<ForwardStats>,
}

/// A forwarder and the queue [`run`] drains.
pub fn channel(config: XrayForwardConfig) -> (Forwarder, Pending) {
    let (tx, rx) = tokio::sync::mpsc::channel(QUEUE);
    let stats = Arc::new(ForwardStats::default());
    (
        Forwarder {
            tx,
            stats: stats.clone(),
        },
        Pending { rx, config, stats },
    )
}

impl Forwarder {
    /// Queues one segment document (JSON text); counts it as dropped when the queue is full.
    pub fn send(&self, document: String) {
        if self.tx.try_send(document).is_err() {
            self.stats.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Queues OTLP spans as segment documents (see [`span_to_segment`]).
    pub fn send_spans(&self, spans: &[SpanRecord], now_unix_secs: u64) {
        for span in spans {
            match span_to_segment(span, now_unix_secs) {
                Some(doc) => self.send(doc.to_string()),
                None => {
                    self.stats.not_xray_ids.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }
}

/// Sends what is queued until every [`Forwarder`] is gone.
pub async fn run(pending: Pending) {
    let Pending {
        mut rx,
        config,
        stats,
    } = pending;
    let client = aws_sdk_xray::Client::new(&config.sdk_config());
    let mut batch = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        let n = batch.len() as u64;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = client
                .put_trace_segments()
                .set_trace_segment_documents(Some(batch.clone()))
                .send()
                .await;
            match result {
                Ok(out) => {
                    let unprocessed = out.unprocessed_trace_segments().len() as u64;
                    stats.unprocessed.fetch_add(unprocessed, Ordering::Relaxed);
                    stats
                        .sent
                        .fetch_add(n - unprocessed.min(n), Ordering::Relaxed);
                    break;
                }
                Err(e) if attempt < ATTEMPTS && retryable(&e) => {
                    stats.retries.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
                }
                Err(e) => {
                    eprintln!(
                        "edge-collector: X-Ray PutTraceSegments failed ({n} documents dropped): {}",
                        aws_sdk_xray::error::DisplayErrorContext(&e)
                    );
                    stats.dropped.fetch_add(n, Ordering::Relaxed);
                    break;
                }
            }
        }
        batch.clear();
    }
}

/// Throttling, server errors and connection failures are worth another attempt.
fn retryable<E, R>(e: &aws_sdk_xray::error::SdkError<E, R>) -> bool
where
    E: aws_sdk_xray::error::ProvideErrorMetadata,
    R: fmt::Debug,
{
    use aws_sdk_xray::error::SdkError;
    match e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => true,
        SdkError::ServiceError(s) => {
            let code = s.err().code().unwrap_or("");
            code.contains("Throttl") || code == "ServiceUnavailable" || code == "InternalFailure"
        }
        SdkError::ResponseError(_) => true,
        _ => false,
    }
}

/// An OTLP span as an X-Ray segment document: a span without a parent becomes a segment named
/// by its service, any other an independent subsegment under its parent (`namespace: remote`
/// for CLIENT spans); times in epoch seconds; `http` from the HTTP attributes; `fault` for an
/// error status or a 5xx, `error` for a 4xx, `throttle` for a 429; the attributes as metadata.
/// `None` when the trace id is not X-Ray's (its first 8 hex digits not within the last 30
/// days of `now_unix_secs`, or in the future): X-Ray would refuse it.
pub fn span_to_segment(span: &SpanRecord, now_unix_secs: u64) -> Option<Value> {
    let trace_id = TraceId::from_bytes(parse_hex_bytes::<16>(&span.trace_id)?);
    let epoch = u64::from(u32::from_be_bytes(
        trace_id.to_bytes()[..4].try_into().ok()?,
    ));
    if epoch > now_unix_secs + 300 || now_unix_secs.saturating_sub(epoch) > MAX_TRACE_AGE_SECS {
        return None;
    }
    let attrs: Map<String, Value> = serde_json::from_str(&span.attributes).unwrap_or_default();
    let mut doc = Map::new();
    let name = match &span.parent_span_id {
        None => span.service.to_string(),
        Some(_) => span.name.clone(),
    };
    doc.insert("name".into(), json!(segment_name(&name)));
    doc.insert("id".into(), json!(span.span_id));
    let mut xray_id = String::with_capacity(35);
    write_xray_trace_id(&mut xray_id, trace_id);
    doc.insert("trace_id".into(), json!(xray_id));
    doc.insert("start_time".into(), json!(span.start_ns as f64 / 1e9));
    doc.insert("end_time".into(), json!(span.end_ns as f64 / 1e9));
    if let Some(parent) = &span.parent_span_id {
        doc.insert("type".into(), json!("subsegment"));
        doc.insert("parent_id".into(), json!(parent));
        if span.kind == 3 {
            doc.insert("namespace".into(), json!("remote"));
        }
    }
    let mut request = Map::new();
    if let Some(m) = attrs.get("http.request.method") {
        request.insert("method".into(), m.clone());
    }
    if let Some(u) = attrs.get("url.full") {
        request.insert("url".into(), u.clone());
    }
    let status = attrs
        .get("http.response.status_code")
        .and_then(Value::as_u64);
    if !request.is_empty() || status.is_some() {
        let mut http = Map::new();
        if !request.is_empty() {
            http.insert("request".into(), Value::Object(request));
        }
        if let Some(s) = status {
            http.insert("response".into(), json!({ "status": s }));
        }
        doc.insert("http".into(), Value::Object(http));
    }
    let flags = status.map(xray_status_flags).unwrap_or_default();
    for (key, on) in [
        ("error", flags.error),
        ("throttle", flags.throttle),
        ("fault", flags.fault || span.status_code == 2),
    ] {
        if on {
            doc.insert(key.into(), json!(true));
        }
    }
    if !attrs.is_empty() {
        doc.insert("metadata".into(), json!({ "otel": attrs }));
    }
    Some(Value::Object(doc))
}

/// X-Ray's segment names: at most 200 characters of letters, digits, white space and
/// `_ . : / % & # = + \ - @`; anything else becomes `_`.
fn segment_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c.is_whitespace() || "_.:/%&#=+\\-@".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(200)
        .collect();
    if cleaned.trim().is_empty() {
        "unknown".to_owned()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(parent: Option<&str>, kind: i32, attrs: Value, status_code: i32) -> SpanRecord {
        SpanRecord {
            trace_id: "6970b1a2c0ffee00000000000000abcd".into(),
            span_id: "b7ad6b7169203331".into(),
            parent_span_id: parent.map(str::to_owned),
            trace_state: String::new(),
            flags: 1,
            name: "GET /api/cart (click)".into(),
            kind,
            service: Arc::from("shop-web"),
            start_ns: 1_768_993_186_000_000_000,
            end_ns: 1_768_993_186_250_000_000,
            status_code,
            status_message: String::new(),
            attributes: attrs.to_string(),
            resource: Arc::from("{}"),
            events: "[]".into(),
            links: "[]".into(),
            scope_name: Arc::from(""),
            scope_version: Arc::from(""),
            search_text: String::new(),
        }
    }

    const NOW: u64 = 0x6970_b1a2 + 60;

    #[test]
    fn roots_become_segments_and_children_subsegments() {
        let root = span_to_segment(&span(None, 1, json!({}), 0), NOW).expect("X-Ray id");
        assert_eq!(root["name"], "shop-web");
        assert_eq!(root["trace_id"], "1-6970b1a2-c0ffee00000000000000abcd");
        assert!(root.get("parent_id").is_none() && root.get("type").is_none());
        let took = root["end_time"].as_f64().unwrap() - root["start_time"].as_f64().unwrap();
        assert!((took - 0.25).abs() < 1e-5, "{took}");
        let attrs = json!({"http.request.method": "GET", "url.full": "https://shop/api/cart", "http.response.status_code": 503});
        let client = span_to_segment(&span(Some("1111111111111111"), 3, attrs, 0), NOW).unwrap();
        assert_eq!(client["type"], "subsegment");
        assert_eq!(client["parent_id"], "1111111111111111");
        assert_eq!(client["namespace"], "remote");
        assert_eq!(client["name"], "GET /api/cart _click_");
        assert_eq!(client["http"]["request"]["method"], "GET");
        assert_eq!(client["http"]["response"]["status"], 503);
        assert_eq!(client["fault"], true);
        assert_eq!(
            client["metadata"]["otel"]["url.full"],
            "https://shop/api/cart"
        );
        let throttled = span_to_segment(
            &span(Some("1"), 3, json!({"http.response.status_code": 429}), 0),
            NOW,
        )
        .unwrap();
        assert_eq!(
            (throttled["error"].clone(), throttled["throttle"].clone()),
            (json!(true), json!(true))
        );
        let failed = span_to_segment(&span(None, 1, json!({}), 2), NOW).unwrap();
        assert_eq!(failed["fault"], true);
    }

    #[test]
    fn only_xray_trace_ids_are_forwarded() {
        let s = span(None, 1, json!({}), 0);
        assert!(span_to_segment(&s, NOW).is_some());
        assert!(
            span_to_segment(&s, NOW + 31 * 24 * 3600).is_none(),
            "older than 30 days"
        );
        assert!(
            span_to_segment(&s, 0x6970_b1a2 - 3600).is_none(),
            "in the future"
        );
    }

    #[test]
    fn config_from_env_needs_region_and_both_keys_and_hides_them() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        assert!(XrayForwardConfig::from_env(env(&[("AWS_REGION", "us-east-1")])).is_none());
        let c = XrayForwardConfig::from_env(env(&[
            ("AWS_DEFAULT_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "AKIDSECRETID"),
            ("AWS_SECRET_ACCESS_KEY", "s3cr3t-key"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
        ]))
        .expect("configured");
        assert_eq!(c.region, "eu-west-1");
        assert_eq!(c.endpoint_url.as_deref(), Some("http://127.0.0.1:5000"));
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("s3cr3t") && !shown.contains("AKIDSECRET"),
            "{shown}"
        );
    }
}
