//! 1 / (1 + e^-x)
use super::{Unary, UnaryGrad};

pub const DEF: Unary = Unary {
    name: "sigmoid",
    params: 0,
    f32: |x, _, _| 1.0 / (1.0 + (-x).exp()),
    wgsl: "1.0 / (1.0 + exp(-x))",
    i32: None,
    grad: Some(|g: &UnaryGrad| &g.dy * &g.y * (1.0 - &g.y)),
};
