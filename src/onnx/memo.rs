//! Outputs reused across runs. A node whose every input is known before the run's data flows
//! (constants, the values of Shape and Size, or outputs reused this way) gives the same outputs
//! whenever those inputs are the same: causal masks, position tables, RoPE's cos and sin,
//! the shape arithmetic of a symbolic sequence length. Each such node keeps its last outputs with
//! the inputs they were computed from (the key); a run whose key is the same takes them instead of
//! evaluating, uploading and dispatching again. One entry per node bounds what is held to one
//! run's worth of these values; a new sequence length replaces it.
//!
//! The key is exact (no hash): host values are written into it in full, a constant by its index,
//! and a reused output without host values by the node and generation it came from. The graph
//! inputs' values are data, never part of a key, even where they are known on the host (token
//! ids): what follows from them is computed every run.
use std::cell::{Cell, RefCell};

use super::plan::{Slot, Step};
use super::proto::NodeProto;
use super::{HostData, Value};
use crate::DType;

/// Ops whose outputs are not a function of their inputs (Dropout's mask in training mode).
const RANDOM: [&str; 7] = ["RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Bernoulli", "Multinomial", "Dropout"];

/// Why a live value is known before the data flows.
#[derive(Clone, Copy)]
pub enum Known {
    /// A Shape or Size: its host values describe shapes only.
    Shape,
    /// The output of a node keyed here (kept, or reused), by node and generation.
    Kept { node: usize, generation: u64 },
}

struct Entry {
    key: Vec<u64>,
    generation: u64,
    outs: Vec<Value>,
}

pub struct Memo {
    entries: RefCell<Vec<Option<Entry>>>,
    generation: Cell<u64>,
    reused: Cell<usize>,
}

impl Memo {
    pub fn new(nodes: usize) -> Memo {
        Memo { entries: RefCell::new((0..nodes).map(|_| None).collect()), generation: Cell::new(0), reused: Cell::new(0) }
    }

    /// Forgets every entry: constants are about to change (weights handed to an optimizer, or
    /// filled from external data).
    pub fn clear(&self) {
        self.entries.borrow_mut().iter_mut().for_each(|e| *e = None);
    }

    /// Nodes whose outputs were reused, over every run so far.
    pub fn reused(&self) -> usize {
        self.reused.get()
    }

    /// The key of node `i`'s inputs, or None when some input is only known once data flows (or
    /// the node is random, or packed into a quantized weight).
    pub fn key(node: &NodeProto, step: &Step, args: &[Option<&Value>], known: &[Option<Known>], constants: &[Value]) -> Option<Vec<u64>> {
        // Dequantized weights stay transient: keeping them would hold the float copy of a weight
        // that quantization exists to avoid.
        let op = node.op_type.as_str();
        if step.packed || RANDOM.contains(&op) || super::quantized::OPS.contains(&op) || super::quantized::CONTRIB_OPS.contains(&op) {
            return None;
        }
        let mut key = Vec::new();
        for (slot, value) in step.args.iter().zip(args) {
            match (slot, value) {
                (None, _) | (_, None) => key.push(u64::MAX),
                (Some(Slot::Constant(c)), Some(v)) => {
                    // A float constant without host values is a weight: an optimizer may change it.
                    if v.host.is_none() && constants[*c].tensor.dtype() == DType::F32 {
                        return None;
                    }
                    key.extend([0, *c as u64]);
                }
                (Some(Slot::Live(s)), Some(v)) => match (&v.host, known[*s]) {
                    (_, None) => return None,
                    (Some(h), Some(_)) => {
                        key.extend([1, v.tensor.dtype() as u64, v.tensor.shape().len() as u64]);
                        key.extend(v.tensor.shape().iter().map(|&d| d as u64));
                        match h {
                            HostData::Int(x) => key.extend(x.iter().map(|&x| x as u64)),
                            HostData::Float(x) => key.extend(x.iter().map(|&x| x.to_bits() as u64)),
                        }
                    }
                    (None, Some(Known::Kept { node, generation })) => key.extend([2, node as u64, generation]),
                    (None, Some(Known::Shape)) => return None,
                },
            }
        }
        Some(key)
    }

    /// Node `i`'s kept outputs if they were computed from `key`.
    pub fn get(&self, i: usize, key: &[u64]) -> Option<(Vec<Value>, Known)> {
        let entries = self.entries.borrow();
        let e = entries[i].as_ref().filter(|e| e.key == key)?;
        self.reused.set(self.reused.get() + 1);
        Some((e.outs.clone(), Known::Kept { node: i, generation: e.generation }))
    }

    /// Keeps node `i`'s outputs for `key` (replacing what it kept before).
    pub fn put(&self, i: usize, key: Vec<u64>, outs: &[Value]) -> Known {
        let generation = self.generation.get() + 1;
        self.generation.set(generation);
        self.entries.borrow_mut()[i] = Some(Entry { key, generation, outs: outs.to_vec() });
        Known::Kept { node: i, generation }
    }

    /// How a node that was not keyed leaves its outputs: known when it reads only shapes.
    pub fn unkeyed(node: &NodeProto) -> Option<Known> {
        matches!(node.op_type.as_str(), "Shape" | "Size").then_some(Known::Shape)
    }
}
