//! im2col and col2im for NHWC images: the two linear maps convolutions and pools are built on
//! (each is the other's gradient). `Geometry` holds the TF.js padding arithmetic.
use std::rc::Rc;

use bytemuck::Zeroable;

use crate::autograd::{no_grad, record};
use crate::device::gpu::grid_2d;
use crate::device::Device;
use crate::kernel::Source;
use crate::shape::checked_numel;
use crate::tensor::{Storage, Tensor};
use crate::{bail, DType, Result};

/// The geometry uniform and window helpers, prepended to im2col.wgsl and pool.wgsl.
pub(crate) const WINDOW: &str = include_str!("../../shaders/window.wgsl");
const SHADER: &str = include_str!("../../shaders/im2col.wgsl");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding {
    Same,
    Valid,
    /// Explicit (top, bottom, left, right).
    Explicit(usize, usize, usize, usize),
}

impl Padding {
    pub fn parse(op: &str, s: &str) -> Result<Padding> {
        match s {
            "same" => Ok(Padding::Same),
            "valid" => Ok(Padding::Valid),
            other => bail!(op, "padding '{other}' is not 'same' or 'valid'"),
        }
    }
}

/// Where a kernel window reads an NHWC image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    pub n: usize,
    pub h: usize,
    pub w: usize,
    pub c: usize,
    pub kh: usize,
    pub kw: usize,
    pub sh: usize,
    pub sw: usize,
    pub dh: usize,
    pub dw: usize,
    pub oh: usize,
    pub ow: usize,
    pub pad_top: usize,
    pub pad_left: usize,
}

impl Geometry {
    /// TF.js conventions: 'same' gives ceil(in / stride) outputs with the extra padding at the
    /// bottom/right; 'valid' uses no padding.
    #[allow(clippy::too_many_arguments)]
    pub fn new(op: &str, input: &[usize], kernel: (usize, usize), strides: (usize, usize), dilations: (usize, usize), padding: Padding) -> Result<Geometry> {
        if input.len() != 4 {
            bail!(op, "input must be NHWC (rank 4), got shape {:?}", input);
        }
        let (n, h, w, c) = (input[0], input[1], input[2], input[3]);
        let (kh, kw) = kernel;
        let (sh, sw) = strides;
        let (dh, dw) = dilations;
        if kh == 0 || kw == 0 || sh == 0 || sw == 0 || dh == 0 || dw == 0 {
            bail!(op, "kernel {:?}, strides {:?} and dilations {:?} must be positive", kernel, strides, dilations);
        }
        if (sh > 1 || sw > 1) && (dh > 1 || dw > 1) {
            bail!(op, "strides {:?} and dilations {:?} cannot both exceed 1 (as in TF.js)", strides, dilations);
        }
        // In u64: on wasm32 usize is 32 bits, and a padding or dilation near 2^31 would wrap.
        let big = |v: usize| v as u64;
        let (ekh, ekw) = ((big(kh) - 1) * big(dh) + 1, (big(kw) - 1) * big(dw) + 1);
        let (oh, ow, pt, pl) = match padding {
            Padding::Same => {
                let (oh, ow) = (big(h).div_ceil(big(sh)), big(w).div_ceil(big(sw)));
                let pad_h = ((oh.max(1) - 1) * big(sh) + ekh).saturating_sub(big(h));
                let pad_w = ((ow.max(1) - 1) * big(sw) + ekw).saturating_sub(big(w));
                (oh, ow, pad_h / 2, pad_w / 2)
            }
            Padding::Valid => {
                if big(h) < ekh || big(w) < ekw {
                    bail!(op, "a {}x{} window (dilated) does not fit a {}x{} image with 'valid' padding", ekh, ekw, h, w);
                }
                ((big(h) - ekh) / big(sh) + 1, (big(w) - ekw) / big(sw) + 1, 0, 0)
            }
            Padding::Explicit(t, b, l, r) => {
                let (ph, pw) = (big(h) + big(t) + big(b), big(w) + big(l) + big(r));
                if ph < ekh || pw < ekw {
                    bail!(op, "a {}x{} window does not fit the padded {}x{} image", ekh, ekw, ph, pw);
                }
                ((ph - ekh) / big(sh) + 1, (pw - ekw) / big(sw) + 1, big(t), big(l))
            }
        };
        // Every size the kernels index with must fit their u32 parameters.
        let limit = u64::from(u32::MAX);
        if [ekh, ekw, oh, ow, pt, pl].iter().any(|&v| v > limit) {
            bail!(op, "input {:?} with kernel {:?}, strides {:?}, dilations {:?} and padding {:?} gives sizes past 2^32", input, kernel, strides, dilations, padding);
        }
        let (oh, ow, pt, pl) = (oh as usize, ow as usize, pt as usize, pl as usize);
        Ok(Geometry { n, h, w, c, kh, kw, sh, sw, dh, dw, oh, ow, pad_top: pt, pad_left: pl })
    }

    pub fn cols_shape(&self) -> Vec<usize> {
        vec![self.n * self.oh * self.ow, self.kh * self.kw * self.c]
    }

    pub(crate) fn params(&self, total: usize, pad_value: f32) -> WindowParams {
        WindowParams {
            n: self.n as u32,
            h: self.h as u32,
            w: self.w as u32,
            c: self.c as u32,
            oh: self.oh as u32,
            ow: self.ow as u32,
            kh: self.kh as u32,
            kw: self.kw as u32,
            sh: self.sh as u32,
            sw: self.sw as u32,
            dh: self.dh as u32,
            dw: self.dw as u32,
            pt: self.pad_top as u32,
            pl: self.pad_left as u32,
            total: total as u32,
            pad_value,
            ..WindowParams::zeroed()
        }
    }
}

crate::params! {
    /// The geometry of a sliding window over an NHWC image (shaders/window.wgsl and the kernels
    /// written over it): image, output and window sizes, strides, dilations, padding, the number
    /// of threads, and for convolutions the output channels and pixels per split-k chunk.
    pub struct WindowParams {
        n: u32, h: u32, w: u32, c: u32,
        oh: u32, ow: u32, kh: u32, kw: u32,
        sh: u32, sw: u32, dh: u32, dw: u32,
        pt: u32, pl: u32, total: u32, pad_value: f32,
        co: u32, chunk: u32, _pad0: u32, _pad1: u32,
    }
}

/// The source of a kernel written over the window geometry `src` declares, specialised by
/// `defines` and by the window's size (KH x KW, constants: loops over taps unroll, which
/// CPU-emulated GPUs do not do on their own), then window.wgsl and `body`.
pub(crate) fn window_source(src: Source, window: (u32, u32), defines: &str, body: &str) -> String {
    src.define(&format!("const KH: u32 = {}u;\nconst KW: u32 = {}u;\n{defines}", window.0, window.1)).body(&format!("{WINDOW}\n{body}"))
}

/// A `Source` over the window geometry.
pub(crate) fn window_params() -> Source {
    Source::new(&WindowParams::wgsl_fields())
}

/// Input pixel read by (output position, kernel tap), or None in the padding.
pub(crate) fn source_pixel(g: &Geometry, oy: usize, ox: usize, ky: usize, kx: usize) -> Option<(usize, usize)> {
    let iy = (oy * g.sh + ky * g.dh).checked_sub(g.pad_top)?;
    let ix = (ox * g.sw + kx * g.dw).checked_sub(g.pad_left)?;
    (iy < g.h && ix < g.w).then_some((iy, ix))
}

/// im2col on the CPU: for each output pixel and window row, the taps inside the image are
/// adjacent pixels when the window is not dilated, so their channels move as one run.
fn patches_cpu(src: &[f32], g: &Geometry, pad_value: f32, out: &mut [f32]) {
    let (c, row_len) = (g.c, g.kw * g.c);
    let mut rows = out.chunks_exact_mut(row_len.max(1));
    for n in 0..g.n {
        for oy in 0..g.oh {
            for ox in 0..g.ow {
                for ky in 0..g.kh {
                    let Some(dst) = rows.next() else { return };
                    let iy = (oy * g.sh + ky * g.dh).checked_sub(g.pad_top).filter(|&iy| iy < g.h);
                    let Some(iy) = iy else {
                        dst.fill(pad_value);
                        continue;
                    };
                    let line = &src[(n * g.h + iy) * g.w * c..][..g.w * c];
                    if g.dw == 1 {
                        // Taps kx in [lo, hi) read columns x0 + kx, inside [0, w).
                        let x0 = (ox * g.sw) as isize - g.pad_left as isize;
                        let lo = (-x0).clamp(0, g.kw as isize) as usize;
                        let hi = (g.w as isize - x0).clamp(lo as isize, g.kw as isize) as usize;
                        dst[..lo * c].fill(pad_value);
                        dst[hi * c..].fill(pad_value);
                        if hi > lo {
                            let first = (x0 + lo as isize) as usize * c;
                            dst[lo * c..hi * c].copy_from_slice(&line[first..first + (hi - lo) * c]);
                        }
                    } else {
                        for (kx, tap) in dst.chunks_exact_mut(c.max(1)).enumerate() {
                            match (ox * g.sw + kx * g.dw).checked_sub(g.pad_left).filter(|&ix| ix < g.w) {
                                Some(ix) => tap.copy_from_slice(&line[ix * c..][..c]),
                                None => tap.fill(pad_value),
                            }
                        }
                    }
                }
            }
        }
    }
}

fn run(op: &str, x: &Tensor, g: &Geometry, to_cols: bool, pad_value: f32) -> Result<Tensor> {
    let out_shape = if to_cols { g.cols_shape() } else { vec![g.n, g.h, g.w, g.c] };
    let total = checked_numel(op, &out_shape)?;
    let storage = match x.device() {
        Device::Cpu => {
            let words = x.cpu_words()?;
            let src: &[f32] = bytemuck::cast_slice(&words[..]);
            let mut out_words = crate::tensor::alloc_words(op, total)?;
            let out: &mut [f32] = bytemuck::cast_slice_mut(&mut out_words);
            if to_cols {
                patches_cpu(src, g, pad_value, out);
                return Ok(Tensor::from_storage(x.device(), Rc::new(Storage::cpu(out_words)), out_shape, DType::F32));
            }
            for n in 0..g.n {
                for oy in 0..g.oh {
                    for ox in 0..g.ow {
                        for ky in 0..g.kh {
                            for kx in 0..g.kw {
                                let col = ((((n * g.oh + oy) * g.ow + ox) * g.kh + ky) * g.kw + kx) * g.c;
                                let pix = source_pixel(g, oy, ox, ky, kx).map(|(iy, ix)| ((n * g.h + iy) * g.w + ix) * g.c);
                                // A pixel's channels are contiguous on both sides: move them as a run.
                                match (to_cols, pix) {
                                    (true, Some(p)) => out[col..col + g.c].copy_from_slice(&src[p..p + g.c]),
                                    (true, None) => out[col..col + g.c].fill(pad_value),
                                    (false, Some(p)) => out[p..p + g.c].iter_mut().zip(&src[col..col + g.c]).for_each(|(o, v)| *o += v),
                                    (false, None) => {}
                                }
                            }
                        }
                    }
                }
            }
            Storage::cpu(out_words)
        }
        Device::Gpu(ctx) => {
            let out = ctx.alloc(op, (total * 4) as u64)?;
            let mode = if to_cols { "im2col" } else { "col2im" };
            let key = format!("{mode}:{}x{}", g.kh, g.kw);
            let kernel = ctx.kernel(&key, || {
                let src = window_params().buffer("dst", "f32", true).buffer("src", "f32", false);
                window_source(src, (g.kh as u32, g.kw as u32), &format!("fn mode(t: u32) -> f32 {{ return {mode}(t); }}"), SHADER)
            });
            let params = g.params(total, pad_value);
            ctx.dispatch(&kernel, bytemuck::bytes_of(&params), &[out.raw(), x.gpu_buffer()?.raw()], grid_2d(total.div_ceil(256) as u64)?);
            Storage::gpu(out)
        }
    };
    Ok(Tensor::from_storage(x.device(), Rc::new(storage), out_shape, DType::F32))
}

/// Patches of `x` (NHWC) as rows: [n*oh*ow, kh*kw*c]; positions in the padding read `pad_value`.
pub fn im2col(x: &Tensor, g: &Geometry, pad_value: f32) -> Result<Tensor> {
    const OP: &str = "im2col";
    if x.dtype() != DType::F32 || x.shape() != [g.n, g.h, g.w, g.c] {
        bail!(OP, "expects a float32 image of shape {:?}, got {:?} {}", [g.n, g.h, g.w, g.c], x.shape(), x.dtype());
    }
    let out = no_grad(|| run(OP, x, g, true, pad_value))?;
    let geometry = *g;
    Ok(record(OP, out, &[x], move |gr| Ok(vec![Some(col2im(gr.grad, &geometry)?)])))
}

/// The adjoint of im2col: sums patch rows back into an NHWC image.
pub fn col2im(cols: &Tensor, g: &Geometry) -> Result<Tensor> {
    const OP: &str = "col2im";
    if cols.dtype() != DType::F32 || cols.shape() != g.cols_shape() {
        bail!(OP, "expects float32 columns of shape {:?}, got {:?} {}", g.cols_shape(), cols.shape(), cols.dtype());
    }
    let out = no_grad(|| run(OP, cols, g, false, 0.0))?;
    let geometry = *g;
    Ok(record(OP, out, &[cols], move |gr| Ok(vec![Some(im2col(gr.grad, &geometry, 0.0)?)])))
}
