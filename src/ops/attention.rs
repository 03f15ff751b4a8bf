//! Scaled dot-product attention as one op: softmax(q k^T * scale + mask) v, per batch and head,
//! with grouped-query attention (kv heads shared by groups of query heads), an additive or boolean
//! mask broadcast over (batch, heads, seq_q, seq_k), and causal masking.
//!
//! Neither backend materialises the seq_q x seq_k score matrix: the WebGPU kernels
//! (shaders/attention.wgsl) tile keys through workgroup memory with an online softmax, the CPU
//! walks blocks of query rows and keys the same way, and both backward passes recompute the
//! probabilities from each row's log-sum-exp (kept from the forward: seq_q floats per head).
//!
//! Conventions (PyTorch's `scaled_dot_product_attention`, layout [batch, heads, seq, head size]):
//! a boolean mask is true where a query may attend; the default scale is 1/sqrt(head size); a
//! score at or below -1e30 (an additive mask of -inf or float32's lowest) is not attended, and a
//! row that attends to no key gives zeros (not NaN); causal masking is aligned to the bottom
//! right, so query i sees keys j <= i + seq_k - seq_q (the same as top-left when the lengths are
//! equal, and what a decoding step over a key/value cache needs). `attention_prefix` attends to the
//! first `kv_len` keys of preallocated k and v (a key/value cache appended to in place with
//! `Tensor::assign_slice`), so a decoding step reads the past where it lies.
use std::rc::Rc;

use crate::autograd::{no_grad, record, sum_to_shape};
use crate::device::gpu::{grid_2d, GpuBuffer, GpuContext};
use crate::device::Device;
use crate::kernel::Source;
use crate::tensor::{common_device, Storage};
use crate::{bail, ops, DType, Result, Tensor};

const OP: &str = "attention";
/// A score at or below this is not attended (shaders/attention.wgsl has the same constant).
const MASKED: f32 = -1.0e30;
/// The log-sum-exp kept for a row that attends to no key: exp(s - lse) is 0 for every score.
const MASKED_ROW: f32 = 3.0e38;
/// The largest head size the WebGPU kernels take: a thread holds its rows in registers.
const MAX_GPU_HEAD: usize = 512;
/// Query rows (forward, backward_q) or keys (backward_kv) per workgroup: a thread each.
const ROWS_PER_GROUP: usize = 64;

crate::params! {
    /// shaders/attention.wgsl's parameters: q [b, h, sq, D], k [b, hkv, sk, D], v [b, hkv, sk, DV];
    /// the mask's strides over (batch, head, query, key), 0 where it broadcasts; off = sk - sq
    /// (where causal masking puts the diagonal); k and v rows are kcap apart per head (sk of them
    /// are attended).
    pub struct AttentionParams {
        b: u32, h: u32, hkv: u32, sq: u32, sk: u32, scale: f32, causal: u32, off: i32,
        mb: u32, mh: u32, mi: u32, mj: u32, kcap: u32, _pad1: u32, _pad2: u32, _pad3: u32
    }
}

/// The sizes of one call.
#[derive(Clone, Copy)]
struct Dims {
    b: usize,
    h: usize,
    hkv: usize,
    sq: usize,
    /// Keys attended, and (kcap) keys held per head in k and v.
    sk: usize,
    kcap: usize,
    d: usize,
    dv: usize,
}

impl Dims {
    /// One past the last key query row `i` attends to.
    fn key_end(&self, i: usize, causal: bool) -> usize {
        if causal {
            (i as i64 + 1 + self.sk as i64 - self.sq as i64).clamp(0, self.sk as i64) as usize
        } else {
            self.sk
        }
    }
}

/// softmax(q k^T * scale + mask) v. q: [batch, heads, seq_q, d]; k: [batch, kv_heads, seq_k, d];
/// v: [batch, kv_heads, seq_k, dv], kv_heads dividing heads. `mask` (float32 added to the scores,
/// or bool: true = attend) broadcasts to [batch, heads, seq_q, seq_k]. Returns
/// [batch, heads, seq_q, dv]. Differentiable in q, k, v and a float mask.
pub fn attention(q: &Tensor, k: &Tensor, v: &Tensor, mask: Option<&Tensor>, causal: bool, scale: Option<f32>) -> Result<Tensor> {
    attention_prefix(q, k, v, None, mask, causal, scale)
}

/// `attention` over the first `kv_len` keys of k and v (all when None): k [batch, kv_heads, cap, d]
/// and v hold `cap` >= kv_len rows, as a key/value cache does. The mask, if any, broadcasts to
/// [batch, heads, seq_q, kv_len]; the gradients of k and v are zero past kv_len.
pub fn attention_prefix(q: &Tensor, k: &Tensor, v: &Tensor, kv_len: Option<usize>, mask: Option<&Tensor>, causal: bool, scale: Option<f32>) -> Result<Tensor> {
    let mut dims = check(q, k, v)?;
    if let Some(len) = kv_len {
        if len > dims.kcap {
            bail!(OP, "kv_len {len} exceeds the {} keys that k {:?} holds", dims.kcap, k.shape());
        }
        dims.sk = len;
    }
    let mask = mask.map(|m| additive_mask(m, q, &dims)).transpose()?;
    let scale = scale.unwrap_or(if dims.d == 0 { 1.0 } else { 1.0 / (dims.d as f32).sqrt() });
    if !scale.is_finite() {
        bail!(OP, "scale {scale} must be a finite number");
    }
    let [mb, mh, mi, mj] = mask.as_ref().map_or([0; 4], |m| broadcast_strides(m.shape()));
    let u = |n: usize| n as u32;
    let p = AttentionParams {
        b: u(dims.b),
        h: u(dims.h),
        hkv: u(dims.hkv),
        sq: u(dims.sq),
        sk: u(dims.sk),
        scale,
        causal: causal as u32,
        off: dims.sk as i32 - dims.sq as i32,
        mb,
        mh,
        mi,
        mj,
        kcap: u(dims.kcap),
        _pad1: 0,
        _pad2: 0,
        _pad3: 0,
    };
    let (out, lse) = no_grad(|| forward(q, k, v, mask.as_ref(), &p, &dims))?;
    let mut inputs = vec![q, k, v];
    inputs.extend(mask.as_ref());
    Ok(record(OP, out, &inputs, move |g| {
        crate::autograd::first_order_only(OP)?;
        let (q, k, v) = (&g.inputs[0], &g.inputs[1], &g.inputs[2]);
        let mask = g.inputs.get(3);
        let (dq, dk, dv) = backward(q, k, v, mask, g.out, g.grad, &lse, &p, &dims)?;
        let mut grads = vec![g.needs(0).then_some(dq), g.needs(1).then_some(dk), g.needs(2).then_some(dv)];
        if let Some(m) = mask {
            grads.push(if g.needs(3) { Some(mask_gradient(q, k, v, m, g.out, g.grad, &lse, &p)?) } else { None });
        }
        Ok(grads)
    }))
}

fn check(q: &Tensor, k: &Tensor, v: &Tensor) -> Result<Dims> {
    for (name, t) in [("q", q), ("k", k), ("v", v)] {
        if t.rank() != 4 || t.dtype() != DType::F32 {
            bail!(OP, "{name} must be a float32 tensor [batch, heads, seq, head size], got {:?} {}", t.shape(), t.dtype());
        }
        if t.shape().iter().any(|&n| n > u32::MAX as usize / 2) {
            bail!(OP, "{name} of shape {:?} is too large", t.shape());
        }
    }
    let (qs, ks, vs) = (q.shape(), k.shape(), v.shape());
    let dims = Dims { b: qs[0], h: qs[1], hkv: ks[1], sq: qs[2], sk: ks[2], kcap: ks[2], d: qs[3], dv: vs[3] };
    let shapes_agree = ks[0] == dims.b && vs[0] == dims.b && vs[1] == dims.hkv && vs[2] == dims.sk && ks[3] == dims.d;
    let heads_group = if dims.hkv == 0 { dims.h == 0 } else { dims.h % dims.hkv == 0 };
    if !shapes_agree || !heads_group {
        bail!(
            OP,
            "q {qs:?}, k {ks:?} and v {vs:?} must be [batch, heads, seq_q, d], [batch, kv_heads, seq_k, d] and [batch, kv_heads, seq_k, dv] with kv_heads dividing heads"
        );
    }
    if let Device::Gpu(_) = common_device(OP, &[q, k, v])? {
        if dims.d > MAX_GPU_HEAD || dims.dv > MAX_GPU_HEAD {
            bail!(OP, "head sizes {} (q, k) and {} (v) above {MAX_GPU_HEAD} are not supported on WebGPU", dims.d, dims.dv);
        }
    }
    Ok(dims)
}

/// The mask as a rank-4 float32 tensor to add to the scores (a bool mask becomes 0 where true,
/// float32's lowest where false), after checking that it broadcasts.
fn additive_mask(mask: &Tensor, like: &Tensor, dims: &Dims) -> Result<Tensor> {
    common_device(OP, &[like, mask])?;
    let target = [dims.b, dims.h, dims.sq, dims.sk];
    let lead = 4usize.checked_sub(mask.rank());
    let broadcasts = lead.is_some_and(|lead| mask.shape().iter().enumerate().all(|(i, &n)| n == 1 || n == target[lead + i]));
    if !broadcasts {
        bail!(OP, "mask of shape {:?} does not broadcast to [batch, heads, seq_q, seq_k] = {target:?}", mask.shape());
    }
    let mut shape = vec![1; 4 - mask.rank()];
    shape.extend_from_slice(mask.shape());
    let mask = mask.reshape_to(&shape)?;
    match mask.dtype() {
        DType::F32 => Ok(mask),
        DType::Bool => {
            let attend = ops::fill(like.device(), &[], 0.0, DType::F32)?;
            let not = ops::fill(like.device(), &[], f32::MIN as f64, DType::F32)?;
            ops::where_(&mask, &attend, &not)
        }
        other => bail!(OP, "mask must be float32 (added to the scores) or bool (true = attend), got {other}"),
    }
}

/// Element strides of a rank-4 shape, 0 along axes of size 1 (broadcast).
fn broadcast_strides(shape: &[usize]) -> [u32; 4] {
    let mut out = [0u32; 4];
    let mut stride = 1usize;
    for axis in (0..4).rev() {
        out[axis] = if shape[axis] == 1 { 0 } else { stride as u32 };
        stride *= shape[axis];
    }
    out
}

fn tensor(device: &Device, storage: Storage, shape: &[usize]) -> Tensor {
    Tensor::from_storage(device, Rc::new(storage), shape.to_vec(), DType::F32)
}

/// The output, and each row's log-sum-exp for the backward pass.
fn forward(q: &Tensor, k: &Tensor, v: &Tensor, mask: Option<&Tensor>, p: &AttentionParams, dims: &Dims) -> Result<(Tensor, Tensor)> {
    let rows = dims.b * dims.h * dims.sq;
    let (out, lse) = match q.device() {
        Device::Cpu => {
            let (out, lse) = cpu::forward(q, k, v, mask, p, dims)?;
            (Storage::cpu(out), Storage::cpu(lse))
        }
        Device::Gpu(ctx) => {
            let out = ctx.alloc(OP, (rows * dims.dv * 4) as u64)?;
            let lse = ctx.alloc(OP, (rows * 4) as u64)?;
            let mut reads = vec![("q", q), ("k", k), ("v", v)];
            reads.extend(mask.map(|m| ("mask", m)));
            let groups = dims.b * dims.h * dims.sq.div_ceil(ROWS_PER_GROUP);
            dispatch(ctx, "forward", [&out, &lse], &reads, p, dims, groups)?;
            (Storage::gpu(out), Storage::gpu(lse))
        }
    };
    let dev = q.device();
    Ok((tensor(dev, out, &[dims.b, dims.h, dims.sq, dims.dv]), tensor(dev, lse, &[dims.b, dims.h, dims.sq])))
}

/// (dq, dk, dv): two dispatches on WebGPU (the query side, which also leaves each row's
/// dout . out for the other; then the key side).
#[allow(clippy::too_many_arguments)]
fn backward(q: &Tensor, k: &Tensor, v: &Tensor, mask: Option<&Tensor>, o: &Tensor, dout: &Tensor, lse: &Tensor, p: &AttentionParams, dims: &Dims) -> Result<(Tensor, Tensor, Tensor)> {
    let dev = q.device();
    match dev {
        Device::Cpu => {
            let (dq, dk, dv) = cpu::backward(q, k, v, mask, o, dout, lse, p, dims)?;
            Ok((tensor(dev, Storage::cpu(dq), q.shape()), tensor(dev, Storage::cpu(dk), k.shape()), tensor(dev, Storage::cpu(dv), v.shape())))
        }
        Device::Gpu(ctx) => {
            let rows = dims.b * dims.h * dims.sq;
            let dq = ctx.alloc(OP, (q.numel() * 4) as u64)?;
            // Each row's lse, then its delta (written by backward_q), in one buffer.
            let stats = ctx.alloc(OP, (2 * rows * 4) as u64)?;
            ctx.copy(lse.gpu_buffer()?.raw(), stats.raw(), (rows * 4) as u64);
            let mut reads = vec![("q", q), ("k", k), ("v", v)];
            reads.extend(mask.map(|m| ("mask", m)));
            let base = reads.len();
            reads.extend([("o", o), ("dout", dout)]);
            dispatch(ctx, "backward_q", [&dq, &stats], &reads, p, dims, dims.b * dims.h * dims.sq.div_ceil(ROWS_PER_GROUP))?;
            // Rows past the attended keys get no gradient: start from zeros when there are any.
            let zeroed = |t: &Tensor| -> Result<Tensor> {
                if dims.sk < dims.kcap {
                    ops::zeros(dev, t.shape(), DType::F32)
                } else {
                    Ok(tensor(dev, Storage::gpu(ctx.alloc(OP, (t.numel() * 4) as u64)?), t.shape()))
                }
            };
            let (dk_t, dv_t) = (zeroed(k)?, zeroed(v)?);
            let (dk, dv) = (dk_t.gpu_buffer()?, dv_t.gpu_buffer()?);
            let stats_t = tensor(dev, Storage::gpu(stats), &[2 * rows]);
            reads.truncate(base);
            reads.extend([("dout", dout), ("stats", &stats_t)]);
            dispatch(ctx, "backward_kv", [dk, dv], &reads, p, dims, dims.b * dims.hkv * dims.sk.div_ceil(ROWS_PER_GROUP))?;
            Ok((tensor(dev, Storage::gpu(dq), q.shape()), dk_t, dv_t))
        }
    }
}

/// d loss / d mask = ds = p * (dout v^T - rowsum(dout * out)), summed to the mask's shape. This
/// one does build the score matrix (from ordinary ops): only a mask that is itself trained (a
/// learned position bias) needs it.
#[allow(clippy::too_many_arguments)]
fn mask_gradient(q: &Tensor, k: &Tensor, v: &Tensor, mask: &Tensor, o: &Tensor, dout: &Tensor, lse: &Tensor, p: &AttentionParams) -> Result<Tensor> {
    let (b, h, sq, sk) = (p.b as usize, p.h as usize, p.sq as usize, p.sk as usize);
    let per_kv = |t: &Tensor| -> Result<Tensor> {
        let (hkv, s, d) = (t.shape()[1], t.shape()[2], t.shape()[3]);
        let spread = ops::broadcast_to(&t.reshape_to(&[b, hkv, 1, s, d])?, &[b, hkv, h / hkv.max(1), s, d])?;
        spread.reshape_to(&[b, h, s, d])
    };
    let prefix = |t: &Tensor| if sk < t.shape()[2] { ops::slice(t, &[0, 0, 0, 0], &[-1, -1, sk as i64, -1]) } else { Ok(t.clone()) };
    let (k, v) = (per_kv(&prefix(k)?)?, per_kv(&prefix(v)?)?);
    let mut s = ops::add(&ops::mul(&ops::matmul(q, &k, false, true)?, &ops::fill(q.device(), &[], p.scale as f64, DType::F32)?)?, mask)?;
    if p.causal != 0 {
        let above: Vec<bool> = (0..sq * sk).map(|e| (e % sk) as i64 > (e / sk) as i64 + p.off as i64).collect();
        let above = Tensor::from_bool(q.device(), &above, &[sq, sk])?;
        s = ops::where_(&above, &ops::fill(q.device(), &[], MASKED as f64 * 2.0, DType::F32)?, &s)?;
    }
    let probs = ops::exp(&ops::sub(&s, &lse.reshape_to(&[b, h, sq, 1])?)?)?;
    let dp = ops::matmul(dout, &v, false, true)?;
    let delta = ops::sum(&ops::mul(dout, o)?, Some(&[-1]), true)?;
    sum_to_shape(&ops::mul(&probs, &ops::sub(&dp, &delta)?)?, mask.shape())
}

/// Runs `mode` of shaders/attention.wgsl: outputs out_a and out_b, then the named inputs in order.
fn dispatch(ctx: &Rc<GpuContext>, mode: &str, outs: [&GpuBuffer; 2], reads: &[(&str, &Tensor)], p: &AttentionParams, dims: &Dims, groups: usize) -> Result<()> {
    let has_mask = reads.iter().any(|(name, _)| *name == "mask");
    // Keys (or query rows) per tile: the k and v tiles (plus two floats a row) fill at most 16 KB
    // of workgroup memory, WebGPU's guaranteed minimum.
    let tile = (4000 / (dims.d.max(1) + dims.dv.max(1) + 2)).clamp(1, 32);
    let key = format!("attention:{mode}:{}:{}:{has_mask}", dims.d, dims.dv);
    let kernel = ctx.kernel(&key, || {
        let mut src = Source::new(&AttentionParams::wgsl_fields()).buffer("out_a", "f32", true).buffer("out_b", "f32", true);
        let mut defs = format!(
            "const D: u32 = {}u;\nconst DV: u32 = {}u;\nconst TK: u32 = {tile}u;\nconst WG: u32 = {ROWS_PER_GROUP}u;\nconst HAS_MASK: bool = {has_mask};\n",
            dims.d, dims.dv
        );
        for name in ["q", "k", "v", "mask", "o", "dout", "lse", "stats"] {
            if reads.iter().any(|(n, _)| *n == name) {
                src = src.buffer(name, "f32", false);
            } else {
                // What this mode does not bind is a private dummy, so the other modes' code compiles.
                defs += &format!("var<private> {name}: array<f32, 1>;\n");
            }
        }
        defs += &format!("fn run(lane: u32, group: u32) {{ {mode}(lane, group); }}\n");
        src.define(&defs).body(include_str!("../../shaders/attention.wgsl"))
    });
    let mut buffers: Vec<&wgpu::Buffer> = outs.iter().map(|b| b.raw()).collect();
    for (_, t) in reads {
        buffers.push(t.gpu_buffer()?.raw());
    }
    ctx.dispatch(&kernel, bytemuck::bytes_of(p), &buffers, grid_2d(groups as u64)?);
    Ok(())
}

/// The CPU backend: the same algorithm, blocks of query rows against blocks of keys.
mod cpu {
    use super::{AttentionParams, Dims, MASKED, MASKED_ROW, OP};
    use crate::ops::matmul::{dot, gemm};
    use crate::ops::unary::exp_f32;
    use crate::tensor::alloc_words;
    use crate::{Result, Tensor};

    /// Query rows per block: their scores against a key block come from one GEMM.
    const ROW_BLOCK: usize = 64;
    /// Keys per block: a row's online-softmax update (rescaling what it holds) happens once per
    /// block, not once per key.
    const KEY_BLOCK: usize = 256;

    /// The additive mask and its strides over (batch, head, query, key), 0 where it broadcasts.
    struct Mask<'a> {
        words: Option<&'a [f32]>,
        strides: [usize; 4],
    }

    impl Mask<'_> {
        /// Query i's scores of the key block from j0: the first `attended` keys get the mask
        /// added and are returned; the rest are set to 0 (probability 0).
        fn attended_part<'r>(&self, scores: &'r mut [f32], attended: usize, b: usize, h: usize, i: usize, j0: usize) -> &'r mut [f32] {
            let (live, rest) = scores.split_at_mut(attended);
            rest.fill(0.0);
            self.add_row(live, b, h, i, j0);
            live
        }

        /// Adds the mask of keys j0.. to one row of scores.
        fn add_row(&self, scores: &mut [f32], b: usize, h: usize, i: usize, j0: usize) {
            let Some(m) = self.words else { return };
            let s = &self.strides;
            let (base, n) = (b * s[0] + h * s[1] + i * s[2] + j0 * s[3], scores.len());
            match s[3] {
                0 => scores.iter_mut().for_each(|x| *x += m[base]),
                1 => scores.iter_mut().zip(&m[base..base + n]).for_each(|(x, &y)| *x += y),
                step => scores.iter_mut().enumerate().for_each(|(c, x)| *x += m[base + c * step]),
            }
        }
    }

    fn strides(p: &AttentionParams) -> [usize; 4] {
        [p.mb as usize, p.mh as usize, p.mi as usize, p.mj as usize]
    }

    /// The largest score above MASKED (MASKED if none; NaN is skipped), in eight lanes so that
    /// it compiles to vector code (a single running maximum is a chain the compiler keeps scalar).
    fn max_above_masked(row: &[f32]) -> f32 {
        let mut lanes = [MASKED; 8];
        let chunks = row.chunks_exact(8);
        let tail = chunks.remainder().iter().fold(MASKED, |t, &s| if s > t { s } else { t });
        for c in chunks {
            for (t, &s) in lanes.iter_mut().zip(c) {
                *t = if s > *t { s } else { *t };
            }
        }
        lanes.iter().fold(tail, |t, &s| if s > t { s } else { t })
    }

    /// The sum of a row in eight lanes (vector code, as above).
    fn sum(row: &[f32]) -> f32 {
        let mut lanes = [0f32; 8];
        let chunks = row.chunks_exact(8);
        let tail: f32 = chunks.remainder().iter().sum();
        for c in chunks {
            for (t, &s) in lanes.iter_mut().zip(c) {
                *t += s;
            }
        }
        lanes.iter().sum::<f32>() + tail
    }

    /// Flash attention's blocking on the CPU: per head, a block of query rows (scaled) against a
    /// block of keys gives a score block by one GEMM; each row turns its scores into
    /// probabilities relative to its running maximum (rescaling its sums once if the maximum
    /// grew), and one more GEMM adds probabilities x values. Keys a row does not attend get
    /// probability 0, so the GEMMs stay rectangular.
    pub fn forward(q: &Tensor, k: &Tensor, v: &Tensor, mask: Option<&Tensor>, p: &AttentionParams, dims: &Dims) -> Result<(Vec<u32>, Vec<u32>)> {
        let (qw, kw, vw) = (q.cpu_words()?, k.cpu_words()?, v.cpu_words()?);
        let mw = mask.map(|m| m.cpu_words()).transpose()?;
        let (qs, ks, vs): (&[f32], &[f32], &[f32]) = (bytemuck::cast_slice(&qw), bytemuck::cast_slice(&kw), bytemuck::cast_slice(&vw));
        let mask = Mask { words: mw.as_ref().map(|w| bytemuck::cast_slice(w)), strides: strides(p) };
        let Dims { b, h, hkv, sq, d, dv, .. } = *dims;
        let causal = p.causal != 0;
        let mut out = alloc_words(OP, b * h * sq * dv)?;
        let mut lse = alloc_words(OP, b * h * sq)?;
        let block_rows = ROW_BLOCK.min(sq);
        let mut scaled = vec![0f32; block_rows * d];
        let mut scores = vec![0f32; block_rows * KEY_BLOCK.min(dims.sk)];
        let mut acc = vec![0f32; block_rows * dv];
        let mut pv = vec![0f32; block_rows * dv];
        let (mut m, mut l) = ([0f32; ROW_BLOCK], [0f32; ROW_BLOCK]);
        for bh in 0..b * h {
            let (bi, hi) = (bh / h, bh % h);
            let kv = (bi * hkv + hi / (h / hkv)) * dims.kcap;
            for i0 in (0..sq).step_by(ROW_BLOCK) {
                let rows = ROW_BLOCK.min(sq - i0);
                let q_rows = &qs[(bh * sq + i0) * d..(bh * sq + i0 + rows) * d];
                scaled[..rows * d].iter_mut().zip(q_rows).for_each(|(x, &y)| *x = y * p.scale);
                acc[..rows * dv].fill(0.0);
                l.fill(0.0);
                m.fill(0.0);
                let end = dims.key_end(i0 + rows - 1, causal);
                for j0 in (0..end).step_by(KEY_BLOCK) {
                    let cols = KEY_BLOCK.min(end - j0);
                    let block = &mut scores[..rows * cols];
                    // scores = scaled q (rows x d) . k^T (d x cols): k's rows read as columns.
                    gemm(rows, d, cols, &scaled, d, 1, &ks[(kv + j0) * d..], 1, d, block);
                    for (r, row) in block.chunks_exact_mut(cols.max(1)).enumerate().take(rows) {
                        let attended = dims.key_end(i0 + r, causal).saturating_sub(j0).min(cols);
                        let row = mask.attended_part(row, attended, bi, hi, i0 + r, j0);
                        // NaN is not above the threshold here, so a NaN score reaches the sums.
                        let top = max_above_masked(row);
                        if top <= MASKED && !row.iter().any(|s| s.is_nan()) {
                            row.fill(0.0);
                            continue;
                        }
                        let top = if top <= MASKED { 0.0 } else { top };
                        let grown = if l[r] == 0.0 { top } else { m[r].max(top) };
                        if l[r] != 0.0 && grown != m[r] {
                            let corr = exp_f32(m[r] - grown);
                            l[r] *= corr;
                            acc[r * dv..(r + 1) * dv].iter_mut().for_each(|x| *x *= corr);
                        }
                        m[r] = grown;
                        row.iter_mut().for_each(|s| *s = if *s <= MASKED { 0.0 } else { exp_f32(*s - grown) });
                        l[r] += sum(row);
                    }
                    // acc += probabilities (rows x cols) . v (cols x dv).
                    accumulate(&mut acc[..rows * dv], &mut pv, |t| gemm(rows, cols, dv, block, cols, 1, &vs[(kv + j0) * dv..], dv, 1, t));
                }
                for r in 0..rows {
                    let row = bh * sq + i0 + r;
                    // l is 0 only where no key was attended; NaN (a NaN score) passes through.
                    let attended = l[r] != 0.0;
                    let inv = if attended { 1.0 / l[r] } else { 0.0 };
                    for c in 0..dv {
                        out[row * dv + c] = (acc[r * dv + c] * inv).to_bits();
                    }
                    lse[row] = if attended { m[r] + l[r].ln() } else { MASKED_ROW }.to_bits();
                }
            }
        }
        Ok((out, lse))
    }

    /// The backward pass in the forward's blocks: per (query rows, keys) block, the
    /// probabilities are recomputed from each row's log-sum-exp (one GEMM for the scores), and
    /// dP = dout v^T, dS = P (dP - rowsum(dout * out)), then dv += P^T dout, dk += dS^T q and
    /// dq += dS k as GEMMs (k and v shared by a group of query heads accumulate each head's part).
    #[allow(clippy::too_many_arguments)]
    pub fn backward(
        q: &Tensor,
        k: &Tensor,
        v: &Tensor,
        mask: Option<&Tensor>,
        o: &Tensor,
        dout: &Tensor,
        lse: &Tensor,
        p: &AttentionParams,
        dims: &Dims,
    ) -> Result<(Vec<u32>, Vec<u32>, Vec<u32>)> {
        let words = [q, k, v, o, dout, lse].map(|t| t.cpu_words());
        let [qw, kw, vw, ow, dw, lw] = words;
        let (qw, kw, vw, ow, dw, lw) = (qw?, kw?, vw?, ow?, dw?, lw?);
        fn f(w: &[u32]) -> &[f32] {
            bytemuck::cast_slice(w)
        }
        let (qs, ks, vs, os, ds, ls) = (f(&qw), f(&kw), f(&vw), f(&ow), f(&dw), f(&lw));
        let mw = mask.map(|m| m.cpu_words()).transpose()?;
        let mask = Mask { words: mw.as_ref().map(|w| bytemuck::cast_slice(w)), strides: strides(p) };
        let Dims { b, h, hkv, sq, d, dv, .. } = *dims;
        let causal = p.causal != 0;
        let mut dq = vec![0f32; qs.len()];
        let mut dk = vec![0f32; ks.len()];
        let mut dvs = vec![0f32; vs.len()];
        let rows_max = ROW_BLOCK.min(sq);
        let cols_max = KEY_BLOCK.min(dims.sk);
        let mut scaled = vec![0f32; rows_max * d];
        let mut probs = vec![0f32; rows_max * cols_max];
        let mut dscores = vec![0f32; rows_max * cols_max];
        let mut delta = [0f32; ROW_BLOCK];
        let mut tmp = vec![0f32; cols_max.max(rows_max) * d.max(dv)];
        for bh in 0..b * h {
            let (bi, hi) = (bh / h, bh % h);
            let kv = (bi * hkv + hi / (h / hkv)) * dims.kcap;
            for i0 in (0..sq).step_by(ROW_BLOCK) {
                let rows = ROW_BLOCK.min(sq - i0);
                let first = bh * sq + i0;
                scaled[..rows * d].iter_mut().zip(&qs[first * d..(first + rows) * d]).for_each(|(x, &y)| *x = y * p.scale);
                for (r, dl) in delta.iter_mut().enumerate().take(rows) {
                    let row = first + r;
                    *dl = dot(&ds[row * dv..(row + 1) * dv], &os[row * dv..(row + 1) * dv]);
                }
                let end = dims.key_end(i0 + rows - 1, causal);
                for j0 in (0..end).step_by(KEY_BLOCK) {
                    let cols = KEY_BLOCK.min(end - j0);
                    let (kb, vb) = (&ks[(kv + j0) * d..], &vs[(kv + j0) * dv..]);
                    let pr = &mut probs[..rows * cols];
                    gemm(rows, d, cols, &scaled, d, 1, kb, 1, d, pr);
                    let dp = &mut dscores[..rows * cols];
                    gemm(rows, dv, cols, &ds[first * dv..], dv, 1, vb, 1, dv, dp);
                    for (r, (prow, dprow)) in pr.chunks_exact_mut(cols).zip(dp.chunks_exact_mut(cols)).enumerate() {
                        let lse_r = ls[first + r];
                        let attended = if lse_r >= MASKED_ROW { 0 } else { dims.key_end(i0 + r, causal).saturating_sub(j0).min(cols) };
                        let live = mask.attended_part(prow, attended, bi, hi, i0 + r, j0);
                        live.iter_mut().for_each(|s| *s = if *s <= MASKED { 0.0 } else { exp_f32(*s - lse_r) });
                        // dS = P (dP - delta), in place of dP.
                        dprow.iter_mut().zip(prow.iter()).for_each(|(x, &pv)| *x = pv * (*x - delta[r]));
                    }
                    let (pr, dsc) = (&probs[..rows * cols], &dscores[..rows * cols]);
                    // dv[j0..] += P^T (cols x rows) . dout (rows x dv).
                    accumulate(&mut dvs[(kv + j0) * dv..(kv + j0 + cols) * dv], &mut tmp, |t| gemm(cols, rows, dv, pr, 1, cols, &ds[first * dv..], dv, 1, t));
                    // dk[j0..] += dS^T (cols x rows) . scaled q (rows x d).
                    accumulate(&mut dk[(kv + j0) * d..(kv + j0 + cols) * d], &mut tmp, |t| gemm(cols, rows, d, dsc, 1, cols, &scaled, d, 1, t));
                    // dq[rows] += scale * dS (rows x cols) . k (cols x d).
                    let dq_rows = &mut dq[first * d..(first + rows) * d];
                    gemm(rows, cols, d, dsc, cols, 1, kb, d, 1, &mut tmp[..rows * d]);
                    dq_rows.iter_mut().zip(&tmp[..rows * d]).for_each(|(x, &y)| *x += p.scale * y);
                }
            }
        }
        let bits = |v: Vec<f32>| v.into_iter().map(f32::to_bits).collect::<Vec<u32>>();
        Ok((bits(dq), bits(dk), bits(dvs)))
    }

    /// target += the product `gemm` writes into the front of `scratch`.
    fn accumulate(target: &mut [f32], scratch: &mut [f32], gemm: impl FnOnce(&mut [f32])) {
        let part = &mut scratch[..target.len()];
        gemm(part);
        target.iter_mut().zip(part.iter()).for_each(|(x, &y)| *x += y);
    }
}
