//! Eager define-by-run autograd. While recording (the default), an op whose inputs track
//! gradients attaches a `Node` to its output: the inputs and a closure mapping the output's
//! gradient to the inputs' gradients. `backward(loss)` walks the nodes in reverse topological
//! order, running the gradient closures as ordinary ops (GPU kernels on the GPU: nothing is
//! read back), and accumulates `grad()` on the leaves that `requires_grad`.
use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use crate::{bail, ops, DType, Result, Tensor};

/// What a gradient closure sees.
pub struct Grad<'a> {
    pub inputs: &'a [Tensor],
    pub out: &'a Tensor,
    /// d loss / d out.
    pub grad: &'a Tensor,
}

impl Grad<'_> {
    /// Whether input `i` needs its gradient (rules may skip the work for the others).
    pub fn needs(&self, i: usize) -> bool {
        self.inputs[i].tracks_grad()
    }
}

type BackwardFn = dyn Fn(&Grad) -> Result<Vec<Option<Tensor>>>;

pub struct Node {
    pub op: &'static str,
    pub inputs: Vec<Tensor>,
    backward: Box<BackwardFn>,
}

thread_local! {
    static NO_GRAD_DEPTH: Cell<usize> = const { Cell::new(0) };
}

pub fn is_recording() -> bool {
    NO_GRAD_DEPTH.with(|d| d.get() == 0)
}

/// Runs `f` without recording gradients (for inference, optimizer updates, and the gradient
/// computations themselves).
pub fn no_grad<R>(f: impl FnOnce() -> R) -> R {
    struct Guard;
    impl Drop for Guard {
        fn drop(&mut self) {
            NO_GRAD_DEPTH.with(|d| d.set(d.get() - 1));
        }
    }
    NO_GRAD_DEPTH.with(|d| d.set(d.get() + 1));
    let _guard = Guard;
    f()
}

/// Attaches a gradient node to `out` when recording and any input tracks gradients. The closure
/// must not capture `out` (it is handed in as `Grad::out`: capturing it would be a cycle).
pub fn record(
    op: &'static str,
    out: Tensor,
    inputs: &[&Tensor],
    backward: impl Fn(&Grad) -> Result<Vec<Option<Tensor>>> + 'static,
) -> Tensor {
    if !is_recording() || !inputs.iter().any(|t| t.tracks_grad()) || !out.dtype().is_float() {
        return out;
    }
    let node = Rc::new(Node { op, inputs: inputs.iter().map(|&t| t.clone()).collect(), backward: Box::new(backward) });
    Tensor::with_node(out.device(), out.storage().clone(), out.shape().to_vec(), out.dtype(), Some(node))
}

/// Sums a broadcast gradient back to `shape` (the inverse of numpy broadcasting).
pub fn sum_to_shape(g: &Tensor, shape: &[usize]) -> Result<Tensor> {
    if g.shape() == shape {
        return Ok(g.clone());
    }
    let lead = g.rank() - shape.len();
    let axes: Vec<i64> = (0..g.rank()).filter(|&d| d < lead || (shape[d - lead] == 1 && g.shape()[d] != 1)).map(|d| d as i64).collect();
    let summed = ops::sum(g, Some(&axes), false)?;
    summed.reshape_to(shape)
}

/// The inputs' gradients from `values`, the broadcast gradients of the inputs that `needs` (in
/// order, one each), each summed back to its input's shape; None for the others.
pub fn unbroadcast_needed(g: &Grad, values: Vec<Tensor>) -> Result<Vec<Option<Tensor>>> {
    let mut values = values.into_iter();
    (0..g.inputs.len())
        .map(|i| {
            if !g.needs(i) {
                return Ok(None);
            }
            let Some(v) = values.next() else { bail!("backward", "a gradient rule gave fewer gradients than its inputs need") };
            sum_to_shape(&v, g.inputs[i].shape()).map(Some)
        })
        .collect()
}

/// Computes d loss / d leaf for every leaf that `requires_grad`, accumulating into `leaf.grad()`.
/// `loss` must be a float32 tensor with one element.
pub fn backward(loss: &Tensor) -> Result<()> {
    check_loss("backward", loss)?;
    let seed = no_grad(|| ops::full_like(loss, 1.0))?;
    for (leaf, g) in propagate(loss, seed, &HashSet::new(), false)? {
        let acc = match leaf.grad() {
            Some(prev) => no_grad(|| ops::add(&prev, &g))?,
            None => g,
        };
        leaf.set_grad(Some(acc));
    }
    Ok(())
}

/// d loss / d target for each of `targets` (any tensors `loss` was computed from, not only
/// leaves; None where it does not depend on one), leaving every `grad()` alone. `seed` is
/// d loss / d loss (ones by default). With `create_graph` the backward pass is itself recorded,
/// so the gradients can be differentiated again (a gradient of a gradient, to any order).
pub fn grads_of(loss: &Tensor, targets: &[Tensor], seed: Option<&Tensor>, create_graph: bool) -> Result<Vec<Option<Tensor>>> {
    const OP: &str = "grads";
    let seed = match seed {
        Some(s) if s.shape() != loss.shape() || !s.dtype().is_float() => {
            bail!(OP, "the seed gradient must be float of the output's shape {:?}, got {:?} {}", loss.shape(), s.shape(), s.dtype())
        }
        Some(s) => s.clone(),
        None => {
            check_loss(OP, loss)?;
            no_grad(|| ops::full_like(loss, 1.0))?
        }
    };
    if !loss.tracks_grad() {
        return Ok(vec![None; targets.len()]);
    }
    let stops: HashSet<*const ()> = targets.iter().map(|t| t.id()).collect();
    let mut found: HashMap<*const (), Tensor> = propagate(loss, seed, &stops, create_graph)?.into_iter().map(|(t, g)| (t.id(), g)).collect();
    Ok(targets.iter().map(|t| found.remove(&t.id())).collect())
}

fn check_loss(op: &str, loss: &Tensor) -> Result<()> {
    if loss.numel() != 1 || !loss.dtype().is_float() {
        bail!(op, "needs a float scalar loss, got shape {:?} ({})", loss.shape(), loss.dtype());
    }
    if !loss.tracks_grad() {
        bail!(op, "the loss does not depend on any tensor that requires gradients");
    }
    Ok(())
}

/// The backward pass from `loss` (whose gradient is `seed`): each node's rule runs once, in
/// reverse topological order, once every gradient flowing into its output has been summed.
/// Returns the gradients reaching the tensors in `stops` (whose own inputs are not visited) and
/// the leaves that `requires_grad`. The rules run unrecorded (fused kernels, the fast path)
/// unless `create_graph` asks for a differentiable backward pass.
fn propagate(loss: &Tensor, seed: Tensor, stops: &HashSet<*const ()>, create_graph: bool) -> Result<Vec<(Tensor, Tensor)>> {
    const OP: &str = "backward";
    // Reverse topological order by iterative depth-first search.
    let mut order: Vec<Tensor> = Vec::new();
    let mut seen: HashSet<*const ()> = HashSet::new();
    let mut stack: Vec<(Tensor, bool)> = vec![(loss.clone(), false)];
    while let Some((t, expanded)) = stack.pop() {
        if expanded {
            order.push(t);
            continue;
        }
        if !seen.insert(t.id()) {
            continue;
        }
        stack.push((t.clone(), true));
        if let (Some(node), false) = (t.node(), stops.contains(&t.id())) {
            for input in &node.inputs {
                if input.tracks_grad() && !seen.contains(&input.id()) {
                    stack.push((input.clone(), false));
                }
            }
        }
    }
    // With targets, only the part of the graph between the loss and them is visited (the order
    // has every tensor after its inputs).
    let leads_to_a_target: Option<HashSet<*const ()>> = (!stops.is_empty()).then(|| {
        let mut reach = HashSet::new();
        for t in &order {
            let stop = stops.contains(&t.id());
            if stop || t.node().is_some_and(|n| n.inputs.iter().any(|i| reach.contains(&i.id()))) {
                reach.insert(t.id());
            }
        }
        reach
    });
    let wanted = |t: &Tensor| leads_to_a_target.as_ref().is_none_or(|r| r.contains(&t.id()));
    let run = || -> Result<Vec<(Tensor, Tensor)>> {
        let mut reached = Vec::new();
        let mut grads: HashMap<*const (), Tensor> = HashMap::new();
        grads.insert(loss.id(), seed);
        for t in order.iter().rev() {
            let Some(g) = grads.remove(&t.id()) else { continue };
            match t.node() {
                Some(node) if !stops.contains(&t.id()) => {
                    let input_grads = (node.backward)(&Grad { inputs: &node.inputs, out: t, grad: &g })?;
                    for (input, ig) in node.inputs.iter().zip(input_grads) {
                        let Some(ig) = ig else { continue };
                        if !input.tracks_grad() || !wanted(input) {
                            continue;
                        }
                        if ig.shape() != input.shape() {
                            bail!(OP, "gradient of {} has shape {:?} for an input of shape {:?}", node.op, ig.shape(), input.shape());
                        }
                        let acc = match grads.remove(&input.id()) {
                            Some(prev) => ops::add(&prev, &ig)?,
                            None => ig,
                        };
                        grads.insert(input.id(), acc);
                    }
                }
                _ if stops.contains(&t.id()) || t.requires_grad() => reached.push((t.clone(), g)),
                _ => {}
            }
        }
        Ok(reached)
    };
    if create_graph {
        enable_grad(run)
    } else {
        no_grad(run)
    }
}

/// Runs `f` with recording on, even inside `no_grad` (a recorded backward pass; a gradient taken
/// inside a function whose values are wanted without a graph).
pub fn enable_grad<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(usize);
    impl Drop for Restore {
        fn drop(&mut self) {
            NO_GRAD_DEPTH.with(|d| d.set(self.0));
        }
    }
    let _restore = Restore(NO_GRAD_DEPTH.with(|d| d.replace(0)));
    f()
}

/// For a gradient rule run by a kernel that autograd does not record: refused while the backward
/// pass is being recorded, where its result would silently count as a constant in a gradient of
/// a gradient.
pub fn first_order_only(op: &str) -> Result<()> {
    if is_recording() {
        bail!(op, "a gradient of a gradient through {op} is not supported: its gradient is computed by a fused kernel that autograd cannot differentiate again");
    }
    Ok(())
}

/// The gradient rule of a kernel that has an equivalent composition of recorded ops (a direct CPU
/// convolution, say): the vector-Jacobian product of `composed` at the kernel's inputs, recomputed
/// in the backward pass. Recorded when the backward pass is, so it can be differentiated again.
pub fn vjp_of_composition(g: &Grad, composed: impl FnOnce(&[Tensor]) -> Result<Tensor>) -> Result<Vec<Option<Tensor>>> {
    let create_graph = is_recording();
    enable_grad(|| {
        let targets: Vec<Tensor> = g.inputs.iter().map(target).collect::<Result<_>>()?;
        let y = composed(&targets)?;
        grads_of(&y, &targets, Some(g.grad), create_graph)
    })
}

/// A tensor to differentiate with respect to: `x`'s data, tracking gradients. Where `x` itself
/// tracks them (a gradient taken inside a function being differentiated), it stays connected to
/// `x` so the outer gradient flows through; otherwise it is a fresh leaf.
pub fn target(x: &Tensor) -> Result<Tensor> {
    if x.tracks_grad() && is_recording() {
        return Ok(record("identity", x.detach(), &[x], |g| Ok(vec![Some(g.grad.clone())])));
    }
    let leaf = x.detach();
    leaf.set_requires_grad(true)?;
    Ok(leaf)
}

/// TF.js-style functional gradients: d f(xs) / d xs for each x, without touching `grad()`.
/// Returns the value of f and the gradients.
pub fn value_and_grads(xs: &[&Tensor], f: impl FnOnce(&[Tensor]) -> Result<Tensor>) -> Result<(Tensor, Vec<Tensor>)> {
    // Fresh leaves sharing the data, so the caller's tensors and their grads are left alone.
    let leaves: Vec<Tensor> = xs.iter().map(|x| x.detach()).collect();
    for l in &leaves {
        l.set_requires_grad(true)?;
    }
    let y = f(&leaves)?;
    let grads = grads_of(&y, &leaves, None, false)?
        .into_iter()
        .zip(&leaves)
        .map(|(g, l)| match g {
            Some(g) => Ok(g),
            None => ops::zeros(l.device(), l.shape(), DType::F32),
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((y.detach(), grads))
}

/// A float32 scalar constant on `like`'s device (made by a kernel: no upload, no extra submit).
pub fn scalar(like: &Tensor, value: f32) -> Result<Tensor> {
    ops::fill(like.device(), &[], value as f64, DType::F32)
}

/// A bool tensor as 0.0/1.0 float32, for masking gradients.
pub fn mask(cond: Result<Tensor>) -> Result<Tensor> {
    ops::cast(&cond?, DType::F32)
}
