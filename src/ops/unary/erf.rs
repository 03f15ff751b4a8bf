//! The error function, by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7; WGSL has no erf): the
//! same formula as `erf_approx` in shaders/common.wgsl.
use super::{Unary, UnaryGrad};
use crate::fusion::exp;

pub fn erf_f32(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.3275911 * a);
    let y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * super::exp_f32(-a * a);
    // erf(+-0) = +-0, NaN stays NaN; straight-line selects, so the CPU loop vectorises.
    if x == 0.0 || x.is_nan() {
        x
    } else {
        y.copysign(x)
    }
}

pub const DEF: Unary = Unary {
    name: "erf",
    params: 0,
    f32: |x, _, _| erf_f32(x),
    wgsl: "erf_approx(x)",
    i32: None,
    // d/dx erf(x) = 2 / sqrt(pi) e^(-x^2)
    grad: Some(|g: &UnaryGrad| &g.dy * exp(-(&g.x * &g.x)) * std::f32::consts::FRAC_2_SQRT_PI),
};
