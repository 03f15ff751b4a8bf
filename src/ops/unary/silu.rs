//! x sigmoid(x) (SiLU; Keras and TF.js call it swish): the gate of LLaMA's SwiGLU MLP,
//! silu(x W1) * (x W3), which fuses into one kernel with the product.
use super::{Unary, UnaryGrad};
use crate::fusion::sigmoid;

pub const DEF: Unary = Unary {
    name: "silu",
    params: 0,
    f32: |x, _, _| x / (1.0 + super::exp_f32(-x)),
    wgsl: "x / (1.0 + exp(-x))",
    i32: None,
    // d/dx x s(x) = s + x s (1 - s)
    grad: Some(|g: &UnaryGrad| {
        let s = sigmoid(g.x.clone());
        &g.dy * (&s + &g.x * &s * (1.0 - &s))
    }),
};
