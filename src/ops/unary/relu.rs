//! max(x, 0); the gradient passes where x > 0.
use super::{Unary, UnaryGrad};
use crate::fusion::select;

pub const DEF: Unary = Unary {
    name: "relu",
    params: 0,
    // (not f32::max: a libm call in wasm, and it leaves the sign of a zero open)
    f32: |x, _, _| if x > 0.0 { x } else { 0.0 },
    wgsl: "max(x, 0.0)",
    i32: Some((|x| x.max(0), "max(x, 0)")),
    grad: Some(|g: &UnaryGrad| select(&g.x.gt(0.0), &g.dy, 0.0)),
};
