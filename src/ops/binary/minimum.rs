//! min(a, b), NaN if either is NaN (as TF.js); the gradient goes to a where a <= b, else to b.
use super::{Binary, BinaryGrad};

pub const DEF: Binary = Binary {
    name: "minimum",
    f32: crate::ops::unary::min_f32,
    wgsl: "min_nan(a, b)",
    i32: Some((i32::min, "min(a, b)")),
    grad: Some(|g: &BinaryGrad| (&g.dy * g.a.le(&g.b).mask(), &g.dy * g.a.gt(&g.b).mask())),
};
