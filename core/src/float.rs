//! The few `f64` operations the engine needs that `core` lacks without `std` (`trunc`,
//! `round`, `fract`, `powi` are the standard library's), written for the ranges used here.
//! `libm` has them all, but its `pow` alone is larger than these four.

/// 2^53: below it every integer is exactly representable, at and above it every finite double
/// is an integer.
pub const EXACT_INT: f64 = 9_007_199_254_740_992.0;

/// `v` as an integer when it is one and below 2^53 in magnitude (so it prints exactly).
pub fn exact_int(v: f64) -> Option<i64> {
    // NaN and infinities fail the first test.
    (v.abs() < EXACT_INT && v == (v as i64) as f64).then_some(v as i64)
}

/// Whether `v` is a finite integer (for finite `v`, `v.fract() == 0.0`).
pub fn is_integral(v: f64) -> bool {
    v.is_finite() && (v.abs() >= EXACT_INT || exact_int(v).is_some())
}

/// `v.round()` (halves away from zero) for `0 <= v < 2^53`.
pub fn round_non_negative(v: f64) -> f64 {
    let whole = (v as u64) as f64;
    // `v - whole` is exact in this range.
    if v - whole >= 0.5 { whole + 1.0 } else { whole }
}

/// `base.powi(exp)` by repeated squaring.
pub fn powi(base: f64, exp: u32) -> f64 {
    let (mut result, mut square, mut e) = (1.0, base, exp);
    while e > 0 {
        if e & 1 == 1 {
            result *= square;
        }
        square *= square;
        e >>= 1;
    }
    result
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn the_same_as_the_standard_library_where_used() {
        for v in [
            0.0,
            -0.0,
            1.0,
            -7.0,
            2.5,
            -2.5,
            1e15,
            9e15,
            1e300,
            f64::NAN,
            f64::INFINITY,
        ] {
            assert_eq!(is_integral(v), v.is_finite() && v.fract() == 0.0, "{v}");
            let exact = v.is_finite() && v.fract() == 0.0 && v.abs() < EXACT_INT;
            assert_eq!(exact_int(v), exact.then_some(v as i64), "{v}");
        }
        for v in [0.0, 0.49999999999999994, 0.5, 1.5, 2.5, 123_456.789, 4.5e15] {
            assert_eq!(round_non_negative(v), v.round(), "{v}");
        }
        for exp in 0..=128 {
            assert_eq!(powi(1.5, exp), 1.5f64.powi(exp as i32), "1.5^{exp}");
        }
    }
}
