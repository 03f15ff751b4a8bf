//! atan x (TF.js `atan`).
use super::{Unary, UnaryGrad};

pub const DEF: Unary = Unary {
    name: "atan",
    params: 0,
    f32: |x, _, _| x.atan(),
    wgsl: "atan(x)",
    i32: None,
    grad: Some(|g: &UnaryGrad| &g.dy / (1.0 + &g.x * &g.x)),
};
