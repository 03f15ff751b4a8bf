//! Subgraphs that exporters write as many small nodes, run as one fused engine op. Matched once
//! at load; each match becomes one node of the private domain "webtensor" in place of its nodes.
//!
//! Conv -> Relu / Clip: one convolution that applies the activation as it stores its output
//! (on the CPU, in the same pass as the bias; see ops::conv_nchw).
//!
//! Attention: MatMul(q', k') -> Mul/Div by factors -> Add(mask)? -> Softmax(last axis) ->
//! MatMul(., v), where q' and k' may carry Mul/Div factors themselves (torch's SDPA export scales
//! both by sqrt(scale)) and k' is usually Transpose(k, [0, 1, 3, 2]). When every factor turns out
//! to be a known scalar and the shapes are [batch, heads, seq, head size], it runs as
//! `ops::attention` (no seq x seq score matrix on either backend); otherwise the same nodes run
//! one by one, exactly as written. One difference stays on the fused path: a query row whose every
//! key is masked (a mask of float32's lowest, as torch writes it) gives zeros, the engine's rule,
//! where the nodes as written would average v uniformly.
use std::collections::HashMap;

use super::nodes::{attr, input, opt_input, plain};
use super::proto::{AttributeProto, NodeProto};
use super::{HostData, Value};
use crate::ops;
use crate::{DType, Result, Tensor};

pub const DOMAIN: &str = "webtensor";

/// Where a factor applies: to q' before the product, to k', or to the scores; and whether it
/// multiplies or divides.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Target {
    Q,
    K,
    Scores,
}

struct Uses<'a> {
    producer: HashMap<&'a str, usize>,
    count: HashMap<&'a str, usize>,
}

impl<'a> Uses<'a> {
    fn new(nodes: &'a [NodeProto], outputs: &'a [String]) -> Uses<'a> {
        let mut producer = HashMap::new();
        let mut count = HashMap::new();
        for (i, n) in nodes.iter().enumerate() {
            for o in &n.output {
                producer.insert(o.as_str(), i);
            }
            for x in &n.input {
                *count.entry(x.as_str()).or_insert(0) += 1;
            }
        }
        for o in outputs {
            *count.entry(o.as_str()).or_insert(0) += 2; // graph outputs are never internal
        }
        Uses { producer, count }
    }

    /// The node producing `name` when that node's only output is read by one node only.
    fn private_producer(&self, nodes: &[NodeProto], name: &str, taken: &[bool]) -> Option<usize> {
        let i = *self.producer.get(name)?;
        let n = &nodes[i];
        (!taken[i] && n.output.len() == 1 && self.count.get(name) == Some(&1) && n.domain.is_empty()).then_some(i)
    }
}

/// Follows Mul/Div nodes back from `name`, collecting (factor, divides) pairs.
fn strip_factors(nodes: &[NodeProto], uses: &Uses, mut name: String, target: Target, taken: &[bool], eaten: &mut Vec<usize>, factors: &mut Vec<(String, Target, bool)>) -> String {
    while let Some(i) = uses.private_producer(nodes, &name, taken) {
        let n = &nodes[i];
        if !(n.op_type == "Mul" || n.op_type == "Div") || n.input.len() != 2 {
            break;
        }
        // For Mul either side may be the factor: a constant (initializer or Constant node) is.
        let constant = |x: &str| uses.producer.get(x).is_none_or(|&p| nodes[p].op_type == "Constant");
        let (main, factor) = if n.op_type == "Mul" && constant(&n.input[0]) && !constant(&n.input[1]) { (1, 0) } else { (0, 1) };
        factors.push((n.input[factor].clone(), target, n.op_type == "Div"));
        eaten.push(i);
        name = n.input[main].clone();
    }
    name
}

/// Rewrites matched subgraphs; returns the new node list.
pub fn fuse(nodes: Vec<NodeProto>, outputs: &[String]) -> Vec<NodeProto> {
    let uses = Uses::new(&nodes, outputs);
    let mut taken = vec![false; nodes.len()];
    let mut replace: HashMap<usize, NodeProto> = HashMap::new();
    for (si, s) in nodes.iter().enumerate() {
        if s.op_type != "Softmax" || !s.domain.is_empty() || taken[si] {
            continue;
        }
        let axis = attr(s, "axis").map_or(-1, |a| a.i);
        if axis != -1 && axis != 3 {
            continue;
        }
        // Softmax -> MatMul(probs, v), read by nothing else.
        let Some(out) = s.output.first() else { continue };
        if uses.count.get(out.as_str()) != Some(&1) {
            continue;
        }
        let Some(m2) = nodes.iter().position(|n| n.op_type == "MatMul" && n.domain.is_empty() && n.input.first() == Some(out)) else { continue };
        let mut eaten = vec![si];
        let mut factors = Vec::new();
        let mut mask = String::new();
        let mut scores = s.input[0].clone();
        if let Some(ai) = uses.private_producer(&nodes, &scores, &taken).filter(|&i| nodes[i].op_type == "Add" && nodes[i].input.len() == 2) {
            // One side leads (through factors) to the q k^T product; the other is the mask.
            let leads = |name: &str| {
                let mut e = Vec::new();
                let mut f = Vec::new();
                let base = strip_factors(&nodes, &uses, name.to_string(), Target::Scores, &taken, &mut e, &mut f);
                uses.private_producer(&nodes, &base, &taken).is_some_and(|i| nodes[i].op_type == "MatMul")
            };
            let add = &nodes[ai];
            let side = if leads(&add.input[0]) { 0 } else if leads(&add.input[1]) { 1 } else { continue };
            mask = add.input[1 - side].clone();
            scores = add.input[side].clone();
            eaten.push(ai);
        }
        let base = strip_factors(&nodes, &uses, scores, Target::Scores, &taken, &mut eaten, &mut factors);
        let Some(m1) = uses.private_producer(&nodes, &base, &taken).filter(|&i| nodes[i].op_type == "MatMul") else { continue };
        eaten.push(m1);
        let q = strip_factors(&nodes, &uses, nodes[m1].input[0].clone(), Target::Q, &taken, &mut eaten, &mut factors);
        let mut k = strip_factors(&nodes, &uses, nodes[m1].input[1].clone(), Target::K, &taken, &mut eaten, &mut factors);
        // k' = Transpose(x, P) (often P = [0, 1, 3, 2] of k, or [0, 2, 3, 1] of the projected
        // [b, s, h, d] where torch folded two transposes): the kernel takes k = Transpose(x, P
        // with its last two entries swapped), one transpose (none when that is the identity).
        // Without a Transpose, k is k' with its last two axes swapped.
        let mut perm: Vec<i64> = vec![0, 1, 2, 3];
        if let Some(ti) = uses.private_producer(&nodes, &k, &taken).filter(|&i| nodes[i].op_type == "Transpose") {
            if let Some(p) = attr(&nodes[ti], "perm").filter(|p| p.ints.len() == 4) {
                perm = p.ints.clone();
                k = nodes[ti].input[0].clone();
                eaten.push(ti);
            }
        }
        perm.swap(2, 3);
        let v = nodes[m2].input[1].clone();
        let mut inputs = vec![q, k, v, mask];
        let mut codes = Vec::new();
        for (name, target, divides) in &factors {
            inputs.push(name.clone());
            codes.push(match target { Target::Q => 0, Target::K => 2, Target::Scores => 4 } + *divides as i64);
        }
        let ints = |name: &str, v: Vec<i64>| AttributeProto { name: name.into(), ints: v, r#type: 7, ..Default::default() };
        let fused = NodeProto {
            op_type: "Attention".into(),
            domain: DOMAIN.into(),
            name: format!("{} (fused attention)", nodes[m2].name),
            input: inputs,
            output: nodes[m2].output.clone(),
            attribute: vec![ints("factors", codes), ints("k_perm", perm)],
            ..Default::default()
        };
        for &i in &eaten {
            taken[i] = true;
        }
        taken[m2] = true;
        replace.insert(m2, fused);
    }
    let nodes = nodes.into_iter().enumerate().filter_map(|(i, n)| if let Some(f) = replace.remove(&i) { Some(f) } else if taken[i] { None } else { Some(n) }).collect();
    conv_activations(nodes, outputs)
}

/// Conv -> Relu or Clip, where nothing else reads the convolution's output: one "webtensor" Conv
/// node (the Conv's inputs, "" for a missing bias, then the Clip's min and max inputs; the Clip's
/// opset-6 bounds as attributes) that applies the activation as it stores its output.
fn conv_activations(nodes: Vec<NodeProto>, outputs: &[String]) -> Vec<NodeProto> {
    let uses = Uses::new(&nodes, outputs);
    let mut taken = vec![false; nodes.len()];
    let mut replace: HashMap<usize, NodeProto> = HashMap::new();
    for (ai, a) in nodes.iter().enumerate() {
        if !a.domain.is_empty() || !matches!(a.op_type.as_str(), "Relu" | "Clip") {
            continue;
        }
        let Some(ci) = a.input.first().and_then(|x| uses.private_producer(&nodes, x, &taken)).filter(|&i| nodes[i].op_type == "Conv") else { continue };
        let mut fused = nodes[ci].clone();
        fused.domain = DOMAIN.into();
        fused.name = format!("{} (+ {})", nodes[ci].name, a.op_type);
        fused.output = a.output.clone();
        fused.input.resize(3, String::new());
        fused.input.extend(a.input.iter().skip(1).cloned());
        fused.attribute.push(AttributeProto { name: "activation".into(), s: a.op_type.clone().into_bytes(), r#type: 3, ..Default::default() });
        for bound in ["min", "max"] {
            if let Some(v) = attr(a, bound) {
                fused.attribute.push(AttributeProto { name: format!("activation_{bound}"), f: v.f, r#type: 1, ..Default::default() });
            }
        }
        taken[ci] = true;
        replace.insert(ai, fused);
    }
    nodes.into_iter().enumerate().filter_map(|(i, n)| if let Some(f) = replace.remove(&i) { Some(f) } else if taken[i] { None } else { Some(n) }).collect()
}

/// A fused Conv + activation node: the activation is applied in the convolution's store when its
/// Clip bounds are known scalars (or it is a Relu); otherwise as the nodes were written.
fn conv_with_activation(node: &NodeProto, args: &[Option<&Value>]) -> Result<Vec<Value>> {
    let kind = attr(node, "activation").map(|a| String::from_utf8_lossy(&a.s).into_owned()).unwrap_or_default();
    // A Clip bound: absent (None), a known scalar, or a tensor only known when the model runs.
    let bound = |input: usize, attribute: &str| -> std::result::Result<Option<f32>, Tensor> {
        match opt_input(args, input) {
            Some(v) => match v.host.as_ref().and_then(HostData::first).filter(|_| v.tensor.numel() == 1) {
                Some(x) => Ok(Some(x as f32)),
                None => Err(v.tensor.clone()),
            },
            None => Ok(attr(node, &format!("activation_{attribute}")).map(|a| a.f)),
        }
    };
    let activation = match kind.as_str() {
        "Relu" => ops::ConvActivation::Relu,
        "Clip" => match (bound(3, "min"), bound(4, "max")) {
            (Ok(lo), Ok(hi)) => ops::ConvActivation::Clip(lo.unwrap_or(f32::NEG_INFINITY), hi.unwrap_or(f32::INFINITY)),
            (lo, hi) => {
                let mut y = super::nodes::conv(node, args, None)?;
                for (b, bound) in [(lo, ops::maximum as fn(&Tensor, &Tensor) -> Result<Tensor>), (hi, ops::minimum)] {
                    match b {
                        Ok(Some(v)) => y = bound(&y, &ops::fill(y.device(), &[], v as f64, DType::F32)?)?,
                        Ok(None) => {}
                        Err(t) => y = bound(&y, &t)?,
                    }
                }
                return Ok(vec![plain(y)]);
            }
        },
        other => crate::bail!("onnx", "a fused convolution with an unknown activation {other:?}"),
    };
    Ok(vec![plain(super::nodes::conv(node, args, Some(activation))?)])
}

/// Runs a node of the "webtensor" domain.
pub fn run(node: &NodeProto, args: &[Option<&Value>]) -> Result<Vec<Value>> {
    if node.op_type == "Conv" {
        return conv_with_activation(node, args);
    }
    let (q, k, v) = (&input(args, 0)?.tensor, &input(args, 1)?.tensor, &input(args, 2)?.tensor);
    let mask = opt_input(args, 3).map(|m| &m.tensor);
    let codes = attr(node, "factors").map(|a| a.ints.clone()).unwrap_or_default();
    // k = Transpose(input 1, k_perm); the product reads k' = k with its last two axes swapped.
    let k_perm: Vec<usize> = attr(node, "k_perm").map(|a| a.ints.iter().map(|&i| i as usize).collect()).unwrap_or_default();
    if k_perm.len() != 4 || k.rank() != 4 {
        crate::bail!("onnx", "attention: k' of shape {:?} is not 4-D", k.shape());
    }
    let mut kt_perm = k_perm.clone();
    kt_perm.swap(2, 3);
    let factors: Vec<&Value> = (0..codes.len()).map(|i| input(args, 4 + i)).collect::<Result<_>>()?;
    // The fused kernel: known scalar factors, 4-D q, k, v, a float mask (or none).
    let scalars: Option<Vec<f64>> = factors.iter().map(|f| (f.tensor.numel() == 1 && f.tensor.rank() <= 4).then(|| f.host.as_ref().and_then(HostData::first)).flatten()).collect();
    let shapes_fit = q.rank() == 4 && v.rank() == 4 && mask.is_none_or(|m| m.dtype() == DType::F32 && m.rank() <= 4);
    if let (Some(scalars), true) = (scalars, shapes_fit) {
        let k = &if k_perm == [0, 1, 2, 3] { k.clone() } else { ops::transpose(k, Some(&k_perm))? };
        let scale = codes.iter().zip(&scalars).fold(1.0f64, |s, (&code, &f)| if code % 2 == 1 { s / f } else { s * f });
        let fits = q.shape()[..2] == k.shape()[..2] || (q.shape()[0] == k.shape()[0] && k.shape()[1] > 0 && q.shape()[1] % k.shape()[1] == 0);
        if scale.is_finite() && fits && k.shape()[2] == v.shape()[2] && q.shape()[3] == k.shape()[3] {
            return Ok(vec![plain(ops::attention(q, k, v, mask, false, Some(scale as f32))?)]);
        }
    }
    // Otherwise the nodes as written.
    let apply = |mut t: Tensor, target: i64| -> Result<Tensor> {
        for (&code, f) in codes.iter().zip(&factors) {
            if code / 2 == target {
                t = if code % 2 == 1 { ops::div(&t, &f.tensor)? } else { ops::mul(&t, &f.tensor)? };
            }
        }
        Ok(t)
    };
    let kt = if kt_perm == [0, 1, 2, 3] { k.clone() } else { ops::transpose(k, Some(&kt_perm))? };
    let mut scores = apply(ops::matmul(&apply(q.clone(), 0)?, &apply(kt, 1)?, false, false)?, 2)?;
    if let Some(m) = mask {
        scores = ops::add(&scores, m)?;
    }
    Ok(vec![plain(ops::matmul(&ops::softmax(&scores, -1)?, v, false, false)?)])
}
