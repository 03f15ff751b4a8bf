//! min(max(x, 0), 6), NaN staying NaN, ints staying ints (TF.js); the gradient passes where 0 < x < 6.
use super::{Unary, UnaryGrad};
use crate::fusion::select;

pub const DEF: Unary = Unary {
    name: "relu6",
    params: 0,
    f32: |x, _, _| x.clamp(0.0, 6.0),
    wgsl: "select(clamp(x, 0.0, 6.0), x, is_nan(x))",
    i32: Some((|x, _, _| x.clamp(0, 6), "clamp(x, 0, 6)")),
    grad: Some(|g: &UnaryGrad| select(&g.x.gt(0.0).and(g.x.lt(6.0)), &g.dy, 0.0)),
};
