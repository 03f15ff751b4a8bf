//! acos x, NaN outside [-1, 1] (WGSL leaves it undefined there) (TF.js `acos`).
use super::{Unary, UnaryGrad};
use crate::fusion::sqrt;

pub const DEF: Unary = Unary {
    name: "acos",
    params: 0,
    f32: |x, _, _| x.acos(),
    wgsl: "select(acos(x), f32_nan(), abs(x) > 1.0)",
    i32: None,
    grad: Some(|g: &UnaryGrad| -(&g.dy / sqrt(1.0 - &g.x * &g.x))),
};
