//! Square root; NaN below 0 (WGSL leaves it undefined).
use super::{Unary, UnaryGrad};

pub const DEF: Unary = Unary {
    name: "sqrt",
    params: 0,
    f32: |x, _, _| x.sqrt(),
    wgsl: "select(sqrt(x), f32_nan(), x < 0.0)",
    i32: None,
    grad: Some(|g: &UnaryGrad| &g.dy / (&g.y * 2.0)),
};
