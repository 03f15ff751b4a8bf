//! Rounds to the nearest IEEE binary16 (half) value, kept in float32: ties to even, magnitudes
//! from 65520 up to infinity, below 2^-14 to the subnormal grid of 2^-24. What a cast to float16
//! and back does (ONNX Cast to FLOAT16: half-precision models are computed in float32 with their
//! stored values rounded as the model says). The gradient passes straight through, as a cast's.
use super::{Unary, UnaryGrad};

pub const DEF: Unary = Unary {
    name: "round_f16",
    params: 0,
    f32: |x, _, _| crate::dtype::round_half(x),
    wgsl: "round_to_f16(x)",
    i32: None,
    grad: Some(|g: &UnaryGrad| g.dy.clone()),
};
