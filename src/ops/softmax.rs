//! softmax, log_softmax and log_sum_exp. log_sum_exp is a reduction of its own (one pass: the
//! online max and sum of exponentials); the other two are elementwise expressions of the row's
//! max and of log_sum_exp of the shifted row, so softmax over a row costs two reductions plus
//! whatever consumes it (it fuses there). Stable and precise for any logits; the gradients come
//! from log_sum_exp's rule (d lse / dx = softmax).
use crate::ops::{self, Reduce};
use crate::shape::normalize_axis;
use crate::{Result, Tensor};

/// log(sum(exp(x), axis)) without overflow.
pub fn log_sum_exp(x: &Tensor, axis: i64, keepdims: bool) -> Result<Tensor> {
    let axis = normalize_axis("log_sum_exp", axis, x.rank())? as i64;
    ops::reduce(Reduce::LogSumExp, x, Some(&[axis]), keepdims)
}

/// (x - m) - log_sum_exp(x - m) with m the row's max (held constant: log_softmax does not change
/// when a row is shifted, so its gradient is the same). Subtracting lse(x) from x directly loses
/// the log term to rounding once |x| is large (1000 equal logits of 1e6: 3% off in float32).
pub fn log_softmax(x: &Tensor, axis: i64) -> Result<Tensor> {
    let axis = normalize_axis("log_softmax", axis, x.rank())? as i64;
    let m = crate::autograd::no_grad(|| ops::max(x, Some(&[axis]), true))?;
    let shifted = ops::sub(x, &m)?;
    ops::sub(&shifted, &log_sum_exp(&shifted, axis, true)?)
}

pub fn softmax(x: &Tensor, axis: i64) -> Result<Tensor> {
    ops::exp(&log_softmax(x, axis)?)
}
