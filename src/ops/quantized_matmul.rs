//! Weight-only quantized matmul: y = x W for a weight W [k, n] held as 4- or 8-bit codes in
//! blocks, each block with its own scale and zero point. The codes stay packed on the device
//! (eight 4-bit or four 8-bit codes a word: an eighth or a quarter of f32's bytes, plus a scale
//! per block); kernels dequantize in registers, so no f32 copy of the weight ever exists.
//!
//! Layout (onnxruntime's MatMulNBits): W is stored transposed, one row per output column n; row
//! n holds `blocks = ceil(k / block)` blocks of `block` codes, padded at the end of the last one.
//! Codes are little-endian, lowest bits first: code e of a word is (word >> (bits * e)) & mask.
//! A block's value at code c is (c - zero) * scale in f32, with zero = 2^(bits - 1) when no zero
//! points are given (symmetric quantization). Per-channel int8 is bits 8 with block >= k.
//! Bits 16 holds IEEE half-precision values as the codes (two a word): a block's value is then
//! (half - zero) * scale with zero 0 by default; a float16 weight is one block a column of scale 1
//! (`from_halves`), held at half of float32's bytes and widened in registers like any codes.
//!
//! On the GPU a prompt-shaped product (many rows) runs as the tiled f32 GEMM over slabs of W's
//! columns dequantized a slab at a time (at most `SLAB_VALUES` values, 8 MiB, live at once), and
//! so does its gradient:
//! the per-column kernel would read and unpack every code once per 4 rows. The whole weight is
//! never held in f32.
//!
//! The gradient reaches x only (dx = dy W^T, the same kernel reading W transposed): the
//! quantized weight is frozen, as in QLoRA-style fine-tuning of the layers around it.
use std::rc::Rc;

use super::quantized_cpu::{self, Packed};
use crate::autograd::{no_grad, record};
use crate::device::gpu::grid_2d;
use crate::device::Device;
use crate::kernel::Source;
use crate::tensor::{alloc_words, common_device, Storage};
use crate::{bail, DType, Result, Tensor};

const OP: &str = "quantized_matmul";
/// Rows from which the GPU's product runs as the tiled GEMM over dequantized slabs.
const SLAB_ROWS: usize = 16;
/// The most f32 values of W dequantized at once on that path.
const SLAB_VALUES: usize = 1 << 21;

crate::params! {
    /// shaders/quantize_weight.wgsl's parameters: W [k, n] into `blocks` blocks of `block` codes.
    pub struct QuantizeParams { k: u32, n: u32, blocks: u32, words: u32, bits: u32, block: u32, symmetric: u32, _pad0: u32 }
}

crate::params! {
    /// shaders/quantized_matmul.wgsl's parameters: x as [m, k] (or [m, n] read against W^T), W as
    /// [n, blocks, words] codes of `bits` each, `block` codes a block.
    pub struct QuantParams { m: u32, n: u32, k: u32, blocks: u32, words: u32, bits: u32, block: u32, has_zero: u32 }
}

/// A weight W [k, n] quantized in blocks along k: packed codes, per-block scales and zero points.
#[derive(Clone)]
pub struct QuantizedMatrix {
    /// [n, blocks, block * bits / 32] words (held as int32).
    pub codes: Tensor,
    /// [n, blocks] float32.
    pub scales: Tensor,
    /// [n, blocks] float32 codes; None means 2^(bits - 1) (0 for half-precision codes).
    pub zero_points: Option<Tensor>,
    pub bits: usize,
    pub block: usize,
    pub k: usize,
    pub n: usize,
}

impl QuantizedMatrix {
    /// Wraps packed codes with their scales (and zero points), checking that the shapes agree.
    pub fn new(codes: Tensor, scales: Tensor, zero_points: Option<Tensor>, bits: usize, block: usize, k: usize, n: usize) -> Result<QuantizedMatrix> {
        if bits != 4 && bits != 8 && bits != 16 {
            bail!(OP, "{bits}-bit codes are not supported (4, 8 and 16 (half precision) are)");
        }
        if block == 0 || block > 1 << 20 || block * bits % 32 != 0 {
            bail!(OP, "a block of {block} {bits}-bit codes does not fill whole 32-bit words (block * bits must be a multiple of 32, block at most 2^20)");
        }
        let blocks = k.div_ceil(block);
        let words = block * bits / 32;
        let mut tensors = vec![(&codes, "codes", vec![n, blocks, words], DType::I32), (&scales, "scales", vec![n, blocks], DType::F32)];
        if let Some(z) = &zero_points {
            tensors.push((z, "zero points", vec![n, blocks], DType::F32));
        }
        for (t, name, shape, dtype) in &tensors {
            if Some(t.numel()) != shape.iter().try_fold(1usize, |a, &b| a.checked_mul(b)) || t.dtype() != *dtype {
                bail!(OP, "{name} of a [{k}, {n}] weight in blocks of {block} must be {dtype} {shape:?}, got {} {:?}", t.dtype(), t.shape());
            }
        }
        let all: Vec<&Tensor> = tensors.iter().map(|t| t.0).collect();
        common_device(OP, &all)?;
        if codes.numel() > u32::MAX as usize || k > u32::MAX as usize || n > u32::MAX as usize {
            bail!(OP, "a [{k}, {n}] weight is too large");
        }
        let reshape = |t: &Tensor, s: &[usize]| t.reshape_to(s);
        Ok(QuantizedMatrix {
            codes: reshape(&codes, &[n, blocks, words])?,
            scales: reshape(&scales, &[n, blocks])?,
            zero_points: zero_points.map(|z| reshape(&z, &[n, blocks])).transpose()?,
            bits,
            block,
            k,
            n,
        })
    }

    /// Quantizes W [k, n] (row-major values on the host) to `bits` in blocks of `block` along k:
    /// symmetric (codes -2^(bits-1) .. 2^(bits-1) - 1 about the default zero, scale absmax /
    /// (2^(bits-1) - 1)) or affine (min and max of each block, a zero point per block).
    pub fn quantize(device: &Device, w: &[f32], k: usize, n: usize, bits: usize, block: usize, symmetric: bool) -> Result<QuantizedMatrix> {
        if Some(w.len()) != k.checked_mul(n) {
            bail!(OP, "{} values for a [{k}, {n}] weight", w.len());
        }
        if let Some(bad) = w.iter().find(|v| !v.is_finite()) {
            bail!(OP, "cannot quantize the non-finite value {bad}");
        }
        if bits != 4 && bits != 8 || block == 0 || block > 1 << 20 || block * bits % 32 != 0 {
            bail!(OP, "cannot quantize to {bits} bits in blocks of {block} (4 or 8 bits; block * bits a multiple of 32)");
        }
        let blocks = k.div_ceil(block);
        let per_word = 32 / bits;
        let levels = (1u32 << bits) - 1;
        // Sizes by checked products: a block far longer than k (say 2^20 codes for k = 1) pads
        // each column to a whole block, which must still be allocatable.
        let code_words = n.checked_mul(blocks).and_then(|c| c.checked_mul(block / per_word));
        let mut codes = alloc_words(OP, code_words.ok_or_else(|| crate::Error::new(OP, format!("a [{k}, {n}] weight in blocks of {block} is too large")))?)?;
        let mut scales = vec![0f32; n * blocks];
        let mut zeros = vec![0f32; n * blocks];
        for col in 0..n {
            for b in 0..blocks {
                let rows = b * block..((b + 1) * block).min(k);
                let vals: Vec<f32> = rows.clone().map(|r| w[r * n + col]).collect();
                let (scale, zero) = if symmetric {
                    let absmax = vals.iter().fold(0f32, |m, v| m.max(v.abs()));
                    (absmax / ((levels / 2) as f32), (1u32 << (bits - 1)) as f32)
                } else {
                    let lo = vals.iter().fold(0f32, |m, &v| m.min(v));
                    let hi = vals.iter().fold(0f32, |m, &v| m.max(v));
                    let scale = (hi - lo) / levels as f32;
                    let zero = if scale > 0.0 { (-lo / scale).round().clamp(0.0, levels as f32) } else { 0.0 };
                    (scale, zero)
                };
                let at = col * blocks + b;
                scales[at] = scale;
                zeros[at] = zero;
                for (i, &v) in vals.iter().enumerate() {
                    let q = if scale > 0.0 { (v / scale).round_ties_even() + zero } else { zero };
                    let code = q.clamp(0.0, levels as f32) as u32;
                    let e = at * block + i;
                    codes[e / per_word] |= code << (bits * (e % per_word));
                }
            }
        }
        let zero_points = if symmetric { None } else { Some(Tensor::from_f32(device, &zeros, &[n, blocks])?) };
        QuantizedMatrix::new(
            Tensor::from_words(device, codes, &[n, blocks, block * bits / 32], DType::I32)?,
            Tensor::from_f32(device, &scales, &[n, blocks])?,
            zero_points,
            bits,
            block,
            k,
            n,
        )
    }

    /// W [k, n] given as half-precision bits (row-major, as a float16 initializer holds them):
    /// half-precision codes, one block a column (k rounded up to even), scale 1, no zero points.
    pub fn from_halves(device: &Device, w: &[u16], k: usize, n: usize) -> Result<QuantizedMatrix> {
        QuantizedMatrix::halves(device, w, k, n, |col, r| r * n + col)
    }

    /// The same from W^T [n, k] (an embedding table, whose rows are W's columns; a Gemm weight
    /// read transposed).
    pub fn from_half_rows(device: &Device, wt: &[u16], n: usize, k: usize) -> Result<QuantizedMatrix> {
        QuantizedMatrix::halves(device, wt, k, n, |col, r| col * k + r)
    }

    /// Half-precision codes of W [k, n] whose element (r, col) is `w[at(col, r)]`.
    fn halves(device: &Device, w: &[u16], k: usize, n: usize, at: impl Fn(usize, usize) -> usize) -> Result<QuantizedMatrix> {
        if Some(w.len()) != k.checked_mul(n) || k == 0 || k > 1 << 20 {
            bail!(OP, "{} halves for a [{k}, {n}] weight (k from 1 to 2^20)", w.len());
        }
        let block = k.next_multiple_of(2);
        let words = block / 2;
        let total = n.checked_mul(words).ok_or_else(|| crate::Error::new(OP, format!("a [{k}, {n}] weight is too large")))?;
        let mut codes = alloc_words(OP, total)?;
        // Column col of W is row col of the codes.
        let halves: &mut [u16] = bytemuck::cast_slice_mut(&mut codes);
        for col in 0..n {
            for (r, h) in halves[col * block..col * block + k].iter_mut().enumerate() {
                *h = w[at(col, r)];
            }
        }
        QuantizedMatrix::new(
            Tensor::from_words(device, codes, &[n, 1, words], DType::I32)?,
            crate::ops::ones(device, &[n, 1], DType::F32)?,
            None,
            16,
            block,
            k,
            n,
        )
    }

    /// Quantizes the float32 tensor W [k, n] where it lives: on the host (`quantize`) on the CPU
    /// backend, by one kernel on the GPU (one thread a block; same formulas, though WGSL's f32
    /// division may round a value lying on a rounding boundary to the neighbouring code). A
    /// non-finite weight is an error on the CPU; on the GPU it is not read back to be checked.
    pub fn from_tensor(w: &Tensor, bits: usize, block: usize, symmetric: bool) -> Result<QuantizedMatrix> {
        if w.dtype() != DType::F32 || w.rank() != 2 {
            bail!(OP, "the weight to quantize must be a float32 matrix [k, n], got {} {:?}", w.dtype(), w.shape());
        }
        let (k, n) = (w.shape()[0], w.shape()[1]);
        if bits == 16 {
            return QuantizedMatrix::halves_of(w, block, symmetric);
        }
        let Device::Gpu(ctx) = w.device() else {
            let words = w.cpu_words()?;
            return QuantizedMatrix::quantize(w.device(), bytemuck::cast_slice(&words), k, n, bits, block, symmetric);
        };
        if bits != 4 && bits != 8 || block == 0 || block > 1 << 20 || block * bits % 32 != 0 {
            bail!(OP, "cannot quantize to {bits} bits in blocks of {block} (4 or 8 bits; block * bits a multiple of 32)");
        }
        if w.numel() > u32::MAX as usize {
            bail!(OP, "a [{k}, {n}] weight is too large");
        }
        let (blocks, words) = (k.div_ceil(block), block * bits / 32);
        let codes = ctx.alloc(OP, n as u64 * blocks as u64 * words as u64 * 4)?;
        let scales = ctx.alloc(OP, (n * blocks * 4) as u64)?;
        let zeros = ctx.alloc(OP, if symmetric { 4 } else { (n * blocks * 4) as u64 })?;
        let p = QuantizeParams { k: k as u32, n: n as u32, blocks: blocks as u32, words: words as u32, bits: bits as u32, block: block as u32, symmetric: symmetric as u32, _pad0: 0 };
        let kernel = ctx.kernel("quantize_weight", || {
            Source::new(&QuantizeParams::wgsl_fields())
                .buffer("codes", "u32", true)
                .buffer("scales", "f32", true)
                .buffer("zeros", "f32", true)
                .buffer("w", "f32", false)
                .body(include_str!("../../shaders/quantize_weight.wgsl"))
        });
        ctx.dispatch(&kernel, bytemuck::bytes_of(&p), &[codes.raw(), scales.raw(), zeros.raw(), w.gpu_buffer()?.raw()], grid_2d((n * blocks).div_ceil(64) as u64)?);
        let dev = w.device();
        let tensor = |buf, shape: Vec<usize>, dtype| Tensor::from_storage(dev, Rc::new(Storage::gpu(buf)), shape, dtype);
        let zero_points = if symmetric { None } else { Some(tensor(zeros, vec![n, blocks], DType::F32)) };
        QuantizedMatrix::new(tensor(codes, vec![n, blocks, words], DType::I32), tensor(scales, vec![n, blocks], DType::F32), zero_points, bits, block, k, n)
    }

    /// W [k, n] as half-precision codes in blocks of `block` (even) along k, each of scale 1: the
    /// float32 values rounded to the nearest halves (ties to even) where they live, by a cast to
    /// float16 of W^T padded to whole blocks, whose words are the codes. Values beyond float16's
    /// range (65504) or not finite are an error on the CPU; on the GPU they are not read back to
    /// be checked (they become infinities).
    fn halves_of(w: &Tensor, block: usize, symmetric: bool) -> Result<QuantizedMatrix> {
        let (k, n) = (w.shape()[0], w.shape()[1]);
        if !symmetric || block == 0 || block % 2 != 0 || block > 1 << 20 {
            bail!(OP, "cannot hold half-precision codes in blocks of {block} (symmetric {symmetric}): halves take no zero points and blocks of an even count up to 2^20");
        }
        if let Device::Cpu = w.device() {
            let words = w.cpu_words()?;
            if let Some(bad) = bytemuck::cast_slice::<u32, f32>(&words).iter().find(|v| !(v.abs() < 65520.0)) {
                bail!(OP, "cannot hold {bad} as a half (beyond float16's 65504, or not finite)");
            }
        }
        let blocks = k.div_ceil(block);
        let padded = blocks.checked_mul(block).filter(|p| n.checked_mul(*p).is_some_and(|t| t <= u32::MAX as usize));
        let Some(padded) = padded else { bail!(OP, "a [{k}, {n}] weight in blocks of {block} is too large") };
        let wt = crate::ops::transpose(w, None)?;
        let wt = if padded > k { crate::ops::pad(&wt, &[(0, 0), (0, padded - k)], 0.0)? } else { wt };
        let halves = crate::ops::cast(&wt, DType::F16)?;
        halves.storage().data()?;
        let codes = Tensor::from_storage(w.device(), halves.storage().clone(), vec![n, blocks, block / 2], DType::I32);
        QuantizedMatrix::new(codes, crate::ops::ones(w.device(), &[n, blocks], DType::F32)?, None, 16, block, k, n)
    }

    /// The weight as float32 [k, n] (for checks and for callers that ask for f32 weights).
    pub fn dequantize(&self) -> Result<Tensor> {
        let wt = run(Mode::Dequantize, &self.codes, self, self.n, [self.n, self.k])?;
        crate::ops::transpose(&wt, None)
    }

    /// Columns `ids` of W, dequantized: [..ids, k]. W^T as an embedding table whose rows are
    /// quantized in blocks (onnxruntime's GatherBlockQuantized). No gradient: the table is frozen.
    /// An id outside [0, n) is an error on the CPU and reads zeros on the GPU (as `gather` does).
    pub fn embedding(&self, ids: &Tensor) -> Result<Tensor> {
        if ids.dtype() != DType::I32 {
            bail!(OP, "ids must be int32, got {}", ids.dtype());
        }
        common_device(OP, &[ids, &self.codes])?;
        let mut shape = ids.shape().to_vec();
        shape.push(self.k);
        run(Mode::Gather, ids, self, ids.numel(), [ids.numel(), self.k])?.reshape_to(&shape)
    }

    /// Bytes the weight holds on its device: codes, scales and zero points.
    pub fn size_bytes(&self) -> usize {
        self.codes.size_bytes() + self.scales.size_bytes() + self.zero_points.as_ref().map_or(0, |z| z.size_bytes())
    }

    fn params(&self, m: usize) -> QuantParams {
        QuantParams {
            m: m as u32,
            n: self.n as u32,
            k: self.k as u32,
            blocks: self.k.div_ceil(self.block) as u32,
            words: (self.block * self.bits / 32) as u32,
            bits: self.bits as u32,
            block: self.block as u32,
            has_zero: self.zero_points.is_some() as u32,
        }
    }
}

/// x [..., k] times W [k, n]: [..., n].
pub fn quantized_matmul(x: &Tensor, w: &QuantizedMatrix) -> Result<Tensor> {
    if x.dtype() != DType::F32 || x.rank() == 0 || x.shape()[x.rank() - 1] != w.k {
        bail!(OP, "x must be float32 [..., {}] for a [{}, {}] weight, got {} {:?}", w.k, w.k, w.n, x.dtype(), x.shape());
    }
    common_device(OP, &[x, &w.codes])?;
    let m = x.numel() / w.k.max(1);
    let mut out_shape = x.shape().to_vec();
    *out_shape.last_mut().unwrap() = w.n;
    let y = no_grad(|| match x.device() {
        Device::Gpu(_) if m >= SLAB_ROWS && w.n > 0 && w.k > 0 => by_slabs(x, w, m),
        _ => run(Mode::Forward, x, w, m, [m, w.n]),
    })?
    .reshape_to(&out_shape)?;
    let w = w.clone();
    let in_shape = x.shape().to_vec();
    Ok(record(OP, y, &[x], move |g| {
        crate::autograd::first_order_only(OP)?;
        let m = g.grad.numel() / w.n.max(1);
        let dx = no_grad(|| match g.grad.device() {
            Device::Gpu(_) if m >= SLAB_ROWS && w.n > 0 && w.k > 0 => by_slabs_transposed(g.grad, &w, m),
            _ => run(Mode::Transposed, g.grad, &w, m, [m, w.k]),
        })?;
        Ok(vec![Some(dx.reshape_to(&in_shape)?)])
    }))
}

/// x [m, k] W as the tiled f32 GEMM against slabs of W's columns, each dequantized (as W^T
/// rows, which is how the codes lie) just before its product: [m, n].
fn by_slabs(x: &Tensor, w: &QuantizedMatrix, m: usize) -> Result<Tensor> {
    let x = x.reshape_to(&[m, w.k])?;
    let parts = slabs(w, |_, _, wt| crate::ops::matmul(&x, wt, false, true))?;
    match parts.as_slice() {
        [one] => Ok(one.clone()),
        _ => crate::ops::concat(&parts.iter().collect::<Vec<_>>(), 1),
    }
}

/// g [m, n] W^T the same way (x's gradient): each slab's columns of g times its rows of W^T,
/// summed: [m, k].
fn by_slabs_transposed(g: &Tensor, w: &QuantizedMatrix, m: usize) -> Result<Tensor> {
    let g = g.reshape_to(&[m, w.n])?;
    let parts = slabs(w, |c0, c, wt| {
        let g = if c == w.n { g.clone() } else { crate::ops::slice(&g, &[0, c0], &[m as i64, c as i64])? };
        crate::ops::matmul(&g, wt, false, false)
    })?;
    let mut parts = parts.into_iter();
    let Some(first) = parts.next() else { bail!(OP, "a weight of no columns has no slabs") };
    parts.try_fold(first, |sum, p| crate::ops::add(&sum, &p))
}

/// Columns of W a slab holds: SLAB_VALUES values, in multiples of 64 columns.
fn slab_columns(w: &QuantizedMatrix) -> usize {
    (SLAB_VALUES / w.k.max(1) / 64 * 64).clamp(64, w.n.max(64))
}

/// `f(first column, columns, W^T's rows for them dequantized [columns, k])` for each slab of W's
/// columns in turn (one slab's f32 values live at a time).
fn slabs(w: &QuantizedMatrix, mut f: impl FnMut(usize, usize, &Tensor) -> Result<Tensor>) -> Result<Vec<Tensor>> {
    let cols = slab_columns(w);
    let mut parts = Vec::with_capacity(w.n.div_ceil(cols));
    for c0 in (0..w.n).step_by(cols) {
        let c = cols.min(w.n - c0);
        let rows = |t: &Tensor| crate::ops::slice(t, &[c0, 0, 0][..t.rank()], &[c as i64, -1, -1][..t.rank()]);
        let slab = if c == w.n {
            w.clone()
        } else {
            QuantizedMatrix::new(rows(&w.codes)?, rows(&w.scales)?, w.zero_points.as_ref().map(rows).transpose()?, w.bits, w.block, w.k, c)?
        };
        let wt = run(Mode::Dequantize, &slab.codes, &slab, slab.n, [slab.n, slab.k])?;
        parts.push(f(c0, c, &wt)?);
    }
    Ok(parts)
}

/// What the kernel computes: x W ([m, k] -> [m, n]), x W^T ([m, n] -> [m, k]), W^T itself, or
/// the columns of W that x (int32 ids) names ([m] -> [m, k]).
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Forward,
    Transposed,
    Dequantize,
    Gather,
}

fn run(mode: Mode, x: &Tensor, w: &QuantizedMatrix, m: usize, out_shape: [usize; 2]) -> Result<Tensor> {
    let numel = out_shape[0] * out_shape[1];
    if numel > u32::MAX as usize || x.numel() > u32::MAX as usize {
        bail!(OP, "a [{}, {}] result is too large", out_shape[0], out_shape[1]);
    }
    let p = w.params(m);
    let storage = match x.device() {
        Device::Cpu => Storage::cpu(cpu(mode, x, w, &p, numel)?),
        Device::Gpu(ctx) => {
            let out = ctx.alloc(OP, numel as u64 * 4)?;
            // The forward product reads x as vec4s where whole words of codes end within k (whole
            // pairs of words for halves).
            let vec4 = mode == Mode::Forward && w.k % (32 / w.bits).max(4) == 0;
            let (name, body) = match mode {
                Mode::Forward if vec4 => ("quantized_matmul_vec4", ""),
                Mode::Forward => ("quantized_matmul", "const MODE = 0u;"),
                Mode::Transposed => ("quantized_matmul_t", "const MODE = 1u;"),
                Mode::Dequantize => ("quantized_dequantize", "const MODE = 2u;"),
                Mode::Gather => ("quantized_gather", "const MODE = 3u;"),
            };
            let kernel = ctx.kernel(name, || {
                let shader = if vec4 { include_str!("../../shaders/quantized_matmul_vec4.wgsl") } else { include_str!("../../shaders/quantized_matmul.wgsl") };
                Source::new(&QuantParams::wgsl_fields())
                    .buffer("out", "f32", true)
                    .buffer("x", if vec4 { "vec4<f32>" } else { "f32" }, false)
                    .buffer("codes", "u32", false)
                    .buffer("scales", "f32", false)
                    .buffer("zero_points", "f32", false)
                    .define(body)
                    .body(shader)
            });
            // Without zero points the binding still needs a buffer: the scales stand in, unread.
            let zeros = w.zero_points.as_ref().unwrap_or(&w.scales);
            let buffers = [out.raw(), x.gpu_buffer()?.raw(), w.codes.gpu_buffer()?.raw(), w.scales.gpu_buffer()?.raw(), zeros.gpu_buffer()?.raw()];
            // Forward and transposed: one thread per 4 rows of one output column; dequantizing:
            // per word of codes; gathering: per value.
            let threads = match mode {
                Mode::Dequantize => w.codes.numel(),
                Mode::Gather => numel,
                _ => out_shape[0].div_ceil(4) * out_shape[1],
            };
            ctx.dispatch(&kernel, bytemuck::bytes_of(&p), &buffers, grid_2d(threads.div_ceil(64) as u64)?);
            Storage::gpu(out)
        }
    };
    Ok(Tensor::from_storage(x.device(), Rc::new(storage), out_shape.to_vec(), DType::F32))
}

/// The CPU kernels (quantized_cpu.rs) over the host words.
fn cpu(mode: Mode, x: &Tensor, w: &QuantizedMatrix, p: &QuantParams, numel: usize) -> Result<Vec<u32>> {
    let codes = w.codes.cpu_words()?;
    let scales = w.scales.cpu_words()?;
    let zeros = w.zero_points.as_ref().map(|z| z.cpu_words()).transpose()?;
    let packed = Packed {
        codes: &codes,
        scales: bytemuck::cast_slice(&scales),
        zeros: zeros.as_ref().map(|z| bytemuck::cast_slice::<u32, f32>(z)),
        bits: w.bits,
        block: w.block,
        k: w.k,
        n: w.n,
    };
    let mut out = alloc_words(OP, numel)?;
    let dst: &mut [f32] = bytemuck::cast_slice_mut(&mut out);
    match mode {
        Mode::Dequantize => quantized_cpu::dequantize(&packed, dst),
        Mode::Gather => {
            let ids = x.cpu_words()?;
            if let Some(&bad) = ids.iter().find(|&&id| id as i32 as usize >= w.n || (id as i32) < 0) {
                bail!(OP, "id {} is out of range for a table of {} rows", bad as i32, w.n);
            }
            quantized_cpu::gather(&packed, &ids, dst);
        }
        Mode::Forward | Mode::Transposed => {
            let xw = x.cpu_words()?;
            let xs: &[f32] = bytemuck::cast_slice(&xw);
            if mode == Mode::Forward {
                quantized_cpu::forward(&packed, xs, p.m as usize, dst);
            } else {
                quantized_cpu::transposed(&packed, xs, p.m as usize, dst);
            }
        }
    }
    Ok(out)
}
