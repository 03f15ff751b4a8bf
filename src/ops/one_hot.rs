//! one_hot: int32 indices -> float32 rows with a 1 at the index (0 rows for out-of-range
//! indices, like TF.js). An elementwise expression over the output (each element compares its
//! row's index with its column), so it fuses with what uses it; no gradient (integer input).
use crate::fusion::{select, Space, E};
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
    let space = Space::new(OP, &out_shape, &[indices])?;
    let index = space.read(&indices.reshape_to(&col)?)?.cast(DType::I32);
    space.tensor(select(&index.eq(E::coord(1, depth)), 1.0, 0.0))
}
