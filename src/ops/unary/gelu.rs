//! Exact GELU (TF.js `gelu`): x Phi(x), with Phi(x) = (1 + erf(x / sqrt 2)) / 2 the standard
//! normal CDF.
use super::{erf_f32, Unary, UnaryGrad};
use crate::fusion::{erf, exp};
use std::f32::consts::FRAC_1_SQRT_2;

/// 1 / sqrt(2 pi): the standard normal density at 0.
const INV_SQRT_2PI: f32 = 0.398_942_3;

pub const DEF: Unary = Unary {
    name: "gelu",
    params: 0,
    f32: |x, _, _| 0.5 * x * (1.0 + erf_f32(x * FRAC_1_SQRT_2)),
    wgsl: "0.5 * x * (1.0 + erf_approx(x * 0.70710678))",
    i32: None,
    // d/dx x Phi(x) = Phi(x) + x phi(x), phi the normal density
    grad: Some(|g: &UnaryGrad| {
        let x = &g.x;
        let cdf = (1.0 + erf(x * FRAC_1_SQRT_2)) * 0.5;
        let pdf = exp(x * x * -0.5) * INV_SQRT_2PI;
        &g.dy * (cdf + x * pdf)
    }),
};
