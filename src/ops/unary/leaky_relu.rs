//! x where x >= 0, else alpha * x (alpha: the slope, TF.js default 0.2).
use super::{Unary, UnaryGrad};
use crate::fusion::select;

pub const DEF: Unary = Unary {
    name: "leaky_relu",
    params: 1,
    f32: |x, alpha, _| if x >= 0.0 { x } else { alpha * x },
    wgsl: "select(alpha * x, x, x >= 0.0)",
    i32: None,
    grad: Some(|g: &UnaryGrad| select(&g.x.ge(0.0), &g.dy, &g.dy * g.alpha)),
};
