//! Rollbar items (`POST /api/1/item/`): what is stored and shown of one.

use std::collections::hash_map::RandomState;
use std::fmt::Write as _;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Value, json};

/// One item as stored.
#[derive(Clone, Debug)]
pub struct ItemRecord {
    pub uuid: String,
    pub level: String,
    /// Exception class (`TypeError`); empty for a message.
    pub class: String,
    pub message: String,
    /// `data.fingerprint`, or class and message.
    pub fingerprint: String,
    /// `data.timestamp` (else the time it arrived), Unix milliseconds.
    pub timestamp_ms: f64,
    pub environment: Option<String>,
    pub trace_id: Option<String>,
    pub span_id: Option<String>,
    /// The item as received, without `access_token`, with `data.uuid` filled in: JSON text.
    pub item: String,
    /// Full-text search document.
    pub search_text: String,
}

/// Reads an item body. `now_ms` stands in for a missing `data.timestamp`.
pub fn parse_item(body: &[u8], now_ms: f64) -> Result<ItemRecord, String> {
    let mut root: Value =
        serde_json::from_slice(body).map_err(|e| format!("malformed JSON body: {e}"))?;
    let Some(object) = root.as_object_mut() else {
        return Err("the item must be a JSON object".to_owned());
    };
    // Tokens are the relay's business: never stored, never forwarded.
    object.remove("access_token");
    let Some(data) = object.get_mut("data").and_then(Value::as_object_mut) else {
        return Err("the item has no `data` object".to_owned());
    };
    data.remove("access_token");
    let Some(item_body) = data.get("body").and_then(Value::as_object) else {
        return Err("the item has no `data.body` object".to_owned());
    };

    let (class, message, main_frames, chain) = exceptions(item_body);
    let uuid = match data.get("uuid").and_then(Value::as_str).map(str::trim) {
        Some(u) if !u.is_empty() && u.len() <= 64 => u.to_owned(),
        _ => {
            let uuid = new_uuid();
            data.insert("uuid".to_owned(), Value::String(uuid.clone()));
            uuid
        }
    };
    let level = data
        .get("level")
        .and_then(Value::as_str)
        .map(|l| l.trim().to_ascii_lowercase())
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| "error".to_owned());
    let timestamp_ms = data
        .get("timestamp")
        .and_then(Value::as_f64)
        .filter(|t| t.is_finite() && *t > 0.0)
        .map_or(now_ms, |secs| secs * 1000.0);
    let environment = data
        .get("environment")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let trace_id = context_id(data, "trace_id", 32);
    let span_id = context_id(data, "span_id", 16);
    let fingerprint = match data.get("fingerprint").and_then(Value::as_str) {
        Some(f) if !f.is_empty() => f.to_owned(),
        _ if class.is_empty() => message.clone(),
        _ => format!("{class}: {message}"),
    };

    let mut search_text = String::new();
    for (class, message, frames) in chain
        .iter()
        .map(|c| (&c.0, &c.1, &c.2))
        .chain(chain.is_empty().then_some((&class, &message, &main_frames)))
    {
        if !class.is_empty() {
            let _ = writeln!(search_text, "class = {class}");
        }
        if !message.is_empty() {
            let _ = writeln!(search_text, "message = {message}");
        }
        for frame in frames {
            let method = frame["method"].as_str().unwrap_or("");
            let file = frame["filename"].as_str().unwrap_or("");
            let _ = writeln!(search_text, "frame = {method} {file}");
        }
    }
    if let Some(env) = &environment {
        let _ = writeln!(search_text, "environment = {env}");
    }
    let _ = write!(search_text, "uuid = {uuid}");

    Ok(ItemRecord {
        uuid,
        level,
        class,
        message,
        fingerprint,
        timestamp_ms,
        environment,
        trace_id,
        span_id,
        item: root.to_string(),
        search_text,
    })
}

type Exception = (String, String, Vec<Value>);

/// Class, message and frames of the item's (first) exception or message, and the whole
/// chain for a `trace_chain`.
fn exceptions(body: &Map<String, Value>) -> (String, String, Vec<Value>, Vec<Exception>) {
    if let Some(trace) = body.get("trace") {
        let (c, m, f) = exception(trace);
        return (c, m, f, Vec::new());
    }
    if let Some(Value::Array(traces)) = body.get("trace_chain") {
        let chain: Vec<Exception> = traces.iter().map(exception).collect();
        let (c, m, f) = chain.first().cloned().unwrap_or_default();
        return (c, m, f, chain);
    }
    let message = body
        .get("message")
        .and_then(|m| m.get("body"))
        .or_else(|| body.get("crash_report").and_then(|c| c.get("raw")))
        .map(|m| match m {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .unwrap_or_default();
    (String::new(), message, Vec::new(), Vec::new())
}

fn exception(trace: &Value) -> Exception {
    let text = |v: Option<&Value>| match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    let exc = trace.get("exception");
    let class = text(exc.and_then(|e| e.get("class")));
    let message = text(exc.and_then(|e| e.get("message")));
    (class, message, frames(trace))
}

/// The frames of a Rollbar `trace` as the API shows them: `filename`, `lineno`, `colno`,
/// `method` (null when absent); none when `trace` has no `frames` array.
pub fn frames(trace: &Value) -> Vec<Value> {
    trace
        .get("frames")
        .and_then(Value::as_array)
        .map(|frames| {
            frames
                .iter()
                .map(|f| {
                    json!({
                        "filename": f.get("filename").cloned().unwrap_or(Value::Null),
                        "lineno": f.get("lineno").cloned().unwrap_or(Value::Null),
                        "colno": f.get("colno").cloned().unwrap_or(Value::Null),
                        "method": f.get("method").cloned().unwrap_or(Value::Null),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `data.custom.<key>`, else `data.attributes[{key, value}]`, when it is 1 to `max` hex
/// digits; lowercased.
fn context_id(data: &Map<String, Value>, key: &str, max: usize) -> Option<String> {
    let from_custom = data
        .get("custom")
        .and_then(|c| c.get(key))
        .and_then(Value::as_str);
    let from_attributes = || {
        data.get("attributes")?
            .as_array()?
            .iter()
            .find(|a| a.get("key").and_then(Value::as_str) == Some(key))?
            .get("value")?
            .as_str()
    };
    let id = from_custom.or_else(from_attributes)?.trim();
    (!id.is_empty() && id.len() <= max && id.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| id.to_ascii_lowercase())
}

/// A random v4 UUID (std's per-process random hash keys, a counter and the clock).
pub fn new_uuid() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let a = RandomState::new().hash_one((n, nanos));
    let b = RandomState::new().hash_one((nanos, n, a));
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&a.to_le_bytes());
    bytes[8..].copy_from_slice(&b.to_le_bytes());
    edge_telemetry_core::errors::rollbar::format_uuid_v4(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_item_and_attribute_ids() {
        let body = br#"{"access_token":"secret","data":{"body":{"message":{"body":"boom"}},
            "attributes":[{"key":"trace_id","value":"4BF92F3577B34DA6A3CE929D0E0E4736"}]}}"#;
        let item = parse_item(body, 5.0).unwrap();
        assert_eq!((item.class.as_str(), item.message.as_str()), ("", "boom"));
        assert_eq!(item.fingerprint, "boom");
        assert_eq!(item.timestamp_ms, 5.0);
        assert_eq!(
            item.trace_id.as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        assert_eq!(item.uuid.len(), 36);
        assert!(!item.item.contains("secret"));
        assert!(item.item.contains(&item.uuid));
        assert_ne!(new_uuid(), new_uuid());
    }

    #[test]
    fn bad_items() {
        for body in [
            &b"nope"[..],
            b"[]",
            b"{}",
            br#"{"data":{}}"#,
            br#"{"data":{"body":1}}"#,
        ] {
            assert!(parse_item(body, 0.0).is_err());
        }
    }
}
