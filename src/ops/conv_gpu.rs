//! The GPU's direct convolution kernels (shaders/conv2d.wgsl): the forward pass and the filter
//! gradient read the image where it lies instead of going through an im2col patch matrix, which
//! for a 3x3 window is 9 times the image and, for few channels, feeds a skinny GEMM.
use std::rc::Rc;


use super::im2col::{Geometry, Params, WINDOW};
use crate::device::gpu::{grid_2d, GpuContext};
use crate::kernel::fill_template;
use crate::shape::checked_numel;
use crate::tensor::{Storage, Tensor};
use crate::{DType, Result};

const SHADER: &str = include_str!("../../shaders/conv2d.wgsl");

/// Output pixels that share one thread of the filter gradient's reduction, at least.
const MIN_CHUNK: usize = 64;
/// Threads the filter gradient aims for: enough to fill a GPU's cores several times over.
const TARGET_THREADS: usize = 16384;

/// Whether conv2d takes the direct kernel: always on CPU-emulated GPUs (where the patch matrix
/// and its extra pass cost most), and on real GPUs when few output channels would make the
/// im2col GEMM skinny; wide ones keep the shared-memory tiled matmul.
pub fn prefers_direct(ctx: &GpuContext, out_channels: usize) -> bool {
    ctx.is_cpu_emulated() || out_channels < 32
}

fn run(ctx: &Rc<GpuContext>, mode: &str, x: &Tensor, y: &Tensor, p: &Params, out_shape: Vec<usize>) -> Result<Tensor> {
    let bytes = (checked_numel(mode, &out_shape)? * 4) as u64;
    let out = ctx.alloc(mode, bytes)?;
    let kernel = ctx.kernel(mode, || format!("{WINDOW}\n{}", fill_template(SHADER, &[("MODE", mode)])));
    let buffers = [x.gpu_buffer().raw(), y.gpu_buffer().raw(), out.raw()];
    ctx.dispatch(&kernel, bytemuck::bytes_of(p), &buffers, grid_2d(p.total.div_ceil(256) as u64)?);
    Ok(Tensor::from_storage(x.device(), Rc::new(Storage::Gpu(out)), out_shape, DType::F32))
}

/// conv2d of x by `filter` ([kh, kw, c, co]), geometry already checked: [n, oh, ow, co].
pub fn forward(ctx: &Rc<GpuContext>, x: &Tensor, filter: &Tensor, g: &Geometry) -> Result<Tensor> {
    let co = filter.shape()[3];
    let threads = (g.n * g.oh * g.ow).div_ceil(4) * co.div_ceil(4);
    let mut p = g.params(threads, 0.0);
    p.co = co as u32;
    run(ctx, "conv2d", x, filter, &p, vec![g.n, g.oh, g.ow, co])
}

/// d loss / d filter from the image x and dy, the gradient of the conv2d output.
pub fn filter_grad(ctx: &Rc<GpuContext>, x: &Tensor, dy: &Tensor, g: &Geometry, filter_shape: &[usize]) -> Result<Tensor> {
    let co = filter_shape[3];
    let rows = g.kh * g.kw * g.c;
    let per_split = rows * co.div_ceil(4);
    let pixels = g.n * g.oh * g.ow;
    let splits = (pixels / MIN_CHUNK).clamp(1, TARGET_THREADS.div_ceil(per_split).max(1));
    let chunk = pixels.div_ceil(splits).max(1);
    let splits = pixels.div_ceil(chunk).max(1);
    let mut p = g.params(splits * per_split, 0.0);
    p.co = co as u32;
    p.chunk = chunk as u32;
    let partial = run(ctx, "conv2d_filter_grad", x, dy, &p, vec![splits, rows * co])?;
    super::sum(&partial, Some(&[0]), false)?.reshape_to(filter_shape)
}
