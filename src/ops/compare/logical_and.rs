//! Both true (nonzero).
use super::Compare;

pub const DEF: Compare = Compare {
    name: "logical_and",
    f32: |a, b| a != 0.0 && b != 0.0,
    i32: |a, b| a != 0 && b != 0,
    wgsl: "a != 0 && b != 0",
    logical: true,
};
