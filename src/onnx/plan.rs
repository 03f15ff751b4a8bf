//! The graph's names resolved once, at load: every value a node reads becomes an index (into the
//! model's constants, or into the table of values one run produces), and every value produced in a
//! run is dropped right after the last node that reads it. A run then does no string hashing, and
//! an intermediate tensor's memory goes back to the allocator (or the GPU buffer pool) while the
//! rest of the graph runs, instead of living until the run ends.
use std::collections::{HashMap, HashSet};

use super::{node_label, proto::NodeProto, OP};
use crate::{Error, Result};

/// Where a node's input comes from.
#[derive(Clone, Copy, Debug)]
pub enum Slot {
    /// The model's constants (initializers), by index.
    Constant(usize),
    /// The run's values (graph inputs, then node outputs), by index.
    Live(usize),
}

/// One node's wiring.
pub struct Step {
    /// Each input's slot; None for an absent optional input or one packed into a quantized weight.
    pub args: Vec<Option<Slot>>,
    /// Each output's live slot; None for an unnamed output.
    pub outs: Vec<Option<usize>>,
    /// Live slots no later node and no graph output reads: freed once this node has run.
    pub frees: Vec<usize>,
    /// Whether the node's output was packed into a quantized weight at load.
    pub packed: bool,
}

pub struct Plan {
    pub steps: Vec<Step>,
    /// The graph inputs' live slots, in input order.
    pub inputs: Vec<usize>,
    pub outputs: Vec<Slot>,
    /// The name of each live slot (the run's value table has one entry per name).
    pub live_names: Vec<String>,
}

impl Plan {
    /// Resolves `nodes` (in the graph's topological order) against the constants' names, the
    /// graph inputs and the outputs; a name nothing produces is an error naming it and its node.
    pub fn new(
        nodes: &[NodeProto],
        constants: &HashMap<String, usize>,
        inputs: &[String],
        outputs: &[String],
        consumed: &HashSet<String>,
        packed: &dyn Fn(&str) -> bool,
    ) -> Result<Plan> {
        let mut names: HashMap<&str, Slot> = constants.iter().map(|(n, &i)| (n.as_str(), Slot::Constant(i))).collect();
        // Per live slot, the node after which it can go: its last reader, else its producer
        // (an output nobody reads); None for graph inputs nobody reads and for graph outputs.
        let mut release: Vec<Option<usize>> = Vec::new();
        let mut live_names = Vec::new();
        let mut input_slots = Vec::with_capacity(inputs.len());
        for name in inputs {
            input_slots.push(release.len());
            names.insert(name, Slot::Live(release.len()));
            release.push(None);
            live_names.push(name.clone());
        }
        let mut steps = Vec::with_capacity(nodes.len());
        for (i, node) in nodes.iter().enumerate() {
            let mut args = Vec::with_capacity(node.input.len());
            for n in &node.input {
                if n.is_empty() || consumed.contains(n) {
                    args.push(None);
                    continue;
                }
                let Some(&slot) = names.get(n.as_str()) else {
                    return Err(Error::new(OP, format!("{} (node {}) reads '{n}', which no earlier node, input or initializer produces", node.op_type, node_label(i, node))));
                };
                if let Slot::Live(s) = slot {
                    release[s] = Some(i);
                }
                args.push(Some(slot));
            }
            let mut outs = Vec::with_capacity(node.output.len());
            for n in &node.output {
                if n.is_empty() {
                    outs.push(None);
                    continue;
                }
                outs.push(Some(release.len()));
                names.insert(n, Slot::Live(release.len()));
                release.push(Some(i));
                live_names.push(n.clone());
            }
            let packed = node.output.first().is_some_and(|o| packed(o));
            steps.push(Step { args, outs, frees: Vec::new(), packed });
        }
        let outputs = outputs
            .iter()
            .map(|n| names.get(n.as_str()).copied().ok_or_else(|| Error::new(OP, format!("the graph's output '{n}' is produced by no node, input or initializer"))))
            .collect::<Result<Vec<_>>>()?;
        for o in &outputs {
            if let Slot::Live(s) = *o {
                release[s] = None;
            }
        }
        for (s, after) in release.iter().enumerate() {
            if let Some(i) = after {
                steps[*i].frees.push(s);
            }
        }
        Ok(Plan { steps, inputs: input_slots, outputs, live_names })
    }
}
