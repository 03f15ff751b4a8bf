//! ONNX's own backend conformance cases (tests/fixtures/onnx, extracted from the `onnx` PyPI
//! package by scripts/onnx_fixtures.py) run through the importer on the CPU backend and on the GPU.
//! Each case is a pass, a fail (wrong values or an unexpected error), or unsupported (an op or
//! attribute the importer rejects by name). Fails are not allowed; the pass count may only grow.
#![cfg(not(target_arch = "wasm32"))]

use std::fs;
use std::path::Path;

use webtensor::onnx::{decode_tensor_bytes, upload, HostData, OnnxModel};
use webtensor::{DType, Device};

/// Passing cases at the time of writing, on each backend; a drop is a regression.
const MIN_PASS: usize = 764;

enum Outcome {
    Pass,
    Fail(String),
    Unsupported(String),
}

fn case_names(dir: &Path) -> Vec<String> {
    let manifest = fs::read_to_string(dir.join("manifest.json")).expect("tests/fixtures/onnx/manifest.json");
    manifest.lines().filter_map(|l| l.split("\"name\": \"").nth(1).and_then(|r| r.split('"').next()).map(String::from)).collect()
}

async fn run_case(dev: &Device, dir: &Path) -> Outcome {
    let bytes = fs::read(dir.join("model.onnx")).unwrap();
    let model = match OnnxModel::from_bytes(dev, &bytes) {
        Ok(m) => m,
        Err(e) if e.to_string().contains("unsupported") || e.to_string().contains("not supported") => return Outcome::Unsupported(e.to_string()),
        Err(e) => return Outcome::Fail(format!("load: {e}")),
    };
    let mut inputs = Vec::new();
    for i in 0.. {
        let p = dir.join(format!("input_{i}.pb"));
        if !p.exists() {
            break;
        }
        let d = match decode_tensor_bytes(&fs::read(p).unwrap()) {
            Ok(d) => d,
            Err(e) => return Outcome::Unsupported(e.to_string()),
        };
        match upload(dev, &d) {
            Ok(v) => inputs.push(v),
            Err(e) => return Outcome::Unsupported(e.to_string()),
        }
    }
    let outs = match model.run_values(&inputs) {
        Ok(o) => o,
        Err(e) if e.to_string().contains("unsupported") => return Outcome::Unsupported(e.to_string()),
        Err(e) => return Outcome::Fail(format!("run: {e}")),
    };
    for (i, got) in outs.iter().enumerate() {
        let want = decode_tensor_bytes(&fs::read(dir.join(format!("output_{i}.pb"))).unwrap()).unwrap();
        if got.shape() != want.dims.as_slice() {
            return Outcome::Fail(format!("output {i}: shape {:?}, expected {:?}", got.shape(), want.dims));
        }
        let vals = match got.to_vec_f32().await {
            Ok(v) => v,
            Err(e) => return Outcome::Fail(format!("read: {e}")),
        };
        let expected: Vec<f64> = match &want.data {
            HostData::Float(v) => v.iter().map(|&x| x as f64).collect(),
            HostData::Int(v) => v.iter().map(|&x| x as f64).collect(),
        };
        let exact = want.dtype != DType::F32;
        for (k, (&g, &w)) in vals.iter().zip(&expected).enumerate() {
            let g = g as f64;
            let ok = if w.is_nan() {
                g.is_nan()
            } else if exact || w.is_infinite() {
                g == w
            } else {
                (g - w).abs() <= 1e-3 + 1e-3 * w.abs()
            };
            if !ok {
                return Outcome::Fail(format!("output {i}[{k}] = {g}, expected {w}"));
            }
        }
    }
    Outcome::Pass
}

fn conformance(dev: Device, label: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/onnx");
    let names = case_names(&root);
    let (mut pass, mut fails, mut unsupported) = (0, Vec::new(), std::collections::BTreeMap::<String, usize>::new());
    for name in &names {
        match pollster::block_on(run_case(&dev, &root.join(name))) {
            Outcome::Pass => pass += 1,
            Outcome::Fail(msg) => fails.push(format!("{name}: {msg}")),
            Outcome::Unsupported(msg) => {
                let reason = msg.split(" (node").next().unwrap_or(&msg).to_string()
                    + msg.split("): ").nth(1).map(|r| format!(": {r}")).unwrap_or_default().as_str();
                *unsupported.entry(reason).or_default() += 1;
            }
        }
    }
    let n_unsupported: usize = unsupported.values().sum();
    eprintln!("ONNX conformance on {label}: {} cases: {pass} pass, {} fail, {n_unsupported} unsupported", names.len(), fails.len());
    let mut reasons: Vec<_> = unsupported.into_iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(&a.1));
    for (reason, n) in reasons.iter().take(15) {
        eprintln!("  unsupported x{n}: {reason}");
    }
    for f in &fails {
        eprintln!("  FAIL {f}");
    }
    assert!(fails.is_empty(), "{} ONNX conformance cases fail on {label}", fails.len());
    assert!(pass >= MIN_PASS, "only {pass} ONNX conformance cases pass on {label} (at least {MIN_PASS} did)");
}

#[test]
fn onnx_conformance_cpu() {
    conformance(Device::Cpu, "CPU");
}

#[test]
fn onnx_conformance_gpu() {
    match pollster::block_on(Device::gpu()) {
        Ok(dev) => {
            let label = dev.description();
            conformance(dev, &label)
        }
        Err(e) if std::env::var("WEBTENSOR_REQUIRE_GPU").as_deref() != Ok("1") => {
            eprintln!("SKIPPED: no GPU adapter: {e}")
        }
        Err(e) => panic!("WEBTENSOR_REQUIRE_GPU=1 but no GPU adapter: {e}"),
    }
}

/// Hostile graphs (absurd attributes or constants) are errors, never panics or runaway allocations.
#[test]
fn hostile_graphs_are_clear_errors() {
    use prost::Message;
    use webtensor::onnx::proto::{data_type, AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto, ValueInfoProto};
    let ints = |name: &str, v: &[i64]| TensorProto { name: name.into(), dims: vec![v.len() as i64], data_type: data_type::INT64, int64_data: v.to_vec(), ..Default::default() };
    let floats = |name: &str, v: &[f32]| TensorProto { name: name.into(), dims: vec![], data_type: data_type::FLOAT, float_data: v.to_vec(), ..Default::default() };
    let node = |op: &str, inputs: &[&str], attribute: Vec<AttributeProto>| NodeProto {
        op_type: op.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec!["y".into()],
        attribute,
        ..Default::default()
    };
    let model = |n: NodeProto, init: Vec<TensorProto>| {
        ModelProto {
            ir_version: 8,
            opset_import: vec![OperatorSetIdProto { domain: String::new(), version: 13 }],
            graph: Some(GraphProto {
                node: vec![n],
                initializer: init,
                input: vec![ValueInfoProto { name: "x".into(), ..Default::default() }],
                output: vec![ValueInfoProto { name: "y".into(), ..Default::default() }],
                ..Default::default()
            }),
            ..Default::default()
        }
        .encode_to_vec()
    };
    let x = webtensor::Tensor::from_f32(&Device::Cpu, &[1.0, 2.0, 3.0], &[3]).unwrap();
    let empty_value = AttributeProto { name: "value".into(), t: Some(TensorProto { dims: vec![0], data_type: data_type::FLOAT, ..Default::default() }), ..Default::default() };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("Tile with 2^30 repeats", model(node("Tile", &["x", "r"], vec![]), vec![ints("r", &[1 << 30])]), "Tile"),
        ("Range with delta 0", model(node("Range", &["s", "l", "d"], vec![]), vec![floats("s", &[0.0]), floats("l", &[5.0]), floats("d", &[0.0])]), "Range"),
        ("ConstantOfShape with an empty value", model(node("ConstantOfShape", &["s"], vec![empty_value]), vec![ints("s", &[2])]), "empty"),
        ("Gather of a known vector out of range", model(node("Gather", &["v", "i"], vec![]), vec![ints("v", &[1, 2]), ints("i", &[7])]), "Gather"),
        ("Unsqueeze repeating an axis", model(node("Unsqueeze", &["x", "a"], vec![]), vec![ints("a", &[1, 1])]), "repeat"),
        ("integer Div by a known zero", model(node("Div", &["v", "z"], vec![]), vec![ints("v", &[6, 7]), ints("z", &[2, 0])]), "division by zero"),
        ("integer Mod by a known zero", model(node("Mod", &["v", "z"], vec![]), vec![ints("v", &[6, 7]), ints("z", &[0])]), "division by zero"),
        ("Slice with more axes than starts", model(node("Slice", &["x", "b", "e", "a"], vec![]), vec![ints("b", &[0]), ints("e", &[1]), ints("a", &[0, 1])]), "Slice"),
    ];
    // Loading refuses external data that would be read from outside the model's folder.
    let escape = TensorProto {
        name: "r".into(),
        dims: vec![1],
        data_type: data_type::FLOAT,
        data_location: 1,
        external_data: vec![webtensor::onnx::proto::StringStringEntryProto { key: "location".into(), value: "../../etc/passwd".into() }],
        ..Default::default()
    };
    match OnnxModel::from_bytes(&Device::Cpu, &model(node("Tile", &["x", "r"], vec![]), vec![escape])) {
        Ok(_) => panic!("external data outside the model's folder was accepted"),
        Err(e) => assert!(e.to_string().contains("relative path inside"), "unclear error {e}"),
    }
    // Refused at load: a weight whose dimension wraps on wasm32, an opset from the future, IR 0.
    let mut wide = model(node("Add", &["x", "w"], vec![]), vec![]);
    let mut proto = ModelProto::decode(wide.as_slice()).unwrap();
    let graph = proto.graph.as_mut().unwrap();
    graph.initializer.push(TensorProto { name: "w".into(), dims: vec![(1i64 << 32) + 4, 2], data_type: data_type::FLOAT, raw_data: vec![0; 32], ..Default::default() });
    wide = proto.encode_to_vec();
    let mut future = ModelProto::decode(model(node("Neg", &["x"], vec![]), vec![]).as_slice()).unwrap();
    future.opset_import[0].version = 1_000_000_000;
    let mut ir0 = ModelProto::decode(model(node("Neg", &["x"], vec![]), vec![]).as_slice()).unwrap();
    ir0.ir_version = 0;
    // The graph's wiring is resolved at load (src/onnx/plan.rs): a node reading a name nothing
    // produces, or a graph output nothing produces, is refused there, naming it.
    let dangling = model(node("Add", &["x", "nowhere"], vec![]), vec![]);
    let mut no_output = ModelProto::decode(model(node("Neg", &["x"], vec![]), vec![]).as_slice()).unwrap();
    no_output.graph.as_mut().unwrap().output[0].name = "missing".into();
    for (what, bytes, needle) in [
        ("a dimension of 2^32 + 4", wide, "dimension 4294967300"),
        ("opset 10^9", future.encode_to_vec(), "opset 1000000000"),
        ("IR version 0", ir0.encode_to_vec(), "IR version 0"),
        ("an input nothing produces", dangling, "reads 'nowhere', which no earlier node"),
        ("an output nothing produces", no_output.encode_to_vec(), "output 'missing' is produced by no node"),
    ] {
        match OnnxModel::from_bytes(&Device::Cpu, &bytes) {
            Ok(_) => panic!("{what}: loaded"),
            Err(e) => assert!(e.to_string().contains(needle), "{what}: unclear error {e}"),
        }
    }
    // Quantized weights whose declared sizes wrap on wasm32 are refused against the bytes present;
    // a DequantizeLinear block of 2^40 (one block: the scale applies to the whole axis) allocates
    // nothing of its size.
    let mut nbits = ModelProto::decode(model(node("MatMulNBits", &["x", "b", "s"], vec![]), vec![]).as_slice()).unwrap();
    nbits.opset_import.push(OperatorSetIdProto { domain: "com.microsoft".into(), version: 1 });
    let g = nbits.graph.as_mut().unwrap();
    g.node[0].domain = "com.microsoft".into();
    let int_attr = |name: &str, i: i64| AttributeProto { name: name.into(), i, r#type: 2, ..Default::default() };
    g.node[0].attribute = vec![int_attr("K", 1 << 30), int_attr("N", 1 << 30), int_attr("bits", 4), int_attr("block_size", 32)];
    g.initializer.push(TensorProto { name: "b".into(), dims: vec![1], data_type: data_type::UINT8, raw_data: vec![7], ..Default::default() });
    g.initializer.push(floats("s", &[1.0]));
    match OnnxModel::from_bytes(&Device::Cpu, &nbits.encode_to_vec()) {
        Ok(_) => panic!("MatMulNBits of 2^30 x 2^30 over one byte: loaded"),
        Err(e) => assert!(e.to_string().contains("weight B has 1 bytes"), "unclear error {e}"),
    }
    let blocked = OnnxModel::from_bytes(&Device::Cpu, &model(node("DequantizeLinear", &["x", "s"], vec![int_attr("axis", 0), int_attr("block_size", 1 << 40)]), vec![TensorProto { name: "s".into(), dims: vec![1], data_type: data_type::FLOAT, float_data: vec![2.0], ..Default::default() }])).unwrap();
    let y = blocked.run(&[x.clone()]).expect("DequantizeLinear with a block of 2^40 runs");
    assert_eq!(pollster::block_on(y[0].to_vec_f32()).unwrap(), vec![2.0, 4.0, 6.0]);
    // A divisor that is a graph input lives on the device; the CPU backend still sees a zero.
    let divide = OnnxModel::from_bytes(&Device::Cpu, &model(node("Div", &["v", "x"], vec![]), vec![ints("v", &[6, 7, -7])])).unwrap();
    let divisor = |v: &[i32]| webtensor::Tensor::from_i32(&Device::Cpu, v, &[3]).unwrap();
    let q = divide.run(&[divisor(&[2, 2, 2])]).expect("integer Div by nonzero divisors runs");
    assert_eq!(pollster::block_on(q[0].to_vec_i32()).unwrap(), vec![3, 3, -3], "ONNX integer Div truncates");
    match divide.run(&[divisor(&[2, 0, 2])]) {
        Ok(_) => panic!("integer Div by a zero input ran"),
        Err(e) => assert!(e.to_string().contains("division by zero"), "unclear error {e}"),
    }
    for (what, bytes, needle) in cases {
        let m = OnnxModel::from_bytes(&Device::Cpu, &bytes).unwrap_or_else(|e| panic!("{what}: load failed: {e}"));
        match m.run(&[x.clone()]) {
            Ok(_) => panic!("{what}: ran"),
            Err(e) => assert!(e.to_string().contains(needle), "{what}: unclear error {e}"),
        }
    }
}
