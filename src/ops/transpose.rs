//! transpose / permute: reorders dimensions (materialised by the strided copy).
use super::copy::{assemble, copy_box, View};
use crate::autograd::record;
use crate::shape::strides;
use crate::{bail, Result, Tensor};

/// Permutes the dimensions: output dimension i is input dimension `perm[i]`. `None` reverses them
/// (TF.js `tf.transpose(x)`).
pub fn transpose(x: &Tensor, perm: Option<&[usize]>) -> Result<Tensor> {
    const OP: &str = "transpose";
    let rank = x.rank();
    let perm: Vec<usize> = match perm {
        Some(p) => p.to_vec(),
        None => (0..rank).rev().collect(),
    };
    let mut seen = vec![false; rank];
    if perm.len() != rank || perm.iter().any(|&p| p >= rank || std::mem::replace(&mut seen[p], true)) {
        bail!(OP, "permutation {:?} is not a permutation of the {} dimensions of shape {:?}", perm, rank, x.shape());
    }
    let in_strides = strides(x.shape());
    let out_shape: Vec<usize> = perm.iter().map(|&p| x.shape()[p]).collect();
    if perm.iter().enumerate().all(|(i, &p)| i == p) {
        return Ok(x.clone());
    }
    let src_strides: Vec<usize> = perm.iter().map(|&p| in_strides[p]).collect();
    let dst_strides = strides(&out_shape);
    let out = assemble(OP, x.device(), out_shape.clone(), x.dtype(), |dst| {
        copy_box(x, View { offset: 0, strides: &src_strides }, dst, View { offset: 0, strides: &dst_strides }, &out_shape)
    })?;
    let mut inverse = vec![0; rank];
    for (i, &p) in perm.iter().enumerate() {
        inverse[p] = i;
    }
    Ok(record(OP, out, &[x], move |g| Ok(vec![Some(transpose(g.grad, Some(&inverse))?)])))
}
