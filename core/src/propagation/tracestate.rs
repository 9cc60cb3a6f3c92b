//! The `tracestate` header of W3C Trace Context Level 2.
//!
//! Grammar (Level 2, <https://www.w3.org/TR/trace-context-2/#tracestate-header-field-values>):
//!
//! ```text
//! list        = list-member 0*31( OWS "," OWS list-member )
//! list-member = (key "=" value) / OWS
//! key         = ( lcalpha / DIGIT ) 0*255 ( keychar )
//! keychar     = lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@"
//! lcalpha     = %x61-7A ; a-z
//! value       = 0*255(chr) nblk-chr
//! nblk-chr    = %x21-2B / %x2D-3C / %x3E-7E
//! chr         = %x20 / nblk-chr
//! ```
//!
//! Level 2 replaced Level 1's two key forms (`simple-key`, which had to start with a letter,
//! and `tenant-id "@" system-id`, limited to 241 and 14 characters) with the single `key`
//! rule above: any key may start with a digit, `@` is an ordinary key character (anywhere
//! but first, any number of times), and the only length limit is 256 characters in total.

use crate::model::TraceState;
use crate::prelude::*;

use super::traceparent::trim_ows;

/// Name of the `tracestate` header.
pub const TRACESTATE_HEADER: &str = "tracestate";

/// The most list-members a `tracestate` may hold.
pub const MAX_TRACESTATE_MEMBERS: usize = 32;

/// Longest key: one leading character and up to 255 more.
const MAX_KEY_LEN: usize = 256;

/// Longest value: up to 255 characters and a final non-blank one.
const MAX_VALUE_LEN: usize = 256;

/// Parses the `tracestate` header.
///
/// `values` holds every `tracestate` header value received, in order; they are combined as
/// RFC 7230 says (as if joined with `,`). Spaces and tabs around list-members are ignored,
/// and empty or whitespace-only list-members are allowed and skipped (they do not count
/// towards the 32-member limit: the spec allows them precisely because combining several
/// headers produces them).
///
/// Returns:
/// - `Some(TraceState::default())` when there is no header, or only empty members: the spec
///   says vendors MUST accept an empty `tracestate`, so this is valid, not an error;
/// - `None` when the combined value is invalid and must be discarded as a whole: a member
///   that is not `key=value` per the grammar above, more than 32 members, or the same key
///   twice ("only one entry per key is allowed").
///
/// # Members `opentelemetry::trace::TraceState` cannot hold
///
/// `TraceState` (opentelemetry 0.33) validates keys with a mix of the Level 1 rules: it
/// rejects a key with more than one `@`, more than 13 characters after the `@`, or a
/// character other than a letter or digit right after it, although Level 2 allows all of
/// these (`foo@@bar`, `t@vvvvvvvvvvvvvvv`, `foo@_x`). The engine's own [`TraceState`] keeps
/// them (the browser forwards them as received); only the conversion to opentelemetry's
/// type (the `otel` feature) leaves such a member out, keeping every other one in order:
/// removing a list-member is an allowed `tracestate` mutation, and dropping one member loses
/// less than discarding the whole header.
pub fn parse_tracestate(values: &[&str]) -> Option<TraceState> {
    let mut members: Vec<(&str, &str)> = Vec::new();
    for member in values.iter().flat_map(|value| value.split(',')) {
        let member = trim_ows(member);
        if member.is_empty() {
            continue;
        }
        let (key, value) = member.split_once('=')?;
        if !is_valid_key(key) || !is_valid_value(value) {
            return None;
        }
        if members.len() == MAX_TRACESTATE_MEMBERS || members.iter().any(|(k, _)| *k == key) {
            return None;
        }
        members.push((key, value));
    }
    Some(TraceState::from_members(
        members
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
    ))
}

/// Formats a `TraceState` as a `tracestate` header value: `key=value` members joined by `,`
/// without whitespace, in order. Empty string when there is nothing to send (then the
/// header should not be sent at all).
///
/// A `TraceState` built by hand may hold values Level 2 does not allow (empty, ending with a
/// space, control or non-ASCII characters). Such members are left out rather than written, because one invalid
/// member makes the receiver discard the whole header.
pub fn format_tracestate(ts: &TraceState) -> String {
    let mut out = String::new();
    for (key, value) in ts.into_iter().take(MAX_TRACESTATE_MEMBERS) {
        if !is_valid_key(key) || !is_valid_value(value) {
            continue;
        }
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(key);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// `key = ( lcalpha / DIGIT ) 0*255 ( keychar )`.
fn is_valid_key(key: &str) -> bool {
    let bytes = key.as_bytes();
    let Some((&first, rest)) = bytes.split_first() else {
        return false;
    };
    bytes.len() <= MAX_KEY_LEN
        && (first.is_ascii_lowercase() || first.is_ascii_digit())
        && rest.iter().all(|&b| {
            b.is_ascii_lowercase()
                || b.is_ascii_digit()
                || matches!(b, b'_' | b'-' | b'*' | b'/' | b'@')
        })
}

/// `value = 0*255(chr) nblk-chr`: 1 to 256 printable ASCII characters other than `,` and
/// `=`, not ending with a space.
fn is_valid_value(value: &str) -> bool {
    let bytes = value.as_bytes();
    let Some(&last) = bytes.last() else {
        return false;
    };
    bytes.len() <= MAX_VALUE_LEN
        && last != b' '
        && bytes
            .iter()
            .all(|&b| (0x20..=0x7e).contains(&b) && b != b',' && b != b'=')
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn pairs(ts: &TraceState) -> Vec<(String, String)> {
        ts.into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    fn owned(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        expected
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// A header, the members it should parse to, and why.
    type Case<'a> = (String, Vec<(&'a str, &'a str)>, &'a str);

    fn members(n: usize) -> String {
        (0..n)
            .map(|i| format!("k{i}=v{i}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    #[test]
    fn parses_valid_headers() {
        let long_key = "k".repeat(256);
        let long_value = "v".repeat(256);
        let at_key = format!("{}@{}", "t".repeat(242), "s".repeat(13));
        let level2_tenant = format!("{}@s", "t".repeat(242));
        let level1_max = format!("{}@{}", "t".repeat(241), "s".repeat(14));
        let level2_system = format!("t@{}", "s".repeat(15));
        #[rustfmt::skip]
        let cases: Vec<Case<'_>> = vec![
            ("rojo=00f067aa0ba902b7".into(), vec![("rojo", "00f067aa0ba902b7")], "single member"),
            ("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE".into(), vec![("rojo", "00f067aa0ba902b7"), ("congo", "t61rcWkgMzE")], "two members, order kept"),
            ("rojo=1 , congo=2".into(), vec![("rojo", "1"), ("congo", "2")], "spaces around members"),
            ("\trojo=1\t,\tcongo=2\t".into(), vec![("rojo", "1"), ("congo", "2")], "tabs around members"),
            ("rojo=1,,congo=2".into(), vec![("rojo", "1"), ("congo", "2")], "empty member skipped"),
            (",rojo=1, \t ,congo=2,".into(), vec![("rojo", "1"), ("congo", "2")], "leading, whitespace-only and trailing members"),
            ("".into(), vec![], "empty header"),
            ("  ".into(), vec![], "whitespace-only header"),
            (",,,".into(), vec![], "only empty members"),
            ("a= b".into(), vec![("a", " b")], "leading space is part of the value"),
            ("a=b   ".into(), vec![("a", "b")], "trailing spaces are OWS"),
            ("a=!\"#$%&'()*+-./:;<>?@[\\]^_`{|}~".into(), vec![("a", "!\"#$%&'()*+-./:;<>?@[\\]^_`{|}~")], "every punctuation allowed in values"),
            ("a=x y z".into(), vec![("a", "x y z")], "inner spaces in value"),
            ("0vendor=1".into(), vec![("0vendor", "1")], "key may start with a digit (Level 2)"),
            ("a_-*/@9=1".into(), vec![("a_-*/@9", "1")], "every key character"),
            ("fw529a3039@dt=1".into(), vec![("fw529a3039@dt", "1")], "tenant@system key"),
            ("1tenant@system=1".into(), vec![("1tenant@system", "1")], "tenant starting with a digit"),
            (format!("{long_key}=1"), vec![(long_key.as_str(), "1")], "256-character key"),
            (format!("a={long_value}"), vec![("a", long_value.as_str())], "256-character value"),
            (format!("{at_key}=1"), vec![(at_key.as_str(), "1")], "242-character tenant, 13-character system (256 total)"),
            (format!("{level2_tenant}=1"), vec![(level2_tenant.as_str(), "1")], "242-character tenant: valid in Level 2"),
        ];
        for (header, expected, reason) in cases {
            let ts = parse_tracestate(&[&header]).unwrap_or_else(|| panic!("{reason}: {header:?}"));
            assert_eq!(pairs(&ts), owned(&expected), "{reason}");
        }
        // Valid per Level 2 (and the first one per Level 1 too), but opentelemetry's
        // TraceState cannot hold them: kept here, and only that member is left out of the
        // opentelemetry conversion.
        for key in [
            &*level1_max,
            &*level2_system,
            "foo@@bar",
            "foo@bar@baz",
            "foo@_x",
        ] {
            let ts = parse_tracestate(&[&format!("a=1,{key}=2,b=3")]).expect("valid");
            assert_eq!(
                pairs(&ts),
                owned(&[("a", "1"), (key, "2"), ("b", "3")]),
                "{key}"
            );
            #[cfg(feature = "otel")]
            {
                let otel = opentelemetry::trace::TraceState::from(&ts);
                assert_eq!(otel.header(), "a=1,b=3", "{key}");
            }
        }
    }

    #[test]
    fn discards_invalid_headers() {
        let long_key = "k".repeat(257);
        let long_value = "v".repeat(257);
        let too_long_at_key = format!("{}@{}", "t".repeat(242), "s".repeat(15));
        let too_long_at_key2 = format!("{}@{}", "t".repeat(241), "s".repeat(15));
        #[rustfmt::skip]
        let cases: Vec<(String, &str)> = vec![
            ("Rojo=1".into(), "uppercase key"),
            ("rOjo=1".into(), "uppercase inside key"),
            ("_rojo=1".into(), "key starting with '_'"),
            ("@rojo=1".into(), "key starting with '@'"),
            ("ro jo=1".into(), "space in key"),
            ("rojo =1".into(), "space before '='"),
            ("ro.jo=1".into(), "'.' in key"),
            ("r\u{e9}jo=1".into(), "non-ASCII key"),
            ("=1".into(), "empty key"),
            ("rojo".into(), "no '='"),
            ("rojo=".into(), "empty value"),
            ("rojo= ".into(), "value of one space (trimmed away, then empty)"),
            ("rojo=a=b".into(), "'=' in value"),
            ("rojo=a\tb".into(), "tab in value"),
            ("rojo=a\u{7f}".into(), "DEL in value"),
            ("rojo=\u{e9}".into(), "non-ASCII value"),
            ("rojo=1,congo".into(), "one invalid member discards everything"),
            ("rojo=1,rojo=2".into(), "duplicate key"),
            ("rojo=1,congo=2,rojo=1".into(), "duplicate key and value"),
            (format!("{long_key}=1"), "257-character key"),
            (format!("a={long_value}"), "257-character value"),
            (format!("{too_long_at_key}=1"), "242-character tenant, 15-character system"),
            (format!("{too_long_at_key2}=1"), "241-character tenant, 15-character system (257 total)"),
            (members(33), "33 members"),
            (format!("{},,", members(33)), "33 members and empties"),
        ];
        for (header, reason) in cases {
            assert_eq!(parse_tracestate(&[&header]), None, "{reason}: {header:?}");
        }
    }

    #[test]
    fn member_limit() {
        let ts = parse_tracestate(&[&members(32)]).expect("32 members are allowed");
        assert_eq!(ts.into_iter().len(), 32);
        let with_empties = format!(",{},, ,", members(32));
        assert!(
            parse_tracestate(&[&with_empties]).is_some(),
            "empty members do not count"
        );
        assert_eq!(parse_tracestate(&[&members(33)]), None);
        assert_eq!(
            parse_tracestate(&[&members(20), &members(13).replace('k', "j")]),
            None,
            "limit applies to the combined headers"
        );
    }

    #[test]
    fn value_grammar() {
        assert!(is_valid_value("b"));
        assert!(is_valid_value(" b"));
        assert!(!is_valid_value("b "), "must not end with a space");
        assert!(!is_valid_value(" "));
        assert!(!is_valid_value(""));
        assert!(!is_valid_value("a,b"));
        assert!(!is_valid_value("a=b"));
    }

    #[test]
    fn combines_several_headers_in_order() {
        let ts = parse_tracestate(&["rojo=1,congo=2", "a=3", "", " , b=4"]).expect("valid");
        assert_eq!(
            pairs(&ts),
            owned(&[("rojo", "1"), ("congo", "2"), ("a", "3"), ("b", "4")])
        );
        assert_eq!(
            parse_tracestate(&["rojo=1", "rojo=2"]),
            None,
            "duplicate across headers"
        );
        assert_eq!(
            parse_tracestate(&["rojo=1", "Bad=2"]),
            None,
            "invalid second header"
        );
        assert_eq!(
            parse_tracestate(&[]),
            Some(TraceState::default()),
            "no header"
        );
        assert_eq!(
            parse_tracestate(&["", " "]),
            Some(TraceState::default()),
            "empty headers"
        );
    }

    #[test]
    fn formats() {
        assert_eq!(format_tracestate(&TraceState::default()), "");
        let ts =
            parse_tracestate(&[" rojo=00f067aa0ba902b7 ,, congo= t61rcWkgMzE "]).expect("valid");
        assert_eq!(
            format_tracestate(&ts),
            "rojo=00f067aa0ba902b7,congo= t61rcWkgMzE"
        );
        assert_eq!(parse_tracestate(&[&format_tracestate(&ts)]), Some(ts));
    }

    #[test]
    fn format_leaves_out_members_level_2_forbids() {
        let ts = TraceState::from_members(
            [
                ("a", "1"),
                ("b", "trailing "),
                ("c", ""),
                ("d", "\u{e9}"),
                ("e", "5"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
        );
        assert_eq!(format_tracestate(&ts), "a=1,e=5");
    }

    #[cfg(feature = "otel")]
    #[test]
    fn opentelemetry_accepts_every_level_2_value() {
        let all: String = (0x20u8..=0x7e)
            .filter(|b| *b != b',' && *b != b'=')
            .map(char::from)
            .collect();
        for chunk in [all.as_str(), "~", " ~"] {
            assert!(is_valid_value(chunk), "{chunk:?}");
            assert!(
                opentelemetry::trace::TraceState::from_key_value([("k", chunk)]).is_ok(),
                "{chunk:?}"
            );
        }
    }
}
