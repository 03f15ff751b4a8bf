//! GELU with the tanh approximation (GPT-2, BERT's `gelu_new`, PyTorch `approximate="tanh"`, ONNX
//! Gelu with approximate="tanh"): 0.5 x (1 + tanh(z)), z = sqrt(2/pi) (x + 0.044715 x^3). Computed
//! as x sigmoid(2z), the same value, which cannot overflow the way tanh's exponentials do.
use super::{Unary, UnaryGrad};
use crate::fusion::sigmoid;

/// sqrt(2 / pi)
const K: f32 = 0.797_884_6;
const C: f32 = 0.044_715;

pub const DEF: Unary = Unary {
    name: "gelu_tanh",
    params: 0,
    f32: |x, _, _| x / (1.0 + super::exp_f32(-2.0 * K * (x + C * x * x * x))),
    wgsl: "x / (1.0 + exp(-1.5957691 * (x + 0.044715 * x * x * x)))",
    i32: None,
    // With s = sigmoid(2z): d/dx x s = s + x s (1 - s) 2K (1 + 3C x^2).
    grad: Some(|g: &UnaryGrad| {
        let x = &g.x;
        let s = sigmoid((x + x * x * x * C) * (2.0 * K));
        &g.dy * (&s + x * &s * (1.0 - &s) * (x * x * (3.0 * C) + 1.0) * (2.0 * K))
    }),
};
