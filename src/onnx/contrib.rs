//! The com.microsoft operators that onnxruntime's transformer optimizer writes into models
//! published for the web (fused attention, skip + layer norm, embedding + layer norm, GELU
//! variants, rotary embeddings), each in terms of the engine's fused ops. Semantics follow
//! onnxruntime's contrib op documentation; forms these arms do not implement (packed layouts,
//! 4-D Megatron masks, per-sequence cache slots, ...) are refused by name.
use super::{HostData, Value};
use crate::ops::{self, UnaryOp};
use crate::{bail, DType, Device, Result, Tensor};

use super::proto::NodeProto;
use super::nodes::{attr, attr_f, attr_i, input, opt_input, plain};

const OP: &str = "onnx";

/// The com.microsoft op types the importer runs.
pub const OPS: &[&str] = &[
    "Attention", "BiasGelu", "EmbedLayerNormalization", "FastGelu", "Gelu", "GroupQueryAttention", "MultiHeadAttention",
    "QuickGelu", "RotaryEmbedding", "SkipLayerNormalization", "SkipSimplifiedLayerNormalization",
];

pub fn is_supported(op_type: &str) -> bool {
    OPS.contains(&op_type)
}

fn scalar(device: &Device, v: f64) -> Result<Tensor> {
    ops::fill(device, &[], v, DType::F32)
}

/// [B, S, N * H] -> [B, N, S, H].
fn split_heads(x: &Tensor, heads: usize) -> Result<Tensor> {
    let s = x.shape();
    if x.rank() != 3 || heads == 0 || s[2] % heads != 0 {
        bail!(OP, "expected [batch, sequence, hidden] with hidden divisible by {heads} heads, got {:?}", s);
    }
    let y = ops::reshape(x, &[s[0] as i64, s[1] as i64, heads as i64, (s[2] / heads) as i64])?;
    ops::transpose(&y, Some(&[0, 2, 1, 3]))
}

/// [B, N, S, H] -> [B, S, N * H].
fn merge_heads(x: &Tensor) -> Result<Tensor> {
    let s = x.shape().to_vec();
    let y = ops::transpose(x, Some(&[0, 2, 1, 3]))?;
    ops::reshape(&y, &[s[0] as i64, s[2] as i64, (s[1] * s[3]) as i64])
}

/// An additive mask [B, 1, 1, T] that puts `filter` on the keys at or past each batch row's length.
fn key_length_mask(lengths: &Tensor, batch: usize, total: usize, filter: f32) -> Result<Tensor> {
    let device = lengths.device();
    let positions = Tensor::from_words(device, (0..total as u32).collect(), &[1, total], DType::I32)?;
    let lengths = ops::reshape(&ops::cast(lengths, DType::I32)?, &[batch as i64, 1])?;
    let keep = ops::less(&positions, &lengths)?;
    let m = ops::where_(&keep, &scalar(device, 0.0)?, &scalar(device, filter as f64)?)?;
    ops::reshape(&m, &[batch as i64, 1, 1, total as i64])
}

/// An additive mask [B, 1, 1, T] from a 0/1 key mask [B, T] (0 = padding).
fn key_padding_mask(mask: &Tensor, filter: f32) -> Result<Tensor> {
    let (b, t) = (mask.shape()[0], mask.shape()[1]);
    let device = mask.device();
    let keep = ops::not_equal(&ops::cast(mask, DType::F32)?, &scalar(device, 0.0)?)?;
    let m = ops::where_(&keep, &scalar(device, 0.0)?, &scalar(device, filter as f64)?)?;
    ops::reshape(&m, &[b as i64, 1, 1, t as i64])
}

/// The mask input of Attention / MultiHeadAttention as an additive [B, 1, S or 1, T] mask.
fn mask_input(op: &str, m: &Tensor, batch: usize, seq: usize, total: usize, filter: f32) -> Result<Tensor> {
    match m.shape() {
        [b] if *b == batch => key_length_mask(m, batch, total, filter),
        [b, t] if *b == batch && *t == total => key_padding_mask(m, filter),
        [b, s, t] if *b == batch && *s == seq && *t == total => {
            let a = key_padding_mask(&ops::reshape(m, &[(b * s) as i64, *t as i64])?, filter)?;
            ops::reshape(&a, &[*b as i64, 1, *s as i64, *t as i64])
        }
        other => bail!(OP, "unsupported: {op} mask of shape {other:?} (batch {batch}, sequence {seq}, total {total}); [B], [B, T] and [B, S, T] are handled"),
    }
}

fn add_masks(a: Option<Tensor>, b: Option<Tensor>) -> Result<Option<Tensor>> {
    Ok(match (a, b) {
        (Some(a), Some(b)) => Some(ops::add(&a, &b)?),
        (a, b) => a.or(b),
    })
}

fn scale_attr(node: &NodeProto) -> Option<f32> {
    let s = attr_f(node, "scale", 0.0);
    (s != 0.0).then_some(s)
}

fn heads_attr(node: &NodeProto, name: &str) -> Result<usize> {
    match attr_i(node, name, 0) {
        n if n > 0 => Ok(super::nodes::sat(n)),
        n => bail!(OP, "{} needs a positive {name}, got {n}", node.op_type),
    }
}

/// q [B,N,S,H], k and v [B,Nkv,P+S,H] after the past; the output as [B, S, N*Hv].
fn attend(q: &Tensor, k: &Tensor, v: &Tensor, mask: Option<&Tensor>, causal: bool, scale: Option<f32>) -> Result<Tensor> {
    merge_heads(&ops::attention(q, k, v, mask, causal, scale)?)
}

/// Prepends a past [B, N, P, H] (if any) to k [B, N, S, H] along the sequence.
fn with_past(past: Option<&Value>, k: Tensor) -> Result<Tensor> {
    match past {
        Some(p) if p.tensor.rank() == 4 => ops::concat(&[&p.tensor, &k], 2),
        Some(p) => bail!(OP, "a past key or value of shape {:?} (expected [batch, heads, past, head size])", p.tensor.shape()),
        None => Ok(k),
    }
}

pub fn run(node: &NodeProto, args: &[Option<&Value>], device: &Device) -> Result<Vec<Value>> {
    let x = || input(args, 0).map(|v| &v.tensor);
    let one = |t: Tensor| Ok(vec![plain(t)]);
    let filter = attr_f(node, "mask_filter_value", -10000.0);
    match node.op_type.as_str() {
        "Gelu" => one(ops::gelu(x()?)?),
        "BiasGelu" => one(ops::gelu(&ops::add(x()?, &input(args, 1)?.tensor)?)?),
        "FastGelu" => {
            let y = match opt_input(args, 1) {
                Some(b) => ops::add(x()?, &b.tensor)?,
                None => x()?.clone(),
            };
            one(ops::unary(UnaryOp::GeluTanh, &y, 0.0, 0.0)?)
        }
        "QuickGelu" => {
            let x = x()?;
            let alpha = attr_f(node, "alpha", 1.702);
            one(ops::mul(x, &ops::sigmoid(&ops::mul(x, &scalar(device, alpha as f64)?)?)?)?)
        }
        "SkipLayerNormalization" | "SkipSimplifiedLayerNormalization" => {
            let simplified = node.op_type == "SkipSimplifiedLayerNormalization";
            if node.output.iter().skip(1).take(2).any(|o| !o.is_empty()) {
                bail!(OP, "unsupported: {} with its mean / inverse-deviation outputs", node.op_type);
            }
            let mut sum = ops::add(x()?, &input(args, 1)?.tensor)?;
            let gamma = &input(args, 2)?.tensor;
            let (beta, bias) = if simplified { (None, opt_input(args, 3)) } else { (opt_input(args, 3), opt_input(args, 4)) };
            if let Some(b) = bias {
                sum = ops::add(&sum, &b.tensor)?;
            }
            let eps = attr_f(node, "epsilon", 1e-12);
            let y = if simplified { ops::rms_norm(&sum, Some(gamma), eps)? } else { ops::layer_norm(&sum, Some(gamma), beta.map(|b| &b.tensor), eps)? };
            Ok(vec![plain(y), plain(sum.clone()), plain(sum.clone()), plain(sum)])
        }
        "EmbedLayerNormalization" => {
            let ids = x()?;
            if ids.rank() != 2 {
                bail!(OP, "EmbedLayerNormalization input_ids must be [batch, sequence], got {:?}", ids.shape());
            }
            let (b, s) = (ids.shape()[0], ids.shape()[1]);
            let word = &input(args, 2)?.tensor;
            let pos_table = &input(args, 3)?.tensor;
            let mut sum = ops::gather(word, &ops::cast(ids, DType::I32)?, 0)?;
            let positions = match opt_input(args, 8) {
                Some(p) => ops::cast(&p.tensor, DType::I32)?,
                None => Tensor::from_words(device, (0..s as u32).collect(), &[1, s], DType::I32)?,
            };
            sum = ops::add(&sum, &ops::gather(pos_table, &positions, 0)?)?;
            if let (Some(seg), Some(table)) = (opt_input(args, 1), opt_input(args, 4)) {
                sum = ops::add(&sum, &ops::gather(&table.tensor, &ops::cast(&seg.tensor, DType::I32)?, 0)?)?;
            }
            let gamma = &input(args, 5)?.tensor;
            let beta = opt_input(args, 6).map(|v| &v.tensor);
            let y = ops::layer_norm(&sum, Some(gamma), beta, attr_f(node, "epsilon", 1e-12))?;
            // mask_index: the number of attended tokens of each row (a right-padded batch's lengths).
            let mask_index = match opt_input(args, 7) {
                Some(m) => {
                    let ones = ops::cast(&ops::not_equal(&ops::cast(&m.tensor, DType::F32)?, &scalar(device, 0.0)?)?, DType::F32)?;
                    ops::cast(&ops::sum(&ones, Some(&[1]), false)?, DType::I32)?
                }
                None => ops::fill(device, &[b], s as f64, DType::I32)?,
            };
            Ok(vec![plain(y), plain(mask_index), plain(sum)])
        }
        "Attention" => {
            let x = x()?;
            let heads = heads_attr(node, "num_heads")?;
            if x.rank() != 3 {
                bail!(OP, "Attention input must be [batch, sequence, hidden], got {:?}", x.shape());
            }
            if attr_i(node, "do_rotary", 0) != 0 || attr(node, "past_present_share_buffer").is_some_and(|a| a.i != 0) || opt_input(args, 6).is_some() {
                bail!(OP, "unsupported: Attention with do_rotary, a shared past/present buffer or past_sequence_length");
            }
            let (b, s) = (x.shape()[0], x.shape()[1]);
            let w = &input(args, 1)?.tensor;
            let mut qkv = ops::matmul(x, w, false, false)?;
            if let Some(bias) = opt_input(args, 2) {
                qkv = ops::add(&qkv, &bias.tensor)?;
            }
            let width = qkv.shape()[2];
            let sizes: Vec<usize> = match attr(node, "qkv_hidden_sizes") {
                Some(a) if a.ints.len() == 3 && a.ints.iter().all(|&v| v > 0) => a.ints.iter().map(|&v| super::nodes::sat(v)).collect(),
                Some(a) => bail!(OP, "unsupported qkv_hidden_sizes {:?}", a.ints),
                None if width % 3 == 0 => vec![width / 3; 3],
                None => bail!(OP, "Attention weights of width {width} do not split into q, k and v"),
            };
            if sizes.iter().sum::<usize>() != width || sizes[0] != sizes[1] {
                bail!(OP, "qkv_hidden_sizes {sizes:?} do not match weights of width {width}");
            }
            let part = |from: usize, n: usize| ops::slice(&qkv, &[0, 0, from], &[-1, -1, n as i64]);
            let q = split_heads(&part(0, sizes[0])?, heads)?;
            let mut k = split_heads(&part(sizes[0], sizes[1])?, heads)?;
            let mut v = split_heads(&part(sizes[0] + sizes[1], sizes[2])?, heads)?;
            if let Some(past) = opt_input(args, 4) {
                let p = &past.tensor;
                if p.rank() != 5 || p.shape()[0] != 2 {
                    bail!(OP, "Attention past must be [2, batch, heads, past, head size], got {:?}", p.shape());
                }
                let half = |i: usize| -> Result<Tensor> {
                    let t = ops::slice(p, &[i, 0, 0, 0, 0], &[1, -1, -1, -1, -1])?;
                    ops::reshape(&t, &p.shape()[1..].iter().map(|&d| d as i64).collect::<Vec<_>>())
                };
                k = ops::concat(&[&half(0)?, &k], 2)?;
                v = ops::concat(&[&half(1)?, &v], 2)?;
            }
            let total = k.shape()[2];
            let mut mask = opt_input(args, 3).map(|m| mask_input("Attention", &m.tensor, b, s, total, filter)).transpose()?;
            mask = add_masks(mask, opt_input(args, 5).map(|a| a.tensor.clone()))?;
            let causal = attr_i(node, "unidirectional", 0) != 0;
            let y = attend(&q, &k, &v, mask.as_ref(), causal, scale_attr(node))?;
            let present = if node.output.get(1).is_some_and(|o| !o.is_empty()) { Some(ops::stack(&[&k, &v], 0)?) } else { None };
            Ok(std::iter::once(plain(y)).chain(present.map(plain)).collect())
        }
        "MultiHeadAttention" => {
            let heads = heads_attr(node, "num_heads")?;
            let q_in = x()?;
            let (key, value) = (opt_input(args, 1), opt_input(args, 2));
            if q_in.rank() != 3 || key.is_none() || value.is_none() || args.len() > 8 {
                bail!(OP, "unsupported: MultiHeadAttention with packed q/k/v, without key and value, or with cache indirection (query {:?})", q_in.shape());
            }
            let (key, value) = (&key.unwrap().tensor, &value.unwrap().tensor);
            let (b, s, d) = (q_in.shape()[0], q_in.shape()[1], q_in.shape()[2]);
            let (mut q, mut k3, mut v3) = (q_in.clone(), key.clone(), value.clone());
            if let Some(bias) = opt_input(args, 3) {
                let dk = if key.rank() == 3 { key.shape()[2] } else { d };
                let dv = bias.tensor.shape()[0].saturating_sub(d + dk);
                let part = |from: usize, n: usize| ops::slice(&bias.tensor, &[from], &[n as i64]);
                q = ops::add(&q, &part(0, d)?)?;
                if key.rank() == 3 {
                    k3 = ops::add(&k3, &part(d, dk)?)?;
                    v3 = ops::add(&v3, &part(d + dk, dv)?)?;
                } else {
                    bail!(OP, "unsupported: MultiHeadAttention bias with a 4-D key");
                }
            }
            let q = split_heads(&q, heads)?;
            // A 4-D key and value are already [B, N, L, H] (cross-attention over cached keys).
            let (k, v) = match (k3.rank(), v3.rank()) {
                (3, 3) => (with_past(opt_input(args, 6), split_heads(&k3, heads)?)?, with_past(opt_input(args, 7), split_heads(&v3, heads)?)?),
                (4, 4) if opt_input(args, 6).is_none() => (k3, v3),
                _ => bail!(OP, "unsupported: MultiHeadAttention key {:?} and value {:?}", key.shape(), value.shape()),
            };
            let total = k.shape()[2];
            let mut mask = opt_input(args, 4).map(|m| mask_input("MultiHeadAttention", &m.tensor, b, s, total, filter)).transpose()?;
            mask = add_masks(mask, opt_input(args, 5).map(|a| a.tensor.clone()))?;
            let causal = attr_i(node, "unidirectional", 0) != 0;
            let y = attend(&q, &k, &v, mask.as_ref(), causal, scale_attr(node))?;
            Ok(vec![plain(y), plain(k), plain(v)])
        }
        "GroupQueryAttention" => group_query_attention(node, args, device),
        "RotaryEmbedding" => {
            let x = x()?;
            let (cos, sin) = (&input(args, 2)?.tensor, &input(args, 3)?.tensor);
            if attr_f(node, "scale", 1.0) != 1.0 || attr_i(node, "is_packed_batching", 0) != 0 {
                bail!(OP, "unsupported: RotaryEmbedding with a scale or packed batching");
            }
            let interleaved = attr_i(node, "interleaved", 0) != 0;
            // The rotation's start position: position_ids of one value (an offset) or [B, S]
            // that count up from their first value, as exporters write them.
            let pos = input(args, 1)?;
            let offset = match &pos.host {
                Some(h) if h.as_ints().len() == 1 => h.as_ints()[0],
                Some(h) => {
                    let v = h.as_ints();
                    let s = *pos.tensor.shape().last().unwrap_or(&1);
                    if !v.chunks(s.max(1)).all(|row| row.iter().enumerate().all(|(i, &p)| p == v[0] + i as i64)) {
                        bail!(OP, "unsupported: RotaryEmbedding position_ids that are not one run of consecutive positions");
                    }
                    v.first().copied().unwrap_or(0)
                }
                None => bail!(OP, "unsupported: RotaryEmbedding position_ids that are not known on the host"),
            };
            let offset = usize::try_from(offset).map_err(|_| crate::Error::new(OP, format!("RotaryEmbedding position {offset} is negative")))?;
            let y = match x.rank() {
                4 => ops::rope(x, cos, sin, offset, interleaved)?,
                3 => {
                    let heads = heads_attr(node, "num_heads").or_else(|_| {
                        let rot = attr_i(node, "rotary_embedding_dim", 0);
                        if rot == 0 && x.shape()[2] == 2 * cos.shape()[1] { Ok(1) } else { bail!(OP, "RotaryEmbedding of a 3-D input needs num_heads") }
                    })?;
                    merge_heads(&ops::rope(&split_heads(x, heads)?, cos, sin, offset, interleaved)?)?
                }
                _ => bail!(OP, "RotaryEmbedding input must be 3-D or 4-D, got {:?}", x.shape()),
            };
            one(y)
        }
        other => bail!(OP, "unsupported op '{other}' of domain 'com.microsoft'"),
    }
}

/// GroupQueryAttention with the cache as a concatenation: past [B, Nkv, P, H] then the new keys.
/// seqlens_k (each row's valid length - 1) masks the keys of right-padded rows; a step that writes
/// a row's new keys anywhere but right after the past (a shared past/present buffer) is refused.
fn group_query_attention(node: &NodeProto, args: &[Option<&Value>], device: &Device) -> Result<Vec<Value>> {
    let heads = heads_attr(node, "num_heads")?;
    let kv_heads = heads_attr(node, "kv_num_heads")?;
    if attr_i(node, "local_window_size", -1) != -1 || attr_f(node, "softcap", 0.0) != 0.0 || attr_i(node, "smooth_softmax", 0) != 0 {
        bail!(OP, "unsupported: GroupQueryAttention with a local window, softcap or smooth softmax");
    }
    if args.len() > 9 {
        bail!(OP, "unsupported: GroupQueryAttention with position_ids or attention_bias inputs");
    }
    let q_in = &input(args, 0)?.tensor;
    let (Some(key), Some(value)) = (opt_input(args, 1), opt_input(args, 2)) else {
        bail!(OP, "unsupported: GroupQueryAttention with packed q/k/v (no key and value inputs)");
    };
    let (b, s) = (q_in.shape()[0], q_in.shape()[1]);
    let mut q = split_heads(q_in, heads)?;
    let mut k_new = split_heads(&key.tensor, kv_heads)?;
    let v_new = split_heads(&value.tensor, kv_heads)?;
    let past_len = opt_input(args, 3).map_or(0, |p| p.tensor.shape().get(2).copied().unwrap_or(0));
    let total = match opt_input(args, 6).and_then(|t| t.host.as_ref()).and_then(HostData::first) {
        Some(t) => super::nodes::sat(t as i64),
        None => bail!(OP, "unsupported: GroupQueryAttention total_sequence_length that is not known on the host"),
    };
    if total != past_len + s {
        bail!(OP, "unsupported: GroupQueryAttention with total_sequence_length {total} != past {past_len} + new {s} (a shared past/present buffer)");
    }
    // After a prompt, every row's new keys must land right after the past: rows of other lengths
    // would need per-row cache slots.
    if let Some(h) = input(args, 5)?.host.as_ref() {
        if past_len > 0 && h.as_ints().iter().any(|&l| l + 1 != total as i64) {
            bail!(OP, "unsupported: GroupQueryAttention decoding rows of different lengths (seqlens_k {:?}, total {total})", h.as_ints());
        }
    }
    if attr_i(node, "do_rotary", 0) != 0 {
        let (cos, sin) = (&input(args, 7)?.tensor, &input(args, 8)?.tensor);
        let interleaved = attr_i(node, "rotary_interleaved", 0) != 0;
        q = ops::rope(&q, cos, sin, past_len, interleaved)?;
        k_new = ops::rope(&k_new, cos, sin, past_len, interleaved)?;
    }
    let k = with_past(opt_input(args, 3), k_new)?;
    let v = with_past(opt_input(args, 4), v_new)?;
    // Keys past each row's length (seqlens_k + 1) are padding.
    let lengths = ops::add(&ops::cast(&input(args, 5)?.tensor, DType::I32)?, &ops::fill(device, &[], 1.0, DType::I32)?)?;
    let mask = key_length_mask(&lengths, b, total, f32::NEG_INFINITY)?;
    let y = attend(&q, &k, &v, Some(&mask), true, scale_attr(node))?;
    Ok(vec![plain(y), plain(k), plain(v)])
}
