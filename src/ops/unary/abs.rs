//! |x|; the gradient at 0 is 0 (sign(0)), as TF.js.
use super::{Unary, UnaryGrad};
use crate::fusion::sign;

pub const DEF: Unary = Unary {
    name: "abs",
    params: 0,
    f32: |x, _, _| x.abs(),
    wgsl: "abs(x)",
    i32: Some((|x, _, _| x.wrapping_abs(), "abs(x)")),
    grad: Some(|g: &UnaryGrad| &g.dy * sign(&g.x)),
};
