//! -x
use super::{Unary, UnaryGrad};

pub const DEF: Unary = Unary {
    name: "neg",
    params: 0,
    f32: |x, _, _| -x,
    wgsl: "-x",
    i32: Some((|x, _, _| x.wrapping_neg(), "-x")),
    grad: Some(|g: &UnaryGrad| -&g.dy),
};
