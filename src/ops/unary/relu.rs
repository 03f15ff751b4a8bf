//! max(x, 0), NaN staying NaN (as TF.js); the gradient passes where x > 0.
use super::{Unary, UnaryGrad};
use crate::fusion::select;

pub const DEF: Unary = Unary {
    name: "relu",
    params: 0,
    // (not f32::max: a libm call in wasm, and it leaves the sign of a zero open)
    f32: |x, _, _| if x > 0.0 || x.is_nan() { x } else { 0.0 },
    // (is_nan tests bits: compilers may fold an IEEE comparison with NaN away)
    wgsl: "select(0.0, x, x > 0.0 || is_nan(x))",
    i32: Some((|x, _, _| x.max(0), "max(x, 0)")),
    grad: Some(|g: &UnaryGrad| select(&g.x.gt(0.0), &g.dy, 0.0)),
};
