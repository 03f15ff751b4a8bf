//! (a - b)^2
use super::{Binary, BinaryGrad};

pub const DEF: Binary = Binary {
    name: "squared_difference",
    f32: |a, b| (a - b) * (a - b),
    wgsl: "(a - b) * (a - b)",
    i32: Some((|a, b| a.wrapping_sub(b).wrapping_mul(a.wrapping_sub(b)), "(a - b) * (a - b)")),
    grad: Some(|g: &BinaryGrad| {
        let d: crate::fusion::E = &g.dy * (&g.a - &g.b) * 2.0;
        (d.clone(), -d)
    }),
};
