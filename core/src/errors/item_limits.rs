//! Which error items are sent: `ignoredMessages`, de-duplication, `itemsPerMinute` and
//! `maxItems`, as pure functions of the time the glue passes in.
//!
//! - An item whose message contains one of the ignored strings is dropped ([`is_ignored`];
//!   RegExp rules are tested in the glue). A bare cross-origin `Script error.` is ignored
//!   by default: the browser hides everything else about it.
//! - The same error (class, message and innermost frame) seen again within
//!   [`DEDUPE_WINDOW_MILLIS`] of the last time it was seen is a duplicate.
//! - At most `items_per_minute` items in any window of 60 seconds starting at the first
//!   item of the window (rollbar.js's rule), and `max_items` in the life of the page
//!   (0: no limit).

use crate::prelude::*;
/// Items per minute (rollbar.js's `itemsPerMinute` default).
pub const DEFAULT_ITEMS_PER_MINUTE: u32 = 60;
/// The same error again within this many milliseconds is dropped as a duplicate.
pub const DEDUPE_WINDOW_MILLIS: u64 = 5_000;
/// The message browsers give for an error in a cross-origin script without CORS.
pub const SCRIPT_ERROR: &str = "Script error.";
/// How many distinct recent errors are remembered for de-duplication.
const DEDUPE_MEMORY: usize = 32;
const MINUTE_MILLIS: u64 = 60_000;

use crate::errors::stack::StackFrame;
use crate::json::push_u64;

/// Why an item was not sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The same error was reported within [`DEDUPE_WINDOW_MILLIS`].
    Duplicate,
    /// `itemsPerMinute` reached.
    RateLimited,
    /// `maxItems` reached for this page load.
    MaxItems,
}

/// Whether `message` matches an `ignoredMessages` string (substring, case-sensitive, as in
/// rollbar.js), or is exactly the opaque cross-origin [`SCRIPT_ERROR`].
pub fn is_ignored<S: AsRef<str>>(message: &str, ignored: &[S]) -> bool {
    message.trim() == SCRIPT_ERROR
        || ignored
            .iter()
            .any(|s| !s.as_ref().is_empty() && message.contains(s.as_ref()))
}

/// A 64-bit FNV-1a hash of an error's identity: class, message and innermost frame.
pub fn error_fingerprint(class: &str, message: &str, top_frame: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in [class, message, top_frame] {
        for b in part.bytes().chain([0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// The innermost frame (the last of `frames`, most recent call last) as
/// `filename:lineno:colno:method`, the third part of [`error_fingerprint`]; empty without
/// frames.
pub fn innermost_frame_key(frames: &[StackFrame]) -> String {
    let mut key = String::new();
    if let Some(f) = frames.last() {
        key.push_str(&f.filename);
        for n in [f.lineno, f.colno] {
            key.push(':');
            if let Some(n) = n {
                push_u64(u64::from(n), &mut key);
            }
        }
        key.push(':');
        key.push_str(f.method.as_deref().unwrap_or(""));
    }
    key
}

/// Counts items and remembers recent errors.
#[derive(Clone, Debug)]
pub struct ItemLimiter {
    items_per_minute: u32,
    max_items: u32,
    window_start: u64,
    in_window: u32,
    total: u32,
    /// (fingerprint, last seen) of recent errors, oldest first.
    recent: Vec<(u64, u64)>,
}

impl ItemLimiter {
    /// A limiter; `max_items` 0 means no limit per page load, `items_per_minute` 0 none per
    /// minute.
    pub fn new(items_per_minute: u32, max_items: u32) -> Self {
        Self {
            items_per_minute,
            max_items,
            window_start: 0,
            in_window: 0,
            total: 0,
            recent: Vec::new(),
        }
    }

    /// Decides at `now` (milliseconds) whether the error with `fingerprint` may be sent, and
    /// counts it when it may.
    pub fn admit(&mut self, fingerprint: u64, now: u64) -> Result<(), Refusal> {
        let seen = self.recent.iter().position(|&(f, _)| f == fingerprint);
        if let Some(i) = seen {
            let last = self.recent[i].1;
            // A repeat extends the window: a storm of one error stays one item.
            self.recent[i].1 = now;
            if now.saturating_sub(last) < DEDUPE_WINDOW_MILLIS {
                return Err(Refusal::Duplicate);
            }
        } else {
            if self.recent.len() == DEDUPE_MEMORY {
                self.recent.remove(0);
            }
            self.recent.push((fingerprint, now));
        }
        if self.max_items > 0 && self.total >= self.max_items {
            return Err(Refusal::MaxItems);
        }
        if self.in_window == 0 || now.saturating_sub(self.window_start) >= MINUTE_MILLIS {
            self.window_start = now;
            self.in_window = 0;
        }
        if self.items_per_minute > 0 && self.in_window >= self.items_per_minute {
            return Err(Refusal::RateLimited);
        }
        self.in_window += 1;
        self.total += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn seventy_distinct_errors_in_a_minute_give_sixty_items() {
        let mut l = ItemLimiter::new(DEFAULT_ITEMS_PER_MINUTE, 0);
        let refused: Vec<_> = (0..70)
            .filter_map(|i| {
                l.admit(error_fingerprint("Error", &i.to_string(), ""), i * 100)
                    .err()
            })
            .collect();
        assert_eq!(refused, vec![Refusal::RateLimited; 10]);
        // A new minute opens a new window.
        assert_eq!(
            l.admit(error_fingerprint("Error", "late", ""), 60_000),
            Ok(())
        );
    }

    #[test]
    fn one_error_repeated_within_the_window_is_one_item() {
        let mut l = ItemLimiter::new(60, 0);
        let f = error_fingerprint("TypeError", "x is undefined", "app.js:1:2");
        let sent = (0..10).filter(|i| l.admit(f, i * 100).is_ok()).count();
        assert_eq!(sent, 1);
        // Still repeating: still a duplicate (the window slides with each repeat).
        assert_eq!(l.admit(f, 5_500), Err(Refusal::Duplicate));
        // Quiet for the whole window: reported again.
        assert_eq!(l.admit(f, 5_500 + DEDUPE_WINDOW_MILLIS), Ok(()));
        // Another error is not a duplicate.
        let g = error_fingerprint("TypeError", "x is undefined", "app.js:9:9");
        assert_ne!(f, g);
        assert_eq!(l.admit(g, 5_600), Ok(()));
    }

    #[test]
    fn max_items_caps_the_page_load() {
        let mut l = ItemLimiter::new(0, 3);
        let results: Vec<_> = (0..5u64).map(|i| l.admit(i, i * MINUTE_MILLIS)).collect();
        assert_eq!(
            results,
            vec![
                Ok(()),
                Ok(()),
                Ok(()),
                Err(Refusal::MaxItems),
                Err(Refusal::MaxItems)
            ]
        );
    }

    #[test]
    fn duplicates_and_refusals_do_not_use_up_the_rate() {
        let mut l = ItemLimiter::new(2, 0);
        assert_eq!(l.admit(1, 0), Ok(()));
        assert_eq!(l.admit(1, 10), Err(Refusal::Duplicate));
        assert_eq!(l.admit(2, 20), Ok(()));
        assert_eq!(l.admit(3, 30), Err(Refusal::RateLimited));
        assert_eq!(l.admit(4, 60_000), Ok(()));
    }

    #[test]
    fn ignored_messages_and_script_error() {
        let none: [&str; 0] = [];
        assert!(is_ignored("Script error.", &none));
        assert!(is_ignored(" Script error. ", &none));
        assert!(!is_ignored("Script error. in app.js", &none));
        assert!(is_ignored(
            "ResizeObserver loop limit exceeded",
            &["ResizeObserver loop"]
        ));
        assert!(!is_ignored("resizeobserver loop", &["ResizeObserver loop"]));
        assert!(
            !is_ignored("anything", &[""]),
            "an empty rule ignores nothing"
        );
    }

    #[test]
    fn fingerprints_separate_their_parts() {
        assert_ne!(
            error_fingerprint("ab", "c", ""),
            error_fingerprint("a", "bc", "")
        );
        assert_eq!(
            error_fingerprint("a", "b", "c"),
            error_fingerprint("a", "b", "c")
        );
    }

    #[test]
    fn the_innermost_frame_names_where_the_error_was_made() {
        let frame = |line, method: Option<&str>| StackFrame {
            filename: "https://a.example/app.js".into(),
            lineno: Some(line),
            colno: Some(7),
            method: method.map(str::to_owned),
        };
        assert_eq!(innermost_frame_key(&[]), "");
        assert_eq!(
            innermost_frame_key(&[frame(1, Some("outer")), frame(42, Some("inner"))]),
            "https://a.example/app.js:42:7:inner"
        );
        let wasm = StackFrame {
            filename: "m.wasm".into(),
            lineno: None,
            colno: Some(0x1f),
            method: None,
        };
        assert_eq!(innermost_frame_key(&[wasm]), "m.wasm::31:");
        // Same class and message, another place: another fingerprint.
        let here = innermost_frame_key(&[frame(42, Some("inner"))]);
        let there = innermost_frame_key(&[frame(43, Some("inner"))]);
        assert_ne!(
            error_fingerprint("Error", "boom", &here),
            error_fingerprint("Error", "boom", &there)
        );
    }
}
