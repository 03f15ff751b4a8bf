//! Tensors made from a value: fill, zeros, ones. A fill is a constant expression: it costs nothing
//! until something reads it, and inside another elementwise op it is just a constant.
use crate::device::Device;
use crate::fusion::{Space, E};
use crate::{DType, Result, Tensor};

/// A tensor of `shape` whose every element is `value` (converted to `dtype`).
pub fn fill(device: &Device, shape: &[usize], value: f64, dtype: DType) -> Result<Tensor> {
    Space::on("fill", shape, device)?.tensor(E::constant(value, dtype))
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
