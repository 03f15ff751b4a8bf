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

pub const DEF: Binary = Binary {
    name: "pow",
    f32: pow_ieee,
    wgsl: "pow_ieee(a, b)",
    i32: None,
    grad: Some(|g: &BinaryGrad| {
        let (a, b) = (&g.a, &g.b);
        let da = &g.dy * b * (a.clone()).binary(super::BinaryOp::Pow, &(b - 1.0));
        // d/db a^b = a^b ln a, taken as 0 where a <= 0 (as TF.js does)
        let positive = a.gt(0.0);
        let safe_log = select(&positive, log(select(&positive, a, 1.0)), 0.0);
        (da, &g.dy * &g.y * safe_log)
    }),
};
