//! Normalisations, the one home of each: moments and batch norm (elementwise expressions and
//! reductions, so they fuse), and layer norm and RMS norm over the last axis, which have kernels
//! of their own (shaders/layer_norm.wgsl): one dispatch forward, two backward (d x, and d gamma /
//! d beta together), where composing them from primitives took a dozen.
use std::rc::Rc;

use crate::autograd::{no_grad, record, scalar};
use crate::device::gpu::{grid_2d, GpuBuffer, GpuContext};
use crate::device::Device;
use crate::fusion::{self, Program};
use crate::kernel::Source;
use crate::tensor::{alloc_words, Storage};
use crate::{bail, ops, DType, Result, Tensor};

/// Mean and (biased) variance over `axes` (TF.js `tf.moments`).
pub fn moments(x: &Tensor, axes: &[i64], keepdims: bool) -> Result<(Tensor, Tensor)> {
    let mean = ops::mean(x, Some(axes), true)?;
    let var = ops::mean(&ops::squared_difference(x, &mean)?, Some(axes), keepdims)?;
    let mean = if keepdims { mean } else { mean.reshape_to(var.shape())? };
    Ok((mean, var))
}

/// (x - mean) / sqrt(var + eps) * gamma + beta, with given statistics (TF.js `batchNorm`): one
/// elementwise expression, computed where it is consumed.
pub fn batch_norm(x: &Tensor, mean: &Tensor, variance: &Tensor, gamma: Option<&Tensor>, beta: Option<&Tensor>, eps: f32) -> Result<Tensor> {
    let inv = ops::rsqrt(&ops::add(variance, &scalar(x, eps)?)?)?;
    let mut y = ops::mul(&ops::sub(x, mean)?, &inv)?;
    if let Some(g) = gamma {
        y = ops::mul(&y, g)?;
    }
    if let Some(b) = beta {
        y = ops::add(&y, b)?;
    }
    Ok(y)
}

/// Normalises each row (the last axis) by its own mean and variance, then scales and shifts
/// (Keras `LayerNormalization` over axis -1; ONNX LayerNormalization).
pub fn layer_norm(x: &Tensor, gamma: Option<&Tensor>, beta: Option<&Tensor>, eps: f32) -> Result<Tensor> {
    normalize(Norm::Layer, x, gamma, beta, eps)
}

/// x / sqrt(mean(x^2) + eps) * gamma over the last axis (RMSNorm, as in LLaMA-style models).
pub fn rms_norm(x: &Tensor, gamma: Option<&Tensor>, eps: f32) -> Result<Tensor> {
    normalize(Norm::Rms, x, gamma, None, eps)
}

#[derive(Clone, Copy, PartialEq)]
enum Norm {
    Layer,
    Rms,
}

impl Norm {
    fn name(self) -> &'static str {
        match self {
            Norm::Layer => "layer_norm",
            Norm::Rms => "rms_norm",
        }
    }
}

crate::params! {
    /// shaders/layer_norm.wgsl's parameters: x as [rows, c]; the parameter gradients' row splits.
    pub struct NormParams { rows: u32, c: u32, eps: f32, splits: u32, chunk: u32, _pad0: u32, _pad1: u32, _pad2: u32 }
}

/// Rows one thread of the parameter gradients sums, at least; longer column sums are split.
const PARAM_CHUNK: usize = 256;

fn normalize(kind: Norm, x: &Tensor, gamma: Option<&Tensor>, beta: Option<&Tensor>, eps: f32) -> Result<Tensor> {
    let op = kind.name();
    if x.dtype() != DType::F32 || x.rank() == 0 {
        bail!(op, "expects a float32 tensor with at least one axis, got {:?} {}", x.shape(), x.dtype());
    }
    let c = x.shape()[x.rank() - 1];
    for (what, t) in [("gamma", gamma), ("beta", beta)] {
        if let Some(t) = t {
            if t.shape() != [c] || t.dtype() != DType::F32 {
                bail!(op, "{what} must be float32 of shape [{c}] (the last axis of {:?}), got {:?} {}", x.shape(), t.shape(), t.dtype());
            }
            crate::tensor::common_device(op, &[x, t])?;
        }
    }
    if !(eps.is_finite() && eps >= 0.0) {
        bail!(op, "epsilon {eps} must be a non-negative number");
    }
    let rows = if c == 0 { 0 } else { x.numel() / c };
    let p = NormParams { rows: rows as u32, c: c as u32, eps, splits: 1, chunk: rows as u32, _pad0: 0, _pad1: 0, _pad2: 0 };
    let (y, stats) = no_grad(|| forward(kind, x, gamma, beta, &p))?;
    let mut inputs = vec![x];
    inputs.extend(gamma);
    inputs.extend(beta);
    let (has_gamma, has_beta) = (gamma.is_some(), beta.is_some());
    Ok(record(op, y, &inputs, move |g| {
        crate::autograd::first_order_only(op)?;
        let (x, dy) = (&g.inputs[0], g.grad);
        let gamma = has_gamma.then(|| &g.inputs[1]);
        let dx = if g.needs(0) { Some(backward_x(kind, x, dy, gamma, &stats, &p)?) } else { None };
        let mut out = vec![dx];
        if has_gamma || has_beta {
            let (dgamma, dbeta) = backward_params(kind, x, dy, &stats, &p)?;
            if has_gamma {
                out.push(Some(dgamma));
            }
            if has_beta {
                out.push(Some(dbeta));
            }
        }
        Ok(out)
    }))
}

/// The normalised tensor, and each row's (mean, rstd) for the backward pass.
/// Rows of up to this many features get a thread each; longer rows a workgroup each.
const THREAD_PER_ROW_MAX: usize = 256;

/// The kernel mode and grid for `rows` rows of `c` features: `<mode>_rows` with a thread per row,
/// or `mode` with a workgroup (of 256 lanes) per row.
fn row_layout(mode: &'static str, rows: usize, c: usize) -> Result<(&'static str, [u32; 3])> {
    if c <= THREAD_PER_ROW_MAX {
        let rows_mode = if mode == "forward" { "forward_rows" } else { "backward_x_rows" };
        Ok((rows_mode, grid_2d(rows.div_ceil(256) as u64)?))
    } else {
        Ok((mode, grid_2d(rows as u64)?))
    }
}

fn forward(kind: Norm, x: &Tensor, gamma: Option<&Tensor>, beta: Option<&Tensor>, p: &NormParams) -> Result<(Tensor, Tensor)> {
    let (rows, c) = (p.rows as usize, p.c as usize);
    let (y, stats) = match x.device() {
        Device::Cpu => {
            let xw = x.cpu_words()?;
            let xs: &[f32] = bytemuck::cast_slice(&xw);
            let (gw, bw) = (gamma.map(|t| t.cpu_words()).transpose()?, beta.map(|t| t.cpu_words()).transpose()?);
            let gs: Option<&[f32]> = gw.as_ref().map(|w| bytemuck::cast_slice(w));
            let bs: Option<&[f32]> = bw.as_ref().map(|w| bytemuck::cast_slice(w));
            let mut y = alloc_words(kind.name(), rows * c)?;
            let mut stats = alloc_words(kind.name(), rows * 2)?;
            for r in 0..rows {
                let row = &xs[r * c..(r + 1) * c];
                // f64 sums: the oracle must not drift on long rows
                let mean = if kind == Norm::Layer { row.iter().map(|&v| v as f64).sum::<f64>() / c as f64 } else { 0.0 };
                let var = row.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / c as f64;
                let (mean, rstd) = (mean as f32, (1.0 / (var + p.eps as f64).sqrt()) as f32);
                for j in 0..c {
                    let v = (row[j] - mean) * rstd * gs.map_or(1.0, |g| g[j]) + bs.map_or(0.0, |b| b[j]);
                    y[r * c + j] = v.to_bits();
                }
                stats[2 * r] = mean.to_bits();
                stats[2 * r + 1] = rstd.to_bits();
            }
            (Storage::cpu(y), Storage::cpu(stats))
        }
        Device::Gpu(ctx) => {
            let out = ctx.alloc(kind.name(), (rows * c * 4) as u64)?;
            let stats = ctx.alloc(kind.name(), (rows * 2 * 4) as u64)?;
            let params: Vec<&Tensor> = gamma.into_iter().chain(beta).collect();
            let (mode, grid) = row_layout("forward", rows, c)?;
            dispatch(ctx, kind, mode, &[&out], &stats, None, &params, gamma.is_some(), beta.is_some(), x, p, grid)?;
            (Storage::gpu(out), Storage::gpu(stats))
        }
    };
    Ok((
        Tensor::from_storage(x.device(), Rc::new(y), x.shape().to_vec(), DType::F32),
        Tensor::from_storage(x.device(), Rc::new(stats), vec![rows, 2], DType::F32),
    ))
}

fn backward_x(kind: Norm, x: &Tensor, dy: &Tensor, gamma: Option<&Tensor>, stats: &Tensor, p: &NormParams) -> Result<Tensor> {
    let (rows, c) = (p.rows as usize, p.c as usize);
    let dx = match x.device() {
        Device::Cpu => {
            let (xw, dw, sw) = (x.cpu_words()?, dy.cpu_words()?, stats.cpu_words()?);
            let gw = gamma.map(|t| t.cpu_words()).transpose()?;
            let (xs, ds, ss): (&[f32], &[f32], &[f32]) = (bytemuck::cast_slice(&xw), bytemuck::cast_slice(&dw), bytemuck::cast_slice(&sw));
            let gs: Option<&[f32]> = gw.as_ref().map(|w| bytemuck::cast_slice(w));
            let mut dx = alloc_words(kind.name(), rows * c)?;
            for r in 0..rows {
                let (mean, rstd) = (ss[2 * r], ss[2 * r + 1]);
                let g = |j: usize| ds[r * c + j] * gs.map_or(1.0, |g| g[j]);
                let xh = |j: usize| (xs[r * c + j] - mean) * rstd;
                let mean_g = if kind == Norm::Layer { (0..c).map(|j| g(j) as f64).sum::<f64>() / c as f64 } else { 0.0 };
                let mean_gx = (0..c).map(|j| (g(j) * xh(j)) as f64).sum::<f64>() / c as f64;
                for j in 0..c {
                    dx[r * c + j] = (rstd * (g(j) - mean_g as f32 - xh(j) * mean_gx as f32)).to_bits();
                }
            }
            Storage::cpu(dx)
        }
        Device::Gpu(ctx) => {
            let out = ctx.alloc(kind.name(), (rows * c * 4) as u64)?;
            let params: Vec<&Tensor> = gamma.into_iter().collect();
            let (mode, grid) = row_layout("backward_x", rows, c)?;
            dispatch(ctx, kind, mode, &[&out], stats.gpu_buffer()?, Some(dy), &params, gamma.is_some(), false, x, p, grid)?;
            Storage::gpu(out)
        }
    };
    Ok(Tensor::from_storage(x.device(), Rc::new(dx), x.shape().to_vec(), DType::F32))
}

/// (d gamma, d beta): column sums over the rows of dy * xhat and dy.
fn backward_params(kind: Norm, x: &Tensor, dy: &Tensor, stats: &Tensor, p: &NormParams) -> Result<(Tensor, Tensor)> {
    let (rows, c) = (p.rows as usize, p.c as usize);
    match x.device() {
        Device::Cpu => {
            let (xw, dw, sw) = (x.cpu_words()?, dy.cpu_words()?, stats.cpu_words()?);
            let (xs, ds, ss): (&[f32], &[f32], &[f32]) = (bytemuck::cast_slice(&xw), bytemuck::cast_slice(&dw), bytemuck::cast_slice(&sw));
            let (mut dg, mut db) = (vec![0f64; c], vec![0f64; c]);
            for r in 0..rows {
                for j in 0..c {
                    let d = ds[r * c + j] as f64;
                    dg[j] += d * ((xs[r * c + j] - ss[2 * r]) * ss[2 * r + 1]) as f64;
                    db[j] += d;
                }
            }
            let words = |v: Vec<f64>| v.into_iter().map(|s| (s as f32).to_bits()).collect::<Vec<u32>>();
            let t = |w: Vec<u32>| Tensor::from_storage(x.device(), Rc::new(Storage::cpu(w)), vec![c], DType::F32);
            Ok((t(words(dg)), t(words(db))))
        }
        Device::Gpu(ctx) => {
            let splits = rows.div_ceil(PARAM_CHUNK).clamp(1, 64);
            let chunk = rows.div_ceil(splits).max(1);
            let p = NormParams { splits: splits as u32, chunk: chunk as u32, ..*p };
            let dg = ctx.alloc(kind.name(), (splits * c * 4) as u64)?;
            let db = ctx.alloc(kind.name(), (splits * c * 4) as u64)?;
            dispatch(ctx, kind, "backward_params", &[&dg, &db], stats.gpu_buffer()?, Some(dy), &[], false, false, x, &p, grid_2d((splits * c).div_ceil(256) as u64)?)?;
            let t = |b: GpuBuffer| Tensor::from_storage(x.device(), Rc::new(Storage::gpu(b)), vec![splits, c], DType::F32);
            let sum = |t: Tensor| if splits == 1 { t.reshape_to(&[c]) } else { ops::sum(&t, Some(&[0]), false) };
            Ok((sum(t(dg))?, sum(t(db))?))
        }
    }
}

/// Runs `mode` of shaders/layer_norm.wgsl over buffers out, out2 (backward_params' second
/// output), stats, then dy, gamma and beta (those present, in `params`), then x (read in place
/// when pending).
#[allow(clippy::too_many_arguments)]
fn dispatch(
    ctx: &Rc<GpuContext>,
    kind: Norm,
    mode: &str,
    outs: &[&GpuBuffer],
    stats: &GpuBuffer,
    dy: Option<&Tensor>,
    params: &[&Tensor],
    has_gamma: bool,
    has_beta: bool,
    x: &Tensor,
    p: &NormParams,
    grid: [u32; 3],
) -> Result<()> {
    // Pending inputs (a residual add before the norm; the gradient arriving from above) are read in
    // place.
    // Each fused input may take what the kernel's other bindings leave of the storage buffers
    // (the rest of the budget counts the other input as one buffer).
    let fixed = outs.len() + 1 + params.len();
    let max = crate::device::gpu::MAX_STORAGE_BUFFERS as usize;
    let dy_fused = match dy {
        Some(t) => fusion::fused_input(t, max.saturating_sub(fixed + 1))?,
        None => None,
    };
    let dy_buffers = dy.map_or(0, |_| dy_fused.as_ref().map_or(1, |f| f.buffers.len()));
    let fused = fusion::fused_input(x, max.saturating_sub(fixed + dy_buffers))?;
    let key = format!(
        "{}:{mode}:{has_gamma}{has_beta}:{}:{}",
        kind.name(),
        dy_fused.as_ref().map(|f| f.key()).unwrap_or_default(),
        fused.as_ref().map(|f| f.key()).unwrap_or_default()
    );
    let kernel = ctx.kernel(&key, || {
        let mut src = Source::new(&NormParams::wgsl_fields()).buffer("out", "f32", true);
        let mut defs = format!("const CENTER: bool = {};\n", kind == Norm::Layer);
        // What this mode does not bind is a private dummy, so the other modes' code compiles.
        if outs.len() == 2 {
            src = src.buffer("out2", "f32", true);
        } else {
            defs += "var<private> out2: array<f32, 1>;\n";
        }
        src = src.buffer("stats", "f32", true);
        if dy.is_some() {
            src = src.input("dy", "f32", dy_fused.as_ref());
        } else {
            defs += "fn load_dy(i: u32) -> f32 { return 0.0; }\n";
        }
        for (name, present, absent) in [("gamma", has_gamma, "1.0"), ("beta", has_beta, "0.0")] {
            if present {
                src = src.buffer(name, "f32", false);
                defs += &format!("fn {name}_at(j: u32) -> f32 {{ return {name}[j]; }}\n");
            } else {
                defs += &format!("fn {name}_at(j: u32) -> f32 {{ return {absent}; }}\n");
            }
        }
        defs += &match mode {
            "backward_params" | "forward_rows" | "backward_x_rows" => format!("fn run(lane: u32, group: u32, thread: u32) {{ {mode}(thread); }}"),
            other => format!("fn run(lane: u32, group: u32, thread: u32) {{ {other}(lane, group); }}"),
        };
        src.input("x", "f32", fused.as_ref()).define(&defs).body(include_str!("../../shaders/layer_norm.wgsl"))
    });
    let mut buffers: Vec<&wgpu::Buffer> = outs.iter().map(|b| b.raw()).collect();
    buffers.push(stats.raw());
    let (dy_leaves, x_leaves) = (dy_fused.as_ref().map(fusion::leaf_buffers), fused.as_ref().map(fusion::leaf_buffers));
    match (dy, &dy_leaves) {
        (Some(_), Some(leaves)) => buffers.extend(leaves.iter().map(|b| b.raw())),
        (Some(dy), None) => buffers.push(dy.gpu_buffer()?.raw()),
        (None, _) => {}
    }
    for t in params {
        buffers.push(t.gpu_buffer()?.raw());
    }
    match &x_leaves {
        Some(leaves) => buffers.extend(leaves.iter().map(|b| b.raw())),
        None => buffers.push(x.gpu_buffer()?.raw()),
    }
    let progs: Vec<&Program> = dy_fused.iter().chain(fused.iter()).collect();
    ctx.dispatch(&kernel, &fusion::uniform_with_fused(bytemuck::bytes_of(p), &progs), &buffers, grid);
    Ok(())
}
