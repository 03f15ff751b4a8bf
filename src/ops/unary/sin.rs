//! sin x
use super::{Unary, UnaryGrad};
use crate::fusion::cos;

pub const DEF: Unary = Unary {
    name: "sin",
    params: 0,
    f32: |x, _, _| x.sin(),
    wgsl: "sin(x)",
    i32: None,
    grad: Some(|g: &UnaryGrad| &g.dy * cos(&g.x)),
};
