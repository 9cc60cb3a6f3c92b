//! The collector's decoders of untrusted input, compiled from the collector's own source files
//! (`#[path]`): the OTLP traces and logs decoders, Rollbar item ingestion and the X-Ray daemon's
//! datagram decoder. They are pure functions over bytes, and building them this way leaves out
//! what the collector binary also pulls in (the AWS SDK, SQLite, the runtime), which cargo-fuzz
//! would otherwise compile with coverage instrumentation.

#[path = "../../collector/src/otlp.rs"]
pub mod otlp;
#[path = "../../collector/src/otlp_logs.rs"]
pub mod otlp_logs;
#[path = "../../collector/src/rollbar.rs"]
pub mod rollbar;
#[path = "../../collector/src/segments.rs"]
pub mod segments;

/// Whether `s` is `len` lowercase hex digits.
pub fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The checks every stored span must pass, whatever the input: ids in lowercase hex of the
/// right length, its JSON columns valid JSON of the right kind.
pub fn check_span(s: &otlp::SpanRecord) {
    assert!(is_lower_hex(&s.trace_id, 32), "trace id {:?}", s.trace_id);
    assert!(is_lower_hex(&s.span_id, 16), "span id {:?}", s.span_id);
    if let Some(p) = &s.parent_span_id {
        assert!(is_lower_hex(p, 16), "parent {p:?}");
    }
    for (json, what) in [
        (s.attributes.as_str(), "attributes"),
        (&*s.resource, "resource"),
    ] {
        let v: serde_json::Value = serde_json::from_str(json).expect(what);
        assert!(v.is_object(), "{what}: {json}");
    }
    for (json, what) in [(s.events.as_str(), "events"), (s.links.as_str(), "links")] {
        let v: serde_json::Value = serde_json::from_str(json).expect(what);
        assert!(v.is_array(), "{what}: {json}");
    }
}
