//! asinh x, odd and exact for large |x| (log(|x| + sqrt(x^2 + 1)) with the sign put back) (TF.js `asinh`).
use super::{Unary, UnaryGrad};
use crate::fusion::sqrt;

pub const DEF: Unary = Unary {
    name: "asinh",
    params: 0,
    f32: |x, _, _| x.asinh(),
    wgsl: "sign(x) * log(abs(x) + sqrt(x * x + 1.0))",
    i32: None,
    grad: Some(|g: &UnaryGrad| &g.dy / sqrt(&g.x * &g.x + 1.0)),
};
