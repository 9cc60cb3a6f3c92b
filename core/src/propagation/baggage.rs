//! The W3C Baggage `baggage` header (<https://www.w3.org/TR/baggage/>).
//!
//! Grammar:
//!
//! ```text
//! baggage-string = list-member 0*179( OWS "," OWS list-member )
//! list-member    = key OWS "=" OWS value *( OWS ";" OWS property )
//! property       = key OWS "=" OWS value
//! property       =/ key OWS
//! key            = token ; RFC 7230, section 3.2.6
//! value          = *baggage-octet
//! baggage-octet  = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E
//! OWS            = *( SP / HTAB )
//! ```
//!
//! Values are percent-encoded UTF-8: everything outside `baggage-octet`, and `%` itself, is
//! encoded when writing; when reading, percent-encoded octets that are not valid UTF-8 are
//! replaced with U+FFFD, as the spec requires. Properties are given no meaning by the spec
//! and are kept as written (only the optional whitespace around them is removed).
//!
//! Limits: the spec requires propagating at least 64 list-members and a `baggage-string` of
//! at least 8192 bytes, and never a partial list-member. [`parse_baggage`] and
//! [`format_baggage`] keep at most [`MAX_BAGGAGE_MEMBERS`] members whose serialized form
//! (`key=value;properties` as [`format_baggage`] writes it, plus the separating commas) is at
//! most [`MAX_BAGGAGE_BYTES`] bytes; a member that does not fit is dropped whole.

use super::traceparent::trim_ows;
use crate::prelude::*;

/// Name of the `baggage` header.
pub const BAGGAGE_HEADER: &str = "baggage";

/// The most list-members we keep and send.
pub const MAX_BAGGAGE_MEMBERS: usize = 64;

/// The longest `baggage-string` we keep and send, in bytes, commas included.
pub const MAX_BAGGAGE_BYTES: usize = 8192;

/// Uppercase hex digits for percent-encoding (RFC 3986 recommends uppercase).
const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// One baggage list-member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaggageEntry {
    /// The key, an RFC 7230 `token` (case-sensitive, never percent-encoded).
    pub key: String,
    /// The value, percent-decoded.
    pub value: String,
    /// The properties after the value's first `;`, exactly as they appear on the wire but
    /// without the optional whitespace around them, e.g. `k1=v1;k2`. Empty when there are
    /// none. Property values are not percent-decoded.
    pub metadata: String,
}

/// Ordered baggage: list-members in the order they were received or set.
///
/// Keys are unique: setting an existing key replaces its entry in place. The
/// [limits](self) are not enforced here, only by [`parse_baggage`] and [`format_baggage`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Baggage {
    entries: Vec<BaggageEntry>,
}

impl Baggage {
    /// Empty baggage.
    pub fn new() -> Self {
        Self::default()
    }

    /// The decoded value for `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.get_entry(key).map(|entry| entry.value.as_str())
    }

    /// The whole entry (value and metadata) for `key`.
    pub fn get_entry(&self, key: &str) -> Option<&BaggageEntry> {
        self.entries.iter().find(|entry| entry.key == key)
    }

    /// Sets `key` to `value` with no metadata. An existing entry for `key` is replaced where
    /// it is (its position is kept, its metadata dropped) and its value returned; a new key
    /// is appended.
    ///
    /// Nothing is validated here: [`format_baggage`] leaves out entries whose key is not an
    /// RFC 7230 `token`.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) -> Option<String> {
        self.set_with_metadata(key, value, String::new())
    }

    /// Like [`Baggage::set`], with properties (see [`BaggageEntry::metadata`] for their form;
    /// [`format_baggage`] leaves out entries whose metadata is not in that form).
    pub fn set_with_metadata(
        &mut self,
        key: impl Into<String>,
        value: impl Into<String>,
        metadata: impl Into<String>,
    ) -> Option<String> {
        let entry = BaggageEntry {
            key: key.into(),
            value: value.into(),
            metadata: metadata.into(),
        };
        match self.entries.iter_mut().find(|e| e.key == entry.key) {
            Some(existing) => Some(core::mem::replace(existing, entry).value),
            None => {
                self.entries.push(entry);
                None
            }
        }
    }

    /// Removes the entry for `key` and returns it; the other entries keep their order.
    pub fn remove(&mut self, key: &str) -> Option<BaggageEntry> {
        let index = self.entries.iter().position(|entry| entry.key == key)?;
        Some(self.entries.remove(index))
    }

    /// The entries in order.
    pub fn iter(&self) -> core::slice::Iter<'_, BaggageEntry> {
        self.entries.iter()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Converts to the `opentelemetry` baggage stored in a `Context` (an unordered map).
    ///
    /// Entries that `opentelemetry::baggage::Baggage` refuses (a key that is not a token, or
    /// past its own 64-entry / 8192-byte limits) are left out.
    #[cfg(feature = "otel")]
    pub fn to_opentelemetry(&self) -> opentelemetry::baggage::Baggage {
        let mut out = opentelemetry::baggage::Baggage::new();
        for entry in &self.entries {
            out.insert_with_metadata(
                entry.key.clone(),
                entry.value.clone(),
                entry.metadata.clone(),
            );
        }
        out
    }

    /// Converts from `opentelemetry` baggage. Its entries have no order, so they are sorted
    /// by key to make the result (and the header written from it) deterministic.
    #[cfg(feature = "otel")]
    pub fn from_opentelemetry(baggage: &opentelemetry::baggage::Baggage) -> Self {
        let mut entries: Vec<BaggageEntry> = baggage
            .iter()
            .map(|(key, (value, metadata))| BaggageEntry {
                key: key.as_str().to_owned(),
                value: value.as_str().to_owned(),
                metadata: metadata.as_str().to_owned(),
            })
            .collect();
        entries.sort_by(|a, b| a.key.cmp(&b.key));
        Self { entries }
    }
}

impl<'a> IntoIterator for &'a Baggage {
    type Item = &'a BaggageEntry;
    type IntoIter = core::slice::Iter<'a, BaggageEntry>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter()
    }
}

/// Parses the `baggage` header.
///
/// `values` holds every `baggage` header value received, in order; they are combined as if
/// joined with `,`. Each list-member is parsed on its own:
///
/// - a member that does not match the grammar (key not a `token`, no `=`, a value or
///   property with a character outside `baggage-octet`, an empty property as in `k=v;`, or a
///   `%` not followed by two hex digits) is skipped, and the others are kept;
/// - the value is percent-decoded; octets that are not valid UTF-8 become U+FFFD;
/// - when a key repeats, the later value replaces the earlier one at the earlier position
///   (deduplicating is an allowed mutation);
/// - members are kept in order while they fit the limits ([`MAX_BAGGAGE_MEMBERS`] members,
///   [`MAX_BAGGAGE_BYTES`] bytes as [`format_baggage`] would write them); one that does not
///   fit is dropped whole and later, smaller members may still be kept.
pub fn parse_baggage(values: &[&str]) -> Baggage {
    // Each kept entry with its size as `format_baggage` writes it.
    let mut kept: Vec<(BaggageEntry, usize)> = Vec::new();
    let mut total = 0usize;
    for member in values.iter().flat_map(|value| value.split(',')) {
        let Some(entry) = parse_member(trim_ows(member)) else {
            continue;
        };
        let size = member_size(&entry);
        if let Some((slot, slot_size)) = kept.iter_mut().find(|(e, _)| e.key == entry.key) {
            let new_total = total.saturating_sub(*slot_size).saturating_add(size);
            if new_total <= MAX_BAGGAGE_BYTES {
                *slot = entry;
                *slot_size = size;
                total = new_total;
            }
        } else if let Some(new_total) = admit(kept.len(), total, size) {
            kept.push((entry, size));
            total = new_total;
        }
    }
    Baggage {
        entries: kept.into_iter().map(|(entry, _)| entry).collect(),
    }
}

/// Formats baggage as a `baggage` header value: members joined by `,` without whitespace,
/// values percent-encoded (everything outside `baggage-octet`, and `%`), metadata appended
/// after `;`. Empty string when there is nothing to send.
///
/// Entries are written in order while they fit the limits; an entry that would exceed
/// [`MAX_BAGGAGE_MEMBERS`] members or [`MAX_BAGGAGE_BYTES`] bytes is dropped whole, as is an
/// entry whose key is not an RFC 7230 `token` or whose metadata is not in the form described
/// at [`BaggageEntry::metadata`] (they could not be written validly).
pub fn format_baggage(b: &Baggage) -> String {
    let mut out = String::new();
    let mut count = 0usize;
    let mut total = 0usize;
    for entry in &b.entries {
        if !is_token(&entry.key) || !is_normalized_properties(&entry.metadata) {
            continue;
        }
        let Some(new_total) = admit(count, total, member_size(entry)) else {
            continue;
        };
        count += 1;
        total = new_total;
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(&entry.key);
        out.push('=');
        write_percent_encoded(&mut out, &entry.value);
        if !entry.metadata.is_empty() {
            out.push(';');
            out.push_str(&entry.metadata);
        }
    }
    out
}

/// The new total if one more member of `size` bytes fits after `count` members totalling
/// `total` bytes (commas included).
fn admit(count: usize, total: usize, size: usize) -> Option<usize> {
    if count >= MAX_BAGGAGE_MEMBERS {
        return None;
    }
    let separator = usize::from(count > 0);
    let new_total = total.checked_add(separator)?.checked_add(size)?;
    (new_total <= MAX_BAGGAGE_BYTES).then_some(new_total)
}

/// Bytes of `entry` as [`format_baggage`] writes it.
fn member_size(entry: &BaggageEntry) -> usize {
    let value: usize = entry
        .value
        .bytes()
        .map(|b| if needs_encoding(b) { 3 } else { 1 })
        .sum();
    let metadata = if entry.metadata.is_empty() {
        0
    } else {
        1 + entry.metadata.len()
    };
    entry.key.len() + 1 + value + metadata
}

/// Parses one list-member (already trimmed of surrounding OWS).
fn parse_member(member: &str) -> Option<BaggageEntry> {
    let mut parts = member.split(';');
    let (key, value) = parts.next()?.split_once('=')?;
    let (key, value) = (trim_ows(key), trim_ows(value));
    if !is_token(key) || !value.bytes().all(is_baggage_octet) {
        return None;
    }
    let value = percent_decode(value)?;

    let mut metadata = String::new();
    for (i, property) in parts.enumerate() {
        let property = trim_ows(property);
        if i > 0 {
            metadata.push(';');
        }
        match property.split_once('=') {
            Some((name, property_value)) => {
                let (name, property_value) = (trim_ows(name), trim_ows(property_value));
                if !is_token(name) || !property_value.bytes().all(is_baggage_octet) {
                    return None;
                }
                metadata.push_str(name);
                metadata.push('=');
                metadata.push_str(property_value);
            }
            None => {
                if !is_token(property) {
                    return None;
                }
                metadata.push_str(property);
            }
        }
    }
    Some(BaggageEntry {
        key: key.to_owned(),
        value,
        metadata,
    })
}

/// Whether `metadata` is `property *( ";" property )` with `property = token [ "=" *baggage-octet ]`
/// and no whitespace, or empty.
fn is_normalized_properties(metadata: &str) -> bool {
    metadata.is_empty()
        || metadata
            .split(';')
            .all(|property| match property.split_once('=') {
                Some((name, value)) => is_token(name) && value.bytes().all(is_baggage_octet),
                None => is_token(property),
            })
}

/// RFC 7230 `token = 1*tchar`.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'&'
                        | b'\''
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                )
        })
}

/// `baggage-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E`.
fn is_baggage_octet(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x2b | 0x2d..=0x3a | 0x3c..=0x5b | 0x5d..=0x7e)
}

/// Bytes a value must percent-encode: everything outside `baggage-octet`, and `%`.
fn needs_encoding(b: u8) -> bool {
    b == b'%' || !is_baggage_octet(b)
}

/// Percent-encodes `value` onto `out`.
fn write_percent_encoded(out: &mut String, value: &str) {
    for b in value.bytes() {
        if needs_encoding(b) {
            out.push('%');
            // A nibble is at most 15, so both look-ups are in bounds of the 16-entry table.
            out.push(char::from(HEX_UPPER[usize::from(b >> 4)]));
            out.push(char::from(HEX_UPPER[usize::from(b & 0x0f)]));
        } else {
            out.push(char::from(b));
        }
    }
}

/// Percent-decodes `value` (hex digits in either case). `None` when a `%` is not followed
/// by two hex digits; decoded octets that are not UTF-8 become U+FFFD.
fn percent_decode(value: &str) -> Option<String> {
    if !value.contains('%') {
        return Some(value.to_owned());
    }
    let mut bytes = Vec::with_capacity(value.len());
    let mut iter = value.bytes();
    while let Some(b) = iter.next() {
        if b == b'%' {
            let high = hex_value(iter.next()?)?;
            let low = hex_value(iter.next()?)?;
            bytes.push((high << 4) | low);
        } else {
            bytes.push(b);
        }
    }
    Some(match String::from_utf8(bytes) {
        Ok(decoded) => decoded,
        Err(err) => String::from_utf8_lossy(err.as_bytes()).into_owned(),
    })
}

/// The value of one hex digit, either case.
fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn entry(key: &str, value: &str, metadata: &str) -> BaggageEntry {
        BaggageEntry {
            key: key.to_owned(),
            value: value.to_owned(),
            metadata: metadata.to_owned(),
        }
    }

    fn entries(b: &Baggage) -> Vec<BaggageEntry> {
        b.iter().cloned().collect()
    }

    #[test]
    fn parses_members() {
        #[rustfmt::skip]
        let cases: Vec<(&str, Vec<BaggageEntry>, &str)> = vec![
            ("userId=alice,serverNode=DF%2028,isProduction=false",
             vec![entry("userId", "alice", ""), entry("serverNode", "DF 28", ""), entry("isProduction", "false", "")],
             "spec example"),
            ("userId =   alice, serverNode = DF%2028 ,\tisProduction = false\t",
             vec![entry("userId", "alice", ""), entry("serverNode", "DF 28", ""), entry("isProduction", "false", "")],
             "OWS around keys, values and members"),
            ("key1=value1;property1;property2, key2 = value2, key3=value3; propertyKey=propertyValue",
             vec![entry("key1", "value1", "property1;property2"), entry("key2", "value2", ""), entry("key3", "value3", "propertyKey=propertyValue")],
             "spec example with properties"),
            ("k=v ; p1 = x ;\tp2\t; p3=", vec![entry("k", "v", "p1=x;p2;p3=")], "OWS around properties trimmed"),
            ("k=v;p=%20raw", vec![entry("k", "v", "p=%20raw")], "property values are not decoded"),
            ("k=", vec![entry("k", "", "")], "empty value"),
            ("k=a=b==", vec![entry("k", "a=b==", "")], "'=' in value"),
            ("!#$%&'*+-.^_`|~09azAZ=1", vec![entry("!#$%&'*+-.^_`|~09azAZ", "1", "")], "every tchar in the key"),
            ("k=%E2%82%AC%e2%82%ac", vec![entry("k", "\u{20ac}\u{20ac}", "")], "UTF-8, either hex case"),
            ("k=%25%2C%3B%22%5C%20", vec![entry("k", "%,;\"\\ ", "")], "encoded delimiters"),
            ("k=a%FFb", vec![entry("k", "a\u{fffd}b", "")], "invalid UTF-8 becomes U+FFFD"),
            ("k=%C3", vec![entry("k", "\u{fffd}", "")], "truncated UTF-8 becomes U+FFFD"),
            ("", vec![], "empty header"),
            (" , ,", vec![], "only empty members"),
        ];
        for (header, expected, reason) in cases {
            assert_eq!(
                entries(&parse_baggage(&[header])),
                expected,
                "{reason}: {header:?}"
            );
        }
    }

    #[test]
    fn skips_invalid_members_only() {
        #[rustfmt::skip]
        let cases = [
            ("novalue", "no '='"),
            ("=v", "empty key"),
            ("k k=v", "space in key"),
            ("k(=v", "separator in key"),
            ("k\u{e9}=v", "non-ASCII key"),
            ("k=a b", "space in value"),
            ("k=a\"b", "DQUOTE in value"),
            ("k=a\\b", "backslash in value"),
            ("k=a\tb", "tab in value"),
            ("k=\u{e9}", "raw non-ASCII value"),
            ("k=%", "lone '%'"),
            ("k=%2", "truncated escape"),
            ("k=%zz", "non-hex escape"),
            ("k=v;", "empty property"),
            ("k=v;;p", "empty property between"),
            ("k=v;p q", "space in property key"),
            ("k=v;p=a b", "space in property value"),
            ("k=v;=x", "property without key"),
        ];
        for (bad, reason) in cases {
            let header = format!("a=1,{bad},b=2");
            assert_eq!(
                entries(&parse_baggage(&[&header])),
                vec![entry("a", "1", ""), entry("b", "2", "")],
                "{reason}: {header:?}"
            );
        }
    }

    #[test]
    fn combines_headers_and_deduplicates() {
        let b = parse_baggage(&["a=1,b=2", "c=3", "a=4;p"]);
        assert_eq!(
            entries(&b),
            vec![
                entry("a", "4", "p"),
                entry("b", "2", ""),
                entry("c", "3", "")
            ]
        );
    }

    #[test]
    fn round_trips() {
        let header = "userId=alice,serverNode=DF%2028,k=%E2%82%AC%25;p1=x;p2,e=";
        let b = parse_baggage(&[header]);
        assert_eq!(b.get("serverNode"), Some("DF 28"));
        assert_eq!(b.get("k"), Some("\u{20ac}%"));
        assert_eq!(format_baggage(&b), header);
        assert_eq!(parse_baggage(&[&format_baggage(&b)]), b);
    }

    #[test]
    fn percent_encodes_values() {
        let mut b = Baggage::new();
        let every_octet: String = (0x21u8..=0x7e).map(char::from).collect();
        b.set("k", format!(" {every_octet}\u{e9}\u{1f600}\t\n"));
        let header = format_baggage(&b);
        assert_eq!(
            header,
            "k=%20!%22#$%25&'()*+%2C-./0123456789:%3B<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[%5C]^_`abcdefghijklmnopqrstuvwxyz{|}~%C3%A9%F0%9F%98%80%09%0A"
        );
        assert_eq!(parse_baggage(&[&header]), b);
    }

    #[test]
    fn member_limit() {
        let header = |n: usize| {
            (0..n)
                .map(|i| format!("k{i}=v"))
                .collect::<Vec<_>>()
                .join(",")
        };
        assert_eq!(parse_baggage(&[&header(64)]).len(), 64);
        let b = parse_baggage(&[&header(65)]);
        assert_eq!(b.len(), 64);
        assert_eq!(b.get("k63"), Some("v"));
        assert_eq!(b.get("k64"), None, "the 65th member is dropped");
        assert_eq!(
            parse_baggage(&[&header(40), &header(40).replace('k', "j")]).len(),
            64,
            "limit applies across headers"
        );
        let b = parse_baggage(&[&format!("{},k0=w", header(65))]);
        assert_eq!(
            b.get("k0"),
            Some("w"),
            "a repeated key still updates when full"
        );

        let mut b = Baggage::new();
        for i in 0..65 {
            b.set(format!("k{i}"), "v");
        }
        assert_eq!(
            format_baggage(&b),
            header(64),
            "format drops the 65th member"
        );
    }

    #[test]
    fn byte_limit() {
        // Two members of 4096 bytes and a comma make 8193 bytes: the second is dropped whole.
        let big = |key: &str| format!("{key}={}", "v".repeat(4096 - key.len() - 1));
        let b = parse_baggage(&[&format!("{},{}", big("a"), big("b"))]);
        assert_eq!(b.len(), 1);
        assert_eq!(b.get("a").map(str::len), Some(4094));

        // Exactly 8192 bytes are kept.
        let exact = format!("{},{}", big("a"), &big("b")[..4095]);
        assert_eq!(exact.len(), MAX_BAGGAGE_BYTES);
        let b = parse_baggage(&[&exact]);
        assert_eq!(b.len(), 2);
        assert_eq!(format_baggage(&b), exact);

        // A later, smaller member that still fits is kept.
        let b = parse_baggage(&[&format!("{},{},c=1", big("a"), big("b"))]);
        assert_eq!(
            b.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(),
            ["a", "c"]
        );

        // Sizes count the encoded form: "k=" and 2730 encoded spaces are exactly 8192 bytes.
        let mut wide = Baggage::new();
        wide.set("k", " ".repeat(2730));
        wide.set("x", "1");
        let header = format_baggage(&wide);
        assert_eq!(
            header.len(),
            MAX_BAGGAGE_BYTES,
            "x=1 no longer fits after it"
        );
        assert!(header.starts_with("k=%20%20"));
        wide.set("k", " ".repeat(2731));
        assert_eq!(
            format_baggage(&wide),
            "x=1",
            "an over-long member is dropped whole"
        );
        let encoded = |n: usize| format!("k={}", "%20".repeat(n));
        assert_eq!(parse_baggage(&[&encoded(2730)]).len(), 1);
        assert_eq!(parse_baggage(&[&encoded(2731)]).len(), 0);
        // A raw header that fits can still exceed the limit once re-encoded: the limit is
        // on what we would send. "%FF" (3 bytes) decodes to U+FFFD, written as 9 bytes.
        assert_eq!(
            parse_baggage(&[&format!("k={}", "%FF".repeat(1000))]).len(),
            0
        );

        // A single member larger than the limit is dropped.
        assert!(parse_baggage(&[&format!("a={}", "v".repeat(8191))]).is_empty());
        assert_eq!(
            parse_baggage(&[&format!("a={}", "v".repeat(8190))]).len(),
            1
        );
    }

    #[test]
    fn properties_are_kept() {
        let b = parse_baggage(&["k=v;p1=x;p2", "m=n"]);
        assert_eq!(
            b.get_entry("k").map(|e| e.metadata.as_str()),
            Some("p1=x;p2")
        );
        assert_eq!(format_baggage(&b), "k=v;p1=x;p2,m=n");
    }

    #[test]
    fn format_skips_entries_it_cannot_write() {
        let mut b = Baggage::new();
        b.set("good", "1");
        b.set("bad key", "2");
        b.set("", "3");
        b.set_with_metadata("meta", "4", "p q");
        b.set_with_metadata("meta2", "5", ";p");
        b.set_with_metadata("meta3", "6", "p=1;q");
        assert_eq!(format_baggage(&b), "good=1,meta3=6;p=1;q");
        assert_eq!(format_baggage(&Baggage::new()), "");
    }

    #[test]
    fn ordered_map_api() {
        let mut b = Baggage::new();
        assert!(b.is_empty());
        assert_eq!(b.set("a", "1"), None);
        assert_eq!(b.set_with_metadata("b", "2", "p"), None);
        assert_eq!(b.set("c", "3"), None);
        assert_eq!(
            b.set("a", "4"),
            Some("1".to_owned()),
            "replace returns the old value"
        );
        assert_eq!(b.set("b", "5"), Some("2".to_owned()));
        assert_eq!(
            entries(&b),
            vec![
                entry("a", "4", ""),
                entry("b", "5", ""),
                entry("c", "3", "")
            ],
            "replacing keeps the position and drops the metadata"
        );
        assert_eq!(b.len(), 3);
        assert_eq!(b.get("c"), Some("3"));
        assert_eq!(b.get("missing"), None);
        assert_eq!(b.remove("a"), Some(entry("a", "4", "")));
        assert_eq!(b.remove("a"), None);
        assert_eq!(
            (&b).into_iter().map(|e| e.key.as_str()).collect::<Vec<_>>(),
            ["b", "c"]
        );
    }

    #[cfg(feature = "otel")]
    #[test]
    fn opentelemetry_conversion() {
        let b = parse_baggage(&["z=1;p,a=%20x,m=3"]);
        let otel = b.to_opentelemetry();
        assert_eq!(otel.len(), 3);
        assert_eq!(
            otel.get("a").map(|v| v.as_str().to_owned()),
            Some(" x".to_owned())
        );
        assert_eq!(
            otel.get_with_metadata("z")
                .map(|(_, m)| m.as_str().to_owned()),
            Some("p".to_owned())
        );
        let back = Baggage::from_opentelemetry(&otel);
        assert_eq!(
            entries(&back),
            vec![
                entry("a", " x", ""),
                entry("m", "3", ""),
                entry("z", "1", "p")
            ],
            "sorted by key"
        );
    }
}
