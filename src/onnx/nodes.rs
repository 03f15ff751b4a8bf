//! ONNX operators in terms of the engine's ops. Each arm reads its attributes (rejecting values it
//! does not implement with an "unsupported" error rather than computing something else) and
//! returns the node's outputs.
use super::{HostData, Value};
use crate::ops::{self, BinaryOp, CompareOp, Padding, Reduce, UnaryOp};
use crate::{bail, DType, Device, Result, Tensor};

use super::proto::{AttributeProto, NodeProto};

const OP: &str = "onnx";

/// ONNX ops that are one engine elementwise op each.
const UNARY: &[(&str, UnaryOp)] = &[
    ("Abs", UnaryOp::Abs), ("Ceil", UnaryOp::Ceil), ("Cos", UnaryOp::Cos), ("Erf", UnaryOp::Erf), ("Exp", UnaryOp::Exp),
    ("Floor", UnaryOp::Floor), ("Log", UnaryOp::Log), ("Neg", UnaryOp::Neg), ("Reciprocal", UnaryOp::Reciprocal),
    ("Relu", UnaryOp::Relu), ("Round", UnaryOp::Round), ("Sigmoid", UnaryOp::Sigmoid), ("Sign", UnaryOp::Sign),
    ("Sin", UnaryOp::Sin), ("Softplus", UnaryOp::Softplus), ("Sqrt", UnaryOp::Sqrt), ("Tanh", UnaryOp::Tanh),
];
const BINARY: &[(&str, BinaryOp)] = &[("Add", BinaryOp::Add), ("Sub", BinaryOp::Sub), ("Mul", BinaryOp::Mul)];
const COMPARE: &[(&str, CompareOp)] = &[
    ("Equal", CompareOp::Equal), ("Less", CompareOp::Less), ("Greater", CompareOp::Greater),
    ("LessOrEqual", CompareOp::LessEqual), ("GreaterOrEqual", CompareOp::GreaterEqual),
    ("And", CompareOp::LogicalAnd), ("Or", CompareOp::LogicalOr),
];

/// The other op types the importer runs (each an arm of `run`).
const OTHERS: &[&str] = &[
    "ArgMax", "ArgMin", "AveragePool", "BatchNormalization", "Cast", "Clip", "Concat", "Constant", "ConstantOfShape",
    "Conv", "ConvTranspose", "Div", "Dropout", "Elu", "Expand", "Flatten", "Gather", "Gelu", "Gemm", "GlobalAveragePool",
    "GlobalMaxPool", "HardSigmoid", "Identity", "LayerNormalization", "LeakyRelu", "LogSoftmax", "LRN", "MatMul", "Max", "MaxPool", "Mean",
    "Min", "Mod", "Not", "Pad", "Pow", "PRelu", "Range", "ReduceMax", "ReduceMean", "ReduceMin", "ReduceProd", "ReduceSum",
    "Reshape", "Selu", "Shape", "SimplifiedLayerNormalization", "Size", "Slice", "Softmax", "Softsign", "Split", "Squeeze", "Sum", "Tile", "Transpose",
    "Unsqueeze", "Where",
];

fn lookup<T: Copy>(table: &[(&str, T)], op_type: &str) -> Option<T> {
    table.iter().find(|(name, _)| *name == op_type).map(|&(_, op)| op)
}

/// Whether the importer runs `op_type`.
pub fn is_supported(op_type: &str) -> bool {
    super::indexing::OPS.contains(&op_type)
        || op_type == "Einsum"
        || lookup(UNARY, op_type).is_some() || lookup(BINARY, op_type).is_some() || lookup(COMPARE, op_type).is_some() || OTHERS.contains(&op_type)
}

pub(super) fn attr<'a>(node: &'a NodeProto, name: &str) -> Option<&'a AttributeProto> {
    node.attribute.iter().find(|a| a.name == name)
}
pub(super) fn attr_i(node: &NodeProto, name: &str, default: i64) -> i64 {
    attr(node, name).map_or(default, |a| a.i)
}
pub(super) fn attr_f(node: &NodeProto, name: &str, default: f32) -> f32 {
    attr(node, name).map_or(default, |a| a.f)
}
fn attr_ints(node: &NodeProto, name: &str) -> Option<Vec<i64>> {
    attr(node, name).map(|a| a.ints.clone())
}
pub(super) fn attr_s(node: &NodeProto, name: &str) -> Option<String> {
    attr(node, name).map(|a| String::from_utf8_lossy(&a.s).into_owned())
}

pub(super) fn plain(t: Tensor) -> Value {
    Value { tensor: t, host: None }
}

/// A tensor made on the host, with its values remembered.
fn host_ints(device: &Device, v: Vec<i64>, shape: &[usize]) -> Result<Value> {
    super::upload(device, &super::Decoded { dims: shape.to_vec(), dtype: DType::I32, data: HostData::Int(v) })
}

pub(super) fn input<'a>(args: &[Option<&'a Value>], i: usize) -> Result<&'a Value> {
    match args.get(i) {
        Some(Some(v)) => Ok(*v),
        _ => bail!(OP, "input {i} is missing"),
    }
}

pub(super) fn opt_input<'a>(args: &[Option<&'a Value>], i: usize) -> Option<&'a Value> {
    args.get(i).copied().flatten()
}

/// Values of an input the op needs on the host (a shape, axes, pads...).
pub(super) fn known_ints(args: &[Option<&Value>], i: usize, what: &str) -> Result<Vec<i64>> {
    match &input(args, i)?.host {
        Some(h) => Ok(h.as_ints()),
        None => bail!(OP, "unsupported: the {what} input must be known when the model loads (a constant or initializer)"),
    }
}

fn axis(a: i64, rank: usize) -> Result<usize> {
    let r = rank as i64;
    if a < -r || a >= r.max(1) {
        bail!(OP, "axis {a} is out of range for rank {rank}");
    }
    Ok(if a < 0 { (a + r) as usize } else { a as usize })
}

/// Gemm's alpha * (A B) + beta * C, given the product A B (op(A) op(B) as transA/transB say).
pub(super) fn gemm_epilogue(node: &NodeProto, mut y: Tensor, args: &[Option<&Value>]) -> Result<Tensor> {
    let alpha = attr_f(node, "alpha", 1.0);
    if alpha != 1.0 {
        y = ops::mul(&y, &scalar_like(&y, alpha as f64)?)?;
    }
    if let Some(c) = opt_input(args, 2) {
        let beta = attr_f(node, "beta", 1.0);
        let c = if beta != 1.0 { ops::mul(&c.tensor, &scalar_like(&c.tensor, beta as f64)?)? } else { c.tensor.clone() };
        y = ops::add(&y, &c)?;
    }
    Ok(y)
}

fn scalar_like(x: &Tensor, v: f64) -> Result<Tensor> {
    ops::fill(x.device(), &[], v, x.dtype())
}

/// Elementwise op over many inputs (Sum, Max, Min, Mean).
fn fold(args: &[Option<&Value>], f: fn(&Tensor, &Tensor) -> Result<Tensor>) -> Result<Tensor> {
    let mut acc = input(args, 0)?.tensor.clone();
    for i in 1..args.len() {
        acc = f(&acc, &input(args, i)?.tensor)?;
    }
    Ok(acc)
}

/// NCHW -> NHWC and back, for the engine's image ops.
fn to_nhwc(x: &Tensor) -> Result<Tensor> {
    if x.rank() != 4 {
        bail!(OP, "unsupported: only 2-D images (rank-4 NCHW inputs) are handled, got shape {:?}", x.shape());
    }
    ops::transpose(x, Some(&[0, 2, 3, 1]))
}
fn to_nchw(x: &Tensor) -> Result<Tensor> {
    ops::transpose(x, Some(&[0, 3, 1, 2]))
}

fn pair(node: &NodeProto, name: &str) -> Result<(usize, usize)> {
    spatial_pair(node, name, 2)
}

/// A size, count or padding from the model (nonnegative) as usize, saturating: on wasm32 `as`
/// keeps the low 32 bits, so 2^32 + 4 would act as 4. Saturated, a huge value stays huge and is
/// refused (or, as a stride, means "past the end") where it is used.
pub(crate) fn sat(v: i64) -> usize {
    usize::try_from(v.max(0)).unwrap_or(usize::MAX)
}

/// A per-axis attribute (strides, dilations) over `spatial` (1 or 2) axes, as (height, width):
/// a 1-D op runs as a 2-D one of height 1.
fn spatial_pair(node: &NodeProto, name: &str, spatial: usize) -> Result<(usize, usize)> {
    match attr_ints(node, name) {
        None => Ok((1, 1)),
        Some(v) if v.len() == spatial && v.iter().all(|&x| x > 0) => Ok(if spatial == 1 { (1, sat(v[0])) } else { (sat(v[0]), sat(v[1])) }),
        Some(v) => bail!(OP, "unsupported {name} {v:?} ({spatial} positive values expected)"),
    }
}

/// The sliding window of a conv or pool over 1 or 2 spatial axes.
struct Window {
    strides: (usize, usize),
    dilations: (usize, usize),
    padding: Padding,
}

fn window(node: &NodeProto, spatial: usize) -> Result<Window> {
    let padding = match attr_s(node, "auto_pad").as_deref().unwrap_or("NOTSET") {
        "NOTSET" => match attr_ints(node, "pads") {
            None => Padding::Valid,
            Some(p) if p.len() == 2 * spatial && p.iter().all(|&v| v >= 0) => {
                let p: Vec<usize> = p.iter().map(|&v| sat(v)).collect();
                if spatial == 1 {
                    Padding::Explicit(0, 0, p[0], p[1])
                } else {
                    Padding::Explicit(p[0], p[2], p[1], p[3])
                }
            }
            Some(p) => bail!(OP, "unsupported pads {p:?}"),
        },
        "VALID" => Padding::Valid,
        "SAME_UPPER" => Padding::Same,
        other => bail!(OP, "unsupported auto_pad {other}"),
    };
    Ok(Window { strides: spatial_pair(node, "strides", spatial)?, dilations: spatial_pair(node, "dilations", spatial)?, padding })
}

/// The padding that makes a pool's output size round up (ceil_mode): extra rows and columns at
/// the end, but never a window that starts past the input and its start padding (as ONNX and
/// PyTorch count them). Padded cells never count: max ignores them and average divides by the
/// cells inside the input.
fn ceil_mode_padding(p: Padding, (h, w): (usize, usize), (kh, kw): (usize, usize), (sh, sw): (usize, usize)) -> Result<Padding> {
    let (t, b, l, r) = match p {
        Padding::Valid => (0, 0, 0, 0),
        Padding::Explicit(t, b, l, r) => (t, b, l, r),
        Padding::Same => bail!(OP, "unsupported: ceil_mode with auto_pad SAME"),
    };
    let extra = |n: usize, k: usize, s: usize, begin: usize, end: usize| -> usize {
        let span = n + begin + end;
        if span < k {
            return 0;
        }
        let mut out = (span - k).div_ceil(s) + 1;
        if (out - 1) * s >= n + begin {
            out -= 1;
        }
        ((out - 1) * s + k).saturating_sub(span)
    };
    Ok(Padding::Explicit(t, b + extra(h, kh, sh, t, b), l, r + extra(w, kw, sw, l, r)))
}

/// ONNX Conv (1-D or 2-D, any group), with `activation` applied as the output is stored when
/// patterns.rs fused a following Relu or Clip into it.
pub(super) fn conv(node: &NodeProto, args: &[Option<&Value>], activation: Option<ops::ConvActivation>) -> Result<Tensor> {
    let (x, w) = (&input(args, 0)?.tensor, &input(args, 1)?.tensor);
    // 1-D convolutions run as 2-D ones of height 1.
    let spatial = x.rank().saturating_sub(2);
    if !(spatial == 1 || spatial == 2) || w.rank() != x.rank() {
        bail!(OP, "unsupported: only 1-D and 2-D convolutions are handled, got input {:?} and filter {:?}", x.shape(), w.shape());
    }
    let lift = |t: &Tensor| -> Result<Tensor> {
        if spatial == 2 {
            return Ok(t.clone());
        }
        let s = t.shape();
        ops::reshape(t, &[s[0] as i64, s[1] as i64, 1, s[2] as i64])
    };
    let win = window(node, spatial)?;
    if (win.strides.0 > 1 || win.strides.1 > 1) && (win.dilations.0 > 1 || win.dilations.1 > 1) {
        bail!(OP, "unsupported: strides and dilations both above 1");
    }
    let group = attr_i(node, "group", 1);
    if group < 1 {
        bail!(OP, "group {group} must be positive");
    }
    let conv = ops::ConvWindow { strides: win.strides, dilations: win.dilations, padding: win.padding, group: sat(group) };
    let y = ops::conv2d_nchw(&lift(x)?, &lift(w)?, opt_input(args, 2).map(|b| &b.tensor), conv, activation)?;
    if spatial == 1 {
        let s = y.shape();
        return ops::reshape(&y, &[s[0] as i64, s[1] as i64, s[3] as i64]);
    }
    Ok(y)
}

fn reduce_node(node: &NodeProto, args: &[Option<&Value>], opset: i64, kind: Reduce, axes_input_from: i64) -> Result<Tensor> {
    let x = &input(args, 0)?.tensor;
    let keep = attr_i(node, "keepdims", 1) != 0;
    let axes = if opset >= axes_input_from { opt_input(args, 1).map(|_| known_ints(args, 1, "axes")).transpose()? } else { attr_ints(node, "axes") };
    let axes = match axes {
        Some(a) if !a.is_empty() => Some(a),
        _ if attr_i(node, "noop_with_empty_axes", 0) != 0 => return Ok(x.clone()),
        _ => None,
    };
    ops::reduce(kind, x, axes.as_deref(), keep)
}

/// ONNX leaves integer division by zero undefined (onnxruntime's CPU kernel faults) and the
/// engine's int division answers 0, a silent wrong value: a zero divisor is refused wherever it
/// can be seen without a device readback (known at load, or any divisor on the CPU backend). On
/// WebGPU a divisor computed on the device still gives 0, as an out-of-range gather does there.
fn refuse_integer_zero_divisor(op_type: &str, args: &[Option<&Value>], device: &Device) -> Result<()> {
    let (Ok(a), Ok(b)) = (input(args, 0), input(args, 1)) else { return Ok(()) };
    if a.tensor.dtype() != DType::I32 {
        return Ok(());
    }
    let zero = match (&b.host, device) {
        (Some(h), _) => h.as_ints().contains(&0),
        (None, Device::Cpu) => b.tensor.cpu_words()?.contains(&0),
        (None, _) => false,
    };
    if zero {
        bail!(op_type, "integer division by zero (dividend {:?}, divisor {:?}); ONNX leaves it undefined", a.tensor.shape(), b.tensor.shape());
    }
    Ok(())
}

/// Runs one node.
pub fn run(node: &NodeProto, args: &[Option<&Value>], opset: i64, device: &Device) -> Result<Vec<Value>> {
    let x = || input(args, 0).map(|v| &v.tensor);
    let one = |t: Tensor| Ok(vec![plain(t)]);
    let op_type = node.op_type.as_str();
    if matches!(op_type, "Div" | "Mod") {
        refuse_integer_zero_divisor(op_type, args, device)?;
    }
    if super::host::handles(op_type) && !(op_type == "Mod" && attr_i(node, "fmod", 0) != 0) {
        if let Some(v) = super::host::eval(op_type, args, device)? {
            return Ok(vec![v]);
        }
    }
    if super::indexing::OPS.contains(&op_type) {
        return super::indexing::run(node, args, device);
    }
    if op_type == "Einsum" {
        return one(ops::einsum(&attr_s(node, "equation").unwrap_or_default(), &args.iter().flatten().map(|v| &v.tensor).collect::<Vec<_>>())?);
    }
    if let Some(op) = lookup(UNARY, op_type) {
        return one(ops::unary(op, x()?, 0.0, 0.0)?);
    }
    if let Some(op) = lookup(BINARY, op_type) {
        return one(ops::binary(op, x()?, &input(args, 1)?.tensor)?);
    }
    if let Some(op) = lookup(COMPARE, op_type) {
        return one(ops::compare(op, x()?, &input(args, 1)?.tensor)?);
    }
    match op_type {
        "Pow" => {
            let (a, b) = (x()?, &input(args, 1)?.tensor);
            if a.dtype() == DType::I32 {
                // Integer powers: computed in f32 (exact up to 2^24 after rounding), then back.
                let p = ops::pow(&ops::cast(a, DType::F32)?, &ops::cast(b, DType::F32)?)?;
                return one(ops::cast(&ops::round(&p)?, DType::I32)?);
            }
            // A known small exponent (GELU's x^3, a variance's x^2) is products: exact, and far
            // cheaper than exp(b * log(a)).
            match input(args, 1)?.host.as_ref().filter(|_| b.numel() == 1 && b.rank() <= a.rank()).and_then(HostData::first) {
                Some(e) if e == 1.0 => one(a.clone()),
                Some(e) if e == 2.0 => one(ops::mul(a, a)?),
                Some(e) if e == 3.0 => one(ops::mul(&ops::mul(a, a)?, a)?),
                Some(e) if e == 0.5 => one(ops::sqrt(a)?),
                _ => one(ops::pow(a, &ops::cast(b, a.dtype())?)?),
            }
        }
        "Div" => {
            let (a, b) = (x()?, &input(args, 1)?.tensor);
            if a.dtype() == DType::I32 {
                // ONNX integer division truncates; the engine's floors: divide magnitudes, then sign.
                let q = ops::div(&ops::abs(a)?, &ops::abs(b)?)?;
                let s = ops::mul(&ops::sign(a)?, &ops::sign(b)?)?;
                return one(ops::mul(&q, &s)?);
            }
            one(ops::div(a, b)?)
        }
        "Mod" => {
            let (a, b) = (x()?, &input(args, 1)?.tensor);
            if attr_i(node, "fmod", 0) == 0 {
                if a.dtype() != DType::I32 {
                    bail!(OP, "Mod of floats needs fmod=1");
                }
                // The engine's mod floors, so its result takes the divisor's sign, as ONNX's.
                return one(ops::binary(BinaryOp::Mod, a, b)?);
            }
            // fmod: the remainder of truncated division, with the dividend's sign.
            let (af, bf) = (ops::cast(a, DType::F32)?, ops::cast(b, DType::F32)?);
            let q = ops::div(&af, &bf)?;
            let trunc = ops::mul(&ops::floor(&ops::abs(&q)?)?, &ops::sign(&q)?)?;
            let r = ops::sub(&af, &ops::mul(&trunc, &bf)?)?;
            one(if a.dtype() == DType::F32 { r } else { ops::cast(&r, a.dtype())? })
        }
        "Size" => Ok(vec![host_ints(device, vec![x()?.numel() as i64], &[])?]),
        "Sum" => one(fold(args, |a, b| ops::add(a, b))?),
        "Max" => one(fold(args, |a, b| ops::maximum(a, b))?),
        "Min" => one(fold(args, |a, b| ops::minimum(a, b))?),
        "Mean" => {
            let s = fold(args, |a, b| ops::add(a, b))?;
            one(ops::div(&s, &scalar_like(&s, args.len() as f64)?)?)
        }
        "Softsign" => {
            let x = x()?;
            let d = ops::add(&ops::abs(x)?, &scalar_like(x, 1.0)?)?;
            one(ops::div(x, &d)?)
        }
        "LeakyRelu" => one(ops::leaky_relu(x()?, attr_f(node, "alpha", 0.01))?),
        "Elu" | "Selu" => {
            let x = x()?;
            let (alpha, gamma) = if node.op_type == "Elu" {
                (attr_f(node, "alpha", 1.0), 1.0)
            } else {
                (attr_f(node, "alpha", 1.673_263_2), attr_f(node, "gamma", 1.050_701))
            };
            let neg = ops::mul(&ops::elu(x)?, &scalar_like(x, alpha as f64)?)?;
            let y = ops::where_(&ops::greater(x, &scalar_like(x, 0.0)?)?, x, &neg)?;
            one(if gamma == 1.0 { y } else { ops::mul(&y, &scalar_like(x, gamma as f64)?)? })
        }
        "HardSigmoid" => {
            let x = x()?;
            let lin = ops::add(
                &ops::mul(x, &scalar_like(x, attr_f(node, "alpha", 0.2) as f64)?)?,
                &scalar_like(x, attr_f(node, "beta", 0.5) as f64)?,
            )?;
            one(ops::clip(&lin, 0.0, 1.0)?)
        }
        "Gelu" => match attr_s(node, "approximate").as_deref().unwrap_or("none") {
            "none" => one(ops::gelu(x()?)?),
            "tanh" => one(ops::unary(UnaryOp::GeluTanh, x()?, 0.0, 0.0)?),
            other => bail!(OP, "unsupported approximate={other}"),
        },
        "PRelu" => {
            let (x, slope) = (x()?, &input(args, 1)?.tensor);
            // A per-channel slope [C] applies along axis 1 (as PyTorch exports it).
            let per_channel = slope.rank() == 1 && x.rank() > 2 && x.shape()[1] == slope.shape()[0] && slope.shape()[0] > 1;
            let slope = &if per_channel {
                let mut shape = vec![1i64; x.rank() - 1];
                shape[0] = slope.shape()[0] as i64;
                ops::reshape(slope, &shape)?
            } else {
                slope.clone()
            };
            let zero = scalar_like(x, 0.0)?;
            let negative = ops::mul(&ops::minimum(x, &zero)?, slope)?;
            one(ops::add(&ops::maximum(x, &zero)?, &negative)?)
        }
        "Clip" => {
            let mut y = x()?.clone();
            let (lo, hi) = if opset < 11 {
                (
                    attr(node, "min").map(|a| scalar_like(&y, a.f as f64)).transpose()?,
                    attr(node, "max").map(|a| scalar_like(&y, a.f as f64)).transpose()?,
                )
            } else {
                (opt_input(args, 1).map(|v| v.tensor.clone()), opt_input(args, 2).map(|v| v.tensor.clone()))
            };
            if let Some(lo) = lo {
                y = ops::maximum(&y, &lo)?;
            }
            if let Some(hi) = hi {
                y = ops::minimum(&y, &hi)?;
            }
            one(y)
        }
        "Not" => one(ops::logical_not(x()?)?),
        "Where" => one(ops::where_(x()?, &input(args, 1)?.tensor, &input(args, 2)?.tensor)?),
        "Cast" => {
            // float16 values are held in float32 (see mod.rs): a cast to float16 rounds to them.
            let half = attr_i(node, "to", 0) == 10;
            let to = match attr_i(node, "to", 0) {
                1 | 10 | 11 => DType::F32,
                6 | 7 => DType::I32,
                9 => DType::Bool,
                other => bail!(OP, "unsupported: Cast to ONNX type {other}"),
            };
            let v = input(args, 0)?;
            let host = v.host.as_ref().map(|h| match to {
                DType::F32 if half => HostData::Float(h.as_floats().iter().map(|&f| crate::dtype::round_half(f)).collect()),
                DType::F32 => HostData::Float(h.as_floats()),
                DType::I32 => HostData::Int(h.as_floats().iter().map(|&f| f.trunc() as i64).collect()),
                DType::Bool => HostData::Int(h.as_floats().iter().map(|&f| (f != 0.0) as i64).collect()),
                DType::F16 => unreachable!("ONNX float16 is held in float32"),
            });
            let mut tensor = ops::cast(&v.tensor, to)?;
            if half {
                tensor = ops::unary(UnaryOp::RoundF16, &tensor, 0.0, 0.0)?;
            }
            Ok(vec![Value { tensor, host }])
        }
        "Identity" => Ok(vec![input(args, 0)?.clone()]),
        "Dropout" => {
            if opset >= 12 && opt_input(args, 2).is_some() {
                let training = known_ints(args, 2, "training_mode")?;
                if training.first().copied().unwrap_or(0) != 0 {
                    bail!(OP, "unsupported: Dropout in training mode (the importer runs inference)");
                }
            }
            let v = input(args, 0)?.clone();
            let mask = plain(ops::fill(device, v.tensor.shape(), 1.0, DType::Bool)?);
            Ok(vec![v, mask])
        }
        // ---- linear algebra
        "MatMul" => {
            let (a, b) = (x()?, &input(args, 1)?.tensor);
            let a2 = if a.rank() == 1 { ops::reshape(a, &[1, -1])? } else { a.clone() };
            let b2 = if b.rank() == 1 { ops::reshape(b, &[-1, 1])? } else { b.clone() };
            let mut y = ops::matmul(&a2, &b2, false, false)?;
            let mut shape: Vec<i64> = y.shape().iter().map(|&d| d as i64).collect();
            if b.rank() == 1 {
                shape.pop();
            }
            if a.rank() == 1 {
                shape.remove(shape.len() - if b.rank() == 1 { 1 } else { 2 });
            }
            if a.rank() == 1 || b.rank() == 1 {
                y = ops::reshape(&y, &shape)?;
            }
            one(y)
        }
        "Gemm" => {
            let (a, b) = (x()?, &input(args, 1)?.tensor);
            let y = ops::matmul(a, b, attr_i(node, "transA", 0) != 0, attr_i(node, "transB", 0) != 0)?;
            one(gemm_epilogue(node, y, args)?)
        }
        // ---- images
        "Conv" => one(conv(node, args, None)?),
        "ConvTranspose" => {
            let (x, w) = (x()?, &input(args, 1)?.tensor);
            if x.rank() != 4 || w.rank() != 4 {
                bail!(OP, "unsupported: only 2-D transposed convolutions are handled, got input {:?}", x.shape());
            }
            if attr_i(node, "group", 1) != 1 || attr(node, "output_shape").is_some() || pair(node, "dilations")? != (1, 1) {
                bail!(OP, "unsupported: ConvTranspose with groups, dilations or an output_shape attribute");
            }
            let (n, h, wd) = (x.shape()[0], x.shape()[2], x.shape()[3]);
            let (cout, kh, kw) = (w.shape()[1], w.shape()[2], w.shape()[3]);
            let s = pair(node, "strides")?;
            let op = match attr_ints(node, "output_padding") {
                None => (0, 0),
                Some(v) if v.len() == 2 && v.iter().all(|&p| p >= 0) && sat(v[0]) < s.0 && sat(v[1]) < s.1 => (sat(v[0]), sat(v[1])),
                Some(v) => bail!(OP, "unsupported output_padding {v:?}"),
            };
            // Pads (top, left, bottom, right); SAME_* split what makes the output input * stride.
            let full = (s.0 * (h - 1) + op.0 + kh, s.1 * (wd - 1) + op.1 + kw);
            let pads = match attr_s(node, "auto_pad").as_deref().unwrap_or("NOTSET") {
                "NOTSET" => match attr_ints(node, "pads") {
                    None => [0; 4],
                    Some(p) if p.len() == 4 && p.iter().all(|&v| v >= 0) => [sat(p[0]), sat(p[1]), sat(p[2]), sat(p[3])],
                    Some(p) => bail!(OP, "unsupported pads {p:?}"),
                },
                "VALID" => [0; 4],
                mode @ ("SAME_UPPER" | "SAME_LOWER") => {
                    let total = (full.0.saturating_sub(h * s.0), full.1.saturating_sub(wd * s.1));
                    let (small, large) = ((total.0 / 2, total.1 / 2), (total.0 - total.0 / 2, total.1 - total.1 / 2));
                    if mode == "SAME_UPPER" { [small.0, small.1, large.0, large.1] } else { [large.0, large.1, small.0, small.1] }
                }
                other => bail!(OP, "unsupported auto_pad {other}"),
            };
            if pads[0] + pads[2] >= full.0 || pads[1] + pads[3] >= full.1 {
                bail!(OP, "pads {pads:?} leave no output");
            }
            let out = [n, full.0 - pads[0] - pads[2], full.1 - pads[1] - pads[3], cout];
            let filter = ops::transpose(w, Some(&[2, 3, 1, 0]))?;
            let mut y = ops::conv2d_transpose(&to_nhwc(x)?, &filter, &out, s, Padding::Explicit(pads[0], pads[2], pads[1], pads[3]))?;
            if let Some(bias) = opt_input(args, 2) {
                y = ops::add(&y, &bias.tensor)?;
            }
            one(to_nchw(&y)?)
        }
        "LRN" => {
            let x = x()?;
            let size = attr_i(node, "size", 0);
            if x.rank() < 3 || size < 1 {
                bail!(OP, "LRN needs an input of rank 3 or more and a positive size (got {:?}, size {size})", x.shape());
            }
            let size = sat(size);
            let (alpha, beta, bias) = (attr_f(node, "alpha", 1e-4), attr_f(node, "beta", 0.75), attr_f(node, "bias", 1.0));
            // Sum of squares over a window of `size` channels around each channel (zero outside).
            let mut pads = vec![(0usize, 0usize); x.rank()];
            pads[1] = ((size - 1) / 2, size - 1 - (size - 1) / 2);
            let sq = ops::pad(&ops::square(x)?, &pads, 0.0)?;
            let sizes: Vec<i64> = x.shape().iter().map(|&d| d as i64).collect();
            let channels_from = |k: usize| {
                let mut begin = vec![0usize; x.rank()];
                begin[1] = k;
                ops::slice(&sq, &begin, &sizes)
            };
            let mut sum = channels_from(0)?;
            for k in 1..size {
                sum = ops::add(&sum, &channels_from(k)?)?;
            }
            let scaled = ops::add(&ops::mul(&sum, &scalar_like(x, (alpha / size as f32) as f64)?)?, &scalar_like(x, bias as f64)?)?;
            one(ops::div(x, &ops::pow(&scaled, &scalar_like(x, beta as f64)?)?)?)
        }
        "MaxPool" | "AveragePool" => {
            let x = x()?;
            // 1-D pools run as 2-D ones of height 1.
            let spatial = x.rank().saturating_sub(2);
            if !(spatial == 1 || spatial == 2) {
                bail!(OP, "unsupported: only 1-D and 2-D pools are handled, got input {:?}", x.shape());
            }
            let mut win = window(node, spatial)?;
            if win.dilations != (1, 1) || node.output.len() > 1 && !node.output[1].is_empty() {
                bail!(OP, "unsupported: dilations or indices output of {}", node.op_type);
            }
            if node.op_type == "AveragePool" && attr_i(node, "count_include_pad", 0) != 0 && !matches!(win.padding, Padding::Valid) {
                bail!(OP, "unsupported: count_include_pad with padding");
            }
            let size = match attr_ints(node, "kernel_shape") {
                Some(k) if k.len() == spatial && k.iter().all(|&v| v > 0) => if spatial == 1 { (1, sat(k[0])) } else { (sat(k[0]), sat(k[1])) },
                k => bail!(OP, "unsupported kernel_shape {k:?}"),
            };
            let s = x.shape();
            if attr_i(node, "ceil_mode", 0) != 0 {
                win.padding = ceil_mode_padding(win.padding, if spatial == 1 { (1, s[2]) } else { (s[2], s[3]) }, size, win.strides)?;
            }
            let lifted = if spatial == 1 { ops::reshape(x, &[s[0] as i64, s[1] as i64, 1, s[2] as i64])? } else { x.clone() };
            let kind = if node.op_type == "MaxPool" { ops::PoolKind::Max } else { ops::PoolKind::Avg };
            let y = ops::pool2d_nchw(kind, &lifted, size, win.strides, win.padding)?;
            if spatial == 1 {
                let t = y.shape();
                return one(ops::reshape(&y, &[t[0] as i64, t[1] as i64, t[3] as i64])?);
            }
            one(y)
        }
        "GlobalAveragePool" | "GlobalMaxPool" => {
            let x = x()?;
            let axes: Vec<i64> = (2..x.rank() as i64).collect();
            let kind = if node.op_type == "GlobalAveragePool" { Reduce::Mean } else { Reduce::Max };
            one(ops::reduce(kind, x, Some(&axes), true)?)
        }
        "BatchNormalization" => {
            if attr_i(node, "training_mode", 0) != 0 || node.output.iter().skip(1).any(|o| !o.is_empty()) {
                bail!(OP, "unsupported: BatchNormalization in training mode");
            }
            let x = x()?;
            let c = *x.shape().get(1).unwrap_or(&1) as i64;
            let mut shape = vec![1i64; x.rank()];
            if x.rank() > 1 {
                shape[1] = c;
            }
            let p = |i: usize| -> Result<Tensor> { ops::reshape(&input(args, i)?.tensor, &shape) };
            let (scale, bias, mean, var) = (p(1)?, p(2)?, p(3)?, p(4)?);
            one(ops::batch_norm(x, &mean, &var, Some(&scale), Some(&bias), attr_f(node, "epsilon", 1e-5))?)
        }
        // Over the last axis (what transformer exporters write); other axes are refused.
        "LayerNormalization" | "SimplifiedLayerNormalization" => {
            let x = x()?;
            let axis = attr_i(node, "axis", -1);
            if x.rank() == 0 || (axis != -1 && axis != x.rank() as i64 - 1) {
                bail!(OP, "unsupported: {} over axis {axis} of a rank-{} input (only the last axis)", node.op_type, x.rank());
            }
            if node.output.iter().skip(1).any(|o| !o.is_empty()) {
                bail!(OP, "unsupported: {} with its mean / inverse-deviation outputs", node.op_type);
            }
            let eps = attr_f(node, "epsilon", 1e-5);
            let scale = &input(args, 1)?.tensor;
            let bias = opt_input(args, 2).map(|v| &v.tensor);
            one(if node.op_type == "LayerNormalization" { ops::layer_norm(x, Some(scale), bias, eps)? } else { ops::rms_norm(x, Some(scale), eps)? })
        }
        "Softmax" | "LogSoftmax" => {
            let x = x()?;
            let log = node.op_type == "LogSoftmax";
            let f = |t: &Tensor, a: i64| {
                if log {
                    ops::log_softmax(t, a)
                } else {
                    ops::softmax(t, a)
                }
            };
            if opset >= 13 {
                return one(f(x, attr_i(node, "axis", -1))?);
            }
            // Before opset 13 the input is coerced to 2-D at `axis` (default 1).
            let a = axis(attr_i(node, "axis", 1), x.rank())?;
            let rows: usize = x.shape()[..a].iter().product();
            let y = f(&ops::reshape(x, &[rows as i64, -1])?, 1)?;
            let back: Vec<i64> = x.shape().iter().map(|&d| d as i64).collect();
            one(ops::reshape(&y, &back)?)
        }
        // ---- shapes
        "Shape" => {
            let shape = x()?.shape();
            let r = shape.len() as i64;
            let clamp = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
            let (s, e) = (clamp(attr_i(node, "start", 0)), clamp(attr_i(node, "end", r)));
            let dims: Vec<i64> = shape[s..e.max(s)].iter().map(|&d| d as i64).collect();
            let n = dims.len();
            Ok(vec![host_ints(device, dims, &[n])?])
        }
        "Reshape" => {
            let x = x()?;
            let mut shape = if opset >= 5 { known_ints(args, 1, "shape")? } else { attr_ints(node, "shape").unwrap_or_default() };
            if attr_i(node, "allowzero", 0) == 0 {
                for (i, d) in shape.iter_mut().enumerate() {
                    if *d == 0 {
                        *d = *x.shape().get(i).ok_or_else(|| crate::Error::new(OP, "Reshape: 0 beyond the input's rank"))? as i64;
                    }
                }
            }
            let v = input(args, 0)?;
            let y = ops::reshape(x, &shape)?;
            Ok(vec![Value { host: v.host.clone(), tensor: y }])
        }
        "Flatten" => {
            let x = x()?;
            let a = if attr_i(node, "axis", 1) == x.rank() as i64 { x.rank() } else { axis(attr_i(node, "axis", 1), x.rank())? };
            let rows: usize = x.shape()[..a].iter().product();
            let cols: usize = x.shape()[a..].iter().product();
            one(ops::reshape(x, &[rows as i64, cols as i64])?)
        }
        "Transpose" => {
            let x = x()?;
            let perm: Vec<usize> = match attr_ints(node, "perm") {
                Some(p) => p.iter().map(|&a| axis(a, x.rank())).collect::<Result<_>>()?,
                None => (0..x.rank()).rev().collect(),
            };
            one(ops::transpose(x, Some(&perm))?)
        }
        "Squeeze" | "Unsqueeze" => {
            let v = input(args, 0)?;
            let x = &v.tensor;
            let axes = if opset >= 13 { opt_input(args, 1).map(|_| known_ints(args, 1, "axes")).transpose()? } else { attr_ints(node, "axes") };
            let mut shape: Vec<i64> = x.shape().iter().map(|&d| d as i64).collect();
            if node.op_type == "Squeeze" {
                let drop: Vec<usize> = match axes {
                    Some(a) => a.iter().map(|&a| axis(a, x.rank())).collect::<Result<_>>()?,
                    None => (0..x.rank()).filter(|&i| x.shape()[i] == 1).collect(),
                };
                shape = shape.iter().enumerate().filter(|(i, _)| !drop.contains(i)).map(|(_, &d)| d).collect();
            } else {
                let Some(axes) = axes else { bail!(OP, "Unsqueeze needs axes") };
                let out_rank = x.rank() + axes.len();
                let mut at: Vec<usize> = axes.iter().map(|&a| axis(a, out_rank)).collect::<Result<_>>()?;
                at.sort_unstable();
                if at.windows(2).any(|w| w[0] == w[1]) {
                    bail!(OP, "Unsqueeze: axes {axes:?} repeat an axis");
                }
                for a in at {
                    shape.insert(a, 1);
                }
            }
            Ok(vec![Value { tensor: ops::reshape(x, &shape)?, host: v.host.clone() }])
        }
        "Concat" => {
            let vals: Vec<&Value> = args.iter().flatten().copied().collect();
            let ts: Vec<&Tensor> = vals.iter().map(|v| &v.tensor).collect();
            let a = attr_i(node, "axis", 0);
            let y = ops::concat(&ts, a)?;
            // Concatenated integer vectors (shapes) stay known.
            let known = y.rank() == 1 && y.dtype() == DType::I32 && vals.iter().all(|v| v.host.is_some());
            let host = known.then(|| HostData::Int(vals.iter().flat_map(|v| v.host.as_ref().map(HostData::as_ints).unwrap_or_default()).collect()));
            Ok(vec![Value { tensor: y, host }])
        }
        "Constant" => {
            let a = node.attribute.first().ok_or_else(|| crate::Error::new(OP, "Constant without a value"))?;
            let decoded = match a.name.as_str() {
                "value" => super::decode_tensor(a.t.as_ref().ok_or_else(|| crate::Error::new(OP, "Constant value is empty"))?)?,
                "value_float" => super::Decoded { dims: vec![], dtype: DType::F32, data: HostData::Float(vec![a.f]) },
                "value_floats" => super::Decoded { dims: vec![a.floats.len()], dtype: DType::F32, data: HostData::Float(a.floats.clone()) },
                "value_int" => super::Decoded { dims: vec![], dtype: DType::I32, data: HostData::Int(vec![a.i]) },
                "value_ints" => super::Decoded { dims: vec![a.ints.len()], dtype: DType::I32, data: HostData::Int(a.ints.clone()) },
                other => bail!(OP, "unsupported Constant attribute {other}"),
            };
            Ok(vec![super::upload(device, &decoded)?])
        }
        "ConstantOfShape" => {
            let dims: Vec<usize> = known_ints(args, 0, "shape")?.iter().map(|&d| sat(d)).collect();
            let (dtype, value) = match attr(node, "value").and_then(|a| a.t.as_ref()) {
                Some(t) => {
                    let d = super::decode_tensor(t)?;
                    (d.dtype, d.data.first().ok_or_else(|| crate::Error::new(OP, "ConstantOfShape: the value tensor is empty"))?)
                }
                None => (DType::F32, 0.0),
            };
            let n: usize = dims.iter().product();
            let t = ops::fill(device, &dims, value, dtype)?;
            let host =
                (n <= super::HOST_VALUES_MAX).then(|| if dtype == DType::F32 { HostData::Float(vec![value as f32; n]) } else { HostData::Int(vec![value as i64; n]) });
            Ok(vec![Value { tensor: t, host }])
        }
        "Expand" => {
            let x = x()?;
            let target = known_ints(args, 1, "shape")?;
            let rank = x.rank().max(target.len());
            let mut shape = vec![0usize; rank];
            for (i, d) in shape.iter_mut().enumerate() {
                let a = if i + x.rank() >= rank { x.shape()[i + x.rank() - rank] } else { 1 };
                let b = if i + target.len() >= rank { sat(target[i + target.len() - rank]) } else { 1 };
                *d = if a == 1 { b } else { a };
            }
            one(ops::broadcast_to(x, &shape)?)
        }
        "Gather" => {
            let (x, idx) = (x()?, input(args, 1)?);
            let a = axis(attr_i(node, "axis", 0), x.rank())?;
            let n = x.shape()[a] as i64;
            // Negative indices count from the end; fix them where the indices are known.
            let indices = match &idx.host {
                Some(h) => {
                    let fixed: Vec<i64> = h.as_ints().iter().map(|&i| if i < 0 { i + n } else { i }).collect();
                    if let Some(bad) = fixed.iter().position(|&i| i < 0 || i >= n) {
                        bail!(OP, "Gather: index {} is out of range for an axis of {n}", h.as_ints()[bad]);
                    }
                    host_ints(device, fixed, idx.tensor.shape())?.tensor
                }
                None => super::indexing::wrap(&idx.tensor, n as usize)?,
            };
            let y = ops::gather(x, &indices, a as i64)?;
            let v = input(args, 0)?;
            let host = match (&v.host, &idx.host) {
                (Some(HostData::Int(vals)), Some(h)) if x.rank() == 1 => {
                    let picked: Option<Vec<i64>> =
                        h.as_ints().iter().map(|&i| usize::try_from(if i < 0 { i + n } else { i }).ok().and_then(|i| vals.get(i).copied())).collect();
                    Some(HostData::Int(picked.ok_or_else(|| crate::Error::new(OP, format!("Gather: an index is out of range for {n} values")))?))
                }
                _ => None,
            };
            Ok(vec![Value { tensor: y, host }])
        }
        "Slice" => {
            let x = x()?;
            let (starts, ends, axes, steps) = if opset >= 10 {
                (
                    known_ints(args, 1, "starts")?,
                    known_ints(args, 2, "ends")?,
                    opt_input(args, 3).map(|_| known_ints(args, 3, "axes")).transpose()?,
                    opt_input(args, 4).map(|_| known_ints(args, 4, "steps")).transpose()?,
                )
            } else {
                (attr_ints(node, "starts").unwrap_or_default(), attr_ints(node, "ends").unwrap_or_default(), attr_ints(node, "axes"), None)
            };
            if starts.len() != ends.len() || axes.as_ref().is_some_and(|a| a.len() != starts.len()) {
                bail!(OP, "Slice: starts, ends and axes differ in length");
            }
            if steps.as_ref().is_some_and(|s| s.len() != starts.len() || s.contains(&0)) {
                bail!(OP, "Slice: steps {steps:?} must be non-zero, one per axis");
            }
            let axes = axes.unwrap_or_else(|| (0..starts.len() as i64).collect());
            let mut begin = vec![0usize; x.rank()];
            let mut size: Vec<i64> = x.shape().iter().map(|&d| d as i64).collect();
            // Axes with a step other than 1 take their positions with a gather.
            let mut strided: Vec<(usize, Vec<i64>)> = Vec::new();
            for (k, &a) in axes.iter().enumerate() {
                let a = axis(a, x.rank())?;
                let dim = x.shape()[a] as i64;
                let step = steps.as_ref().map_or(1, |s| s[k]);
                let wrap = |v: i64| if v < 0 { v.saturating_add(dim) } else { v };
                if step == 1 {
                    let (s, e) = (wrap(starts[k]).clamp(0, dim), wrap(ends[k]).clamp(0, dim));
                    begin[a] = s as usize;
                    size[a] = (e - s).max(0);
                    continue;
                }
                let (s, e) = if step > 0 { (wrap(starts[k]).clamp(0, dim), wrap(ends[k]).clamp(0, dim)) } else { (wrap(starts[k]).clamp(0, dim - 1), wrap(ends[k]).clamp(-1, dim - 1)) };
                let count = if step > 0 { (e - s).max(0).div_euclid(step) + ((e - s).max(0) % step != 0) as i64 } else { (s - e).max(0).div_euclid(-step) + ((s - e).max(0) % -step != 0) as i64 };
                strided.push((a, (0..count).map(|i| s + i * step).collect()));
            }
            let mut y = ops::slice(x, &begin, &size)?;
            for (a, positions) in &strided {
                let n = positions.len();
                y = ops::gather(&y, &host_ints(device, positions.clone(), &[n])?.tensor, *a as i64)?;
            }
            let v = input(args, 0)?;
            let host = match &v.host {
                Some(HostData::Int(vals)) if x.rank() == 1 => match strided.first() {
                    Some((_, positions)) => Some(HostData::Int(positions.iter().map(|&p| vals[p as usize]).collect())),
                    None => Some(HostData::Int(vals[begin[0]..begin[0] + size[0] as usize].to_vec())),
                },
                _ => None,
            };
            Ok(vec![Value { tensor: y, host }])
        }
        "Split" => {
            let x = x()?;
            let a = axis(attr_i(node, "axis", 0), x.rank())?;
            let dim = x.shape()[a];
            let parts = node.output.len();
            let sizes: Vec<usize> =
                match if opset >= 13 { opt_input(args, 1).map(|_| known_ints(args, 1, "split")).transpose()? } else { attr_ints(node, "split") } {
                    Some(s) => s.iter().map(|&v| sat(v)).collect(),
                    None => {
                        let chunk = dim.div_ceil(parts.max(1));
                        (0..parts).map(|i| chunk.min(dim.saturating_sub(i * chunk))).collect()
                    }
                };
            if sizes.iter().sum::<usize>() != dim {
                bail!(OP, "Split sizes {sizes:?} do not add up to {dim}");
            }
            let mut out = Vec::new();
            let mut at = 0;
            for s in sizes {
                let mut begin = vec![0usize; x.rank()];
                let mut size: Vec<i64> = x.shape().iter().map(|&d| d as i64).collect();
                begin[a] = at;
                size[a] = s as i64;
                out.push(plain(ops::slice(x, &begin, &size)?));
                at += s;
            }
            Ok(out)
        }
        "Tile" => {
            let mut y = x()?.clone();
            let reps = known_ints(args, 1, "repeats")?;
            if reps.len() != y.rank() || reps.iter().any(|&r| r < 0 || r as u64 > crate::shape::MAX_ELEMENTS as u64) {
                bail!(OP, "Tile: repeats {reps:?} must be one non-negative count per dimension of {:?}", y.shape());
            }
            // Refuse an absurd output before making any copy.
            let out: Vec<usize> = y.shape().iter().zip(&reps).map(|(&d, &r)| d.saturating_mul(r as usize)).collect();
            crate::shape::checked_numel(OP, &out)?;
            for (a, &r) in reps.iter().enumerate() {
                if r != 1 {
                    let copies = vec![&y; r.max(0) as usize];
                    y = ops::concat(&copies, a as i64)?;
                }
            }
            one(y)
        }
        "Pad" => {
            let x = x()?;
            if opt_input(args, 3).is_some() {
                bail!(OP, "unsupported: Pad with the axes input");
            }
            let mode = attr_s(node, "mode").unwrap_or_else(|| "constant".into());
            let pads = if opset >= 11 { known_ints(args, 1, "pads")? } else { attr_ints(node, "pads").unwrap_or_default() };
            let value = if opset >= 11 {
                match opt_input(args, 2) {
                    Some(v) => v
                        .host
                        .as_ref()
                        .and_then(HostData::first)
                        .ok_or_else(|| crate::Error::new(OP, "unsupported: a Pad value that is not a constant"))?,
                    None => 0.0,
                }
            } else {
                attr_f(node, "value", 0.0) as f64
            };
            let r = x.rank();
            if pads.len() != 2 * r || pads.iter().any(|&p| p < 0) {
                bail!(OP, "unsupported pads {pads:?}");
            }
            let pairs: Vec<(usize, usize)> = (0..r).map(|i| (sat(pads[i]), sat(pads[i + r]))).collect();
            if mode == "constant" {
                return one(ops::pad(x, &pairs, value)?);
            }
            // reflect / edge / wrap: one gather per padded axis, of source positions made here.
            let mut y = x.clone();
            for (a, &(before, after)) in pairs.iter().enumerate() {
                if before == 0 && after == 0 {
                    continue;
                }
                let n = x.shape()[a] as i64;
                if n == 0 || (mode == "reflect" && (before as i64 >= n || after as i64 >= n)) {
                    bail!(OP, "Pad {mode}: pads {pads:?} do not fit an axis of {n}");
                }
                let source = |i: i64| -> i64 {
                    match mode.as_str() {
                        "edge" => i.clamp(0, n - 1),
                        "wrap" => i.rem_euclid(n),
                        _ => if i < 0 { -i } else if i >= n { 2 * (n - 1) - i } else { i },
                    }
                };
                if !matches!(mode.as_str(), "edge" | "wrap" | "reflect") {
                    bail!(OP, "unsupported Pad mode {mode}");
                }
                let idx: Vec<i64> = (-(before as i64)..n + after as i64).map(source).collect();
                let len = idx.len();
                y = ops::gather(&y, &host_ints(device, idx, &[len])?.tensor, a as i64)?;
            }
            one(y)
        }
        "Range" => {
            let get = |i: usize| -> Result<f64> {
                input(args, i)?
                    .host
                    .as_ref()
                    .and_then(HostData::first)
                    .ok_or_else(|| crate::Error::new(OP, "unsupported: Range bounds that are not constants"))
            };
            let (start, limit, delta) = (get(0)?, get(1)?, get(2)?);
            let count = ((limit - start) / delta).ceil().max(0.0);
            if !count.is_finite() || count > crate::shape::MAX_ELEMENTS as f64 {
                bail!(OP, "Range: start {start}, limit {limit} and delta {delta} give no finite length");
            }
            let n = count as usize;
            if x()?.dtype() == DType::F32 {
                let v: Vec<f32> = (0..n).map(|i| (start + i as f64 * delta) as f32).collect();
                return Ok(vec![Value { tensor: Tensor::from_f32(device, &v, &[n])?, host: Some(HostData::Float(v)) }]);
            }
            Ok(vec![host_ints(device, (0..n).map(|i| (start + i as f64 * delta) as i64).collect(), &[n])?])
        }
        // ---- reductions
        "ReduceSum" => one(reduce_node(node, args, opset, Reduce::Sum, 13)?),
        "ReduceMean" => one(reduce_node(node, args, opset, Reduce::Mean, 18)?),
        "ReduceMax" => one(reduce_node(node, args, opset, Reduce::Max, 18)?),
        "ReduceMin" => one(reduce_node(node, args, opset, Reduce::Min, 18)?),
        "ReduceProd" => one(reduce_node(node, args, opset, Reduce::Prod, 18)?),
        "ArgMax" | "ArgMin" => {
            if attr_i(node, "select_last_index", 0) != 0 {
                bail!(OP, "unsupported: select_last_index");
            }
            let x = x()?;
            let a = axis(attr_i(node, "axis", 0), x.rank())?;
            let kind = if node.op_type == "ArgMax" { Reduce::ArgMax } else { Reduce::ArgMin };
            let y = ops::arg_reduce(kind, x, a as i64)?;
            if attr_i(node, "keepdims", 1) != 0 {
                let mut shape: Vec<i64> = x.shape().iter().map(|&d| d as i64).collect();
                shape[a] = 1;
                return one(ops::reshape(&y, &shape)?);
            }
            one(y)
        }
        other => bail!(OP, "unsupported op '{other}'"),
    }
}
