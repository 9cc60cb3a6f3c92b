//! Deterministic trace-id sampling with a Honeycomb-style sample rate.
//!
//! A rate of `n` keeps 1 trace in `n`. The decision depends only on the trace id, so every
//! service that sees the same trace, with the same rate, makes the same decision. Kept
//! spans carry the rate in [`SAMPLE_RATE_ATTRIBUTE`] so the backend can weight counts.
//!
//! The decision reads the trace id's right-most 56 bits: the bits that W3C Trace Context
//! Level 2 requires to be random (and that stay random in X-Ray style ids, whose first 4
//! bytes are a timestamp; see [`crate::trace::ids`]).

use crate::model::{KeyValue, TraceId};

/// Span attribute carrying the sample rate (Honeycomb's name).
pub const SAMPLE_RATE_ATTRIBUTE: &str = "SampleRate";

/// 2^56: one more than the largest value of the right-most 56 bits.
const RANDOM_SPACE: u64 = 1 << 56;

/// Keeps 1 trace in `rate`, deterministically by trace id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RatioSampler {
    rate: u32,
    /// Keep iff the right-most 56 bits are below this.
    threshold: u64,
}

impl RatioSampler {
    /// A sampler keeping 1 trace in `rate`. A rate of 1 keeps every trace; 0 is read as 1
    /// (rates below 1 are rejected by configuration before they get here).
    pub fn new(rate: u32) -> Self {
        let rate = rate.max(1);
        Self {
            rate,
            threshold: RANDOM_SPACE / u64::from(rate),
        }
    }

    /// The sample rate (1 keeps everything).
    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// Whether to keep the trace: its right-most 56 bits are below 2^56 / rate.
    pub fn should_sample(&self, trace_id: TraceId) -> bool {
        let low = u128::from_be_bytes(trace_id.to_bytes()) as u64 & (RANDOM_SPACE - 1);
        low < self.threshold
    }

    /// `SampleRate = rate`, the attribute to put on kept spans.
    pub fn attribute(&self) -> KeyValue {
        KeyValue::new(SAMPLE_RATE_ATTRIBUTE, i64::from(self.rate))
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::model::Value;
    use crate::trace::ids::{IdFormat, IdGenerator, RandomIdGenerator, XrayIdGenerator};

    fn id(v: u128) -> TraceId {
        TraceId::from(v)
    }

    #[test]
    fn threshold_vectors() {
        let low56 = RANDOM_SPACE - 1;
        let cases: &[(u32, u128, bool)] = &[
            (1, 0, true),
            (1, u128::MAX, true),
            (0, u128::MAX, true), // 0 is read as 1
            (2, 0, true),
            (2, (1 << 55) - 1, true),
            (2, 1 << 55, false),
            (2, low56 as u128, false),
            // The left-most 72 bits do not matter.
            (2, u128::MAX << 56, true),
            (2, (u128::MAX << 56) | (1 << 55), false),
            (4, (1 << 54) - 1, true),
            (4, 1 << 54, false),
            (u32::MAX, 0, true),
            (u32::MAX, (RANDOM_SPACE / u32::MAX as u64) as u128, false),
        ];
        for &(rate, v, keep) in cases {
            assert_eq!(
                RatioSampler::new(rate).should_sample(id(v)),
                keep,
                "rate {rate} id {v:032x}"
            );
        }
    }

    #[test]
    fn rate_and_attribute() {
        assert_eq!(RatioSampler::new(0).rate(), 1);
        assert_eq!(RatioSampler::new(10).rate(), 10);
        let kv = RatioSampler::new(10).attribute();
        assert_eq!(kv.key.as_str(), SAMPLE_RATE_ATTRIBUTE);
        assert_eq!(kv.value, Value::I64(10));
    }

    #[test]
    fn deterministic() {
        let mut g = RandomIdGenerator::new([5; 32]);
        let a = RatioSampler::new(7);
        let b = RatioSampler::new(7);
        for _ in 0..1000 {
            let t = g.new_trace_id(0);
            assert_eq!(a.should_sample(t), a.should_sample(t));
            assert_eq!(a.should_sample(t), b.should_sample(t));
        }
    }

    #[test]
    fn rate_one_keeps_everything() {
        let s = RatioSampler::new(1);
        let mut g = RandomIdGenerator::new([9; 32]);
        assert!((0..10_000).all(|_| s.should_sample(g.new_trace_id(0))));
    }

    /// Keeps of `n` ids from `format`, for each rate.
    fn kept(format: IdFormat, n: u32, rates: &[u32]) -> Vec<u32> {
        let samplers: Vec<_> = rates.iter().map(|&r| RatioSampler::new(r)).collect();
        let mut counts = vec![0; rates.len()];
        let (mut w3c, mut xray) = (
            RandomIdGenerator::new([11; 32]),
            XrayIdGenerator::new([11; 32]),
        );
        let mut now = 1_700_000_000_000_000_000u64;
        for _ in 0..n {
            now += 1_000_000; // 1 ms apart: X-Ray ids share their first 4 bytes often
            let t = match format {
                IdFormat::W3c => w3c.new_trace_id(now),
                IdFormat::Xray => xray.new_trace_id(now),
            };
            for (s, c) in samplers.iter().zip(&mut counts) {
                *c += u32::from(s.should_sample(t));
            }
        }
        counts
    }

    #[test]
    fn kept_fraction_matches_rate() {
        let n = 100_000u32;
        let rates = [2, 10, 100];
        for format in [IdFormat::W3c, IdFormat::Xray] {
            for (rate, kept) in rates.iter().zip(kept(format, n, &rates)) {
                // Binomial: within 4 standard deviations of n / rate.
                let p = 1.0 / *rate as f64;
                let mean = n as f64 * p;
                let sd = (n as f64 * p * (1.0 - p)).sqrt();
                assert!(
                    (kept as f64 - mean).abs() <= 4.0 * sd,
                    "{format:?} rate {rate}: kept {kept} of {n}, expected {mean} ± {}",
                    4.0 * sd
                );
            }
        }
    }
}
