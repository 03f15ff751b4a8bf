//! Rounds up; zero gradient. Ints are already whole.
use super::{zero, Unary};

pub const DEF: Unary = Unary {
    name: "ceil",
    params: 0,
    f32: |x, _, _| x.ceil(),
    wgsl: "ceil(x)",
    i32: Some((|x, _, _| x, "x")),
    grad: Some(zero),
};
