//! Lazy tensors: how elementwise results wait, and when they run.
//!
//! An elementwise op returns a tensor whose storage is *pending*: it holds the expression, not the
//! values. Later elementwise ops read a pending operand of their own shape by taking its
//! expression into theirs (`Space::read`), so a chain becomes one expression. The storage is
//! *realized* (one kernel on the GPU, one blocked pass on the CPU) the first time anything needs
//! its values: a non-elementwise op reading its buffer, a readback, or an expression growing past
//! what one kernel can bind. A pending tensor dropped unread never runs at all. When one of its
//! leaves is overwritten in place, it is pointed at a copy of the old values instead
//! (`preserve_for_readers`): pending values are those of the moment the op was called.
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};

use bytemuck::Zeroable;

use super::codegen;
use super::expr::{Expr, Node, Read, E};
use super::program::Program;
use crate::device::gpu::{grid_2d, GpuBuffer, GpuContext};
use crate::device::Device;
use crate::kernel::Source;
use crate::shape::{check_rank, checked_numel, strides};
use crate::tensor::{common_device, Data, Storage, Tensor};
use crate::{bail, DType, Result};

/// The most leaf buffers one fused kernel binds (WebGPU guarantees 8 storage buffers per stage;
/// one is the output).
pub const MAX_BUFFERS: usize = 7;
/// The most instructions in one fused kernel (longer chains are split).
pub const MAX_INSTS: usize = 64;
/// Uniform words and strided broadcasts one kernel may use.
const MAX_WORDS: usize = 64;
const MAX_STRIDED: usize = 4;

/// What a pending storage will compute.
pub struct Pending {
    pub expr: Rc<Expr>,
    pub device: Device,
    /// Elements of the index space.
    pub n: usize,
}

/// The index space of an elementwise op: its output shape on its device. Operands are read into
/// it with numpy broadcasting.
pub struct Space {
    pub shape: Vec<usize>,
    pub device: Device,
    op: &'static str,
}

impl Space {
    /// The space of an op whose inputs broadcast to `shape` (checked by the caller).
    pub fn new(op: &'static str, shape: &[usize], inputs: &[&Tensor]) -> Result<Space> {
        let device = common_device(op, inputs)?;
        Space::on(op, shape, &device)
    }

    /// A space with no tensor operands (fills, random draws).
    pub fn on(op: &'static str, shape: &[usize], device: &Device) -> Result<Space> {
        check_rank(op, shape)?;
        let n = checked_numel(op, shape)?;
        // Refused now, as an eager op would be: not later, wherever the values happen to be read.
        if let Device::Gpu(ctx) = device {
            ctx.check_alive(op)?;
            ctx.check_size(op, n as u64 * 4)?;
        }
        Ok(Space { shape: shape.to_vec(), device: device.clone(), op })
    }

    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// `t` as an operand in this space: a pending tensor of this very shape joins the expression
    /// (its own expression is taken in); anything else is realized and read as a leaf through
    /// its broadcast pattern. Halves are read widened to float32: elementwise work on float16
    /// computes in float32 and rounds where a cast to float16 stores it.
    pub fn read(&self, t: &Tensor) -> Result<E> {
        let e = self.read_stored(t)?;
        Ok(if e.dtype() == DType::F16 { e.cast(DType::F32) } else { e })
    }

    fn read_stored(&self, t: &Tensor) -> Result<E> {
        crate::tensor::same_device(self.op, &self.device, t.device())?;
        if t.numel() == 0 && self.numel() != 0 {
            bail!(self.op, "an empty input of shape {:?} cannot broadcast to {:?}", t.shape(), self.shape);
        }
        if let Some(expr) = t.storage().pending_expr() {
            // The same flat elements (reshapes included: a pending tensor is indexed flat), or a
            // value that is the same everywhere.
            if t.shape() == self.shape.as_slice() || !expr.indexed {
                return Ok(retype(E(expr), t.dtype()));
            }
            // A small expression over tensors of its own shape (per-row statistics: log(s) + m)
            // is recomputed at each element that reads it rather than run as a kernel of its own.
            if let Some(e) = reindex(&expr, &read_pattern(t.shape(), &self.shape)) {
                return Ok(retype(E(e), t.dtype()));
            }
        }
        t.storage().data()?;
        Ok(E::leaf(t.storage().clone(), t.dtype(), read_pattern(t.shape(), &self.shape)))
    }

    /// The result tensor of `e` over this space: pending, unless `e` is just an existing tensor.
    pub fn tensor(&self, e: E) -> Result<Tensor> {
        let n = self.numel();
        let root = fit(&e.0, n, &self.device)?;
        let dtype = e.dtype();
        if let Node::Leaf { storage, read: Read::Same } = &root.node {
            return Ok(Tensor::from_storage(&self.device, storage.clone(), self.shape.clone(), dtype));
        }
        let owner = root.owner.borrow().clone();
        if let (Some(storage), true) = (owner.0.upgrade(), owner.1 == n) {
            return Ok(Tensor::from_storage(&self.device, storage, self.shape.clone(), dtype));
        }
        let storage = Rc::new(Storage::pending(Pending { expr: root.clone(), device: self.device.clone(), n }));
        *root.owner.borrow_mut() = (Rc::downgrade(&storage), n);
        register(&storage);
        Ok(Tensor::from_storage(&self.device, storage, self.shape.clone(), dtype))
    }
}

/// Longest expression `reindex` copies into each element that reads it.
const MAX_REINDEXED: usize = 12;

/// `expr` read through broadcast pattern `read` instead of element by element, when every leaf
/// reads its own element (or is a scalar) and nothing depends on the index otherwise.
fn reindex(expr: &Rc<Expr>, read: &Read) -> Option<Rc<Expr>> {
    fn go(e: &Rc<Expr>, read: &Read, memo: &mut HashMap<*const Expr, Rc<Expr>>) -> Option<Rc<Expr>> {
        if let Some(done) = memo.get(&Rc::as_ptr(e)) {
            return Some(done.clone());
        }
        let out = match &e.node {
            Node::Leaf { storage, read: Read::Same } => E::leaf(storage.clone(), e.dtype, read.clone()).0,
            Node::Leaf { read: Read::Scalar, .. } | Node::Const(_) => e.clone(),
            Node::Leaf { .. } | Node::Coord { .. } | Node::Rand { .. } => return None,
            _ => {
                let children = e.children().into_iter().map(|c| go(c, read, memo)).collect::<Option<Vec<_>>>()?;
                rebuild(e, &children)
            }
        };
        memo.insert(Rc::as_ptr(e), out.clone());
        Some(out)
    }
    if Program::new(expr, 1).insts.len() > MAX_REINDEXED {
        return None;
    }
    go(expr, read, &mut HashMap::new())
}

/// A pending tensor labelled bool but computed as int32 (or the reverse: the words are the same)
/// keeps the tensor's label.
fn retype(e: E, dtype: DType) -> E {
    if e.dtype() == dtype || e.dtype().wgsl() != dtype.wgsl() {
        e
    } else {
        e.cast(dtype)
    }
}

/// How a tensor of `shape` is read at flat index i of `space` (it broadcasts to it).
fn read_pattern(shape: &[usize], space: &[usize]) -> Read {
    let n: usize = space.iter().product();
    let size: usize = shape.iter().product();
    if shape == space || size == n {
        return Read::Same;
    }
    if size == 1 {
        return Read::Scalar;
    }
    // Right-aligned: leading dims of 1 (repeat outer), then the shape's own dims equal to the
    // space's, then trailing dims of 1 (repeat inner) form a block.
    let lead = space.len() - shape.len();
    let dims: Vec<usize> = (0..space.len()).map(|d| if d < lead { 1 } else { shape[d - lead] }).collect();
    let first = dims.iter().position(|&d| d != 1).unwrap_or(dims.len());
    let last = dims.iter().rposition(|&d| d != 1).map_or(0, |l| l + 1);
    if (first..last).all(|d| dims[d] == space[d]) {
        let inner: usize = space[last..].iter().product();
        return Read::Block { inner: inner as u32, size: size as u32 };
    }
    let own = strides(&dims);
    let strides = (0..space.len()).map(|d| if dims[d] == 1 { 0 } else { own[d] as u32 }).collect();
    Read::Strided { dims: space.iter().map(|&d| d as u32).collect(), strides }
}

fn within_limits(p: &Program) -> bool {
    p.insts.len() <= MAX_INSTS && p.buffers.len() <= MAX_BUFFERS && p.words.len() <= MAX_WORDS && p.strided.len() <= MAX_STRIDED
}

/// `root` itself when one kernel can run it; otherwise the same expression with subexpressions
/// realized into leaves (bottom-up, largest first) until every kernel fits.
fn fit(root: &Rc<Expr>, n: usize, device: &Device) -> Result<Rc<Expr>> {
    // Words and strided reads are bounded by the instructions (at most 2 words, 1 stride each).
    let surely_fits = root.size_bound as usize * 2 <= MAX_WORDS.min(MAX_INSTS) && (root.leaf_bound as usize) <= MAX_BUFFERS.min(MAX_STRIDED);
    if surely_fits || within_limits(&Program::new(root, n)) {
        return Ok(root.clone());
    }
    let mut memo = HashMap::new();
    fit_node(root, n, device, &mut memo)
}

fn fit_node(e: &Rc<Expr>, n: usize, device: &Device, memo: &mut HashMap<*const Expr, Rc<Expr>>) -> Result<Rc<Expr>> {
    if let Some(done) = memo.get(&Rc::as_ptr(e)) {
        return Ok(done.clone());
    }
    let mut children = Vec::new();
    for c in e.children() {
        children.push(fit_node(c, n, device, memo)?);
    }
    let mut out = rebuild(e, &children);
    while !within_limits(&Program::new(&out, n)) {
        // Realize the biggest operand that is not already a leaf.
        let biggest = children
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.children().is_empty())
            .max_by_key(|(_, c)| Program::new(c, n).insts.len())
            .map(|(i, _)| i);
        let Some(i) = biggest else { break };
        children[i] = realize_now(&children[i], n, device)?;
        out = rebuild(e, &children);
    }
    memo.insert(Rc::as_ptr(e), out.clone());
    Ok(out)
}

/// A copy of `e`'s node over new operands (`e` itself when they are the same).
fn rebuild(e: &Rc<Expr>, children: &[Rc<Expr>]) -> Rc<Expr> {
    let old = e.children();
    if old.iter().zip(children).all(|(a, b)| Rc::ptr_eq(a, b)) {
        return e.clone();
    }
    let c = |i: usize| children[i].clone();
    let node = match &e.node {
        Node::Unary { op, alpha, beta, .. } => Node::Unary { op: *op, x: c(0), alpha: *alpha, beta: *beta },
        Node::Cast { .. } => Node::Cast { x: c(0) },
        Node::Binary { op, .. } => Node::Binary { op: *op, a: c(0), b: c(1) },
        Node::Compare { op, .. } => Node::Compare { op: *op, a: c(0), b: c(1) },
        Node::Select { .. } => Node::Select { cond: c(0), a: c(1), b: c(2) },
        Node::Leaf { .. } | Node::Const(_) | Node::Coord { .. } | Node::Rand { .. } => unreachable!("terminals have no operands"),
    };
    Rc::new(Expr::new(node, e.dtype))
}

/// Runs `e` now into a new storage and returns a leaf reading it.
fn realize_now(e: &Rc<Expr>, n: usize, device: &Device) -> Result<Rc<Expr>> {
    let storage = Rc::new(Storage::pending(Pending { expr: e.clone(), device: device.clone(), n }));
    storage.data()?;
    Ok(E::leaf(storage, e.dtype, Read::Same).0)
}

/// Computes a pending storage's values.
/// The fused program of a pending `t` for a consumer kernel to read in place, when its leaves
/// fit in the `budget` storage buffers the consumer has left; otherwise `t` is realized now and
/// the consumer reads it as one buffer (None), so that no kernel binds more than WebGPU allows.
pub fn fused_input(t: &Tensor, budget: usize) -> Result<Option<Program>> {
    t.check_word_elements()?;
    let Some(e) = t.storage().pending_expr() else { return Ok(None) };
    let p = Program::new(&e, t.numel());
    if p.buffers.len() <= budget {
        return Ok(Some(p));
    }
    t.storage().data()?;
    Ok(None)
}

pub fn realize(p: &Pending) -> Result<Data> {
    const OP: &str = "elementwise";
    let prog = Program::new(&p.expr, p.n);
    Ok(match &p.device {
        Device::Cpu => Data::Cpu(RefCell::new(super::cpu::run(OP, &prog)?)),
        Device::Gpu(ctx) => Data::Gpu(run_gpu(ctx, &prog)?),
    })
}

crate::params! {
    /// shaders/elementwise.wgsl's parameters (the fused input's follow as `f`).
    pub struct ElementwiseParams { n: u32, _pad0: u32, _pad1: u32, _pad2: u32 }
}

fn run_gpu(ctx: &Rc<GpuContext>, prog: &Program) -> Result<GpuBuffer> {
    const OP: &str = "elementwise";
    let dtype = prog.out_dtype();
    let words = dtype.words(prog.n);
    let out = ctx.alloc(OP, (words * 4) as u64)?;
    let key = format!("ew:{}", prog.key());
    let kernel = ctx.kernel(&key, || {
        let body = if dtype == DType::F16 { include_str!("../../shaders/elementwise_f16.wgsl") } else { include_str!("../../shaders/elementwise.wgsl") };
        Source::new(&ElementwiseParams::wgsl_fields()).buffer("out", dtype.storage_wgsl(), true).fused(prog, "x").body(body)
    });
    let mut params = ElementwiseParams::zeroed();
    params.n = prog.n as u32;
    let bytes = uniform_with_fused(bytemuck::bytes_of(&params), &[prog]);
    let mut buffers: Vec<&wgpu::Buffer> = vec![out.raw()];
    let leaves = leaf_buffers(prog);
    buffers.extend(leaves.iter().map(|b| b.raw()));
    ctx.dispatch(&kernel, &bytes, &buffers, grid_2d(words.div_ceil(256) as u64)?);
    Ok(out)
}

/// A kernel's own parameters followed by its fused inputs' (each `f_<name>: Fused_<name>`,
/// 16-byte aligned), in the order `Source::fused` declared them.
pub fn uniform_with_fused(params: &[u8], progs: &[&Program]) -> Vec<u8> {
    let mut bytes = params.to_vec();
    for prog in progs {
        bytes.resize(bytes.len().div_ceil(16) * 16, 0);
        bytes.extend(prog.uniform_bytes());
    }
    bytes
}

/// The GPU buffers of a program's leaves, in binding order.
pub fn leaf_buffers(prog: &Program) -> Vec<&GpuBuffer> {
    prog.buffers
        .iter()
        .map(|(s, _)| match s.data_if_realized() {
            Some(Data::Gpu(b)) => b,
            _ => unreachable!("fused leaves are realized GPU tensors on the GPU backend"),
        })
        .collect()
}

/// The WGSL declarations of fused input `name` for `Source::fused`.
pub fn prologue(prog: &Program, first_binding: u32, name: &str) -> String {
    codegen::prologue(prog, first_binding, name)
}

// ---- in-place writes -------------------------------------------------------------------------

thread_local! {
    /// Every pending storage, weakly: the ones an in-place write may have to realize first.
    static PENDING: RefCell<Vec<Weak<Storage>>> = const { RefCell::new(Vec::new()) };
}

fn register(s: &Rc<Storage>) {
    PENDING.with(|p| {
        let mut p = p.borrow_mut();
        if p.len() >= 64 && p.len().is_power_of_two() {
            p.retain(|w| w.upgrade().is_some_and(|s| s.pending_expr().is_some()));
        }
        p.push(Rc::downgrade(s));
    });
}

fn pending_storages() -> Vec<Rc<Storage>> {
    PENDING.with(|p| {
        let mut p = p.borrow_mut();
        p.retain(|w| w.upgrade().is_some_and(|s| s.pending_expr().is_some()));
        p.iter().filter_map(Weak::upgrade).collect()
    })
}

/// Before tensors are overwritten in place (a variable's `assign`, an optimizer step, streamed
/// weights): pending tensors reading them must still see the values of the moment their op was
/// called. Such readers are pointed at a copy of the current values instead (one buffer copy per
/// overwritten tensor, not a kernel per reader; most such readers are intermediates that are
/// never read at all). One scan of the pending tensors serves all `targets`.
pub fn preserve_for_readers(targets: &[&Tensor]) -> Result<()> {
    let pending = pending_storages();
    if pending.is_empty() {
        return Ok(());
    }
    let mut copies: Vec<(Rc<Storage>, Rc<Storage>)> = Vec::new();
    for reader in pending {
        let Some(expr) = reader.pending_expr() else { continue };
        let leaves = leaf_storages(&expr);
        for t in targets {
            let target = t.storage();
            if !leaves.iter().any(|l| Rc::ptr_eq(l, target)) {
                continue;
            }
            let copy = match copies.iter().find(|(from, _)| Rc::ptr_eq(from, target)) {
                Some((_, c)) => c.clone(),
                None => {
                    let c = Rc::new(snapshot(t)?);
                    copies.push((target.clone(), c.clone()));
                    c
                }
            };
            reader.rewrite_pending(|e| replace_leaf(e, target, &copy));
        }
    }
    Ok(())
}

/// A realized copy of `t`'s current values.
fn snapshot(t: &Tensor) -> Result<Storage> {
    let bytes = t.size_bytes() as u64;
    Ok(match (t.device(), t.storage().data()?) {
        (Device::Cpu, Data::Cpu(words)) => Storage::cpu(words.borrow().clone()),
        (Device::Gpu(ctx), Data::Gpu(buf)) => {
            let out = ctx.alloc("assign", bytes)?;
            ctx.copy(buf.raw(), out.raw(), bytes);
            Storage::gpu(out)
        }
        _ => unreachable!("storage matches its device"),
    })
}

/// The distinct storages an expression's leaves read.
fn leaf_storages(root: &Rc<Expr>) -> Vec<Rc<Storage>> {
    let mut seen: Vec<*const Expr> = Vec::new();
    let mut out: Vec<Rc<Storage>> = Vec::new();
    let mut stack = vec![root];
    while let Some(e) = stack.pop() {
        if seen.contains(&Rc::as_ptr(e)) {
            continue;
        }
        seen.push(Rc::as_ptr(e));
        if let Node::Leaf { storage, .. } = &e.node {
            if !out.iter().any(|s| Rc::ptr_eq(s, storage)) {
                out.push(storage.clone());
            }
        }
        stack.extend(e.children());
    }
    out
}

/// `root` with every leaf reading `from` reading `to` instead.
fn replace_leaf(root: &Rc<Expr>, from: &Rc<Storage>, to: &Rc<Storage>) -> Rc<Expr> {
    fn go(e: &Rc<Expr>, from: &Rc<Storage>, to: &Rc<Storage>, memo: &mut HashMap<*const Expr, Rc<Expr>>) -> Rc<Expr> {
        if let Some(done) = memo.get(&Rc::as_ptr(e)) {
            return done.clone();
        }
        let out = match &e.node {
            Node::Leaf { storage, read } if Rc::ptr_eq(storage, from) => E::leaf(to.clone(), e.dtype, read.clone()).0,
            _ => {
                let children: Vec<Rc<Expr>> = e.children().into_iter().map(|c| go(c, from, to, memo)).collect();
                rebuild(e, &children)
            }
        };
        memo.insert(Rc::as_ptr(e), out.clone());
        out
    }
    go(root, from, to, &mut HashMap::new())
}

/// Realizes every pending tensor (the end of a warm-up trace: their kernels get noted too).
pub fn realize_all() -> Result<()> {
    for s in pending_storages() {
        s.data()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcast_reads_take_the_cheapest_pattern() {
        assert_eq!(read_pattern(&[2, 3], &[2, 3]), Read::Same);
        assert_eq!(read_pattern(&[6], &[1, 6]), Read::Same);
        assert_eq!(read_pattern(&[], &[4, 5]), Read::Scalar);
        assert_eq!(read_pattern(&[5], &[4, 5]), Read::Block { inner: 1, size: 5 });
        assert_eq!(read_pattern(&[4, 1], &[4, 5]), Read::Block { inner: 5, size: 4 });
        assert_eq!(read_pattern(&[3, 1], &[2, 3, 5]), Read::Block { inner: 5, size: 3 });
        assert_eq!(
            read_pattern(&[2, 1, 5], &[2, 3, 5]),
            Read::Strided { dims: vec![2, 3, 5], strides: vec![5, 0, 1] }
        );
    }
}
