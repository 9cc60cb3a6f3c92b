//! X-Ray segment documents, as the daemon port receives them, decoded into span rows: the pure
//! part of [`crate::xray`], in a file of its own so that `fuzz/` compiles and fuzzes it as it is
//! (without the store, the runtime or the AWS SDK).
//!
//! Each datagram is a header line, `{"format": "json", "version": 1}`, a newline, and one
//! segment document. Segments become SERVER spans, subsegments CLIENT spans when they call a
//! remote or AWS service and INTERNAL otherwise, nested `subsegments` each a span of their own.

use crate::otlp::SpanRecord;
use edge_telemetry_core::propagation::xray::parse_xray_trace_id;
use serde_json::{Map, Value, json};
use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::sync::Arc;

/// The largest datagram accepted: 64 kB, X-Ray's limit on a segment document.
pub const MAX_DATAGRAM_BYTES: usize = 64_000;

/// How many segment ids the daemon remembers to name the service of later subsegments.
const SERVICE_MEMORY: usize = 10_000;

/// Why a datagram was dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reject {
    /// Over [`MAX_DATAGRAM_BYTES`].
    Oversize,
    /// No valid header line.
    BadHeader,
    /// The document is not JSON.
    NotJson,
    /// Not a valid segment document: what is wrong.
    Invalid(String),
    /// An `in_progress` document.
    InProgress,
}

/// Segment ids → service names, bounded (oldest forgotten first).
#[derive(Debug, Default)]
pub struct Services {
    names: HashMap<String, Arc<str>>,
    order: VecDeque<String>,
}

impl Services {
    fn remember(&mut self, id: &str, service: &Arc<str>) {
        if self.names.insert(id.to_owned(), service.clone()).is_none() {
            self.order.push_back(id.to_owned());
            if self.order.len() > SERVICE_MEMORY
                && let Some(old) = self.order.pop_front()
            {
                self.names.remove(&old);
            }
        }
    }
}

/// The spans in one datagram, or why it was dropped.
pub fn decode_datagram(
    datagram: &[u8],
    services: &mut Services,
) -> Result<Vec<SpanRecord>, Reject> {
    if datagram.len() > MAX_DATAGRAM_BYTES {
        return Err(Reject::Oversize);
    }
    let newline = datagram
        .iter()
        .position(|&b| b == b'\n')
        .ok_or(Reject::BadHeader)?;
    let header: Value =
        serde_json::from_slice(&datagram[..newline]).map_err(|_| Reject::BadHeader)?;
    if header.get("format") != Some(&json!("json")) || header.get("version") != Some(&json!(1)) {
        return Err(Reject::BadHeader);
    }
    let doc: Value =
        serde_json::from_slice(&datagram[newline + 1..]).map_err(|_| Reject::NotJson)?;
    if doc.get("in_progress") == Some(&Value::Bool(true)) {
        return Err(Reject::InProgress);
    }
    let mut out = Vec::new();
    to_spans(&doc, None, services, &mut out).map_err(Reject::Invalid)?;
    Ok(out)
}

/// The inherited part of a nested subsegment: its trace and parent.
struct Enclosing<'a> {
    trace_id: String,
    parent_id: &'a str,
    service: Arc<str>,
}

fn to_spans(
    doc: &Value,
    enclosing: Option<&Enclosing<'_>>,
    services: &mut Services,
    out: &mut Vec<SpanRecord>,
) -> Result<(), String> {
    let o = doc.as_object().ok_or("the document is not a JSON object")?;
    let str_field = |k: &str| o.get(k).and_then(Value::as_str);
    let name = str_field("name")
        .filter(|n| !n.is_empty() && n.chars().count() <= 200)
        .ok_or("`name` must be 1 to 200 characters")?;
    let id = str_field("id")
        .filter(|id| is_hex(id, 16))
        .ok_or("`id` must be 16 hex digits")?;
    let trace_id = match (str_field("trace_id"), enclosing) {
        (Some(t), _) => {
            w3c_trace_id(t).ok_or("`trace_id` must be 1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx")?
        }
        (None, Some(e)) => e.trace_id.clone(),
        (None, None) => return Err("`trace_id` is missing".into()),
    };
    let parent_id = match (str_field("parent_id"), enclosing) {
        (Some(p), _) if is_hex(p, 16) => Some(p.to_ascii_lowercase()),
        (Some(_), _) => return Err("`parent_id` must be 16 hex digits".into()),
        (None, Some(e)) => Some(e.parent_id.to_ascii_lowercase()),
        (None, None) => None,
    };
    let start = o
        .get("start_time")
        .and_then(Value::as_f64)
        .filter(|t| *t > 0.0 && *t < 1e11)
        .ok_or("`start_time` must be epoch seconds")?;
    let end = match o.get("end_time") {
        Some(t) => t
            .as_f64()
            .filter(|t| *t >= start && *t < 1e11)
            .ok_or("`end_time` must be epoch seconds, not before `start_time`")?,
        None => return Err("`end_time` is missing (and the document is not in progress)".into()),
    };
    let subsegment = enclosing.is_some() || str_field("type") == Some("subsegment");
    let service: Arc<str> = if subsegment {
        match (enclosing, parent_id.as_deref()) {
            (Some(e), _) => e.service.clone(),
            (None, Some(p)) => services
                .names
                .get(p)
                .cloned()
                .unwrap_or_else(|| Arc::from("unknown_service")),
            (None, None) => Arc::from("unknown_service"),
        }
    } else {
        Arc::from(name)
    };
    services.remember(&id.to_ascii_lowercase(), &service);
    let namespace = str_field("namespace");
    let kind = match (subsegment, namespace) {
        (false, _) => 2,
        (true, Some("remote" | "aws")) => 3,
        (true, _) => 1,
    };
    let flag = |k: &str| o.get(k) == Some(&Value::Bool(true));
    let mut attrs = Map::new();
    attrs.insert(
        "aws.xray.type".into(),
        json!(if subsegment { "subsegment" } else { "segment" }),
    );
    let mut put = |k: &str, v: Option<&Value>| {
        if let Some(v) = v.filter(|v| !v.is_null()) {
            attrs.insert(k.into(), v.clone());
        }
    };
    put("aws.xray.namespace", o.get("namespace"));
    put("aws.xray.origin", o.get("origin"));
    put("http.request.method", doc.pointer("/http/request/method"));
    put("url.full", doc.pointer("/http/request/url"));
    put(
        "user_agent.original",
        doc.pointer("/http/request/user_agent"),
    );
    put("client.address", doc.pointer("/http/request/client_ip"));
    put(
        "http.response.status_code",
        doc.pointer("/http/response/status"),
    );
    put(
        "http.response.body.size",
        doc.pointer("/http/response/content_length"),
    );
    put("db.query.text", doc.pointer("/sql/sanitized_query"));
    put("db.system.name", doc.pointer("/sql/database_type"));
    put("db.user", doc.pointer("/sql/user"));
    put("db.connection_string", doc.pointer("/sql/url"));
    for k in ["error", "fault", "throttle"] {
        if flag(k) {
            attrs.insert(format!("aws.xray.{k}"), Value::Bool(true));
        }
    }
    if let Some(Value::Object(annotations)) = o.get("annotations") {
        for (k, v) in annotations {
            attrs.insert(format!("annotation.{k}"), v.clone());
        }
    }
    if let Some(Value::Object(metadata)) = o.get("metadata") {
        for (k, v) in metadata {
            attrs.insert(format!("metadata.{k}"), v.clone());
        }
    }
    let mut events = Vec::new();
    let mut status_message = String::new();
    if let Some(Value::Array(exceptions)) = doc.pointer("/cause/exceptions") {
        for e in exceptions {
            let message = e.get("message").and_then(Value::as_str).unwrap_or("");
            if status_message.is_empty() {
                status_message = message.to_owned();
            }
            events.push(json!({
                "name": "exception",
                "time": end * 1000.0,
                "attributes": {
                    "exception.type": e.get("type").cloned().unwrap_or(Value::Null),
                    "exception.message": message,
                    "exception.stacktrace": e.get("stack").map(Value::to_string),
                },
            }));
        }
    }
    // A fault (5xx) is an error status; X-Ray's `error` (a 4xx, the client's) stays an
    // attribute, as OpenTelemetry leaves a SERVER span's status unset for a 4xx.
    let status_code = if flag("fault") { 2 } else { 0 };
    let mut search_text = String::new();
    let _ = writeln!(search_text, "service.name = {service}");
    for (k, v) in &attrs {
        let _ = match v {
            Value::String(s) => writeln!(search_text, "{k} = {s}"),
            other => writeln!(search_text, "{k} = {other}"),
        };
    }
    if !status_message.is_empty() {
        let _ = writeln!(search_text, "status = {status_message}");
    }
    let _ = write!(
        search_text,
        "trace = {trace_id}\nspan = {}",
        id.to_ascii_lowercase()
    );
    out.push(SpanRecord {
        trace_id: trace_id.clone(),
        span_id: id.to_ascii_lowercase(),
        parent_span_id: parent_id,
        trace_state: String::new(),
        flags: 1,
        name: name.to_owned(),
        kind,
        service: service.clone(),
        start_ns: (start * 1e9) as u64,
        end_ns: (end * 1e9) as u64,
        status_code,
        status_message,
        attributes: Value::Object(attrs).to_string(),
        resource: Arc::from(json!({ "service.name": &*service }).to_string()),
        events: Value::Array(events).to_string(),
        links: "[]".to_owned(),
        scope_name: Arc::from("aws.xray"),
        scope_version: Arc::from(""),
        search_text,
    });
    if let Some(Value::Array(children)) = o.get("subsegments") {
        let inner = Enclosing {
            trace_id,
            parent_id: id,
            service,
        };
        for child in children {
            to_spans(child, Some(&inner), services, out)?;
        }
    }
    Ok(())
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `1-58406520-a006649127e371903a2de979` → `58406520a006649127e371903a2de979` (core's
/// reading of X-Ray trace ids: version 1, 8 + 24 hex digits, not all zero).
fn w3c_trace_id(xray: &str) -> Option<String> {
    parse_xray_trace_id(xray).map(|t| crate::otlp::hex(&t.to_bytes()))
}
