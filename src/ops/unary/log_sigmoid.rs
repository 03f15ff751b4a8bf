//! log(sigmoid(x)) without overflow: min(x, 0) - log(1 + e^-|x|) (TF.js `logSigmoid`).
use super::{Unary, UnaryGrad};
use crate::fusion::sigmoid;

pub const DEF: Unary = Unary {
    name: "log_sigmoid",
    params: 0,
    f32: |x, _, _| x.min(0.0) - (-x.abs()).exp().ln_1p(),
    wgsl: "min(x, 0.0) - log(1.0 + exp(-abs(x)))",
    i32: None,
    // d/dx log(sigmoid(x)) = 1 - sigmoid(x) = sigmoid(-x)
    grad: Some(|g: &UnaryGrad| &g.dy * sigmoid(-&g.x)),
};
