//! x where x > 0, else e^x - 1.
use super::{Unary, UnaryGrad};
use crate::fusion::select;

pub const DEF: Unary = Unary {
    name: "elu",
    params: 0,
    f32: |x, _, _| if x > 0.0 { x } else { x.exp() - 1.0 },
    wgsl: "select(exp(x) - 1.0, x, x > 0.0)",
    i32: None,
    grad: Some(|g: &UnaryGrad| select(&g.x.gt(0.0), &g.dy, &g.dy * (&g.y + 1.0))),
};
