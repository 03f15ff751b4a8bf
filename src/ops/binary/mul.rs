//! a * b
use super::{Binary, BinaryGrad};

pub const DEF: Binary = Binary {
    name: "mul",
    f32: |a, b| a * b,
    wgsl: "a * b",
    i32: Some((i32::wrapping_mul, "a * b")),
    grad: Some(|g: &BinaryGrad| (&g.dy * &g.b, &g.dy * &g.a)),
};
