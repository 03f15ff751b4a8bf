//! Scaled ELU with the self-normalising constants (Klambauer et al.).
use super::{Unary, UnaryGrad};
use crate::fusion::select;

const ALPHA: f32 = 1.673_263_2;
const SCALE: f32 = 1.050_701;

pub const DEF: Unary = Unary {
    name: "selu",
    params: 0,
    f32: |x, _, _| SCALE * if x > 0.0 { x } else { ALPHA * (x.exp() - 1.0) },
    wgsl: "1.050701 * select(1.6732632 * (exp(x) - 1.0), x, x > 0.0)",
    i32: None,
    grad: Some(|g: &UnaryGrad| select(&g.x.gt(0.0), &g.dy * SCALE, &g.dy * (&g.y + SCALE * ALPHA))),
};
