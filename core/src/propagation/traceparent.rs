//! The `traceparent` header of W3C Trace Context Level 2.
//!
//! Grammar (version `00`):
//!
//! ```text
//! traceparent = version "-" trace-id "-" parent-id "-" trace-flags
//! version     = 2HEXDIGLC   ; "ff" is forbidden
//! trace-id    = 32HEXDIGLC  ; all zeroes forbidden
//! parent-id   = 16HEXDIGLC  ; all zeroes forbidden
//! trace-flags = 2HEXDIGLC   ; bit field: 0x01 sampled, 0x02 random trace id
//! ```
//!
//! Parsing follows the spec's rules for unexpected formats: a higher version is read with
//! the version-00 layout as long as it is at least 55 characters long and anything after
//! the flags starts with `-`. Formatting always writes version `00` and clears every flag
//! bit this version does not define ("vendors MUST set those to zero").

use crate::model::{SpanId, TraceFlags, TraceId};
use crate::prelude::*;

/// Name of the `traceparent` header (lowercase, as the spec recommends sending it).
pub const TRACEPARENT_HEADER: &str = "traceparent";

/// The `sampled` flag (bit 0): the caller may have recorded trace data.
pub const SAMPLED_FLAG: u8 = 0x01;

/// The Level 2 `random-trace-id` flag (bit 1): at least the right-most 7 bytes of the
/// trace id were generated randomly. It must be kept when the trace id is kept.
pub const RANDOM_FLAG: u8 = 0x02;

/// Every flag bit Level 2 defines; the others are cleared when we write a header.
const KNOWN_FLAGS: u8 = SAMPLED_FLAG | RANDOM_FLAG;

/// Length of a version-00 `traceparent` value, and the minimum length of any version.
const TRACEPARENT_LEN: usize = 55;

/// Version `ff` is forbidden.
const INVALID_VERSION: u8 = 0xff;

/// Lowercase hex digits, indexed by nibble.
const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";

/// The fields of a parsed `traceparent` header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceParent {
    /// The trace id (never all zeroes).
    pub trace_id: TraceId,
    /// The caller's span id, `parent-id` in the spec (never all zeroes).
    pub parent_id: SpanId,
    /// The flags exactly as received, unknown bits included; [`format_traceparent`] masks
    /// them when writing.
    pub flags: TraceFlags,
}

/// Parses the `traceparent` header.
///
/// `values` holds every `traceparent` header value received. The header is not a list, so
/// anything other than exactly one value is invalid and yields `None` (the caller then
/// restarts the trace and must not parse `tracestate`). Returns `None` for anything the
/// spec says to ignore:
///
/// - surrounding optional whitespace (spaces, tabs) is trimmed, anything else is strict;
/// - only lowercase hex is accepted (`ABCDEF` is invalid);
/// - version `ff` is invalid;
/// - an all-zero trace id or parent id is invalid;
/// - version `00` must be exactly 55 characters long;
/// - a higher version must be at least 55 characters long, and when longer the 56th
///   character must be `-`; its first 55 characters are then read with the version-00
///   layout and whatever follows is ignored.
///
/// The flags are kept as received (all 8 bits), so the `random` flag (`0x02`) survives.
pub fn parse_traceparent(values: &[&str]) -> Option<TraceParent> {
    let [value] = values else {
        return None;
    };
    let value = trim_ows(value).as_bytes();
    if value.len() < TRACEPARENT_LEN {
        return None;
    }

    let [version] = parse_hex_slice::<1>(value.get(0..2)?)?;
    if version == INVALID_VERSION {
        return None;
    }
    if version == 0 {
        if value.len() != TRACEPARENT_LEN {
            return None;
        }
    } else if value.len() > TRACEPARENT_LEN && value.get(TRACEPARENT_LEN) != Some(&b'-') {
        return None;
    }

    if value.get(2) != Some(&b'-') || value.get(35) != Some(&b'-') || value.get(52) != Some(&b'-') {
        return None;
    }
    let trace_id = parse_hex_slice::<16>(value.get(3..35)?)?;
    let parent_id = parse_hex_slice::<8>(value.get(36..52)?)?;
    let [flags] = parse_hex_slice::<1>(value.get(53..55)?)?;

    if trace_id == [0; 16] || parent_id == [0; 8] {
        return None;
    }
    Some(TraceParent {
        trace_id: TraceId::from_bytes(trace_id),
        parent_id: SpanId::from_bytes(parent_id),
        flags: TraceFlags::new(flags),
    })
}

/// Formats a version-`00` `traceparent` value, lowercase.
///
/// Only the `sampled` and `random` flags are written; every other bit is cleared. The ids
/// are written as given: callers check [`crate::model::SpanContext::is_valid`]
/// first (an all-zero id makes the header invalid for the receiver).
///
/// This is on the hot path of every instrumented request, so it writes into one
/// 55-byte allocation with a lookup table instead of going through `format!`.
pub fn format_traceparent(trace_id: TraceId, span_id: SpanId, flags: TraceFlags) -> String {
    let mut out = String::with_capacity(TRACEPARENT_LEN);
    out.push_str("00-");
    write_hex(&mut out, &trace_id.to_bytes());
    out.push('-');
    write_hex(&mut out, &span_id.to_bytes());
    out.push('-');
    write_hex(&mut out, &[flags.to_u8() & KNOWN_FLAGS]);
    out
}

/// Appends `bytes` to `out` as lowercase hex, two characters per byte. The digits are
/// written into a stack buffer and appended as one `&str` (pushing them one `char` at a time
/// was most of the cost of formatting a `traceparent`).
pub fn write_hex(out: &mut String, bytes: &[u8]) {
    let mut buf = [0u8; 64];
    for chunk in bytes.chunks(32) {
        for (pair, &byte) in buf.chunks_exact_mut(2).zip(chunk) {
            // A nibble is at most 15, so both look-ups are in bounds of the 16-entry table.
            pair[0] = HEX_LOWER[usize::from(byte >> 4)];
            pair[1] = HEX_LOWER[usize::from(byte & 0x0f)];
        }
        // Hex digits are ASCII: always valid UTF-8.
        if let Ok(digits) = core::str::from_utf8(&buf[..chunk.len() * 2]) {
            out.push_str(digits);
        }
    }
}

/// Parses exactly `2 * N` lowercase hex digits into `N` bytes.
///
/// Returns `None` for any other length, for uppercase digits and for anything that is not a
/// hex digit. No prefix (`0x`) or sign is accepted, and all-zero values are not rejected here.
pub fn parse_hex_bytes<const N: usize>(s: &str) -> Option<[u8; N]> {
    parse_hex_slice(s.as_bytes())
}

/// [`parse_hex_bytes`] on raw bytes, so callers never slice a `str` off a char boundary.
fn parse_hex_slice<const N: usize>(hex: &[u8]) -> Option<[u8; N]> {
    if hex.len() != N * 2 {
        return None;
    }
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        let [high, low] = pair else {
            return None;
        };
        *byte = (lower_hex_value(*high)? << 4) | lower_hex_value(*low)?;
    }
    Some(out)
}

/// The value of one lowercase hex digit (`HEXDIGLC`).
fn lower_hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        _ => None,
    }
}

/// Trims RFC 7230 optional whitespace (`SP` / `HTAB`) from both ends.
pub(crate) fn trim_ows(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const PARENT_ID: &str = "00f067aa0ba902b7";

    fn ids() -> (TraceId, SpanId) {
        (
            TraceId::from_bytes([
                0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e,
                0x47, 0x36,
            ]),
            SpanId::from_bytes([0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]),
        )
    }

    #[rustfmt::skip]
    fn valid_cases() -> Vec<(&'static str, u8, &'static str)> {
        vec![
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", 0x00, "not sampled"),
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", 0x01, "sampled"),
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-02", 0x02, "random flag kept"),
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03", 0x03, "sampled and random"),
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09", 0x09, "unknown bit kept as received"),
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff", 0xff, "all bits kept as received"),
            (" 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", 0x01, "leading space"),
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01  ", 0x01, "trailing spaces"),
            ("\t00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\t", 0x01, "surrounding tabs"),
            (" \t 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 \t", 0x01, "mixed OWS"),
            ("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", 0x01, "version 01, exact length"),
            ("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-will-be-like", 0x01, "future version with extra fields"),
            ("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-", 0x01, "future version, empty extra field"),
            ("fe-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-02-x", 0x02, "highest valid version"),
        ]
    }

    #[rustfmt::skip]
    fn invalid_cases() -> Vec<(&'static str, &'static str)> {
        vec![
            ("", "empty"),
            ("   ", "whitespace only"),
            ("00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01", "uppercase ids"),
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01", "uppercase parent id"),
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A", "uppercase flags"),
            ("0A-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "uppercase version"),
            ("00-00000000000000000000000000000000-00f067aa0ba902b7-01", "all-zero trace id"),
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", "all-zero parent id"),
            ("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "version ff"),
            ("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-will-be-like", "version ff with extra fields"),
            ("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01.what-the-future-will-be-like", "future version, extra not after '-'"),
            ("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01what-the-future-will-be-like", "future version, extra glued to flags"),
            ("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1", "future version shorter than 55"),
            ("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", "future version without flags"),
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-will-be-like", "version 00 with extra fields"),
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-", "version 00 with trailing dash"),
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-011", "version 00, 3-digit flags"),
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1", "version 00, 1-digit flags"),
            ("00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", "trace id 31 digits"),
            ("00-4bf92f3577b34da6a3ce929d0e0e47366-00f067aa0ba902b7-01", "trace id 33 digits"),
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01", "parent id 15 digits"),
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b77-01", "parent id 17 digits"),
            ("00-4bf92f3577b34da6a3ce929d0e0e47366-00f067aa0ba902b-01", "fields shifted, same total length"),
            ("000-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "3-digit version"),
            ("0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "1-digit version"),
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g", "non-hex flags"),
            ("00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01", "non-hex trace id"),
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bz-01", "non-hex parent id"),
            ("zz-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "non-hex version"),
            ("00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01", "wrong separators"),
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01", "wrong last separator"),
            ("00-+bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "sign in trace id"),
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\n", "trailing newline is not OWS"),
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-\u{e9}", "non-ASCII flags"),
            ("00-4bf92f3577b34da6a3ce929d0e0e47\u{e9}-00f067aa0ba902b7-01", "non-ASCII in trace id"),
            ("\u{e9}-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "non-ASCII version"),
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01,00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "two values joined by a comma"),
        ]
    }

    #[test]
    fn parses_valid_traceparents() {
        let (trace_id, parent_id) = ids();
        for (header, flags, reason) in valid_cases() {
            assert_eq!(
                parse_traceparent(&[header]),
                Some(TraceParent {
                    trace_id,
                    parent_id,
                    flags: TraceFlags::new(flags)
                }),
                "{reason}: {header:?}"
            );
        }
    }

    #[test]
    fn rejects_invalid_traceparents() {
        for (header, reason) in invalid_cases() {
            assert_eq!(parse_traceparent(&[header]), None, "{reason}: {header:?}");
        }
    }

    #[test]
    fn rejects_anything_but_exactly_one_header() {
        let valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let other = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        assert_eq!(parse_traceparent(&[]), None, "no header");
        assert_eq!(
            parse_traceparent(&[valid, valid]),
            None,
            "duplicated header"
        );
        assert_eq!(
            parse_traceparent(&[valid, other]),
            None,
            "two different headers"
        );
        assert_eq!(parse_traceparent(&[valid, ""]), None, "second header empty");
    }

    #[test]
    fn random_flag_is_preserved_on_parse() {
        let tp = parse_traceparent(&[&format!("00-{TRACE_ID}-{PARENT_ID}-02")]).expect("valid");
        assert_eq!(tp.flags.to_u8() & RANDOM_FLAG, RANDOM_FLAG);
        assert!(!tp.flags.is_sampled());
    }

    #[test]
    fn formats_version_00_lowercase() {
        let (trace_id, span_id) = ids();
        #[rustfmt::skip]
        let cases = [
            (0x00, "00", "no flags"),
            (0x01, "01", "sampled"),
            (0x02, "02", "random"),
            (0x03, "03", "sampled and random"),
            (0x04, "00", "unknown bit cleared"),
            (0x09, "01", "unknown bit cleared, sampled kept"),
            (0xfe, "02", "unknown bits cleared, random kept"),
            (0xff, "03", "all unknown bits cleared"),
        ];
        for (flags, written, reason) in cases {
            let header = format_traceparent(trace_id, span_id, TraceFlags::new(flags));
            assert_eq!(
                header,
                format!("00-{TRACE_ID}-{PARENT_ID}-{written}"),
                "{reason}"
            );
            assert_eq!(header.len(), 55);
            assert!(header.capacity() >= 55);
        }
    }

    #[test]
    fn future_version_is_downgraded_to_00_on_format() {
        let tp = parse_traceparent(&[&format!(
            "cc-{TRACE_ID}-{PARENT_ID}-07-what-the-future-will-be-like"
        )])
        .expect("valid");
        assert_eq!(
            format_traceparent(tp.trace_id, tp.parent_id, tp.flags),
            format!("00-{TRACE_ID}-{PARENT_ID}-03")
        );
    }

    #[test]
    fn round_trips() {
        for (header, _, _) in valid_cases() {
            let tp = parse_traceparent(&[header]).expect("valid");
            let written = format_traceparent(tp.trace_id, tp.parent_id, tp.flags);
            let again = parse_traceparent(&[&written]).expect("what we write parses");
            assert_eq!(again.trace_id, tp.trace_id);
            assert_eq!(again.parent_id, tp.parent_id);
            assert_eq!(again.flags.to_u8(), tp.flags.to_u8() & KNOWN_FLAGS);
        }
    }

    #[test]
    fn hex_helpers() {
        let mut out = String::new();
        write_hex(&mut out, &[0x00, 0x0f, 0xa5, 0xff]);
        assert_eq!(out, "000fa5ff");
        write_hex(&mut out, &[]);
        assert_eq!(out, "000fa5ff");
        // Longer than one 32-byte chunk: every byte, in order, round-trips.
        let long: Vec<u8> = (0..=255u8).rev().collect();
        let mut hex = String::new();
        write_hex(&mut hex, &long);
        assert_eq!(hex.len(), 512);
        assert!(
            hex.starts_with("fffefdfc") && hex.ends_with("03020100"),
            "{hex}"
        );
        assert_eq!(parse_hex_bytes::<256>(&hex).map(Vec::from), Some(long));

        assert_eq!(
            parse_hex_bytes::<4>("000fa5ff"),
            Some([0x00, 0x0f, 0xa5, 0xff])
        );
        assert_eq!(parse_hex_bytes::<0>(""), Some([]));
        assert_eq!(parse_hex_bytes::<2>("00"), None, "too short");
        assert_eq!(parse_hex_bytes::<1>("000"), None, "too long");
        assert_eq!(parse_hex_bytes::<1>("A0"), None, "uppercase");
        assert_eq!(parse_hex_bytes::<1>("0x"), None, "not hex");
        assert_eq!(parse_hex_bytes::<1>("+1"), None, "sign");
        assert_eq!(
            parse_hex_bytes::<1>("\u{e9}"),
            None,
            "two UTF-8 bytes, not hex"
        );
    }
}
