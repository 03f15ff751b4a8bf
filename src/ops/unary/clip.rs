//! min(max(x, alpha), beta): TF.js `clipByValue`; the gradient passes inside [alpha, beta].
use super::{Unary, UnaryGrad};
use crate::fusion::select;

pub const DEF: Unary = Unary {
    name: "clip",
    params: 2,
    f32: |x, lo, hi| x.max(lo).min(hi),
    wgsl: "min(max(x, alpha), beta)",
    i32: None,
    grad: Some(|g: &UnaryGrad| select(&g.x.ge(g.alpha).and(g.x.le(g.beta)), &g.dy, 0.0)),
};
