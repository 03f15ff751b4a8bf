//! `where(cond, a, b)`: picks a where cond is true, else b, broadcasting all three.
use super::elementwise::{self, Gpu};
use crate::autograd::{no_grad, record, scalar, unbroadcast2};
use crate::shape::broadcast_shapes;
use crate::{DType, Result, Tensor};

pub fn where_(cond: &Tensor, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    const OP: &str = "where";
    let ab = broadcast_shapes(OP, a.shape(), b.shape())?;
    let out_shape = broadcast_shapes(OP, cond.shape(), &ab)?;
    crate::tensor::common_device(OP, &[cond, a, b])?;
    let cond = if cond.dtype() == DType::F32 { no_grad(|| super::cast(cond, DType::Bool))? } else { cond.clone() };
    let (a, b, t) = no_grad(|| super::binary::promote(a, b))?;
    let key = format!("where:{}", t.wgsl());
    let out = elementwise::run(OP, &[&cond, &a, &b], &out_shape, t, None, Gpu::new(&key, "select(c, b, a != 0)"), |w, _| {
        if w[0] != 0 { w[1] } else { w[2] }
    })?;
    Ok(record(OP, out, &[&a, &b], move |g| {
        let zero = scalar(g.grad, 0.0)?;
        let ga = where_(&cond, g.grad, &zero)?;
        let gb = where_(&cond, &zero, g.grad)?;
        unbroadcast2(&g.inputs[0], &g.inputs[1], Some(ga), Some(gb))
    }))
}
