//! OTLP/HTTP JSON: finished spans encoded as `ExportTraceServiceRequest` bodies, and the
//! `partialSuccess` of the response read back.
//!
//! The encoding follows the OTLP specification's "JSON Protobuf Encoding": proto3 JSON with
//! lowerCamelCase keys, trace and span ids as lowercase hex (not base64), enums as integers,
//! 64-bit integers as decimal strings, and default values (empty lists, zero counts) left
//! out. Bodies are written straight into one `String`; nothing here builds a JSON tree.
//!
//! ```
//! use edge_telemetry_core::export::otlp::{OtlpEncoder, push_f64};
//! use edge_telemetry_core::trace::span::SpanData;
//! use edge_telemetry_core::model::KeyValue;
//!
//! let encoder = OtlpEncoder::new(&[KeyValue::new("service.name", "shop")], "edge-telemetry", "0.1.0", push_f64);
//! let body = encoder.encode::<SpanData>(&[]);
//! assert_eq!(
//!     body,
//!     r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"shop"}}]},"scopeSpans":[{"scope":{"name":"edge-telemetry","version":"0.1.0"},"spans":[]}]}]}"#
//! );
//! ```

use crate::prelude::*;
use core::borrow::Borrow;

use crate::json::{push_i64, push_str_value, push_u64};
use crate::model::{Array, KeyValue, Link, SpanContext, SpanKind, Status, TraceState, Value};
use crate::propagation::write_hex;
use crate::trace::span::{SpanData, SpanEvent};

/// Content type of OTLP/HTTP JSON requests and responses.
pub const CONTENT_TYPE_JSON: &str = "application/json";
/// Default URL path of the OTLP/HTTP traces endpoint.
pub const TRACES_PATH: &str = "/v1/traces";

/// `SPAN_FLAGS_TRACE_FLAGS_MASK`: the W3C trace flags in the low 8 bits of `flags`.
pub const SPAN_FLAGS_TRACE_FLAGS_MASK: u32 = 0x0000_00ff;
/// `SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK`: whether the parent (or link target) is remote is
/// known.
pub const SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK: u32 = 0x0000_0100;
/// `SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK`: the parent (or link target) is remote.
pub const SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK: u32 = 0x0000_0200;

/// Closes `spans`, `scopeSpans`, `resourceSpans` and the request object.
const SUFFIX: &str = "]}]}]}";

/// Encodes finished spans as OTLP/HTTP JSON `ExportTraceServiceRequest` bodies.
///
/// The resource and the instrumentation scope never change, so everything before the first
/// span is encoded once, in [`OtlpEncoder::new`].
#[derive(Clone, Debug)]
pub struct OtlpEncoder {
    /// `{"resourceSpans":[{"resource":{…},"scopeSpans":[{"scope":{…},"spans":[`
    prefix: String,
    /// Writes doubles.
    f64_format: FormatF64,
}

/// Writes a double's JSON text. The default, [`push_f64`], uses Rust's float formatting;
/// the wasm glue passes one that asks JavaScript (`Number.prototype.toString` gives the
/// same shortest round-trip text), which keeps about 10 KB of float formatting out of the
/// wasm module. Either way NaN and ±Infinity must come out as the proto3 JSON strings
/// `"NaN"`, `"Infinity"` and `"-Infinity"` (see [`push_non_finite`]).
pub type FormatF64 = fn(f64, &mut String);

/// Everything an export request writes before its first item: `keys[0]`, the resource's
/// attributes, `keys[1]`, the scope's name (and version, when not empty) and `keys[2]`, which
/// opens the list of items (spans: `resourceSpans`/`scopeSpans`/`spans`; logs:
/// `resourceLogs`/`scopeLogs`/`logRecords`).
pub(crate) fn request_prefix(
    keys: [&str; 3],
    resource: &[KeyValue],
    scope_name: &str,
    scope_version: &str,
    f: FormatF64,
) -> String {
    let mut prefix = String::with_capacity(128 + 48 * resource.len());
    prefix.push_str(keys[0]);
    push_attributes(resource, &mut prefix, f);
    prefix.push_str(keys[1]);
    push_str_value(scope_name, &mut prefix);
    if !scope_version.is_empty() {
        prefix.push_str(r#","version":"#);
        push_str_value(scope_version, &mut prefix);
    }
    prefix.push_str(keys[2]);
    prefix
}

/// Writes NaN and ±Infinity as proto3 JSON strings; returns false for finite values.
pub fn push_non_finite(v: f64, out: &mut String) -> bool {
    if v.is_nan() {
        out.push_str(r#""NaN""#);
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 {
            r#""Infinity""#
        } else {
            r#""-Infinity""#
        });
    } else {
        return false;
    }
    true
}

impl OtlpEncoder {
    /// An encoder for spans of one resource and one instrumentation scope. An empty
    /// `scope_version` is left out.
    /// Doubles are written by `f64_format` ([`push_f64`] unless the caller has a smaller one).
    pub fn new(
        resource: &[KeyValue],
        scope_name: &str,
        scope_version: &str,
        f64_format: FormatF64,
    ) -> Self {
        let prefix = request_prefix(
            [
                r#"{"resourceSpans":[{"resource":{"attributes":"#,
                r#"},"scopeSpans":[{"scope":{"name":"#,
                r#"},"spans":["#,
            ],
            resource,
            scope_name,
            scope_version,
            f64_format,
        );
        Self { prefix, f64_format }
    }

    /// One request body holding all `spans`, in order.
    pub fn encode<S: Borrow<SpanData>>(&self, spans: &[S]) -> String {
        let capacity = self.prefix.len()
            + SUFFIX.len()
            + spans
                .iter()
                .map(|s| estimated_span_len(s.borrow()))
                .sum::<usize>();
        let mut out = String::with_capacity(capacity);
        out.push_str(&self.prefix);
        for (i, span) in spans.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            encode_span_with(span.borrow(), &mut out, self.f64_format);
        }
        out.push_str(SUFFIX);
        out
    }

    /// Request bodies, each at most `max_bytes` long, that together hold every span exactly
    /// once and in order. A span too large to fit in a body of its own is still sent, alone
    /// in its body (which is then longer than `max_bytes`). No spans, no bodies. Each body
    /// comes with the number of spans it holds.
    pub fn encode_chunked<S: Borrow<SpanData>>(
        &self,
        spans: &[S],
        max_bytes: usize,
    ) -> Vec<(String, u32)> {
        let mut bodies = Vec::new();
        if spans.is_empty() {
            return bodies;
        }
        let capacity = (self.prefix.len()
            + SUFFIX.len()
            + spans
                .iter()
                .map(|s| estimated_span_len(s.borrow()))
                .sum::<usize>())
        .min(max_bytes);
        let mut body = String::with_capacity(capacity);
        body.push_str(&self.prefix);
        let mut in_body = 0usize;
        for span in spans {
            let mark = body.len();
            if in_body > 0 {
                body.push(',');
            }
            encode_span_with(span.borrow(), &mut body, self.f64_format);
            if in_body > 0 && body.len() + SUFFIX.len() > max_bytes {
                // Move the span just written into a new body and close the full one.
                let mut next = String::with_capacity(capacity);
                next.push_str(&self.prefix);
                next.push_str(crate::text::after(&body, mark + 1));
                body.truncate(mark);
                body.push_str(SUFFIX);
                bodies.push((core::mem::replace(&mut body, next), in_body as u32));
                in_body = 1;
            } else {
                in_body += 1;
            }
        }
        body.push_str(SUFFIX);
        bodies.push((body, in_body as u32));
        bodies
    }
}

/// A rough upper guess of a span's encoded length, to size buffers without re-growing.
fn estimated_span_len(span: &SpanData) -> usize {
    256 + span.name.len()
        + 64 * span.attributes.len()
        + 96 * span.events.len()
        + 160 * span.links.len()
}

/// Appends one span's JSON object (an OTLP `Span`).
pub fn encode_span(span: &SpanData, out: &mut String) {
    encode_span_with(span, out, push_f64);
}

/// [`encode_span`] with doubles written by `f` (see [`FormatF64`]).
pub fn encode_span_with(span: &SpanData, out: &mut String, f: FormatF64) {
    let cx = &span.span_context;
    push_ids(cx, out);
    push_trace_state(cx.trace_state(), out);
    if span.parent_span_id != crate::model::SpanId::INVALID {
        out.push_str(r#","parentSpanId":""#);
        write_hex(out, &span.parent_span_id.to_bytes());
        out.push('"');
    }
    out.push_str(r#","flags":"#);
    push_u64(u64::from(flags(cx, span.parent_is_remote)), out);
    out.push_str(r#","name":"#);
    push_str_value(&span.name, out);
    out.push_str(r#","kind":"#);
    push_u64(u64::from(otlp_span_kind(&span.kind)), out);
    out.push_str(r#","startTimeUnixNano":""#);
    push_u64(span.start_time_unix_nano, out);
    out.push_str(r#"","endTimeUnixNano":""#);
    push_u64(span.end_time_unix_nano, out);
    out.push('"');
    push_attributes_field(&span.attributes, span.dropped_attributes_count, out, f);
    push_list(r#","events":["#, &span.events, out, f, push_event);
    push_count(r#","droppedEventsCount":"#, span.dropped_events_count, out);
    push_list(r#","links":["#, &span.links, out, f, push_link);
    push_count(r#","droppedLinksCount":"#, span.dropped_links_count, out);
    out.push_str(r#","status":{"#);
    match &span.status {
        Status::Error { description } => {
            out.push_str(r#""code":2"#);
            if !description.is_empty() {
                out.push_str(r#","message":"#);
                push_str_value(description, out);
            }
        }
        Status::Ok => out.push_str(r#""code":1"#),
        Status::Unset => out.push_str(r#""code":0"#),
    }
    out.push_str("}}");
}

/// `field` (`,"name":[`), the items and `]`; nothing when `items` is empty (proto3 JSON
/// leaves out empty repeated fields).
fn push_list<T>(
    field: &str,
    items: &[T],
    out: &mut String,
    f: FormatF64,
    push: fn(&T, &mut String, FormatF64),
) {
    if items.is_empty() {
        return;
    }
    out.push_str(field);
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push(item, out, f);
    }
    out.push(']');
}

/// The OTLP `SpanKind` (`SPAN_KIND_INTERNAL` = 1 … `SPAN_KIND_CONSUMER` = 5).
pub fn otlp_span_kind(kind: &SpanKind) -> u8 {
    match kind {
        SpanKind::Internal => 1,
        SpanKind::Server => 2,
        SpanKind::Client => 3,
        SpanKind::Producer => 4,
        SpanKind::Consumer => 5,
    }
}

/// The OTLP `flags` of a span or link: the W3C trace flags, and whether the parent (for a
/// link: the linked span) is remote, always marked as known.
fn flags(cx: &SpanContext, remote: bool) -> u32 {
    let mut flags = (u32::from(cx.trace_flags().to_u8()) & SPAN_FLAGS_TRACE_FLAGS_MASK)
        | SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK;
    if remote {
        flags |= SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK;
    }
    flags
}

/// Opens the object with `{"traceId":"…","spanId":"…"`.
fn push_ids(cx: &SpanContext, out: &mut String) {
    out.push_str(r#"{"traceId":""#);
    write_hex(out, &cx.trace_id().to_bytes());
    out.push_str(r#"","spanId":""#);
    write_hex(out, &cx.span_id().to_bytes());
    out.push('"');
}

fn push_trace_state(state: &TraceState, out: &mut String) {
    if state.is_empty() {
        return;
    }
    let header = crate::propagation::format_tracestate(state);
    if !header.is_empty() {
        out.push_str(r#","traceState":"#);
        push_str_value(&header, out);
    }
}

fn push_event(event: &SpanEvent, out: &mut String, f: FormatF64) {
    out.push_str(r#"{"timeUnixNano":""#);
    push_u64(event.time_unix_nano, out);
    out.push_str(r#"","name":"#);
    push_str_value(&event.name, out);
    push_attributes_field(&event.attributes, event.dropped_attributes_count, out, f);
    out.push('}');
}

fn push_link(link: &Link, out: &mut String, f: FormatF64) {
    let cx = &link.span_context;
    push_ids(cx, out);
    push_trace_state(cx.trace_state(), out);
    push_attributes_field(&link.attributes, link.dropped_attributes_count, out, f);
    out.push_str(r#","flags":"#);
    push_u64(u64::from(flags(cx, cx.is_remote())), out);
    out.push('}');
}

/// `,"attributes":[…]` and `,"droppedAttributesCount":n`, each only when not empty.
pub(crate) fn push_attributes_field(
    attributes: &[KeyValue],
    dropped: u32,
    out: &mut String,
    f: FormatF64,
) {
    if !attributes.is_empty() {
        out.push_str(r#","attributes":"#);
        push_attributes(attributes, out, f);
    }
    push_count(r#","droppedAttributesCount":"#, dropped, out);
}

fn push_count(field: &str, count: u32, out: &mut String) {
    if count > 0 {
        out.push_str(field);
        push_u64(u64::from(count), out);
    }
}

/// A JSON array of OTLP `KeyValue`s.
pub(crate) fn push_attributes(attributes: &[KeyValue], out: &mut String, f: FormatF64) {
    out.push('[');
    for (i, kv) in attributes.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(r#"{"key":"#);
        push_str_value(kv.key.as_str(), out);
        out.push_str(r#","value":"#);
        push_any_value(&kv.value, out, f);
        out.push('}');
    }
    out.push(']');
}

/// An OTLP `AnyValue` object.
pub(crate) fn push_any_value(value: &Value, out: &mut String, f: FormatF64) {
    match value {
        Value::String(s) => {
            out.push_str(r#"{"stringValue":"#);
            push_str_value(s.as_str(), out);
        }
        Value::Bool(b) => {
            out.push_str(r#"{"boolValue":"#);
            out.push_str(if *b { "true" } else { "false" });
        }
        Value::I64(n) => {
            out.push_str(r#"{"intValue":""#);
            push_i64(*n, out);
            out.push('"');
        }
        Value::F64(d) => {
            out.push_str(r#"{"doubleValue":"#);
            f(*d, out);
        }
        Value::Array(array) => {
            out.push_str(r#"{"arrayValue":{"values":["#);
            push_array(array, out, f);
            out.push_str("]}");
        }
    }
    out.push('}');
}

fn push_array(array: &Array, out: &mut String, f: FormatF64) {
    fn each<T>(items: &[T], out: &mut String, push: impl Fn(&T, &mut String)) {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push(item, out);
        }
    }
    match array {
        Array::String(items) => each(items, out, |s, out| {
            out.push_str(r#"{"stringValue":"#);
            push_str_value(s.as_str(), out);
            out.push('}');
        }),
        Array::Bool(items) => each(items, out, |b, out| {
            out.push_str(if *b {
                r#"{"boolValue":true}"#
            } else {
                r#"{"boolValue":false}"#
            });
        }),
        Array::I64(items) => each(items, out, |n, out| {
            out.push_str(r#"{"intValue":""#);
            push_i64(*n, out);
            out.push_str(r#""}"#);
        }),
        Array::F64(items) => each(items, out, |d, out| {
            out.push_str(r#"{"doubleValue":"#);
            f(*d, out);
            out.push('}');
        }),
    }
}

/// A double as proto3 JSON writes it: a JSON number that reads back to the same value, or
/// the strings `"NaN"`, `"Infinity"` and `"-Infinity"`.
pub fn push_f64(v: f64, out: &mut String) {
    if push_non_finite(v, out) {
        return;
    }
    if v == 0.0 && v.is_sign_negative() {
        out.push_str("-0.0");
    } else if let Some(i) = crate::float::exact_int(v) {
        // Integral: the integer writer, without the float formatter.
        push_i64(i, out);
    } else {
        use core::fmt::Write as _;
        // `Debug`: the shortest text that reads back exactly, with an exponent for very large
        // or small magnitudes (`1e300`, `1e-7`). `Display` would be about 1 KB of gzipped wasm
        // smaller but writes f64::MAX as 309 digits, which serde_json rejects.
        let _ = write!(out, "{v:?}");
    }
}

/// The `partialSuccess` of an OTLP JSON response body (`ExportTracePartialSuccess`), when
/// it reports rejected spans or a message.
///
/// The specification says the client must not retry such a request; a message with no
/// rejected spans is a warning from the server.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PartialSuccess {
    /// Spans the server rejected (`rejectedSpans`; for logs, `rejectedLogRecords`).
    pub rejected_spans: u64,
    /// Why, in English (may be empty).
    pub error_message: String,
}

/// Reads the `partialSuccess` of an `ExportTraceServiceResponse` (or `ExportLogsServiceResponse`) JSON body.
///
/// `None` when the body is not a JSON object, has no `partialSuccess`, or it is empty
/// (`rejectedSpans` zero or absent and no `errorMessage`). `rejectedSpans` may be a number
/// or a decimal string, as proto3 JSON allows. The scanner only looks as deep as it needs:
/// it does not validate the parts of the body it skips.
///
/// ```
/// use edge_telemetry_core::export::otlp::parse_partial_success;
///
/// let p = parse_partial_success(r#"{"partialSuccess":{"rejectedSpans":"2","errorMessage":"too old"}}"#)
///     .unwrap();
/// assert_eq!((p.rejected_spans, p.error_message.as_str()), (2, "too old"));
/// assert_eq!(parse_partial_success("{}"), None);
/// ```
pub fn parse_partial_success(body: &str) -> Option<PartialSuccess> {
    let mut sc = Scanner {
        bytes: body.as_bytes(),
        pos: 0,
    };
    let mut found = None;
    sc.object(|sc, key| {
        if key == "partialSuccess" && found.is_none() {
            found = Some(sc.partial_success()?);
            Some(())
        } else {
            sc.skip_value()
        }
    })?;
    found
        .flatten()
        .filter(|p| p.rejected_spans > 0 || !p.error_message.is_empty())
}

/// A cursor over JSON text, just enough to read one nested object.
struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Scanner<'_> {
    fn peek(&mut self) -> Option<u8> {
        while let Some(&b) = self.bytes.get(self.pos) {
            if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                return Some(b);
            }
            self.pos += 1;
        }
        None
    }

    fn eat(&mut self, want: u8) -> Option<()> {
        (self.peek()? == want).then(|| self.pos += 1)
    }

    /// An object; `member` is called with the scanner placed at each member's value.
    fn object(&mut self, mut member: impl FnMut(&mut Self, &str) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        if self.eat(b'}').is_some() {
            return Some(());
        }
        loop {
            let key = self.string()?;
            self.eat(b':')?;
            member(self, &key)?;
            match self.peek()? {
                b',' => self.pos += 1,
                b'}' => {
                    self.pos += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// The `partialSuccess` value: `Some(None)` for `null`.
    fn partial_success(&mut self) -> Option<Option<PartialSuccess>> {
        if self.literal("null") {
            return Some(None);
        }
        let mut p = PartialSuccess::default();
        self.object(|sc, key| match key {
            "rejectedSpans" | "rejectedLogRecords" => {
                p.rejected_spans = sc.u64_value()?;
                Some(())
            }
            "errorMessage" => {
                if !sc.literal("null") {
                    p.error_message = sc.string()?;
                }
                Some(())
            }
            _ => sc.skip_value(),
        })?;
        Some(Some(p))
    }

    fn literal(&mut self, word: &str) -> bool {
        self.peek();
        let found = self.bytes[self.pos..].starts_with(word.as_bytes());
        if found {
            self.pos += word.len();
        }
        found
    }

    /// An unsigned integer written as a number or as a decimal string; `null` is zero.
    fn u64_value(&mut self) -> Option<u64> {
        if self.literal("null") {
            return Some(0);
        }
        let quoted = self.eat(b'"').is_some();
        let start = self.pos;
        let mut n: u64 = 0;
        while let Some(&b) = self.bytes.get(self.pos).filter(|b| b.is_ascii_digit()) {
            n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
            self.pos += 1;
        }
        if self.pos == start || (quoted && self.eat_raw(b'"').is_none()) {
            return None;
        }
        Some(n)
    }

    fn eat_raw(&mut self, want: u8) -> Option<()> {
        (*self.bytes.get(self.pos)? == want).then(|| self.pos += 1)
    }

    /// A string literal, unescaped.
    fn string(&mut self) -> Option<String> {
        self.eat(b'"')?;
        let mut out = String::new();
        let mut clean = self.pos;
        loop {
            let b = *self.bytes.get(self.pos)?;
            match b {
                b'"' => {
                    out.push_str(core::str::from_utf8(&self.bytes[clean..self.pos]).ok()?);
                    self.pos += 1;
                    return Some(out);
                }
                b'\\' => {
                    out.push_str(core::str::from_utf8(&self.bytes[clean..self.pos]).ok()?);
                    self.pos += 1;
                    let c = match *self.bytes.get(self.pos)? {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => return None,
                    };
                    out.push(c);
                    self.pos += 1;
                    clean = self.pos;
                }
                0..=0x1f => return None,
                _ => self.pos += 1,
            }
        }
    }

    /// The character of a `\uXXXX` escape (a surrogate pair when two follow each other; a
    /// lone surrogate becomes U+FFFD). Leaves `pos` on the escape's last digit.
    fn unicode_escape(&mut self) -> Option<char> {
        let hi = self.hex4()?;
        if !(0xd800..0xdc00).contains(&hi) {
            return Some(char::from_u32(hi).unwrap_or(char::REPLACEMENT_CHARACTER));
        }
        if self.bytes.get(self.pos + 1..self.pos + 3) == Some(b"\\u") {
            let save = self.pos;
            self.pos += 2;
            let lo = self.hex4()?;
            if (0xdc00..0xe000).contains(&lo) {
                let c = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
                return char::from_u32(c);
            }
            self.pos = save;
        }
        Some(char::REPLACEMENT_CHARACTER)
    }

    /// Four hex digits after the current byte; `pos` ends on the last.
    fn hex4(&mut self) -> Option<u32> {
        let digits = self.bytes.get(self.pos + 1..self.pos + 5)?;
        let mut n = 0;
        for &d in digits {
            n = n * 16 + char::from(d).to_digit(16)?;
        }
        self.pos += 4;
        Some(n)
    }

    /// Skips one value of any kind, nested objects and arrays included.
    fn skip_value(&mut self) -> Option<()> {
        let mut depth = 0usize;
        loop {
            match self.peek()? {
                b'"' => {
                    self.string()?;
                }
                b'{' | b'[' => {
                    self.pos += 1;
                    depth += 1;
                    continue;
                }
                b'}' | b']' if depth > 0 => {
                    self.pos += 1;
                    depth -= 1;
                }
                b',' | b':' if depth > 0 => {
                    self.pos += 1;
                    continue;
                }
                b'-' | b'+' | b'.' | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z' => {
                    while self.bytes.get(self.pos).is_some_and(|b| {
                        matches!(b, b'-' | b'+' | b'.' | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z')
                    }) {
                        self.pos += 1;
                    }
                }
                _ => return None,
            }
            if depth == 0 {
                return Some(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::model::{SpanId, TraceFlags, TraceId};
    use crate::trace::span::SpanLimits;

    const TRACE: u128 = 0x4bf92f3577b34da6a3ce929d0e0e4736;

    fn cx(span: u64, remote: bool) -> SpanContext {
        SpanContext::new(
            TraceId::from(TRACE),
            SpanId::from(span),
            TraceFlags::SAMPLED,
            remote,
            TraceState::default(),
        )
    }

    fn small_span() -> SpanData {
        let mut s = SpanData::new(
            "GET /".into(),
            SpanKind::Client,
            cx(0x00f067aa0ba902b7, false),
            None,
            1_700_000_000_000_000_000,
        );
        s.end_time_unix_nano = 1_700_000_000_250_000_000;
        s
    }

    fn encoder() -> OtlpEncoder {
        OtlpEncoder::new(
            &[KeyValue::new("service.name", "shop")],
            "et",
            "1.0",
            push_f64,
        )
    }

    fn span_json(span: &SpanData) -> String {
        let mut out = String::new();
        encode_span(span, &mut out);
        out
    }

    fn value_json(value: Value) -> String {
        let mut out = String::new();
        push_any_value(&value, &mut out, push_f64);
        out
    }

    #[test]
    fn golden_root_span() {
        assert_eq!(
            span_json(&small_span()),
            concat!(
                r#"{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7","#,
                r#""flags":257,"name":"GET /","kind":3,"#,
                r#""startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000250000000","#,
                r#""status":{"code":0}}"#
            )
        );
    }

    #[test]
    fn golden_child_of_remote_parent_with_everything() {
        let limits = SpanLimits {
            attribute_count_limit: 1,
            ..SpanLimits::default()
        };
        let ts: TraceState = crate::propagation::parse_tracestate(&["vendor=a,other=b"]).unwrap();
        let parent = cx(1, true);
        let mut s = SpanData::new(
            "work".into(),
            SpanKind::Server,
            SpanContext::new(
                TraceId::from(TRACE),
                SpanId::from(2),
                TraceFlags::default(),
                false,
                ts.clone(),
            ),
            Some(&parent),
            5,
        );
        s.end_time_unix_nano = 6;
        s.set_attribute(KeyValue::new("n", -42), &limits);
        s.set_attribute(KeyValue::new("dropped", 1), &limits);
        s.add_event("e".into(), 7, vec![KeyValue::new("ok", true)], &limits);
        s.add_link(
            SpanContext::new(
                TraceId::from(3),
                SpanId::from(4),
                TraceFlags::SAMPLED,
                true,
                ts,
            ),
            vec![],
            &limits,
        );
        s.dropped_events_count = 2;
        s.dropped_links_count = 3;
        s.set_status(Status::error("boom"));
        assert_eq!(
            span_json(&s),
            concat!(
                r#"{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"0000000000000002","#,
                r#""traceState":"vendor=a,other=b","parentSpanId":"0000000000000001","#,
                r#""flags":768,"name":"work","kind":2,"startTimeUnixNano":"5","endTimeUnixNano":"6","#,
                r#""attributes":[{"key":"n","value":{"intValue":"-42"}}],"droppedAttributesCount":1,"#,
                r#""events":[{"timeUnixNano":"7","name":"e","attributes":[{"key":"ok","value":{"boolValue":true}}]}],"#,
                r#""droppedEventsCount":2,"#,
                r#""links":[{"traceId":"00000000000000000000000000000003","spanId":"0000000000000004","#,
                r#""traceState":"vendor=a,other=b","flags":769}],"droppedLinksCount":3,"#,
                r#""status":{"code":2,"message":"boom"}}"#
            )
        );
    }

    #[test]
    fn kinds_and_statuses() {
        let kinds = [
            (SpanKind::Internal, 1),
            (SpanKind::Server, 2),
            (SpanKind::Client, 3),
            (SpanKind::Producer, 4),
            (SpanKind::Consumer, 5),
        ];
        for (kind, code) in kinds {
            assert_eq!(otlp_span_kind(&kind), code);
        }
        let mut s = small_span();
        s.set_status(Status::Ok);
        assert!(span_json(&s).ends_with(r#""status":{"code":1}}"#));
        let mut s = small_span();
        s.set_status(Status::error(""));
        assert!(span_json(&s).ends_with(r#""status":{"code":2}}"#));
    }

    #[test]
    fn whole_request() {
        let body = encoder().encode(&[small_span(), small_span()]);
        let span = span_json(&small_span());
        assert_eq!(
            body,
            format!(
                "{}{span},{span}{SUFFIX}",
                concat!(
                    r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"shop"}}]},"#,
                    r#""scopeSpans":[{"scope":{"name":"et","version":"1.0"},"spans":["#
                )
            )
        );
        let no_version = OtlpEncoder::new(&[], "et", "", push_f64).encode::<SpanData>(&[]);
        assert_eq!(
            no_version,
            r#"{"resourceSpans":[{"resource":{"attributes":[]},"scopeSpans":[{"scope":{"name":"et"},"spans":[]}]}]}"#
        );
    }

    #[test]
    fn attribute_values() {
        let cases = [
            (Value::from("x"), r#"{"stringValue":"x"}"#),
            (Value::from(false), r#"{"boolValue":false}"#),
            (
                Value::from(i64::MIN),
                r#"{"intValue":"-9223372036854775808"}"#,
            ),
            (
                Value::from(i64::MAX),
                r#"{"intValue":"9223372036854775807"}"#,
            ),
            (Value::from(0i64), r#"{"intValue":"0"}"#),
            (Value::from(1.5), r#"{"doubleValue":1.5}"#),
            (Value::from(3.0), r#"{"doubleValue":3}"#),
            (Value::from(-2.0), r#"{"doubleValue":-2}"#),
            (Value::from(-0.0), r#"{"doubleValue":-0.0}"#),
            (Value::from(1e300), r#"{"doubleValue":1e300}"#),
            (Value::from(1e-7), r#"{"doubleValue":1e-7}"#),
            (Value::from(-2.5e-3), r#"{"doubleValue":-0.0025}"#),
            (Value::from(0.1), r#"{"doubleValue":0.1}"#),
            (Value::from(f64::NAN), r#"{"doubleValue":"NaN"}"#),
            (Value::from(f64::INFINITY), r#"{"doubleValue":"Infinity"}"#),
            (
                Value::from(f64::NEG_INFINITY),
                r#"{"doubleValue":"-Infinity"}"#,
            ),
            (
                Value::Array(Array::String(vec!["a".into(), "b\"".into()])),
                r#"{"arrayValue":{"values":[{"stringValue":"a"},{"stringValue":"b\""}]}}"#,
            ),
            (
                Value::Array(Array::Bool(vec![true, false])),
                r#"{"arrayValue":{"values":[{"boolValue":true},{"boolValue":false}]}}"#,
            ),
            (
                Value::Array(Array::I64(vec![1, -2])),
                r#"{"arrayValue":{"values":[{"intValue":"1"},{"intValue":"-2"}]}}"#,
            ),
            (
                Value::Array(Array::F64(vec![0.5, f64::NAN])),
                r#"{"arrayValue":{"values":[{"doubleValue":0.5},{"doubleValue":"NaN"}]}}"#,
            ),
            (
                Value::Array(Array::I64(vec![])),
                r#"{"arrayValue":{"values":[]}}"#,
            ),
        ];
        for (value, want) in cases {
            assert_eq!(value_json(value.clone()), want, "{value:?}");
        }
    }

    #[test]
    fn doubles_read_back_exactly() {
        let cases = [
            0.1,
            1.0 / 3.0,
            -1e-7,
            1e300,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            9_007_199_254_740_992.0,
            -9_007_199_254_740_993.0,
            123_456.789,
            -0.0,
        ];
        for v in cases {
            let mut out = String::new();
            push_f64(v, &mut out);
            assert!(!out.contains(['N', 'I']), "{out}");
            assert_eq!(out.parse::<f64>().unwrap().to_bits(), v.to_bits(), "{out}");
        }
    }

    #[test]
    fn integers() {
        for n in [0u64, 7, 10, 99, 100, 1_234_567_890, u64::MAX] {
            let mut out = String::new();
            push_u64(n, &mut out);
            assert_eq!(out, n.to_string());
        }
    }

    #[test]
    fn string_escaping() {
        let cases = [
            ("plain", r#""plain""#),
            ("", r#""""#),
            ("q\"b\\s/", r#""q\"b\\s/""#),
            ("a\nb\r\tc", r#""a\nb\r\tc""#),
            (
                "\u{0}\u{1}\u{8}\u{c}\u{1f}\u{7f}",
                "\"\\u0000\\u0001\\u0008\\u000c\\u001f\u{7f}\"",
            ),
            ("héllo ✓ 😀", "\"héllo ✓ 😀\""),
            ("\u{2028}", "\"\u{2028}\""),
        ];
        for (input, want) in cases {
            let mut out = String::new();
            push_str_value(input, &mut out);
            assert_eq!(out, want, "{input:?}");
        }
    }

    #[test]
    fn keys_and_names_are_escaped() {
        let mut s = small_span();
        s.name = "a\"b".into();
        s.set_attribute(KeyValue::new("k\\", "line1\nline2"), &SpanLimits::default());
        let json = span_json(&s);
        assert!(json.contains(r#""name":"a\"b""#));
        assert!(json.contains(r#"{"key":"k\\","value":{"stringValue":"line1\nline2"}}"#));
    }

    fn sized_span(name_len: usize) -> SpanData {
        let mut s = small_span();
        s.name = "x".repeat(name_len);
        s
    }

    /// The spans of each body, as their names, and every body's length.
    fn split(bodies: &[String]) -> Vec<Vec<usize>> {
        let prefix = &encoder().prefix;
        bodies
            .iter()
            .map(|b| {
                assert!(b.starts_with(prefix.as_str()) && b.ends_with(SUFFIX), "{b}");
                let spans = &b[prefix.len()..];
                spans
                    .match_indices(r#""name":""#)
                    .map(|(i, _)| spans[i + 8..].find('"').unwrap())
                    .collect()
            })
            .collect()
    }

    /// The bodies of `encode_chunked`, after checking the span count given with each.
    fn chunked(enc: &OtlpEncoder, spans: &[SpanData], max: usize) -> Vec<String> {
        let parts = enc.encode_chunked(spans, max);
        let bodies: Vec<String> = parts.iter().map(|(b, _)| b.clone()).collect();
        for ((_, n), names) in parts.iter().zip(split(&bodies)) {
            assert_eq!(*n as usize, names.len());
        }
        bodies
    }

    #[test]
    fn chunking_keeps_every_span_once_in_order_within_the_limit() {
        let spans: Vec<SpanData> = (1..=40).map(|i| sized_span(i * 7)).collect();
        let enc = encoder();
        let whole = enc.encode(&spans);
        for max in [
            600,
            900,
            1500,
            4000,
            whole.len() - 1,
            whole.len(),
            usize::MAX,
        ] {
            let bodies = chunked(&enc, &spans, max);
            let names: Vec<usize> = split(&bodies).into_iter().flatten().collect();
            assert_eq!(
                names,
                (1..=40).map(|i| i * 7).collect::<Vec<_>>(),
                "max {max}"
            );
            for (b, names) in bodies.iter().zip(split(&bodies)) {
                // Only a span too large for any body may make one longer than `max`.
                assert!(b.len() <= max || names.len() == 1, "{} > {max}", b.len());
            }
            // Greedy: the next body's first span would not have fitted in the previous one.
            for pair in bodies.windows(2) {
                let first_len = split(&pair[1..])[0][0];
                assert!(pair[0].len() + 1 + span_json(&sized_span(first_len)).len() > max);
            }
        }
        assert_eq!(enc.encode_chunked(&spans, whole.len()), vec![(whole, 40)]);
    }

    #[test]
    fn oversized_span_travels_alone() {
        let enc = encoder();
        let spans = [
            sized_span(10),
            sized_span(5000),
            sized_span(20),
            sized_span(30),
        ];
        let max = 1000;
        let bodies = chunked(&enc, &spans, max);
        assert_eq!(split(&bodies), vec![vec![10], vec![5000], vec![20, 30]]);
        assert!(bodies[1].len() > max);
        assert_eq!(bodies[1], enc.encode(&spans[1..2]));
        // Even a limit smaller than an empty body gives one span per body.
        let tiny = chunked(&enc, &spans, 1);
        assert_eq!(tiny.len(), 4);
        for (body, span) in tiny.iter().zip(&spans) {
            assert_eq!(*body, enc.encode(core::slice::from_ref(span)));
        }
    }

    #[test]
    fn chunking_nothing_gives_no_bodies() {
        assert!(encoder().encode_chunked::<SpanData>(&[], 100).is_empty());
    }

    #[test]
    fn partial_success_bodies() {
        let some = |rejected, msg: &str| {
            Some(PartialSuccess {
                rejected_spans: rejected,
                error_message: msg.into(),
            })
        };
        let cases = [
            ("", None),
            ("not json", None),
            ("<html>oops</html>", None),
            ("{}", None),
            ("[]", None),
            (r#"{"partialSuccess":{}}"#, None),
            (r#"{"partialSuccess":null}"#, None),
            (
                r#"{"partialSuccess":{"rejectedSpans":0,"errorMessage":""}}"#,
                None,
            ),
            (r#"{"partialSuccess":{"rejectedSpans":"0"}}"#, None),
            (r#"{"partialSuccess":{"rejectedSpans":3}}"#, some(3, "")),
            (
                r#"{"partialSuccess":{"rejectedSpans":"18446744073709551615"}}"#,
                some(u64::MAX, ""),
            ),
            (
                r#"{"partialSuccess":{"rejectedSpans":"18446744073709551616"}}"#,
                None,
            ),
            (r#"{"partialSuccess":{"rejectedSpans":-1}}"#, None),
            (
                r#"{"partialSuccess":{"errorMessage":"slow down"}}"#,
                some(0, "slow down"),
            ),
            (
                " {\n \"other\": [1, {\"a\": \"}\"}, null, true, -2.5e3],\n \"partialSuccess\" : { \"errorMessage\" : \"bad \\\"span\\\"\\n\\u00e9\\ud83d\\ude00\\/\\\\\", \"rejectedSpans\" : \"2\", \"future\": {\"x\": [[]]} } } ",
                some(2, "bad \"span\"\né😀/\\"),
            ),
            (
                r#"{"partialSuccess":{"errorMessage":"lone \udc00"}}"#,
                some(0, "lone \u{fffd}"),
            ),
            (
                r#"{"partialSuccess":{"rejectedSpans":1,"errorMessage":null}}"#,
                some(1, ""),
            ),
            (r#"{"partialSuccess":{"rejectedSpans":1"#, None),
            (r#"{"partialSuccess":{"errorMessage":"unterminated}}"#, None),
            (
                r#"{"partialSuccess":{"errorMessage":"bad \q escape"}}"#,
                None,
            ),
            (r#"{"nested":{"partialSuccess":{"rejectedSpans":1}}}"#, None),
        ];
        for (body, want) in cases {
            assert_eq!(parse_partial_success(body), want, "{body}");
        }
    }
}
