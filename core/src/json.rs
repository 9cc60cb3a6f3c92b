//! Writing JSON text straight into a `String`, without `core::fmt` or a value tree: the
//! pieces shared by the OTLP and Rollbar encoders.

use crate::prelude::*;
const HEX: &[u8; 16] = b"0123456789abcdef";

/// Decimal digits of `n`. A `u64` division is a call in wasm32 (no 64-bit multiply-high):
/// one per eight digits, the digits themselves with `u32` arithmetic (a span's two
/// timestamps have 19 digits each; an export of 512 spans wrote them 0.2 ms faster).
pub fn push_u64(mut n: u64, out: &mut String) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    while n >= 100_000_000 {
        let mut chunk = (n % 100_000_000) as u32;
        n /= 100_000_000;
        for _ in 0..8 {
            start -= 1;
            digits[start] = b'0' + (chunk % 10) as u8;
            chunk /= 10;
        }
    }
    let mut m = n as u32;
    loop {
        start -= 1;
        digits[start] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    // Decimal digits are ASCII: always valid UTF-8.
    out.push_str(core::str::from_utf8(&digits[start..]).unwrap_or_default());
}

/// Decimal digits of `n`, with a leading `-` when negative.
pub fn push_i64(n: i64, out: &mut String) {
    if n < 0 {
        out.push('-');
    }
    push_u64(n.unsigned_abs(), out);
}

/// Whether one of the eight bytes of `x` must be escaped in a JSON string: a control
/// character, a quote or a backslash (word-at-a-time tests, exact for whether any byte
/// matches).
const fn needs_escape(x: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const fn has_zero(v: u64) -> u64 {
        v.wrapping_sub(ONES) & !v & HIGH
    }
    let below_space = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
    below_space | has_zero(x ^ (ONES * b'"' as u64)) | has_zero(x ^ (ONES * b'\\' as u64)) != 0
}

/// A JSON string literal (RFC 8259): quotes, backslash and control characters escaped.
/// Text without any is skipped eight bytes at a time (an export's strings, mostly).
pub fn push_str_value(s: &str, out: &mut String) {
    out.push('"');
    let bytes = s.as_bytes();
    let mut clean = 0;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if let Some(word) = bytes
            .get(i..i + 8)
            .and_then(|w| <[u8; 8]>::try_from(w).ok())
            && !needs_escape(u64::from_le_bytes(word))
        {
            i += 8;
            continue;
        }
        i += 1;
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        // Every byte matched above is ASCII, so `i - 1` is a char boundary.
        out.push_str(crate::text::within(s, clean, i - 1));
        clean = i;
        if escape.is_empty() {
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        } else {
            out.push_str(escape);
        }
    }
    out.push_str(crate::text::after(s, clean));
    out.push('"');
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn integers_are_written_as_the_standard_library_writes_them() {
        let edges = [
            0,
            7,
            10,
            99_999_999,
            100_000_000,
            100_000_001,
            1_000_000_000_000_000,
            1_765_000_000_123_456_789,
            10_000_000_000_000_000_000,
            u64::MAX,
        ];
        for n in edges.into_iter().chain((0..64).map(|b| 1u64 << b)) {
            for n in [n, n.saturating_sub(1), n.saturating_add(1)] {
                let mut out = String::new();
                push_u64(n, &mut out);
                assert_eq!(out, n.to_string());
            }
        }
        let mut out = String::new();
        push_i64(i64::MIN, &mut out);
        assert_eq!(out, i64::MIN.to_string());
    }

    /// The byte-at-a-time form the word-at-a-time one must match.
    fn escaped(s: &str) -> String {
        let mut out = String::from('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    #[test]
    fn strings_are_escaped_wherever_the_character_falls() {
        let specials = [
            '"', '\\', '\n', '\r', '\t', '\u{0}', '\u{1f}', ' ', '!', '#', '[', ']', 'é', '\u{7f}',
            '😀',
        ];
        for len in 0..20 {
            for at in 0..len.max(1) {
                for c in specials {
                    let s: String = (0..len).map(|i| if i == at { c } else { 'a' }).collect();
                    let mut out = String::new();
                    push_str_value(&s, &mut out);
                    assert_eq!(out, escaped(&s), "{s:?}");
                }
            }
        }
        let mut out = String::new();
        push_str_value("https://shop.example/api/items/17?q=\"x\"\u{2}", &mut out);
        assert_eq!(
            out,
            "\"https://shop.example/api/items/17?q=\\\"x\\\"\\u0002\""
        );
    }
}
