//! max(a, b), NaN if either is NaN (as TF.js); the gradient goes to a where a >= b, else to b.
use super::{Binary, BinaryGrad};

pub const DEF: Binary = Binary {
    name: "maximum",
    f32: crate::ops::unary::max_f32,
    wgsl: "max_nan(a, b)",
    i32: Some((i32::max, "max(a, b)")),
    grad: Some(|g: &BinaryGrad| (&g.dy * g.a.ge(&g.b).mask(), &g.dy * g.a.lt(&g.b).mask())),
};
