//! Less than.
use super::Compare;

pub const DEF: Compare = Compare {
    name: "less",
    f32: |a, b| a < b,
    i32: |a, b| a < b,
    wgsl: "a < b",
    logical: false,
};
