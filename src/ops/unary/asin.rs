//! asin x, NaN outside [-1, 1] (WGSL leaves it undefined there) (TF.js `asin`).
use super::{Unary, UnaryGrad};
use crate::fusion::sqrt;

pub const DEF: Unary = Unary {
    name: "asin",
    params: 0,
    f32: |x, _, _| x.asin(),
    wgsl: "select(asin(x), f32_nan(), abs(x) > 1.0)",
    i32: None,
    grad: Some(|g: &UnaryGrad| &g.dy / sqrt(1.0 - &g.x * &g.x)),
};
