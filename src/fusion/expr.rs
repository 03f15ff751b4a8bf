//! The expression IR of elementwise work: a DAG whose leaves are realized tensors (read through a
//! broadcast pattern), scalar constants, coordinates and random draws, and whose inner nodes are
//! the registered elementwise ops. Every node of one DAG lives in one flat index space: node
//! value number `i` is output element `i`.
//!
//! `E` builds these DAGs: the ops' front doors use it, and so do gradient rules, which are
//! written as ordinary arithmetic (`dy * (1.0 - y * y)`) and so become one fused kernel.
use std::cell::RefCell;
use std::ops::{Add, Div, Mul, Neg, Sub};
use std::rc::{Rc, Weak};

use crate::ops::binary::BinaryOp;
use crate::ops::compare::CompareOp;
use crate::ops::unary::UnaryOp;
use crate::tensor::Storage;
use crate::DType;

/// How a leaf is read at flat index `i` of the expression's index space.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Read {
    /// Element `i`: the leaf has the index space's shape.
    Same,
    /// Element 0: a one-element leaf.
    Scalar,
    /// Element `(i / inner) % size`: a leaf repeated over leading dimensions (a bias: `inner` 1),
    /// over trailing ones (per-row statistics: `size * inner` is the whole space), or both.
    Block { inner: u32, size: u32 },
    /// Any other broadcast: element `sum_d coord_d(i) * strides[d]` over the space's `dims`.
    Strided { dims: Vec<u32>, strides: Vec<u32> },
}

pub enum Node {
    /// A realized tensor's storage (never a pending one: leaves are realized when captured).
    Leaf { storage: Rc<Storage>, read: Read },
    /// A scalar constant, as the 32-bit word of the node's dtype.
    Const(u32),
    /// The coordinate `(i / stride) % size` along one axis of the index space (int32).
    Coord { stride: u32, size: u32 },
    /// A counter-based random draw at element `i` (float32): uniform in [0, 1) or standard normal.
    Rand { normal: bool, seed: u32 },
    Unary { op: UnaryOp, x: Rc<Expr>, alpha: f32, beta: f32 },
    Binary { op: BinaryOp, a: Rc<Expr>, b: Rc<Expr> },
    Compare { op: CompareOp, a: Rc<Expr>, b: Rc<Expr> },
    Select { cond: Rc<Expr>, a: Rc<Expr>, b: Rc<Expr> },
    /// Conversion of `x` to this node's dtype.
    Cast { x: Rc<Expr> },
}

pub struct Expr {
    pub node: Node,
    pub dtype: DType,
    /// Whether the value depends on the element index (a leaf, coordinate or random draw below);
    /// an expression of constants alone means the same in any index space.
    pub indexed: bool,
    /// Upper bounds of the instructions and leaves of the DAG below (shared nodes counted each
    /// time they are used): when they are within a kernel's limits, the exact count is not needed.
    pub size_bound: u32,
    pub leaf_bound: u32,
    /// The pending storage made for exactly this expression over an index space of this many
    /// elements, if it is alive: asking for the same expression again (both operands of an add
    /// get the same gradient) shares it.
    pub(crate) owner: RefCell<(Weak<Storage>, usize)>,
}

impl Expr {
    /// The direct operands.
    pub fn children(&self) -> Vec<&Rc<Expr>> {
        match &self.node {
            Node::Leaf { .. } | Node::Const(_) | Node::Coord { .. } | Node::Rand { .. } => vec![],
            Node::Unary { x, .. } | Node::Cast { x } => vec![x],
            Node::Binary { a, b, .. } | Node::Compare { a, b, .. } => vec![a, b],
            Node::Select { cond, a, b } => vec![cond, a, b],
        }
    }

    pub fn is_leaf(&self) -> bool {
        matches!(self.node, Node::Leaf { .. })
    }
}

/// An elementwise expression under construction (cheap to clone). Building never fails: shapes
/// were checked when the index space was chosen, and dtypes are promoted here as TF.js does.
#[derive(Clone)]
pub struct E(pub(crate) Rc<Expr>);

fn node(node: Node, dtype: DType) -> E {
    E(Rc::new(Expr::new(node, dtype)))
}

impl Expr {
    pub(crate) fn new(node: Node, dtype: DType) -> Expr {
        let terminal = matches!(node, Node::Leaf { .. } | Node::Coord { .. } | Node::Rand { .. });
        let leaf = matches!(node, Node::Leaf { .. }) as u32;
        let mut e = Expr { node, dtype, indexed: terminal, size_bound: 1, leaf_bound: leaf, owner: RefCell::new((Weak::new(), 0)) };
        let (mut indexed, mut size, mut leaves) = (terminal, 1u32, leaf);
        for c in e.children() {
            indexed |= c.indexed;
            size = size.saturating_add(c.size_bound);
            leaves = leaves.saturating_add(c.leaf_bound);
        }
        (e.indexed, e.size_bound, e.leaf_bound) = (indexed, size, leaves);
        e
    }
}

impl E {
    pub fn dtype(&self) -> DType {
        self.0.dtype
    }

    pub(crate) fn leaf(storage: Rc<Storage>, dtype: DType, read: Read) -> E {
        node(Node::Leaf { storage, read }, dtype)
    }

    /// A constant of `dtype` (converted as `fill` converts it).
    pub fn constant(value: f64, dtype: DType) -> E {
        let bits = match dtype {
            DType::F32 => (value as f32).to_bits(),
            // Half values are held as the float32 of the nearest half.
            DType::F16 => half::f16::from_f64(value).to_f32().to_bits(),
            DType::I32 => value as i32 as u32,
            DType::Bool => (value != 0.0) as u32,
        };
        node(Node::Const(bits), dtype)
    }

    pub fn f32(value: f32) -> E {
        E::constant(value as f64, DType::F32)
    }

    /// The int32 coordinate `(i / stride) % size` of each element.
    pub fn coord(stride: usize, size: usize) -> E {
        node(Node::Coord { stride: stride as u32, size: size as u32 }, DType::I32)
    }

    pub fn random(normal: bool, seed: u32) -> E {
        node(Node::Rand { normal, seed }, DType::F32)
    }

    /// This value as `to` (float to int truncates toward zero and saturates, NaN is 0; nonzero is
    /// true).
    pub fn cast(&self, to: DType) -> E {
        if self.dtype() == to {
            return self.clone();
        }
        node(Node::Cast { x: self.0.clone() }, to)
    }

    /// The unary op with scalar parameters `alpha`, `beta`. Int inputs stay int where the op has
    /// an int32 variant and are computed in float32 otherwise (TF.js: `tf.exp(int32)` is float).
    pub fn unary(&self, op: UnaryOp, alpha: f32, beta: f32) -> E {
        let x = match (self.dtype(), op.def().i32.is_some()) {
            (t, _) if t.is_float() => self.cast(DType::F32),
            (_, true) => self.cast(DType::I32),
            (_, false) => self.cast(DType::F32),
        };
        let dtype = x.dtype();
        node(Node::Unary { op, x: x.0, alpha, beta }, dtype)
    }

    /// Both operands promoted to their common dtype (float wins; bool computes as int32).
    fn promoted(&self, other: &E) -> (E, E) {
        let t = DType::promote(self.dtype(), other.dtype());
        (self.cast(t), other.cast(t))
    }

    pub fn binary(&self, op: BinaryOp, other: &E) -> E {
        let (mut a, mut b) = self.promoted(other);
        if a.dtype() != DType::F32 && op.def().i32.is_none() {
            a = a.cast(DType::F32);
            b = b.cast(DType::F32);
        }
        let dtype = a.dtype();
        node(Node::Binary { op, a: a.0, b: b.0 }, dtype)
    }

    pub fn compare(&self, op: CompareOp, other: &E) -> E {
        let (a, b) = self.promoted(other);
        node(Node::Compare { op, a: a.0, b: b.0 }, DType::Bool)
    }

    /// `a` where `cond` is true (nonzero), else `b`.
    pub fn select(cond: &E, a: &E, b: &E) -> E {
        let (a, b) = a.promoted(b);
        let dtype = a.dtype();
        node(Node::Select { cond: cond.cast(DType::Bool).0, a: a.0, b: b.0 }, dtype)
    }

    // ---- shorthands for gradient rules ----------------------------------------------------------

    pub fn gt(&self, v: impl Into<E>) -> E {
        self.compare(CompareOp::Greater, &v.into())
    }
    pub fn ge(&self, v: impl Into<E>) -> E {
        self.compare(CompareOp::GreaterEqual, &v.into())
    }
    pub fn lt(&self, v: impl Into<E>) -> E {
        self.compare(CompareOp::Less, &v.into())
    }
    pub fn le(&self, v: impl Into<E>) -> E {
        self.compare(CompareOp::LessEqual, &v.into())
    }
    pub fn eq(&self, v: impl Into<E>) -> E {
        self.compare(CompareOp::Equal, &v.into())
    }
    pub fn and(&self, v: impl Into<E>) -> E {
        self.compare(CompareOp::LogicalAnd, &v.into())
    }
    /// 1.0 where this (bool) is true, else 0.0.
    pub fn mask(&self) -> E {
        self.cast(DType::F32)
    }
    pub fn apply(&self, op: UnaryOp) -> E {
        self.unary(op, 0.0, 0.0)
    }
}

impl From<f32> for E {
    fn from(v: f32) -> E {
        E::f32(v)
    }
}

/// Float literals in gradient rules (`x * 0.5`) are f64 until inferred; they are f32 constants.
impl From<f64> for E {
    fn from(v: f64) -> E {
        E::f32(v as f32)
    }
}

impl From<&E> for E {
    fn from(v: &E) -> E {
        v.clone()
    }
}

/// `where(cond, a, b)` for gradient rules.
pub fn select(cond: &E, a: impl Into<E>, b: impl Into<E>) -> E {
    E::select(cond, &a.into(), &b.into())
}

macro_rules! unary_fns {
    ($($f:ident => $op:ident),*) => { $(
        pub fn $f(x: impl Into<E>) -> E { x.into().apply(UnaryOp::$op) }
    )* };
}
unary_fns!(exp => Exp, log => Log, sqrt => Sqrt, erf => Erf, sigmoid => Sigmoid, tanh => Tanh, sign => Sign, cos => Cos, sin => Sin, abs => Abs);

macro_rules! arith {
    ($tr:ident, $m:ident, $op:ident) => {
        impl $tr<E> for E {
            type Output = E;
            fn $m(self, rhs: E) -> E {
                self.binary(BinaryOp::$op, &rhs)
            }
        }
        impl $tr<&E> for &E {
            type Output = E;
            fn $m(self, rhs: &E) -> E {
                self.binary(BinaryOp::$op, rhs)
            }
        }
        impl $tr<&E> for E {
            type Output = E;
            fn $m(self, rhs: &E) -> E {
                self.binary(BinaryOp::$op, rhs)
            }
        }
        impl $tr<E> for &E {
            type Output = E;
            fn $m(self, rhs: E) -> E {
                self.binary(BinaryOp::$op, &rhs)
            }
        }
        arith!(@scalar $tr, $m, $op, f32);
        arith!(@scalar $tr, $m, $op, f64);
    };
    // With a float constant on either side (f64: literals in rules are f64 until inferred).
    (@scalar $tr:ident, $m:ident, $op:ident, $s:ty) => {
        impl $tr<$s> for E {
            type Output = E;
            fn $m(self, rhs: $s) -> E {
                self.binary(BinaryOp::$op, &E::from(rhs))
            }
        }
        impl $tr<$s> for &E {
            type Output = E;
            fn $m(self, rhs: $s) -> E {
                self.binary(BinaryOp::$op, &E::from(rhs))
            }
        }
        impl $tr<E> for $s {
            type Output = E;
            fn $m(self, rhs: E) -> E {
                E::from(self).binary(BinaryOp::$op, &rhs)
            }
        }
        impl $tr<&E> for $s {
            type Output = E;
            fn $m(self, rhs: &E) -> E {
                E::from(self).binary(BinaryOp::$op, rhs)
            }
        }
    };
}
arith!(Add, add, Add);
arith!(Sub, sub, Sub);
arith!(Mul, mul, Mul);
arith!(Div, div, Div);

impl Neg for E {
    type Output = E;
    fn neg(self) -> E {
        self.apply(UnaryOp::Neg)
    }
}

impl Neg for &E {
    type Output = E;
    fn neg(self) -> E {
        self.apply(UnaryOp::Neg)
    }
}
