//! Cumulative sum along an axis (TF.js `cumsum`, ONNX `CumSum`), optionally exclusive (each
//! position sums those before it) and reversed (summing from the end). A doubling scan: after the
//! pass with shift d, each position holds the sum of the 2d positions ending at it, so log2(n)
//! shift-and-add passes of ops that run on both backends and carry their own gradients (the
//! gradient of a cumulative sum is the reversed cumulative sum, which falls out of them).
use crate::shape::normalize_axis;
use crate::{ops, Result, Tensor};

pub fn cumsum(x: &Tensor, axis: i64, exclusive: bool, reverse: bool) -> Result<Tensor> {
    let axis = normalize_axis("cumsum", axis, x.rank())?;
    let n = x.shape()[axis];
    let mut y = if exclusive && n > 0 { shift(x, axis, 1, !reverse)? } else { x.clone() };
    let mut d = 1;
    while d < n {
        y = ops::add(&y, &shift(&y, axis, d, !reverse)?)?;
        d *= 2;
    }
    Ok(y)
}

/// x moved `by` positions along `axis` (towards the end when `forward`), zeros coming in.
fn shift(x: &Tensor, axis: usize, by: usize, forward: bool) -> Result<Tensor> {
    let n = x.shape()[axis];
    let mut pads = vec![(0usize, 0usize); x.rank()];
    pads[axis] = if forward { (by, 0) } else { (0, by) };
    let padded = ops::pad(x, &pads, 0.0)?;
    let mut begin = vec![0usize; x.rank()];
    begin[axis] = if forward { 0 } else { by };
    let mut size: Vec<i64> = x.shape().iter().map(|&d| d as i64).collect();
    size[axis] = n as i64;
    ops::slice(&padded, &begin, &size)
}
