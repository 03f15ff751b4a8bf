//! exp(x) - 1, accurate for small x (a series below |x| = 0.01, where exp(x) - 1 would cancel)
//! (TF.js `expm1`).
use super::{Unary, UnaryGrad};

pub const DEF: Unary = Unary {
    name: "expm1",
    params: 0,
    f32: |x, _, _| x.exp_m1(),
    wgsl: "select(exp(x) - 1.0, x * (1.0 + x * (0.5 + x * (1.0 / 6.0 + x * (1.0 / 24.0 + x / 120.0)))), abs(x) < 0.01)",
    i32: None,
    grad: Some(|g: &UnaryGrad| &g.dy * (&g.y + 1.0)),
};
