//! Unary elementwise ops. Each is one file defining `DEF`, listed once in the registry below.
//! They run fused (src/fusion): a chain of them, and of the other elementwise ops, is one kernel.
use crate::autograd::record;
use crate::fusion::{gradient_exprs, Space, E};
use crate::{bail, DType, Result, Tensor};

pub struct Unary {
    /// The engine's name (snake case).
    pub name: &'static str,
    /// How many scalar parameters (`alpha`, `beta`) it takes: leaky relu's slope, clip's range.
    pub params: usize,
    /// The float32 function of x, alpha, beta: the CPU kernel, and the reference the GPU is
    /// tested against.
    pub f32: fn(f32, f32, f32) -> f32,
    /// The same as a WGSL expression over `x: f32`, `alpha`, `beta` (helpers from
    /// shaders/common.wgsl may be called).
    pub wgsl: &'static str,
    /// An int32 variant (function of x, alpha, beta; WGSL over `x: i32`, `alpha: f32`,
    /// `beta: f32`) where TF.js keeps ints as ints; without one, int inputs are computed in float32.
    pub i32: Option<(fn(i32, f32, f32) -> i32, &'static str)>,
    /// d loss / d x as an expression of x, y = f(x) and dy (so the whole backward is one fused
    /// kernel); `None`: the op has no gradient.
    pub grad: Option<fn(&UnaryGrad) -> E>,
}

/// What a unary gradient rule is written over (all in the output's index space).
pub struct UnaryGrad {
    pub x: E,
    pub y: E,
    pub dy: E,
    pub alpha: f32,
    pub beta: f32,
}

crate::op_family! {
    /// Every unary elementwise op.
    pub enum UnaryOp: Unary {
        Neg => neg,
        Abs => abs,
        Exp => exp,
        Log => log,
        Sqrt => sqrt,
        Rsqrt => rsqrt,
        Square => square,
        Reciprocal => reciprocal,
        Relu => relu,
        Relu6 => relu6,
        LeakyRelu => leaky_relu,
        Elu => elu,
        Selu => selu,
        Sigmoid => sigmoid,
        Tanh => tanh,
        Softplus => softplus,
        Erf => erf,
        Gelu => gelu,
        Sin => sin,
        Cos => cos,
        Sign => sign,
        Floor => floor,
        Ceil => ceil,
        Round => round,
        Clip => clip,
        LogSigmoid => log_sigmoid,
        GeluTanh => gelu_tanh,
        Silu => silu,
        Tan => tan,
        Asin => asin,
        Acos => acos,
        Atan => atan,
        Sinh => sinh,
        Cosh => cosh,
        Asinh => asinh,
        Acosh => acosh,
        Atanh => atanh,
        Log1p => log1p,
        Expm1 => expm1,
        RoundF16 => round_f16,
    }
}

pub use erf::erf_f32;
mod fast_math;
pub use fast_math::{exp_f32, max_f32, min_f32, tanh_f32};

/// Applies `op` with scalar parameters `alpha`, `beta` (ignored by ops that take none).
pub fn unary(op: UnaryOp, x: &Tensor, alpha: f32, beta: f32) -> Result<Tensor> {
    let space = Space::new(op.name(), x.shape(), &[x])?;
    let out = space.tensor(space.read(x)?.unary(op, alpha, beta))?;
    let Some(rule) = op.def().grad else { return Ok(out) };
    Ok(record(op.name(), out, &[x], move |g| {
        let dx = gradient_exprs(op.name(), g.grad.shape(), &[&g.inputs[0], g.out, g.grad], |e| {
            vec![rule(&UnaryGrad { x: e[0].clone(), y: e[1].clone(), dy: e[2].clone(), alpha, beta })]
        })?;
        Ok(dx.into_iter().map(Some).collect())
    }))
}

macro_rules! plain {
    ($($f:ident => $op:ident),*) => { $(
        pub fn $f(x: &Tensor) -> Result<Tensor> { unary(UnaryOp::$op, x, 0.0, 0.0) }
    )* };
}
plain!(neg => Neg, abs => Abs, exp => Exp, log => Log, sqrt => Sqrt, rsqrt => Rsqrt, square => Square,
    reciprocal => Reciprocal, relu => Relu, relu6 => Relu6, elu => Elu, selu => Selu, sigmoid => Sigmoid,
    tanh => Tanh, softplus => Softplus, erf => Erf, gelu => Gelu, sin => Sin, cos => Cos, sign => Sign,
    floor => Floor, ceil => Ceil, round => Round, log_sigmoid => LogSigmoid, gelu_tanh => GeluTanh, silu => Silu,
    tan => Tan, asin => Asin, acos => Acos, atan => Atan, sinh => Sinh, cosh => Cosh, asinh => Asinh, acosh => Acosh,
    atanh => Atanh, log1p => Log1p, expm1 => Expm1);

pub fn leaky_relu(x: &Tensor, alpha: f32) -> Result<Tensor> {
    unary(UnaryOp::LeakyRelu, x, alpha, 0.0)
}

pub fn clip(x: &Tensor, min: f32, max: f32) -> Result<Tensor> {
    if min > max {
        bail!("clip", "min {} is greater than max {}", min, max);
    }
    unary(UnaryOp::Clip, x, min, max)
}

/// The zero gradient of piecewise-constant ops (sign, floor, ...), as TF.js has it.
pub(crate) fn zero(_: &UnaryGrad) -> E {
    E::constant(0.0, DType::F32)
}
