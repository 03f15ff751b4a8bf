//! a - b
use super::{Binary, BinaryGrad};

pub const DEF: Binary = Binary {
    name: "sub",
    f32: |a, b| a - b,
    wgsl: "a - b",
    i32: Some((i32::wrapping_sub, "a - b")),
    grad: Some(|g: &BinaryGrad| (g.dy.clone(), -&g.dy)),
};
