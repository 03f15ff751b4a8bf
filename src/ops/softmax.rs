//! softmax, log_softmax and log_sum_exp. log_sum_exp is a reduction of its own (one pass: the
//! online max and sum of exponentials), and the other two are elementwise expressions of it, so
//! softmax over a row costs one reduction plus whatever consumes it (it fuses there). Stable for
//! any logits; the gradients come from log_sum_exp's rule (d lse / dx = softmax).
use crate::ops::{self, Reduce};
use crate::shape::normalize_axis;
use crate::{Result, Tensor};

/// log(sum(exp(x), axis)) without overflow.
pub fn log_sum_exp(x: &Tensor, axis: i64, keepdims: bool) -> Result<Tensor> {
    let axis = normalize_axis("log_sum_exp", axis, x.rank())? as i64;
    ops::reduce(Reduce::LogSumExp, x, Some(&[axis]), keepdims)
}

pub fn log_softmax(x: &Tensor, axis: i64) -> Result<Tensor> {
    ops::sub(x, &log_sum_exp(x, axis, true)?)
}

pub fn softmax(x: &Tensor, axis: i64) -> Result<Tensor> {
    ops::exp(&log_softmax(x, axis)?)
}
