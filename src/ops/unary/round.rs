//! Rounds half to even, like TF.js and WGSL's round; zero gradient.
use super::{zero, Unary};

pub const DEF: Unary = Unary {
    name: "round",
    params: 0,
    f32: |x, _, _| x.round_ties_even(),
    wgsl: "round(x)",
    i32: Some((|x, _, _| x, "x")),
    grad: Some(zero),
};
