//! e^x
use super::{Unary, UnaryGrad};

pub const DEF: Unary = Unary {
    name: "exp",
    params: 0,
    f32: |x, _, _| super::exp_f32(x),
    wgsl: "exp(x)",
    i32: None,
    grad: Some(|g: &UnaryGrad| &g.dy * &g.y),
};
