//! Reductions over any set of axes, with keepdims: sum, mean, prod, max, min, and argmax/argmin
//! over one axis. The input is viewed as [outer, r, inner] (transposing first when the reduced
//! axes are not adjacent) and reduced over r by shaders/reduce.wgsl or the CPU loop.
use std::cell::RefCell;
use std::rc::Rc;

use bytemuck::{Pod, Zeroable};

use crate::autograd::{mask, no_grad, record, scalar, Grad};
use crate::device::gpu::grid_2d;
use crate::device::Device;
use crate::kernel::fill_template;
use crate::shape::{normalize_axes, normalize_axis};
use crate::tensor::{Storage, Tensor};
use crate::{bail, DType, Result};

const TEMPLATE: &str = include_str!("../../shaders/reduce.wgsl");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reduce {
    Sum,
    Mean,
    Prod,
    Max,
    Min,
    ArgMax,
    ArgMin,
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
        }
    }

    fn is_arg(self) -> bool {
        matches!(self, Reduce::ArgMax | Reduce::ArgMin)
    }
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    outer: u32,
    r: u32,
    inner: u32,
    scale: f32,
    chunk: u32,
    groups: u32,
    _pad: [u32; 2],
}

/// Longest stretch of an axis one pass reduces per output: longer axes take more passes.
const CHUNK: usize = 4096;
/// Shortest row reduced by a whole workgroup rather than by one thread.
const ROW_KERNEL_MIN: usize = 512;

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
        Reduce::ArgMax | Reduce::ArgMin => unreachable!("arg reductions record no gradient"),
    }
}

fn reduce_forward(kind: Reduce, x: &Tensor, axes: &[usize], keepdims: bool) -> Result<Tensor> {
    let op = kind.name();
    // Compute dtype: mean is float; sums of bools count as int32.
    let x = match (kind, x.dtype()) {
        (Reduce::Mean, DType::I32 | DType::Bool) => super::cast(x, DType::F32)?,
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
        Device::Cpu => Storage::Cpu(RefCell::new(reduce_cpu(kind, &x, outer, r, inner)?)),
        Device::Gpu(_) => Storage::Gpu(reduce_gpu(kind, &x, outer, r, inner, r)?),
    };
    Ok(Tensor::from_storage(x.device(), Rc::new(storage), out_shape, out_dtype))
}

/// Reduces x, viewed as [outer, r, inner], over r on the GPU. Axes longer than CHUNK are first
/// reduced chunk-wise into [outer, groups, inner] partials, which are then reduced in turn (arg
/// ops stay single-pass: their partial results would need the values as well as the indices).
/// `total_r` is the length of the original axis, for the mean's scale.
fn reduce_gpu(kind: Reduce, x: &Tensor, outer: usize, r: usize, inner: usize, total_r: usize) -> Result<crate::device::gpu::GpuBuffer> {
    let Device::Gpu(ctx) = x.device() else { unreachable!("reduce_gpu on a CPU tensor") };
    let op = kind.name();
    let chunk = if kind.is_arg() { r.max(1) } else { r.clamp(1, CHUNK) };
    let groups = r.div_ceil(chunk).max(1);
    // A first pass of a mean only sums; the last pass divides by the full axis length.
    let pass_kind = if kind == Reduce::Mean && groups > 1 { Reduce::Sum } else { kind };
    let out = ctx.alloc(op, (outer * groups * inner * 4) as u64)?;
    let t = x.dtype().wgsl();
    // A workgroup per output (tree merge with barriers) only pays off for long rows; short rows
    // are cheaper as one thread each (barriers are costly, dramatically so on software GPUs).
    let rows = inner == 1 && chunk >= ROW_KERNEL_MIN;
    let key = format!("reduce:{}:{t}:{rows}", pass_kind.name());
    let kernel = ctx.kernel(&key, || source(pass_kind, t, rows));
    let params = Params {
        outer: outer as u32,
        r: r as u32,
        inner: inner as u32,
        scale: 1.0 / total_r as f32,
        chunk: chunk as u32,
        groups: groups as u32,
        _pad: [0; 2],
    };
    let grid = if rows { grid_2d((outer * groups) as u64)? } else { grid_2d((outer * groups * inner).div_ceil(256) as u64)? };
    ctx.dispatch(&kernel, bytemuck::bytes_of(&params), &[x.gpu_buffer().raw(), out.raw()], grid);
    if groups == 1 {
        return Ok(out);
    }
    let dtype = if kind.is_arg() { DType::I32 } else { x.dtype() };
    let partial = Tensor::from_storage(x.device(), Rc::new(Storage::Gpu(out)), vec![outer, groups, inner], dtype);
    reduce_gpu(kind, &partial, outer, groups, inner, total_r)
}

/// argmax / argmin over one axis (TF.js `tf.argMax(x, axis)`), giving int32 indices.
pub fn arg_reduce(kind: Reduce, x: &Tensor, axis: i64) -> Result<Tensor> {
    let axis = normalize_axis(kind.name(), axis, x.rank())?;
    reduce(kind, x, Some(&[axis as i64]), false)
}

fn source(kind: Reduce, t: &str, rows: bool) -> String {
    let is_f32 = t == "f32";
    let (init, combine, finish) = match kind {
        Reduce::Sum => ("0", "return Acc(a.v + b.v, 0u);", "acc.v"),
        Reduce::Mean => ("0", "return Acc(a.v + b.v, 0u);", "acc.v * p.scale"),
        Reduce::Prod => ("1", "return Acc(a.v * b.v, 0u);", "acc.v"),
        Reduce::Max => (if is_f32 { "-f32_inf()" } else { "-2147483647 - 1" }, "return Acc(max(a.v, b.v), 0u);", "acc.v"),
        Reduce::Min => (if is_f32 { "f32_inf()" } else { "2147483647" }, "return Acc(min(a.v, b.v), 0u);", "acc.v"),
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
    };
    let init = format!("{t}({init})");
    let out_t = if kind.is_arg() { "i32" } else { t };
    fill_template(
        TEMPLATE,
        &[
            ("T", t),
            ("OUT_T", out_t),
            ("INIT", &init),
            ("COMBINE", combine),
            ("FINISH", finish),
            ("ROWS", if rows { "true" } else { "false" }),
        ],
    )
}

fn reduce_cpu(kind: Reduce, x: &Tensor, outer: usize, r: usize, inner: usize) -> Result<Vec<u32>> {
    let words = x.cpu_words();
    let mut out = crate::tensor::alloc_words(kind.name(), outer * inner)?;
    let is_f32 = x.dtype() == DType::F32;
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
                    Reduce::Max => vals.fold(f32::NEG_INFINITY, f32::max).to_bits(),
                    Reduce::Min => vals.fold(f32::INFINITY, f32::min).to_bits(),
                    Reduce::ArgMax => first_index(vals, |a, b| a > b) as u32,
                    Reduce::ArgMin => first_index(vals, |a, b| a < b) as u32,
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
                }) as u32
            };
        }
    }
    Ok(out)
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
