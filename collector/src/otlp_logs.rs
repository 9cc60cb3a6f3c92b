//! OTLP/HTTP log requests: decoding (JSON and protobuf) into [`LogRow`]s, with the same
//! leniency as traces ([`crate::otlp`]): a JSON body the official serde types refuse is
//! normalized and decoded again.

use std::fmt::Write as _;
use std::sync::Arc;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use serde_json::Value;

use crate::otlp::{Format, any_json, attributes_json, decode_request, hex, service_of};

/// One log record as stored: ids in lowercase hex (absent when the record has none), the
/// attribute maps as JSON text.
#[derive(Clone, Debug)]
pub struct LogRow {
    pub trace_id: Option<String>,
    pub span_id: Option<String>,
    /// `timeUnixNano`, or the observed time when the record has no time of its own.
    pub time_ns: u64,
    pub observed_ns: u64,
    pub severity_number: i32,
    pub severity_text: String,
    /// The body as text: a string as it is, anything else as JSON.
    pub body: String,
    /// JSON object.
    pub attributes: String,
    /// JSON object, shared by the records of one resource.
    pub resource: Arc<str>,
    /// The resource's `service.name`.
    pub service: Arc<str>,
    pub scope_name: Arc<str>,
    /// Full-text search document: the body, then one `key = value` entry per line.
    pub search_text: String,
}

/// A decoded request: the valid records, and how many were rejected and why.
#[derive(Clone, Debug, Default)]
pub struct DecodedLogs {
    pub logs: Vec<LogRow>,
    pub rejected: u64,
    pub error_message: String,
}

/// Decodes a request body (already inflated).
pub fn decode(body: &[u8], format: Format) -> Result<DecodedLogs, String> {
    decode_request::<ExportLogsServiceRequest>(body, format).map(convert)
}

/// An id of `len` bytes, as hex; `Ok(None)` for none (empty or all zeros), `Err` for a wrong
/// length.
fn id(bytes: &[u8], len: usize) -> Result<Option<String>, ()> {
    if bytes.is_empty() {
        Ok(None)
    } else if bytes.len() != len {
        Err(())
    } else if bytes.iter().all(|&b| b == 0) {
        Ok(None)
    } else {
        Ok(Some(hex(bytes)))
    }
}

fn convert(request: ExportLogsServiceRequest) -> DecodedLogs {
    let mut out = DecodedLogs::default();
    for resource_logs in request.resource_logs {
        let resource_attrs = resource_logs
            .resource
            .map(|r| r.attributes)
            .unwrap_or_default();
        let service = service_of(&resource_attrs);
        let resource: Arc<str> = attributes_json(&resource_attrs).to_string().into();
        for scope_logs in resource_logs.scope_logs {
            let scope_name: Arc<str> = scope_logs.scope.map(|s| s.name).unwrap_or_default().into();
            for r in scope_logs.log_records {
                let (Ok(trace_id), Ok(span_id)) = (id(&r.trace_id, 16), id(&r.span_id, 8)) else {
                    out.rejected += 1;
                    continue;
                };
                let body = match r.body.as_ref().map(any_json) {
                    None | Some(Value::Null) => String::new(),
                    Some(Value::String(s)) => s,
                    Some(other) => other.to_string(),
                };
                let time_ns = if r.time_unix_nano > 0 {
                    r.time_unix_nano
                } else {
                    r.observed_time_unix_nano
                };
                let mut search_text = String::new();
                let _ = writeln!(search_text, "service.name = {service}");
                for kv in &r.attributes {
                    let value = kv.value.as_ref().map(any_json).unwrap_or(Value::Null);
                    let _ = match value {
                        Value::String(s) => writeln!(search_text, "{} = {s}", kv.key),
                        other => writeln!(search_text, "{} = {other}", kv.key),
                    };
                }
                if let Some(t) = &trace_id {
                    let _ = write!(search_text, "trace = {t}");
                }
                out.logs.push(LogRow {
                    trace_id,
                    span_id,
                    time_ns,
                    observed_ns: r.observed_time_unix_nano,
                    severity_number: r.severity_number,
                    severity_text: r.severity_text,
                    body,
                    attributes: attributes_json(&r.attributes).to_string(),
                    resource: resource.clone(),
                    service: service.clone(),
                    scope_name: scope_name.clone(),
                    search_text,
                });
            }
        }
    }
    if out.rejected > 0 {
        out.error_message = format!(
            "{} log record(s) rejected: trace id not 16 bytes or span id not 8 bytes",
            out.rejected
        );
    }
    out
}

/// OpenTelemetry's short name of a severity number (`INFO2` for 10 …), for records that
/// came without a `severityText`.
pub fn severity_name(n: i32) -> String {
    const NAMES: [&str; 6] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
    match n {
        1..=24 => {
            let name = NAMES[((n - 1) / 4) as usize];
            match (n - 1) % 4 {
                0 => name.to_owned(),
                k => format!("{name}{}", k + 1),
            }
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::any_value;
    use prost::Message as _;

    #[test]
    fn json_and_protobuf_decode_alike_and_bad_ids_are_rejected_alone() {
        let json = br#"{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"shop"}}]},
            "scopeLogs":[{"scope":{"name":"s"},"logRecords":[
              {"timeUnixNano":"1700000000000000000","severityNumber":"SEVERITY_NUMBER_WARN","body":{"stringValue":"cart empty"},
               "traceId":"4BF92F3577B34DA6A3CE929D0E0E4736","spanId":"00f067aa0ba902b7",
               "attributes":[{"key":"n","value":{"intValue":"3"}}]},
              {"observedTimeUnixNano":"5","body":{"kvlistValue":{"values":[{"key":"a","value":{"boolValue":true}}]}}},
              {"traceId":"abcd","body":{"stringValue":"bad id"}}]}]}]}"#;
        let decoded = decode(json, Format::Json).unwrap();
        assert_eq!(decoded.rejected, 1);
        assert_eq!(decoded.logs.len(), 2);
        let first = &decoded.logs[0];
        assert_eq!(
            first.trace_id.as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        assert_eq!(first.span_id.as_deref(), Some("00f067aa0ba902b7"));
        assert_eq!(
            (first.severity_number, first.body.as_str()),
            (13, "cart empty")
        );
        assert_eq!(&*first.service, "shop");
        assert!(first.search_text.contains("n = 3"));
        let second = &decoded.logs[1];
        assert_eq!((second.trace_id.as_ref(), second.time_ns), (None, 5));
        assert_eq!(second.body, r#"{"a":true}"#);

        let request = crate::otlp_logs::tests::proto_request();
        let decoded = decode(&request.encode_to_vec(), Format::Protobuf).unwrap();
        assert_eq!(decoded.logs[0].body, "from protobuf");
        assert_eq!(decoded.logs[0].severity_number, 17);
    }

    pub(crate) fn proto_request() -> ExportLogsServiceRequest {
        use opentelemetry_proto::tonic::common::v1::AnyValue;
        use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
        ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                scope_logs: vec![ScopeLogs {
                    log_records: vec![LogRecord {
                        time_unix_nano: 1_700_000_000_000_000_000,
                        severity_number: 17,
                        body: Some(AnyValue {
                            value: Some(any_value::Value::StringValue("from protobuf".into())),
                        }),
                        trace_id: vec![1; 16],
                        span_id: vec![2; 8],
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    #[test]
    fn severity_names() {
        assert_eq!(severity_name(9), "INFO");
        assert_eq!(severity_name(10), "INFO2");
        assert_eq!(severity_name(24), "FATAL4");
        assert_eq!(severity_name(0), "");
    }
}
