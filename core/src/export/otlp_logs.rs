//! OTLP/HTTP JSON for logs: log records in OpenTelemetry's log data model, encoded as
//! `ExportLogsServiceRequest` bodies for `/v1/logs`, with the same proto3 JSON rules as
//! spans ([`super::otlp`]): hex ids, 64-bit integers as decimal strings, integer enums,
//! defaults left out.
//!
//! ```
//! use edge_telemetry_core::export::otlp::push_f64;
//! use edge_telemetry_core::export::otlp_logs::{LogRecord, LogsEncoder, Severity};
//! use edge_telemetry_core::model::KeyValue;
//!
//! let encoder = LogsEncoder::new(&[KeyValue::new("service.name", "shop")], "edge-telemetry", "", push_f64);
//! let record = LogRecord::new(1_700_000_000_000_000_000, Severity::Warn, "cart is empty");
//! assert_eq!(
//!     encoder.encode(&[record]),
//!     r#"{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"shop"}}]},"scopeLogs":[{"scope":{"name":"edge-telemetry"},"logRecords":[{"timeUnixNano":"1700000000000000000","observedTimeUnixNano":"1700000000000000000","severityNumber":13,"severityText":"WARN","body":{"stringValue":"cart is empty"}}]}]}]}"#
//! );
//! ```

use crate::prelude::*;

use super::otlp::{FormatF64, push_any_value, push_attributes_field, request_prefix};
use crate::json::{push_str_value, push_u64};
use crate::model::{KeyValue, SpanContext, Value};
use crate::propagation::write_hex;

/// Default URL path of the OTLP/HTTP logs endpoint.
pub const LOGS_PATH: &str = "/v1/logs";

/// Closes `logRecords`, `scopeLogs`, `resourceLogs` and the request object.
const SUFFIX: &str = "]}]}]}";

pub use crate::boundary::Severity;

impl Severity {
    /// `SeverityNumber`.
    pub const fn number(self) -> u8 {
        self as u8
    }

    /// The data model's short name (`TRACE` … `FATAL`), the default `severityText`.
    pub const fn text(self) -> &'static str {
        match self {
            Self::Trace => "TRACE",
            Self::Debug => "DEBUG",
            Self::Info => "INFO",
            Self::Warn => "WARN",
            Self::Error => "ERROR",
            Self::Fatal => "FATAL",
        }
    }
}

/// One log record (OpenTelemetry's log data model).
#[derive(Clone, Debug, PartialEq)]
pub struct LogRecord {
    /// When the event happened, Unix nanoseconds.
    pub time_unix_nano: u64,
    /// When it was observed (for a record made by a log call, the same time).
    pub observed_time_unix_nano: u64,
    /// `SeverityNumber`.
    pub severity: Severity,
    /// `SeverityText` (the severity's short name unless the source had its own).
    pub severity_text: String,
    /// The body (a message, usually a string).
    pub body: Value,
    /// Attributes.
    pub attributes: Vec<KeyValue>,
    /// Attributes dropped by limits.
    pub dropped_attributes_count: u32,
    /// The span active when the record was made: its trace id, span id and flags go out
    /// with the record.
    pub span_context: Option<SpanContext>,
}

impl LogRecord {
    /// A record of `body` at `time_unix_nano` (also its observed time), with the severity's
    /// short name, no attributes and no span.
    pub fn new(time_unix_nano: u64, severity: Severity, body: impl Into<Value>) -> Self {
        Self {
            time_unix_nano,
            observed_time_unix_nano: time_unix_nano,
            severity,
            severity_text: severity.text().to_owned(),
            body: body.into(),
            attributes: Vec::new(),
            dropped_attributes_count: 0,
            span_context: None,
        }
    }
}

/// Encodes log records as OTLP/HTTP JSON `ExportLogsServiceRequest` bodies; the resource and
/// scope are encoded once.
#[derive(Clone, Debug)]
pub struct LogsEncoder {
    prefix: String,
    f64_format: FormatF64,
}

impl LogsEncoder {
    /// An encoder for records of one resource and one instrumentation scope (an empty
    /// `scope_version` is left out).
    pub fn new(
        resource: &[KeyValue],
        scope_name: &str,
        scope_version: &str,
        f64_format: FormatF64,
    ) -> Self {
        let prefix = request_prefix(
            [
                r#"{"resourceLogs":[{"resource":{"attributes":"#,
                r#"},"scopeLogs":[{"scope":{"name":"#,
                r#"},"logRecords":["#,
            ],
            resource,
            scope_name,
            scope_version,
            f64_format,
        );
        Self { prefix, f64_format }
    }

    /// One request body holding all `records`, in order.
    pub fn encode(&self, records: &[LogRecord]) -> String {
        let mut out = String::with_capacity(self.prefix.len() + SUFFIX.len() + 200 * records.len());
        out.push_str(&self.prefix);
        for (i, record) in records.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            encode_record(record, &mut out, self.f64_format);
        }
        out.push_str(SUFFIX);
        out
    }
}

impl LogsEncoder {
    /// One request body holding records already encoded with [`encode_record`], in order.
    pub fn encode_encoded<'a>(&self, records: impl Iterator<Item = &'a str>) -> String {
        let mut out = self.prefix.clone();
        for (i, record) in records.enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(record);
        }
        out.push_str(SUFFIX);
        out
    }

    /// One record as [`encode_record`] writes it.
    pub fn encode_one(&self, record: &LogRecord) -> String {
        let mut out = String::with_capacity(256);
        encode_record(record, &mut out, self.f64_format);
        out
    }

    /// Request bodies for records already encoded, each under `max_bytes` where a record
    /// allows it (one record too large for it goes alone), with the number each holds.
    pub fn encode_encoded_chunked(&self, records: &[&str], max_bytes: usize) -> Vec<(String, u32)> {
        let fixed = self.prefix.len() + SUFFIX.len();
        let mut out = Vec::new();
        let mut start = 0;
        while start < records.len() {
            let mut end = start + 1;
            let mut len = fixed + records[start].len();
            while let Some(r) = records.get(end) {
                if len + 1 + r.len() > max_bytes {
                    break;
                }
                len += 1 + r.len();
                end += 1;
            }
            out.push((
                self.encode_encoded(records[start..end].iter().copied()),
                (end - start) as u32,
            ));
            start = end;
        }
        out
    }
}

/// One `LogRecord` object.
pub fn encode_record(record: &LogRecord, out: &mut String, f: FormatF64) {
    out.push_str(r#"{"timeUnixNano":""#);
    push_u64(record.time_unix_nano, out);
    out.push_str(r#"","observedTimeUnixNano":""#);
    push_u64(record.observed_time_unix_nano, out);
    out.push_str(r#"","severityNumber":"#);
    push_u64(u64::from(record.severity.number()), out);
    if !record.severity_text.is_empty() {
        out.push_str(r#","severityText":"#);
        push_str_value(&record.severity_text, out);
    }
    out.push_str(r#","body":"#);
    push_any_value(&record.body, out, f);
    push_attributes_field(&record.attributes, record.dropped_attributes_count, out, f);
    if let Some(cx) = record.span_context.as_ref().filter(|c| c.is_valid()) {
        out.push_str(r#","flags":"#);
        push_u64(u64::from(cx.trace_flags().to_u8()), out);
        out.push_str(r#","traceId":""#);
        write_hex(out, &cx.trace_id().to_bytes());
        out.push_str(r#"","spanId":""#);
        write_hex(out, &cx.span_id().to_bytes());
        out.push('"');
    }
    out.push('}');
}
