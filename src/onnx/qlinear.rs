//! QLinearMatMul and QLinearConv: the integer operators of onnxruntime's static quantization in
//! its QOperator format (quantize_static), which the ONNX model zoo's int8 conv nets use.
//!
//! Both compute the integer product of the centred operands, (a - a_zero) (b - b_zero) plus an
//! int32 bias, then requantize it: y = saturate(round_half_even(acc * a_scale * b_scale / y_scale)
//! + y_zero) in y_zero's declared type, as onnxruntime does (its multiplier is the same float32
//! product and quotient). A constant QLinearMatMul weight is packed at load like MatMulInteger's
//! (quantized.rs) and its product sums in int32 on the wasm CPU. The convolution runs the engine's
//! float32 convolution over the centred integer values (a constant filter is centred once, at load:
//! quantized.rs): its sums are exact while they stay below 2^24 in magnitude (a 3x3 window over 512
//! channels of full-range 8-bit values can pass it; the rounding to 8 bits that follows then rarely
//! moves).
use super::nodes::{conv, input, opt_input, plain};
use super::proto::{data_type, NodeProto};
use super::quantized::{scalar_zero_point, Prepared};
use super::Value;
use crate::ops::{self, QuantizedMatrix};
use crate::{bail, DType, Result, Tensor};

const OP: &str = "onnx";

/// QLinearMatMul with its weight packed at load (inputs 3 and 5 consumed).
pub fn matmul_packed(node: &NodeProto, args: &[Option<&Value>], w: &QuantizedMatrix, prepared: &Prepared) -> Result<Vec<Value>> {
    let a = &input(args, 0)?.tensor;
    let acc = ops::cast(&ops::quantized_matmul_integer(a, scalar_zero_point(opt_input(args, 2))?.as_ref(), w)?, DType::F32)?;
    Ok(vec![plain(requantize(node, args, &acc, prepared, None)?)])
}

/// QLinearMatMul of two computed operands, and QLinearConv.
pub fn run(node: &NodeProto, args: &[Option<&Value>], prepared: &Prepared) -> Result<Vec<Value>> {
    let x = centred(&input(args, 0)?.tensor, opt_input(args, 2), None)?;
    match node.op_type.as_str() {
        "QLinearMatMul" => {
            // b's zero point: a scalar or one per column (b's last axis).
            let b = centred(&input(args, 3)?.tensor, opt_input(args, 5), None)?;
            let acc = ops::matmul(&x, &b, false, false)?;
            Ok(vec![plain(requantize(node, args, &acc, prepared, None)?)])
        }
        "QLinearConv" => {
            // w minus its zero point (a scalar, or one per output channel: w's first axis), made
            // at load where both are constants.
            let w = match node.output.first().and_then(|o| prepared.filters.get(o)) {
                Some(f) => f.clone(),
                None => centred_filter(&input(args, 3)?.tensor, opt_input(args, 5))?,
            };
            // w's scale: a scalar, or one per output channel.
            let per_channel = (w.rank() > 0).then(|| w.shape()[0]);
            let bias = opt_input(args, 8).map(|b| ops::cast(&b.tensor, DType::F32).map(plain)).transpose()?;
            let (xv, wv) = (plain(x), plain(w));
            let acc = conv(node, &[Some(&xv), Some(&wv), bias.as_ref()], None)?;
            Ok(vec![plain(requantize(node, args, &acc, prepared, per_channel)?)])
        }
        other => bail!(OP, "unsupported op '{other}'"),
    }
}

/// A filter w [M, ...] minus its zero point (a scalar, or one per output channel: w's first axis),
/// as float32.
pub(super) fn centred_filter(w: &Tensor, zero: Option<&Value>) -> Result<Tensor> {
    let m = (w.rank() > 0).then(|| w.shape()[0]);
    centred(w, zero, m.map(|m| (m, w.rank())))
}

/// An integer operand minus its zero point, as float32 (exact: both are at most 16-bit). A
/// zero point of more than one value lies along axis 0 of a tensor of rank `along` (per output
/// channel of a filter) when given, else along the last axis.
fn centred(x: &Tensor, zero: Option<&Value>, along: Option<(usize, usize)>) -> Result<Tensor> {
    let x = ops::cast(x, DType::F32)?;
    let Some(z) = zero else { return Ok(x) };
    let z = ops::cast(&z.tensor, DType::F32)?;
    if z.numel() == 1 {
        return ops::sub(&x, &ops::reshape(&z, &[])?);
    }
    match along {
        Some((m, rank)) if z.shape() == [m] => {
            let mut shape = vec![1i64; rank];
            shape[0] = m as i64;
            ops::sub(&x, &ops::reshape(&z, &shape)?)
        }
        Some((m, _)) => bail!(OP, "a per-channel zero point must be [{m}], got {:?}", z.shape()),
        None => ops::sub(&x, &z),
    }
}

/// acc (the integer sums, as float32) scaled by x_scale * w_scale / y_scale, rounded half to
/// even, plus y's zero point, saturated to y's type (held as int32). Both ops order their inputs
/// x, x_scale, x_zero, w, w_scale, w_zero, y_scale, y_zero; a per-channel w scale lies along
/// axis 1 of acc (a convolution's channels) when `channels` is given, else along its last axis.
fn requantize(node: &NodeProto, args: &[Option<&Value>], acc: &Tensor, prepared: &Prepared, channels: Option<usize>) -> Result<Tensor> {
    let (x_scale, w_scale, y_scale) = (&input(args, 1)?.tensor, &input(args, 4)?.tensor, &input(args, 6)?.tensor);
    let w_scale = match channels {
        Some(m) if w_scale.numel() > 1 => {
            if w_scale.shape() != [m] {
                bail!(OP, "{}: a per-channel weight scale must be [{m}], got {:?}", node.op_type, w_scale.shape());
            }
            let mut shape = vec![1i64; acc.rank()];
            shape[1] = m as i64;
            ops::reshape(w_scale, &shape)?
        }
        _ => w_scale.clone(),
    };
    for (s, what) in [(x_scale, "input scale"), (y_scale, "output scale")] {
        if s.numel() != 1 {
            bail!(OP, "{}: the {what} must be one value (per tensor), got {:?}", node.op_type, s.shape());
        }
    }
    let one = |t: &Tensor| ops::reshape(t, &[]);
    let multiplier = ops::div(&ops::mul(&one(x_scale)?, &w_scale)?, &one(y_scale)?)?;
    let mut q = ops::round(&ops::mul(acc, &multiplier)?)?;
    let zero_at = 7;
    if let Some(z) = opt_input(args, zero_at) {
        if z.tensor.numel() != 1 {
            bail!(OP, "{}: the output zero point must be one value, got {:?}", node.op_type, z.tensor.shape());
        }
        q = ops::add(&q, &one(&ops::cast(&z.tensor, DType::F32)?)?)?;
    }
    let ty = prepared.declared_int_type(node, zero_at, data_type::UINT8)?;
    let Some((lo, hi)) = data_type::int_range(ty) else { bail!(OP, "unsupported: {} to ONNX type {ty} (8-bit types are)", node.op_type) };
    ops::cast(&ops::clip(&q, lo as f32, hi as f32)?, DType::I32)
}
