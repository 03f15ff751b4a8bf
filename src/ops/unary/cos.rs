//! cos x
use super::{Unary, UnaryGrad};
use crate::fusion::sin;

pub const DEF: Unary = Unary {
    name: "cos",
    params: 0,
    f32: |x, _, _| x.cos(),
    wgsl: "cos(x)",
    i32: None,
    grad: Some(|g: &UnaryGrad| -(&g.dy * sin(&g.x))),
};
