//! Reductions over any set of axes, with keepdims: sum, mean, prod, max, min, log-sum-exp, and
//! argmax/argmin over one axis. The input is viewed as [outer, r, inner] (transposing first when the reduced
//! axes are not adjacent) and reduced over r by shaders/reduce.wgsl or the CPU loop.
use std::rc::Rc;

use crate::autograd::{mask, no_grad, record, scalar, Grad};
use crate::device::gpu::grid_2d;
use crate::device::Device;
use crate::device::gpu::GpuBuffer;
use crate::fusion::{self, gradient_exprs, Program};
use crate::kernel::Source;
use crate::shape::{normalize_axes, normalize_axis};
use crate::tensor::{Storage, Tensor};
use crate::{bail, DType, Result};

const TEMPLATE: &str = include_str!("../../shaders/reduce.wgsl");

#[cfg_attr(target_arch = "wasm32", wasm_bindgen::prelude::wasm_bindgen)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reduce {
    Sum,
    Mean,
    Prod,
    Max,
    Min,
    ArgMax,
    ArgMin,
    /// log(sum(exp(x))) without overflow: one pass keeps the running maximum and the sum of
    /// exponentials relative to it (the online softmax), so no separate max pass is needed.
    LogSumExp,
}

impl Reduce {
    pub fn name(self) -> &'static str {
        match self {
            Reduce::Sum => "sum",
            Reduce::Mean => "mean",
            Reduce::Prod => "prod",
            Reduce::Max => "max",
            Reduce::Min => "min",
            Reduce::ArgMax => "argmax",
            Reduce::ArgMin => "argmin",
            Reduce::LogSumExp => "log_sum_exp",
        }
    }

    fn is_arg(self) -> bool {
        matches!(self, Reduce::ArgMax | Reduce::ArgMin)
    }
}

crate::params! {
    /// shaders/reduce.wgsl's parameters.
    pub struct ReduceParams { outer: u32, r: u32, inner: u32, scale: f32, chunk: u32, groups: u32, _pad0: u32, _pad1: u32 }
}

/// Longest stretch of an axis one pass reduces per output: longer axes take more passes.
const CHUNK: usize = 4096;
/// Rows at least this long (with inner == 1) are reduced by a whole workgroup per output: 256
/// threads striding over the row and a tree merge.
const ROW_KERNEL_MIN: usize = 512;
/// Axes up to this long are reduced in one pass whatever the parallelism.
const ONE_PASS: usize = 1024;
/// Threads a thread-per-output first pass aims for when there are few outputs: a bias gradient
/// (16 outputs over 50 000 rows) is split into chunks of 64 rows, 12 544 threads, and the
/// partials reduced by a second pass; not 16 threads each looping 50 000 times.
const FIRST_PASS_THREADS: usize = 16384;

/// How a pass is laid out for `outputs` results along an axis of length `r`: whether a
/// workgroup reduces each output (rows with inner == 1: `row`), and the stretch of the axis one
/// output's thread or workgroup covers (partials are reduced again by another pass). A
/// workgroup per output (tree merge with barriers) only pays off for long rows; otherwise one
/// thread per output reads along `inner` (coalesced), which a workgroup per column would not.
fn layout(outputs: usize, r: usize, row: bool) -> (bool, usize) {
    if row && r >= ROW_KERNEL_MIN {
        return (true, r.min(CHUNK));
    }
    if r <= ONE_PASS {
        return (false, r.max(1));
    }
    let groups = FIRST_PASS_THREADS.div_ceil(outputs.max(1)).clamp(1, r.div_ceil(64));
    (false, r.div_ceil(groups).clamp(1, CHUNK))
}

/// Reduces `x` over `axes` (all axes when `None`).
pub fn reduce(kind: Reduce, x: &Tensor, axes: Option<&[i64]>, keepdims: bool) -> Result<Tensor> {
    let axes = normalize_axes(kind.name(), axes, x.rank())?;
    let out = no_grad(|| reduce_forward(kind, x, &axes, keepdims))?;
    if kind.is_arg() {
        return Ok(out);
    }
    let x_shape = x.shape().to_vec();
    Ok(record(kind.name(), out, &[x], move |g| Ok(vec![Some(reduce_grad(kind, g, &x_shape, &axes)?)])))
}

/// The gradient of a reduction: the output's gradient spread back over the reduced axes
/// (scaled for mean, masked to the extremum for max/min, by the other factors for prod).
fn reduce_grad(kind: Reduce, g: &Grad, x_shape: &[usize], axes: &[usize]) -> Result<Tensor> {
    let x = &g.inputs[0];
    let keep: Vec<usize> = x_shape.iter().enumerate().map(|(d, &s)| if axes.contains(&d) { 1 } else { s }).collect();
    let spread = |t: &Tensor| super::broadcast_to(&t.reshape_to(&keep)?, x_shape);
    let gb = spread(g.grad)?;
    match kind {
        Reduce::Sum => Ok(gb),
        Reduce::Mean => {
            let r: usize = axes.iter().map(|&d| x_shape[d]).product();
            super::mul(&gb, &scalar(x, 1.0 / r.max(1) as f32)?)
        }
        // Ties share the gradient evenly (a valid subgradient; giving each tie all of it
        // would over-count).
        Reduce::Max | Reduce::Min => {
            let hit = mask(super::equal(x, &spread(g.out)?))?;
            let axes_i: Vec<i64> = axes.iter().map(|&a| a as i64).collect();
            let ties = spread(&reduce(Reduce::Sum, &hit, Some(&axes_i), false)?)?;
            super::mul(&gb, &super::div(&hit, &ties)?)
        }
        Reduce::Prod => {
            // d/dx_i prod(x) = product of the others; exact with zeros too: with no zero it is
            // prod / x_i, with one zero only that position gets the product of the rest.
            let axes_i: Vec<i64> = axes.iter().map(|&a| a as i64).collect();
            let zero = scalar(x, 0.0)?;
            let one = scalar(x, 1.0)?;
            let is_zero = super::equal(x, &zero)?;
            let zeros = spread(&reduce(Reduce::Sum, &super::cast(&is_zero, DType::F32)?, Some(&axes_i), false)?)?;
            let nonzero_prod = spread(&reduce(Reduce::Prod, &super::where_(&is_zero, &one, x)?, Some(&axes_i), false)?)?;
            let no_zero = super::div(&nonzero_prod, &super::where_(&is_zero, &one, x)?)?;
            let one_zero = super::where_(&is_zero, &nonzero_prod, &zero)?;
            let per = super::where_(
                &super::equal(&zeros, &zero)?,
                &no_zero,
                &super::where_(&super::equal(&zeros, &one)?, &one_zero, &zero)?,
            )?;
            super::mul(&gb, &per)
        }
        // d lse / dx = softmax(x) = exp(x - lse)
        Reduce::LogSumExp => {
            let lse = spread(g.out)?;
            let d = gradient_exprs("log_sum_exp", x_shape, &[&gb, x, &lse], |e| vec![&e[0] * fusion::exp(&e[1] - &e[2])])?;
            Ok(d.into_iter().next().expect("one expression"))
        }
        Reduce::ArgMax | Reduce::ArgMin => unreachable!("arg reductions record no gradient"),
    }
}

fn reduce_forward(kind: Reduce, x: &Tensor, axes: &[usize], keepdims: bool) -> Result<Tensor> {
    let op = kind.name();
    // Compute dtype: mean is float; sums of bools count as int32; halves compute (and return)
    // in float32, read widened inside the kernel where they are pending.
    let x = match (kind, x.dtype()) {
        (_, DType::F16) => super::cast(x, DType::F32)?,
        (Reduce::Mean | Reduce::LogSumExp, DType::I32 | DType::Bool) => super::cast(x, DType::F32)?,
        (_, DType::Bool) if !kind.is_arg() => super::cast(x, DType::I32)?,
        _ => x.clone(),
    };
    let shape = x.shape().to_vec();
    let out_shape: Vec<usize> = (0..shape.len())
        .filter_map(|d| if axes.contains(&d) { keepdims.then_some(1) } else { Some(shape[d]) })
        .collect();
    let contiguous = axes.windows(2).all(|w| w[1] == w[0] + 1);
    let (x, outer, r, inner) = if axes.is_empty() {
        (x.clone(), x.numel(), 1, 1)
    } else if contiguous {
        let (a0, a1) = (axes[0], axes[axes.len() - 1]);
        (x.clone(), shape[..a0].iter().product(), shape[a0..=a1].iter().product(), shape[a1 + 1..].iter().product())
    } else {
        let kept: Vec<usize> = (0..shape.len()).filter(|d| !axes.contains(d)).collect();
        let perm: Vec<usize> = kept.iter().chain(axes.iter()).copied().collect();
        let outer = kept.iter().map(|&d| shape[d]).product();
        let r = axes.iter().map(|&d| shape[d]).product();
        (super::transpose(&x, Some(&perm))?, outer, r, 1)
    };
    if kind.is_arg() && r == 0 {
        bail!(op, "cannot take {} over an empty axis of shape {:?}", op, shape);
    }
    let out_dtype = if kind.is_arg() { DType::I32 } else { x.dtype() };
    let storage = match x.device() {
        Device::Cpu => Storage::cpu(reduce_cpu(kind, &x, outer, r, inner)?),
        Device::Gpu(_) => Storage::gpu(reduce_gpu(kind, &x, outer, r, inner, r)?),
    };
    Ok(Tensor::from_storage(x.device(), Rc::new(storage), out_shape, out_dtype))
}

/// What the first pass of a GPU reduction reads.
enum Input {
    Buffer(Tensor),
    /// A pending elementwise expression, evaluated inside the reduction: the values it would
    /// have produced are never written to memory.
    Fused(Program),
}

/// Reduces x, viewed as [outer, r, inner], over r on the GPU. Axes longer than CHUNK are first
/// reduced chunk-wise into [outer, groups, inner] partials, which are then reduced in turn (arg
/// ops stay single-pass: their partial results would need the values as well as the indices).
/// `total_r` is the length of the original axis, for the mean's scale.
fn reduce_gpu(kind: Reduce, x: &Tensor, outer: usize, r: usize, inner: usize, total_r: usize) -> Result<GpuBuffer> {
    let input = match x.storage().pending_expr() {
        Some(expr) => Input::Fused(Program::new(&expr, x.numel())),
        None => Input::Buffer(x.clone()),
    };
    reduce_pass(kind, x.device(), x.dtype(), &input, outer, r, inner, total_r)
}

#[allow(clippy::too_many_arguments)]
fn reduce_pass(kind: Reduce, device: &Device, dtype: DType, input: &Input, outer: usize, r: usize, inner: usize, total_r: usize) -> Result<GpuBuffer> {
    let Device::Gpu(ctx) = device else { unreachable!("reduce_gpu on a CPU tensor") };
    let op = kind.name();
    let (rows, chunk) = layout(outer * inner, r, inner == 1);
    // Arg reductions stay single-pass: their partials would need the values as well as indices.
    let chunk = if kind.is_arg() { r.max(1) } else { chunk };
    let groups = r.div_ceil(chunk).max(1);
    // A first pass of a mean only sums; the last pass divides by the full axis length.
    let pass_kind = if kind == Reduce::Mean && groups > 1 { Reduce::Sum } else { kind };
    let out = ctx.alloc(op, (outer * groups * inner * 4) as u64)?;
    let t = dtype.wgsl();
    // A workgroup per output (tree merge with barriers) only pays off for long rows; short rows
    // are cheaper as one thread each (barriers are costly, dramatically so on software GPUs).
    let fused_key = match input {
        Input::Fused(prog) => prog.key(),
        Input::Buffer(_) => String::new(),
    };
    let key = format!("reduce:{}:{t}:{rows}:{fused_key}", pass_kind.name());
    let kernel = ctx.kernel(&key, || source(pass_kind, t, rows, input));
    let params = ReduceParams {
        outer: outer as u32,
        r: r as u32,
        inner: inner as u32,
        scale: 1.0 / total_r as f32,
        chunk: chunk as u32,
        groups: groups as u32,
        _pad0: 0,
        _pad1: 0,
    };
    let grid = if rows { grid_2d((outer * groups * inner) as u64)? } else { grid_2d((outer * groups * inner).div_ceil(256) as u64)? };
    match input {
        Input::Buffer(x) => ctx.dispatch(&kernel, bytemuck::bytes_of(&params), &[out.raw(), x.gpu_buffer()?.raw()], grid),
        Input::Fused(prog) => {
            let mut buffers = vec![out.raw()];
            let leaves = fusion::leaf_buffers(prog);
            buffers.extend(leaves.iter().map(|b| b.raw()));
            ctx.dispatch(&kernel, &fusion::uniform_with_fused(bytemuck::bytes_of(&params), &[prog]), &buffers, grid);
        }
    }
    if groups == 1 {
        return Ok(out);
    }
    let dtype = if kind.is_arg() { DType::I32 } else { dtype };
    let partial = Tensor::from_storage(device, Rc::new(Storage::gpu(out)), vec![outer, groups, inner], dtype);
    reduce_pass(kind, device, dtype, &Input::Buffer(partial), outer, groups, inner, total_r)
}

/// argmax / argmin over one axis (TF.js `tf.argMax(x, axis)`), giving int32 indices.
pub fn arg_reduce(kind: Reduce, x: &Tensor, axis: i64) -> Result<Tensor> {
    let axis = normalize_axis(kind.name(), axis, x.rank())?;
    reduce(kind, x, Some(&[axis as i64]), false)
}

fn source(kind: Reduce, t: &str, rows: bool, input: &Input) -> String {
    let is_f32 = t == "f32";
    let (init, combine, finish) = match kind {
        Reduce::Sum => ("0", "return Acc(a.v + b.v, 0u, 0.0);", "acc.v"),
        Reduce::Mean => ("0", "return Acc(a.v + b.v, 0u, 0.0);", "acc.v * p.scale"),
        Reduce::Prod => ("1", "return Acc(a.v * b.v, 0u, 0.0);", "acc.v"),
        // float32: a NaN anywhere makes the result NaN (as TF.js)
        Reduce::Max => (if is_f32 { "-f32_inf()" } else { "-2147483647 - 1" }, if is_f32 { "return Acc(max_nan(a.v, b.v), 0u, 0.0);" } else { "return Acc(max(a.v, b.v), 0u, 0.0);" }, "acc.v"),
        Reduce::Min => (if is_f32 { "f32_inf()" } else { "2147483647" }, if is_f32 { "return Acc(min_nan(a.v, b.v), 0u, 0.0);" } else { "return Acc(min(a.v, b.v), 0u, 0.0);" }, "acc.v"),
        Reduce::ArgMax => (
            if is_f32 { "-f32_inf()" } else { "-2147483647 - 1" },
            "if (b.v > a.v || (b.v == a.v && b.i < a.i)) { return b; } return a;",
            "i32(acc.i)",
        ),
        Reduce::ArgMin => (
            if is_f32 { "f32_inf()" } else { "2147483647" },
            "if (b.v < a.v || (b.v == a.v && b.i < a.i)) { return b; } return a;",
            "i32(acc.i)",
        ),
        // (max, sum of exp(x - max)); a partial's lse lifts back to (lse, 1) in the next pass.
        Reduce::LogSumExp => (
            "-f32_inf()",
            "let m = max(a.v, b.v); if (m == -f32_inf()) { return Acc(m, 0u, 0.0); } return Acc(m, 0u, a.s * exp(a.v - m) + b.s * exp(b.v - m));",
            "acc.v + log(acc.s)",
        ),
    };
    let lift_s = if kind == Reduce::LogSumExp { "1.0" } else { "0.0" };
    let out_t = if kind.is_arg() { "i32" } else { t };
    let fused = match input {
        Input::Fused(prog) => Some(prog),
        Input::Buffer(_) => None,
    };
    Source::new(&ReduceParams::wgsl_fields()).buffer("out", out_t, true).input("x", t, fused).define(&format!(
        "alias T = {t};\nalias OUT_T = {out_t};\nconst ROWS: bool = {rows};\n\
         fn initial() -> Acc {{ return Acc(T({init}), 0u, 0.0); }}\n\
         fn lift(x: T, k: u32) -> Acc {{ return Acc(x, k, {lift_s}); }}\n\
         fn combine(a: Acc, b: Acc) -> Acc {{ {combine} }}\n\
         fn finish(acc: Acc) -> OUT_T {{ return {finish}; }}"
    ))
    .body(TEMPLATE)
}

fn reduce_cpu(kind: Reduce, x: &Tensor, outer: usize, r: usize, inner: usize) -> Result<Vec<u32>> {
    let words = x.cpu_words()?;
    let mut out = crate::tensor::alloc_words(kind.name(), outer * inner)?;
    let is_f32 = x.dtype() == DType::F32;
    if is_f32 && r > 0 && inner > 0 && matches!(kind, Reduce::Max | Reduce::Min) {
        // Extrema a vector at a time where the engine has SIMD: along each contiguous row, or
        // (a leading axis reduced) across the rows' elements, one row after another.
        let (largest, x): (bool, &[f32]) = (kind == Reduce::Max, bytemuck::cast_slice(&words[..outer * r * inner]));
        let acc: &mut [f32] = bytemuck::cast_slice_mut(&mut out);
        for o in 0..outer {
            let block = &x[o * r * inner..(o + 1) * r * inner];
            if inner == 1 {
                acc[o] = extremum(block, largest);
            } else {
                let a = &mut acc[o * inner..(o + 1) * inner];
                a.copy_from_slice(&block[..inner]);
                for row in block.chunks_exact(inner).skip(1) {
                    extremes_into(a, row, largest);
                }
            }
        }
        return Ok(out);
    }
    for o in 0..outer {
        for j in 0..inner {
            let at = |k: usize| words[(o * r + k) * inner + j];
            out[o * inner + j] = if is_f32 {
                let vals = (0..r).map(|k| f32::from_bits(at(k)));
                match kind {
                    // f64 accumulation: the oracle must not drift on long axes.
                    Reduce::Sum => (vals.map(f64::from).sum::<f64>() as f32).to_bits(),
                    Reduce::Mean => ((vals.map(f64::from).sum::<f64>() / r as f64) as f32).to_bits(),
                    Reduce::Prod => (vals.map(f64::from).product::<f64>() as f32).to_bits(),
                    Reduce::Max => vals.fold(f32::NEG_INFINITY, |a, b| if a.is_nan() || b.is_nan() { f32::NAN } else { a.max(b) }).to_bits(),
                    Reduce::Min => vals.fold(f32::INFINITY, |a, b| if a.is_nan() || b.is_nan() { f32::NAN } else { a.min(b) }).to_bits(),
                    Reduce::ArgMax => first_index(vals, |a, b| a > b) as u32,
                    Reduce::ArgMin => first_index(vals, |a, b| a < b) as u32,
                    Reduce::LogSumExp => {
                        let m = vals.clone().fold(f32::NEG_INFINITY, f32::max);
                        if m == f32::NEG_INFINITY {
                            m.to_bits()
                        } else {
                            let sum: f64 = vals.map(|v| crate::ops::unary::exp_f32(v - m) as f64).sum();
                            ((m as f64 + sum.ln()) as f32).to_bits()
                        }
                    }
                }
            } else {
                let vals = (0..r).map(|k| at(k) as i32);
                (match kind {
                    Reduce::Sum | Reduce::Mean => vals.fold(0i32, i32::wrapping_add),
                    Reduce::Prod => vals.fold(1i32, i32::wrapping_mul),
                    Reduce::Max => vals.fold(i32::MIN, i32::max),
                    Reduce::Min => vals.fold(i32::MAX, i32::min),
                    Reduce::ArgMax => first_index(vals, |a, b| a > b) as i32,
                    Reduce::ArgMin => first_index(vals, |a, b| a < b) as i32,
                    Reduce::LogSumExp => unreachable!("log_sum_exp computes in float32"),
                }) as u32
            };
        }
    }
    Ok(out)
}

/// The larger (smaller) of a and b; NaN if either is.
fn pick(a: f32, b: f32, largest: bool) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else if largest {
        a.max(b)
    } else {
        a.min(b)
    }
}

/// The largest (or smallest) of `row`; NaN if any element is NaN; -inf (+inf) for an empty row.
pub(super) fn extremum(row: &[f32], largest: bool) -> f32 {
    let start = if largest { f32::NEG_INFINITY } else { f32::INFINITY };
    let (lanes, done) = simd_extremum(row, largest, start);
    lanes.into_iter().chain(row[done..].iter().copied()).fold(start, |a, b| pick(a, b, largest))
}

/// acc[j] = the larger (smaller) of acc[j] and row[j]; NaN if either is.
fn extremes_into(acc: &mut [f32], row: &[f32], largest: bool) {
    let done = simd_extremes_into(acc, row, largest);
    for (a, &r) in acc[done..].iter_mut().zip(&row[done..]) {
        *a = pick(*a, r, largest);
    }
}

// The vector paths (f32x4.max and f32x4.min propagate NaN, as `pick` does); without SIMD they do
// nothing and the scalar loops take everything.

/// The extremum of each lane over row's whole vectors, and how many elements that covers.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn simd_extremum(row: &[f32], largest: bool, start: f32) -> ([f32; 4], usize) {
    use core::arch::wasm32::*;
    let mut acc = f32x4_splat(start);
    for q in row.chunks_exact(4) {
        // SAFETY: `q` is 4 readable floats; v128_load takes any alignment.
        let v = unsafe { v128_load(q.as_ptr() as *const v128) };
        acc = if largest { f32x4_max(acc, v) } else { f32x4_min(acc, v) };
    }
    let lanes = [f32x4_extract_lane::<0>(acc), f32x4_extract_lane::<1>(acc), f32x4_extract_lane::<2>(acc), f32x4_extract_lane::<3>(acc)];
    (lanes, row.len() / 4 * 4)
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn simd_extremum(_: &[f32], _: bool, start: f32) -> ([f32; 4], usize) {
    ([start; 4], 0)
}

/// `extremes_into` over whole vectors; returns how many elements it did.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn simd_extremes_into(acc: &mut [f32], row: &[f32], largest: bool) -> usize {
    use core::arch::wasm32::*;
    for (a, r) in acc.chunks_exact_mut(4).zip(row.chunks_exact(4)) {
        // SAFETY: both are 4 floats; v128_load and v128_store take any alignment.
        unsafe {
            let (va, vr) = (v128_load(a.as_ptr() as *const v128), v128_load(r.as_ptr() as *const v128));
            v128_store(a.as_mut_ptr() as *mut v128, if largest { f32x4_max(va, vr) } else { f32x4_min(va, vr) });
        }
    }
    acc.len() / 4 * 4
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn simd_extremes_into(_: &mut [f32], _: &[f32], _: bool) -> usize {
    0
}

/// Index of the first element that no later element beats.
fn first_index<T: Copy>(vals: impl Iterator<Item = T>, beats: impl Fn(T, T) -> bool) -> usize {
    let mut best: Option<(usize, T)> = None;
    for (i, v) in vals.enumerate() {
        if best.is_none_or(|(_, b)| beats(v, b)) {
            best = Some((i, v));
        }
    }
    best.map_or(0, |(i, _)| i)
}
