//! The GPU's direct convolution kernels (shaders/conv2d.wgsl): the forward pass and the filter
//! gradient read the image where it lies instead of going through an im2col patch matrix, which
//! for a 3x3 window is 9 times the image and, for few channels, feeds a skinny GEMM.
use std::rc::Rc;


use bytemuck::{Pod, Zeroable};

use super::im2col::{Geometry, Params, WINDOW};
use super::matmul;
use crate::device::gpu::{grid_2d, GpuContext};
use crate::kernel::fill_template;
use crate::shape::checked_numel;
use crate::tensor::{Storage, Tensor};
use crate::{DType, Result};

/// A convolution shader: its source and the name that keys its kernels in the cache.
struct Shader {
    name: &'static str,
    source: &'static str,
}

const SHADER: Shader = Shader { name: "conv2d", source: include_str!("../../shaders/conv2d.wgsl") };
const VEC4_SHADER: Shader = Shader { name: "conv2d_vec4", source: include_str!("../../shaders/conv2d_vec4.wgsl") };

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

/// Runs `mode` of `shader` (both with the window geometry) on buffers x, y and a new output.
fn run(ctx: &Rc<GpuContext>, shader: &Shader, mode: &str, x: &Tensor, y: &Tensor, p: &Params, out_shape: Vec<usize>) -> Result<Tensor> {
    let bytes = (checked_numel(mode, &out_shape)? * 4) as u64;
    let out = ctx.alloc(mode, bytes)?;
    let key = format!("{}:{mode}", shader.name);
    let kernel = ctx.kernel(&key, || format!("{WINDOW}\n{}", fill_template(shader.source, &[("MODE", mode)])));
    let buffers = [x.gpu_buffer()?.raw(), y.gpu_buffer()?.raw(), out.raw()];
    ctx.dispatch(&kernel, bytemuck::bytes_of(p), &buffers, grid_2d(p.total.div_ceil(256) as u64)?);
    Ok(Tensor::from_storage(x.device(), Rc::new(Storage::gpu(out)), out_shape, DType::F32))
}

/// Whether conv2d and its gradients can read channels as vec4s (shaders/conv2d_vec4.wgsl).
fn channels_in_vec4(g: &Geometry, co: usize) -> bool {
    g.c % 4 == 0 && co % 4 == 0
}

/// conv2d of x by `filter` ([kh, kw, c, co]), geometry already checked: [n, oh, ow, co].
pub fn forward(ctx: &Rc<GpuContext>, x: &Tensor, filter: &Tensor, g: &Geometry) -> Result<Tensor> {
    let co = filter.shape()[3];
    if ctx.is_cpu_emulated() && g.c % 4 == 0 && co % 4 == 0 && co >= 64 {
        return forward_vec4(ctx, x, filter, g);
    }
    if channels_in_vec4(g, co) {
        let mut p = g.params((g.n * g.oh * g.ow).div_ceil(4) * (co / 4), 0.0);
        p.co = co as u32;
        return run(ctx, &VEC4_SHADER, "forward", x, filter, &p, vec![g.n, g.oh, g.ow, co]);
    }
    let threads = (g.n * g.oh * g.ow).div_ceil(4) * co.div_ceil(4);
    let mut p = g.params(threads, 0.0);
    p.co = co as u32;
    run(ctx, &SHADER, "conv2d", x, filter, &p, vec![g.n, g.oh, g.ow, co])
}

/// d loss / d filter from the image x and dy, the gradient of the conv2d output. The reduction
/// runs over every output pixel, so it is split into chunks (enough threads to fill the GPU),
/// summed afterwards.
pub fn filter_grad(ctx: &Rc<GpuContext>, x: &Tensor, dy: &Tensor, g: &Geometry, filter_shape: &[usize]) -> Result<Tensor> {
    let co = filter_shape[3];
    let rows = g.kh * g.kw * g.c;
    let vec4 = channels_in_vec4(g, co);
    let per_split = if vec4 { g.kh * g.kw * (g.c / 4) * co.div_ceil(8) } else { rows * co.div_ceil(4) };
    let pixels = g.n * g.oh * g.ow;
    let splits = (pixels / MIN_CHUNK).clamp(1, TARGET_THREADS.div_ceil(per_split).max(1));
    let chunk = pixels.div_ceil(splits).max(1);
    let splits = pixels.div_ceil(chunk).max(1);
    let mut p = g.params(splits * per_split, 0.0);
    p.co = co as u32;
    p.chunk = chunk as u32;
    let partial = if vec4 {
        run(ctx, &VEC4_SHADER, "filter_grad", x, dy, &p, vec![splits, rows * co])?
    } else {
        run(ctx, &SHADER, "conv2d_filter_grad", x, dy, &p, vec![splits, rows * co])?
    };
    super::sum(&partial, Some(&[0]), false)?.reshape_to(filter_shape)
}

/// d loss / d x from dy and the filter when channels come in fours (else None: the caller takes
/// the transposed convolution through matmul and col2im).
pub fn input_grad(ctx: &Rc<GpuContext>, dy: &Tensor, filter: &Tensor, g: &Geometry) -> Result<Option<Tensor>> {
    let co = filter.shape()[3];
    if !channels_in_vec4(g, co) {
        return Ok(None);
    }
    let mut p = g.params((g.n * g.h * g.w).div_ceil(4) * (g.c / 4), 0.0);
    p.co = co as u32;
    Ok(Some(run(ctx, &VEC4_SHADER, "input_grad", dy, filter, &p, vec![g.n, g.h, g.w, g.c])?))
}

/// matmul_vec4.wgsl's Params followed by the image geometry its A reads go through.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct GemmParams {
    gemm: matmul::Params,
    image: [u32; 12],
}

const GEOMETRY_FIELDS: &str = "h: u32, w: u32, c: u32, oh: u32, ow: u32, kw: u32, sh: u32, sw: u32, dh: u32, dw: u32, pt: u32, pl: u32,";

/// The forward pass as matmul_vec4.wgsl (8x8 of the output per thread, vec4 reads) with A, the
/// patch matrix, read through the im2col map instead of materialised: a vec4 is four input
/// channels of one pixel, so the channels must come in fours. The tap and channel quad advance
/// with k, without division; rows whose tap falls in the padding read zeros. Taken for 64 or more
/// output channels: a workgroup covers 64, and with 32 half of it idles, where the 4x4 kernel is
/// faster (SwiftShader, 8x32x32x16 by 3x3x16: co 32 34 vs 48 ms; co 64 68 vs 54 ms).
fn forward_vec4(ctx: &Rc<GpuContext>, x: &Tensor, filter: &Tensor, g: &Geometry) -> Result<Tensor> {
    let co = filter.shape()[3];
    let pixels = g.n * g.oh * g.ow;
    let mut gemm = matmul::Params::zeroed();
    (gemm.m, gemm.n, gemm.k, gemm.b_rs, gemm.b_cs) = (pixels as u32, co as u32, (g.kh * g.kw * g.c) as u32, co as u32, 1);
    let image = [g.h, g.w, g.c, g.oh, g.ow, g.kw, g.sh, g.sw, g.dh, g.dw, g.pad_top, g.pad_left].map(|v| v as u32);
    let kernel = ctx.kernel("conv2d_vec4", || {
        let mut setup = String::from("    let c4 = p.c / 4u;\n");
        let mut load = String::from("        let ty = i32(ky * p.dh);\n        let tx = i32(kx * p.dw);\n");
        for i in 0..8 {
            setup += &format!("    let px{i} = min(r + {i}u, p.m - 1u);\n");
            setup += &format!("    let img{i} = px{i} / (p.ow * p.oh) * p.h * p.w * c4;\n");
            setup += &format!("    let y{i} = i32((px{i} / p.ow) % p.oh * p.sh) - i32(p.pt);\n");
            setup += &format!("    let x{i} = i32(px{i} % p.ow * p.sw) - i32(p.pl);\n");
            load += &format!("        let iy{i} = y{i} + ty; let ix{i} = x{i} + tx;\n");
            load += &format!("        let ok{i} = iy{i} >= 0 && ix{i} >= 0 && iy{i} < i32(p.h) && ix{i} < i32(p.w);\n");
            load += &format!("        let a{i} = select(vec4<f32>(0.0), a[select(0u, img{i} + (u32(iy{i}) * p.w + u32(ix{i})) * c4 + ci4, ok{i})], ok{i});\n");
        }
        setup += "    var ci4 = 0u;\n    var kx = 0u;\n    var ky = 0u;\n";
        load += "        ci4 = ci4 + 1u;\n        if (ci4 == c4) { ci4 = 0u; kx = kx + 1u; if (kx == p.kw) { kx = 0u; ky = ky + 1u; } }\n";
        matmul::vec4_source_with(GEOMETRY_FIELDS, &setup, &load, false)
    });
    let out = ctx.alloc("conv2d", (pixels * co * 4) as u64)?;
    let grid = [co.div_ceil(64) as u32, pixels.div_ceil(64) as u32, 1];
    if grid[1] > crate::device::gpu::MAX_WORKGROUPS_PER_DIM {
        crate::bail!("conv2d", "output [{}, {}, {}, {}] is too large for one dispatch", g.n, g.oh, g.ow, co);
    }
    let buffers = [x.gpu_buffer()?.raw(), filter.gpu_buffer()?.raw(), out.raw()];
    ctx.dispatch(&kernel, bytemuck::bytes_of(&GemmParams { gemm, image }), &buffers, grid);
    Ok(Tensor::from_storage(x.device(), Rc::new(Storage::gpu(out)), vec![g.n, g.oh, g.ow, co], DType::F32))
}
