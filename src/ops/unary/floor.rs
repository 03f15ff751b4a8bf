//! Rounds down; zero gradient. Ints are already whole.
use super::{zero, Unary};

pub const DEF: Unary = Unary {
    name: "floor",
    params: 0,
    f32: |x, _, _| x.floor(),
    wgsl: "floor(x)",
    i32: Some((|x, _, _| x, "x")),
    grad: Some(zero),
};
