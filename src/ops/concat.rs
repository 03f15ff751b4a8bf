//! concat: joins tensors along an axis; each input is copied into its slab of the output.
use super::copy::{assemble, copy_box, View};
use crate::autograd::record;
use crate::shape::{normalize_axis, strides};
use crate::tensor::common_device;
use crate::{bail, Result, Tensor};

pub fn concat(tensors: &[&Tensor], axis: i64) -> Result<Tensor> {
    const OP: &str = "concat";
    if tensors.is_empty() {
        bail!(OP, "needs at least one tensor");
    }
    let device = common_device(OP, tensors)?;
    let first = tensors[0];
    let axis = normalize_axis(OP, axis, first.rank())?;
    let mut out_shape = first.shape().to_vec();
    out_shape[axis] = 0;
    for t in tensors {
        let same_rest = t.rank() == first.rank()
            && t.shape().iter().zip(first.shape()).enumerate().all(|(d, (a, b))| d == axis || a == b);
        if !same_rest {
            let shapes: Vec<_> = tensors.iter().map(|t| t.shape().to_vec()).collect();
            bail!(OP, "shapes {:?} differ outside axis {}", shapes, axis);
        }
        if t.dtype() != first.dtype() {
            bail!(OP, "dtypes differ ({} and {}); cast first", first.dtype(), t.dtype());
        }
        out_shape[axis] += t.shape()[axis];
    }
    let dst_strides = strides(&out_shape);
    let out = assemble(OP, &device, out_shape.clone(), first.dtype(), |dst| {
        let mut at = 0;
        for t in tensors {
            let src_strides = strides(t.shape());
            let dv = View { offset: at * dst_strides[axis], strides: &dst_strides };
            copy_box(t, View { offset: 0, strides: &src_strides }, dst, dv, t.shape())?;
            at += t.shape()[axis];
        }
        Ok(())
    })?;
    // Each input's gradient is its slab of the output's gradient.
    Ok(record(OP, out, tensors, move |g| {
        let mut at = 0;
        let mut grads = Vec::with_capacity(g.inputs.len());
        for t in g.inputs {
            let mut begin = vec![0; t.rank()];
            begin[axis] = at;
            let size: Vec<i64> = t.shape().iter().map(|&d| d as i64).collect();
            grads.push(Some(super::slice(g.grad, &begin, &size)?));
            at += t.shape()[axis];
        }
        Ok(grads)
    }))
}

/// Stacks same-shaped tensors along a new axis (TF.js `tf.stack`).
pub fn stack(tensors: &[&Tensor], axis: i64) -> Result<Tensor> {
    const OP: &str = "stack";
    if tensors.is_empty() {
        bail!(OP, "needs at least one tensor");
    }
    let rank = tensors[0].rank();
    let axis = normalize_axis(OP, axis, rank + 1)?;
    let mut expanded = Vec::with_capacity(tensors.len());
    for t in tensors {
        if t.shape() != tensors[0].shape() {
            bail!(OP, "shapes {:?} and {:?} differ", tensors[0].shape(), t.shape());
        }
        let mut s = t.shape().to_vec();
        s.insert(axis, 1);
        expanded.push(t.reshape_to(&s)?);
    }
    let refs: Vec<&Tensor> = expanded.iter().collect();
    concat(&refs, axis as i64)
}
