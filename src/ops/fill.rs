//! Tensors made from a value: fill, zeros, ones.
use super::elementwise::{self, Gpu};
use crate::device::Device;
use crate::{DType, Result, Tensor};

/// A tensor of `shape` whose every element is `value` (converted to `dtype`).
pub fn fill(device: &Device, shape: &[usize], value: f64, dtype: DType) -> Result<Tensor> {
    let bits = match dtype {
        DType::F32 => (value as f32).to_bits(),
        DType::I32 => value as i32 as u32,
        DType::Bool => (value != 0.0) as u32,
    };
    let key = format!("fill:{}", dtype.wgsl());
    let expr = format!("bitcast<{}>(p.bits)", dtype.wgsl());
    let gpu = Gpu { bits, ..Gpu::new(&key, &expr) };
    elementwise::run("fill", &[], shape, dtype, Some(device), gpu, move |_, _| bits)
}

pub fn zeros(device: &Device, shape: &[usize], dtype: DType) -> Result<Tensor> {
    fill(device, shape, 0.0, dtype)
}

pub fn ones(device: &Device, shape: &[usize], dtype: DType) -> Result<Tensor> {
    fill(device, shape, 1.0, dtype)
}

/// A tensor of the same shape, dtype and device as `like`, filled with `value`.
pub fn full_like(like: &Tensor, value: f64) -> Result<Tensor> {
    fill(like.device(), like.shape(), value, like.dtype())
}
