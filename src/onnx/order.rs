//! Node order. ONNX requires a graph's nodes in topological order, but tools do not all keep it
//! (onnxruntime's float16 converter appends the Cast of each kept-float32 graph input at the end
//! of the list, after the nodes that read it); onnxruntime sorts, and so does this importer.
//! A graph already in order (almost every file) is returned as it is.
use std::collections::{HashMap, HashSet};

use super::proto::NodeProto;
use crate::{bail, Result};

use super::OP;

/// `nodes` reordered so that each comes after the producers of its inputs, otherwise keeping the
/// file's order (a depth-first walk from each node in turn, producers first). Names no node
/// produces (graph inputs, initializers, or missing names, which the plan reports) impose nothing.
pub fn topological(nodes: Vec<NodeProto>) -> Result<Vec<NodeProto>> {
    let mut seen: HashSet<&str> = HashSet::new();
    let producer: HashMap<&str, usize> = nodes.iter().enumerate().flat_map(|(i, n)| n.output.iter().filter(|o| !o.is_empty()).map(move |o| (o.as_str(), i))).collect();
    let in_order = nodes.iter().all(|n| {
        let ok = n.input.iter().all(|i| !producer.contains_key(i.as_str()) || seen.contains(i.as_str()));
        seen.extend(n.output.iter().map(|o| o.as_str()));
        ok
    });
    if in_order {
        return Ok(nodes);
    }
    // 0: not visited, 1: on the walk's stack, 2: placed.
    let mut state = vec![0u8; nodes.len()];
    let mut order = Vec::with_capacity(nodes.len());
    for root in 0..nodes.len() {
        if state[root] != 0 {
            continue;
        }
        // (node, index of the next input to look at)
        let mut stack = vec![(root, 0usize)];
        state[root] = 1;
        while let Some(&mut (i, ref mut next)) = stack.last_mut() {
            let inputs = &nodes[i].input;
            if let Some(name) = inputs.get(*next) {
                *next += 1;
                if let Some(&p) = producer.get(name.as_str()) {
                    match state[p] {
                        0 => {
                            state[p] = 1;
                            stack.push((p, 0));
                        }
                        1 => bail!(OP, "the graph has a cycle through '{name}'"),
                        _ => {}
                    }
                }
                continue;
            }
            state[i] = 2;
            order.push(i);
            stack.pop();
        }
    }
    let mut slots: Vec<Option<NodeProto>> = nodes.into_iter().map(Some).collect();
    Ok(order.into_iter().map(|i| slots[i].take().expect("each node is placed once")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, inputs: &[&str], output: &str) -> NodeProto {
        NodeProto { name: name.into(), input: inputs.iter().map(|s| s.to_string()).collect(), output: vec![output.into()], ..Default::default() }
    }

    fn names(nodes: &[NodeProto]) -> Vec<&str> {
        nodes.iter().map(|n| n.name.as_str()).collect()
    }

    #[test]
    fn producers_come_first_and_sorted_graphs_stay() {
        // As the float16 converter leaves it: the input's Cast last.
        let shuffled = vec![node("mm", &["x16", "w"], "y"), node("add", &["y", "b"], "z"), node("cast", &["x"], "x16")];
        assert_eq!(names(&topological(shuffled).unwrap()), ["cast", "mm", "add"]);
        let sorted = vec![node("a", &["x"], "p"), node("b", &["p"], "q"), node("c", &["x"], "r"), node("d", &["q", "r"], "s")];
        assert_eq!(names(&topological(sorted).unwrap()), ["a", "b", "c", "d"]);
        let cycle = vec![node("a", &["q"], "p"), node("b", &["p"], "q")];
        assert!(topological(cycle).unwrap_err().to_string().contains("cycle"));
    }
}
