//! slice: a box of `size` starting at `begin` (TF.js `tf.slice`; a size of -1 means "to the end").
use super::copy::{assemble, copy_box, View};
use crate::autograd::record;
use crate::shape::strides;
use crate::{bail, Result, Tensor};

pub fn slice(x: &Tensor, begin: &[usize], size: &[i64]) -> Result<Tensor> {
    const OP: &str = "slice";
    let shape = x.shape();
    if begin.len() != shape.len() || size.len() != shape.len() {
        bail!(OP, "begin {:?} and size {:?} must have one entry per dimension of shape {:?}", begin, size, shape);
    }
    let mut out_shape = Vec::with_capacity(shape.len());
    for d in 0..shape.len() {
        let len = if size[d] == -1 { shape[d].saturating_sub(begin[d]) as i64 } else { size[d] };
        if begin[d] > shape[d] || len < 0 || begin[d] as i64 + len > shape[d] as i64 {
            bail!(OP, "begin {:?} with size {:?} is out of bounds for shape {:?}", begin, size, shape);
        }
        out_shape.push(len as usize);
    }
    let src_strides = strides(shape);
    let offset: usize = begin.iter().zip(&src_strides).map(|(b, s)| b * s).sum();
    let dst_strides = strides(&out_shape);
    let out = assemble(OP, x.device(), out_shape.clone(), x.dtype(), |dst| {
        copy_box(x, View { offset, strides: &src_strides }, dst, View { offset: 0, strides: &dst_strides }, &out_shape)
    })?;
    // The gradient is the output's gradient placed back into zeros of the input's shape.
    let paddings: Vec<(usize, usize)> = (0..shape.len()).map(|d| (begin[d], shape[d] - begin[d] - out_shape[d])).collect();
    Ok(record(OP, out, &[x], move |g| Ok(vec![Some(super::pad(g.grad, &paddings, 0.0)?)])))
}
