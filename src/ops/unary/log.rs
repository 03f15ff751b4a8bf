//! Natural log. WGSL leaves log of 0 and of negatives undefined; pinned to IEEE (-inf, NaN) as
//! TF.js has them.
use super::{Unary, UnaryGrad};

pub const DEF: Unary = Unary {
    name: "log",
    params: 0,
    f32: |x, _, _| x.ln(),
    wgsl: "select(select(log(x), f32_nan(), x < 0.0), -f32_inf(), x == 0.0)",
    i32: None,
    grad: Some(|g: &UnaryGrad| &g.dy / &g.x),
};
