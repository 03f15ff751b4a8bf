//! ONNX's element-indexing and scan ops that transformer exporters write: GatherElements,
//! ScatterElements, ScatterND, Trilu, CumSum and NonZero. Each lowers to the engine's gather,
//! flat scatter-add, where and pad/slice ops over positions computed on the host from shapes.
use super::{HostData, Value};
use crate::ops;
use crate::shape::normalize_axis;
use crate::{bail, DType, Device, Result, Tensor};

use super::nodes::{attr_i, attr_s, input, known_ints, opt_input, plain};
use super::proto::NodeProto;

const OP: &str = "onnx";

pub const OPS: &[&str] = &["CumSum", "GatherElements", "NonZero", "ScatterElements", "ScatterND", "Trilu"];

fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1usize; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

fn int_tensor(device: &Device, v: Vec<i64>, shape: &[usize]) -> Result<Tensor> {
    let words = v.iter().map(|&x| i32::try_from(x).map(|w| w as u32)).collect::<std::result::Result<Vec<u32>, _>>();
    let Ok(words) = words else { bail!(OP, "a position of a tensor of {} elements does not fit in int32", v.len()) };
    Tensor::from_words(device, words, shape, DType::I32)
}

/// Indices along an axis of length `n` with negatives counted from the end.
pub(super) fn wrap(idx: &Tensor, n: usize) -> Result<Tensor> {
    let device = idx.device();
    let i = ops::cast(idx, DType::I32)?;
    let zero = ops::fill(device, &[], 0.0, DType::I32)?;
    let wrapped = ops::add(&i, &ops::fill(device, &[], n as f64, DType::I32)?)?;
    ops::where_(&ops::less(&i, &zero)?, &wrapped, &i)
}

/// The flat position in `data` of each element of `indices` (same rank), reading its coordinate
/// along `axis` from the index value: sum over d != axis of coord_d * stride_d, + idx * stride_axis.
fn element_positions(data_shape: &[usize], indices: &Tensor, axis: usize) -> Result<Tensor> {
    let device = indices.device();
    let shape = indices.shape().to_vec();
    if shape.len() != data_shape.len() {
        bail!(OP, "indices {:?} and data {:?} differ in rank", shape, data_shape);
    }
    let n = crate::shape::checked_numel(OP, &shape)?;
    let ds = strides(data_shape);
    let mut base = Vec::with_capacity(n);
    for flat in 0..n {
        let (mut rem, mut pos) = (flat, 0usize);
        for d in (0..shape.len()).rev() {
            let c = rem % shape[d];
            rem /= shape[d];
            if d != axis {
                pos += c * ds[d];
            }
        }
        base.push(pos as i64);
    }
    let base = int_tensor(device, base, &shape)?;
    let along = ops::mul(&wrap(indices, data_shape[axis])?, &ops::fill(device, &[], ds[axis] as f64, DType::I32)?)?;
    ops::add(&base, &along)
}

/// data with `updates` written (or added) at flat `positions` (as many as updates).
fn scatter(data: &Tensor, positions: &Tensor, updates: &Tensor, reduction: &str) -> Result<Tensor> {
    let device = data.device();
    let float = data.dtype() == DType::F32;
    let (d, u) = if float { (data.clone(), updates.clone()) } else { (ops::cast(data, DType::F32)?, ops::cast(updates, DType::F32)?) };
    let n = data.numel();
    let shape: Vec<i64> = data.shape().iter().map(|&v| v as i64).collect();
    let summed = ops::reshape(&ops::scatter_add_flat(&u, positions, n)?, &shape)?;
    let y = match reduction {
        "add" => ops::add(&d, &summed)?,
        "none" => {
            let ones = ops::ones(device, updates.shape(), DType::F32)?;
            let hits = ops::reshape(&ops::scatter_add_flat(&ones, positions, n)?, &shape)?;
            ops::where_(&ops::greater(&hits, &ops::fill(device, &[], 0.0, DType::F32)?)?, &summed, &d)?
        }
        other => bail!(OP, "unsupported: scatter reduction '{other}' (none and add are)"),
    };
    if float { Ok(y) } else { ops::cast(&y, data.dtype()) }
}


pub fn run(node: &NodeProto, args: &[Option<&Value>], device: &Device) -> Result<Vec<Value>> {
    let x = &input(args, 0)?.tensor;
    let one = |t: Tensor| Ok(vec![plain(t)]);
    match node.op_type.as_str() {
        "GatherElements" => {
            let idx = &input(args, 1)?.tensor;
            let axis = normalize_axis(OP, attr_i(node, "axis", 0), x.rank())?;
            let pos = element_positions(x.shape(), idx, axis)?;
            one(ops::gather(&ops::reshape(x, &[-1])?, &pos, 0)?)
        }
        "ScatterElements" => {
            let (idx, upd) = (&input(args, 1)?.tensor, &input(args, 2)?.tensor);
            let axis = normalize_axis(OP, attr_i(node, "axis", 0), x.rank())?;
            if idx.shape() != upd.shape() {
                bail!(OP, "ScatterElements indices {:?} and updates {:?} differ in shape", idx.shape(), upd.shape());
            }
            let pos = element_positions(x.shape(), idx, axis)?;
            one(scatter(x, &pos, upd, attr_s(node, "reduction").as_deref().unwrap_or("none"))?)
        }
        "ScatterND" => {
            let (idx, upd) = (&input(args, 1)?.tensor, &input(args, 2)?.tensor);
            let k = *idx.shape().last().unwrap_or(&0);
            if idx.rank() == 0 || k == 0 || k > x.rank() {
                bail!(OP, "ScatterND indices {:?} must end in a length of 1..={} (data {:?})", idx.shape(), x.rank(), x.shape());
            }
            let lead = &idx.shape()[..idx.rank() - 1];
            let inner_shape = &x.shape()[k..];
            let want: Vec<usize> = lead.iter().chain(inner_shape).copied().collect();
            if upd.shape() != want.as_slice() {
                bail!(OP, "ScatterND updates {:?} must be {:?} for indices {:?} and data {:?}", upd.shape(), want, idx.shape(), x.shape());
            }
            let ds = strides(x.shape());
            // The flat start of each index tuple's slice: sum of wrapped coordinates * strides.
            let coords: Vec<Tensor> = (0..k)
                .map(|i| {
                    let mut begin = vec![0usize; idx.rank()];
                    begin[idx.rank() - 1] = i;
                    let mut size: Vec<i64> = idx.shape().iter().map(|&d| d as i64).collect();
                    size[idx.rank() - 1] = 1;
                    let c = wrap(&ops::slice(idx, &begin, &size)?, x.shape()[i])?;
                    ops::mul(&c, &ops::fill(device, &[], ds[i] as f64, DType::I32)?)
                })
                .collect::<Result<_>>()?;
            let mut start = coords[0].clone();
            for c in &coords[1..] {
                start = ops::add(&start, c)?;
            }
            let inner: usize = inner_shape.iter().product();
            let offsets = int_tensor(device, (0..inner as i64).collect(), &[inner])?;
            let pos = ops::add(&start, &offsets)?; // [lead.., inner]
            one(scatter(x, &pos, upd, attr_s(node, "reduction").as_deref().unwrap_or("none"))?)
        }
        "Trilu" => {
            if x.rank() < 2 {
                bail!(OP, "Trilu needs a rank of at least 2, got {:?}", x.shape());
            }
            let k = match opt_input(args, 1) {
                Some(_) => known_ints(args, 1, "k")?.first().copied().unwrap_or(0),
                None => 0,
            };
            let upper = attr_i(node, "upper", 1) != 0;
            let (m, n) = (x.shape()[x.rank() - 2], x.shape()[x.rank() - 1]);
            let keep: Vec<u32> = (0..m * n)
                .map(|f| {
                    let (i, j) = ((f / n) as i64, (f % n) as i64);
                    (if upper { j - i >= k } else { j - i <= k }) as u32
                })
                .collect();
            let mask = Tensor::from_words(device, keep, &[m, n], DType::Bool)?;
            let zero = ops::fill(device, &[], 0.0, x.dtype())?;
            one(ops::where_(&mask, x, &zero)?)
        }
        "CumSum" => {
            let axis = normalize_axis(OP, known_ints(args, 1, "axis")?.first().copied().unwrap_or(0), x.rank())?;
            let (exclusive, reverse) = (attr_i(node, "exclusive", 0) != 0, attr_i(node, "reverse", 0) != 0);
            let y = ops::cumsum(x, axis as i64, exclusive, reverse)?;
            let host = match &input(args, 0)?.host {
                Some(HostData::Int(v)) if x.rank() == 1 => {
                    let mut acc = 0i64;
                    let mut out = vec![0i64; v.len()];
                    let order: Vec<usize> = if reverse { (0..v.len()).rev().collect() } else { (0..v.len()).collect() };
                    for i in order {
                        if exclusive {
                            out[i] = acc;
                            acc += v[i];
                        } else {
                            acc += v[i];
                            out[i] = acc;
                        }
                    }
                    Some(HostData::Int(out))
                }
                _ => None,
            };
            Ok(vec![Value { tensor: y, host }])
        }
        "NonZero" => {
            let Some(h) = &input(args, 0)?.host else {
                bail!(OP, "unsupported: NonZero of values not known on the host (its output shape depends on the data)");
            };
            let vals = h.as_floats();
            let hits: Vec<usize> = (0..vals.len()).filter(|&i| vals[i] != 0.0).collect();
            let r = x.rank().max(1);
            let shape = if x.rank() == 0 { vec![1] } else { x.shape().to_vec() };
            let mut out = vec![0i64; r * hits.len()];
            for (c, &flat) in hits.iter().enumerate() {
                let mut rem = flat;
                for d in (0..r).rev() {
                    out[d * hits.len() + c] = (rem % shape[d]) as i64;
                    rem /= shape[d];
                }
            }
            let n = hits.len();
            Ok(vec![super::upload(device, &super::Decoded { dims: vec![r, n], dtype: DType::I32, data: HostData::Int(out) })?])
        }
        other => bail!(OP, "unsupported op '{other}'"),
    }
}
