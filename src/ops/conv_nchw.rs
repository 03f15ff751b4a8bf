//! Convolution over NCHW images with ONNX's filter layout [M, C/group, kh, kw] and an optional
//! bias [M]: what the ONNX importer runs (TF.js's NHWC conv2d is conv.rs).
//!
//! On the CPU it runs in that layout, as ONNX Runtime's MLAS does, so an imported conv net pays no
//! layout transposes and no per-call filter copies:
//! - a 1x1, stride-1, unpadded convolution is one GEMM per image and group, W [M, C] x X [C, H*W],
//!   reading the image in place;
//! - a 3x3, stride-1 window with one group and at least 8 input and output channels runs by
//!   Winograd's F(2x2, 3x3), 16 GEMMs in its transform space (winograd.rs);
//! - depthwise-like groups (one input channel each) slide the window over each channel plane
//!   directly, a row of outputs at a time, so the compiler vectorizes along the row;
//! - any other shape lowers each image and group to columns [C*kh*kw, oh*ow] (a row per filter
//!   tap, contiguous runs of the input row when the stride is 1) and one GEMM, W x cols,
//!   whose [M, oh*ow] result already is the NCHW output.
//! The bias and an optional activation (ReLU or a clip, as ONNX Conv -> Relu / Clip fused at load)
//! are applied in one pass over each output block. A model's filters are kept packed for the GEMM
//! (or transformed, for Winograd) from their second use (packed_weights.rs).
//!
//! On WebGPU it runs as the NHWC convolutions (conv.rs) between transposes. The gradient on both
//! backends is that composition's, recomputed in the backward pass (so grouped and depthwise
//! convolutions need no separate rules, and the CPU kernel has an independent reference).
use std::rc::Rc;

use super::matmul::Operand;
use super::packed_weights::{packed_weight, Layout, Pack, Side};
use super::winograd;
use super::im2col::{Geometry, Padding};
use super::padded_plane::PaddedPlane;
use super::unary::{max_f32, min_f32};
use crate::autograd::{no_grad, record, vjp_of_composition};
use crate::device::Device;
use crate::tensor::{common_device, Storage};
use crate::{bail, ops, threads, DType, Result, Tensor};

const OP: &str = "conv2d_nchw";

/// A convolution's window: strides, dilations and padding (as TF.js's, on NCHW images).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvWindow {
    pub strides: (usize, usize),
    pub dilations: (usize, usize),
    pub padding: Padding,
    pub group: usize,
}

/// An activation applied to the convolution's output as it is stored (ONNX Conv followed by Relu
/// or Clip, fused at load).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ConvActivation {
    Relu,
    /// min(max(y, lo), hi), NaN staying NaN.
    Clip(f32, f32),
}

impl ConvActivation {
    fn bounds(self) -> (f32, f32) {
        match self {
            ConvActivation::Relu => (0.0, f32::INFINITY),
            ConvActivation::Clip(lo, hi) => (lo, hi),
        }
    }

    /// The same activation as engine ops (those an unfused import runs).
    fn apply(self, y: &Tensor) -> Result<Tensor> {
        match self {
            ConvActivation::Relu => ops::relu(y),
            ConvActivation::Clip(lo, hi) => {
                let bound = |v: f32| ops::fill(y.device(), &[], v as f64, DType::F32);
                ops::minimum(&ops::maximum(y, &bound(lo)?)?, &bound(hi)?)
            }
        }
    }
}

/// y [N, M, oh, ow] = activation(conv(x [N, C, H, W], w [M, C/group, kh, kw]) + bias [M]).
pub fn conv2d_nchw(x: &Tensor, w: &Tensor, bias: Option<&Tensor>, win: ConvWindow, activation: Option<ConvActivation>) -> Result<Tensor> {
    let g = geometry(x, w, bias, &win)?;
    let mut inputs = vec![x, w];
    inputs.extend(bias);
    let out = match common_device(OP, &inputs)? {
        Device::Cpu => no_grad(|| cpu(x, w, bias, &g, win.group, activation))?,
        Device::Gpu(_) => return composed(x, w, bias, &win, activation),
    };
    // The gradient: the NHWC composition's at the same point.
    Ok(record(OP, out, &inputs, move |gr| vjp_of_composition(gr, |t| composed(&t[0], &t[1], t.get(2), &win, activation))))
}

/// Checks the operands and returns the window's geometry over x seen as [N, H, W, C].
fn geometry(x: &Tensor, w: &Tensor, bias: Option<&Tensor>, win: &ConvWindow) -> Result<Geometry> {
    if x.dtype() != DType::F32 || w.dtype() != DType::F32 || bias.is_some_and(|b| b.dtype() != DType::F32) {
        bail!(OP, "input, filter and bias must be float32, got {}, {} and {:?}", x.dtype(), w.dtype(), bias.map(|b| b.dtype()));
    }
    if x.rank() != 4 || w.rank() != 4 {
        bail!(OP, "input {:?} and filter {:?} must both have rank 4 (NCHW and [M, C/group, kh, kw])", x.shape(), w.shape());
    }
    let (xs, ws) = (x.shape(), w.shape());
    let (c, m, group) = (xs[1], ws[0], win.group);
    if group == 0 || c % group != 0 || m % group != 0 || ws[1] != c / group {
        bail!(OP, "group {group} does not fit input {:?} and filter {:?} (the filter needs C/group = {} input channels and M divisible by group)", xs, ws, if group == 0 { 0 } else { c / group });
    }
    if let Some(b) = bias {
        if b.shape() != [m] {
            bail!(OP, "bias {:?} must have shape [{m}], one value per output channel of filter {:?}", b.shape(), ws);
        }
    }
    Geometry::new(OP, &[xs[0], xs[2], xs[3], c], (ws[2], ws[3]), win.strides, win.dilations, win.padding)
}

/// The same convolution from the NHWC ops: transposes, conv2d / depthwise_conv2d (per group when
/// grouped), the bias. The WebGPU path and every gradient.
pub fn composed(x: &Tensor, w: &Tensor, bias: Option<&Tensor>, win: &ConvWindow, activation: Option<ConvActivation>) -> Result<Tensor> {
    geometry(x, w, bias, win)?;
    let x = ops::transpose(x, Some(&[0, 2, 3, 1]))?;
    let (c, m, group) = (x.shape()[3], w.shape()[0], win.group);
    let (kh, kw) = (w.shape()[2], w.shape()[3]);
    let conv = |x: &Tensor, w: &Tensor| ops::conv2d(x, &ops::transpose(w, Some(&[2, 3, 1, 0]))?, win.strides, win.padding, win.dilations);
    let mut y = if group == 1 {
        conv(&x, w)?
    } else if group == c {
        // [c * mult, 1, kh, kw] -> [kh, kw, c, mult]
        let f = ops::transpose(&w.reshape_to(&[c, m / c, kh, kw])?, Some(&[2, 3, 0, 1]))?;
        ops::depthwise_conv2d(&x, &f, win.strides, win.padding, win.dilations)?
    } else {
        let (cg, mg) = (c / group, m / group);
        let parts = (0..group)
            .map(|g| {
                let xs = ops::slice(&x, &[0, 0, 0, g * cg], &[-1, -1, -1, cg as i64])?;
                let ws = ops::slice(w, &[g * mg, 0, 0, 0], &[mg as i64, -1, -1, -1])?;
                conv(&xs, &ws)
            })
            .collect::<Result<Vec<_>>>()?;
        ops::concat(&parts.iter().collect::<Vec<_>>(), 3)?
    };
    if let Some(b) = bias {
        y = ops::add(&y, b)?;
    }
    if let Some(a) = activation {
        y = a.apply(&y)?;
    }
    ops::transpose(&y, Some(&[0, 3, 1, 2]))
}

/// The CPU kernel (module doc): one output plane block per image and group.
fn cpu(x: &Tensor, w: &Tensor, bias: Option<&Tensor>, g: &Geometry, group: usize, activation: Option<ConvActivation>) -> Result<Tensor> {
    let (m, cg) = (w.shape()[0], g.c / group);
    let mg = m / group;
    let (plane, out_plane, taps) = (g.h * g.w, g.oh * g.ow, g.kh * g.kw);
    let shape = vec![g.n, m, g.oh, g.ow];
    let mut words = crate::tensor::alloc_words(OP, crate::shape::checked_numel(OP, &shape)?)?;
    let (xw, ww) = (x.cpu_words()?, w.cpu_words()?);
    let bw = bias.map(|b| b.cpu_words()).transpose()?;
    let (xf, wf): (&[f32], &[f32]) = (bytemuck::cast_slice(&xw[..]), bytemuck::cast_slice(&ww[..]));
    let bf: Option<&[f32]> = bw.as_ref().map(|b| bytemuck::cast_slice(&b[..]));
    let out: &mut [f32] = bytemuck::cast_slice_mut(&mut words);
    let pointwise = taps == 1 && g.sh == 1 && g.sw == 1 && g.pad_top == 0 && g.pad_left == 0 && g.oh == g.h && g.ow == g.w;
    let k = cg * taps;
    if out_plane == 0 {
        return Ok(Tensor::from_storage(&Device::Cpu, Rc::new(Storage::cpu(words)), shape, DType::F32));
    }
    // 3x3 stride 1: Winograd's F(2x2, 3x3) (src/ops/winograd.rs), one image at a time.
    let winograd = group == 1 && winograd::applies(g, cg, mg);
    // A model's filters (one group) are a weight read again every inference: kept packed.
    let filter_pack = (group == 1 && cg > 1 && !winograd && !ops::matmul::reads_unpacked(mg, out_plane, 1))
        .then(|| packed_weight(w, wf, Layout { side: Side::A, offset: 0, rows: m, k, rs: k, cs: 1 }))
        .flatten();
    let filter_pack = filter_pack.as_deref().map(Pack::view);
    let winograd_filters = winograd.then(|| winograd::Filters::of(w, wf, cg, mg));
    let winograd_filters = winograd_filters.as_ref().map(|f| winograd::operands(f, cg, mg));
    let out_ptr = threads::Shared::new(out.as_mut_ptr());
    // One (image, group) unit of the output, with this thread's scratch (im2col columns or the
    // padded plane of a depthwise channel).
    let unit = |unit: usize, cols: &mut Vec<f32>, padded: &mut PaddedPlane| {
        let (n, gi) = (unit / group, unit % group);
        let image = &xf[(n * g.c + gi * cg) * plane..][..cg * plane];
        let filters = &wf[gi * mg * k..][..mg * k];
        // SAFETY: unit (n, gi) writes output channels gi * mg.. of image n only: units are
        // disjoint, and `out` holds all of them.
        let block = unsafe { std::slice::from_raw_parts_mut(out_ptr.get().add((n * m + gi * mg) * out_plane), mg * out_plane) };
        if cg == 1 {
            padded.fill(image, g, 0.0);
            for (o, dst) in block.chunks_exact_mut(out_plane).enumerate() {
                depthwise_plane(padded, &filters[o * taps..][..taps], g, dst);
            }
        } else if let Some(transformed) = &winograd_filters {
            winograd::conv(transformed, image, g, cg, mg, block);
        } else {
            let filters = Operand { data: filters, rs: k, cs: 1, pack: filter_pack };
            if pointwise {
                ops::matmul::gemm_with_packs(mg, k, out_plane, filters, Operand { data: image, rs: plane, cs: 1, pack: None }, block);
            } else {
                cols.resize(k * out_plane, 0.0);
                lower_to_columns(image, cg, g, cols);
                ops::matmul::gemm_with_packs(mg, k, out_plane, filters, Operand { data: cols, rs: out_plane, cs: 1, pack: None }, block);
            }
        }
        // The bias and the activation, in one pass over the block while it is in cache.
        let (lo, hi) = activation.map_or((f32::NEG_INFINITY, f32::INFINITY), ConvActivation::bounds);
        for (o, dst) in block.chunks_exact_mut(out_plane).enumerate() {
            let bias = bf.map_or(0.0, |b| b[gi * mg + o]);
            match (bias != 0.0, activation.is_some()) {
                (true, true) => dst.iter_mut().for_each(|v| *v = min_f32(max_f32(*v + bias, lo), hi)),
                (false, true) => dst.iter_mut().for_each(|v| *v = min_f32(max_f32(*v, lo), hi)),
                (true, false) => dst.iter_mut().for_each(|v| *v += bias),
                (false, false) => {}
            }
        }
    };
    let scratch = || (Vec::new(), if cg == 1 { PaddedPlane::new(g) } else { PaddedPlane::empty() });
    let units = g.n * group;
    if cg == 1 && units > 1 && units * mg * out_plane * taps >= PARALLEL_MIN_MACS {
        // Depthwise: channels are independent; a few per task, across the CPU threads.
        let parts = threads::split(units, 1, 1, 4);
        threads::run_tasks(parts.len(), &|t| {
            let (mut cols, mut padded) = scratch();
            parts[t].clone().for_each(|u| unit(u, &mut cols, &mut padded));
        });
    } else {
        // Convolutions as GEMMs: the GEMM itself splits across the threads.
        let (mut cols, mut padded) = scratch();
        (0..units).for_each(|u| unit(u, &mut cols, &mut padded));
    }
    Ok(Tensor::from_storage(&Device::Cpu, Rc::new(Storage::cpu(words)), shape, DType::F32))
}

/// Depthwise convolutions of at least this many multiply-adds split across the CPU threads.
const PARALLEL_MIN_MACS: usize = 1 << 18;

/// The output columns `ox` whose tap at horizontal offset `kx` reads inside the image: [lo, hi).
fn valid_columns(g: &Geometry, kx: usize) -> (usize, usize) {
    // ix = ox * sw + kx * dw - pad_left must lie in [0, w).
    let shift = kx * g.dw;
    let lo = g.pad_left.saturating_sub(shift).div_ceil(g.sw);
    let hi = if g.w + g.pad_left > shift { (g.w + g.pad_left - shift - 1) / g.sw + 1 } else { 0 };
    (lo.min(g.ow), hi.min(g.ow))
}

/// The input row that output row `oy`'s tap `ky` reads, if it is inside the image.
fn source_row(g: &Geometry, oy: usize, ky: usize) -> Option<usize> {
    (oy * g.sh + ky * g.dh).checked_sub(g.pad_top).filter(|&iy| iy < g.h)
}

/// One output channel of a convolution whose group has one input channel: `dst` (oh x ow) =
/// the window of the padded plane weighted by `filter` (kh x kw). A 3x3 window sums its nine
/// taps in one pass over each output row; other windows make a pass per tap.
fn depthwise_plane(padded: &PaddedPlane, filter: &[f32], g: &Geometry, dst: &mut [f32]) {
    let ow = g.ow;
    for (oy, row) in dst.chunks_exact_mut(ow).enumerate() {
        if g.kh == 3 && g.kw == 3 {
            let t = |k: usize| padded.tap(g, oy, k / 3, k % 3);
            let (s0, s1, s2, s3, s4, s5, s6, s7, s8) = (t(0), t(1), t(2), t(3), t(4), t(5), t(6), t(7), t(8));
            let w: [f32; 9] = filter[..9].try_into().expect("a 3x3 filter");
            for i in 0..ow {
                row[i] = w[0] * s0[i] + w[1] * s1[i] + w[2] * s2[i] + w[3] * s3[i] + w[4] * s4[i] + w[5] * s5[i] + w[6] * s6[i] + w[7] * s7[i] + w[8] * s8[i];
            }
            continue;
        }
        row.fill(0.0);
        for ky in 0..g.kh {
            let weights = &filter[ky * g.kw..][..g.kw];
            let tap = |kx: usize| padded.tap(g, oy, ky, kx);
            match g.kw {
                5 => window_row::<5>(row, weights, tap),
                7 => window_row::<7>(row, weights, tap),
                _ => {
                    for (kx, &wv) in weights.iter().enumerate() {
                        row.iter_mut().zip(tap(kx)).for_each(|(o, &v)| *o += wv * v);
                    }
                }
            }
        }
    }
}

/// row += the KW taps of one window row, weighted: one pass over the row (efficientnet's 5x5
/// depthwise windows: 5 passes per output row instead of 25).
fn window_row<'a, const KW: usize>(row: &mut [f32], weights: &[f32], tap: impl Fn(usize) -> &'a [f32]) {
    let taps: [&[f32]; KW] = std::array::from_fn(|kx| &tap(kx)[..row.len()]);
    let w: [f32; KW] = std::array::from_fn(|kx| weights[kx]);
    for (i, o) in row.iter_mut().enumerate() {
        *o += (0..KW).map(|kx| w[kx] * taps[kx][i]).sum::<f32>();
    }
}

/// cols [cg * kh * kw, oh * ow]: row (c, ky, kx) holds what each output pixel's tap reads from
/// channel c (0 in the padding), the B operand of W [M, cg * kh * kw] x cols.
fn lower_to_columns(image: &[f32], cg: usize, g: &Geometry, cols: &mut [f32]) {
    let (out_plane, rows) = (g.oh * g.ow, cg * g.kh * g.kw);
    assert!(rows * out_plane == cols.len());
    // A large lowering is split by rows across the CPU threads (each row is one tap of one channel).
    let parts = if cols.len() >= PARALLEL_MIN_COPIES { threads::split(rows, 1, 1, 4) } else { vec![0..rows] };
    let out = threads::Shared::new(cols.as_mut_ptr());
    threads::run_tasks(parts.len(), &|t| {
        for r in parts[t].clone() {
            // SAFETY: row r of `cols` (out_plane long, inside it: asserted above) is this task's.
            lower_row(image, g, r, unsafe { std::slice::from_raw_parts_mut(out.get().add(r * out_plane), out_plane) });
        }
    });
}

/// Lowerings of at least this many elements split across the CPU threads.
const PARALLEL_MIN_COPIES: usize = 1 << 17;

/// Row r of the lowered image: tap (ky, kx) of channel c over every output pixel.
fn lower_row(image: &[f32], g: &Geometry, r: usize, dst: &mut [f32]) {
    let (c, tap) = (r / (g.kh * g.kw), r % (g.kh * g.kw));
    let (ky, kx) = (tap / g.kw, tap % g.kw);
    let plane = &image[c * g.h * g.w..][..g.h * g.w];
    let (lo, hi) = valid_columns(g, kx);
    for (oy, row) in dst.chunks_exact_mut(g.ow).enumerate() {
        let Some(iy) = source_row(g, oy, ky).filter(|_| lo < hi) else {
            row.fill(0.0);
            continue;
        };
        let src = &plane[iy * g.w..][..g.w];
        let first = lo * g.sw + kx * g.dw - g.pad_left;
        row[..lo].fill(0.0);
        row[hi..].fill(0.0);
        if g.sw == 1 {
            row[lo..hi].copy_from_slice(&src[first..first + (hi - lo)]);
        } else {
            row[lo..hi].iter_mut().zip(src[first..].iter().step_by(g.sw)).for_each(|(o, &v)| *o = v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(len: usize, seed: usize) -> Vec<f32> {
        (0..len).map(|i| (((i * 37 + seed * 101) % 53) as f32 - 26.0) / 17.0).collect()
    }

    /// The CPU kernel against the NHWC composition (im2col + GEMM, depthwise by broadcasting)
    /// over every path: pointwise, depthwise (with a multiplier), grouped, strided, dilated and
    /// padded windows, images narrower than the window's reach.
    #[test]
    fn cpu_kernel_matches_the_nhwc_composition() {
        #[cfg(not(target_arch = "wasm32"))]
        crate::threads::start_native_workers(2);
        // (n, c, h, w, m, group, kh, kw, strides, dilations, padding)
        let cases: &[(usize, usize, usize, usize, usize, usize, usize, usize, (usize, usize), (usize, usize), Padding)] = &[
            (2, 5, 6, 7, 4, 1, 1, 1, (1, 1), (1, 1), Padding::Valid),
            (1, 3, 7, 6, 8, 1, 3, 3, (1, 1), (1, 1), Padding::Explicit(1, 1, 1, 1)),
            (1, 4, 9, 8, 6, 2, 3, 2, (2, 2), (1, 1), Padding::Explicit(1, 0, 2, 1)),
            (2, 6, 8, 9, 6, 6, 3, 3, (1, 1), (1, 1), Padding::Same),
            (1, 6, 9, 9, 12, 6, 3, 3, (2, 2), (1, 1), Padding::Explicit(1, 1, 1, 1)),
            (1, 4, 10, 11, 4, 4, 5, 5, (2, 1), (1, 1), Padding::Explicit(2, 2, 2, 2)),
            (1, 3, 9, 10, 5, 1, 3, 3, (1, 1), (2, 3), Padding::Explicit(2, 1, 0, 3)),
            (1, 2, 4, 3, 3, 1, 1, 1, (2, 2), (1, 1), Padding::Valid),
            (1, 2, 2, 2, 2, 2, 3, 3, (1, 1), (1, 1), Padding::Explicit(2, 2, 2, 2)),
            (1, 3, 9, 8, 3, 3, 3, 3, (1, 1), (2, 2), Padding::Explicit(2, 2, 1, 3)),
            (1, 2, 11, 12, 2, 2, 3, 3, (2, 2), (1, 1), Padding::Explicit(1, 1, 1, 1)),
            (1, 2, 9, 7, 4, 2, 2, 3, (3, 2), (1, 1), Padding::Valid),
            (1, 3, 12, 11, 3, 3, 5, 5, (2, 2), (1, 1), Padding::Explicit(2, 2, 2, 2)),
            (1, 2, 9, 10, 2, 2, 7, 7, (1, 1), (1, 1), Padding::Same),
            // 3x3 stride 1 with 8 channels or more: Winograd's F(2x2, 3x3) (odd and even output
            // sizes, a single tile, asymmetric and oversized padding, both threads' splits)
            (1, 8, 7, 9, 8, 1, 3, 3, (1, 1), (1, 1), Padding::Same),
            (2, 9, 6, 5, 10, 1, 3, 3, (1, 1), (1, 1), Padding::Valid),
            (1, 12, 2, 2, 8, 1, 3, 3, (1, 1), (1, 1), Padding::Explicit(1, 1, 1, 1)),
            (1, 8, 5, 8, 16, 1, 3, 3, (1, 1), (1, 1), Padding::Explicit(2, 0, 1, 2)),
            (1, 16, 64, 65, 17, 1, 3, 3, (1, 1), (1, 1), Padding::Same),
        ];
        for (i, &(n, c, h, w, m, group, kh, kw, strides, dilations, padding)) in cases.iter().enumerate() {
            let x = Tensor::from_f32(&Device::Cpu, &values(n * c * h * w, i), &[n, c, h, w]).unwrap();
            let f = Tensor::from_f32(&Device::Cpu, &values(m * (c / group) * kh * kw, i + 7), &[m, c / group, kh, kw]).unwrap();
            let b = Tensor::from_f32(&Device::Cpu, &values(m, i + 3), &[m]).unwrap();
            let win = ConvWindow { strides, dilations, padding, group };
            // every path with each activation (or none) in turn
            let activation = [None, Some(ConvActivation::Relu), Some(ConvActivation::Clip(-0.5, 1.5))][i % 3];
            let got = conv2d_nchw(&x, &f, Some(&b), win, activation).unwrap();
            let want = composed(&x, &f, Some(&b), &win, activation).unwrap();
            assert_eq!(got.shape(), want.shape(), "case {i}");
            let (got, want) = (got.cpu_floats(), want.cpu_floats());
            for (j, (a, b)) in got.iter().zip(&want).enumerate() {
                assert!((a - b).abs() <= 1e-4 * (1.0 + b.abs()), "case {i} [{j}]: {a} vs {b}");
            }
        }
    }

    /// Gradients of x, w and bias through the CPU kernel equal the composition's.
    #[test]
    fn gradients_match_the_composition() {
        let win = ConvWindow { strides: (2, 1), dilations: (1, 1), padding: Padding::Explicit(1, 0, 1, 1), group: 2 };
        let grads = |direct: bool| {
            let x = Tensor::from_f32(&Device::Cpu, &values(2 * 4 * 5 * 6, 1), &[2, 4, 5, 6]).unwrap();
            let f = Tensor::from_f32(&Device::Cpu, &values(6 * 2 * 3 * 3, 2), &[6, 2, 3, 3]).unwrap();
            let b = Tensor::from_f32(&Device::Cpu, &values(6, 3), &[6]).unwrap();
            let (y, grads) = crate::autograd::value_and_grads(&[&x, &f, &b], |t| {
                let act = Some(ConvActivation::Clip(-1.0, 2.0));
                let y = if direct { conv2d_nchw(&t[0], &t[1], Some(&t[2]), win, act)? } else { composed(&t[0], &t[1], Some(&t[2]), &win, act)? };
                ops::sum(&ops::mul(&y, &y)?, None, false)
            })
            .unwrap();
            (y.cpu_floats(), grads.iter().map(Tensor::cpu_floats).collect::<Vec<_>>())
        };
        let (direct, composed) = (grads(true), grads(false));
        assert!((direct.0[0] - composed.0[0]).abs() <= 1e-3 * composed.0[0].abs());
        for (gd, gc) in direct.1.iter().zip(&composed.1) {
            for (a, b) in gd.iter().zip(gc) {
                assert!((a - b).abs() <= 1e-3 * (1.0 + b.abs()), "{a} vs {b}");
            }
        }
    }
}
