//! Substring search for the engine module: `str::find(&str)` and `str::contains(&str)` bring
//! in core's two-way searcher (about 3.5 KB before `wasm-opt`) for two call sites that look
//! for a few characters in short texts (`://` in an error message, a marker in a stack
//! line), where a byte-by-byte comparison is as fast.

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
}
