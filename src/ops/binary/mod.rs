//! Binary elementwise ops with numpy broadcasting. Each is one file defining `DEF`, listed once in
//! the registry below. Operands of different dtypes are promoted first (float wins; bool computes
//! as int32), as TF.js does.
use crate::autograd::{record, unbroadcast_needed};
use crate::fusion::{gradient_exprs, Space, E};
use crate::shape::broadcast_shapes;
use crate::{Result, Tensor};

pub struct Binary {
    pub name: &'static str,
    /// The float32 function: the CPU kernel and the GPU's reference.
    pub f32: fn(f32, f32) -> f32,
    /// WGSL over `a: f32`, `b: f32`.
    pub wgsl: &'static str,
    /// An int32 variant (function, WGSL over `a: i32`, `b: i32`); `None` computes ints in float32.
    pub i32: Option<(fn(i32, i32) -> i32, &'static str)>,
    /// (d loss / d a, d loss / d b) at the output's (broadcast) shape; each is summed back to its
    /// input's shape afterwards.
    pub grad: Option<fn(&BinaryGrad) -> (E, E)>,
}

/// What a binary gradient rule is written over (all in the output's index space).
pub struct BinaryGrad {
    pub a: E,
    pub b: E,
    pub y: E,
    pub dy: E,
}

crate::op_family! {
    /// Every binary elementwise op.
    pub enum BinaryOp: Binary {
        Add => add,
        Sub => sub,
        Mul => mul,
        Div => div,
        Pow => pow,
        Maximum => maximum,
        Minimum => minimum,
        SquaredDifference => squared_difference,
        Mod => modulo,
        Atan2 => atan2,
        BitwiseAnd => bitwise_and,
    }
}

pub use pow::pow_ieee;

pub fn binary(op: BinaryOp, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let shape = broadcast_shapes(op.name(), a.shape(), b.shape())?;
    let space = Space::new(op.name(), &shape, &[a, b])?;
    let out = space.tensor(space.read(a)?.binary(op, &space.read(b)?))?;
    let Some(rule) = op.def().grad else { return Ok(out) };
    Ok(record(op.name(), out, &[a, b], move |g| {
        let (needs_a, needs_b) = (g.needs(0), g.needs(1));
        let d = gradient_exprs(op.name(), g.grad.shape(), &[&g.inputs[0], &g.inputs[1], g.out, g.grad], |e| {
            let (da, db) = rule(&BinaryGrad { a: e[0].clone(), b: e[1].clone(), y: e[2].clone(), dy: e[3].clone() });
            [(needs_a, da), (needs_b, db)].into_iter().filter(|(needed, _)| *needed).map(|(_, d)| d).collect()
        })?;
        unbroadcast_needed(g, d)
    }))
}

macro_rules! plain {
    ($($f:ident => $op:ident),*) => { $(
        pub fn $f(a: &Tensor, b: &Tensor) -> Result<Tensor> { binary(BinaryOp::$op, a, b) }
    )* };
}
plain!(add => Add, sub => Sub, mul => Mul, div => Div, pow => Pow, maximum => Maximum, minimum => Minimum,
    squared_difference => SquaredDifference, modulo => Mod, atan2 => Atan2, bitwise_and => BitwiseAnd);
