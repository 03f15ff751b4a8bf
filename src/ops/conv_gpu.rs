//! The GPU's direct convolution kernels (shaders/conv2d.wgsl): the forward pass and the filter
//! gradient read the image where it lies instead of going through an im2col patch matrix, which
//! for a 3x3 window is 9 times the image and, for few channels, feeds a skinny GEMM.
use std::rc::Rc;


use bytemuck::Zeroable;

use super::im2col::{window_params, window_source, Geometry, WindowParams};
use super::matmul;
use crate::device::gpu::{grid_2d, GpuContext};
use crate::shape::checked_numel;
use crate::tensor::{Storage, Tensor};
use crate::{DType, Result};

/// A convolution shader: its source, the name that keys its kernels in the cache, and the element
/// type it reads x and y as.
struct Shader {
    name: &'static str,
    source: &'static str,
    elem: &'static str,
}

const SHADER: Shader = Shader { name: "conv2d", source: include_str!("../../shaders/conv2d.wgsl"), elem: "f32" };
const VEC4_SHADER: Shader = Shader { name: "conv2d_vec4", source: include_str!("../../shaders/conv2d_vec4.wgsl"), elem: "vec4<f32>" };

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
fn run(ctx: &Rc<GpuContext>, shader: &Shader, mode: &str, x: &Tensor, y: &Tensor, p: &WindowParams, out_shape: Vec<usize>) -> Result<Tensor> {
    let bytes = (checked_numel(mode, &out_shape)? * 4) as u64;
    let out = ctx.alloc(mode, bytes)?;
    let key = format!("{}:{mode}:{}x{}", shader.name, p.kh, p.kw);
    let kernel = ctx.kernel(&key, || {
        let src = window_params().buffer("out", "f32", true).buffer("x", shader.elem, false).buffer("y", shader.elem, false);
        window_source(src, (p.kh, p.kw), &format!("fn mode(t: u32) {{ {mode}(t); }}"), shader.source)
    });
    let buffers = [out.raw(), x.gpu_buffer()?.raw(), y.gpu_buffer()?.raw()];
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

crate::params! {
    /// matmul_vec4.wgsl's parameters (as MatmulParams) followed by the image geometry its A reads
    /// go through.
    pub struct ConvGemmParams {
        m: u32, n: u32, k: u32, _pad0: u32,
        a_rs: u32, a_cs: u32, b_rs: u32, b_cs: u32,
        a_bs: u32, b_bs: u32, splits: u32, k_chunk: u32,
        h: u32, w: u32, c: u32, oh: u32,
        ow: u32, kw: u32, sh: u32, sw: u32,
        dh: u32, dw: u32, pt: u32, pl: u32,
    }
}

/// The patch matrix's rows r..r+7 at k = 4kq, read through the im2col map: a vec4 is four input
/// channels of one pixel; the tap (ky, kx) and channel quad advance with k, without division; rows
/// whose tap falls in the padding read zeros.
fn reads_through_im2col() -> matmul::Vec4Reads {
    let f = |name: String, ty: &str, init: String| (name, ty.to_string(), init);
    let mut fields = vec![f("c4".into(), "u32", "p.c / 4u".into())];
    let mut load = String::from("    let ty = i32((*s).ky * p.dh);\n    let tx = i32((*s).kx * p.dw);\n    let ci4 = (*s).ci4;\n");
    for i in 0..8 {
        let px = format!("min(r + {i}u, p.m - 1u)");
        fields.push(f(format!("img{i}"), "u32", format!("{px} / (p.ow * p.oh) * p.h * p.w * (p.c / 4u)")));
        fields.push(f(format!("y{i}"), "i32", format!("i32(({px} / p.ow) % p.oh * p.sh) - i32(p.pt)")));
        fields.push(f(format!("x{i}"), "i32", format!("i32({px} % p.ow * p.sw) - i32(p.pl)")));
        load += &format!("    let iy{i} = (*s).y{i} + ty; let ix{i} = (*s).x{i} + tx;\n");
        load += &format!("    let ok{i} = iy{i} >= 0 && ix{i} >= 0 && iy{i} < i32(p.h) && ix{i} < i32(p.w);\n");
        load += &format!("    let a{i} = select(vec4<f32>(0.0), a[select(0u, (*s).img{i} + (u32(iy{i}) * p.w + u32(ix{i})) * (*s).c4 + ci4, ok{i})], ok{i});\n");
    }
    for name in ["ci4", "kx", "ky"] {
        fields.push(f(name.into(), "u32", "0u".into()));
    }
    load += "    (*s).ci4 = ci4 + 1u;\n    if ((*s).ci4 == (*s).c4) { (*s).ci4 = 0u; (*s).kx = (*s).kx + 1u; if ((*s).kx == p.kw) { (*s).kx = 0u; (*s).ky = (*s).ky + 1u; } }\n";
    load += "    return array<vec4<f32>, 8>(a0, a1, a2, a3, a4, a5, a6, a7);\n";
    matmul::Vec4Reads { fields, load }
}

/// The forward pass as matmul_vec4.wgsl (8x8 of the output per thread, vec4 reads) with A, the
/// patch matrix, read through the im2col map instead of materialised: a vec4 is four input
/// channels of one pixel, so the channels must come in fours. The tap and channel quad advance
/// with k, without division; rows whose tap falls in the padding read zeros. Taken for 64 or more
/// output channels: a workgroup covers 64, and with 32 half of it idles, where the 4x4 kernel is
/// faster (SwiftShader, 8x32x32x16 by 3x3x16: co 32 34 vs 48 ms; co 64 68 vs 54 ms).
fn forward_vec4(ctx: &Rc<GpuContext>, x: &Tensor, filter: &Tensor, g: &Geometry) -> Result<Tensor> {
    let co = filter.shape()[3];
    let pixels = g.n * g.oh * g.ow;
    let mut p = ConvGemmParams::zeroed();
    (p.m, p.n, p.k, p.b_rs, p.b_cs) = (pixels as u32, co as u32, (g.kh * g.kw * g.c) as u32, co as u32, 1);
    [p.h, p.w, p.c, p.oh, p.ow, p.kw, p.sh, p.sw, p.dh, p.dw, p.pt, p.pl] = [g.h, g.w, g.c, g.oh, g.ow, g.kw, g.sh, g.sw, g.dh, g.dw, g.pad_top, g.pad_left].map(|v| v as u32);
    let kernel = ctx.kernel("conv2d_vec4", || matmul::vec4_source_with(&ConvGemmParams::wgsl_fields(), &reads_through_im2col(), &matmul::vec4_reads_of_b(false)));

    let out = ctx.alloc("conv2d", (pixels * co * 4) as u64)?;
    let grid = [co.div_ceil(64) as u32, pixels.div_ceil(64) as u32, 1];
    if grid[1] > crate::device::gpu::MAX_WORKGROUPS_PER_DIM {
        crate::bail!("conv2d", "output [{}, {}, {}, {}] is too large for one dispatch", g.n, g.oh, g.ow, co);
    }
    let buffers = [out.raw(), x.gpu_buffer()?.raw(), filter.gpu_buffer()?.raw()];
    ctx.dispatch(&kernel, bytemuck::bytes_of(&p), &buffers, grid);
    Ok(Tensor::from_storage(x.device(), Rc::new(Storage::gpu(out)), vec![g.n, g.oh, g.ow, co], DType::F32))
}
