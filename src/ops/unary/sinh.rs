//! sinh x (TF.js `sinh`).
use super::{Unary, UnaryGrad};

pub const DEF: Unary = Unary {
    name: "sinh",
    params: 0,
    f32: |x, _, _| x.sinh(),
    wgsl: "sinh(x)",
    i32: None,
    grad: Some(|g: &UnaryGrad| &g.dy * g.x.apply(super::UnaryOp::Cosh)),
};
