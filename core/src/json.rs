//! Writing JSON text straight into a `String`, without `core::fmt` or a value tree: the
//! pieces shared by the OTLP and Rollbar encoders.

use crate::prelude::*;
const HEX: &[u8; 16] = b"0123456789abcdef";

/// Decimal digits of `n`.
pub fn push_u64(mut n: u64, out: &mut String) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[start..] {
        out.push(char::from(d));
    }
}

/// Decimal digits of `n`, with a leading `-` when negative.
pub fn push_i64(n: i64, out: &mut String) {
    if n < 0 {
        out.push('-');
    }
    push_u64(n.unsigned_abs(), out);
}

/// A JSON string literal (RFC 8259): quotes, backslash and control characters escaped.
pub fn push_str_value(s: &str, out: &mut String) {
    out.push('"');
    let bytes = s.as_bytes();
    let mut clean = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        // Every byte matched above is ASCII, so `i` is a char boundary.
        out.push_str(crate::text::within(s, clean, i));
        clean = i + 1;
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
