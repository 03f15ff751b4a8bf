//! 1 / (1 + e^-x), NaN staying NaN
use super::{Unary, UnaryGrad};

pub const DEF: Unary = Unary {
    name: "sigmoid",
    params: 0,
    f32: |x, _, _| 1.0 / (1.0 + super::exp_f32(-x)),
    // NaN stays NaN (SwiftShader's exp(NaN) is not NaN)
    wgsl: "select(1.0 / (1.0 + exp(-x)), x, is_nan(x))",
    i32: None,
    grad: Some(|g: &UnaryGrad| &g.dy * &g.y * (1.0 - &g.y)),
};
