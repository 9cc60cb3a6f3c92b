//! The span model: what a recording span holds, and the rules for changing it (attribute,
//! event and link limits, status precedence).

use crate::model::{
    Array, KeyValue, Link, SpanContext, SpanId, SpanKind, Status, StringValue, Value,
};
use crate::prelude::*;

/// Default maximum attributes per span (OpenTelemetry's `OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT`).
pub const DEFAULT_ATTRIBUTE_COUNT_LIMIT: u32 = 128;
/// Default maximum events per span.
pub const DEFAULT_EVENT_COUNT_LIMIT: u32 = 128;
/// Default maximum links per span.
pub const DEFAULT_LINK_COUNT_LIMIT: u32 = 128;
/// Default maximum attributes per event.
pub const DEFAULT_ATTRIBUTE_PER_EVENT_COUNT_LIMIT: u32 = 128;
/// Default maximum attributes per link.
pub const DEFAULT_ATTRIBUTE_PER_LINK_COUNT_LIMIT: u32 = 128;

/// Name of the event `recordException` adds (semantic conventions).
pub const EXCEPTION_EVENT_NAME: &str = "exception";
/// `exception.type`
pub const EXCEPTION_TYPE: &str = "exception.type";
/// `exception.message`
pub const EXCEPTION_MESSAGE: &str = "exception.message";
/// `exception.stacktrace`
pub const EXCEPTION_STACKTRACE: &str = "exception.stacktrace";

/// The attributes of an `exception` event.
pub fn exception_attributes(
    kind: String,
    message: String,
    stacktrace: Option<String>,
) -> Vec<KeyValue> {
    let mut attrs = vec![
        KeyValue::new(EXCEPTION_TYPE, kind),
        KeyValue::new(EXCEPTION_MESSAGE, message),
    ];
    if let Some(st) = stacktrace {
        attrs.push(KeyValue::new(EXCEPTION_STACKTRACE, st));
    }
    attrs
}

/// A span kind from its OpenTelemetry JS code (`SpanKind.INTERNAL` = 0 … `CONSUMER` = 4).
pub fn span_kind_from_code(code: f64) -> Option<SpanKind> {
    if !crate::float::is_integral(code) {
        return None;
    }
    Some(match code as i64 {
        0 => SpanKind::Internal,
        1 => SpanKind::Server,
        2 => SpanKind::Client,
        3 => SpanKind::Producer,
        4 => SpanKind::Consumer,
        _ => return None,
    })
}

/// A span kind from its lowercase name (`"client"`).
pub fn span_kind_from_name(name: &str) -> Option<SpanKind> {
    (0..5)
        .map(f64::from)
        .filter_map(span_kind_from_code)
        .find(|k| span_kind_name(k) == name)
}

/// The OpenTelemetry JS code of a span kind.
pub fn span_kind_code(kind: &SpanKind) -> u8 {
    match kind {
        SpanKind::Internal => 0,
        SpanKind::Server => 1,
        SpanKind::Client => 2,
        SpanKind::Producer => 3,
        SpanKind::Consumer => 4,
    }
}

fn span_kind_name(kind: &SpanKind) -> &'static str {
    match kind {
        SpanKind::Internal => "internal",
        SpanKind::Server => "server",
        SpanKind::Client => "client",
        SpanKind::Producer => "producer",
        SpanKind::Consumer => "consumer",
    }
}

/// A status from its OpenTelemetry JS code (`SpanStatusCode`: 0 unset, 1 ok, 2 error); the
/// message is kept for errors only, as the specification says.
pub fn status_from_code(code: f64, message: Option<String>) -> Option<Status> {
    if !crate::float::is_integral(code) {
        return None;
    }
    match code as i64 {
        0 => Some(Status::Unset),
        1 => Some(Status::Ok),
        2 => Some(Status::error(message.unwrap_or_default())),
        _ => None,
    }
}

/// The OpenTelemetry JS code of a status and its message (errors only).
pub fn status_code(status: &Status) -> (u8, Option<&str>) {
    match status {
        Status::Unset => (0, None),
        Status::Ok => (1, None),
        Status::Error { description } => (2, Some(description.as_ref())),
    }
}

/// Limits applied to every span (the `spanLimits` option; names as in OpenTelemetry JS).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpanLimits {
    /// Attributes kept per span; further new keys are dropped and counted.
    pub attribute_count_limit: u32,
    /// Maximum characters of a string attribute value (each element of a string array);
    /// longer values are truncated. `None`: no limit.
    pub attribute_value_length_limit: Option<u32>,
    /// Events kept per span.
    pub event_count_limit: u32,
    /// Links kept per span.
    pub link_count_limit: u32,
    /// Attributes kept per event.
    pub attribute_per_event_count_limit: u32,
    /// Attributes kept per link.
    pub attribute_per_link_count_limit: u32,
}

impl Default for SpanLimits {
    fn default() -> Self {
        Self {
            attribute_count_limit: DEFAULT_ATTRIBUTE_COUNT_LIMIT,
            attribute_value_length_limit: None,
            event_count_limit: DEFAULT_EVENT_COUNT_LIMIT,
            link_count_limit: DEFAULT_LINK_COUNT_LIMIT,
            attribute_per_event_count_limit: DEFAULT_ATTRIBUTE_PER_EVENT_COUNT_LIMIT,
            attribute_per_link_count_limit: DEFAULT_ATTRIBUTE_PER_LINK_COUNT_LIMIT,
        }
    }
}

/// An event on a span.
#[derive(Clone, Debug, PartialEq)]
pub struct SpanEvent {
    /// Event name.
    pub name: String,
    /// When it happened, nanoseconds since the epoch.
    pub time_unix_nano: u64,
    /// Event attributes (limited by `attribute_per_event_count_limit`).
    pub attributes: Vec<KeyValue>,
    /// Attributes dropped by the limit.
    pub dropped_attributes_count: u32,
}

/// Everything a recording span holds. Ended spans are handed on unchanged.
#[derive(Clone, Debug)]
pub struct SpanData {
    /// Span name.
    pub name: String,
    /// Span kind.
    pub kind: SpanKind,
    /// This span's context (trace id, span id, flags, tracestate).
    pub span_context: SpanContext,
    /// The parent's span id; [`SpanId::INVALID`] for a root span.
    pub parent_span_id: SpanId,
    /// Whether the parent came from another process (a propagated header).
    pub parent_is_remote: bool,
    /// Start, nanoseconds since the epoch.
    pub start_time_unix_nano: u64,
    /// End, nanoseconds since the epoch (0 while the span is running).
    pub end_time_unix_nano: u64,
    /// Attributes, unique by key, in insertion order.
    pub attributes: Vec<KeyValue>,
    /// Attributes dropped by the count limit.
    pub dropped_attributes_count: u32,
    /// Events.
    pub events: Vec<SpanEvent>,
    /// Events dropped by the count limit.
    pub dropped_events_count: u32,
    /// Links.
    pub links: Vec<Link>,
    /// Links dropped by the count limit.
    pub dropped_links_count: u32,
    /// Status.
    pub status: Status,
}

/// What happened to one attribute offered to a span.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttributeOutcome {
    /// Stored as given.
    Stored,
    /// Stored with its string value(s) shortened to the length limit.
    Truncated,
    /// Dropped: the span already holds the maximum number of attributes.
    Dropped,
}

impl SpanData {
    /// A new running span.
    pub fn new(
        name: String,
        kind: SpanKind,
        span_context: SpanContext,
        parent: Option<&SpanContext>,
        start_time_unix_nano: u64,
    ) -> Self {
        Self {
            name,
            kind,
            span_context,
            parent_span_id: parent.map_or(SpanId::INVALID, |p| p.span_id()),
            parent_is_remote: parent.is_some_and(|p| p.is_remote()),
            start_time_unix_nano,
            end_time_unix_nano: 0,
            attributes: Vec::new(),
            dropped_attributes_count: 0,
            events: Vec::new(),
            dropped_events_count: 0,
            links: Vec::new(),
            dropped_links_count: 0,
            status: Status::Unset,
        }
    }

    /// Sets an attribute: an existing key is overwritten in place (it does not count against
    /// the limit); a new key beyond `attribute_count_limit` is dropped and counted.
    pub fn set_attribute(&mut self, mut kv: KeyValue, limits: &SpanLimits) -> AttributeOutcome {
        let truncated = truncate_value(&mut kv.value, limits.attribute_value_length_limit);
        let outcome = put_attribute(
            &mut self.attributes,
            &mut self.dropped_attributes_count,
            kv,
            limits.attribute_count_limit,
        );
        if truncated && outcome == AttributeOutcome::Stored {
            AttributeOutcome::Truncated
        } else {
            outcome
        }
    }

    /// Adds an event; beyond `event_count_limit` it is dropped and counted (returns false).
    pub fn add_event(
        &mut self,
        name: String,
        time_unix_nano: u64,
        attributes: Vec<KeyValue>,
        limits: &SpanLimits,
    ) -> bool {
        if self.events.len() >= limits.event_count_limit as usize {
            self.dropped_events_count = self.dropped_events_count.saturating_add(1);
            return false;
        }
        let mut event = SpanEvent {
            name,
            time_unix_nano,
            attributes: Vec::new(),
            dropped_attributes_count: 0,
        };
        for mut kv in attributes {
            truncate_value(&mut kv.value, limits.attribute_value_length_limit);
            put_attribute(
                &mut event.attributes,
                &mut event.dropped_attributes_count,
                kv,
                limits.attribute_per_event_count_limit,
            );
        }
        self.events.push(event);
        true
    }

    /// Adds a link; beyond `link_count_limit` it is dropped and counted (returns false).
    pub fn add_link(
        &mut self,
        context: SpanContext,
        attributes: Vec<KeyValue>,
        limits: &SpanLimits,
    ) -> bool {
        if self.links.len() >= limits.link_count_limit as usize {
            self.dropped_links_count = self.dropped_links_count.saturating_add(1);
            return false;
        }
        let (kept, dropped, _) = limit_attributes(
            attributes,
            limits.attribute_per_link_count_limit,
            limits.attribute_value_length_limit,
        );
        let mut link = Link::with_context(context);
        link.attributes = kept;
        link.dropped_attributes_count = dropped;
        self.links.push(link);
        true
    }

    /// Sets the status with OpenTelemetry's precedence: `Ok` is final, `Unset` never
    /// overrides, `Error` replaces `Unset` or an earlier `Error`.
    pub fn set_status(&mut self, status: Status) {
        match (&self.status, &status) {
            (Status::Ok, _) | (_, Status::Unset) => {}
            _ => self.status = status,
        }
    }

    /// The value of an attribute, if set.
    pub fn attribute(&self, key: &str) -> Option<&Value> {
        self.attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| &kv.value)
    }
}

/// `attributes` under a count and a value-length limit (as a link's or a log record's):
/// the ones kept (unique by key, the last value winning), how many were dropped, and how
/// many values were shortened.
pub fn limit_attributes(
    attributes: Vec<KeyValue>,
    count_limit: u32,
    length_limit: Option<u32>,
) -> (Vec<KeyValue>, u32, u32) {
    let mut kept = Vec::with_capacity(attributes.len().min(count_limit as usize));
    let mut dropped = 0;
    let mut truncated = 0;
    for mut kv in attributes {
        truncated += u32::from(truncate_value(&mut kv.value, length_limit));
        put_attribute(&mut kept, &mut dropped, kv, count_limit);
    }
    (kept, dropped, truncated)
}

fn put_attribute(
    list: &mut Vec<KeyValue>,
    dropped: &mut u32,
    kv: KeyValue,
    limit: u32,
) -> AttributeOutcome {
    if let Some(existing) = list.iter_mut().find(|e| e.key == kv.key) {
        existing.value = kv.value;
        return AttributeOutcome::Stored;
    }
    if list.len() >= limit as usize {
        *dropped = dropped.saturating_add(1);
        return AttributeOutcome::Dropped;
    }
    list.push(kv);
    AttributeOutcome::Stored
}

/// Truncates a string to at most `limit` characters, on a character boundary.
pub fn truncate_chars(s: &str, limit: usize) -> Option<&str> {
    if s.len() <= limit {
        return None; // a string of `limit` bytes has at most `limit` chars
    }
    s.char_indices()
        .nth(limit)
        .map(|(idx, _)| crate::text::upto(s, idx))
}

/// Shortens a value's string, or each string of a string array, to at most `limit`
/// characters, in place; whether any was shortened.
fn truncate_value(value: &mut Value, limit: Option<u32>) -> bool {
    let Some(limit) = limit else {
        return false;
    };
    let cut = |s: &mut StringValue| match truncate_chars(s.as_str(), limit as usize) {
        Some(t) => {
            *s = StringValue::from(t.to_owned());
            true
        }
        None => false,
    };
    match value {
        Value::String(s) => cut(s),
        Value::Array(Array::String(items)) => items.iter_mut().fold(false, |any, s| cut(s) | any),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::model::{TraceFlags, TraceId, TraceState};

    fn ctx(span: u64) -> SpanContext {
        SpanContext::new(
            TraceId::from(1u128),
            SpanId::from(span),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        )
    }

    fn span() -> SpanData {
        SpanData::new("s".into(), SpanKind::Internal, ctx(2), Some(&ctx(1)), 10)
    }

    #[test]
    fn parent_is_recorded() {
        let s = span();
        assert_eq!(s.parent_span_id, SpanId::from(1u64));
        let root = SpanData::new("r".into(), SpanKind::Internal, ctx(3), None, 0);
        assert_eq!(root.parent_span_id, SpanId::INVALID);
    }

    #[test]
    fn attribute_count_limit_drops_new_keys_but_overwrites_existing() {
        let limits = SpanLimits {
            attribute_count_limit: 2,
            ..SpanLimits::default()
        };
        let mut s = span();
        assert_eq!(
            s.set_attribute(KeyValue::new("a", 1), &limits),
            AttributeOutcome::Stored
        );
        assert_eq!(
            s.set_attribute(KeyValue::new("b", 2), &limits),
            AttributeOutcome::Stored
        );
        assert_eq!(
            s.set_attribute(KeyValue::new("c", 3), &limits),
            AttributeOutcome::Dropped
        );
        assert_eq!(
            s.set_attribute(KeyValue::new("a", 9), &limits),
            AttributeOutcome::Stored
        );
        assert_eq!(s.attributes.len(), 2);
        assert_eq!(s.attribute("a"), Some(&Value::I64(9)));
        assert_eq!(s.dropped_attributes_count, 1);
    }

    #[test]
    fn default_limit_is_128() {
        let limits = SpanLimits::default();
        let mut s = span();
        for i in 0..130 {
            s.set_attribute(KeyValue::new(format!("k{i}"), i as i64), &limits);
        }
        assert_eq!(s.attributes.len(), 128);
        assert_eq!(s.dropped_attributes_count, 2);
    }

    #[test]
    fn value_length_limit_truncates_on_char_boundaries() {
        let limits = SpanLimits {
            attribute_value_length_limit: Some(3),
            ..SpanLimits::default()
        };
        let mut s = span();
        assert_eq!(
            s.set_attribute(KeyValue::new("s", "héllo"), &limits),
            AttributeOutcome::Truncated
        );
        assert_eq!(s.attribute("s"), Some(&Value::from("hél")));
        let arr = Value::Array(Array::String(vec!["abcd".into(), "ab".into()]));
        s.set_attribute(KeyValue::new("arr", arr), &limits);
        assert_eq!(
            s.attribute("arr"),
            Some(&Value::Array(Array::String(vec![
                "abc".into(),
                "ab".into()
            ])))
        );
        assert_eq!(
            s.set_attribute(KeyValue::new("n", 12345), &limits),
            AttributeOutcome::Stored
        );
    }

    #[test]
    fn event_and_link_limits() {
        let limits = SpanLimits {
            event_count_limit: 1,
            link_count_limit: 1,
            attribute_per_event_count_limit: 1,
            ..SpanLimits::default()
        };
        let mut s = span();
        assert!(s.add_event(
            "e1".into(),
            5,
            vec![KeyValue::new("a", 1), KeyValue::new("b", 2)],
            &limits
        ));
        assert!(!s.add_event("e2".into(), 6, vec![], &limits));
        assert_eq!(s.events[0].attributes.len(), 1);
        assert_eq!(s.events[0].dropped_attributes_count, 1);
        assert_eq!(s.dropped_events_count, 1);
        assert!(s.add_link(ctx(7), vec![], &limits));
        assert!(!s.add_link(ctx(8), vec![], &limits));
        assert_eq!(s.dropped_links_count, 1);
    }

    #[test]
    fn kind_and_status_codes() {
        for code in 0..5 {
            let kind = span_kind_from_code(f64::from(code)).unwrap();
            assert_eq!(span_kind_code(&kind), code as u8);
            assert_eq!(span_kind_from_name(span_kind_name(&kind)), Some(kind));
        }
        assert_eq!(span_kind_from_name("client"), Some(SpanKind::Client));
        for bad in [5.0, -1.0, 1.5, f64::NAN] {
            assert_eq!(span_kind_from_code(bad), None);
        }
        for bad in [3.0, -1.0, 1.5, f64::NAN] {
            assert_eq!(status_from_code(bad, None), None);
        }
        assert_eq!(span_kind_from_name("CLIENT"), None);
        assert_eq!(
            status_from_code(2.0, Some("x".into())),
            Some(Status::error("x"))
        );
        assert_eq!(
            status_from_code(1.0, Some("ignored".into())),
            Some(Status::Ok)
        );
        assert_eq!(status_code(&Status::error("boom")), (2, Some("boom")));
        assert_eq!(status_code(&Status::Unset), (0, None));
    }

    #[test]
    fn status_precedence() {
        let mut s = span();
        s.set_status(Status::error("bad"));
        s.set_status(Status::Unset);
        assert_eq!(s.status, Status::error("bad"));
        s.set_status(Status::Ok);
        s.set_status(Status::error("later"));
        assert_eq!(s.status, Status::Ok);
    }
}
