//! OTLP/HTTP trace requests: decoding (JSON and protobuf) into [`SpanRecord`]s (logs:
//! [`crate::otlp_logs`]).
//!
//! JSON goes through `opentelemetry-proto`'s serde types first. They are stricter than the
//! proto3 JSON mapping in a few places that valid senders hit (our own SDK included:
//! non-finite doubles are the strings `"NaN"`, `"Infinity"`, `"-Infinity"`, which its
//! `doubleValue` rejects), so a body they refuse is read again as a plain JSON tree,
//! [`normalize`]d, and decoded once more. Only when that fails too is it malformed.

use std::fmt::Write as _;
use std::sync::Arc;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use serde_json::{Map, Value};

/// How a request body is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `application/json`
    Json,
    /// `application/x-protobuf`
    Protobuf,
}

impl Format {
    /// The media type this format is sent with.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Protobuf => "application/x-protobuf",
        }
    }
}

/// One span as stored: ids in lowercase hex, the attribute maps already as JSON text.
#[derive(Clone, Debug)]
pub struct SpanRecord {
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: Option<String>,
    pub trace_state: String,
    pub flags: u32,
    pub name: String,
    /// OTLP `SpanKind` (0 unspecified … 5 consumer).
    pub kind: i32,
    /// The resource's `service.name` (`unknown_service` without one).
    pub service: Arc<str>,
    pub start_ns: u64,
    pub end_ns: u64,
    /// OTLP `StatusCode`: 0 unset, 1 ok, 2 error.
    pub status_code: i32,
    pub status_message: String,
    /// JSON object.
    pub attributes: String,
    /// JSON object, shared by the spans of one resource.
    pub resource: Arc<str>,
    /// JSON array of `{"name","time","attributes"}`.
    pub events: String,
    /// JSON array of `{"traceId","spanId","attributes"}`.
    pub links: String,
    pub scope_name: Arc<str>,
    pub scope_version: Arc<str>,
    /// Full-text search document: one `key = value` entry per line.
    pub search_text: String,
}

/// A decoded request: the valid spans, and how many were rejected and why.
#[derive(Clone, Debug, Default)]
pub struct Decoded {
    pub spans: Vec<SpanRecord>,
    pub rejected: u64,
    pub error_message: String,
}

/// Decodes a request body (already inflated).
pub fn decode(body: &[u8], format: Format) -> Result<Decoded, String> {
    decode_request::<ExportTraceServiceRequest>(body, format).map(convert)
}

/// An OTLP request of either format as `T` (traces or logs).
pub(crate) fn decode_request<T>(body: &[u8], format: Format) -> Result<T, String>
where
    T: prost::Message + Default + serde::de::DeserializeOwned,
{
    match format {
        Format::Protobuf => {
            T::decode(body).map_err(|e| format!("malformed OTLP protobuf body: {e}"))
        }
        Format::Json => decode_json::<T>(body),
    }
}

/// The `service.name` of a resource's attributes ([`UNKNOWN_SERVICE`] without one).
pub(crate) fn service_of(attrs: &[KeyValue]) -> Arc<str> {
    attrs
        .iter()
        .find(|kv| kv.key == "service.name")
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| match &v.value {
            Some(any_value::Value::StringValue(s)) if !s.is_empty() => Some(s.as_str()),
            _ => None,
        })
        .unwrap_or(UNKNOWN_SERVICE)
        .into()
}

/// A JSON request body as `T`: strictly first, then [`normalize`]d.
pub(crate) fn decode_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    // serde also reads a struct from an array (`[]` would be an empty request).
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(
            match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
                Err(e) => format!("malformed JSON body: {e}"),
                Ok(_) => "malformed OTLP JSON body: not a JSON object".to_owned(),
            },
        );
    }
    match serde_json::from_slice::<T>(body) {
        Ok(request) => Ok(request),
        Err(strict) => {
            let mut tree: Value =
                serde_json::from_slice(body).map_err(|e| format!("malformed JSON body: {e}"))?;
            if !tree.is_object() {
                return Err("malformed OTLP JSON body: not a JSON object".to_owned());
            }
            normalize(&mut tree);
            serde_json::from_value(tree).map_err(|_| format!("malformed OTLP JSON body: {strict}"))
        }
    }
}

/// Rewrites what proto3 JSON allows but `opentelemetry-proto`'s serde refuses:
/// - `null` members (proto3: the default value) are removed;
/// - `doubleValue` as a string: a decimal becomes a number; `NaN`, `Infinity` and
///   `-Infinity` (which serde_json cannot hold as numbers) become `stringValue`s;
/// - `arrayValue` / `kvlistValue` without `values` get an empty list;
/// - `kind`, `code` and `severityNumber` given as enum names (`SPAN_KIND_SERVER`,
///   `STATUS_CODE_ERROR`, `SEVERITY_NUMBER_WARN`) become their numbers; 32-bit counters and `flags` given as strings become numbers;
/// - ids that are not hex become `"00"`, a length no id has, so that only their span is
///   rejected (see [`convert`]) instead of the whole request.
pub fn normalize(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            if let Some(Value::String(s)) = map.get("doubleValue") {
                let replacement = match s.trim().parse::<f64>() {
                    Ok(d) if d.is_finite() => serde_json::Number::from_f64(d).map(Value::Number),
                    _ => None,
                };
                match replacement {
                    Some(number) => {
                        map.insert("doubleValue".to_owned(), number);
                    }
                    None => {
                        let s = s.clone();
                        map.remove("doubleValue");
                        map.insert("stringValue".to_owned(), Value::String(s));
                    }
                }
            }
            for list in ["arrayValue", "kvlistValue"] {
                if let Some(Value::Object(inner)) = map.get_mut(list) {
                    inner.retain(|_, v| !v.is_null());
                    inner
                        .entry("values")
                        .or_insert_with(|| Value::Array(Vec::new()));
                }
            }
            fix_members(map);
            for v in map.values_mut() {
                normalize(v);
            }
        }
        Value::Array(items) => {
            items.retain(|v| !v.is_null());
            for v in items {
                normalize(v);
            }
        }
        _ => {}
    }
}

fn fix_members(map: &mut Map<String, Value>) {
    for (k, v) in map.iter_mut() {
        let Value::String(s) = v else { continue };
        match k.as_str() {
            "traceId" | "spanId" | "parentSpanId"
                if s.len() % 2 != 0 || !s.bytes().all(|b| b.is_ascii_hexdigit()) =>
            {
                *v = Value::String("00".to_owned());
            }
            "kind" => {
                if let Some(n) = enum_number(s, "SPAN_KIND_", SPAN_KINDS) {
                    *v = Value::from(n);
                }
            }
            "code" => {
                if let Some(n) = enum_number(s, "STATUS_CODE_", STATUS_CODES) {
                    *v = Value::from(n);
                }
            }
            "severityNumber" => {
                if let Some(n) = enum_number(s, "SEVERITY_NUMBER_", SEVERITIES) {
                    *v = Value::from(n);
                }
            }
            "flags" | "droppedAttributesCount" | "droppedEventsCount" | "droppedLinksCount" => {
                if let Ok(n) = s.trim().parse::<u32>() {
                    *v = Value::from(n);
                }
            }
            _ => {}
        }
    }
}

const SPAN_KINDS: &[&str] = &[
    "UNSPECIFIED",
    "INTERNAL",
    "SERVER",
    "CLIENT",
    "PRODUCER",
    "CONSUMER",
];
const STATUS_CODES: &[&str] = &["UNSET", "OK", "ERROR"];
const SEVERITIES: &[&str] = &[
    "UNSPECIFIED",
    "TRACE",
    "TRACE2",
    "TRACE3",
    "TRACE4",
    "DEBUG",
    "DEBUG2",
    "DEBUG3",
    "DEBUG4",
    "INFO",
    "INFO2",
    "INFO3",
    "INFO4",
    "WARN",
    "WARN2",
    "WARN3",
    "WARN4",
    "ERROR",
    "ERROR2",
    "ERROR3",
    "ERROR4",
    "FATAL",
    "FATAL2",
    "FATAL3",
    "FATAL4",
];

fn enum_number(s: &str, prefix: &str, names: &[&str]) -> Option<i64> {
    if let Ok(n) = s.trim().parse::<i64>() {
        return Some(n);
    }
    let name = s.strip_prefix(prefix).unwrap_or(s);
    names
        .iter()
        .position(|n| n.eq_ignore_ascii_case(name))
        .map(|i| i as i64)
}

/// Why a span is rejected, if it is.
fn invalid_ids(trace_id: &[u8], span_id: &[u8], parent: &[u8]) -> Option<&'static str> {
    if trace_id.len() != 16 {
        Some("trace id is not 16 bytes")
    } else if trace_id.iter().all(|&b| b == 0) {
        Some("trace id is all zeros")
    } else if span_id.len() != 8 {
        Some("span id is not 8 bytes")
    } else if span_id.iter().all(|&b| b == 0) {
        Some("span id is all zeros")
    } else if !parent.is_empty() && parent.len() != 8 {
        Some("parent span id is not 8 bytes")
    } else {
        None
    }
}

/// The default `service.name` of the OpenTelemetry SDKs.
pub const UNKNOWN_SERVICE: &str = "unknown_service";

fn convert(request: ExportTraceServiceRequest) -> Decoded {
    let mut out = Decoded::default();
    let mut reasons: Vec<&'static str> = Vec::new();
    for resource_spans in request.resource_spans {
        let resource_attrs = resource_spans
            .resource
            .map(|r| r.attributes)
            .unwrap_or_default();
        let service = service_of(&resource_attrs);
        let resource: Arc<str> = attributes_json(&resource_attrs).to_string().into();
        for scope_spans in resource_spans.scope_spans {
            let (scope_name, scope_version): (Arc<str>, Arc<str>) = match scope_spans.scope {
                Some(scope) => (scope.name.into(), scope.version.into()),
                None => ("".into(), "".into()),
            };
            for span in scope_spans.spans {
                if let Some(reason) =
                    invalid_ids(&span.trace_id, &span.span_id, &span.parent_span_id)
                {
                    out.rejected += 1;
                    if !reasons.contains(&reason) {
                        reasons.push(reason);
                    }
                    continue;
                }
                let parent_span_id = (!span.parent_span_id.iter().all(|&b| b == 0))
                    .then(|| hex(&span.parent_span_id));
                let attributes = attributes_json(&span.attributes);
                let events: Vec<Value> = span
                    .events
                    .iter()
                    .map(|e| {
                        serde_json::json!({
                            "name": e.name,
                            "time": nanos_to_ms(e.time_unix_nano),
                            "attributes": attributes_json(&e.attributes),
                        })
                    })
                    .collect();
                let links: Vec<Value> = span
                    .links
                    .iter()
                    .map(|l| {
                        serde_json::json!({
                            "traceId": hex(&l.trace_id),
                            "spanId": hex(&l.span_id),
                            "attributes": attributes_json(&l.attributes),
                        })
                    })
                    .collect();
                let (status_code, status_message) =
                    span.status.map(|s| (s.code, s.message)).unwrap_or_default();
                let trace_id = hex(&span.trace_id);
                let span_id = hex(&span.span_id);
                let mut search_text = String::new();
                let _ = writeln!(search_text, "service.name = {service}");
                push_search_attrs(&span.attributes, &mut search_text);
                for event in &span.events {
                    let _ = writeln!(search_text, "event = {}", event.name);
                    push_search_attrs(&event.attributes, &mut search_text);
                }
                if !status_message.is_empty() {
                    let _ = writeln!(search_text, "status = {status_message}");
                }
                let _ = write!(search_text, "trace = {trace_id}\nspan = {span_id}");
                out.spans.push(SpanRecord {
                    trace_id,
                    span_id,
                    parent_span_id,
                    trace_state: span.trace_state,
                    flags: span.flags,
                    name: span.name,
                    kind: span.kind,
                    service: service.clone(),
                    start_ns: span.start_time_unix_nano,
                    end_ns: span.end_time_unix_nano,
                    status_code,
                    status_message,
                    attributes: attributes.to_string(),
                    resource: resource.clone(),
                    events: Value::Array(events).to_string(),
                    links: Value::Array(links).to_string(),
                    scope_name: scope_name.clone(),
                    scope_version: scope_version.clone(),
                    search_text,
                });
            }
        }
    }
    if out.rejected > 0 {
        out.error_message = format!("{} span(s) rejected: {}", out.rejected, reasons.join("; "));
    }
    out
}

fn push_search_attrs(attrs: &[KeyValue], out: &mut String) {
    for kv in attrs {
        let value = kv.value.as_ref().map(any_json).unwrap_or(Value::Null);
        let _ = match value {
            Value::String(s) => writeln!(out, "{} = {s}", kv.key),
            other => writeln!(out, "{} = {other}", kv.key),
        };
    }
}

/// Unix nanoseconds as milliseconds with a fraction.
pub fn nanos_to_ms(ns: u64) -> f64 {
    (ns / 1_000_000) as f64 + (ns % 1_000_000) as f64 / 1e6
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// Attributes as a JSON object (a repeated key keeps its last value).
pub fn attributes_json(attrs: &[KeyValue]) -> Value {
    let mut map = Map::with_capacity(attrs.len());
    for kv in attrs {
        let value = kv.value.as_ref().map(any_json).unwrap_or(Value::Null);
        map.insert(kv.key.clone(), value);
    }
    Value::Object(map)
}

/// An `AnyValue` as plain JSON: non-finite doubles as the strings `NaN`, `Infinity`,
/// `-Infinity`; bytes as base64.
pub fn any_json(value: &AnyValue) -> Value {
    match &value.value {
        None => Value::Null,
        Some(any_value::Value::StringValue(s)) => Value::String(s.clone()),
        Some(any_value::Value::BoolValue(b)) => Value::Bool(*b),
        Some(any_value::Value::IntValue(i)) => Value::from(*i),
        Some(any_value::Value::DoubleValue(d)) => match serde_json::Number::from_f64(*d) {
            Some(n) => Value::Number(n),
            None if d.is_nan() => Value::String("NaN".to_owned()),
            None if *d > 0.0 => Value::String("Infinity".to_owned()),
            None => Value::String("-Infinity".to_owned()),
        },
        Some(any_value::Value::ArrayValue(a)) => {
            Value::Array(a.values.iter().map(any_json).collect())
        }
        Some(any_value::Value::KvlistValue(kv)) => attributes_json(&kv.values),
        Some(any_value::Value::BytesValue(b)) => Value::String(base64(b)),
        Some(any_value::Value::StringValueStrindex(i)) => Value::from(*i),
    }
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), expected);
        }
    }

    #[test]
    fn lenient_json_is_normalized() {
        let body = br#"{"resourceSpans":[{"resource":null,"scopeSpans":[{"spans":[
            {"traceId":"4BF92F3577B34DA6A3CE929D0E0E4736","spanId":"00f067aa0ba902b7","name":"a",
             "kind":"SPAN_KIND_SERVER","flags":"257","startTimeUnixNano":1,"endTimeUnixNano":"2",
             "status":{"code":"STATUS_CODE_ERROR"},
             "attributes":[{"key":"nan","value":{"doubleValue":"NaN"}},
                           {"key":"half","value":{"doubleValue":"0.5"}},
                           {"key":"empty","value":{"arrayValue":{}}}]},
            {"traceId":"zz","spanId":"00f067aa0ba902b7","name":"bad"}]}]}]}"#;
        let decoded = decode(body, Format::Json).unwrap();
        assert_eq!(decoded.rejected, 1);
        let span = &decoded.spans[0];
        assert_eq!(span.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!((span.kind, span.flags, span.status_code), (2, 257, 2));
        let attrs: Value = serde_json::from_str(&span.attributes).unwrap();
        assert_eq!(
            attrs,
            serde_json::json!({"nan": "NaN", "half": 0.5, "empty": []})
        );
        assert_eq!(&*span.service, UNKNOWN_SERVICE);
    }

    /// Found by fuzz/fuzz_targets/roundtrip_otlp.rs: serde_json's default float parsing is off
    /// by one unit in the last place for some doubles (this one came back as
    /// -1.4566508586014645e144); `float_roundtrip` reads every double the SDK writes exactly.
    #[test]
    fn doubles_are_read_exactly() {
        for x in [
            -1.4566508586014644e144,
            2.2250738585072014e-308,
            0.1,
            1e23,
            9007199254740993.0,
        ] {
            let body = format!(
                r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7","name":"a","attributes":[{{"key":"x","value":{{"doubleValue":{x:?}}}}}]}}]}}]}}]}}"#
            );
            let decoded = decode(body.as_bytes(), Format::Json).unwrap();
            let attrs: Value = serde_json::from_str(&decoded.spans[0].attributes).unwrap();
            assert_eq!(attrs["x"].as_f64(), Some(x), "{body}");
        }
    }
}
