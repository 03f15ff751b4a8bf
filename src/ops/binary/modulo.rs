//! The remainder of a floored division, with the sign of the divisor (TF.js `mod`, Python `%`):
//! a - floor(a / b) * b. Floats: x mod 0 is NaN; ints: x mod 0 is 0 (WGSL leaves it undefined).
use super::{Binary, BinaryGrad};
use crate::ops::UnaryOp;

fn mod_i32(a: i32, b: i32) -> i32 {
    if b == 0 {
        return 0;
    }
    let r = a.wrapping_rem(b);
    if r != 0 && ((r < 0) != (b < 0)) {
        r + b
    } else {
        r
    }
}

pub const DEF: Binary = Binary {
    name: "mod",
    f32: |a, b| a - (a / b).floor() * b,
    wgsl: "a - floor(a / b) * b",
    i32: Some((mod_i32, "select(select(a % b, a % b + b, a % b != 0 && ((a % b < 0) != (b < 0))), 0, b == 0)")),
    // d/da = 1, d/db = -floor(a / b) (as TF.js)
    grad: Some(|g: &BinaryGrad| (g.dy.clone(), -(&g.dy * (&g.a / &g.b).apply(UnaryOp::Floor)))),
};
