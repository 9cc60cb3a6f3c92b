//! Trace and span id generation.
//!
//! Ids come from an [`IdGenerator`]. [`RandomIdGenerator`] satisfies the W3C Trace Context
//! Level 2 rule for the `random` trace flag (at least the right-most 7 bytes of the trace id
//! are random); [`XrayIdGenerator`] puts the epoch seconds in the first 4 bytes, as AWS X-Ray
//! requires, and keeps the remaining 12 random. Randomness is a xoshiro256++ generator seeded
//! once from the platform's CSPRNG by the caller (in the browser, `crypto.getRandomValues`):
//! calling the CSPRNG for every span would cross the JS boundary on the hot path.

use crate::model::{SpanId, TraceId};

/// Makes trace and span ids. Implementations must never return the all-zero (invalid) ids.
pub trait IdGenerator {
    /// A new trace id; `now_unix_nanos` is there for time-based formats.
    fn new_trace_id(&mut self, now_unix_nanos: u64) -> TraceId;
    /// A new span id.
    fn new_span_id(&mut self) -> SpanId;
}

/// Which id format a tracer uses (the `idGenerator` option).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IdFormat {
    /// 16 random bytes (W3C).
    #[default]
    W3c,
    /// 4 bytes of epoch seconds then 12 random bytes (AWS X-Ray compatible).
    Xray,
}

/// xoshiro256++: small, fast, good statistical quality; not a CSPRNG, seeded from one.
#[derive(Clone, Debug)]
pub struct Xoshiro256 {
    s: [u64; 4],
}

impl Xoshiro256 {
    /// Seeds the generator from 32 bytes (expanded with SplitMix64 so any seed, even zero,
    /// gives a usable state).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let mut s = [0u64; 4];
        let mut sm = 0x9E37_79B9_7F4A_7C15u64;
        for (i, chunk) in seed.chunks_exact(8).enumerate() {
            let mut w = [0u8; 8];
            w.copy_from_slice(chunk);
            sm ^= u64::from_le_bytes(w);
            s[i] = splitmix64(&mut sm);
        }
        Self { s }
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    fn next_nonzero_u64(&mut self) -> u64 {
        loop {
            let v = self.next_u64();
            if v != 0 {
                return v;
            }
        }
    }
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// W3C random ids.
#[derive(Clone, Debug)]
pub struct RandomIdGenerator {
    rng: Xoshiro256,
}

impl RandomIdGenerator {
    /// A generator seeded from 32 bytes of CSPRNG output.
    pub fn new(seed: [u8; 32]) -> Self {
        Self {
            rng: Xoshiro256::from_seed(seed),
        }
    }
}

impl IdGenerator for RandomIdGenerator {
    fn new_trace_id(&mut self, _now: u64) -> TraceId {
        let hi = self.rng.next_u64() as u128;
        let lo = self.rng.next_nonzero_u64() as u128;
        TraceId::from(hi << 64 | lo)
    }
    fn new_span_id(&mut self) -> SpanId {
        SpanId::from(self.rng.next_nonzero_u64())
    }
}

/// AWS X-Ray compatible ids: the first 4 bytes of the trace id are the epoch seconds.
#[derive(Clone, Debug)]
pub struct XrayIdGenerator {
    rng: Xoshiro256,
}

impl XrayIdGenerator {
    /// A generator seeded from 32 bytes of CSPRNG output.
    pub fn new(seed: [u8; 32]) -> Self {
        Self {
            rng: Xoshiro256::from_seed(seed),
        }
    }
}

impl IdGenerator for XrayIdGenerator {
    fn new_trace_id(&mut self, now_unix_nanos: u64) -> TraceId {
        let secs = (now_unix_nanos / 1_000_000_000) as u32 as u128;
        let mid = (self.rng.next_u64() & 0xFFFF_FFFF) as u128;
        let lo = self.rng.next_nonzero_u64() as u128;
        TraceId::from(secs << 96 | mid << 64 | lo)
    }
    fn new_span_id(&mut self) -> SpanId {
        SpanId::from(self.rng.next_nonzero_u64())
    }
}

/// The generator selected by [`IdFormat`].
#[derive(Clone, Debug)]
pub enum AnyIdGenerator {
    /// See [`RandomIdGenerator`].
    Random(RandomIdGenerator),
    /// See [`XrayIdGenerator`].
    Xray(XrayIdGenerator),
}

impl AnyIdGenerator {
    /// Builds the generator for `format`.
    pub fn new(format: IdFormat, seed: [u8; 32]) -> Self {
        match format {
            IdFormat::W3c => Self::Random(RandomIdGenerator::new(seed)),
            IdFormat::Xray => Self::Xray(XrayIdGenerator::new(seed)),
        }
    }
}

impl IdGenerator for AnyIdGenerator {
    fn new_trace_id(&mut self, now: u64) -> TraceId {
        match self {
            Self::Random(g) => g.new_trace_id(now),
            Self::Xray(g) => g.new_trace_id(now),
        }
    }
    fn new_span_id(&mut self) -> SpanId {
        match self {
            Self::Random(g) => g.new_span_id(),
            Self::Xray(g) => g.new_span_id(),
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use std::collections::HashSet;

    #[test]
    fn random_ids_are_valid_and_distinct() {
        let mut g = RandomIdGenerator::new([0; 32]);
        let mut seen = HashSet::new();
        for _ in 0..10_000 {
            let t = g.new_trace_id(0);
            let s = g.new_span_id();
            assert_ne!(t, TraceId::INVALID);
            assert_ne!(s, SpanId::INVALID);
            assert!(seen.insert(t));
        }
    }

    #[test]
    fn different_seeds_give_different_streams() {
        let mut a = RandomIdGenerator::new([1; 32]);
        let mut b = RandomIdGenerator::new([2; 32]);
        assert_ne!(a.new_trace_id(0), b.new_trace_id(0));
    }

    #[test]
    fn random_bits_are_balanced() {
        // Every bit of the right-most 7 bytes (the W3C "random" part) is set about half the time.
        let mut g = RandomIdGenerator::new([7; 32]);
        let n = 4000;
        let mut ones = [0u32; 56];
        for _ in 0..n {
            let v = u128::from_be_bytes(g.new_trace_id(0).to_bytes());
            for (bit, count) in ones.iter_mut().enumerate() {
                *count += ((v >> bit) & 1) as u32;
            }
        }
        for count in ones {
            assert!(
                (1700..2300).contains(&count),
                "bit set {count} times of {n}"
            );
        }
    }

    #[test]
    fn xray_ids_start_with_epoch_seconds() {
        let mut g = XrayIdGenerator::new([3; 32]);
        let now = 1_700_000_123_999_999_999u64;
        let bytes = g.new_trace_id(now).to_bytes();
        assert_eq!(
            u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]),
            1_700_000_123
        );
        let other = g.new_trace_id(now).to_bytes();
        assert_eq!(bytes[..4], other[..4]);
        assert_ne!(bytes[4..], other[4..]);
    }
}
