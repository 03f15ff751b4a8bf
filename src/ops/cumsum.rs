//! Cumulative sums and products along an axis (TF.js `cumsum` / `cumprod`, ONNX `CumSum`),
//! optionally exclusive (each position combines those before it) and reversed (from the end). A
//! doubling scan: after the pass with shift d, each position holds the combination of the 2d
//! positions ending at it, so log2(n) shift-and-combine passes of ops that run on both backends
//! and carry their own gradients.
use crate::ops::BinaryOp;
use crate::shape::normalize_axis;
use crate::{ops, Result, Tensor};

pub fn cumsum(x: &Tensor, axis: i64, exclusive: bool, reverse: bool) -> Result<Tensor> {
    scan("cumsum", x, axis, exclusive, reverse, BinaryOp::Add, 0.0)
}

pub fn cumprod(x: &Tensor, axis: i64, exclusive: bool, reverse: bool) -> Result<Tensor> {
    scan("cumprod", x, axis, exclusive, reverse, BinaryOp::Mul, 1.0)
}

/// The scan of `op`, whose identity element `identity` shifts in at the edge.
fn scan(name: &str, x: &Tensor, axis: i64, exclusive: bool, reverse: bool, op: BinaryOp, identity: f64) -> Result<Tensor> {
    let axis = normalize_axis(name, axis, x.rank())?;
    let n = x.shape()[axis];
    let mut y = if exclusive && n > 0 { shift(x, axis, 1, !reverse, identity)? } else { x.clone() };
    let mut d = 1;
    while d < n {
        y = ops::binary(op, &y, &shift(&y, axis, d, !reverse, identity)?)?;
        d *= 2;
    }
    Ok(y)
}

/// x moved `by` positions along `axis` (towards the end when `forward`), `fill` coming in.
fn shift(x: &Tensor, axis: usize, by: usize, forward: bool, fill: f64) -> Result<Tensor> {
    let n = x.shape()[axis];
    let mut pads = vec![(0usize, 0usize); x.rank()];
    pads[axis] = if forward { (by, 0) } else { (0, by) };
    let padded = ops::pad(x, &pads, fill)?;
    let mut begin = vec![0usize; x.rank()];
    begin[axis] = if forward { 0 } else { by };
    let mut size: Vec<i64> = x.shape().iter().map(|&d| d as i64).collect();
    size[axis] = n as i64;
    ops::slice(&padded, &begin, &size)
}
