//! log(1 + x), accurate for small x (a series below |x| = 0.01, where 1 + x would round away
//! x's digits; shader compilers fold the usual (1 + x) - 1 correction away); -inf at -1, NaN
//! below (TF.js `log1p`).
use super::{Unary, UnaryGrad};

pub const DEF: Unary = Unary {
    name: "log1p",
    params: 0,
    f32: |x, _, _| x.ln_1p(),
    wgsl: "select(select(select(log(1.0 + x), x * (1.0 - x * (0.5 - x * (1.0 / 3.0 - x * (0.25 - x * 0.2)))), abs(x) < 0.01), -f32_inf(), x == -1.0), f32_nan(), x < -1.0)",
    i32: None,
    grad: Some(|g: &UnaryGrad| &g.dy / (1.0 + &g.x)),
};
