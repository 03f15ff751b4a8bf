//! An expression DAG laid out for execution: its nodes in dependency order (each computed once,
//! however often it is used), its distinct leaf buffers in binding order, and the uniform words
//! (constants, parameters, broadcast geometry) it reads. The kernel cache key is derived from the
//! structure alone (never from values or sizes), so one compiled kernel serves every shape and
//! every constant of the same expression. Both backends run a `Program`: the GPU as generated
//! WGSL (codegen.rs), the CPU block by block (cpu.rs).
use std::fmt::Write;
use std::rc::Rc;

use super::expr::{Expr, Node, Read};
use crate::ops::binary::BinaryOp;
use crate::ops::compare::CompareOp;
use crate::ops::unary::UnaryOp;
use crate::tensor::Storage;
use crate::DType;

/// How an instruction reads its leaf buffer at flat index i.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Load {
    Same,
    Scalar,
    /// `i % words[w]`
    Mod(usize),
    /// `i / words[w]`
    Div(usize),
    /// `(i / words[w]) % words[w + 1]`
    Block(usize),
    /// through strided geometry `s` (its rank at `words[w]`)
    Strided { s: usize, w: usize },
}

#[derive(Clone, Debug)]
pub enum Inst {
    Load { buffer: usize, load: Load },
    /// The constant in `words[w]`.
    Const(usize),
    /// `(i / words[w]) % words[w + 1]`
    Coord(usize),
    /// Seed in `words[w]`.
    Rand { normal: bool, w: usize },
    /// Parameters alpha, beta in `words[w]`, `words[w + 1]` (when the op takes them).
    Unary { op: UnaryOp, x: usize, w: usize },
    Binary { op: BinaryOp, a: usize, b: usize },
    Compare { op: CompareOp, a: usize, b: usize },
    Select { cond: usize, a: usize, b: usize },
    Cast { x: usize },
}

pub struct Program {
    /// Instructions in dependency order; the last one is the result.
    pub insts: Vec<Inst>,
    /// The dtype of each instruction's value.
    pub dtypes: Vec<DType>,
    /// Distinct leaf storages, in binding order, with the dtype each is read as.
    pub buffers: Vec<(Rc<Storage>, DType)>,
    /// Uniform words: constants' bits, op parameters, divisors, seeds, ranks.
    pub words: Vec<u32>,
    /// Strided geometries: (dims of the index space, strides into the leaf), up to MAX_RANK each.
    pub strided: Vec<(Vec<u32>, Vec<u32>)>,
    /// Elements in the index space.
    pub n: usize,
}

impl Program {
    /// Lays out the DAG under `root` over an index space of `n` elements.
    pub fn new(root: &Rc<Expr>, n: usize) -> Program {
        let mut b = Builder { p: Program { insts: vec![], dtypes: vec![], buffers: vec![], words: vec![], strided: vec![], n }, seen: Seen::default() };
        // Iterative post-order: expressions can be deep (a long chain of accumulations).
        let mut stack: Vec<(&Rc<Expr>, bool)> = vec![(root, false)];
        while let Some((e, expanded)) = stack.pop() {
            let id = Rc::as_ptr(e);
            if b.seen.get(id).is_some() {
                continue;
            }
            if expanded {
                let i = b.emit(e);
                b.seen.insert(id, i);
                continue;
            }
            stack.push((e, true));
            for c in e.children().into_iter().rev() {
                if b.seen.get(Rc::as_ptr(c)).is_none() {
                    stack.push((c, false));
                }
            }
        }
        b.p
    }

    /// The structure, for the kernel cache (and profiles): no values, no sizes. E.g.
    /// `0=in0:float32;1=in1@mod:float32;2=add(0,1):float32;`: each instruction with its operands
    /// and dtype, and how each buffer is read.
    pub fn key(&self) -> String {
        key(self)
    }

    pub fn out_dtype(&self) -> DType {
        *self.dtypes.last().expect("a program has at least one instruction")
    }

    /// The uniform block the generated `Fused` struct declares: `k` (the words, in whole vec4s,
    /// at least one), then each strided geometry's dims and strides (MAX_RANK words each).
    pub fn uniform_bytes(&self) -> Vec<u8> {
        let mut words = self.words.clone();
        words.resize(self.word_vec4s() * 4, 0);
        for (dims, strides) in &self.strided {
            for v in [dims, strides] {
                let mut padded = v.clone();
                padded.resize(crate::shape::MAX_RANK, 0);
                words.extend(padded);
            }
        }
        bytemuck::cast_slice(&words).to_vec()
    }

    pub fn word_vec4s(&self) -> usize {
        self.words.len().div_ceil(4).max(1)
    }
}

struct Builder {
    p: Program,
    seen: Seen,
}

/// Nodes already emitted, by identity: a short list searched linearly (expressions are kept to a
/// few dozen nodes, where this beats hashing).
#[derive(Default)]
struct Seen(Vec<(*const Expr, usize)>);

impl Seen {
    fn get(&self, e: *const Expr) -> Option<usize> {
        self.0.iter().find(|(k, _)| *k == e).map(|&(_, i)| i)
    }

    fn insert(&mut self, e: *const Expr, i: usize) {
        self.0.push((e, i));
    }
}

impl Builder {
    fn word(&mut self, w: u32) -> usize {
        self.p.words.push(w);
        self.p.words.len() - 1
    }

    fn id(&self, e: &Rc<Expr>) -> usize {
        self.seen.get(Rc::as_ptr(e)).expect("operands are emitted first")
    }

    fn emit(&mut self, e: &Rc<Expr>) -> usize {
        let inst = match &e.node {
            Node::Leaf { storage, read } => {
                let buffer = match self.p.buffers.iter().position(|(s, t)| Rc::ptr_eq(s, storage) && t.storage_wgsl() == e.dtype.storage_wgsl()) {
                    Some(b) => b,
                    None => {
                        self.p.buffers.push((storage.clone(), e.dtype));
                        self.p.buffers.len() - 1
                    }
                };
                let load = match read {
                    Read::Same => Load::Same,
                    Read::Scalar => Load::Scalar,
                    Read::Block { inner: 1, size } => Load::Mod(self.word(*size)),
                    Read::Block { inner, size } if (*inner as usize) * (*size as usize) == self.p.n => Load::Div(self.word(*inner)),
                    Read::Block { inner, size } => {
                        let w = self.word(*inner);
                        self.word(*size);
                        Load::Block(w)
                    }
                    Read::Strided { dims, strides } => {
                        let w = self.word(dims.len() as u32);
                        self.p.strided.push((dims.clone(), strides.clone()));
                        Load::Strided { s: self.p.strided.len() - 1, w }
                    }
                };
                Inst::Load { buffer, load }
            }
            Node::Const(bits) => Inst::Const(self.word(*bits)),
            Node::Coord { stride, size } => {
                let w = self.word(*stride);
                self.word(*size);
                Inst::Coord(w)
            }
            Node::Rand { normal, seed } => Inst::Rand { normal: *normal, w: self.word(*seed) },
            Node::Unary { op, x, alpha, beta } => {
                let w = self.p.words.len();
                if op.def().params > 0 {
                    self.word(alpha.to_bits());
                    self.word(beta.to_bits());
                }
                Inst::Unary { op: *op, x: self.id(x), w }
            }
            Node::Binary { op, a, b } => Inst::Binary { op: *op, a: self.id(a), b: self.id(b) },
            Node::Compare { op, a, b } => Inst::Compare { op: *op, a: self.id(a), b: self.id(b) },
            Node::Select { cond, a, b } => Inst::Select { cond: self.id(cond), a: self.id(a), b: self.id(b) },
            Node::Cast { x } => Inst::Cast { x: self.id(x) },
        };
        self.p.insts.push(inst);
        self.p.dtypes.push(e.dtype);
        self.p.insts.len() - 1
    }
}

/// e.g. `f32 a0:f32 a1:f32%;n2=gelu(n0);n3=mul(n2,n1)`: the buffers' types and read patterns and
/// each instruction with its operands and dtype.
fn key(p: &Program) -> String {
    let mut k = String::new();
    let t = |d: DType| d.name();
    for (i, inst) in p.insts.iter().enumerate() {
        let d = t(p.dtypes[i]);
        let _ = match inst {
            Inst::Load { buffer, load } => {
                let how = match load {
                    Load::Same => "",
                    Load::Scalar => "@0",
                    Load::Mod(_) => "@mod",
                    Load::Div(_) => "@div",
                    Load::Block(_) => "@blk",
                    Load::Strided { .. } => "@str",
                };
                write!(k, "{i}=in{buffer}{how}:{d};")
            }
            Inst::Const(_) => write!(k, "{i}=k:{d};"),
            Inst::Coord(_) => write!(k, "{i}=coord;"),
            Inst::Rand { normal, .. } => write!(k, "{i}={};", if *normal { "randn" } else { "rand" }),
            Inst::Unary { op, x, .. } => write!(k, "{i}={}({x}):{d};", op.name()),
            Inst::Binary { op, a, b } => write!(k, "{i}={}({a},{b}):{d};", op.name()),
            Inst::Compare { op, a, b } => write!(k, "{i}={}({a},{b}):{};", op.name(), t(p.dtypes[*a])),
            Inst::Select { cond, a, b } => write!(k, "{i}=where({cond},{a},{b}):{d};"),
            Inst::Cast { x } => write!(k, "{i}={d}({x});"),
        };
    }
    k
}
