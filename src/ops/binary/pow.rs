//! a^b with IEEE semantics where WGSL's pow is undefined: negative bases with integral exponents,
//! and x^0 = 1 (`pow_ieee` in shaders/common.wgsl is the same rule).
use super::{Binary, BinaryGrad};
use crate::fusion::{log, select};

pub fn pow_ieee(a: f32, b: f32) -> f32 {
    if b == 0.0 {
        1.0
    } else if a < 0.0 {
        if b.fract() != 0.0 {
            f32::NAN
        } else {
            let r = (-a).powf(b);
            if (b * 0.5).fract() != 0.0 {
                -r
            } else {
                r
            }
        }
    } else {
        a.powf(b)
    }
}

/// a^b on int32 as TF.js computes it (a float power stored in an Int32Array): exact powers
/// wrap around 2^32, and a negative exponent truncates to 0 except for bases of 1 and -1.
/// `pow_i32` in shaders/common.wgsl is the same rule.
pub fn pow_i32(a: i32, b: i32) -> i32 {
    if b < 0 {
        return match a {
            1 => 1,
            -1 => if b % 2 == 0 { 1 } else { -1 },
            _ => 0,
        };
    }
    a.wrapping_pow(b as u32)
}

pub const DEF: Binary = Binary {
    name: "pow",
    f32: pow_ieee,
    wgsl: "pow_ieee(a, b)",
    i32: Some((pow_i32, "pow_i32(a, b)")),
    grad: Some(|g: &BinaryGrad| {
        let (a, b) = (&g.a, &g.b);
        let da = &g.dy * b * (a.clone()).binary(super::BinaryOp::Pow, &(b - 1.0));
        // d/db a^b = a^b ln a, taken as 0 where a <= 0 (as TF.js does)
        let positive = a.gt(0.0);
        let safe_log = select(&positive, log(select(&positive, a, 1.0)), 0.0);
        (da, &g.dy * &g.y * safe_log)
    }),
};
