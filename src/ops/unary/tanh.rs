//! tanh; the input is clamped to +-20 (where tanh is +-1 in f32) so exp-based implementations
//! never divide inf by inf.
use super::{Unary, UnaryGrad};

pub const DEF: Unary = Unary {
    name: "tanh",
    params: 0,
    f32: |x, _, _| super::tanh_f32(x),
    wgsl: "tanh(clamp(x, -20.0, 20.0))",
    i32: None,
    grad: Some(|g: &UnaryGrad| &g.dy * (1.0 - &g.y * &g.y)),
};
