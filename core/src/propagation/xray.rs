//! AWS X-Ray's trace header, `X-Amzn-Trace-Id`.
//!
//! ```text
//! X-Amzn-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1
//! ```
//!
//! A `;`-separated list of `Key=Value` fields. `Root` is the trace id in X-Ray's form:
//! version `1`, the trace's start in epoch seconds (8 hex digits), 24 hex digits of random;
//! its 32 digits are the W3C trace id, so one id is valid in both systems. `Parent` is the
//! caller's segment (span) id, 16 hex digits. `Sampled` is `1`, `0`, or `?` (the caller asks
//! the receiver to decide). `Lineage` (added by AWS services to detect request loops) and
//! `Self` (added by load balancers) may appear; other keys are kept as received so a
//! service can forward them.
//!
//! X-Ray has no grammar as strict as W3C's: the AWS SDKs trim whitespace around each field,
//! and some match keys without regard to case. What this parser accepts, decided once for
//! the browser and the service crate alike (the vectors below pin each rule):
//!
//! - fields are split on `;`; empty fields (`;;`, a trailing `;`) and fields without `=`
//!   are skipped; spaces and tabs around a field, its key and its value are trimmed;
//! - keys match case-insensitively (`root=` is `Root=`); the first of a repeated key wins,
//!   except `Root`, which must appear exactly once (two roots name two traces: invalid);
//! - `Root` must be `1-` + 8 + `-` + 24 hex digits, not all zero; hex digits of either case
//!   (X-Ray itself writes lowercase, as [`format_xray`] does);
//! - a `Parent` that is not 16 hex digits, or is all zero, is ignored (no parent), as is an
//!   unknown `Sampled` value (no decision);
//! - a header longer than [`MAX_XRAY_HEADER_LEN`] is invalid (X-Ray documents no limit; this
//!   one bounds what a service parses from a request).

use crate::model::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
use crate::prelude::*;
use crate::propagation::traceparent::{trim_ows, write_hex};

/// Name of X-Ray's trace header, as AWS writes it (HTTP names match case-insensitively).
pub const XRAY_HEADER: &str = "X-Amzn-Trace-Id";

/// The longest `X-Amzn-Trace-Id` value parsed; longer ones are invalid.
pub const MAX_XRAY_HEADER_LEN: usize = 1024;

/// X-Ray's `Sampled` field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XraySampled {
    /// `Sampled=1`.
    Yes,
    /// `Sampled=0`.
    No,
    /// `Sampled=?`: the caller leaves the decision to the receiver.
    Requested,
}

/// The fields of a valid `X-Amzn-Trace-Id` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XrayHeader<'a> {
    /// `Root`, as a W3C trace id (never all zero).
    pub trace_id: TraceId,
    /// `Parent`, when present and valid.
    pub parent_id: Option<SpanId>,
    /// `Sampled`, when present and one of `1`, `0`, `?`.
    pub sampled: Option<XraySampled>,
    /// `Lineage`, as received (AWS services' loop detection; forwarded, never interpreted).
    pub lineage: Option<&'a str>,
    /// Every other field (`Self` included), in order, with keys as received.
    pub others: Vec<(&'a str, &'a str)>,
}

/// Parses an `X-Amzn-Trace-Id` value; `None` when it is invalid (see the module's rules).
pub fn parse_xray(value: &str) -> Option<XrayHeader<'_>> {
    if value.len() > MAX_XRAY_HEADER_LEN {
        return None;
    }
    let mut root = None;
    let mut header = XrayHeader {
        trace_id: TraceId::INVALID,
        parent_id: None,
        sampled: None,
        lineage: None,
        others: Vec::new(),
    };
    let (mut parent_seen, mut sampled_seen) = (false, false);
    for field in value.split(';') {
        let Some((key, val)) = field.split_once('=') else {
            continue;
        };
        let (key, val) = (trim_ows(key), trim_ows(val));
        if key.eq_ignore_ascii_case("Root") {
            if root.is_some() {
                return None;
            }
            root = Some(parse_xray_trace_id(val)?);
        } else if key.eq_ignore_ascii_case("Parent") {
            if !parent_seen {
                parent_seen = true;
                header.parent_id = parse_mixed_hex::<8>(val)
                    .filter(|b| *b != [0; 8])
                    .map(SpanId::from_bytes);
            }
        } else if key.eq_ignore_ascii_case("Sampled") {
            if !sampled_seen {
                sampled_seen = true;
                header.sampled = match val {
                    "1" => Some(XraySampled::Yes),
                    "0" => Some(XraySampled::No),
                    "?" => Some(XraySampled::Requested),
                    _ => None,
                };
            }
        } else if key.eq_ignore_ascii_case("Lineage") {
            header.lineage = header.lineage.or(Some(val));
        } else if !key.is_empty() {
            header.others.push((key, val));
        }
    }
    header.trace_id = root?;
    Some(header)
}

/// The remote span context that the `X-Amzn-Trace-Id` values received name, and whether the
/// caller left the sampling decision to the receiver (`Sampled=?` or no `Sampled`).
///
/// `None` unless there is exactly one header (two would name two traces, as two
/// `traceparent` headers do), it is valid, and it has a `Parent`: a span context needs the
/// caller's span id, so a `Root` alone (as a load balancer sends it) starts a new trace. The
/// flags are `sampled` for `Sampled=1` and none otherwise; the `random` flag is not set, as
/// nothing in the header says how the sender made its trace id.
pub fn extract_xray(values: &[&str]) -> Option<(SpanContext, bool)> {
    let [value] = values else {
        return None;
    };
    let header = parse_xray(value)?;
    let parent = header.parent_id?;
    let sampled = header.sampled == Some(XraySampled::Yes);
    let requested = matches!(header.sampled, None | Some(XraySampled::Requested));
    let flags = if sampled {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    let context = SpanContext::new(header.trace_id, parent, flags, true, TraceState::default());
    Some((context, requested))
}

/// An X-Ray trace id (`1-58406520-a006649127e371903a2de979`) as a W3C trace id; `None`
/// unless it is version 1, 8 + 24 hex digits, not all zero.
pub fn parse_xray_trace_id(s: &str) -> Option<TraceId> {
    let b = s.as_bytes();
    if b.len() != 35 || !b.starts_with(b"1-") || b[10] != b'-' {
        return None;
    }
    let mut hex = [0u8; 32];
    hex[..8].copy_from_slice(&b[2..10]);
    hex[8..].copy_from_slice(&b[11..]);
    let bytes = parse_mixed_hex_bytes::<16>(&hex)?;
    (bytes != [0; 16]).then(|| TraceId::from_bytes(bytes))
}

/// Writes `trace_id` in X-Ray's form (`1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx`) onto `out`.
pub fn write_xray_trace_id(out: &mut String, trace_id: TraceId) {
    let bytes = trace_id.to_bytes();
    out.push_str("1-");
    write_hex(out, &bytes[..4]);
    out.push('-');
    write_hex(out, &bytes[4..]);
}

/// The `X-Amzn-Trace-Id` value for a span: `Root=1-…;Parent=…;Sampled=1|0`. The ids are
/// written as given (callers send it only for a valid span context, like `traceparent`).
pub fn format_xray(trace_id: TraceId, span_id: SpanId, sampled: bool) -> String {
    let mut out = String::with_capacity(72);
    out.push_str("Root=");
    write_xray_trace_id(&mut out, trace_id);
    out.push_str(";Parent=");
    write_hex(&mut out, &span_id.to_bytes());
    out.push_str(if sampled { ";Sampled=1" } else { ";Sampled=0" });
    out
}

fn parse_mixed_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    parse_mixed_hex_bytes(s.as_bytes())
}

/// Hex digits of either case to bytes; `None` unless exactly `2 * N` digits.
fn parse_mixed_hex_bytes<const N: usize>(hex: &[u8]) -> Option<[u8; N]> {
    if hex.len() != N * 2 {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        *byte = (digit(pair[0])? << 4) | digit(pair[1])?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    const ROOT: &str = "1-5759e988-bd862e3fe1be46a994272793";
    const TRACE: &str = "5759e988bd862e3fe1be46a994272793";
    const PARENT: &str = "53995c3f42cd8ad8";

    fn trace() -> TraceId {
        TraceId::from_bytes(crate::propagation::parse_hex_bytes::<16>(TRACE).unwrap())
    }

    fn parent() -> SpanId {
        SpanId::from_bytes(crate::propagation::parse_hex_bytes::<8>(PARENT).unwrap())
    }

    /// (header, expected: None for invalid, else (parent?, sampled, lineage, others)).
    type Expect = Option<(
        bool,
        Option<XraySampled>,
        Option<&'static str>,
        &'static [(&'static str, &'static str)],
    )>;

    #[test]
    fn parse_vectors() {
        use XraySampled::*;
        let cases: &[(&str, Expect)] = &[
            // The documented shapes.
            (
                "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
                Some((true, Some(Yes), None, &[])),
            ),
            (
                "Root=1-5759e988-bd862e3fe1be46a994272793",
                Some((false, None, None, &[])),
            ),
            (
                "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0",
                Some((false, Some(No), None, &[])),
            ),
            (
                "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=?",
                Some((true, Some(Requested), None, &[])),
            ),
            // Lineage (kept as received) and the load balancer's Self, order free.
            (
                "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:1|68fd508a:5",
                Some((true, Some(Yes), Some("a87bd80c:1|68fd508a:5"), &[])),
            ),
            (
                "Self=1-67891234-12456789abcdef012345678;Root=1-5759e988-bd862e3fe1be46a994272793;CalledFrom=app",
                Some((
                    false,
                    None,
                    None,
                    &[
                        ("Self", "1-67891234-12456789abcdef012345678"),
                        ("CalledFrom", "app"),
                    ],
                )),
            ),
            // Unknown keys kept in order; fields without '=' and empty fields skipped.
            (
                ";Root=1-5759e988-bd862e3fe1be46a994272793;;Foo=bar;junk;Parent=53995c3f42cd8ad8;",
                Some((true, None, None, &[("Foo", "bar")])),
            ),
            // Casing: keys of any case; hex digits of either case.
            (
                "root=1-5759E988-BD862E3FE1BE46A994272793;PARENT=53995C3F42CD8AD8;sampled=1",
                Some((true, Some(Yes), None, &[])),
            ),
            // Whitespace around fields, keys and values.
            (
                " Root = 1-5759e988-bd862e3fe1be46a994272793 ;\tParent=53995c3f42cd8ad8\t; Sampled=1 ",
                Some((true, Some(Yes), None, &[])),
            ),
            // A bad Parent or Sampled is ignored, the rest kept.
            (
                "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=garbage;Sampled=yes",
                Some((false, None, None, &[])),
            ),
            (
                "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=0000000000000000",
                Some((false, None, None, &[])),
            ),
            (
                "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8a",
                Some((false, None, None, &[])),
            ),
            // Repeated Parent / Sampled: the first wins (even when it is invalid).
            (
                "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0;Sampled=1;Parent=53995c3f42cd8ad8;Parent=1111111111111111",
                Some((true, Some(No), None, &[])),
            ),
            // Bad roots: the whole header is invalid.
            ("", None),
            ("Parent=53995c3f42cd8ad8;Sampled=1", None),
            ("Root=", None),
            ("Root=1-bogus-bad", None),
            ("Root=1-5759e988-bd862e3fe1be46a99427279", None),
            ("Root=1-5759e988-bd862e3fe1be46a9942727933", None),
            ("Root=2-5759e988-bd862e3fe1be46a994272793", None),
            ("Root=1_5759e988-bd862e3fe1be46a994272793", None),
            ("Root=1-5759e988bd862e3fe1be46a994272793", None),
            ("Root=1-5759e98g-bd862e3fe1be46a994272793", None),
            ("Root=1-00000000-000000000000000000000000", None),
            ("Root=1-5759e988-bd862e3f-e1be46a994272793", None),
            ("Root=1-5759é988-bd862e3fe1be46a99427279", None),
            // Two roots name two traces.
            (
                "Root=1-5759e988-bd862e3fe1be46a994272793;Root=1-5759e988-bd862e3fe1be46a994272793",
                None,
            ),
        ];
        for (header, expect) in cases {
            let got = parse_xray(header);
            match expect {
                None => assert_eq!(got, None, "{header:?} must be invalid"),
                Some((has_parent, sampled, lineage, others)) => {
                    let got = got.unwrap_or_else(|| panic!("{header:?} must be valid"));
                    assert_eq!(got.trace_id, trace(), "{header:?}: trace id");
                    assert_eq!(got.parent_id, has_parent.then(parent), "{header:?}: parent");
                    assert_eq!(got.sampled, *sampled, "{header:?}: sampled");
                    assert_eq!(got.lineage, *lineage, "{header:?}: lineage");
                    assert_eq!(got.others, *others, "{header:?}: other fields");
                }
            }
        }
    }

    #[test]
    fn extraction_vectors() {
        let full = format!("Root={ROOT};Parent={PARENT};Sampled=1");
        let (cx, requested) = extract_xray(&[&full]).expect("valid");
        assert_eq!((cx.trace_id(), cx.span_id()), (trace(), parent()));
        assert!(cx.is_remote() && cx.is_sampled() && !requested);
        assert_eq!(cx.trace_flags().to_u8(), 1, "no random flag");
        let off = format!("Root={ROOT};Parent={PARENT};Sampled=0");
        let (cx, requested) = extract_xray(&[&off]).expect("valid");
        assert!(!cx.is_sampled() && !requested);
        for undecided in [
            format!("Root={ROOT};Parent={PARENT};Sampled=?"),
            format!("Root={ROOT};Parent={PARENT}"),
            format!("Root={ROOT};Parent={PARENT};Sampled=maybe"),
        ] {
            let (cx, requested) = extract_xray(&[&undecided]).expect("valid");
            assert!(!cx.is_sampled() && requested, "{undecided}");
        }
        let root_only = format!("Root={ROOT};Sampled=1");
        assert_eq!(extract_xray(&[&root_only]), None, "no parent: a new trace");
        assert_eq!(extract_xray(&[&full, &full]), None, "two headers");
        assert_eq!(extract_xray(&[]), None);
        assert_eq!(extract_xray(&["Root=1-bad;Parent=53995c3f42cd8ad8"]), None);
    }

    #[test]
    fn overlong_headers_are_invalid() {
        let pad = "x".repeat(MAX_XRAY_HEADER_LEN);
        let long = format!("Root={ROOT};Pad={pad}");
        assert_eq!(parse_xray(&long), None);
        let fits = format!("Root={ROOT};P={}", &pad[..MAX_XRAY_HEADER_LEN - 43]);
        assert_eq!(fits.len(), MAX_XRAY_HEADER_LEN);
        assert!(parse_xray(&fits).is_some());
    }

    #[test]
    fn format_round_trips() {
        let v = format_xray(trace(), parent(), true);
        assert_eq!(v, format!("Root={ROOT};Parent={PARENT};Sampled=1"));
        assert_eq!(
            format_xray(trace(), parent(), false),
            format!("Root={ROOT};Parent={PARENT};Sampled=0")
        );
        let back = parse_xray(&v).expect("valid");
        assert_eq!(
            (back.trace_id, back.parent_id, back.sampled),
            (trace(), Some(parent()), Some(XraySampled::Yes))
        );
        let mut s = String::new();
        write_xray_trace_id(&mut s, trace());
        assert_eq!(s, ROOT);
        assert_eq!(parse_xray_trace_id(&s), Some(trace()));
    }

    #[test]
    fn ids_from_the_xray_generator_carry_epoch_seconds() {
        use crate::trace::ids::{IdGenerator, XrayIdGenerator};
        let now = 1_480_615_200u64 * 1_000_000_000;
        let id = XrayIdGenerator::new([5; 32]).new_trace_id(now);
        let mut s = String::new();
        write_xray_trace_id(&mut s, id);
        assert!(s.starts_with("1-58406520-"), "{s}");
    }
}
