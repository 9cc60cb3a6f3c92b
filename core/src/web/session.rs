//! The browser session: a `session.id` (OpenTelemetry semantic conventions) shared by the
//! spans of one visit, kept in `sessionStorage` so it survives reloads of the tab.
//!
//! A session ends after [`DEFAULT_SESSION_INACTIVITY_MILLIS`] without activity (span
//! starts) or [`MAX_SESSION_DURATION_MILLIS`] after it began; the next activity then starts
//! a new one. The tracker is plain data: the caller passes the time and fresh random bytes,
//! reads and writes `sessionStorage`, and writes only when [`SessionTracker::touch`] asks,
//! so storage is not written on every span.
//!
//! The stored value is `<id>.<start ms>.<last activity ms>` (Unix milliseconds in decimal),
//! e.g. `4bf92f3577b34da6a3ce929d0e0e4736.1700000000000.1700000123456`. Anything else is
//! ignored and a new session starts.

use crate::json::push_u64;
use crate::prelude::*;
/// Span attribute carrying the session id.
pub const SESSION_ID_ATTRIBUTE: &str = "session.id";
/// A session ends after this long without activity (30 minutes).
pub const DEFAULT_SESSION_INACTIVITY_MILLIS: u64 = 30 * 60 * 1000;
/// A session ends this long after it started, however active (4 hours).
pub const MAX_SESSION_DURATION_MILLIS: u64 = 4 * 60 * 60 * 1000;
/// The `sessionStorage` key.
pub const SESSION_STORAGE_KEY: &str = "edge-telemetry.session";

/// The current session and when it was last active.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionTracker {
    id: String,
    started_ms: u64,
    last_activity_ms: u64,
    last_write_ms: u64,
    inactivity_ms: u64,
}

impl SessionTracker {
    /// Resumes the session in `stored` (the `sessionStorage` value, if any) unless it is
    /// malformed or expired at `now_ms`; otherwise starts a new one whose id is the
    /// lowercase hex of `fresh_id`. Construction counts as activity. Write
    /// [`stored_value`](Self::stored_value) to storage once after construction.
    pub fn new(stored: Option<&str>, now_ms: u64, inactivity_ms: u64, fresh_id: [u8; 16]) -> Self {
        if let Some((id, started, last)) = stored.and_then(parse_stored) {
            if !expired(started, last, now_ms, inactivity_ms) {
                return Self {
                    id: id.to_owned(),
                    // A start in the future (clock changed, or a forged value) must not
                    // keep the session alive past its maximum duration forever.
                    started_ms: started.min(now_ms),
                    last_activity_ms: now_ms,
                    last_write_ms: now_ms,
                    inactivity_ms,
                };
            }
        }
        Self {
            id: hex(&fresh_id),
            started_ms: now_ms,
            last_activity_ms: now_ms,
            last_write_ms: now_ms,
            inactivity_ms,
        }
    }

    /// Records activity at `now_ms`. When the session has expired (inactivity or maximum
    /// duration), starts a new one, calling `fresh_id` only then. Returns true when the
    /// caller should write [`stored_value`](Self::stored_value): the session changed, or the
    /// last write is at least a tenth of the inactivity timeout old. A clock that went
    /// backwards neither panics nor ends the session.
    pub fn touch(&mut self, now_ms: u64, fresh_id: impl FnOnce() -> [u8; 16]) -> bool {
        if expired(
            self.started_ms,
            self.last_activity_ms,
            now_ms,
            self.inactivity_ms,
        ) {
            self.id = hex(&fresh_id());
            self.started_ms = now_ms;
            self.last_activity_ms = now_ms;
            self.last_write_ms = now_ms;
            return true;
        }
        self.last_activity_ms = now_ms;
        // abs_diff: after a large backwards jump, write once so storage follows the clock.
        if now_ms.abs_diff(self.last_write_ms) >= self.inactivity_ms / 10 {
            self.last_write_ms = now_ms;
            return true;
        }
        false
    }

    /// The session id: 32 lowercase hex digits.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The value to write to `sessionStorage` under [`SESSION_STORAGE_KEY`].
    pub fn stored_value(&self) -> String {
        let mut s = String::with_capacity(32 + 2 + 2 * 20);
        s.push_str(&self.id);
        s.push('.');
        push_u64(self.started_ms, &mut s);
        s.push('.');
        push_u64(self.last_activity_ms, &mut s);
        s
    }
}

/// Whether a session that started at `started` and was last active at `last` has ended at
/// `now`. Time before `started` or `last` (a clock going backwards) counts as no time.
fn expired(started: u64, last: u64, now: u64, inactivity_ms: u64) -> bool {
    now.saturating_sub(last) >= inactivity_ms
        || now.saturating_sub(started) >= MAX_SESSION_DURATION_MILLIS
}

/// `<32 lowercase hex>.<start>.<last>` with `start <= last`.
fn parse_stored(s: &str) -> Option<(&str, u64, u64)> {
    let mut parts = s.split('.');
    let id = parts.next()?;
    let started = decimal(parts.next()?)?;
    let last = decimal(parts.next()?)?;
    let valid_id = id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    (parts.next().is_none() && valid_id && started <= last).then_some((id, started, last))
}

/// A plain decimal `u64` (no sign, no spaces, at most 20 digits, no overflow).
fn decimal(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    s.bytes().try_fold(0u64, |n, b| {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n.checked_mul(10)?.checked_add(u64::from(d))
    })
}

fn hex(bytes: &[u8; 16]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(32);
    for &b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    const T0: u64 = 1_700_000_000_000;
    const IDLE: u64 = DEFAULT_SESSION_INACTIVITY_MILLIS;
    const A: [u8; 16] = [0xab; 16];
    const B: [u8; 16] = [
        0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47,
        0x36,
    ];
    const A_HEX: &str = "abababababababababababababababab";
    const B_HEX: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

    fn never() -> [u8; 16] {
        panic!("fresh_id called without a new session")
    }

    fn stored(id: &str, started: u64, last: u64) -> String {
        let mut s = String::from(id);
        s.push('.');
        push_u64(started, &mut s);
        s.push('.');
        push_u64(last, &mut s);
        s
    }

    #[test]
    fn new_session_without_storage() {
        let s = SessionTracker::new(None, T0, IDLE, B);
        assert_eq!(s.id(), B_HEX);
        assert_eq!(
            s.stored_value(),
            "4bf92f3577b34da6a3ce929d0e0e4736.1700000000000.1700000000000"
        );
    }

    #[test]
    fn resume_or_restart_from_storage() {
        let valid = stored(A_HEX, T0, T0 + 1000);
        // (stored, now, resumed?)
        let cases: &[(&str, u64, bool)] = &[
            (&valid, T0 + 1000, true),
            (&valid, T0 + 1000 + IDLE - 1, true),
            (&valid, T0 + 1000 + IDLE, false),
            (&valid, T0 + MAX_SESSION_DURATION_MILLIS - 1, false), // idle long before
            // Clock behind the stored times: resume.
            (&valid, T0 - 5000, true),
            (&valid, 0, true),
        ];
        for &(value, now, resumed) in cases {
            let s = SessionTracker::new(Some(value), now, IDLE, B);
            assert_eq!(
                s.id(),
                if resumed { A_HEX } else { B_HEX },
                "{value} at {now}"
            );
        }
        // Active all along but past the maximum duration.
        let old = stored(A_HEX, T0, T0 + MAX_SESSION_DURATION_MILLIS - 1000);
        let s = SessionTracker::new(Some(&old), T0 + MAX_SESSION_DURATION_MILLIS - 1, IDLE, B);
        assert_eq!(s.id(), A_HEX);
        let s = SessionTracker::new(Some(&old), T0 + MAX_SESSION_DURATION_MILLIS, IDLE, B);
        assert_eq!(s.id(), B_HEX);
    }

    #[test]
    fn resumed_session_round_trips() {
        let s = SessionTracker::new(Some(&stored(A_HEX, T0, T0 + 10)), T0 + 20, IDLE, B);
        assert_eq!(s.stored_value(), stored(A_HEX, T0, T0 + 20));
        let again = SessionTracker::new(Some(&s.stored_value()), T0 + 30, IDLE, B);
        assert_eq!(again.id(), A_HEX);
        assert_eq!(again.started_ms, T0);
    }

    #[test]
    fn garbage_starts_a_new_session() {
        let long = "9".repeat(21);
        let overflow = stored(A_HEX, 0, 0).replace(".0.0", ".0.18446744073709551616");
        let cases: &[&str] = &[
            "",
            ".",
            "..",
            "garbage",
            A_HEX,
            "abababababababababababababababab.1700000000000",
            "abababababababababababababababab.1700000000000.1700000000000.1",
            "ABABABABABABABABABABABABABABABAB.1700000000000.1700000000000",
            "abababababababababababababababa.1700000000000.1700000000000",
            "abababababababababababababababab0.1700000000000.1700000000000",
            "abababababababababababababababag.1700000000000.1700000000000",
            "abababababababababababababababab.-1.1700000000000",
            "abababababababababababababababab.+1.1700000000000",
            "abababababababababababababababab. 1.1700000000000",
            "abababababababababababababababab.1.7e12",
            "abababababababababababababababab..1700000000000",
            // Start after last activity.
            "abababababababababababababababab.1700000000001.1700000000000",
            &overflow,
            &long,
            "{\"id\":\"abababababababababababababababab\"}",
            "ééééééééééééééééééééééééééééééééé.1.2",
        ];
        for &value in cases {
            let s = SessionTracker::new(Some(value), T0, IDLE, B);
            assert_eq!(s.id(), B_HEX, "{value:?}");
        }
    }

    #[test]
    fn expiry_by_inactivity() {
        let mut s = SessionTracker::new(None, T0, IDLE, A);
        s.touch(T0 + IDLE - 1, never);
        assert_eq!(s.id(), A_HEX);
        // Activity resets the timer.
        s.touch(T0 + 2 * IDLE - 2, never);
        assert_eq!(s.id(), A_HEX);
        assert!(s.touch(T0 + 3 * IDLE - 2, || B));
        assert_eq!(s.id(), B_HEX);
        assert_eq!(s.started_ms, T0 + 3 * IDLE - 2);
    }

    #[test]
    fn expiry_by_max_duration() {
        let mut s = SessionTracker::new(None, T0, IDLE, A);
        let step = IDLE / 2;
        let mut now = T0;
        while now + step < T0 + MAX_SESSION_DURATION_MILLIS {
            now += step;
            s.touch(now, never);
            assert_eq!(s.id(), A_HEX, "at +{}", now - T0);
        }
        assert!(s.touch(T0 + MAX_SESSION_DURATION_MILLIS, || B));
        assert_eq!(s.id(), B_HEX);
    }

    #[test]
    fn writes_are_throttled() {
        let mut s = SessionTracker::new(None, T0, IDLE, A);
        let tenth = IDLE / 10;
        // (offset from T0, write?)
        let cases: &[(u64, bool)] = &[
            (0, false),
            (1, false),
            (tenth - 1, false),
            (tenth, true),
            (tenth + 1, false),
            (2 * tenth - 1, false),
            (2 * tenth, true),
            (2 * tenth + 10, false),
        ];
        for &(offset, write) in cases {
            assert_eq!(s.touch(T0 + offset, never), write, "+{offset}");
        }
        // Every write carries the latest activity.
        s.touch(T0 + 3 * tenth, never);
        assert_eq!(s.stored_value(), stored(A_HEX, T0, T0 + 3 * tenth));
        // A new session is always written.
        assert!(s.touch(T0 + 3 * tenth + IDLE, || B));
    }

    #[test]
    fn clock_going_backwards() {
        let mut s = SessionTracker::new(None, T0, IDLE, A);
        // Small and huge jumps back, down to zero: no panic, no new session.
        for now in [
            T0 - 1,
            T0 - 10 * IDLE,
            T0 - 2 * MAX_SESSION_DURATION_MILLIS,
            0,
        ] {
            s.touch(now, never);
            assert_eq!(s.id(), A_HEX);
        }
        // A big jump back asks for one write so storage follows the clock.
        let mut s = SessionTracker::new(None, T0, IDLE, A);
        assert!(s.touch(T0 - IDLE, never));
        assert!(!s.touch(T0 - IDLE + 1, never));
        // Inactivity counts from the latest activity on the new clock.
        s.touch(T0 - 1, never);
        assert_eq!(s.id(), A_HEX);
        assert!(s.touch(T0 - 1 + IDLE, || B));
        assert_eq!(s.id(), B_HEX);
        // Forward again from there works as usual, and the extremes do not overflow.
        let mut s = SessionTracker::new(None, u64::MAX, IDLE, A);
        s.touch(u64::MAX, never);
        s.touch(0, never);
        assert!(s.touch(u64::MAX, || B));
    }

    #[test]
    fn future_start_is_clamped_on_resume() {
        let forged = stored(A_HEX, u64::MAX - 1, u64::MAX);
        let mut s = SessionTracker::new(Some(&forged), T0, IDLE, B);
        assert_eq!(s.id(), A_HEX);
        assert_eq!(s.started_ms, T0);
        // So the maximum duration still ends it.
        let mut now = T0;
        while now < T0 + MAX_SESSION_DURATION_MILLIS {
            now += IDLE / 2;
            s.touch(now, || B);
        }
        assert_eq!(s.id(), B_HEX);
    }

    #[test]
    fn decimal_and_hex_helpers() {
        for n in [0, 1, 9, 10, 1_700_000_000_000, u64::MAX] {
            let mut s = String::new();
            push_u64(n, &mut s);
            assert_eq!(s, n.to_string());
            assert_eq!(decimal(&s), Some(n));
        }
        assert_eq!(decimal("18446744073709551616"), None);
        assert_eq!(hex(&[0; 16]), "00000000000000000000000000000000");
        assert_eq!(hex(&B), B_HEX);
    }
}
