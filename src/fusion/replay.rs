//! Gradient rules that stay differentiable. A rule is written as an elementwise expression
//! (`dy * (1.0 - y * y)`); a backward pass normally runs it as one fused kernel, which autograd
//! does not see. When the backward pass is itself recorded (a gradient of a gradient), the same
//! expression is instead evaluated node by node through the ops' front doors, each recording its
//! own rule, so the gradient can be differentiated again, to any order.
use std::collections::HashMap;
use std::rc::Rc;

use super::expr::{Expr, Node, Read, E};
use super::lazy::Space;
use crate::tensor::Storage;
use crate::{autograd, bail, ops, DType, Device, Result, Tensor};

/// The values of `build`'s expressions over `tensors` (read into an index space of `shape`, which
/// each broadcasts to), each of that shape.
pub fn gradient_exprs(op: &'static str, shape: &[usize], tensors: &[&Tensor], build: impl FnOnce(&[E]) -> Vec<E>) -> Result<Vec<Tensor>> {
    let space = Space::new(op, shape, tensors)?;
    if !autograd::is_recording() {
        let args = tensors.iter().map(|t| space.read(t)).collect::<Result<Vec<_>>>()?;
        return build(&args).into_iter().map(|e| space.tensor(e)).collect();
    }
    // Placeholder leaves stand for the tensors: the expression is only walked, never run.
    let holders: Vec<Rc<Storage>> = tensors.iter().map(|_| Rc::new(Storage::cpu(Vec::new()))).collect();
    let args: Vec<E> = holders.iter().zip(tensors).map(|(h, t)| E::leaf(h.clone(), t.dtype(), Read::Same)).collect();
    let mut replay = Replay { op, device: &space.device, holders: &holders, tensors, memo: HashMap::new() };
    build(&args)
        .iter()
        .map(|e| {
            let t = replay.eval(&e.0)?;
            if t.shape() == shape {
                Ok(t)
            } else {
                ops::broadcast_to(&t, shape)
            }
        })
        .collect()
}

struct Replay<'a> {
    op: &'static str,
    device: &'a Device,
    holders: &'a [Rc<Storage>],
    tensors: &'a [&'a Tensor],
    /// Shared subexpressions are evaluated once.
    memo: HashMap<*const Expr, Tensor>,
}

impl Replay<'_> {
    fn eval(&mut self, e: &Rc<Expr>) -> Result<Tensor> {
        if let Some(t) = self.memo.get(&Rc::as_ptr(e)) {
            return Ok(t.clone());
        }
        let t = match &e.node {
            Node::Leaf { storage, .. } => match self.holders.iter().position(|h| Rc::ptr_eq(h, storage)) {
                Some(i) => self.tensors[i].clone(),
                None => bail!(self.op, "a gradient rule read a tensor it was not given"),
            },
            Node::Const(bits) => {
                let value = match e.dtype {
                    DType::F32 | DType::F16 => f32::from_bits(*bits) as f64,
                    DType::I32 => *bits as i32 as f64,
                    DType::Bool => (*bits != 0) as u8 as f64,
                };
                ops::fill(self.device, &[], value, e.dtype)?
            }
            Node::Unary { op, x, alpha, beta } => {
                let x = self.eval(x)?;
                if op.def().grad.is_none() && x.tracks_grad() {
                    bail!(self.op, "a gradient of a gradient needs the gradient of {}, which has none", op.name());
                }
                ops::unary(*op, &x, *alpha, *beta)?
            }
            Node::Binary { op, a, b } => {
                let (a, b) = (self.eval(a)?, self.eval(b)?);
                if op.def().grad.is_none() && (a.tracks_grad() || b.tracks_grad()) {
                    bail!(self.op, "a gradient of a gradient needs the gradient of {}, which has none", op.name());
                }
                ops::binary(*op, &a, &b)?
            }
            Node::Compare { op, a, b } => {
                let (a, b) = (self.eval(a)?, self.eval(b)?);
                ops::compare(*op, &a, &b)?
            }
            Node::Select { cond, a, b } => {
                let (cond, a, b) = (self.eval(cond)?, self.eval(a)?, self.eval(b)?);
                ops::where_(&cond, &a, &b)?
            }
            // Between dtypes: never on a path gradients flow along (float to float is no cast).
            Node::Cast { x } => ops::cast(&self.eval(x)?, e.dtype)?,
            Node::Coord { .. } | Node::Rand { .. } => bail!(self.op, "a gradient of a gradient through {} is not supported", self.op),
        };
        self.memo.insert(Rc::as_ptr(e), t.clone());
        Ok(t)
    }
}
