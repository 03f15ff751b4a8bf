//! e^x (and tanh from it) in straight-line float arithmetic, for the CPU backend's elementwise loops: a libm call
//! per element can be neither inlined nor vectorised (in wasm, `f32::exp` is a call into a
//! software expf), while this compiles to a few SIMD instructions per 4 elements. Cephes' expf
//! scheme: x = n ln2 + r with |r| <= ln2 / 2, e^r = 1 + r + r^2 P(r) (degree-5 minimax P), times
//! 2^n built in the exponent bits, in two halves so that n = 128 (overflow to inf) and the
//! subnormal range come out right. Within 2 ulp of e^x; NaN stays NaN; e^x overflows to inf past
//! 88.72 and underflows to 0 below -103.97, as expf does.

const LOG2E: f32 = std::f32::consts::LOG2_E;
/// ln 2 split in two (the first exact in few bits), so n * ln2 subtracts without rounding.
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
const P: [f32; 6] = [1.987_569_1e-4, 1.398_199_9e-3, 8.333_452e-3, 4.166_579_6e-2, 0.166_666_65, 0.500_000_01];

#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    let x = x.clamp(-104.0, 88.8);
    let n = (x * LOG2E).round_ties_even();
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = ((((P[0] * r + P[1]) * r + P[2]) * r + P[3]) * r + P[4]) * r + P[5];
    let e = 1.0 + r + r * r * p;
    let n = n as i32;
    let half = n >> 1;
    let pow2 = |k: i32| f32::from_bits(((k + 127) as u32) << 23);
    e * pow2(half) * pow2(n - half)
}

/// tanh(x) from the same exp: 1 - 2 / (e^2|x| + 1) with x's sign, and below |x| = 0.3 (where
/// that subtraction would cancel) its odd Taylor series to x^11 (error < 1e-7 relative there).
/// Within 4 ulp of libm's tanh; NaN stays NaN.
#[inline(always)]
pub fn tanh_f32(x: f32) -> f32 {
    let a = x.abs();
    let z = x * x;
    let series = x * (1.0 + z * (-1.0 / 3.0 + z * (2.0 / 15.0 + z * (-17.0 / 315.0 + z * (62.0 / 2835.0 + z * (-1382.0 / 155_925.0))))));
    // tanh(10) rounds to 1 in float32; clamp (unlike min) keeps a NaN.
    let e = exp_f32(2.0 * a.clamp(0.0, 10.0));
    let large = (1.0 - 2.0 / (e + 1.0)).copysign(x);
    if a < 0.3 {
        series
    } else {
        large
    }
}

/// max(a, b), NaN if either is NaN, +0 over -0: in comparisons and selects, which vectorise,
/// where `f32::max` is a call to libm's fmaxf in wasm (and drops NaNs).
#[inline(always)]
pub fn max_f32(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else if a > b {
        a
    } else if b > a {
        b
    } else {
        f32::from_bits(a.to_bits() & b.to_bits()) // equal: -0 only if both are -0
    }
}

/// min(a, b) as `max_f32`: NaN if either is NaN, -0 under +0.
#[inline(always)]
pub fn min_f32(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else if a < b {
        a
    } else if b < a {
        b
    } else {
        f32::from_bits(a.to_bits() | b.to_bits()) // equal: -0 if either is -0
    }
}

#[cfg(test)]
mod tests {
    use super::{exp_f32, max_f32, min_f32, tanh_f32};

    /// Against the IEEE rules (NaN in, NaN out; -0 < +0) on every pairing of special values.
    #[test]
    fn max_and_min_order_zeros_and_keep_nans() {
        let v = [f32::NEG_INFINITY, -2.5, -0.0, 0.0, 1e-45, 3.0, f32::INFINITY, f32::NAN];
        for &a in &v {
            for &b in &v {
                let (mx, mn) = (max_f32(a, b), min_f32(a, b));
                if a.is_nan() || b.is_nan() {
                    assert!(mx.is_nan() && mn.is_nan(), "{a} {b}");
                    continue;
                }
                let key = |x: f32| (x, x.is_sign_positive());
                let (hi, lo) = if key(a).partial_cmp(&key(b)) == Some(std::cmp::Ordering::Less) { (b, a) } else { (a, b) };
                assert_eq!((mx.to_bits(), mn.to_bits()), (hi.to_bits(), lo.to_bits()), "max/min of {a} and {b}");
            }
        }
    }

    #[test]
    fn tanh_within_four_ulp_of_libm() {
        let mut worst = 0u32;
        let mut x = -12.0f32;
        while x < 12.0 {
            let (got, want) = (tanh_f32(x), x.tanh());
            worst = worst.max((got.to_bits() as i64 - want.to_bits() as i64).unsigned_abs() as u32);
            x += 0.000_731;
        }
        assert!(worst <= 4, "{worst} ulp");
        assert_eq!(tanh_f32(0.0), 0.0);
        assert_eq!(tanh_f32(1e-30), 1e-30);
        assert_eq!(tanh_f32(f32::INFINITY), 1.0);
        assert_eq!(tanh_f32(f32::NEG_INFINITY), -1.0);
        assert!(tanh_f32(f32::NAN).is_nan());
    }

    #[test]
    fn within_two_ulp_of_libm_over_the_range() {
        let mut worst = 0u32;
        let mut x = -103.0f32;
        while x < 88.7 {
            let (got, want) = (exp_f32(x), x.exp());
            let ulp = (got.to_bits() as i64 - want.to_bits() as i64).unsigned_abs() as u32;
            worst = worst.max(ulp);
            x += 0.001_37;
        }
        assert!(worst <= 2, "{worst} ulp");
        assert_eq!(exp_f32(0.0), 1.0);
        assert_eq!(exp_f32(89.0), f32::INFINITY);
        assert_eq!(exp_f32(f32::INFINITY), f32::INFINITY);
        assert_eq!(exp_f32(-200.0), 0.0);
        assert_eq!(exp_f32(f32::NEG_INFINITY), 0.0);
        assert!(exp_f32(f32::NAN).is_nan());
        assert!(exp_f32(-100.0) > 0.0 && (exp_f32(-100.0) / (-100.0f32).exp() - 1.0).abs() < 1e-3, "subnormal");
    }
}
