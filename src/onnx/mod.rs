//! ONNX import for inference: a model file (protobuf, parsed with prost) becomes a graph of this
//! engine's ops, run on whichever device the model was loaded to (CPU or GPU). Every op of the
//! graph is checked against the supported set before any weight is uploaded, so an unsupported
//! model fails at once with the op, its node and the opset named.
//!
//! Layout: ONNX is NCHW; the engine's convolutions and pools are NHWC, so those ops transpose at
//! their boundary. int64 tensors (shapes, indices) are held as int32 (values out of range are an
//! error, but for small tensors with exact host values, where they saturate). Small integer
//! tensors whose values are known while loading (initializers, Constant, Shape of a known shape,
//! ...) also keep their values on the host, which ops such as Reshape, Slice or Unsqueeze need in
//! order to know their output shapes; elementwise shape arithmetic on them runs on the host too
//! (host.rs). The com.microsoft ops of onnxruntime's transformer optimizer are in contrib.rs.
//!
//! Half precision: float16 (and bfloat16) initializers and constants are decoded exactly into
//! float32, and a Cast to float16 rounds to the nearest half (ties to even, overflow to infinity).
//! A float16 model therefore runs with its stored values as the file has them and its arithmetic
//! in float32: at least as accurate as float16 arithmetic, never overflowing where float16 would
//! between casts, and holding float32's bytes (a 16-bit tensor type is #21's next step).
mod contrib;
mod host;
mod indexing;
mod memo;
mod nodes;
mod order;
mod patterns;
mod plan;
pub mod proto;
mod qlinear;
mod quantized;

use std::collections::HashMap;

use prost::Message;

use crate::{bail, DType, Device, Error, Result, Tensor};
use proto::{data_type, TensorProto};

const OP: &str = "onnx";

/// Tensors up to this many elements keep a host copy of their values when known.
pub(crate) const HOST_VALUES_MAX: usize = 4096;
/// The newest opset and IR version of onnx 1.22, whose conformance cases the importer is tested on.
pub const MAX_OPSET: i64 = 27;
pub const MAX_IR_VERSION: i64 = 13;

/// A value flowing through the graph: the tensor, and its values when they are known on the host.
#[derive(Clone)]
pub struct Value {
    pub tensor: Tensor,
    pub host: Option<HostData>,
}

/// Host copy of a (small) tensor's values.
#[derive(Clone, Debug)]
pub enum HostData {
    Float(Vec<f32>),
    Int(Vec<i64>),
}

impl HostData {
    pub fn as_ints(&self) -> Vec<i64> {
        match self {
            HostData::Int(v) => v.clone(),
            HostData::Float(v) => v.iter().map(|&x| x as i64).collect(),
        }
    }

    /// The first value (a scalar's), if there is one.
    pub fn first(&self) -> Option<f64> {
        match self {
            HostData::Float(v) => v.first().map(|&x| x as f64),
            HostData::Int(v) => v.first().map(|&x| x as f64),
        }
    }

    pub fn as_floats(&self) -> Vec<f32> {
        match self {
            HostData::Float(v) => v.clone(),
            HostData::Int(v) => v.iter().map(|&x| x as f32).collect(),
        }
    }
}

/// Decoded tensor data: dims, dtype, values.
pub struct Decoded {
    pub dims: Vec<usize>,
    pub dtype: DType,
    pub data: HostData,
}

/// A tensor's declared dimensions, each in [0, 2^31): checked here because on wasm32 `as usize`
/// would keep the low 32 bits (a weight declared [2^32 + 4, 2] read as [4, 2]).
fn tensor_dims(what: &str, dims: &[i64]) -> Result<Vec<usize>> {
    dims.iter()
        .map(|&d| match d {
            0..=0x7fff_ffff => Ok(d as usize),
            _ => bail!(OP, "{what} declares dimension {d} in {dims:?} (each must be in [0, 2^31))"),
        })
        .collect()
}

/// Reads a TensorProto (initializer, Constant value, or a test-data .pb file).
pub fn decode_tensor(t: &TensorProto) -> Result<Decoded> {
    let what = if t.name.is_empty() { "a tensor".to_string() } else { format!("tensor '{}'", t.name) };
    if t.data_location == 1 || !t.external_data.is_empty() {
        bail!(OP, "{what} keeps its data in an external file; external data is not supported yet");
    }
    let dims = tensor_dims(&what, &t.dims)?;
    let numel = crate::shape::checked_numel(OP, &dims)?;
    let raw = &t.raw_data;
    let need = |bytes: usize| -> Result<()> {
        if !raw.is_empty() && raw.len() != numel * bytes {
            bail!(OP, "{what}: {} bytes of data for shape {dims:?} (expected {})", raw.len(), numel * bytes);
        }
        Ok(())
    };
    let chunks = |n: usize| raw.chunks_exact(n);
    let (dtype, data) = match t.data_type {
        data_type::FLOAT => {
            need(4)?;
            let v: Vec<f32> =
                if raw.is_empty() { t.float_data.clone() } else { chunks(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect() };
            (DType::F32, HostData::Float(v))
        }
        data_type::DOUBLE => {
            need(8)?;
            let v: Vec<f32> = if raw.is_empty() {
                t.double_data.iter().map(|&x| x as f32).collect()
            } else {
                chunks(8).map(|c| f64::from_le_bytes(c.try_into().unwrap()) as f32).collect()
            };
            (DType::F32, HostData::Float(v))
        }
        data_type::INT64 => {
            need(8)?;
            let v: Vec<i64> =
                if raw.is_empty() { t.int64_data.clone() } else { chunks(8).map(|c| i64::from_le_bytes(c.try_into().unwrap())).collect() };
            (DType::I32, HostData::Int(v))
        }
        data_type::INT32 | data_type::INT8 | data_type::UINT8 | data_type::INT16 | data_type::UINT16 => {
            let width = match t.data_type {
                data_type::INT32 => 4,
                data_type::INT16 | data_type::UINT16 => 2,
                _ => 1,
            };
            need(width)?;
            let v: Vec<i64> = if raw.is_empty() {
                t.int32_data.iter().map(|&x| x as i64).collect()
            } else {
                match t.data_type {
                    data_type::INT32 => chunks(4).map(|c| i32::from_le_bytes(c.try_into().unwrap()) as i64).collect(),
                    data_type::INT16 => chunks(2).map(|c| i16::from_le_bytes(c.try_into().unwrap()) as i64).collect(),
                    data_type::UINT16 => chunks(2).map(|c| u16::from_le_bytes(c.try_into().unwrap()) as i64).collect(),
                    data_type::INT8 => raw.iter().map(|&b| b as i8 as i64).collect(),
                    _ => raw.iter().map(|&b| b as i64).collect(),
                }
            };
            (DType::I32, HostData::Int(v))
        }
        data_type::INT4 | data_type::UINT4 => {
            // Two codes a byte, the first in the low nibble; an odd count leaves the last high nibble unused.
            if !raw.is_empty() && raw.len() != numel.div_ceil(2) {
                bail!(OP, "{what}: {} bytes of 4-bit data for shape {dims:?} (expected {})", raw.len(), numel.div_ceil(2));
            }
            let bytes: Vec<u8> = if raw.is_empty() { t.int32_data.iter().map(|&x| x as u8).collect() } else { raw.clone() };
            let signed = t.data_type == data_type::INT4;
            let v: Vec<i64> = (0..numel.min(bytes.len() * 2))
                .map(|i| {
                    let nibble = (bytes[i / 2] >> (4 * (i % 2))) & 15;
                    if signed { ((nibble << 4) as i8 >> 4) as i64 } else { nibble as i64 }
                })
                .collect();
            (DType::I32, HostData::Int(v))
        }
        data_type::FLOAT16 | data_type::BFLOAT16 => {
            // Held as float32 (exactly: every half and bfloat16 value is a float32 value).
            need(2)?;
            let bits: Vec<u16> = if raw.is_empty() { t.int32_data.iter().map(|&x| x as u16).collect() } else { chunks(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect() };
            let v: Vec<f32> = if t.data_type == data_type::FLOAT16 {
                bits.iter().map(|&b| half::f16::from_bits(b).to_f32()).collect()
            } else {
                bits.iter().map(|&b| half::bf16::from_bits(b).to_f32()).collect()
            };
            (DType::F32, HostData::Float(v))
        }
        data_type::BOOL => {
            need(1)?;
            let v: Vec<i64> =
                if raw.is_empty() { t.int32_data.iter().map(|&x| (x != 0) as i64).collect() } else { raw.iter().map(|&b| (b != 0) as i64).collect() };
            (DType::Bool, HostData::Int(v))
        }
        other => bail!(OP, "{what} has ONNX data type {other}, which is not supported (float, float16, bfloat16, double, int4/uint4, int8/uint8, int16/uint16, int32, int64 and bool are)"),
    };
    let len = match &data {
        HostData::Float(v) => v.len(),
        HostData::Int(v) => v.len(),
    };
    if len != numel {
        bail!(OP, "{what}: {len} values for shape {dims:?} ({numel} expected)");
    }
    Ok(Decoded { dims, dtype, data })
}

/// Uploads decoded data as a tensor (int64 narrowed to int32, with a range check).
pub fn upload(device: &Device, d: &Decoded) -> Result<Value> {
    let tensor = match &d.data {
        HostData::Float(v) => Tensor::from_f32(device, v, &d.dims)?,
        HostData::Int(v) => {
            // int64 is held as int32 on the device. Exporters write INT64_MAX / INT64_MIN as
            // "to the end" in Slice bounds: those saturate, while the host copy stays exact.
            let host_kept = crate::shape::checked_numel(OP, &d.dims)? <= HOST_VALUES_MAX;
            let mut words = Vec::with_capacity(v.len());
            for &x in v {
                let w = match i32::try_from(x) {
                    Ok(w) => w,
                    Err(_) if host_kept => x.clamp(i32::MIN as i64, i32::MAX as i64) as i32,
                    Err(_) => bail!(OP, "the integer {x} does not fit in int32 (int64 tensors are held as int32)"),
                };
                words.push(w as u32);
            }
            Tensor::from_words(device, words, &d.dims, d.dtype)?
        }
    };
    // Keep host values of small tensors: shapes, axes, indices, scalars.
    let host = if crate::shape::checked_numel(OP, &d.dims)? <= HOST_VALUES_MAX { Some(d.data.clone()) } else { None };
    Ok(Value { tensor, host })
}

/// An initializer whose bytes live in a file beside the model (ONNX "external data"): the
/// tensor is allocated at load, and the caller streams `length` bytes from `location` at
/// `offset` into it (see `OnnxModel::external_data`).
#[derive(Clone, Debug)]
pub struct ExternalRef {
    pub name: String,
    pub location: String,
    pub offset: u64,
    pub length: u64,
}

/// Reads an external-data initializer's reference, refusing paths that leave the model's folder.
fn external_ref(t: &TensorProto, numel: usize) -> Result<ExternalRef> {
    let get = |k: &str| t.external_data.iter().find(|e| e.key == k).map(|e| e.value.as_str());
    let what = format!("initializer '{}'", t.name);
    let location = get("location").ok_or_else(|| Error::new(OP, format!("{what} has external data without a location")))?;
    if location.is_empty() || location.starts_with('/') || location.contains('\\') || location.split('/').any(|p| p == "..") || location.contains(':') {
        bail!(OP, "{what}: external data location '{location}' must be a relative path inside the model's folder");
    }
    let number = |k: &str| -> Result<Option<u64>> {
        get(k).map(|v| v.parse::<u64>().map_err(|_| Error::new(OP, format!("{what}: external data {k} '{v}' is not a number")))).transpose()
    };
    let bytes = numel as u64 * 4;
    let length = number("length")?.unwrap_or(bytes);
    if length != bytes {
        bail!(OP, "{what}: external data of {length} bytes for {numel} 4-byte values");
    }
    Ok(ExternalRef { name: t.name.clone(), location: location.to_string(), offset: number("offset")?.unwrap_or(0), length })
}

/// A loaded ONNX model, ready to run on its device.
pub struct OnnxModel {
    device: Device,
    opset: i64,
    nodes: Vec<proto::NodeProto>,
    /// The initializers (packed quantized weights aside), and their index by name.
    constants: Vec<Value>,
    constant_index: HashMap<String, usize>,
    /// The nodes' wiring, resolved from names at load.
    plan: plan::Plan,
    /// Outputs of nodes whose inputs are known before a run, kept for the next run (memo.rs).
    memo: memo::Memo,
    /// Weights packed for the quantized matmuls, and the declared types those ops read.
    quant: quantized::Prepared,
    /// The float initializers, in file order.
    weight_names: Vec<String>,
    /// Initializers still to be filled from external data files.
    pub external: Vec<ExternalRef>,
    /// Graph inputs that are not initializers: what `run` must be given, in order.
    pub inputs: Vec<String>,
    /// Each input's declared shape: a size, or None for a symbolic or unstated one.
    pub input_shapes: Vec<Vec<Option<usize>>>,
    pub outputs: Vec<String>,
}

/// The shape a graph input declares (empty when it declares none).
fn declared_shape(v: &proto::ValueInfoProto) -> Vec<Option<usize>> {
    let dims = v.r#type.as_ref().and_then(|t| t.tensor_type.as_ref()).and_then(|t| t.shape.as_ref()).map(|s| s.dim.as_slice()).unwrap_or(&[]);
    dims.iter().map(|d| d.dim_value.and_then(|n| usize::try_from(n).ok())).collect()
}

/// How a model loads.
pub struct LoadOptions {
    /// MatMul weights stored as float16 stay half precision (packed codes the matmul kernels
    /// widen in registers: half the memory), frozen like quantized weights. Off, they load as
    /// float32 tensors that fine-tuning can train.
    pub keep_half_weights: bool,
}

impl Default for LoadOptions {
    fn default() -> LoadOptions {
        LoadOptions { keep_half_weights: true }
    }
}

impl OnnxModel {
    /// Parses and checks a model file, then uploads its initializers to `device`.
    pub fn from_bytes(device: &Device, bytes: &[u8]) -> Result<OnnxModel> {
        OnnxModel::from_bytes_with(device, bytes, &LoadOptions::default())
    }

    /// `from_bytes` with options.
    pub fn from_bytes_with(device: &Device, bytes: &[u8], options: &LoadOptions) -> Result<OnnxModel> {
        let model = proto::ModelProto::decode(bytes).map_err(|e| Error::new(OP, format!("not a valid ONNX model file: {e}")))?;
        let Some(mut graph) = model.graph else { bail!(OP, "the model file has no graph") };
        graph.node = order::topological(std::mem::take(&mut graph.node))?;
        let mut opset = None;
        for o in &model.opset_import {
            if o.domain.is_empty() || o.domain == "ai.onnx" {
                opset = Some(o.version);
            }
        }
        let Some(opset) = opset else { bail!(OP, "the model imports no ai.onnx opset") };
        if !(6..=MAX_OPSET).contains(&opset) {
            bail!(OP, "opset {opset} is not supported (6 to {MAX_OPSET} are; a newer opset may have changed what its ops mean)");
        }
        if !(3..=MAX_IR_VERSION).contains(&model.ir_version) {
            bail!(OP, "IR version {} is not supported (3 to {MAX_IR_VERSION} are)", model.ir_version);
        }
        // Every node is checked before any weight loads.
        for (i, node) in graph.node.iter().enumerate() {
            let name = node_label(i, node);
            if node.domain == "com.microsoft" {
                if !contrib::is_supported(&node.op_type) && !quantized::CONTRIB_OPS.contains(&node.op_type.as_str()) {
                    bail!(OP, "unsupported op '{}' of domain 'com.microsoft' (node {name})", node.op_type);
                }
                continue;
            }
            if !(node.domain.is_empty() || node.domain == "ai.onnx") {
                bail!(OP, "unsupported op '{}' of domain '{}' (node {name}, opset {opset})", node.op_type, node.domain);
            }
            if !nodes::is_supported(&node.op_type) && !quantized::OPS.contains(&node.op_type.as_str()) {
                bail!(OP, "unsupported op '{}' (node {name}, opset {opset})", node.op_type);
            }
            // Before opset 7, binary ops broadcast only when told to, and then from `axis`.
            if node.attribute.iter().any(|a| a.name == "axis" && node.attribute.iter().any(|b| b.name == "broadcast" && b.i != 0)) {
                bail!(OP, "unsupported: legacy broadcasting with an axis in op '{}' (node {name}, opset {opset})", node.op_type);
            }
        }
        let quant = quantized::prepare(&graph, device, options)?;
        let mut constants = Vec::new();
        let mut constant_index = HashMap::new();
        let mut weight_names = Vec::new();
        let mut external = Vec::new();
        for init in &graph.initializer {
            if quant.consumed.contains(&init.name) {
                continue;
            }
            let v = if init.data_location == 1 || !init.external_data.is_empty() {
                // Allocated now, filled by the caller from the external file (never through the heap).
                let dtype = match init.data_type {
                    data_type::FLOAT => DType::F32,
                    data_type::INT32 => DType::I32,
                    other => bail!(OP, "initializer '{}': external data of ONNX type {other} is not supported (float and int32 are)", init.name),
                };
                let dims = tensor_dims(&format!("initializer '{}'", init.name), &init.dims)?;
                let numel = crate::shape::checked_numel(OP, &dims)?;
                external.push(external_ref(init, numel)?);
                Value { tensor: crate::ops::zeros(device, &dims, dtype)?, host: None }
            } else {
                upload(device, &decode_tensor(init)?)?
            };
            if v.tensor.dtype() == DType::F32 {
                // Products read it on every run: the CPU GEMM may keep it packed.
                v.tensor.mark_weight();
                weight_names.push(init.name.clone());
            }
            // A repeated initializer name: the last one wins, as it would in a name map.
            match constant_index.get(&init.name) {
                Some(&i) => constants[i] = v,
                None => {
                    constant_index.insert(init.name.clone(), constants.len());
                    constants.push(v);
                }
            }
        }
        let graph_inputs: Vec<&proto::ValueInfoProto> = graph.input.iter().filter(|v| !constant_index.contains_key(&v.name)).collect();
        let inputs: Vec<String> = graph_inputs.iter().map(|v| v.name.clone()).collect();
        let input_shapes = graph_inputs.iter().map(|v| declared_shape(v)).collect();
        let outputs: Vec<String> = graph.output.iter().map(|v| v.name.clone()).collect();
        // DequantizeLinear nodes folded into a packed MatMul weight are not run.
        let kept = graph.node.into_iter().filter(|n| !n.output.first().is_some_and(|o| quant.folded.contains(o))).collect();
        let nodes = patterns::fuse(kept, &outputs);
        let plan = plan::Plan::new(&nodes, &constant_index, &inputs, &outputs, &quant.consumed, &|o| quant.packed.contains_key(o))?;
        let memo = memo::Memo::new(nodes.len());
        Ok(OnnxModel { device: device.clone(), opset, nodes, constants, constant_index, plan, memo, quant, weight_names, external, inputs, input_shapes, outputs })
    }

    /// The tensor of initializer `name` (sharing the model's storage), e.g. to fill from external
    /// data. Outputs kept from earlier runs are dropped, since the caller may change it.
    pub fn initializer(&self, name: &str) -> Option<Tensor> {
        self.memo.clear();
        self.constant_index.get(name).map(|&i| self.constants[i].tensor.clone())
    }

    /// How many node evaluations reused an earlier run's outputs (memo.rs), over every run so far.
    pub fn reused_outputs(&self) -> usize {
        self.memo.reused()
    }

    /// How many subgraphs were matched at load and run as one fused op (patterns.rs).
    pub fn fused_subgraphs(&self) -> usize {
        self.nodes.iter().filter(|n| n.domain == patterns::DOMAIN).count()
    }

    /// Bytes the quantized weights hold on the device, packed (4- or 8-bit codes and their scales).
    pub fn packed_weight_bytes(&self) -> usize {
        self.quant.packed_bytes()
    }

    pub fn opset(&self) -> i64 {
        self.opset
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Runs the graph on `inputs` (in the order of `self.inputs`); returns the graph outputs.
    pub fn run(&self, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        let values: Vec<Value> = inputs.iter().map(|t| Value { tensor: t.clone(), host: None }).collect();
        self.run_values(&values)
    }

    /// As `run`, for inputs whose values may also be known on the host (shape or axes inputs that
    /// ops need to know while building the graph).
    pub fn run_values(&self, inputs: &[Value]) -> Result<Vec<Tensor>> {
        crate::autograd::no_grad(|| self.forward(inputs))
    }

    /// Runs the graph recording gradients, for fine-tuning: weights from `trainable_weights` that
    /// require gradients receive them on `backward`.
    pub fn run_recording(&self, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        let values: Vec<Value> = inputs.iter().map(|t| Value { tensor: t.clone(), host: None }).collect();
        self.forward(&values)
    }

    /// As `run_recording`, for inputs whose values may also be known on the host.
    pub fn run_values_recording(&self, inputs: &[Value]) -> Result<Vec<Tensor>> {
        self.forward(inputs)
    }

    /// The float initializers (the weights), in file order, as tensors sharing the model's storage:
    /// an optimizer stepping them changes the model. Their host copies are dropped, since they will
    /// no longer be constant.
    pub fn trainable_weights(&mut self) -> Vec<(String, Tensor)> {
        self.memo.clear();
        let mut out = Vec::new();
        for name in &self.weight_names {
            if let Some(v) = self.constant_index.get(name).map(|&i| &mut self.constants[i]) {
                v.host = None;
                out.push((name.clone(), v.tensor.clone()));
            }
        }
        out
    }

    fn forward(&self, inputs: &[Value]) -> Result<Vec<Tensor>> {
        if inputs.len() != self.inputs.len() {
            bail!(OP, "the model takes {} inputs ({:?}), got {}", self.inputs.len(), self.inputs, inputs.len());
        }
        // The run's values, by plan slot: graph inputs, then node outputs, each dropped after
        // its last reader.
        let mut env: Vec<Option<Value>> = vec![None; self.plan.live_names.len()];
        // Which live values are known before the data flows (memo.rs); the inputs are not.
        let mut known: Vec<Option<memo::Known>> = vec![None; self.plan.live_names.len()];
        for (&slot, v) in self.plan.inputs.iter().zip(inputs) {
            let mut v = v.clone();
            // Small integer inputs on the CPU can be read right away: ops that need a shape or
            // axes from an input then work there too.
            if v.host.is_none() && v.tensor.dtype() != DType::F32 && v.tensor.numel() <= HOST_VALUES_MAX {
                if let Ok(words) = v.tensor.to_words_sync() {
                    v.host = Some(HostData::Int(words.iter().map(|&w| w as i32 as i64).collect()));
                }
            }
            env[slot] = Some(v);
        }
        for (i, (node, step)) in self.nodes.iter().zip(&self.plan.steps).enumerate() {
            let args: Vec<Option<&Value>> = step.args.iter().map(|s| s.map(|s| self.value(&env, s)).transpose()).collect::<Result<_>>()?;
            let key = memo::Memo::key(node, step, &args, &known, &self.constants);
            if let Some((outs, kept)) = key.as_deref().and_then(|k| self.memo.get(i, k)) {
                self.place(&mut env, &mut known, step, outs, Some(kept));
                continue;
            }
            let packed = if step.packed { node.output.first().and_then(|o| self.quant.packed.get(o)) } else { None };
            let outs = match (packed, node.domain.as_str()) {
                (Some(w), _) => quantized::run_packed(node, &args, w, &self.quant),
                (None, "com.microsoft") => contrib::run(node, &args, &self.device),
                (None, patterns::DOMAIN) => patterns::run(node, &args),
                (None, _) if quantized::OPS.contains(&node.op_type.as_str()) => quantized::run(node, &args, &self.quant),
                (None, _) => nodes::run(node, &args, self.opset, &self.device),
            };
            let outs = outs.map_err(|e| {
                let name = node_label(i, node);
                Error::new(OP, format!("{} (node {name}): {}", node.op_type, e))
            })?;
            let how = match key {
                Some(k) => Some(self.memo.put(i, k, &outs)),
                None => memo::Memo::unkeyed(node),
            };
            self.place(&mut env, &mut known, step, outs, how);
        }
        self.plan.outputs.iter().map(|&s| self.value(&env, s).map(|v| v.tensor.clone())).collect()
    }

    /// Puts a node's outputs in their slots (noting whether they are known before the data
    /// flows), then frees the slots no later node reads.
    fn place(&self, env: &mut [Option<Value>], known: &mut [Option<memo::Known>], step: &plan::Step, outs: Vec<Value>, how: Option<memo::Known>) {
        for (slot, v) in step.outs.iter().zip(outs) {
            if let Some(slot) = *slot {
                env[slot] = Some(v);
                known[slot] = how;
            }
        }
        for &slot in &step.frees {
            env[slot] = None;
            known[slot] = None;
        }
    }

    /// The value in `slot`. The plan orders every read after its node and frees after the last
    /// read, so a live slot is empty here only if its node did not give that (optional) output.
    fn value<'a>(&'a self, env: &'a [Option<Value>], slot: plan::Slot) -> Result<&'a Value> {
        match slot {
            plan::Slot::Constant(i) => Ok(&self.constants[i]),
            plan::Slot::Live(i) => env[i]
                .as_ref()
                .ok_or_else(|| Error::new(OP, format!("'{}' is read, but the node that names it as an output does not produce it", self.plan.live_names[i]))),
        }
    }
}

/// How errors name node `i`: its name in quotes, or `#i` when it has none.
fn node_label(i: usize, node: &proto::NodeProto) -> String {
    if node.name.is_empty() {
        format!("#{i}")
    } else {
        format!("'{}'", node.name)
    }
}

/// Decodes a serialized TensorProto (e.g. ONNX test data `input_0.pb`).
pub fn decode_tensor_bytes(bytes: &[u8]) -> Result<Decoded> {
    let t = TensorProto::decode(bytes).map_err(|e| Error::new(OP, format!("not a valid TensorProto: {e}")))?;
    decode_tensor(&t)
}
