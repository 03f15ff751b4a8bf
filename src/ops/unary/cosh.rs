//! cosh x (TF.js `cosh`).
use super::{Unary, UnaryGrad};

pub const DEF: Unary = Unary {
    name: "cosh",
    params: 0,
    f32: |x, _, _| x.cosh(),
    wgsl: "cosh(x)",
    i32: None,
    grad: Some(|g: &UnaryGrad| &g.dy * g.x.apply(super::UnaryOp::Sinh)),
};
