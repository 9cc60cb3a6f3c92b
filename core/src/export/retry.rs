//! OTLP export retry policy: which responses are retried, and after how long.
//!
//! Follows the OTLP/HTTP exporter specification and opentelemetry-js's `RetryingTransport`
//! for what is retried: only 429, 502, 503 and 504 (and network failures), with exponential
//! backoff (×1.5 from 1 s, capped at 5 s, ±20 % jitter) unless the server sent
//! `Retry-After`. Unlike them, a retryable failure is never final: the batch is tried again
//! for as long as the queue holds it (issue 17; [`super::batch`] bounds what is held, and
//! makes one batch probe the endpoint while the others wait). Everything is a function of
//! plain values: the caller passes the time, the random number and the attempt count, and
//! owns the timer.
//!
//! Rollbar items use the same backoff with [`RetryStatuses::Rollbar`]: every 5xx is
//! retried, and a 429 is not: it pauses all sending for the `Retry-After` delay, or
//! [`DEFAULT_RATE_LIMIT_PAUSE_MILLIS`] without one, as rollbar.js does.

/// The `retry.maxAttempts` default. Kept for the option's validation only: since issue 17 a
/// batch that fails for a retryable reason is retried while the queue holds it, not given up
/// after a number of attempts.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;
/// Backoff before the second attempt (before jitter).
pub const DEFAULT_INITIAL_BACKOFF_MILLIS: u32 = 1000;
/// Upper bound on the backoff (before jitter).
pub const DEFAULT_MAX_BACKOFF_MILLIS: u32 = 5000;
/// Growth of the backoff from one attempt to the next.
pub const BACKOFF_MULTIPLIER: f64 = 1.5;
/// Jitter as a fraction of the backoff: the delay is scaled by a factor in `[0.8, 1.2)`.
pub const JITTER: f64 = 0.2;
/// How long a 429 without `Retry-After` pauses sending under [`RetryStatuses::Rollbar`].
pub const DEFAULT_RATE_LIMIT_PAUSE_MILLIS: u64 = 60_000;
/// Longest wait a `Retry-After` can ask for: one hour. Longer values wait this long (a
/// browser timer cannot wait more than 24.8 days, and a longer one fires at once).
pub const MAX_RETRY_AFTER_MILLIS: u64 = 3_600_000;

/// Which responses are retried.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RetryStatuses {
    /// The OTLP specification: 429, 502, 503, 504 and network errors.
    #[default]
    Otlp,
    /// Rollbar's item API: every 5xx and network errors; a 429 pauses sending instead
    /// ([`FailReason::RateLimited`]).
    Rollbar,
}

/// Retry backoff. [`Default`] uses the `DEFAULT_*` constants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryConfig {
    /// Backoff after the first failed attempt, in milliseconds.
    pub initial_backoff_millis: u32,
    /// Cap on the backoff, in milliseconds.
    pub max_backoff_millis: u32,
    /// Which responses are retried.
    pub statuses: RetryStatuses,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            initial_backoff_millis: DEFAULT_INITIAL_BACKOFF_MILLIS,
            max_backoff_millis: DEFAULT_MAX_BACKOFF_MILLIS,
            statuses: RetryStatuses::Otlp,
        }
    }
}

/// What to do after one export attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportOutcome {
    /// The collector accepted the batch.
    Success,
    /// Send the same batch again after `delay_millis`.
    Retry {
        /// Milliseconds to wait before the next attempt.
        delay_millis: u64,
    },
    /// The attempt failed for a retryable reason while another batch probes the endpoint:
    /// keep the batch; it is sent again once the endpoint answers ([`super::batch`]).
    Held,
    /// Give up on this batch (count it as dropped).
    Failed(FailReason),
}

/// Why a batch was given up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailReason {
    /// The collector rejected the batch with this status; sending it again would not help
    /// (check the endpoint, the API key and the payload).
    NotRetryable(u16),
    /// Rollbar answered 429: send nothing for `pause_millis` (items meanwhile are dropped).
    RateLimited {
        /// The `Retry-After` delay (at most [`MAX_RETRY_AFTER_MILLIS`]), or
        /// [`DEFAULT_RATE_LIMIT_PAUSE_MILLIS`].
        pause_millis: u64,
    },
}

/// Whether an HTTP status is retryable per the OTLP specification: exactly 429, 502, 503
/// and 504. (A network failure, status 0, is retried too; see [`classify`].)
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

/// Parses a `Retry-After` value into milliseconds from `now_unix_millis`.
///
/// Accepts delta-seconds (`120`) or an HTTP-date in any of the three forms of RFC 9110
/// §5.6.7: IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), obsolete RFC 850
/// (`Sunday, 06-Nov-94 08:49:37 GMT`, two-digit years read as at most 50 years ahead) and
/// asctime (`Sun Nov  6 08:49:37 1994`). Names match case-insensitively. Dates in the past
/// give 0; anything else (`-1`, `1.5`, `soon`, empty) gives `None`.
pub fn parse_retry_after(value: &str, now_unix_millis: u64) -> Option<u64> {
    let value = value.trim_matches([' ', '\t']);
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits to fit is still "a very long time".
        let secs = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(secs.saturating_mul(1000));
    }
    let at = parse_http_date(value, now_unix_millis / 1000)?;
    Some(at.saturating_mul(1000).saturating_sub(now_unix_millis))
}

/// The wait a `Retry-After` header asks for, at most [`MAX_RETRY_AFTER_MILLIS`]; `None`
/// without a valid one.
fn retry_after_millis(retry_after: Option<&str>, now_unix_millis: u64) -> Option<u64> {
    retry_after
        .and_then(|v| parse_retry_after(v, now_unix_millis))
        .map(|ms| ms.min(MAX_RETRY_AFTER_MILLIS))
}

/// Delay in milliseconds before attempt `attempt + 1`, after attempt `attempt` (1-based)
/// failed: `min(max, initial × 1.5^(attempt−1))` scaled by `1 + JITTER × (2u − 1)`, where
/// `u = unit_random` in `[0, 1)` (out-of-range values are clamped, NaN means no jitter).
pub fn backoff_millis(attempt: u32, cfg: &RetryConfig, unit_random: f64) -> u64 {
    let exp = attempt.saturating_sub(1).min(128);
    let base = (cfg.initial_backoff_millis as f64 * crate::float::powi(BACKOFF_MULTIPLIER, exp))
        .min(cfg.max_backoff_millis as f64);
    let u = if unit_random.is_nan() {
        0.5
    } else {
        unit_random.clamp(0.0, 1.0)
    };
    // Non-negative, so `+ 0.5` then truncation rounds (smaller than `f64::round` in wasm).
    (base * (1.0 + JITTER * (2.0 * u - 1.0)) + 0.5) as u64
}

/// What to do after attempt `attempt` (1-based) ended with HTTP `status`, where 0 means no
/// response (network error, timeout or abort).
///
/// 2xx is [`ExportOutcome::Success`]. Under [`RetryStatuses::Otlp`], 429, 502, 503, 504
/// and 0 are retried (under [`RetryStatuses::Rollbar`], 5xx and 0; 429 is
/// [`FailReason::RateLimited`]), after `retry_after` (the `Retry-After` header, when present
/// and valid, at most [`MAX_RETRY_AFTER_MILLIS`]) or else the [`backoff_millis`] delay,
/// however many attempts were made; every other status fails as
/// [`FailReason::NotRetryable`].
pub fn classify(
    status: u16,
    retry_after: Option<&str>,
    attempt: u32,
    now_unix_millis: u64,
    cfg: &RetryConfig,
    unit_random: f64,
) -> ExportOutcome {
    if (200..300).contains(&status) {
        return ExportOutcome::Success;
    }
    let retryable = match cfg.statuses {
        RetryStatuses::Otlp => is_retryable_status(status),
        RetryStatuses::Rollbar if status == 429 => {
            let pause_millis = retry_after_millis(retry_after, now_unix_millis)
                .unwrap_or(DEFAULT_RATE_LIMIT_PAUSE_MILLIS);
            return ExportOutcome::Failed(FailReason::RateLimited { pause_millis });
        }
        RetryStatuses::Rollbar => (500..600).contains(&status),
    };
    if status != 0 && !retryable {
        return ExportOutcome::Failed(FailReason::NotRetryable(status));
    }
    let delay_millis = retry_after_millis(retry_after, now_unix_millis)
        .unwrap_or_else(|| backoff_millis(attempt, cfg, unit_random));
    ExportOutcome::Retry { delay_millis }
}

const SHORT_DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const LONG_DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// An HTTP-date as Unix seconds (0 for dates before 1970). `now_secs` resolves the
/// two-digit years of the RFC 850 form.
fn parse_http_date(s: &str, now_secs: u64) -> Option<u64> {
    // Empty pieces come from the padding space in asctime's day (`Nov  6`).
    let mut parts = s.split(' ').filter(|p| !p.is_empty());
    let first = parts.next()?;
    let (year, month, day, time) = if let Some(name) = first.strip_suffix(',') {
        let date = parts.next()?;
        if is_one_of(name, &SHORT_DAYS) {
            // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
            let day = digits(date, 2, 2)?;
            let month = month(parts.next()?)?;
            let year = digits(parts.next()?, 4, 4)?;
            let time = parts.next()?;
            gmt(parts.next()?)?;
            (year, month, day, time)
        } else if is_one_of(name, &LONG_DAYS) {
            // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
            let mut dmy = date.split('-');
            let day = digits(dmy.next()?, 2, 2)?;
            let month = month(dmy.next()?)?;
            let yy = digits(dmy.next()?, 2, 2)?;
            if dmy.next().is_some() {
                return None;
            }
            let time = parts.next()?;
            gmt(parts.next()?)?;
            (full_year(yy, now_secs), month, day, time)
        } else {
            return None;
        }
    } else {
        // asctime: Sun Nov  6 08:49:37 1994
        if !is_one_of(first, &SHORT_DAYS) {
            return None;
        }
        let month = month(parts.next()?)?;
        let day = digits(parts.next()?, 1, 2)?;
        let time = parts.next()?;
        let year = digits(parts.next()?, 4, 4)?;
        (year, month, day, time)
    };
    if parts.next().is_some() || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let mut hms = time.split(':');
    let h = digits(hms.next()?, 2, 2)?;
    let m = digits(hms.next()?, 2, 2)?;
    let sec = digits(hms.next()?, 2, 2)?;
    if hms.next().is_some() || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    let secs = days_from_civil(year, month, day) * 86_400 + (h * 3600 + m * 60 + sec) as i64;
    Some(secs.max(0) as u64)
}

fn is_one_of(s: &str, names: &[&str]) -> bool {
    names.iter().any(|n| n.eq_ignore_ascii_case(s))
}

/// Month number 1..=12 of a three-letter name.
fn month(s: &str) -> Option<u32> {
    MONTHS
        .iter()
        .position(|m| m.eq_ignore_ascii_case(s))
        .map(|i| i as u32 + 1)
}

fn gmt(s: &str) -> Option<()> {
    s.eq_ignore_ascii_case("GMT").then_some(())
}

/// A decimal number of `min..=max` ASCII digits.
fn digits(s: &str, min: usize, max: usize) -> Option<u32> {
    if s.len() < min || s.len() > max || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(s.bytes().fold(0, |n, b| n * 10 + u32::from(b - b'0')))
}

/// RFC 9110: a two-digit year more than 50 years in the future is the most recent past
/// year with those digits.
fn full_year(yy: u32, now_secs: u64) -> u32 {
    let current = year_of_day((now_secs / 86_400) as i64);
    let past = current - (current + 100 - yy) % 100;
    if past + 100 - current <= 50 {
        past + 100
    } else {
        past
    }
}

fn is_leap(year: u32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: u32, month: u32, day: u32) -> i64 {
    let y = year as i64 - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month as i64 + 9) % 12; // March = 0
    let doy = (153 * mp + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The year of a day counted from 1970-01-01 (inverse of [`days_from_civil`], year only).
fn year_of_day(days: i64) -> u32 {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    (yoe + era * 400 + i64::from(mp >= 10)) as u32
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    /// 1994-11-06T08:49:37Z, the RFC example.
    const RFC_EXAMPLE_SECS: u64 = 784_111_777;
    /// 2025-06-15T12:00:00Z.
    const NOW_MS: u64 = 1_749_988_800_000;

    #[test]
    fn retryable_statuses() {
        for status in 0..=999u16 {
            let expected = [429, 502, 503, 504].contains(&status);
            assert_eq!(is_retryable_status(status), expected, "{status}");
        }
    }

    #[test]
    fn classify_status_classes() {
        let cfg = RetryConfig::default();
        let retry = ExportOutcome::Retry { delay_millis: 1000 };
        let cases: &[(u16, ExportOutcome)] = &[
            (200, ExportOutcome::Success),
            (202, ExportOutcome::Success),
            (204, ExportOutcome::Success),
            (299, ExportOutcome::Success),
            (0, retry),
            (429, retry),
            (502, retry),
            (503, retry),
            (504, retry),
            (100, ExportOutcome::Failed(FailReason::NotRetryable(100))),
            (301, ExportOutcome::Failed(FailReason::NotRetryable(301))),
            (400, ExportOutcome::Failed(FailReason::NotRetryable(400))),
            (401, ExportOutcome::Failed(FailReason::NotRetryable(401))),
            (403, ExportOutcome::Failed(FailReason::NotRetryable(403))),
            (404, ExportOutcome::Failed(FailReason::NotRetryable(404))),
            (408, ExportOutcome::Failed(FailReason::NotRetryable(408))),
            (413, ExportOutcome::Failed(FailReason::NotRetryable(413))),
            (500, ExportOutcome::Failed(FailReason::NotRetryable(500))),
            (501, ExportOutcome::Failed(FailReason::NotRetryable(501))),
            (505, ExportOutcome::Failed(FailReason::NotRetryable(505))),
        ];
        for &(status, expected) in cases {
            // unit_random 0.5: no jitter.
            assert_eq!(
                classify(status, None, 1, NOW_MS, &cfg, 0.5),
                expected,
                "{status}"
            );
        }
    }

    #[test]
    fn success_and_non_retryable_ignore_limits() {
        let cfg = RetryConfig::default();
        // However many attempts were made, the status decides.
        assert_eq!(
            classify(200, None, 99, NOW_MS, &cfg, 0.5),
            ExportOutcome::Success
        );
        assert_eq!(
            classify(400, Some("1"), 99, NOW_MS, &cfg, 0.5),
            ExportOutcome::Failed(FailReason::NotRetryable(400))
        );
    }

    #[test]
    fn retry_after_replaces_backoff() {
        let cfg = RetryConfig::default();
        let cases: &[(Option<&str>, u64)] = &[
            (None, 1000),
            (Some("0"), 0),
            (Some("3"), 3000),
            (Some("120"), 120_000),
            (Some("Sun, 15 Jun 2025 12:00:30 GMT"), 30_000),
            // Invalid: the backoff applies.
            (Some("soon"), 1000),
            (Some(""), 1000),
            (Some("-1"), 1000),
        ];
        for &(retry_after, delay_millis) in cases {
            for status in [0, 429, 503] {
                assert_eq!(
                    classify(status, retry_after, 1, NOW_MS, &cfg, 0.5),
                    ExportOutcome::Retry { delay_millis },
                    "{status} {retry_after:?}"
                );
            }
        }
    }

    #[test]
    fn retryable_failures_are_never_final_and_retry_after_is_bounded() {
        let cfg = RetryConfig::default();
        for attempt in [1, 5, 6, 1000, u32::MAX] {
            assert_eq!(
                classify(503, None, attempt, NOW_MS, &cfg, 0.5),
                ExportOutcome::Retry {
                    delay_millis: backoff_millis(attempt, &cfg, 0.5)
                },
                "{attempt}"
            );
        }
        for (retry_after, delay_millis) in [
            ("3600", MAX_RETRY_AFTER_MILLIS),
            ("3601", MAX_RETRY_AFTER_MILLIS),
            ("99999999999999999999999", MAX_RETRY_AFTER_MILLIS),
            ("Fri, 31 Dec 9999 23:59:59 GMT", MAX_RETRY_AFTER_MILLIS),
        ] {
            assert_eq!(
                classify(429, Some(retry_after), 1, NOW_MS, &cfg, 0.5),
                ExportOutcome::Retry { delay_millis },
                "{retry_after}"
            );
        }
        let rollbar = RetryConfig {
            statuses: RetryStatuses::Rollbar,
            ..cfg
        };
        assert_eq!(
            classify(429, Some("86400"), 1, NOW_MS, &rollbar, 0.5),
            ExportOutcome::Failed(FailReason::RateLimited {
                pause_millis: MAX_RETRY_AFTER_MILLIS
            })
        );
    }

    #[test]
    fn retry_after_seconds() {
        let cases: &[(&str, Option<u64>)] = &[
            ("0", Some(0)),
            ("1", Some(1000)),
            ("120", Some(120_000)),
            ("007", Some(7000)),
            (" 5\t", Some(5000)),
            ("18446744073709551615", Some(u64::MAX)),
            ("99999999999999999999999", Some(u64::MAX)),
            ("", None),
            ("  ", None),
            ("-1", None),
            ("+1", None),
            ("1.5", None),
            ("1e3", None),
            ("1 2", None),
            ("soon", None),
            ("0x10", None),
            ("١٢", None), // Arabic-Indic digits are not DIGIT
        ];
        for &(value, expected) in cases {
            assert_eq!(parse_retry_after(value, NOW_MS), expected, "{value:?}");
        }
    }

    #[test]
    fn retry_after_dates() {
        let rfc_ms = RFC_EXAMPLE_SECS * 1000;
        let cases: &[(&str, u64, Option<u64>)] = &[
            // The three forms of the RFC example, 10 s before it.
            (
                "Sun, 06 Nov 1994 08:49:37 GMT",
                rfc_ms - 10_000,
                Some(10_000),
            ),
            (
                "Sunday, 06-Nov-94 08:49:37 GMT",
                rfc_ms - 10_000,
                Some(10_000),
            ),
            ("Sun Nov  6 08:49:37 1994", rfc_ms - 10_000, Some(10_000)),
            ("Sun Nov 06 08:49:37 1994", rfc_ms - 10_000, Some(10_000)),
            // Case-insensitive names.
            ("sun, 06 nov 1994 08:49:37 gmt", rfc_ms - 1, Some(1)),
            // Sub-second now: the date is a whole second.
            ("Sun, 06 Nov 1994 08:49:37 GMT", rfc_ms - 1, Some(1)),
            // Past and present dates give 0.
            ("Sun, 06 Nov 1994 08:49:37 GMT", rfc_ms, Some(0)),
            ("Sun, 06 Nov 1994 08:49:37 GMT", NOW_MS, Some(0)),
            ("Thu, 01 Jan 1970 00:00:00 GMT", NOW_MS, Some(0)),
            ("Mon, 01 Jan 1900 00:00:00 GMT", NOW_MS, Some(0)),
            // Future dates relative to NOW_MS (2025-06-15T12:00:00Z).
            ("Sun, 15 Jun 2025 12:01:00 GMT", NOW_MS, Some(60_000)),
            ("Mon, 16 Jun 2025 12:00:00 GMT", NOW_MS, Some(86_400_000)),
            ("Sunday, 15-Jun-25 12:00:05 GMT", NOW_MS, Some(5000)),
            ("Sun Jun 15 12:00:05 2025", NOW_MS, Some(5000)),
            // Leap day, leap second, year boundaries.
            (
                "Thu, 29 Feb 2024 00:00:00 GMT",
                1_709_164_800_000 - 1000,
                Some(1000),
            ),
            (
                "Sat, 31 Dec 2016 23:59:60 GMT",
                1_483_228_800_000 - 1000,
                Some(1000),
            ),
            (
                "Wed, 01 Jan 2020 00:00:00 GMT",
                1_577_836_800_000 - 1000,
                Some(1000),
            ),
            (
                "Tue, 29 Feb 2000 00:00:00 GMT",
                951_782_400_000 - 1000,
                Some(1000),
            ),
            // Malformed dates.
            ("Sun, 6 Nov 1994 08:49:37 GMT", NOW_MS, None),
            ("Sun, 06 Nov 94 08:49:37 GMT", NOW_MS, None),
            ("Sun, 06 Nov 1994 08:49:37 UTC", NOW_MS, None),
            ("Sun, 06 Nov 1994 08:49:37", NOW_MS, None),
            ("Sun, 06 Nov 1994 08:49:37 GMT x", NOW_MS, None),
            ("Sun, 06 Nov 1994 8:49:37 GMT", NOW_MS, None),
            ("Sun, 06 Nov 1994 24:00:00 GMT", NOW_MS, None),
            ("Sun, 06 Nov 1994 08:60:00 GMT", NOW_MS, None),
            ("Sun, 06 Nov 1994 08:49:61 GMT", NOW_MS, None),
            ("Sun, 06 Nov 1994 08:49 GMT", NOW_MS, None),
            ("Sun, 06 Nov 1994 08:49:37:00 GMT", NOW_MS, None),
            ("Sun, 00 Nov 1994 08:49:37 GMT", NOW_MS, None),
            ("Sun, 31 Nov 1994 08:49:37 GMT", NOW_MS, None),
            ("Fri, 29 Feb 2019 00:00:00 GMT", NOW_MS, None),
            ("Mon, 29 Feb 1900 00:00:00 GMT", NOW_MS, None),
            ("Sun, 06 Foo 1994 08:49:37 GMT", NOW_MS, None),
            ("Sunday, 06 Nov 1994 08:49:37 GMT", NOW_MS, None),
            ("Sun, 06-Nov-94 08:49:37 GMT", NOW_MS, None),
            ("Xyz, 06 Nov 1994 08:49:37 GMT", NOW_MS, None),
            ("Sunday, 06-Nov-1994 08:49:37 GMT", NOW_MS, None),
            ("Sunday, 06-Nov-94-1 08:49:37 GMT", NOW_MS, None),
            ("Sun Nov  6 08:49:37 94", NOW_MS, None),
            ("Sun Nov 123 08:49:37 1994", NOW_MS, None),
            ("Sun Nov  6 08:49:37 1994 GMT", NOW_MS, None),
            ("Sunday Nov  6 08:49:37 1994", NOW_MS, None),
            ("Sun, ", NOW_MS, None),
            (",", NOW_MS, None),
        ];
        for &(value, now, expected) in cases {
            assert_eq!(parse_retry_after(value, now), expected, "{value:?}");
        }
    }

    #[test]
    fn rfc850_two_digit_years() {
        // Now: 2025. At most 50 years ahead means up to 2075; 76..99 are last century.
        let now_secs = NOW_MS / 1000;
        let cases = [
            (25, 2025),
            (26, 2026),
            (75, 2075),
            (76, 1976),
            (94, 1994),
            (99, 1999),
            (0, 2000),
            (24, 2024),
        ];
        for (yy, year) in cases {
            assert_eq!(full_year(yy, now_secs), year, "{yy}");
        }
        // Near a century boundary: in 2090, "05" is 2105 (15 years ahead), "45" is 2045.
        let in_2090 = days_from_civil(2090, 3, 1) as u64 * 86_400;
        assert_eq!(full_year(5, in_2090), 2105);
        assert_eq!(full_year(40, in_2090), 2140);
        assert_eq!(full_year(41, in_2090), 2041);
        assert_eq!(full_year(90, in_2090), 2090);
    }

    #[test]
    fn civil_day_arithmetic() {
        let cases: &[(u32, u32, u32, i64)] = &[
            (1970, 1, 1, 0),
            (1969, 12, 31, -1),
            (1994, 11, 6, 9075),
            (2000, 2, 29, 11_016),
            (2000, 3, 1, 11_017),
            (2025, 6, 15, 20_254),
            (1900, 1, 1, -25_567),
            (9999, 12, 31, 2_932_896),
        ];
        for &(y, m, d, days) in cases {
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
            assert_eq!(year_of_day(days), y, "{days}");
        }
        // Year boundaries round-trip.
        for y in 1960..2200 {
            let first = days_from_civil(y, 1, 1);
            assert_eq!(year_of_day(first), y);
            assert_eq!(year_of_day(first - 1), y - 1);
        }
    }

    #[test]
    fn backoff_grows_and_caps() {
        let cfg = RetryConfig::default();
        // unit_random 0.5: no jitter.
        let cases: &[(u32, u64)] = &[
            (0, 1000),
            (1, 1000),
            (2, 1500),
            (3, 2250),
            (4, 3375),
            (5, 5000),
            (6, 5000),
            (100, 5000),
            (u32::MAX, 5000),
        ];
        for &(attempt, expected) in cases {
            assert_eq!(backoff_millis(attempt, &cfg, 0.5), expected, "{attempt}");
        }
        let custom = RetryConfig {
            initial_backoff_millis: 100,
            max_backoff_millis: 60_000,
            ..RetryConfig::default()
        };
        assert_eq!(backoff_millis(3, &custom, 0.5), 225);
        let zero = RetryConfig {
            initial_backoff_millis: 0,
            ..cfg
        };
        assert_eq!(backoff_millis(3, &zero, 0.9), 0);
        // initial above max: the cap wins.
        let inverted = RetryConfig {
            initial_backoff_millis: 9000,
            ..cfg
        };
        assert_eq!(backoff_millis(1, &inverted, 0.5), 5000);
    }

    #[test]
    fn backoff_jitter_bounds() {
        let cfg = RetryConfig::default();
        let cases: &[(f64, u64)] = &[
            (0.0, 800),
            (0.25, 900),
            (0.5, 1000),
            (0.75, 1100),
            (0.999_999, 1200),
            // Out of range: clamped; NaN: no jitter.
            (-3.0, 800),
            (7.0, 1200),
            (f64::NAN, 1000),
            (f64::INFINITY, 1200),
        ];
        for &(u, expected) in cases {
            assert_eq!(backoff_millis(1, &cfg, u), expected, "{u}");
        }
        for attempt in 1..=8 {
            let mid = backoff_millis(attempt, &cfg, 0.5) as f64;
            for i in 0..100 {
                let d = backoff_millis(attempt, &cfg, i as f64 / 100.0) as f64;
                assert!(
                    d >= (mid * 0.8).floor() && d <= (mid * 1.2).ceil(),
                    "{attempt} {d}"
                );
            }
        }
    }

    #[test]
    fn rollbar_statuses_retry_every_5xx_and_pause_on_429() {
        let cfg = RetryConfig {
            statuses: RetryStatuses::Rollbar,
            ..RetryConfig::default()
        };
        for status in [0, 500, 501, 502, 503, 504, 599] {
            assert!(
                matches!(
                    classify(status, None, 1, NOW_MS, &cfg, 0.5),
                    ExportOutcome::Retry { .. }
                ),
                "{status}"
            );
        }
        for status in [400, 401, 403, 404, 413, 422] {
            assert_eq!(
                classify(status, None, 1, NOW_MS, &cfg, 0.5),
                ExportOutcome::Failed(FailReason::NotRetryable(status))
            );
        }
        assert_eq!(
            classify(429, None, 1, NOW_MS, &cfg, 0.5),
            ExportOutcome::Failed(FailReason::RateLimited {
                pause_millis: DEFAULT_RATE_LIMIT_PAUSE_MILLIS
            })
        );
        assert_eq!(
            classify(429, Some("7"), 1, NOW_MS, &cfg, 0.5),
            ExportOutcome::Failed(FailReason::RateLimited { pause_millis: 7000 })
        );
        // The OTLP policy is unchanged: 500 is final, 429 is retried.
        let otlp = RetryConfig::default();
        assert_eq!(
            classify(500, None, 1, NOW_MS, &otlp, 0.5),
            ExportOutcome::Failed(FailReason::NotRetryable(500))
        );
        assert_eq!(
            classify(429, Some("7"), 1, NOW_MS, &otlp, 0.5),
            ExportOutcome::Retry { delay_millis: 7000 }
        );
    }
}
