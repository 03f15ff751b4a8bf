//! min(max(x, alpha), beta), NaN staying NaN: TF.js `clipByValue`; the gradient passes inside
//! [alpha, beta].
use super::{Unary, UnaryGrad};
use crate::fusion::select;

pub const DEF: Unary = Unary {
    name: "clip",
    params: 2,
    f32: |x, lo, hi| if x.is_nan() { x } else { x.max(lo).min(hi) },
    wgsl: "select(min(max(x, alpha), beta), x, is_nan(x))",
    i32: None,
    grad: Some(|g: &UnaryGrad| select(&g.x.ge(g.alpha).and(g.x.le(g.beta)), &g.dy, 0.0)),
};
