//! softmax, log_softmax and log_sum_exp, composed from primitives (their gradients follow).
//! Stable for any logits: the max is subtracted first (as a constant: the gradient through it
//! cancels exactly, so it is detached).
use crate::autograd::no_grad;
use crate::shape::normalize_axis;
use crate::{ops, Result, Tensor};

/// log(sum(exp(x), axis)) without overflow.
pub fn log_sum_exp(x: &Tensor, axis: i64, keepdims: bool) -> Result<Tensor> {
    let axis = normalize_axis("log_sum_exp", axis, x.rank())? as i64;
    let m = no_grad(|| ops::max(x, Some(&[axis]), true))?.detach();
    let s = ops::sum(&ops::exp(&ops::sub(x, &m)?)?, Some(&[axis]), true)?;
    let lse = ops::add(&ops::log(&s)?, &m)?;
    if keepdims {
        Ok(lse)
    } else {
        let shape: Vec<usize> = x.shape().iter().enumerate().filter(|&(d, _)| d as i64 != axis).map(|(_, &s)| s).collect();
        lse.reshape_to(&shape)
    }
}

pub fn log_softmax(x: &Tensor, axis: i64) -> Result<Tensor> {
    ops::sub(x, &log_sum_exp(x, axis, true)?)
}

pub fn softmax(x: &Tensor, axis: i64) -> Result<Tensor> {
    ops::exp(&log_softmax(x, axis)?)
}
