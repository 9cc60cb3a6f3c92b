//! Time: a [`Clock`] trait (the browser implementation lives in the wasm glue) and the
//! conversion rules for user-supplied time inputs.

use core::cell::Cell;

/// Nanoseconds in one millisecond.
pub const NANOS_PER_MILLI: f64 = 1_000_000.0;

/// A source of wall-clock time in nanoseconds since the Unix epoch.
///
/// In the browser this is `performance.timeOrigin + performance.now()`:
/// `std::time::SystemTime::now()` panics on `wasm32-unknown-unknown`.
pub trait Clock {
    /// Now, in nanoseconds since the Unix epoch.
    fn now_unix_nanos(&self) -> u64;
}

/// A clock that only moves when told to; for tests and replay.
#[derive(Debug, Default)]
pub struct ManualClock {
    now: Cell<u64>,
}

impl ManualClock {
    /// A clock reading `start` nanoseconds since the epoch.
    pub fn new(start: u64) -> Self {
        Self {
            now: Cell::new(start),
        }
    }
    /// Moves the clock forward by `nanos`.
    pub fn advance(&self, nanos: u64) {
        self.now.set(self.now.get().saturating_add(nanos));
    }
    /// Sets the clock.
    pub fn set(&self, nanos: u64) {
        self.now.set(nanos);
    }
}

impl Clock for ManualClock {
    fn now_unix_nanos(&self) -> u64 {
        self.now.get()
    }
}

/// Converts epoch milliseconds (fractional) to epoch nanoseconds; `None` when the value is
/// not a finite non-negative number.
pub fn millis_to_unix_nanos(ms: f64) -> Option<u64> {
    if ms.is_finite() && ms >= 0.0 && ms < (u64::MAX as f64 / NANOS_PER_MILLI) {
        // Whole and fractional milliseconds separately: `ms * 1e6` alone loses up to
        // ~256 ns at today's epoch values.
        let whole = (ms as u64) as f64;
        let frac = crate::float::round_non_negative((ms - whole) * NANOS_PER_MILLI) as u64;
        Some(
            (whole as u64)
                .saturating_mul(1_000_000)
                .saturating_add(frac),
        )
    } else {
        None
    }
}

/// Interprets a numeric time input the way OpenTelemetry JS does (`TimeInput` as a number):
/// a value smaller than the page's time origin is a `performance.now()` reading, relative to
/// `time_origin_ms`; anything else is milliseconds since the epoch.
pub fn time_input_to_unix_nanos(ms: f64, time_origin_ms: f64) -> Option<u64> {
    if !ms.is_finite() || ms < 0.0 {
        return None;
    }
    if ms < time_origin_ms {
        Some(millis_to_unix_nanos(time_origin_ms)?.saturating_add(millis_to_unix_nanos(ms)?))
    } else {
        millis_to_unix_nanos(ms)
    }
}

/// Converts an OpenTelemetry `HrTime` (`[seconds, nanoseconds]` since the epoch).
pub fn hrtime_to_unix_nanos(secs: f64, nanos: f64) -> Option<u64> {
    let whole = |v: f64| v >= 0.0 && crate::float::is_integral(v);
    if !whole(secs) || !whole(nanos) || nanos >= 1e9 || secs > 1.8e10 {
        return None;
    }
    Some(secs as u64 * 1_000_000_000 + nanos as u64)
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn numeric_inputs_follow_opentelemetry_js() {
        let origin = 1_700_000_000_000.0;
        // performance.now()-relative
        assert_eq!(
            time_input_to_unix_nanos(1.5, origin),
            Some(1_700_000_000_001_500_000)
        );
        // epoch milliseconds
        assert_eq!(
            time_input_to_unix_nanos(origin + 10.0, origin),
            Some(1_700_000_000_010_000_000)
        );
        for bad in [f64::NAN, f64::INFINITY, -1.0] {
            assert_eq!(time_input_to_unix_nanos(bad, origin), None);
        }
    }

    #[test]
    fn hrtime_is_validated() {
        assert_eq!(hrtime_to_unix_nanos(2.0, 5.0), Some(2_000_000_005));
        assert_eq!(hrtime_to_unix_nanos(2.0, 1e9), None);
        assert_eq!(hrtime_to_unix_nanos(1.5, 0.0), None);
        assert_eq!(hrtime_to_unix_nanos(-1.0, 0.0), None);
    }

    #[test]
    fn manual_clock_moves_when_told() {
        let c = ManualClock::new(10);
        c.advance(5);
        assert_eq!(c.now_unix_nanos(), 15);
        c.set(3);
        assert_eq!(c.now_unix_nanos(), 3);
    }
}
