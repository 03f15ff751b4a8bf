//! Quantized ONNX operators: what onnxruntime's quantization tools write into the models that
//! transformers.js and the ONNX model zoo publish.
//! - com.microsoft MatMulNBits (4-bit blocks: "q4"; 8-bit blocks), GatherBlockQuantized (4-bit
//!   embedding tables), and MatMulInteger with a constant 8-bit weight ("q8", from
//!   quantize_dynamic): the weight is packed once at load into
//!   the engine's `QuantizedMatrix` and stays 8- or 4-bit on the device; the uint8 initializer
//!   itself is never uploaded.
//! - DequantizeLinear of a constant 4- or 8-bit weight feeding a MatMul (onnxruntime's QDQ format,
//!   from MatMul4BitsQuantizer and quantize_static): packed the same way, the DequantizeLinear
//!   folded away, where its layout (per tensor, per column, or blocks along K) has a packed form.
//! - QLinearMatMul and QLinearConv (qlinear.rs), QLinearMatMul's constant weight packed as
//!   MatMulInteger's.
//! - DynamicQuantizeLinear, QuantizeLinear and DequantizeLinear (per tensor, per axis, blocked),
//!   and MatMulInteger of two computed operands, as elementwise compositions.
//!
//! Integer tensors are held as int32 whatever their ONNX width, so a uint8 and an int8 value mean
//! the same number; where the ONNX type matters (QuantizeLinear's saturation range, an int8
//! weight's code offset) it is read from the graph's declarations at load.
//! MatMulInteger's packed product sums in int32 on the CPU in the browser (quantized_integer.rs);
//! elsewhere in float32: exact while the sums stay below 2^24 in magnitude, and within float32
//! rounding of the integer result beyond (the scale products that follow round as much).
use std::collections::{HashMap, HashSet};

use super::nodes::{attr, attr_i, input, opt_input, plain};
use super::proto::{data_type, GraphProto, NodeProto, TensorProto};
use super::{decode_tensor, tensor_dims, Value};
use crate::ops::{self, QuantizedMatrix};
use crate::{bail, DType, Device, Result, Tensor};

const OP: &str = "onnx";

/// The ai.onnx op types run here.
pub const OPS: &[&str] = &["DequantizeLinear", "DynamicQuantizeLinear", "MatMulInteger", "QLinearConv", "QLinearMatMul", "QuantizeLinear"];
/// The com.microsoft op types run here (their weights packed at load).
pub const CONTRIB_OPS: &[&str] = &["GatherBlockQuantized", "MatMulNBits"];

/// What loading prepared for the quantized ops.
#[derive(Default)]
pub struct Prepared {
    /// Packed weights, by the first output of the node that uses them.
    pub packed: HashMap<String, QuantizedMatrix>,
    /// Initializers read only by packing: never uploaded as tensors. Also the outputs of folded
    /// nodes, which nothing computes.
    pub consumed: HashSet<String>,
    /// Outputs of DequantizeLinear nodes folded into the packed weight of the MatMul reading them:
    /// those nodes are dropped from the graph.
    pub folded: HashSet<String>,
    /// QLinearConv filters with a constant weight and zero point: the weight minus its zero point
    /// as float32, made once at load, by the node's first output.
    pub filters: HashMap<String, Tensor>,
    /// ONNX element types of initializers, graph inputs and Constant values, by name.
    pub elem_types: HashMap<String, i32>,
}

/// Reads the graph's declared element types and packs the weights of MatMulNBits nodes, of
/// MatMulInteger nodes whose weight is a 2-D initializer, and (unless `options` says otherwise)
/// of MatMul nodes whose weight is a 2-D float16 initializer.
pub fn prepare(graph: &GraphProto, device: &Device, options: &super::LoadOptions) -> Result<Prepared> {
    let mut p = Prepared::default();
    for t in &graph.initializer {
        p.elem_types.insert(t.name.clone(), t.data_type);
    }
    for v in &graph.input {
        if let Some(tt) = v.r#type.as_ref().and_then(|t| t.tensor_type.as_ref()) {
            p.elem_types.entry(v.name.clone()).or_insert(tt.elem_type);
        }
    }
    for n in &graph.node {
        if n.op_type == "Constant" {
            if let (Some(t), Some(out)) = (attr(n, "value").and_then(|a| a.t.as_ref()), n.output.first()) {
                p.elem_types.insert(out.clone(), t.data_type);
            }
        }
    }
    let inits: HashMap<&str, &TensorProto> = graph.initializer.iter().map(|t| (t.name.as_str(), t)).collect();
    let mut readers: HashMap<&str, usize> = HashMap::new();
    for n in &graph.node {
        for i in &n.input {
            *readers.entry(i.as_str()).or_default() += 1;
        }
    }
    let producers: HashMap<&str, &NodeProto> = graph.node.iter().flat_map(|n| n.output.iter().map(move |o| (o.as_str(), n))).collect();
    let graph_outputs: HashSet<&str> = graph.output.iter().map(|o| o.name.as_str()).collect();
    for n in &graph.node {
        // Input i of n when nothing else reads it (and it is no graph output): its packed form
        // can replace it.
        let sole_input = |i: usize| n.input.get(i).filter(|x| readers.get(x.as_str()) == Some(&1) && !graph_outputs.contains(x.as_str()));
        if n.op_type == "QLinearConv" && matches!(n.domain.as_str(), "" | "ai.onnx") {
            if let (Some(f), Some(out)) = (constant_filter(n, &inits, device).map_err(|e| at_node(n, e))?, n.output.first()) {
                consume(&mut p.consumed, n, &[3, 5], &readers, &inits);
                p.filters.insert(out.clone(), f);
            }
            continue;
        }
        // The node whose inputs the packed form replaces, and which of them.
        let (packed, owner, replaced): (_, &NodeProto, &[usize]) = match (n.domain.as_str(), n.op_type.as_str()) {
            ("com.microsoft", "MatMulNBits") => (Some(pack_nbits(n, &inits, device).map_err(|e| at_node(n, e))?), n, &[1, 2, 3]),
            ("com.microsoft", "GatherBlockQuantized") => (Some(pack_gather(n, &inits, device).map_err(|e| at_node(n, e))?), n, &[0, 2, 3]),
            ("" | "ai.onnx", "MatMulInteger") => (pack_integer(n, 1, 3, &inits, device).map_err(|e| at_node(n, e))?, n, &[1, 3]),
            ("" | "ai.onnx", "QLinearMatMul") => (pack_integer(n, 3, 5, &inits, device).map_err(|e| at_node(n, e))?, n, &[3, 5]),
            ("" | "ai.onnx", "MatMul") => {
                // B read by this MatMul alone: a float16 initializer stays half precision; a
                // DequantizeLinear of an integer initializer folds into packed codes.
                let b = sole_input(1);
                let dq = b.and_then(|b| producers.get(b.as_str())).filter(|d| d.op_type == "DequantizeLinear" && matches!(d.domain.as_str(), "" | "ai.onnx"));
                match (b.and_then(|b| inits.get(b.as_str())), dq) {
                    (Some(init), _) if options.keep_half_weights => (pack_half(init, false, device).map_err(|e| at_node(n, e))?, n, &[1]),
                    (_, Some(dq)) => match pack_dequantized(dq, &inits, device).map_err(|e| at_node(dq, e))? {
                        Some(w) => {
                            p.folded.insert(n.input[1].clone());
                            p.consumed.insert(n.input[1].clone());
                            (Some(w), *dq, &[0, 1, 2])
                        }
                        None => (None, n, &[]),
                    },
                    _ => (None, n, &[]),
                }
            }
            ("" | "ai.onnx", "Gemm") if options.keep_half_weights => {
                match sole_input(1).and_then(|b| inits.get(b.as_str())) {
                    Some(init) => (pack_half(init, attr_i(n, "transB", 0) != 0, device).map_err(|e| at_node(n, e))?, n, &[1]),
                    None => (None, n, &[]),
                }
            }
            // A float16 embedding table gathered by row.
            ("" | "ai.onnx", "Gather") if options.keep_half_weights && attr_i(n, "axis", 0) == 0 => {
                match sole_input(0).and_then(|t| inits.get(t.as_str())) {
                    Some(init) => (pack_half(init, true, device).map_err(|e| at_node(n, e))?, n, &[0]),
                    None => (None, n, &[]),
                }
            }
            _ => (None, n, &[]),
        };
        let Some(w) = packed else { continue };
        let Some(out) = n.output.first() else { continue };
        // The packed form replaces the weight, its scales and zero points.
        consume(&mut p.consumed, owner, replaced, &readers, &inits);
        p.packed.insert(out.clone(), w);
    }
    Ok(p)
}

/// Marks the initializers at inputs `at` of `owner` that only it reads, now held in another form
/// (packed, or a centred filter): neither uploaded twice nor offered as trainable weights.
fn consume(consumed: &mut HashSet<String>, owner: &NodeProto, at: &[usize], readers: &HashMap<&str, usize>, inits: &HashMap<&str, &TensorProto>) {
    for name in at.iter().filter_map(|&i| owner.input.get(i)).filter(|s| !s.is_empty()) {
        if readers.get(name.as_str()) == Some(&1) && inits.contains_key(name.as_str()) {
            consumed.insert(name.clone());
        }
    }
}

fn at_node(n: &NodeProto, e: crate::Error) -> crate::Error {
    let name = if n.name.is_empty() { String::new() } else { format!(" (node '{}')", n.name) };
    crate::Error::new(OP, format!("{}{name}: {}", n.op_type, e.to_string().trim_start_matches("onnx: ")))
}

/// An initializer's bytes, for the 8-bit types (raw data, or one value per int32_data entry).
fn bytes_of(t: &TensorProto, what: &str) -> Result<Vec<u8>> {
    if t.data_location == 1 || !t.external_data.is_empty() {
        bail!(OP, "unsupported: {what} '{}' keeps its data in an external file", t.name);
    }
    if t.data_type != data_type::UINT8 && t.data_type != data_type::INT8 {
        bail!(OP, "{what} '{}' must be uint8 or int8, got ONNX type {}", t.name, t.data_type);
    }
    let dims = tensor_dims(what, &t.dims)?;
    let numel = crate::shape::checked_numel(OP, &dims)?;
    let bytes = if t.raw_data.is_empty() { t.int32_data.iter().map(|&v| v as u8).collect() } else { t.raw_data.clone() };
    if bytes.len() != numel {
        bail!(OP, "{what} '{}': {} bytes for shape {dims:?}", t.name, bytes.len());
    }
    Ok(bytes)
}

/// Bytes (a whole number of words) as the little-endian 32-bit words the engine's codes are.
fn le_words(bytes: &[u8]) -> Vec<u32> {
    bytes.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

fn floats_of(t: &TensorProto) -> Result<Vec<f32>> {
    Ok(decode_tensor(t)?.data.as_floats())
}

fn constant<'a>(n: &NodeProto, i: usize, inits: &HashMap<&str, &'a TensorProto>, what: &str) -> Result<Option<&'a TensorProto>> {
    match n.input.get(i).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(name) => match inits.get(name.as_str()) {
            Some(t) => Ok(Some(*t)),
            None => bail!(OP, "unsupported: the {what} '{name}' must be an initializer (it is packed when the model loads)"),
        },
    }
}

/// A float16 2-D initializer (stored in the file, not in external data) as half-precision codes:
/// half the bytes float32 would take. The weight B [K, N] of a MatMul, or its transpose [N, K]
/// (`rows`: a Gemm's transB weight, an embedding table). None for any other initializer.
fn pack_half(t: &TensorProto, rows: bool, device: &Device) -> Result<Option<QuantizedMatrix>> {
    let external = t.data_location == 1 || !t.external_data.is_empty();
    if t.data_type != data_type::FLOAT16 || t.dims.len() != 2 || external {
        return Ok(None);
    }
    let dims = tensor_dims("weight B", &t.dims)?;
    // Half codes hold one block a column, at most 2^20 long; a longer one stays float32.
    if dims[if rows { 1 } else { 0 }] > 1 << 20 {
        return Ok(None);
    }
    let numel = crate::shape::checked_numel(OP, &dims)?;
    let halves: Vec<u16> = if t.raw_data.is_empty() { t.int32_data.iter().map(|&v| v as u16).collect() } else { t.raw_data.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect() };
    if halves.len() != numel || numel == 0 {
        bail!(OP, "float16 weight '{}': {} values for shape {dims:?}", t.name, halves.len());
    }
    Ok(Some(if rows { QuantizedMatrix::from_half_rows(device, &halves, dims[0], dims[1])? } else { QuantizedMatrix::from_halves(device, &halves, dims[0], dims[1])? }))
}

/// MatMulNBits: B uint8 [N, blocks, block * bits / 8] is already the engine's code layout; zero
/// points are uint8 packed along each column's blocks (or float, one per block).
fn pack_nbits(n: &NodeProto, inits: &HashMap<&str, &TensorProto>, device: &Device) -> Result<QuantizedMatrix> {
    let get = |name: &str| -> Result<usize> {
        match attr(n, name) {
            Some(a) if a.i > 0 && a.i < 1 << 31 => Ok(a.i as usize),
            _ => bail!(OP, "attribute {name} must be a positive size"),
        }
    };
    let (k, cols, bits, block) = (get("K")?, get("N")?, get("bits")?, get("block_size")?);
    if n.input.get(4).is_some_and(|s| !s.is_empty()) {
        bail!(OP, "unsupported: g_idx (act-order group indices)");
    }
    let b = constant(n, 1, inits, "weight B")?.expect("MatMulNBits has input B");
    let scales = constant(n, 2, inits, "scales")?.ok_or_else(|| crate::Error::new(OP, "input 2 (scales) is missing"))?;
    if bits != 4 && bits != 8 {
        bail!(OP, "unsupported: {bits}-bit codes (4 and 8 are handled)");
    }
    if block > 1 << 20 || block * bits % 32 != 0 {
        bail!(OP, "unsupported: blocks of {block} {bits}-bit codes do not fill whole 32-bit words (or exceed 2^20 codes)");
    }
    let blocks = k.div_ceil(block);
    let bytes = bytes_of(b, "weight B")?;
    // In u64: hostile sizes must not wrap on wasm32. Once they match the bytes present, products
    // of these sizes fit.
    let need = cols as u64 * blocks as u64 * (block * bits / 8) as u64;
    if bytes.len() as u64 != need {
        bail!(OP, "weight B has {} bytes; N {cols}, K {k} in blocks of {block} at {bits} bits need {need}", bytes.len());
    }
    let words = le_words(&bytes);
    let scale_values = floats_of(scales)?;
    if scale_values.len() != cols * blocks {
        bail!(OP, "{} scales for N {cols} x {blocks} blocks", scale_values.len());
    }
    let zeros = match constant(n, 3, inits, "zero points")? {
        None => None,
        Some(z) if z.data_type == data_type::UINT8 => {
            let zb = bytes_of(z, "zero points")?;
            let per_col = (blocks * bits).div_ceil(8);
            if zb.len() != cols * per_col {
                bail!(OP, "{} bytes of zero points for N {cols} x {blocks} blocks of {bits} bits (expected {})", zb.len(), cols * per_col);
            }
            let mask = (1u32 << bits) - 1;
            Some((0..cols * blocks).map(|i| ((zb[(i / blocks) * per_col + (i % blocks) * bits / 8] as u32 >> ((i % blocks) * bits % 8)) & mask) as f32).collect::<Vec<f32>>())
        }
        Some(z) => {
            let v = floats_of(z)?;
            if v.len() != cols * blocks {
                bail!(OP, "{} zero points for N {cols} x {blocks} blocks", v.len());
            }
            Some(v)
        }
    };
    let words_per_block = block * bits / 32;
    QuantizedMatrix::new(
        Tensor::from_words(device, words, &[cols, blocks, words_per_block], DType::I32)?,
        Tensor::from_f32(device, &scale_values, &[cols, blocks])?,
        zeros.map(|z| Tensor::from_f32(device, &z, &[cols, blocks])).transpose()?,
        bits,
        block,
        k,
        cols,
    )
}

/// GatherBlockQuantized: an embedding table data [vocab, dim] of int4 or uint4 values quantized
/// in blocks along dim (scales [vocab, dim / block], optional zero points alike, default 0): each
/// table row is a column of the engine's W [dim, vocab], whose byte layout it already has when dim
/// is a whole number of blocks. int4 values are stored offset by 8 (nibble ^ 8).
fn pack_gather(n: &NodeProto, inits: &HashMap<&str, &TensorProto>, device: &Device) -> Result<QuantizedMatrix> {
    let data = constant(n, 0, inits, "data")?.expect("GatherBlockQuantized has input data");
    let scales = constant(n, 2, inits, "scales")?.ok_or_else(|| crate::Error::new(OP, "input 2 (scales) is missing"))?;
    let dims = tensor_dims("data", &data.dims)?;
    let block = attr_i(n, "block_size", 128);
    if dims.len() != 2 || attr_i(n, "gather_axis", 0) != 0 || !matches!(attr_i(n, "quantize_axis", 1), 1 | -1) {
        bail!(OP, "unsupported: data of rank {} gathered along axis {} and quantized along axis {} (a 2-D table gathered by row, quantized along its rows, is handled)", dims.len(), attr_i(n, "gather_axis", 0), attr_i(n, "quantize_axis", 1));
    }
    let (vocab, dim) = (dims[0], dims[1]);
    if !(8..=1 << 20).contains(&block) || block % 8 != 0 || dim % block as usize != 0 {
        bail!(OP, "unsupported: blocks of {block} over rows of {dim} (a multiple of 8 dividing the row is handled)");
    }
    let block = block as usize;
    let signed = match data.data_type {
        data_type::INT4 => true,
        data_type::UINT4 => false,
        t => bail!(OP, "data must be int4 or uint4, got ONNX type {t}"),
    };
    // Two values a byte, low nibble first: raw data, or one byte per int32_data entry.
    let raw = |t: &TensorProto, numel: usize, what: &str| -> Result<Vec<u8>> {
        if t.data_location == 1 || !t.external_data.is_empty() {
            bail!(OP, "unsupported: {what} '{}' keeps its data in an external file", t.name);
        }
        let bytes: Vec<u8> = if t.raw_data.is_empty() { t.int32_data.iter().map(|&v| v as u8).collect() } else { t.raw_data.clone() };
        if bytes.len() != numel.div_ceil(2) || t.data_type != data.data_type {
            bail!(OP, "{what} '{}' must be {} data of {numel} values (as data), got {} bytes", t.name, if signed { "int4" } else { "uint4" }, bytes.len());
        }
        Ok(bytes)
    };
    let bytes = raw(data, crate::shape::checked_numel(OP, &dims)?, "data")?;
    let flip = if signed { 0x88 } else { 0 };
    let mut padded = bytes.iter().map(|b| b ^ flip).collect::<Vec<u8>>();
    padded.resize(padded.len().next_multiple_of(4), 0);
    let words = le_words(&padded);
    let blocks = dim / block;
    let scale_values = floats_of(scales)?;
    if scale_values.len() != vocab * blocks {
        bail!(OP, "{} scales for {vocab} rows of {blocks} blocks", scale_values.len());
    }
    let offset = if signed { 8.0 } else { 0.0 };
    let zeros: Option<Vec<f32>> = match constant(n, 3, inits, "zero points")? {
        Some(z) => {
            let zb = raw(z, vocab * blocks, "zero points")?;
            Some((0..vocab * blocks).map(|i| {
                let nibble = (zb[i / 2] >> (4 * (i % 2))) & 15;
                (if signed { ((nibble << 4) as i8 >> 4) as f32 } else { nibble as f32 }) + offset
            }).collect())
        }
        // int4 without zero points is the engine's default zero (8 after the offset); uint4's is 0.
        None if signed => None,
        None => Some(vec![0.0; vocab * blocks]),
    };
    QuantizedMatrix::new(
        Tensor::from_words(device, words, &[vocab, blocks, block / 8], DType::I32)?,
        Tensor::from_f32(device, &scale_values, &[vocab, blocks])?,
        zeros.map(|z| Tensor::from_f32(device, &z, &[vocab, blocks])).transpose()?,
        4,
        block,
        dim,
        vocab,
    )
}

/// MatMulInteger (or QLinearMatMul) with a constant 2-D 8-bit weight B [K, N] at input `b_at`
/// (and a constant zero point at `zero_at`, scalar or per column): packed as one 8-bit block per
/// column with scale 1, so the kernel's (code - zero) is B's integer value minus its zero point.
/// int8 codes are stored offset by 128.
fn pack_integer(n: &NodeProto, b_at: usize, zero_at: usize, inits: &HashMap<&str, &TensorProto>, device: &Device) -> Result<Option<QuantizedMatrix>> {
    let Some(b) = n.input.get(b_at).and_then(|name| inits.get(name.as_str())) else { return Ok(None) };
    if b.dims.len() != 2 || n.input.get(zero_at).is_some_and(|z| !z.is_empty() && !inits.contains_key(z.as_str())) {
        return Ok(None);
    }
    let dims = tensor_dims("weight B", &b.dims)?;
    let (k, cols) = (dims[0], dims[1]);
    let bytes = bytes_of(b, "weight B")?;
    let offset = if b.data_type == data_type::INT8 { 128 } else { 0 };
    let code = |v: u8| if offset == 128 { (v as i8 as i32 + 128) as u32 } else { v as u32 };
    let block = k.next_multiple_of(4).max(4);
    let mut words = vec![0u32; cols * block / 4];
    for r in 0..k {
        for c in 0..cols {
            let e = c * block + r;
            words[e / 4] |= code(bytes[r * cols + c]) << (8 * (e % 4));
        }
    }
    let zero: Vec<f32> = match constant(n, zero_at, inits, "weight zero point")? {
        None => vec![offset as f32; cols],
        Some(z) => {
            let v = decode_tensor(z)?.data.as_ints();
            match v.len() {
                1 => vec![(v[0] + offset) as f32; cols],
                l if l == cols => v.iter().map(|&x| (x + offset) as f32).collect(),
                l => bail!(OP, "{l} weight zero points for a weight of {cols} columns"),
            }
        }
    };
    Ok(Some(QuantizedMatrix::new(
        Tensor::from_words(device, words, &[cols, 1, block / 4], DType::I32)?,
        ops::ones(device, &[cols, 1], DType::F32)?,
        Some(Tensor::from_f32(device, &zero, &[cols, 1])?),
        8,
        block,
        k,
        cols,
    )?))
}

/// A QLinearConv's constant filter minus its constant zero point (qlinear::centred_filter), made
/// and realized once at load: None where either is computed.
fn constant_filter(n: &NodeProto, inits: &HashMap<&str, &TensorProto>, device: &Device) -> Result<Option<Tensor>> {
    let Some(w) = n.input.get(3).and_then(|name| inits.get(name.as_str())) else { return Ok(None) };
    let zero = match n.input.get(5).filter(|s| !s.is_empty()) {
        None => None,
        Some(name) => match inits.get(name.as_str()) {
            Some(z) => Some(super::upload(device, &decode_tensor(z)?)?),
            None => return Ok(None),
        },
    };
    let filter = super::qlinear::centred_filter(&super::upload(device, &decode_tensor(w)?)?.tensor, zero.as_ref())?;
    // Computed now, so the integer copies it reads are freed.
    filter.data()?;
    Ok(Some(filter))
}

/// A DequantizeLinear of a constant 2-D int4/uint4/int8/uint8 weight W [K, N] as the engine's
/// packed matrix: per tensor, per column (axis 1), or in blocks along K (axis 0, block_size a
/// multiple of 32 / bits). None for other layouts, which then run as written. Signed codes are
/// stored offset by 2^(bits - 1), as everywhere in the engine.
fn pack_dequantized(dq: &NodeProto, inits: &HashMap<&str, &TensorProto>, device: &Device) -> Result<Option<QuantizedMatrix>> {
    let get = |i: usize| dq.input.get(i).filter(|s| !s.is_empty()).map(|name| inits.get(name.as_str()).copied());
    let (Some(Some(x)), Some(Some(scale))) = (get(0), get(1)) else { return Ok(None) };
    let zero = match get(2) {
        None => None,
        Some(Some(z)) => Some(z),
        Some(None) => return Ok(None),
    };
    let (bits, offset) = match x.data_type {
        data_type::INT4 => (4, 8),
        data_type::UINT4 => (4, 0),
        data_type::INT8 => (8, 128),
        data_type::UINT8 => (8, 0),
        _ => return Ok(None),
    };
    if x.dims.len() != 2 || zero.is_some_and(|z| z.data_type != x.data_type) || x.data_location == 1 || !x.external_data.is_empty() {
        return Ok(None);
    }
    let dims = tensor_dims("weight", &x.dims)?;
    let (k, n) = (dims[0], dims[1]);
    let scale_dims = tensor_dims("scale", &scale.dims)?;
    let axis = match attr_i(dq, "axis", 1) {
        a @ (-2..=1) => a.rem_euclid(2),
        _ => return Ok(None),
    };
    let block_size = attr_i(dq, "block_size", 0);
    let whole = k.next_multiple_of(32 / bits).max(32 / bits);
    // The block along K, the number of blocks, and where (column, block)'s scale sits in the file.
    let (block, blocks, at): (usize, usize, Box<dyn Fn(usize, usize) -> usize>) = if scale_dims.iter().product::<usize>() == 1 {
        (whole, 1, Box::new(|_, _| 0))
    } else if block_size <= 0 && axis == 1 && scale_dims == [n] {
        (whole, 1, Box::new(|c, _| c))
    } else if block_size > 0 && axis == 0 && scale_dims == [k.div_ceil(block_size as usize), n] {
        match block_size as usize {
            // One block a column (a block_size past k pads nothing: a hostile one allocates nothing).
            bs if bs >= k => (whole, 1, Box::new(|c, _| c)),
            bs if (bs * bits) % 32 == 0 => (bs, k.div_ceil(bs), Box::new(move |c, b| b * n + c)),
            _ => return Ok(None),
        }
    } else {
        return Ok(None);
    };
    if block > 1 << 20 {
        return Ok(None);
    }
    // The codes straight from the file's bytes (two's complement bits; a signed value plus the
    // offset is its bits with the top one flipped): no wider copy of a large weight.
    let numel = crate::shape::checked_numel(OP, &dims)?;
    let int32_bytes: Vec<u8>;
    let bytes: &[u8] = if x.raw_data.is_empty() {
        int32_bytes = x.int32_data.iter().map(|&v| v as u8).collect();
        &int32_bytes
    } else {
        &x.raw_data
    };
    let scales = floats_of(scale)?;
    let zeros = zero.map(|z| decode_tensor(z)).transpose()?.map(|z| z.data.as_ints());
    if bytes.len() != (numel * bits).div_ceil(8) || scales.len() != scale_dims.iter().product::<usize>() || zeros.as_ref().is_some_and(|z| z.len() != scales.len()) {
        bail!(OP, "DequantizeLinear: {} bytes of {bits}-bit values, {} scales and {:?} zero points for a [{k}, {n}] weight", bytes.len(), scales.len(), zeros.as_ref().map(Vec::len));
    }
    let flip = offset as u32;
    let code = |i: usize| -> u32 {
        let stored = if bits == 8 { bytes[i] as u32 } else { (bytes[i / 2] as u32 >> (4 * (i % 2))) & 15 };
        stored ^ flip
    };
    let mut words = vec![0u32; n * blocks * block * bits / 32];
    for r in 0..k {
        for c in 0..n {
            let e = (c * blocks + r / block) * block + r % block;
            words[e * bits / 32] |= code(r * n + c) << (e * bits % 32);
        }
    }
    let per_block = |f: &dyn Fn(usize) -> f32| -> Vec<f32> { (0..n * blocks).map(|i| f(at(i / blocks, i % blocks))).collect() };
    let zero_points = match (&zeros, offset) {
        (Some(z), _) => Some(per_block(&|i| (z[i] + offset as i64) as f32)),
        // A signed code without zero points is centred on the engine's default zero, 2^(bits-1).
        (None, 0) => Some(vec![0.0; n * blocks]),
        (None, _) => None,
    };
    Ok(Some(QuantizedMatrix::new(
        Tensor::from_words(device, words, &[n, blocks, block * bits / 32], DType::I32)?,
        Tensor::from_f32(device, &per_block(&|i| scales[i]), &[n, blocks])?,
        zero_points.map(|z| Tensor::from_f32(device, &z, &[n, blocks])).transpose()?,
        bits,
        block,
        k,
        n,
    )?))
}

/// Runs a node whose weight was packed at load.
pub fn run_packed(node: &NodeProto, args: &[Option<&Value>], w: &QuantizedMatrix, prepared: &Prepared) -> Result<Vec<Value>> {
    if node.op_type == "GatherBlockQuantized" || node.op_type == "Gather" {
        // Negative indices count from the end of the table.
        let ids = ops::cast(&input(args, 1)?.tensor, DType::I32)?;
        let vocab = ops::fill(ids.device(), &[], w.n as f64, DType::I32)?;
        let zero = ops::fill(ids.device(), &[], 0.0, DType::I32)?;
        let ids = ops::where_(&ops::less(&ids, &zero)?, &ops::add(&ids, &vocab)?, &ids)?;
        return Ok(vec![plain(w.embedding(&ids)?)]);
    }
    let a = &input(args, 0)?.tensor;
    match node.op_type.as_str() {
        // B was a DequantizeLinear of the packed weight (folded at load), or float16.
        "MatMul" => Ok(vec![plain(ops::quantized_matmul(a, w)?)]),
        // B was float16.
        "Gemm" => {
            let a = if attr_i(node, "transA", 0) != 0 { ops::transpose(a, None)? } else { a.clone() };
            Ok(vec![plain(super::nodes::gemm_epilogue(node, ops::quantized_matmul(&a, w)?, args)?)])
        }
        "QLinearMatMul" => super::qlinear::matmul_packed(node, args, w, prepared),
        "MatMulNBits" => {
            let mut y = ops::quantized_matmul(a, w)?;
            if let Some(bias) = opt_input(args, 5) {
                y = ops::add(&y, &bias.tensor)?;
            }
            Ok(vec![plain(y)])
        }
        _ => {
            // MatMulInteger: (A - a_zero_point) times the packed (B - b_zero_point), in int32.
            Ok(vec![plain(ops::quantized_matmul_integer(a, scalar_zero_point(opt_input(args, 2))?.as_ref(), w)?)])
        }
    }
}

/// A's zero point as an int32 scalar (a per-row zero point is refused).
pub(super) fn scalar_zero_point(zp: Option<&Value>) -> Result<Option<Tensor>> {
    match zp {
        None => Ok(None),
        Some(z) if z.tensor.numel() == 1 => Ok(Some(ops::reshape(&ops::cast(&z.tensor, DType::I32)?, &[])?)),
        Some(z) => bail!(OP, "unsupported: an integer matmul with a per-row zero point for A ({:?})", z.tensor.shape()),
    }
}

/// A minus its zero point, in int32.
fn minus_zero_point(a: &Tensor, zp: Option<&Value>) -> Result<Tensor> {
    let x = ops::cast(a, DType::I32)?;
    match scalar_zero_point(zp)? {
        None => Ok(x),
        Some(z) => ops::sub(&x, &z),
    }
}

/// The ai.onnx quantization ops.
pub fn run(node: &NodeProto, args: &[Option<&Value>], prepared: &Prepared) -> Result<Vec<Value>> {
    let x = &input(args, 0)?.tensor;
    match node.op_type.as_str() {
        "DynamicQuantizeLinear" => {
            let (y, scale, zero) = ops::dynamic_quantize_u8(x)?;
            Ok(vec![plain(y), plain(scale), plain(zero)])
        }
        "MatMulInteger" => {
            let b = &input(args, 1)?.tensor;
            let xa = ops::cast(&minus_zero_point(x, opt_input(args, 2))?, DType::F32)?;
            let xb = match opt_input(args, 3) {
                None => ops::cast(b, DType::F32)?,
                // Scalar, or one per column of B (its last axis).
                Some(z) => ops::sub(&ops::cast(b, DType::F32)?, &ops::cast(&z.tensor, DType::F32)?)?,
            };
            let y = ops::matmul(&xa, &xb, false, false)?;
            Ok(vec![plain(ops::cast(&ops::round(&y)?, DType::I32)?)])
        }
        "DequantizeLinear" => {
            // y = (x - zero point) * scale, the scale per tensor, per axis or in blocks along axis.
            let scale = &input(args, 1)?.tensor;
            let x_f = ops::cast(x, DType::F32)?;
            let centred = match opt_input(args, 2) {
                Some(z) => ops::sub(&x_f, &expand_param(&ops::cast(&z.tensor, DType::F32)?, x, node)?)?,
                None => x_f,
            };
            Ok(vec![plain(ops::mul(&centred, &expand_param(scale, x, node)?)?)])
        }
        "QuantizeLinear" => {
            // y = saturate(round(x / scale) + zero point) in the zero point's type (else
            // output_dtype, else uint8).
            let scale = &input(args, 1)?.tensor;
            let zp = opt_input(args, 2);
            let otherwise = match attr_i(node, "output_dtype", 0) {
                0 => data_type::UINT8,
                t => i32::try_from(t).unwrap_or(-1),
            };
            let ty = prepared.declared_int_type(node, 2, otherwise)?;
            let Some((lo, hi)) = data_type::int_range(ty) else { bail!(OP, "unsupported: QuantizeLinear to ONNX type {ty} (integer types are)") };
            let mut q = ops::round(&ops::div(&ops::cast(x, DType::F32)?, &expand_param(scale, x, node)?)?)?;
            if let Some(z) = zp {
                q = ops::add(&q, &expand_param(&ops::cast(&z.tensor, DType::F32)?, x, node)?)?;
            }
            Ok(vec![plain(ops::cast(&ops::clip(&q, lo as f32, hi as f32)?, DType::I32)?)])
        }
        "QLinearMatMul" | "QLinearConv" => super::qlinear::run(node, args, prepared),
        other => bail!(OP, "unsupported op '{other}'"),
    }
}

/// A scale or zero point shaped to broadcast over x: a scalar (per tensor); 1-D along `axis` (per
/// axis); or x's rank with `axis` in blocks of `block_size` (blocked), repeated over each block.
fn expand_param(p: &Tensor, x: &Tensor, node: &NodeProto) -> Result<Tensor> {
    if p.numel() == 1 && p.rank() <= 1 {
        return ops::reshape(p, &[]);
    }
    let rank = x.rank();
    let a = attr_i(node, "axis", 1);
    if a < -(rank as i64) || a >= rank as i64 {
        bail!(OP, "axis {a} is out of range for x of shape {:?}", x.shape());
    }
    let axis = if a < 0 { (a + rank as i64) as usize } else { a as usize };
    let d = x.shape()[axis];
    let block = attr_i(node, "block_size", 0);
    if block <= 0 {
        if p.shape() != [d] {
            bail!(OP, "a per-axis scale or zero point must be [{d}] for axis {axis} of x {:?}, got {:?}", x.shape(), p.shape());
        }
        let mut shape = vec![1i64; rank];
        shape[axis] = d as i64;
        return ops::reshape(p, &shape);
    }
    let block = super::nodes::sat(block);
    let mut want = x.shape().to_vec();
    want[axis] = d.div_ceil(block);
    if p.shape() != want.as_slice() {
        bail!(OP, "a blocked scale or zero point must be {want:?} for blocks of {block} along axis {axis} of x {:?}, got {:?}", x.shape(), p.shape());
    }
    // [..., B, ...] -> [..., B, 1, ...] -> [..., B, block, ...] -> [..., B * block, ...] -> first d.
    // A block longer than the axis (B = 1) repeats only d times: a hostile block size allocates nothing.
    let reps = block.min(d);
    let mut split: Vec<usize> = want.clone();
    split.insert(axis + 1, 1);
    let mut wide = split.clone();
    wide[axis + 1] = reps;
    let repeated = ops::broadcast_to(&p.reshape_to(&split)?, &wide)?;
    let mut merged: Vec<i64> = want.iter().map(|&s| s as i64).collect();
    merged[axis] = (want[axis] * reps) as i64;
    let full = ops::reshape(&repeated, &merged)?;
    let begin = vec![0usize; rank];
    let mut size: Vec<i64> = vec![-1; rank];
    size[axis] = d as i64;
    ops::slice(&full, &begin, &size)
}

impl Prepared {
    /// The declared ONNX element type of the node's input `i` (a zero point), or `otherwise` where
    /// the input is absent.
    pub fn declared_int_type(&self, node: &NodeProto, i: usize, otherwise: i32) -> Result<i32> {
        match node.input.get(i).filter(|s| !s.is_empty()) {
            Some(name) => match self.elem_types.get(name) {
                Some(&t) => Ok(t),
                None => bail!(OP, "unsupported: {} whose zero point '{name}' has no declared type", node.op_type),
            },
            None => Ok(otherwise),
        }
    }

    /// Bytes the packed weights hold on the device (codes, scales, zero points).
    pub fn packed_bytes(&self) -> usize {
        self.packed.values().map(|w| w.size_bytes()).sum()
    }
}
