//! log(1 + e^x) without overflow: max(x, 0) + log(1 + e^-|x|).
use super::{Unary, UnaryGrad};
use crate::fusion::sigmoid;

pub const DEF: Unary = Unary {
    name: "softplus",
    params: 0,
    f32: |x, _, _| x.max(0.0) + (1.0 + (-x.abs()).exp()).ln(),
    wgsl: "max(x, 0.0) + log(1.0 + exp(-abs(x)))",
    i32: None,
    grad: Some(|g: &UnaryGrad| &g.dy * sigmoid(&g.x)),
};
