//! one_hot: int32 indices -> float32 rows with a 1 at the index (0 rows for out-of-range
//! indices, like TF.js). An elementwise kernel over the output; no gradient (integer input).
use super::elementwise::{self, Gpu};
use crate::{bail, DType, Result, Tensor};

pub fn one_hot(indices: &Tensor, depth: usize) -> Result<Tensor> {
    const OP: &str = "one_hot";
    if indices.dtype() == DType::F32 {
        bail!(OP, "indices must be int32, got float32 of shape {:?}", indices.shape());
    }
    if depth == 0 || depth > i32::MAX as usize {
        bail!(OP, "depth {depth} must be between 1 and {}", i32::MAX);
    }
    let mut col = indices.shape().to_vec();
    col.push(1);
    let mut out_shape = indices.shape().to_vec();
    out_shape.push(depth);
    let idx = indices.reshape_to(&col)?;
    let gpu = Gpu { bits: depth as u32, ..Gpu::new("one_hot", "select(0.0, 1.0, a == i32(i % p.bits))") };
    elementwise::run(OP, &[&idx], &out_shape, DType::F32, None, gpu, move |w, i| {
        if w[0] as i32 == (i % depth) as i32 { 1f32.to_bits() } else { 0 }
    })
}
