//! Substring search for the engine module: `str::find(&str)` and `str::contains(&str)` bring
//! in core's two-way searcher (about 3.5 KB before `wasm-opt`) for two call sites that look
//! for a few characters in short texts (`://` in an error message, a marker in a stack
//! line), where a byte-by-byte comparison is as fast.
//!
//! [`cat!`](crate::cat) joins strings and integers into a `String` without `core::fmt`: the
//! engine's messages (debug notes, a panic's report) are built with it, so that no
//! `format!` and no `to_string` on a number brings `core::fmt::write` and its `Display`
//! machinery into a wasm module (issue 14; `scripts/size` fails when it is back).

use crate::prelude::*;

/// A piece of a message built by [`cat!`](crate::cat).
pub trait Piece {
    /// Appends the piece's text to `out`.
    fn push_to(&self, out: &mut String);
}

impl Piece for str {
    fn push_to(&self, out: &mut String) {
        out.push_str(self);
    }
}

impl Piece for String {
    fn push_to(&self, out: &mut String) {
        out.push_str(self);
    }
}

impl<T: Piece + ?Sized> Piece for &T {
    fn push_to(&self, out: &mut String) {
        (**self).push_to(out);
    }
}

impl Piece for bool {
    fn push_to(&self, out: &mut String) {
        out.push_str(if *self { "true" } else { "false" });
    }
}

macro_rules! unsigned_piece {
    ($($t:ty),*) => {$(
        impl Piece for $t {
            fn push_to(&self, out: &mut String) {
                crate::json::push_u64(*self as u64, out);
            }
        }
    )*};
}
unsigned_piece!(u16, u32, u64, usize);

impl Piece for i64 {
    fn push_to(&self, out: &mut String) {
        crate::json::push_i64(*self, out);
    }
}

/// `&s[..end]` without the panicking path of `str` indexing, whose message formats the
/// offending character (`core::fmt`'s `Debug` for `char` and its Unicode tables: about 3.6 KB
/// before `wasm-opt`). Every caller passes a char boundary it found; a wrong one gives `""`.
pub fn upto(s: &str, end: usize) -> &str {
    s.get(..end).unwrap_or_default()
}

/// `&s[start..]`, as [`upto`].
pub fn after(s: &str, start: usize) -> &str {
    s.get(start..).unwrap_or_default()
}

/// `&s[start..end]`, as [`upto`].
pub fn within(s: &str, start: usize, end: usize) -> &str {
    s.get(start..end).unwrap_or_default()
}

/// The decimal text of an integer (what `n.to_string()` gives), without `core::fmt`.
pub fn decimal(n: u64) -> String {
    let mut s = String::new();
    crate::json::push_u64(n, &mut s);
    s
}

/// `cat!(a, b, ...)`: a `String` of the pieces (`&str`, `String`, integers, `bool`) in
/// order, as `format!("{a}{b}...")` would write them, without `core::fmt`.
#[macro_export]
macro_rules! cat {
    ($($piece:expr),+ $(,)?) => {{
        let mut out = $crate::prelude::String::new();
        $( $crate::text::Piece::push_to(&$piece, &mut out); )*
        out
    }};
}

/// The byte index of the first `needle` in `haystack` (what `haystack.find(needle)` gives).
pub fn find_str(haystack: &str, needle: &str) -> Option<usize> {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    if n.is_empty() {
        return Some(0);
    }
    (0..=h.len().checked_sub(n.len())?).find(|&i| h[i..].starts_with(n))
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn the_same_as_str_find() {
        for (h, n) in [
            ("see https://a.example/x?t=1", "://"),
            ("", ""),
            ("", "a"),
            ("abc", ""),
            ("ab", "abc"),
            ("aaab", "ab"),
            ("héllo://wörld", "://"),
            ("at __wbg_new (x.js:1:2)", "__wbg_"),
            ("no marker", "__wbg_"),
        ] {
            assert_eq!(find_str(h, n), h.find(n), "{h:?} {n:?}");
        }
    }

    #[test]
    fn cat_writes_what_format_writes() {
        let owned = String::from("owned");
        assert_eq!(
            crate::cat!(
                "a ",
                0u16,
                " ",
                u64::MAX,
                " ",
                -42i64,
                " ",
                i64::MIN,
                " ",
                true,
                " ",
                owned,
                " ",
                7usize
            ),
            format!("a 0 {} -42 {} true owned 7", u64::MAX, i64::MIN)
        );
        assert_eq!(decimal(1_000_000), "1000000");
    }

    #[test]
    fn slices_as_str_indexing_and_empty_off_a_char_boundary() {
        let s = "h\u{e9}llo";
        assert_eq!(
            (upto(s, 1), after(s, 3), within(s, 1, 3)),
            ("h", "llo", "\u{e9}")
        );
        assert_eq!((upto(s, 2), after(s, 2), within(s, 0, 2)), ("", "", ""));
        assert_eq!((upto(s, 9), after(s, 9)), ("", ""));
    }
}
