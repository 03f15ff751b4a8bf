//! Max and average pooling on NHWC images (TF.js maxPool / avgPool) and their gradients, read
//! straight from the image by shaders/pool.wgsl (and the CPU loops below): no patch matrix, and
//! the backward pass is one kernel instead of a chain of masks, broadcasts and col2im.
use std::rc::Rc;

use super::im2col::{source_pixel, window_params, window_source, Geometry, Padding};
use crate::autograd::{no_grad, record};
use crate::device::gpu::grid_2d;
use crate::device::Device;
use crate::fusion;
use crate::shape::checked_numel;
use crate::tensor::{Storage, Tensor};
use crate::{bail, DType, Result};

const SHADER: &str = include_str!("../../shaders/pool.wgsl");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pool {
    Max,
    Avg,
}

impl Pool {
    fn name(self) -> &'static str {
        match self {
            Pool::Max => "max_pool",
            Pool::Avg => "avg_pool",
        }
    }
}

/// Max over each window; padding never wins. The gradient goes to each window's first maximum
/// (in row-major window order), as in TensorFlow.
pub fn max_pool(x: &Tensor, size: (usize, usize), strides: (usize, usize), padding: Padding) -> Result<Tensor> {
    pool(Pool::Max, x, size, strides, padding)
}

/// Mean over each window's pixels inside the image (padding is not counted, as in TF.js).
pub fn avg_pool(x: &Tensor, size: (usize, usize), strides: (usize, usize), padding: Padding) -> Result<Tensor> {
    pool(Pool::Avg, x, size, strides, padding)
}

fn pool(kind: Pool, x: &Tensor, size: (usize, usize), strides: (usize, usize), padding: Padding) -> Result<Tensor> {
    let op = kind.name();
    if x.dtype() != DType::F32 {
        bail!(op, "input must be float32, got {}", x.dtype());
    }
    let g = Geometry::new(op, x.shape(), size, strides, (1, 1), padding)?;
    let out = no_grad(|| run(kind, false, x, x, &g))?;
    Ok(record(op, out, &[x], move |gr| {
        crate::autograd::first_order_only(op)?;
        Ok(vec![Some(run(kind, true, &gr.inputs[0], gr.grad, &g)?)])
    }))
}

/// The pooled image of `x` (`grad` false), or the gradient of the input given the output's
/// gradient `dy` (`grad` true). A pending `x` (the conv + bias + relu before a pool) is read in
/// place by the pool kernels: it is never written to memory unless something else needs it.
fn run(kind: Pool, grad: bool, x: &Tensor, dy: &Tensor, g: &Geometry) -> Result<Tensor> {
    let op = kind.name();
    let out_shape = if grad { vec![g.n, g.h, g.w, g.c] } else { vec![g.n, g.oh, g.ow, g.c] };
    let total = checked_numel(op, &out_shape)?;
    let storage = match x.device() {
        Device::Cpu => Storage::cpu(run_cpu(kind, grad, &x.cpu_words()?, &dy.cpu_words()?, g, total)?),
        Device::Gpu(ctx) => {
            let out = ctx.alloc(op, (total * 4) as u64)?;
            let disjoint = grad && kind == Pool::Max && g.sh >= g.kh && g.sw >= g.kw;
            // Windows that tile the image exactly: each input pixel belongs to one window.
            let tiles = disjoint && g.sh == g.kh && g.sw == g.kw && g.dh == 1 && g.dw == 1 && g.pad_top == 0 && g.pad_left == 0 && g.oh * g.kh == g.h && g.ow * g.kw == g.w;
            let (mode, store, threads) = match (grad, disjoint, tiles) {
                (false, _, _) => (op.to_string(), format!("out[t] = {op}(t);"), total),
                (true, false, _) => (format!("{op}_grad"), format!("out[t] = pool_grad(t, {});", kind == Pool::Max), total),
                (true, true, true) => ("max_pool_grad_tiles".to_string(), "max_pool_grad_tiles(t);".to_string(), g.n * g.oh * g.ow * g.c),
                (true, true, false) => {
                    // Pixels no window reads (past the last stride, or between windows) stay zero.
                    ctx.clear(out.raw(), (total * 4) as u64);
                    ("max_pool_grad_disjoint".to_string(), "max_pool_grad_disjoint(t);".to_string(), g.n * g.oh * g.ow * g.c)
                }
            };
            // out and dy take two of the storage buffers; x's fused leaves may take the rest.
            let fused = crate::fusion::fused_input(x, crate::device::gpu::MAX_STORAGE_BUFFERS as usize - 2)?.filter(|p| !p.buffers.is_empty());
            let key = format!("{mode}:{}x{}:{}", g.kh, g.kw, fused.as_ref().map(|p| p.key()).unwrap_or_default());
            let kernel = ctx.kernel(&key, || {
                let src = window_params().buffer("out", "f32", true).buffer("dy", "f32", false).input("x", "f32", fused.as_ref());
                window_source(src, (g.kh as u32, g.kw as u32), &format!("fn store(t: u32) {{ {store} }}"), SHADER)
            });
            let params = g.params(threads, 0.0);
            let grid = grid_2d(threads.div_ceil(256) as u64)?;
            // The forward pass declares dy but does not read it: any buffer it reads will do.
            match &fused {
                Some(prog) => {
                    let leaves = fusion::leaf_buffers(prog);
                    let dy = if grad { dy.gpu_buffer()?.raw() } else { leaves[0].raw() };
                    let mut buffers = vec![out.raw(), dy];
                    buffers.extend(leaves.iter().map(|b| b.raw()));
                    ctx.dispatch(&kernel, &fusion::uniform_with_fused(bytemuck::bytes_of(&params), &[prog]), &buffers, grid);
                }
                None => {
                    let buffers = [out.raw(), dy.gpu_buffer()?.raw(), x.gpu_buffer()?.raw()];
                    ctx.dispatch(&kernel, bytemuck::bytes_of(&params), &buffers, grid);
                }
            }
            Storage::gpu(out)
        }
    };
    Ok(Tensor::from_storage(x.device(), Rc::new(storage), out_shape, DType::F32))
}

/// The CPU twin of pool.wgsl, with the same scan order and tie rule; gradients scatter from each
/// window instead of gathering.
fn run_cpu(kind: Pool, grad: bool, x: &[u32], dy: &[u32], g: &Geometry, total: usize) -> Result<Vec<u32>> {
    let x: &[f32] = bytemuck::cast_slice(x);
    let dy: &[f32] = bytemuck::cast_slice(dy);
    let mut words = crate::tensor::alloc_words(kind.name(), total)?;
    let out: &mut [f32] = bytemuck::cast_slice_mut(&mut words);
    let taps: Vec<(usize, usize)> = (0..g.kh).flat_map(|ky| (0..g.kw).map(move |kx| (ky, kx))).collect();
    let mut pixels = Vec::with_capacity(taps.len());
    for n in 0..g.n {
        for oy in 0..g.oh {
            for ox in 0..g.ow {
                pixels.clear();
                pixels.extend(taps.iter().filter_map(|&(ky, kx)| source_pixel(g, oy, ox, ky, kx)).map(|(iy, ix)| (n * g.h + iy) * g.w + ix));
                let o = ((n * g.oh + oy) * g.ow + ox) * g.c;
                if !grad {
                    // The forward pass runs along the channels, contiguous in NHWC (vectorized):
                    // a NaN wins a max (as in the gradient scan below), sums run in tap order.
                    let acc = &mut out[o..o + g.c];
                    match kind {
                        Pool::Max => {
                            acc.fill(f32::NEG_INFINITY);
                            for &px in &pixels {
                                // v > a keeps the first of equal values; a NaN, once in, stays
                                acc.iter_mut().zip(&x[px * g.c..][..g.c]).for_each(|(a, &v)| *a = if v > *a || v.is_nan() { v } else { *a });
                            }
                        }
                        Pool::Avg => {
                            acc.fill(0.0);
                            for &px in &pixels {
                                acc.iter_mut().zip(&x[px * g.c..][..g.c]).for_each(|(a, &v)| *a += v);
                            }
                            let count = pixels.len().max(1) as f32;
                            acc.iter_mut().for_each(|a| *a /= count);
                        }
                    }
                    continue;
                }
                for c in 0..g.c {
                    match kind {
                        Pool::Max => {
                            let mut best: Option<(f32, usize)> = None;
                            for &px in &pixels {
                                let v = x[px * g.c + c];
                                if best.is_none_or(|(b, _)| v > b || (v.is_nan() && !b.is_nan())) {
                                    best = Some((v, px));
                                }
                            }
                            // The gradient goes to the window's first maximum.
                            if let Some((_, px)) = best {
                                out[px * g.c + c] += dy[o + c];
                            }
                        }
                        Pool::Avg => {
                            let count = pixels.len().max(1) as f32;
                            for &px in &pixels {
                                out[px * g.c + c] += dy[o + c] / count;
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(words)
}
