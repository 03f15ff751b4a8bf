//! Comparison and logical ops: broadcast like binary ops and give bool tensors; no gradient.
//! Each is one file defining `DEF`, listed once in the registry below.
use crate::fusion::{Space, E};
use crate::shape::broadcast_shapes;
use crate::{DType, Result, Tensor};

pub struct Compare {
    pub name: &'static str,
    pub f32: fn(f32, f32) -> bool,
    pub i32: fn(i32, i32) -> bool,
    /// WGSL over `a`, `b` (both f32 or both i32), giving a bool. Float comparisons are made
    /// false for NaN operands by the kernel generator (not_equal true), unless `logical`.
    pub wgsl: &'static str,
    /// A logical op (operands are truth values, nonzero is true).
    pub logical: bool,
}

crate::op_family! {
    /// Every comparison and logical op.
    pub enum CompareOp: Compare {
        Equal => equal,
        NotEqual => not_equal,
        Less => less,
        LessEqual => less_equal,
        Greater => greater,
        GreaterEqual => greater_equal,
        LogicalAnd => logical_and,
        LogicalOr => logical_or,
    }
}

pub fn compare(op: CompareOp, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let shape = broadcast_shapes(op.name(), a.shape(), b.shape())?;
    let space = Space::new(op.name(), &shape, &[a, b])?;
    space.tensor(space.read(a)?.compare(op, &space.read(b)?))
}

/// Elementwise logical not (of bools, or of numbers: nonzero is true).
pub fn logical_not(x: &Tensor) -> Result<Tensor> {
    let space = Space::new("logical_not", x.shape(), &[x])?;
    let truth = space.read(x)?.cast(DType::Bool);
    space.tensor(truth.compare(CompareOp::Equal, &E::constant(0.0, DType::Bool)))
}

macro_rules! plain {
    ($($f:ident => $op:ident),*) => { $(
        pub fn $f(a: &Tensor, b: &Tensor) -> Result<Tensor> { compare(CompareOp::$op, a, b) }
    )* };
}
plain!(equal => Equal, not_equal => NotEqual, less => Less, less_equal => LessEqual, greater => Greater,
    greater_equal => GreaterEqual, logical_and => LogicalAnd, logical_or => LogicalOr);
