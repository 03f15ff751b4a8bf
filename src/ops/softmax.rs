//! softmax, log_softmax and log_sum_exp. log_sum_exp is a reduction of its own (one pass: the
//! online max and sum of exponentials); the other two are elementwise expressions of the row's
//! max and of log_sum_exp of the shifted row, so softmax over a row costs two reductions plus
//! whatever consumes it (it fuses there). Stable and precise for any logits; the gradients come
//! from log_sum_exp's rule (d lse / dx = softmax). On the CPU backend softmax over the last axis
//! is one pass per row instead (`softmax_rows`), with its own gradient rule.
use std::rc::Rc;

use crate::autograd::record;
use crate::ops::unary::exp_f32;
use crate::ops::{self, Reduce};
use crate::shape::normalize_axis;
use crate::tensor::Storage;
use crate::{threads, DType, Device, Result, Tensor};

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

/// exp(log_softmax(x)). On the CPU backend, over the last axis of a float32 tensor, one pass per
/// row instead (its max, the sum of exponentials, the quotients), whose gradient is
/// y * (dy - sum(dy * y)); the same values to rounding, and the same NaN for a row of -inf.
pub fn softmax(x: &Tensor, axis: i64) -> Result<Tensor> {
    let axis = normalize_axis("softmax", axis, x.rank())?;
    if matches!(x.device(), Device::Cpu) && x.dtype() == DType::F32 && axis + 1 == x.rank() {
        return softmax_rows(x, axis);
    }
    ops::exp(&log_softmax(x, axis as i64)?)
}

/// Softmaxes of at least this many elements split their rows across the CPU threads.
const PARALLEL_MIN_ELEMENTS: usize = 1 << 15;

/// y = softmax(row): its max, the exponentials and their sum, the quotients.
fn softmax_row(row: &[f32], y: &mut [f32]) {
    let m = super::reduce::extremum(row, true);
    // Exponentials in a loop of their own (it vectorises; a running sum in it would not).
    for (o, &v) in y.iter_mut().zip(row) {
        *o = exp_f32(v - m);
    }
    let inv = 1.0 / y.iter().sum::<f32>();
    y.iter_mut().for_each(|o| *o *= inv);
}

fn softmax_rows(x: &Tensor, axis: usize) -> Result<Tensor> {
    let n = x.shape()[axis];
    let words = {
        let src = x.cpu_words()?;
        let mut out = crate::tensor::alloc_words("softmax", x.numel())?;
        let (src, dst): (&[f32], &mut [f32]) = (bytemuck::cast_slice(&src[..x.numel()]), bytemuck::cast_slice_mut(&mut out));
        let rows = if n == 0 { 0 } else { src.len() / n };
        // Rows are independent: a large softmax splits them across the CPU threads.
        let parts = if src.len() >= PARALLEL_MIN_ELEMENTS { threads::split(rows, 1, 1, 4) } else { vec![0..rows] };
        let out_rows = threads::Shared::new(dst.as_mut_ptr());
        threads::run_tasks(parts.len(), &|t| {
            for r in parts[t].clone() {
                // SAFETY: row r of dst (n of rows * n floats) is this task's alone.
                let y = unsafe { std::slice::from_raw_parts_mut(out_rows.get().add(r * n), n) };
                softmax_row(&src[r * n..(r + 1) * n], y);
            }
        });
        out
    };
    let y = Tensor::from_storage(&Device::Cpu, Rc::new(Storage::cpu(words)), x.shape().to_vec(), DType::F32);
    let axes = [axis as i64];
    Ok(record("softmax", y, &[x], move |g| {
        let dot = ops::sum(&ops::mul(g.grad, g.out)?, Some(&axes), true)?;
        Ok(vec![Some(ops::mul(g.out, &ops::sub(g.grad, &dot)?)?)])
    }))
}
