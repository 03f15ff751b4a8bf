//! Comparison and logical ops: broadcast like binary ops, return bool tensors.
use super::elementwise::{self, Gpu};
use crate::shape::broadcast_shapes;
use crate::{DType, Result, Tensor};

pub struct CompareOp {
    pub name: &'static str,
    pub f32: fn(f32, f32) -> bool,
    pub i32: fn(i32, i32) -> bool,
    /// WGSL over `a`, `b` of either type, giving a bool.
    pub wgsl: &'static str,
}

pub const COMPARE: &[CompareOp] = &[
    CompareOp { name: "equal", f32: |a, b| a == b, i32: |a, b| a == b, wgsl: "a == b" },
    CompareOp { name: "not_equal", f32: |a, b| a != b, i32: |a, b| a != b, wgsl: "a != b" },
    CompareOp { name: "less", f32: |a, b| a < b, i32: |a, b| a < b, wgsl: "a < b" },
    CompareOp { name: "less_equal", f32: |a, b| a <= b, i32: |a, b| a <= b, wgsl: "a <= b" },
    CompareOp { name: "greater", f32: |a, b| a > b, i32: |a, b| a > b, wgsl: "a > b" },
    CompareOp { name: "greater_equal", f32: |a, b| a >= b, i32: |a, b| a >= b, wgsl: "a >= b" },
    CompareOp { name: "logical_and", f32: |a, b| a != 0.0 && b != 0.0, i32: |a, b| a != 0 && b != 0, wgsl: "a != 0 && b != 0" },
    CompareOp { name: "logical_or", f32: |a, b| a != 0.0 || b != 0.0, i32: |a, b| a != 0 || b != 0, wgsl: "a != 0 || b != 0" },
];

pub fn find(name: &str) -> Option<&'static CompareOp> {
    COMPARE.iter().find(|op| op.name == name)
}

pub fn compare(name: &str, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let Some(op) = find(name) else { crate::bail!(name, "unknown comparison op") };
    let out_shape = broadcast_shapes(op.name, a.shape(), b.shape())?;
    crate::tensor::common_device(op.name, &[a, b])?;
    let (a, b, t) = super::binary::promote(a, b)?;
    let key = format!("{}:{}", op.name, t.wgsl());
    // Comparisons with NaN are false (not_equal true); spelled out because shader compilers may
    // assume NaN-free math and fold them otherwise.
    let expr = if t == DType::F32 && !op.name.starts_with("logical") {
        let nan = "(is_nan(a) || is_nan(b))";
        if op.name == "not_equal" { format!("i32({nan} || ({}))", op.wgsl) } else { format!("i32(!{nan} && ({}))", op.wgsl) }
    } else {
        format!("i32({})", op.wgsl)
    };
    let (ff, fi) = (op.f32, op.i32);
    let is_f32 = t == DType::F32;
    elementwise::run(op.name, &[&a, &b], &out_shape, DType::Bool, None, Gpu::new(&key, &expr), move |w, _| {
        (if is_f32 { ff(f32::from_bits(w[0]), f32::from_bits(w[1])) } else { fi(w[0] as i32, w[1] as i32) }) as u32
    })
}

/// Elementwise logical not of a bool (or numeric: nonzero is true) tensor.
pub fn logical_not(x: &Tensor) -> Result<Tensor> {
    let is_f32 = x.dtype() == DType::F32;
    let key = format!("logical_not:{}", x.dtype().wgsl());
    elementwise::run("logical_not", &[x], x.shape(), DType::Bool, None, Gpu::new(&key, "i32(a == 0)"), move |w, _| {
        (if is_f32 { f32::from_bits(w[0]) == 0.0 } else { w[0] == 0 }) as u32
    })
}
