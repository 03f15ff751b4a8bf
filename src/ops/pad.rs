//! pad: surrounds a tensor with a constant (TF.js `tf.pad`, paddings as [before, after] per axis).
use super::copy::{copy_box, Dst, View};
use crate::autograd::{no_grad, record};
use crate::shape::strides;
use crate::tensor::Data;
use crate::{bail, Result, Tensor};

pub fn pad(x: &Tensor, paddings: &[(usize, usize)], value: f64) -> Result<Tensor> {
    const OP: &str = "pad";
    if paddings.len() != x.rank() {
        bail!(OP, "paddings {:?} need one [before, after] pair per dimension of shape {:?}", paddings, x.shape());
    }
    let out_shape = x
        .shape()
        .iter()
        .zip(paddings)
        .map(|(&d, &(b, a))| d.checked_add(b).and_then(|v| v.checked_add(a)))
        .collect::<Option<Vec<usize>>>();
    let Some(out_shape) = out_shape else { bail!(OP, "paddings {:?} are too large", paddings) };
    let out = no_grad(|| super::fill(x.device(), &out_shape, value, x.dtype()))?;
    let dst_strides = strides(&out_shape);
    let offset: usize = paddings.iter().zip(&dst_strides).map(|(&(b, _), s)| b * s).sum();
    let src_strides = strides(x.shape());
    {
        let sv = View { offset: 0, strides: &src_strides };
        let dv = View { offset, strides: &dst_strides };
        // `out` is brand new: writing into its storage cannot affect any other tensor.
        match out.data()? {
            Data::Cpu(words) => copy_box(x, sv, &mut Dst::Cpu(&mut words.borrow_mut()), dv, x.shape())?,
            Data::Gpu(buf) => copy_box(x, sv, &mut Dst::Gpu(buf), dv, x.shape())?,
        }
    }
    let begin: Vec<usize> = paddings.iter().map(|p| p.0).collect();
    let size: Vec<i64> = x.shape().iter().map(|&d| d as i64).collect();
    Ok(record(OP, out, &[x], move |g| Ok(vec![Some(super::slice(g.grad, &begin, &size)?)])))
}
