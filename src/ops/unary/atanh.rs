//! atanh x: +-inf at +-1, NaN beyond (WGSL leaves both undefined) (TF.js `atanh`).
use super::{Unary, UnaryGrad};

pub const DEF: Unary = Unary {
    name: "atanh",
    params: 0,
    f32: |x, _, _| x.atanh(),
    wgsl: "select(select(0.5 * log((1.0 + x) / (1.0 - x)), sign(x) * f32_inf(), abs(x) == 1.0), f32_nan(), abs(x) > 1.0)",
    i32: None,
    grad: Some(|g: &UnaryGrad| &g.dy / (1.0 - &g.x * &g.x)),
};
