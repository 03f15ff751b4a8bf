//! Max and average pooling over NCHW images (the ONNX importer's MaxPool / AveragePool), with the
//! semantics of the NHWC pools in pool.rs: padding never wins a max, and an average counts only
//! the window's pixels inside the image.
//!
//! On the CPU each channel plane is pooled a row of outputs at a time, each window tap read as a
//! contiguous run of a padded copy of the plane (padded_plane.rs; no layout transposes around
//! the pool); on WebGPU it runs as the NHWC pool between transposes. The
//! gradient on both backends is that composition's, recomputed in the backward pass.
use std::rc::Rc;

use super::im2col::{Geometry, Padding};
use super::padded_plane::PaddedPlane;
use crate::autograd::{first_order_only, no_grad, record, vjp_of_composition};
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
        vjp_of_composition(gr, |t| composed(kind, &t[0], size, strides, padding))
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
    if out_plane == 0 {
        return Ok(Tensor::from_storage(&Device::Cpu, Rc::new(Storage::cpu(words)), shape, DType::F32));
    }
    // How many of a window's rows (columns) lie inside the image, per output row (column): an
    // average divides by their product.
    // (In padded coordinates the window is [o * stride, o * stride + k), the image [pad, pad + len).)
    let inside = |o: usize, stride: usize, pad: usize, k: usize, len: usize| (o * stride + k).min(pad + len).saturating_sub((o * stride).max(pad));
    let cols_inside: Vec<f32> = (0..g.ow).map(|ox| inside(ox, g.sw, g.pad_left, g.kw, g.w) as f32).collect();
    // Padding holds -inf for a max (it never wins; a window wholly outside gives -inf, as the
    // NHWC pool) and 0 for a sum.
    let (pad, init) = match kind {
        PoolKind::Max => (f32::NEG_INFINITY, f32::NEG_INFINITY),
        PoolKind::Avg => (0.0, 0.0),
    };
    let mut padded = PaddedPlane::new(g);
    for (src, dst) in xf.chunks_exact(plane.max(1)).zip(out.chunks_exact_mut(out_plane)) {
        padded.fill(src, g, pad);
        for (oy, row) in dst.chunks_exact_mut(g.ow).enumerate() {
            row.fill(init);
            for ky in 0..g.kh {
                for kx in 0..g.kw {
                    let tap = padded.tap(g, oy, ky, kx);
                    match kind {
                        // The NHWC pool's rule: the first of equal values stays, a NaN wins.
                        PoolKind::Max => row.iter_mut().zip(tap).for_each(|(o, &v)| *o = if v > *o || v.is_nan() { v } else { *o }),
                        PoolKind::Avg => row.iter_mut().zip(tap).for_each(|(o, &v)| *o += v),
                    }
                }
            }
            if kind == PoolKind::Avg {
                let rows_inside = inside(oy, g.sh, g.pad_top, g.kh, g.h) as f32;
                row.iter_mut().zip(&cols_inside).for_each(|(o, &c)| *o /= (rows_inside * c).max(1.0));
            }
        }
    }
    Ok(Tensor::from_storage(&Device::Cpu, Rc::new(Storage::cpu(words)), shape, DType::F32))
}

#[cfg(test)]
mod tests {
    use super::*;

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
                for (j, (a, b)) in got.cpu_floats().iter().zip(want.cpu_floats()).enumerate() {
                    // a max is one of the inputs, exactly; an average is summed in another order
                    let close = a.to_bits() == b.to_bits() || (kind == PoolKind::Avg && (a - b).abs() <= 1e-5 * (1.0 + b.abs()));
                    let same = close || (a.is_nan() && b.is_nan());
                    assert!(same, "{kind:?} case {i} [{j}]: {a} vs {b}");
                }
            }
        }
        let finite: Vec<f32> = values.iter().map(|v| if v.is_finite() { *v } else { 0.5 }).collect();
        for kind in [PoolKind::Max, PoolKind::Avg] {
            let x = Tensor::from_f32(&Device::Cpu, &finite, &[n, c, h, w]).unwrap();
            let grad = |f: &dyn Fn(&Tensor) -> Result<Tensor>| {
                let (_, g) = crate::autograd::value_and_grads(&[&x], |t| ops::sum(&ops::mul(&f(&t[0])?, &f(&t[0])?)?, None, false)).unwrap();
                g[0].cpu_floats()
            };
            let (a, b) = (grad(&|t| pool2d_nchw(kind, t, (3, 3), (2, 2), Padding::Explicit(1, 1, 0, 1))), grad(&|t| composed(kind, t, (3, 3), (2, 2), Padding::Explicit(1, 1, 0, 1))));
            // (the seeds differ in rounding: y from the kernel or from the composition)
            for (j, (a, b)) in a.iter().zip(&b).enumerate() {
                assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "{kind:?} gradient [{j}]: {a} vs {b}");
            }
        }
    }
}
