//! Greater than or equal.
use super::Compare;

pub const DEF: Compare = Compare {
    name: "greater_equal",
    f32: |a, b| a >= b,
    i32: |a, b| a >= b,
    wgsl: "a >= b",
    logical: false,
};
