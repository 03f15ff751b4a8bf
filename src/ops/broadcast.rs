//! broadcast_to: materialises a broadcast (strides of 0 along the broadcast dimensions).
use super::copy::{assemble, copy_box, View};
use crate::autograd::{record, sum_to_shape};
use crate::shape::{broadcast_shapes, broadcast_strides, check_rank, strides};
use crate::{bail, Result, Tensor};

pub fn broadcast_to(x: &Tensor, shape: &[usize]) -> Result<Tensor> {
    const OP: &str = "broadcast_to";
    check_rank(OP, shape)?;
    if x.shape() == shape {
        return Ok(x.clone());
    }
    if x.rank() > shape.len() || broadcast_shapes(OP, x.shape(), shape)? != shape {
        bail!(OP, "shape {:?} cannot be broadcast to {:?}", x.shape(), shape);
    }
    let src_strides = broadcast_strides(x.shape(), shape);
    let dst_strides = strides(shape);
    let out = assemble(OP, x.device(), shape.to_vec(), x.dtype(), |dst| {
        copy_box(x, View { offset: 0, strides: &src_strides }, dst, View { offset: 0, strides: &dst_strides }, shape)
    })?;
    let from = x.shape().to_vec();
    Ok(record(OP, out, &[x], move |g| Ok(vec![Some(sum_to_shape(g.grad, &from)?)])))
}
