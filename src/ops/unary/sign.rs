//! -1, 0 or 1; zero gradient.
use super::{zero, Unary};

pub const DEF: Unary = Unary {
    name: "sign",
    params: 0,
    f32: |x, _, _| if x > 0.0 { 1.0 } else if x < 0.0 { -1.0 } else { 0.0 },
    wgsl: "sign(x)",
    i32: Some((|x, _, _| x.signum(), "sign(x)")),
    grad: Some(zero),
};
