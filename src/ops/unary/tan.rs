//! tan x (TF.js `tan`).
use super::{Unary, UnaryGrad};

pub const DEF: Unary = Unary {
    name: "tan",
    params: 0,
    f32: |x, _, _| x.tan(),
    wgsl: "tan(x)",
    i32: None,
    grad: Some(|g: &UnaryGrad| &g.dy * (1.0 + &g.y * &g.y)),
};
