//! The bits both int32 operands have set (TF.js `bitwiseAnd`). Integers only: the JS facade
//! refuses other dtypes, as TF.js does; the float32 form (on values cast to int32) is what the
//! kernel family needs and is never reached from there.
use super::Binary;

pub const DEF: Binary = Binary {
    name: "bitwise_and",
    f32: |a, b| ((a as i32) & (b as i32)) as f32,
    wgsl: "f32(i32(a) & i32(b))",
    i32: Some((|a, b| a & b, "a & b")),
    grad: None,
};
