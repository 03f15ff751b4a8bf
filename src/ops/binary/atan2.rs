//! atan2(a, b): the angle of the point (b, a), in (-pi, pi] (TF.js `atan2`); atan2(0, 0) = 0.
use super::{Binary, BinaryGrad};

pub const DEF: Binary = Binary {
    name: "atan2",
    f32: |a, b| a.atan2(b),
    wgsl: "atan2(a, b)",
    i32: None,
    grad: Some(|g: &BinaryGrad| {
        let r2: crate::fusion::E = &g.a * &g.a + &g.b * &g.b;
        (&g.dy * &g.b / &r2, -(&g.dy * &g.a / &r2))
    }),
};
