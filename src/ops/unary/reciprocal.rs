//! 1 / x
use super::{Unary, UnaryGrad};

pub const DEF: Unary = Unary {
    name: "reciprocal",
    params: 0,
    f32: |x, _, _| 1.0 / x,
    wgsl: "1.0 / x",
    i32: None,
    grad: Some(|g: &UnaryGrad| -(&g.dy * &g.y * &g.y)),
};
