//! min(max(x, alpha), beta), NaN staying NaN: TF.js `clipByValue`; the gradient passes inside
//! [alpha, beta]. Ints stay ints (TF.js).
use super::{Unary, UnaryGrad};
use crate::fusion::select;

pub const DEF: Unary = Unary {
    name: "clip",
    params: 2,
    f32: |x, lo, hi| if x.is_nan() { x } else { super::min_f32(super::max_f32(x, lo), hi) },
    wgsl: "select(min(max(x, alpha), beta), x, is_nan(x))",
    // On ints the bounds are applied in float and the result truncated toward zero, as TF.js
    // stores its float clip of an int32 tensor.
    i32: Some((|x, lo, hi| (x as f32).max(lo).min(hi) as i32, "select(f32_to_i32(min(max(f32(x), alpha), beta)), x, f32(x) >= alpha && f32(x) <= beta)")),
    grad: Some(|g: &UnaryGrad| select(&g.x.ge(g.alpha).and(g.x.le(g.beta)), &g.dy, 0.0)),
};
