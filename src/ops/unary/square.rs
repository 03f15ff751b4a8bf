//! x * x
use super::{Unary, UnaryGrad};

pub const DEF: Unary = Unary {
    name: "square",
    params: 0,
    f32: |x, _, _| x * x,
    wgsl: "x * x",
    i32: Some((|x, _, _| x.wrapping_mul(x), "x * x")),
    grad: Some(|g: &UnaryGrad| &g.dy * (&g.x * 2.0)),
};
