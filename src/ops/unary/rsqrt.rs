//! 1 / sqrt(x); inf at 0 and NaN below (WGSL leaves both undefined).
use super::{Unary, UnaryGrad};

pub const DEF: Unary = Unary {
    name: "rsqrt",
    params: 0,
    f32: |x, _, _| 1.0 / x.sqrt(),
    wgsl: "select(select(1.0 / sqrt(x), f32_nan(), x < 0.0), f32_inf(), x == 0.0)",
    i32: None,
    grad: Some(|g: &UnaryGrad| &g.dy * (&g.y * &g.y * &g.y) * -0.5),
};
