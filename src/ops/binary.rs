//! Binary elementwise ops with broadcasting, one table row each. Operands of different dtypes
//! are promoted first (float wins; bool computes as int32), like TF.js.
use super::elementwise::{self, Gpu};
use crate::autograd::{mask, record, scalar, unbroadcast2, Grad};
use crate::ops::{div, greater, greater_equal, less, less_equal, log, mul, neg, pow, sub, where_};
use crate::shape::broadcast_shapes;
use crate::{DType, Result, Tensor};

pub struct BinaryOp {
    pub name: &'static str,
    pub f32: fn(f32, f32) -> f32,
    pub wgsl: &'static str,
    /// Int32 variant; `None` computes int operands in float32.
    pub i32: Option<(fn(i32, i32) -> i32, &'static str)>,
    /// (d loss / d a, d loss / d b) at the output's (broadcast) shape.
    pub grad: fn(&Grad) -> Result<(Tensor, Tensor)>,
}

fn ab<'a>(g: &'a Grad) -> (&'a Tensor, &'a Tensor) {
    (&g.inputs[0], &g.inputs[1])
}

fn pow_grad(g: &Grad) -> Result<(Tensor, Tensor)> {
    let (a, b) = ab(g);
    let one = scalar(a, 1.0)?;
    let ga = mul(g.grad, &mul(b, &pow(a, &sub(b, &one)?)?)?)?;
    // d/db a^b = a^b ln a, taken as 0 where a <= 0 (as TF.js does)
    let zero = scalar(a, 0.0)?;
    let safe_log = where_(&greater(a, &zero)?, &log(&where_(&greater(a, &zero)?, a, &one)?)?, &zero)?;
    let gb = mul(g.grad, &mul(g.out, &safe_log)?)?;
    Ok((ga, gb))
}

/// TF.js floorDiv on int32: rounds toward -inf; x / 0 is 0 (WGSL leaves it undefined).
fn floor_div_i32(a: i32, b: i32) -> i32 {
    if b == 0 {
        return 0;
    }
    let q = a.wrapping_div(b);
    let r = a.wrapping_sub(q.wrapping_mul(b));
    if r != 0 && ((r < 0) != (b < 0)) { q - 1 } else { q }
}

/// pow with IEEE semantics for negative bases and zero exponents (mirrors `pow_ieee` in WGSL).
pub fn pow_ieee(a: f32, b: f32) -> f32 {
    if b == 0.0 {
        1.0
    } else if a < 0.0 {
        if b.fract() != 0.0 {
            f32::NAN
        } else {
            let r = (-a).powf(b);
            if (b * 0.5).fract() != 0.0 { -r } else { r }
        }
    } else {
        a.powf(b)
    }
}

pub const BINARY: &[BinaryOp] = &[
    BinaryOp { name: "add", f32: |a, b| a + b, wgsl: "a + b", i32: Some((i32::wrapping_add, "a + b")), grad: |g| Ok((g.grad.clone(), g.grad.clone())) },
    BinaryOp { name: "sub", f32: |a, b| a - b, wgsl: "a - b", i32: Some((i32::wrapping_sub, "a - b")), grad: |g| Ok((g.grad.clone(), neg(g.grad)?)) },
    BinaryOp { name: "mul", f32: |a, b| a * b, wgsl: "a * b", i32: Some((i32::wrapping_mul, "a * b")), grad: |g| { let (a, b) = ab(g); Ok((mul(g.grad, b)?, mul(g.grad, a)?)) } },
    BinaryOp { name: "div", f32: |a, b| a / b, wgsl: "a / b", i32: Some((floor_div_i32, "floor_div_i32(a, b)")), grad: |g| { let (a, b) = ab(g); Ok((div(g.grad, b)?, neg(&div(&mul(g.grad, a)?, &mul(b, b)?)?)?)) } },
    BinaryOp { name: "pow", f32: pow_ieee, wgsl: "pow_ieee(a, b)", i32: None, grad: pow_grad },
    BinaryOp { name: "maximum", f32: f32::max, wgsl: "max(a, b)", i32: Some((i32::max, "max(a, b)")), grad: |g| { let (a, b) = ab(g); Ok((mul(g.grad, &mask(greater_equal(a, b))?)?, mul(g.grad, &mask(less(a, b))?)?)) } },
    BinaryOp { name: "minimum", f32: f32::min, wgsl: "min(a, b)", i32: Some((i32::min, "min(a, b)")), grad: |g| { let (a, b) = ab(g); Ok((mul(g.grad, &mask(less_equal(a, b))?)?, mul(g.grad, &mask(greater(a, b))?)?)) } },
    BinaryOp {
        name: "squared_difference",
        f32: |a, b| (a - b) * (a - b),
        wgsl: "(a - b) * (a - b)",
        i32: Some((|a, b| a.wrapping_sub(b).wrapping_mul(a.wrapping_sub(b)), "(a - b) * (a - b)")),
        grad: |g| { let (a, b) = ab(g); let d = mul(g.grad, &mul(&sub(a, b)?, &scalar(a, 2.0)?)?)?; Ok((d.clone(), neg(&d)?)) },
    },
];

pub fn find(name: &str) -> Option<&'static BinaryOp> {
    BINARY.iter().find(|op| op.name == name)
}

/// Casts both operands to their common dtype (no copy when they already agree).
pub fn promote(a: &Tensor, b: &Tensor) -> Result<(Tensor, Tensor, DType)> {
    let t = DType::promote(a.dtype(), b.dtype());
    let ca = if a.dtype() == t { a.clone() } else { super::cast(a, t)? };
    let cb = if b.dtype() == t { b.clone() } else { super::cast(b, t)? };
    Ok((ca, cb, t))
}

pub fn binary(name: &str, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let Some(op) = find(name) else { crate::bail!(name, "unknown binary op") };
    let out_shape = broadcast_shapes(op.name, a.shape(), b.shape())?;
    crate::tensor::common_device(op.name, &[a, b])?;
    let (a, b, t) = promote(a, b)?;
    match (t, op.i32) {
        (DType::F32, _) | (_, None) => {
            let (a, b) = if t == DType::F32 { (a, b) } else { (super::cast(&a, DType::F32)?, super::cast(&b, DType::F32)?) };
            let key = format!("{}:f32", op.name);
            let f = op.f32;
            let out = elementwise::run(op.name, &[&a, &b], &out_shape, DType::F32, None, Gpu::new(&key, op.wgsl), |w, _| {
                f(f32::from_bits(w[0]), f32::from_bits(w[1])).to_bits()
            })?;
            let grad = op.grad;
            Ok(record(op.name, out, &[&a, &b], move |g| {
                let (ga, gb) = grad(g)?;
                unbroadcast2(&g.inputs[0], &g.inputs[1], g.needs(0).then_some(ga), g.needs(1).then_some(gb))
            }))
        }
        (_, Some((f, expr))) => {
            let key = format!("{}:i32", op.name);
            elementwise::run(op.name, &[&a, &b], &out_shape, DType::I32, None, Gpu::new(&key, expr), |w, _| {
                f(w[0] as i32, w[1] as i32) as u32
            })
        }
    }
}
