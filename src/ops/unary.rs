//! Unary elementwise ops: one table row each (name, CPU f32 function, WGSL expression, and the
//! int32 variant where TF.js keeps ints as ints). Ops without an int variant compute int inputs
//! in float32, as TF.js does (`tf.exp(int32)` is float32).
use super::elementwise::{self, Gpu};
use crate::autograd::{mask, record, scalar, Grad};
use crate::ops::{add, cos, div, greater, greater_equal, less, less_equal, logical_and, mul, neg, sign, sin, sub, where_, zeros};
use crate::{DType, Result, Tensor};

pub struct UnaryOp {
    pub name: &'static str,
    /// f(x, alpha, beta): alpha/beta are the op's scalar parameters (leaky relu slope, clip range).
    pub f32: fn(f32, f32, f32) -> f32,
    /// The same in WGSL over `a`, `p.alpha`, `p.beta`.
    pub wgsl: &'static str,
    pub i32: Option<(fn(i32) -> i32, &'static str)>,
    /// d loss / d x from the input, the output and d loss / d output (`Grad`), and alpha, beta.
    pub grad: GradFn,
}

pub type GradFn = fn(&Grad, f32, f32) -> Result<Tensor>;

fn x<'a>(g: &'a Grad) -> &'a Tensor {
    &g.inputs[0]
}

/// Piecewise-constant ops (sign, floor, ...) have zero gradient, as in TF.js.
fn zero_grad(g: &Grad, _: f32, _: f32) -> Result<Tensor> {
    zeros(g.grad.device(), g.grad.shape(), DType::F32)
}

/// d relu(x) = dy where x > 0, else 0: one pass instead of compare, cast and multiply.
fn relu_grad(dy: &Tensor, x: &Tensor) -> Result<Tensor> {
    let expr = "select(0.0, a, b > 0.0)";
    elementwise::run("relu_grad", &[dy, x], dy.shape(), DType::F32, None, Gpu::new("relu_grad", expr), |w, _| {
        if f32::from_bits(w[1]) > 0.0 { w[0] } else { 0 }
    })
}

const SELU_ALPHA: f32 = 1.673_263_2;
const SELU_SCALE: f32 = 1.050_701;

/// erf by Abramowitz & Stegun 7.1.26, the same formula as `erf_approx` in common.wgsl.
pub fn erf_f32(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.3275911 * a);
    let y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * (-a * a).exp();
    if x < 0.0 { -y } else if x > 0.0 { y } else { 0.0 }
}

const FRAC_1_SQRT_2: f32 = std::f32::consts::FRAC_1_SQRT_2;

fn gelu_grad(g: &Grad, _: f32, _: f32) -> Result<Tensor> {
    // d/dx x Phi(x) = Phi(x) + x phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2, phi the normal pdf
    let x = x(g);
    let cdf = mul(&add(&scalar(x, 1.0)?, &crate::ops::erf(&mul(x, &scalar(x, FRAC_1_SQRT_2)?)?)?)?, &scalar(x, 0.5)?)?;
    let pdf = mul(&crate::ops::exp(&mul(&mul(x, x)?, &scalar(x, -0.5)?)?)?, &scalar(x, 0.398_942_3)?)?;
    mul(g.grad, &add(&cdf, &mul(x, &pdf)?)?)
}

fn sigmoid_f32(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

pub const UNARY: &[UnaryOp] = &[
    UnaryOp { name: "neg", f32: |x, _, _| -x, wgsl: "-a", i32: Some((i32::wrapping_neg, "-a")), grad: |g, _, _| neg(g.grad) },
    UnaryOp { name: "abs", f32: |x, _, _| x.abs(), wgsl: "abs(a)", i32: Some((i32::wrapping_abs, "abs(a)")), grad: |g, _, _| mul(g.grad, &sign(x(g))?) },
    UnaryOp { name: "exp", f32: |x, _, _| x.exp(), wgsl: "exp(a)", i32: None, grad: |g, _, _| mul(g.grad, g.out) },
    // WGSL leaves log/sqrt of 0 and of negatives undefined; pin them to IEEE as TF.js has them.
    UnaryOp {
        name: "log",
        f32: |x, _, _| x.ln(),
        wgsl: "select(select(log(a), f32_nan(), a < 0.0), -f32_inf(), a == 0.0)",
        i32: None,
        grad: |g, _, _| div(g.grad, x(g)),
    },
    UnaryOp { name: "sqrt", f32: |x, _, _| x.sqrt(), wgsl: "select(sqrt(a), f32_nan(), a < 0.0)", i32: None, grad: |g, _, _| div(g.grad, &mul(g.out, &scalar(g.out, 2.0)?)?) },
    UnaryOp {
        name: "rsqrt",
        f32: |x, _, _| 1.0 / x.sqrt(),
        wgsl: "select(select(1.0 / sqrt(a), f32_nan(), a < 0.0), f32_inf(), a == 0.0)",
        i32: None,
        grad: |g, _, _| mul(g.grad, &mul(&mul(g.out, &mul(g.out, g.out)?)?, &scalar(g.out, -0.5)?)?),
    },
    UnaryOp { name: "square", f32: |x, _, _| x * x, wgsl: "a * a", i32: Some((|x| x.wrapping_mul(x), "a * a")), grad: |g, _, _| mul(g.grad, &mul(x(g), &scalar(x(g), 2.0)?)?) },
    UnaryOp { name: "reciprocal", f32: |x, _, _| 1.0 / x, wgsl: "1.0 / a", i32: None, grad: |g, _, _| neg(&mul(g.grad, &mul(g.out, g.out)?)?) },
    UnaryOp { name: "relu", f32: |x, _, _| x.max(0.0), wgsl: "max(a, 0.0)", i32: Some((|x| x.max(0), "max(a, 0)")), grad: |g, _, _| relu_grad(g.grad, x(g)) },
    UnaryOp { name: "relu6", f32: |x, _, _| x.clamp(0.0, 6.0), wgsl: "clamp(a, 0.0, 6.0)", i32: None, grad: |g, _, _| mul(g.grad, &mask(logical_and(&greater(x(g), &scalar(x(g), 0.0)?)?, &less(x(g), &scalar(x(g), 6.0)?)?))?) },
    UnaryOp {
        name: "leaky_relu",
        f32: |x, alpha, _| if x >= 0.0 { x } else { alpha * x },
        wgsl: "select(p.alpha * a, a, a >= 0.0)",
        i32: None,
        grad: |g, alpha, _| mul(g.grad, &where_(&greater_equal(x(g), &scalar(x(g), 0.0)?)?, &scalar(x(g), 1.0)?, &scalar(x(g), alpha)?)?),
    },
    UnaryOp {
        name: "elu",
        f32: |x, _, _| if x > 0.0 { x } else { x.exp() - 1.0 },
        wgsl: "select(exp(a) - 1.0, a, a > 0.0)",
        i32: None,
        grad: |g, _, _| mul(g.grad, &where_(&greater(x(g), &scalar(x(g), 0.0)?)?, &scalar(x(g), 1.0)?, &add(g.out, &scalar(x(g), 1.0)?)?)?),
    },
    UnaryOp {
        name: "selu",
        f32: |x, _, _| SELU_SCALE * if x > 0.0 { x } else { SELU_ALPHA * (x.exp() - 1.0) },
        wgsl: "1.050701 * select(1.6732632 * (exp(a) - 1.0), a, a > 0.0)",
        i32: None,
        grad: |g, _, _| mul(g.grad, &where_(&greater(x(g), &scalar(x(g), 0.0)?)?, &scalar(x(g), SELU_SCALE)?, &add(g.out, &scalar(x(g), SELU_SCALE * SELU_ALPHA)?)?)?),
    },
    UnaryOp { name: "sigmoid", f32: |x, _, _| sigmoid_f32(x), wgsl: "1.0 / (1.0 + exp(-a))", i32: None, grad: |g, _, _| mul(g.grad, &mul(g.out, &sub(&scalar(g.out, 1.0)?, g.out)?)?) },
    // tanh(|x| > 20) is +-1 in f32; clamping keeps naive exp-based implementations from inf/inf.
    UnaryOp { name: "tanh", f32: |x, _, _| x.tanh(), wgsl: "tanh(clamp(a, -20.0, 20.0))", i32: None, grad: |g, _, _| mul(g.grad, &sub(&scalar(g.out, 1.0)?, &mul(g.out, g.out)?)?) },
    // log(1 + e^x) without overflow: max(x, 0) + log(1 + e^-|x|).
    UnaryOp {
        name: "softplus",
        f32: |x, _, _| x.max(0.0) + (1.0 + (-x.abs()).exp()).ln(),
        wgsl: "max(a, 0.0) + log(1.0 + exp(-abs(a)))",
        i32: None,
        grad: |g, _, _| mul(g.grad, &crate::ops::sigmoid(x(g))?),
    },
    UnaryOp {
        name: "erf",
        f32: |x, _, _| erf_f32(x),
        wgsl: "erf_approx(a)",
        i32: None,
        grad: |g, _, _| mul(g.grad, &mul(&crate::ops::exp(&neg(&mul(x(g), x(g))?)?)?, &scalar(x(g), std::f32::consts::FRAC_2_SQRT_PI)?)?),
    },
    // Exact GELU (TF.js `gelu`): x * (1 + erf(x / sqrt 2)) / 2.
    UnaryOp {
        name: "gelu",
        f32: |x, _, _| 0.5 * x * (1.0 + erf_f32(x * FRAC_1_SQRT_2)),
        wgsl: "0.5 * a * (1.0 + erf_approx(a * 0.70710678))",
        i32: None,
        grad: gelu_grad,
    },
    UnaryOp { name: "sin", f32: |x, _, _| x.sin(), wgsl: "sin(a)", i32: None, grad: |g, _, _| mul(g.grad, &cos(x(g))?) },
    UnaryOp { name: "cos", f32: |x, _, _| x.cos(), wgsl: "cos(a)", i32: None, grad: |g, _, _| neg(&mul(g.grad, &sin(x(g))?)?) },
    UnaryOp { name: "sign", f32: |x, _, _| if x > 0.0 { 1.0 } else if x < 0.0 { -1.0 } else { 0.0 }, wgsl: "sign(a)", i32: Some((i32::signum, "sign(a)")), grad: zero_grad },
    UnaryOp { name: "floor", f32: |x, _, _| x.floor(), wgsl: "floor(a)", i32: Some((|x| x, "a")), grad: zero_grad },
    UnaryOp { name: "ceil", f32: |x, _, _| x.ceil(), wgsl: "ceil(a)", i32: Some((|x| x, "a")), grad: zero_grad },
    // Half to even, like TF.js and WGSL's round.
    UnaryOp { name: "round", f32: |x, _, _| x.round_ties_even(), wgsl: "round(a)", i32: Some((|x| x, "a")), grad: zero_grad },
    UnaryOp { name: "clip", f32: |x, lo, hi| x.max(lo).min(hi), wgsl: "min(max(a, p.alpha), p.beta)", i32: None, grad: |g, lo, hi| mul(g.grad, &mask(logical_and(&greater_equal(x(g), &scalar(x(g), lo)?)?, &less_equal(x(g), &scalar(x(g), hi)?)?))?) },
];

pub fn find(name: &str) -> Option<&'static UnaryOp> {
    UNARY.iter().find(|op| op.name == name)
}

/// Applies the unary op `name` with scalar parameters `alpha`, `beta`.
pub fn unary(name: &str, x: &Tensor, alpha: f32, beta: f32) -> Result<Tensor> {
    let Some(op) = find(name) else { crate::bail!(name, "unknown unary op") };
    match (x.dtype(), op.i32) {
        (DType::I32 | DType::Bool, Some((f, expr))) => {
            let key = format!("{}:i32", op.name);
            elementwise::run(op.name, &[x], x.shape(), DType::I32, None, Gpu::new(&key, expr), |w, _| {
                f(w[0] as i32) as u32
            })
        }
        (DType::I32 | DType::Bool, None) => unary(name, &super::cast(x, DType::F32)?, alpha, beta),
        (DType::F32, _) => {
            let key = format!("{}:f32", op.name);
            let f = op.f32;
            let gpu = Gpu { alpha, beta, ..Gpu::new(&key, op.wgsl) };
            let out = elementwise::run(op.name, &[x], x.shape(), DType::F32, None, gpu, |w, _| {
                f(f32::from_bits(w[0]), alpha, beta).to_bits()
            })?;
            let grad = op.grad;
            Ok(record(op.name, out, &[x], move |g| Ok(vec![Some(grad(g, alpha, beta)?)])))
        }
    }
}
