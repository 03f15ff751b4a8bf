//! 1 / x; on int32 the quotient truncated toward zero, 1 / 0 giving 0 (TF.js stores
//! Infinity into its Int32Array as 0).
use super::{Unary, UnaryGrad};

pub const DEF: Unary = Unary {
    name: "reciprocal",
    params: 0,
    f32: |x, _, _| 1.0 / x,
    wgsl: "1.0 / x",
    i32: Some((|x, _, _| if x == 1 || x == -1 { x } else { 0 }, "select(0, x, x == 1 || x == -1)")),
    grad: Some(|g: &UnaryGrad| -(&g.dy * &g.y * &g.y)),
};
