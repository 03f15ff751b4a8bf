//! a / b; on int32 it floors (TF.js `div` of ints is floorDiv), and x / 0 is 0 there (WGSL
//! leaves it undefined).
use super::{Binary, BinaryGrad};

fn floor_div_i32(a: i32, b: i32) -> i32 {
    if b == 0 {
        return 0;
    }
    let q = a.wrapping_div(b);
    let r = a.wrapping_sub(q.wrapping_mul(b));
    if r != 0 && ((r < 0) != (b < 0)) {
        q - 1
    } else {
        q
    }
}

pub const DEF: Binary = Binary {
    name: "div",
    f32: |a, b| a / b,
    wgsl: "a / b",
    i32: Some((floor_div_i32, "floor_div_i32(a, b)")),
    grad: Some(|g: &BinaryGrad| (&g.dy / &g.b, -(&g.dy * &g.a / (&g.b * &g.b)))),
};
