//! acosh x, NaN below 1 (WGSL leaves it undefined there) (TF.js `acosh`).
use super::{Unary, UnaryGrad};
use crate::fusion::sqrt;

pub const DEF: Unary = Unary {
    name: "acosh",
    params: 0,
    f32: |x, _, _| x.acosh(),
    wgsl: "select(log(x + sqrt(x * x - 1.0)), f32_nan(), x < 1.0)",
    i32: None,
    grad: Some(|g: &UnaryGrad| &g.dy / sqrt(&g.x * &g.x - 1.0)),
};
