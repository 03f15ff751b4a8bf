//! `where(cond, a, b)`: picks a where cond is true, else b, broadcasting all three.
use super::elementwise::{self, Gpu};
use crate::shape::broadcast_shapes;
use crate::{DType, Result, Tensor};

pub fn where_(cond: &Tensor, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    const OP: &str = "where";
    let ab = broadcast_shapes(OP, a.shape(), b.shape())?;
    let out_shape = broadcast_shapes(OP, cond.shape(), &ab)?;
    crate::tensor::common_device(OP, &[cond, a, b])?;
    let cond = if cond.dtype() == DType::F32 { super::cast(cond, DType::Bool)? } else { cond.clone() };
    let (a, b, t) = super::binary::promote(a, b)?;
    let key = format!("where:{}", t.wgsl());
    elementwise::run(OP, &[&cond, &a, &b], &out_shape, t, None, Gpu::new(&key, "select(c, b, a != 0)"), |w, _| {
        if w[0] != 0 { w[1] } else { w[2] }
    })
}
