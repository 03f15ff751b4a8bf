//! Max and average pooling over NCHW images (the ONNX importer's MaxPool / AveragePool), with the
//! semantics of the NHWC pools in pool.rs: padding never wins a max, and an average counts only
//! the window's pixels inside the image.
//!
//! On the CPU each channel plane is pooled where it lies, a row of outputs at a time (no layout
//! transposes around the pool); on WebGPU it runs as the NHWC pool between transposes. The
//! gradient on both backends is that composition's, recomputed in the backward pass.
use std::rc::Rc;

use super::im2col::{Geometry, Padding};
use crate::autograd::{enable_grad, first_order_only, grads_of, no_grad, record, target};
use crate::device::Device;
use crate::tensor::Storage;
use crate::{bail, ops, DType, Result, Tensor};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolKind {
    Max,
    Avg,
}

impl PoolKind {
    fn name(self) -> &'static str {
        match self {
            PoolKind::Max => "max_pool_nchw",
            PoolKind::Avg => "avg_pool_nchw",
        }
    }
}

/// y [N, C, oh, ow] = the max or mean of each `size` window of x [N, C, H, W].
pub fn pool2d_nchw(kind: PoolKind, x: &Tensor, size: (usize, usize), strides: (usize, usize), padding: Padding) -> Result<Tensor> {
    let op = kind.name();
    if x.dtype() != DType::F32 || x.rank() != 4 {
        bail!(op, "input must be a float32 NCHW image (rank 4), got {:?} {}", x.shape(), x.dtype());
    }
    let s = x.shape();
    let g = Geometry::new(op, &[s[0], s[2], s[3], s[1]], size, strides, (1, 1), padding)?;
    if !matches!(x.device(), Device::Cpu) {
        return composed(kind, x, size, strides, padding);
    }
    let out = no_grad(|| cpu(kind, x, &g))?;
    Ok(record(op, out, &[x], move |gr| {
        // The pools' own gradients are fused kernels: first order only, as theirs.
        first_order_only(op)?;
        enable_grad(|| {
            let x = target(&gr.inputs[0])?;
            let y = composed(kind, &x, size, strides, padding)?;
            grads_of(&y, &[x], Some(gr.grad), false)
        })
    }))
}

/// The NHWC pool between transposes: the WebGPU path, the gradient, the tests' reference.
pub fn composed(kind: PoolKind, x: &Tensor, size: (usize, usize), strides: (usize, usize), padding: Padding) -> Result<Tensor> {
    let xs = ops::transpose(x, Some(&[0, 2, 3, 1]))?;
    let y = match kind {
        PoolKind::Max => ops::max_pool(&xs, size, strides, padding)?,
        PoolKind::Avg => ops::avg_pool(&xs, size, strides, padding)?,
    };
    ops::transpose(&y, Some(&[0, 3, 1, 2]))
}

fn cpu(kind: PoolKind, x: &Tensor, g: &Geometry) -> Result<Tensor> {
    let op = kind.name();
    let shape = vec![g.n, g.c, g.oh, g.ow];
    let mut words = crate::tensor::alloc_words(op, crate::shape::checked_numel(op, &shape)?)?;
    let xw = x.cpu_words()?;
    let xf: &[f32] = bytemuck::cast_slice(&xw[..]);
    let out: &mut [f32] = bytemuck::cast_slice_mut(&mut words);
    let (plane, out_plane) = (g.h * g.w, g.oh * g.ow);
    // Per output column: the first input column of its window and how many of its taps are inside.
    let columns: Vec<(usize, usize)> = (0..g.ow)
        .map(|ox| {
            let start = ox * g.sw;
            let lo = start.max(g.pad_left);
            let hi = (start + g.kw).min(g.w + g.pad_left);
            if hi > lo { (lo - g.pad_left, hi - lo) } else { (0, 0) }
        })
        .collect();
    if out_plane > 0 {
        for (src, dst) in xf.chunks_exact(plane.max(1)).zip(out.chunks_exact_mut(out_plane)) {
            for (oy, row) in dst.chunks_exact_mut(g.ow).enumerate() {
                let top = oy * g.sh;
                let rows = top.max(g.pad_top).saturating_sub(g.pad_top)..(top + g.kh).min(g.h + g.pad_top).saturating_sub(g.pad_top);
                for (o, &(first, taps)) in row.iter_mut().zip(&columns) {
                    *o = match kind {
                        PoolKind::Max => {
                            let mut best = f32::NEG_INFINITY;
                            for iy in rows.clone() {
                                for &v in &src[iy * g.w + first..][..taps] {
                                    // NaN wins, as in the NHWC pool.
                                    if v > best || v.is_nan() && !best.is_nan() {
                                        best = v;
                                    }
                                }
                            }
                            best
                        }
                        PoolKind::Avg => {
                            let sum: f32 = rows.clone().map(|iy| src[iy * g.w + first..][..taps].iter().sum::<f32>()).sum();
                            sum / (rows.len() * taps).max(1) as f32
                        }
                    };
                }
            }
        }
    }
    Ok(Tensor::from_storage(&Device::Cpu, Rc::new(Storage::cpu(words)), shape, DType::F32))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn floats(t: &Tensor) -> Vec<f32> {
        t.to_words_sync().unwrap().into_iter().map(f32::from_bits).collect()
    }

    /// The CPU kernel against the NHWC pools over padded, strided, overlapping and ceil-mode-like
    /// (bottom/right padded) windows, with a NaN and -inf in the image; and its gradient.
    #[test]
    fn cpu_kernel_and_gradient_match_the_nhwc_pools() {
        let cases: &[((usize, usize), (usize, usize), Padding)] = &[
            ((3, 3), (2, 2), Padding::Explicit(0, 1, 0, 1)),
            ((2, 2), (2, 2), Padding::Valid),
            ((3, 2), (1, 2), Padding::Explicit(1, 1, 1, 0)),
            ((3, 3), (1, 1), Padding::Same),
            ((5, 5), (3, 3), Padding::Explicit(2, 2, 2, 2)),
        ];
        let (n, c, h, w) = (2, 3, 7, 6);
        let mut values: Vec<f32> = (0..n * c * h * w).map(|i| (((i * 37) % 53) as f32 - 26.0) / 7.0).collect();
        values[5] = f32::NAN;
        values[50] = f32::NEG_INFINITY;
        for kind in [PoolKind::Max, PoolKind::Avg] {
            for (i, &(size, strides, padding)) in cases.iter().enumerate() {
                let x = Tensor::from_f32(&Device::Cpu, &values, &[n, c, h, w]).unwrap();
                let (got, want) = (pool2d_nchw(kind, &x, size, strides, padding).unwrap(), composed(kind, &x, size, strides, padding).unwrap());
                assert_eq!(got.shape(), want.shape());
                for (j, (a, b)) in floats(&got).iter().zip(floats(&want)).enumerate() {
                    assert!(a.to_bits() == b.to_bits() || (a - b).abs() <= 1e-5 * (1.0 + b.abs()), "{kind:?} case {i} [{j}]: {a} vs {b}");
                }
            }
        }
        let finite: Vec<f32> = values.iter().map(|v| if v.is_finite() { *v } else { 0.5 }).collect();
        for kind in [PoolKind::Max, PoolKind::Avg] {
            let x = Tensor::from_f32(&Device::Cpu, &finite, &[n, c, h, w]).unwrap();
            let grad = |f: &dyn Fn(&Tensor) -> Result<Tensor>| {
                let (_, g) = crate::autograd::value_and_grads(&[&x], |t| ops::sum(&ops::mul(&f(&t[0])?, &f(&t[0])?)?, None, false)).unwrap();
                floats(&g[0])
            };
            let (a, b) = (grad(&|t| pool2d_nchw(kind, t, (3, 3), (2, 2), Padding::Explicit(1, 1, 0, 1))), grad(&|t| composed(kind, t, (3, 3), (2, 2), Padding::Explicit(1, 1, 0, 1))));
            // (the seeds differ in rounding: y from the kernel or from the composition)
            for (j, (a, b)) in a.iter().zip(&b).enumerate() {
                assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "{kind:?} gradient [{j}]: {a} vs {b}");
            }
        }
    }
}
