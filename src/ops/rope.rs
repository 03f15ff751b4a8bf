//! Rotary position embeddings (RoPE) as one op: the first `rot` features of each position of
//! x [..., seq, d] rotate in pairs by per-position angles, given as tables cos and sin of shape
//! [table, rot / 2] (row offset + s for position s, so a decoding step passes its position). Pairs
//! are (i, i + rot/2) in the half-split layout (GPT-NeoX, LLaMA, HF `rotate_half`) or (2i, 2i + 1)
//! interleaved (GPT-J); features from rot on pass through (partial rotary, as in Phi).
//!
//! The gradient of x is the inverse rotation, the same kernel with -sin; cos and sin (usually
//! constants) get theirs from elementwise products summed over the leading axes.
use std::rc::Rc;

use crate::autograd::{no_grad, record};
use crate::device::gpu::grid_2d;
use crate::device::Device;
use crate::kernel::Source;
use crate::tensor::{alloc_words, common_device, Storage};
use crate::{bail, ops, DType, Result, Tensor};

const OP: &str = "rope";

crate::params! {
    /// shaders/rope.wgsl's parameters: x as [rows, seq, d], `rot` features rotated, table rows from `offset`.
    pub struct RopeParams { rows: u32, seq: u32, d: u32, rot: u32, offset: u32, interleaved: u32, _pad0: u32, _pad1: u32 }
}

/// Rotates x [..., seq, d] by the angles of rows offset .. offset + seq of cos and sin
/// ([table, rot / 2], rot <= d). `interleaved`: pairs (2i, 2i + 1), else (i, i + rot / 2).
pub fn rope(x: &Tensor, cos: &Tensor, sin: &Tensor, offset: usize, interleaved: bool) -> Result<Tensor> {
    for (name, t) in [("x", x), ("cos", cos), ("sin", sin)] {
        if t.dtype() != DType::F32 {
            bail!(OP, "{name} must be float32, got {}", t.dtype());
        }
    }
    if x.rank() < 2 || cos.rank() != 2 || sin.shape() != cos.shape() {
        bail!(OP, "x must be [..., seq, d] and cos, sin the same [table, rot / 2]; got x {:?}, cos {:?}, sin {:?}", x.shape(), cos.shape(), sin.shape());
    }
    common_device(OP, &[x, cos, sin])?;
    let (seq, d) = (x.shape()[x.rank() - 2], x.shape()[x.rank() - 1]);
    let (table, half) = (cos.shape()[0], cos.shape()[1]);
    let rot = 2 * half;
    if rot > d || offset.checked_add(seq).is_none_or(|end| end > table) {
        bail!(OP, "positions {offset}..{} of x {:?} need cos and sin with at least that many rows and rot = {rot} <= d; the tables are {:?}", offset.saturating_add(seq), x.shape(), cos.shape());
    }
    if x.numel() > u32::MAX as usize || cos.numel() > u32::MAX as usize {
        bail!(OP, "x {:?} is too large", x.shape());
    }
    let rows = if seq * d == 0 { 0 } else { x.numel() / (seq * d) };
    let p = RopeParams { rows: rows as u32, seq: seq as u32, d: d as u32, rot: rot as u32, offset: offset as u32, interleaved: interleaved as u32, _pad0: 0, _pad1: 0 };
    let out = no_grad(|| rotate(x, cos, sin, &p))?;
    Ok(record(OP, out, &[x, cos, sin], move |g| {
        crate::autograd::first_order_only(OP)?;
        let (x, cos, sin, dy) = (&g.inputs[0], &g.inputs[1], &g.inputs[2], g.grad);
        let dx = if g.needs(0) { Some(rotate(dy, cos, &ops::neg(sin)?, &p)?) } else { None };
        if !g.needs(1) && !g.needs(2) {
            return Ok(vec![dx, None, None]);
        }
        // out = x * cos_full + rotate_half(x) * sin_full, where rotate_half(x) is the rotation by
        // cos 0, sin 1; each table entry serves both features of its pair.
        let ones = ops::ones(x.device(), sin.shape(), DType::F32)?;
        let turned = rotate(x, &ops::zeros(x.device(), cos.shape(), DType::F32)?, &ones, &p)?;
        let fold = |prod: Tensor| -> Result<Tensor> {
            let lead: Vec<i64> = (0..prod.rank() as i64 - 2).collect();
            let per_position = if lead.is_empty() { prod } else { ops::sum(&prod, Some(&lead), false)? };
            let rotated = ops::slice(&per_position, &[0, 0], &[-1, rot as i64])?;
            let pairs = if interleaved {
                ops::sum(&rotated.reshape_to(&[seq, half, 2])?, Some(&[2]), false)?
            } else {
                ops::sum(&rotated.reshape_to(&[seq, 2, half])?, Some(&[1]), false)?
            };
            // Rows of the table outside offset .. offset + seq get no gradient.
            ops::pad(&pairs, &[(offset, table - offset - seq), (0, 0)], 0.0)
        };
        let dcos = if g.needs(1) { Some(fold(ops::mul(dy, x)?)?) } else { None };
        let dsin = if g.needs(2) { Some(fold(ops::mul(dy, &turned)?)?) } else { None };
        Ok(vec![dx, dcos, dsin])
    }))
}

/// The rotation itself (no gradient recorded).
fn rotate(x: &Tensor, cos: &Tensor, sin: &Tensor, p: &RopeParams) -> Result<Tensor> {
    let n = x.numel();
    let storage = match x.device() {
        Device::Cpu => {
            let (xw, cw, sw) = (x.cpu_words()?, cos.cpu_words()?, sin.cpu_words()?);
            let (xs, cs, ss): (&[f32], &[f32], &[f32]) = (bytemuck::cast_slice(&xw), bytemuck::cast_slice(&cw), bytemuck::cast_slice(&sw));
            let (seq, d, rot, half) = (p.seq as usize, p.d as usize, p.rot as usize, p.rot as usize / 2);
            let mut out = alloc_words(OP, n)?;
            for (r, (src, dst)) in xs.chunks(d.max(1)).zip(out.chunks_mut(d.max(1))).enumerate() {
                let at = (p.offset as usize + r % seq.max(1)) * half;
                let (c, s) = (&cs[at..at + half], &ss[at..at + half]);
                for j in 0..half {
                    let (ia, ib) = if p.interleaved != 0 { (2 * j, 2 * j + 1) } else { (j, j + half) };
                    let (a, b) = (src[ia], src[ib]);
                    dst[ia] = (a * c[j] - b * s[j]).to_bits();
                    dst[ib] = (a * s[j] + b * c[j]).to_bits();
                }
                for i in rot..d {
                    dst[i] = src[i].to_bits();
                }
            }
            Storage::cpu(out)
        }
        Device::Gpu(ctx) => {
            let out = ctx.alloc(OP, (n * 4) as u64)?;
            let kernel = ctx.kernel("rope", || {
                Source::new(&RopeParams::wgsl_fields())
                    .buffer("out", "f32", true)
                    .buffer("x", "f32", false)
                    .buffer("cos_table", "f32", false)
                    .buffer("sin_table", "f32", false)
                    .body(include_str!("../../shaders/rope.wgsl"))
            });
            let buffers = [out.raw(), x.gpu_buffer()?.raw(), cos.gpu_buffer()?.raw(), sin.gpu_buffer()?.raw()];
            ctx.dispatch(&kernel, bytemuck::bytes_of(p), &buffers, grid_2d(n.div_ceil(256) as u64)?);
            Storage::gpu(out)
        }
    };
    Ok(Tensor::from_storage(x.device(), Rc::new(storage), x.shape().to_vec(), DType::F32))
}
