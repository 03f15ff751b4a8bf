//! Transformer models exported by torch (tests/fixtures/onnx_models, made by
//! scripts/transformer_fixtures.py) run through the importer on the CPU backend and on the GPU,
//! at every case's sequence length from one loaded model, against onnxruntime's outputs.
#![cfg(not(target_arch = "wasm32"))]

use std::fs;
use std::path::{Path, PathBuf};

use webtensor::onnx::{decode_tensor_bytes, upload, HostData, OnnxModel};
use webtensor::Device;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/onnx_models")
}

/// The same models quantized by onnxruntime's tools (scripts/quantized_fixtures.py).
fn quantized_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/onnx_quantized")
}

fn case_dirs(model: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(model).unwrap().filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_dir()).collect();
    dirs.sort();
    dirs
}

/// Largest |got - want| over a case's outputs, or an error saying what went wrong.
async fn run_case(model: &OnnxModel, dev: &Device, dir: &Path) -> Result<f64, String> {
    let mut inputs = Vec::new();
    for i in 0.. {
        let p = dir.join(format!("input_{i}.pb"));
        if !p.exists() {
            break;
        }
        let d = decode_tensor_bytes(&fs::read(p).unwrap()).map_err(|e| e.to_string())?;
        inputs.push(upload(dev, &d).map_err(|e| e.to_string())?);
    }
    let outs = model.run_values(&inputs).map_err(|e| e.to_string())?;
    let mut worst = 0f64;
    for (i, got) in outs.iter().enumerate() {
        let want = decode_tensor_bytes(&fs::read(dir.join(format!("output_{i}.pb"))).unwrap()).unwrap();
        if got.shape() != want.dims.as_slice() {
            return Err(format!("output {i}: shape {:?}, expected {:?}", got.shape(), want.dims));
        }
        let vals = got.to_vec_f32().await.map_err(|e| e.to_string())?;
        let HostData::Float(expected) = &want.data else { return Err(format!("output {i} is not float")) };
        for (&g, &w) in vals.iter().zip(expected) {
            let err = ((g - w).abs() / (1.0 + w.abs())) as f64;
            if !(err <= worst) {
                worst = if err.is_nan() { f64::INFINITY } else { err };
            }
        }
    }
    Ok(worst)
}

fn run_all(dev: Device, label: &str) {
    run_dir(&root(), &dev, label);
    run_dir(&quantized_root(), &dev, label);
}

fn run_dir(root: &Path, dev: &Device, label: &str) {
    let dev = dev.clone();
    let manifest = fs::read_to_string(root.join("manifest.json")).expect("manifest.json of the fixtures");
    let names: Vec<String> = manifest.lines().filter_map(|l| l.split("\"name\": \"").nth(1).and_then(|r| r.split('"').next()).map(String::from)).collect();
    assert!(names.len() >= 4, "the manifest lists {} models", names.len());
    // A model's "tolerance" line follows its "name" line (float16 models: onnxruntime computes in
    // float16, the engine in float32); 2e-4 where none is given.
    let mut tolerance = std::collections::HashMap::new();
    let mut current = None;
    for l in manifest.lines() {
        if let Some(n) = l.split("\"name\": \"").nth(1).and_then(|r| r.split('"').next()) {
            current = Some(n.to_string());
        }
        if let (Some(v), Some(n)) = (l.split("\"tolerance\": ").nth(1), &current) {
            tolerance.insert(n.clone(), v.trim_end_matches(',').trim().parse::<f64>().expect("a number"));
        }
    }
    let mut failures = Vec::new();
    for name in &names {
        let dir = root.join(name);
        let model = match OnnxModel::from_bytes(&dev, &fs::read(dir.join("model.onnx")).unwrap()) {
            Ok(m) => m,
            Err(e) => {
                failures.push(format!("{name}: load: {e}"));
                continue;
            }
        };
        // The attention of each of the two layers runs fused (patterns.rs), wherever torch wrote
        // it as MatMul, Softmax and MatMul.
        if ["bert", "gpt2", "gpt2_past", "vit", "llama"].contains(&name.as_str()) {
            assert_eq!(model.fused_subgraphs(), 2, "{name}: fused attention subgraphs");
        }
        // Quantized weights stay packed: 4-bit codes an eighth, 8-bit a quarter of float32's bytes,
        // float16 MatMul weights half.
        if root.ends_with("onnx_quantized") && (name.contains("_q") || name.starts_with("gather") || name.ends_with("_f16")) {
            assert!(model.packed_weight_bytes() > 0, "{name}: no weight was packed");
            eprintln!("{label}: {name}: packed weights hold {} bytes", model.packed_weight_bytes());
        }
        // Each case twice in a row: the second run reuses the outputs of the nodes whose inputs
        // are known before the data flows (masks, positions, shapes: onnx/memo.rs), and the next
        // case (another length) must not (a stale mask or table would fail the comparison).
        for case in case_dirs(&dir) {
            for run in ["", " again"] {
                let case_name = format!("{}{run}", case.file_name().unwrap().to_string_lossy());
                match pollster::block_on(run_case(&model, &dev, &case)) {
                    Ok(err) if err <= *tolerance.get(name).unwrap_or(&2e-4) => eprintln!("{label}: {name}/{case_name}: max relative error {err:.2e}"),
                    Ok(err) => failures.push(format!("{name}/{case_name}: max relative error {err:.2e}")),
                    Err(e) => failures.push(format!("{name}/{case_name}: {e}")),
                }
            }
        }
        eprintln!("{label}: {name}: {} node outputs reused from earlier runs", model.reused_outputs());
        if ["bert", "gpt2", "gpt2_past", "vit", "llama"].contains(&name.as_str()) && model.reused_outputs() == 0 {
            failures.push(format!("{name}: no node output was reused across runs of the same shapes"));
        }
    }
    assert!(failures.is_empty(), "transformer models on {label}:\n  {}", failures.join("\n  "));
}

#[test]
fn transformer_models_cpu() {
    run_all(Device::Cpu, "CPU");
}

#[test]
fn transformer_models_gpu() {
    match pollster::block_on(Device::gpu()) {
        Ok(dev) => {
            let label = dev.description();
            run_all(dev, &label)
        }
        Err(e) if std::env::var("WEBTENSOR_REQUIRE_GPU").as_deref() != Ok("1") => eprintln!("SKIPPED: no GPU adapter: {e}"),
        Err(e) => panic!("WEBTENSOR_REQUIRE_GPU=1 but no GPU adapter: {e}"),
    }
}

/// A graph node with one output, for the models the tests below build.
fn node(op: &str, inputs: &[&str], out: &str, attribute: Vec<webtensor::onnx::proto::AttributeProto>) -> webtensor::onnx::proto::NodeProto {
    webtensor::onnx::proto::NodeProto {
        op_type: op.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![out.into()],
        attribute,
        ..Default::default()
    }
}

/// The fused attention of patterns.rs gives the nodes' own values on both of its paths: the fused
/// kernel (a scalar factor known at load) and the nodes one by one (a per-feature factor).
#[test]
fn matched_attention_equals_its_nodes() {
    use prost::Message;
    use webtensor::onnx::proto::{data_type, AttributeProto, GraphProto, ModelProto, OperatorSetIdProto, TensorProto, ValueInfoProto};
    use webtensor::{ops, Tensor};
    let perm = AttributeProto { name: "perm".into(), ints: vec![0, 1, 3, 2], r#type: 7, ..Default::default() };
    let model = |factor: Vec<f32>| {
        let dims = if factor.len() == 1 { vec![] } else { vec![factor.len() as i64] };
        ModelProto {
            ir_version: 8,
            opset_import: vec![OperatorSetIdProto { domain: String::new(), version: 17 }],
            graph: Some(GraphProto {
                node: vec![
                    node("Transpose", &["k"], "kt", vec![perm.clone()]),
                    node("Mul", &["q", "f"], "qs", vec![]),
                    node("MatMul", &["qs", "kt"], "s", vec![]),
                    node("Softmax", &["s"], "p", vec![]),
                    node("MatMul", &["p", "v"], "y", vec![]),
                ],
                initializer: vec![TensorProto { name: "f".into(), dims, data_type: data_type::FLOAT, float_data: factor, ..Default::default() }],
                input: ["q", "k", "v"].iter().map(|n| ValueInfoProto { name: n.to_string(), ..Default::default() }).collect(),
                output: vec![ValueInfoProto { name: "y".into(), ..Default::default() }],
                ..Default::default()
            }),
            ..Default::default()
        }
        .encode_to_vec()
    };
    let dev = Device::Cpu;
    let data = |seed: u32| -> Tensor {
        let v: Vec<f32> = (0..24u32).map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(seed * 97) % 1000) as f32 / 250.0 - 2.0).collect();
        Tensor::from_f32(&dev, &v, &[1, 2, 3, 4]).unwrap()
    };
    let (q, k, v) = (data(1), data(2), data(3));
    for factor in [vec![0.5], vec![0.5, -1.0, 2.0, 0.25]] {
        let m = OnnxModel::from_bytes(&dev, &model(factor.clone())).unwrap();
        assert_eq!(m.fused_subgraphs(), 1);
        let got = pollster::block_on(m.run(&[q.clone(), k.clone(), v.clone()]).unwrap()[0].to_vec_f32()).unwrap();
        let f = Tensor::from_f32(&dev, &factor, &[factor.len()]).unwrap();
        let kt = ops::transpose(&k, Some(&[0, 1, 3, 2])).unwrap();
        let s = ops::matmul(&ops::mul(&q, &f).unwrap(), &kt, false, false).unwrap();
        let want = pollster::block_on(ops::matmul(&ops::softmax(&s, -1).unwrap(), &v, false, false).unwrap().to_vec_f32()).unwrap();
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() <= 1e-5 * (1.0 + w.abs()), "factor {factor:?}: {got:?} vs {want:?}");
        }
    }
}

/// Conv -> Relu / Clip fused at load (patterns.rs) gives the nodes' own values: a Relu, a Clip
/// with bounds known at load (applied in the convolution's store), and a Clip whose bounds are
/// graph inputs (applied after it); a convolution read by anything else stays unfused.
#[test]
fn fused_conv_activation_equals_its_nodes() {
    use prost::Message;
    use webtensor::onnx::proto::{data_type, AttributeProto, GraphProto, ModelProto, OperatorSetIdProto, TensorProto, ValueInfoProto};
    use webtensor::{ops, Tensor};
    let ints = |name: &str, v: &[i64]| AttributeProto { name: name.into(), ints: v.to_vec(), r#type: 7, ..Default::default() };
    let floats = |name: &str, dims: Vec<i64>, v: Vec<f32>| TensorProto { name: name.into(), dims, data_type: data_type::FLOAT, float_data: v, ..Default::default() };
    let dev = Device::Cpu;
    let data = |n: usize, seed: u32| -> Vec<f32> { (0..n as u32).map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(seed * 97) % 1000) as f32 / 250.0 - 2.0).collect() };
    let (xv, wv, bv) = (data(2 * 3 * 6 * 5, 1), data(4 * 3 * 3 * 3, 2), data(4, 3));
    let x = Tensor::from_f32(&dev, &xv, &[2, 3, 6, 5]).unwrap();
    let w = Tensor::from_f32(&dev, &wv, &[4, 3, 3, 3]).unwrap();
    let b = Tensor::from_f32(&dev, &bv, &[4]).unwrap();
    let win = ops::ConvWindow { strides: (2, 1), dilations: (1, 1), padding: ops::Padding::Explicit(1, 1, 1, 1), group: 1 };
    let conv = ops::conv2d_nchw(&x, &w, Some(&b), win, None).unwrap();
    let scalar = |v: f32| Tensor::from_f32(&dev, &[v], &[]).unwrap();
    // (activation node, its extra inputs, bound initializers, extra graph inputs, conv also an output, reference)
    let clip_ref = ops::minimum(&ops::maximum(&conv, &scalar(-0.5)).unwrap(), &scalar(1.0)).unwrap();
    let cases: Vec<(&str, Vec<&str>, bool, bool, Tensor)> = vec![
        ("Relu", vec![], false, false, ops::relu(&conv).unwrap()),
        ("Clip", vec!["lo", "hi"], false, false, clip_ref.clone()),
        ("Clip", vec!["lo", "hi"], true, false, clip_ref.clone()),
        ("Clip", vec!["", "hi"], false, false, ops::minimum(&conv, &scalar(1.0)).unwrap()),
        ("Relu", vec![], false, true, ops::relu(&conv).unwrap()),
    ];
    for (i, (act, extra, bounds_are_inputs, conv_is_output, want)) in cases.into_iter().enumerate() {
        let mut act_inputs = vec!["c"];
        act_inputs.extend(extra.iter().copied());
        let mut initializer = vec![floats("w", vec![4, 3, 3, 3], wv.clone()), floats("b", vec![4], bv.clone())];
        let mut inputs = vec!["x"];
        if bounds_are_inputs {
            inputs.extend(["lo", "hi"]);
        } else {
            initializer.extend([floats("lo", vec![], vec![-0.5]), floats("hi", vec![], vec![1.0])]);
        }
        let mut outputs = vec!["y"];
        if conv_is_output {
            outputs.push("c");
        }
        let model = ModelProto {
            ir_version: 8,
            opset_import: vec![OperatorSetIdProto { domain: String::new(), version: 17 }],
            graph: Some(GraphProto {
                node: vec![
                    node("Conv", &["x", "w", "b"], "c", vec![ints("strides", &[2, 1]), ints("pads", &[1, 1, 1, 1]), ints("kernel_shape", &[3, 3])]),
                    node(act, &act_inputs, "y", vec![]),
                ],
                initializer,
                input: inputs.iter().map(|n| ValueInfoProto { name: n.to_string(), ..Default::default() }).collect(),
                output: outputs.iter().map(|n| ValueInfoProto { name: n.to_string(), ..Default::default() }).collect(),
                ..Default::default()
            }),
            ..Default::default()
        }
        .encode_to_vec();
        let m = OnnxModel::from_bytes(&dev, &model).unwrap();
        assert_eq!(m.fused_subgraphs(), usize::from(!conv_is_output), "case {i}: fused");
        let feeds = if bounds_are_inputs { vec![x.clone(), scalar(-0.5), scalar(1.0)] } else { vec![x.clone()] };
        let got = pollster::block_on(m.run(&feeds).unwrap()[0].to_vec_f32()).unwrap();
        let want = pollster::block_on(want.to_vec_f32()).unwrap();
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() <= 1e-5 * (1.0 + w.abs()), "case {i} ({act}): {got:?} vs {want:?}");
        }
    }
}

/// A MatMul reading a DequantizeLinear of a constant 4- or 8-bit weight (onnxruntime's QDQ
/// format) runs on the weight packed at load, the DequantizeLinear folded away, wherever the
/// layout has a packed form (per tensor, per column, blocks along K whose bits fill whole words),
/// and as written elsewhere; both give x times the weight dequantized on the host.
#[test]
fn dequantized_matmul_weight_is_packed() {
    use prost::Message;
    use webtensor::onnx::proto::{data_type, AttributeProto, GraphProto, ModelProto, OperatorSetIdProto, TensorProto, ValueInfoProto};
    use webtensor::Tensor;
    let (k, n, m) = (40usize, 6usize, 3usize);
    let dev = Device::Cpu;
    let hash = |i: usize, seed: usize| (i.wrapping_mul(2_654_435_761).wrapping_add(seed * 97) >> 3) % 1000;
    let int = |name: &str, v: i64| AttributeProto { name: name.into(), i: v, r#type: 2, ..Default::default() };
    // (label, ONNX type, axis, block_size, scale shape, with zero points, packed)
    let layouts: Vec<(&str, i32, i64, i64, Vec<usize>, bool, bool)> = vec![
        ("int4 blocks of 32 along K, no zero points", data_type::INT4, 0, 32, vec![2, n], false, true),
        ("uint4 blocks of 16 with zero points", data_type::UINT4, 0, 16, vec![3, n], true, true),
        ("int4 per column with zero points", data_type::INT4, 1, 0, vec![n], true, true),
        ("uint8 per tensor", data_type::UINT8, 1, 0, vec![], true, true),
        ("int8 per column, no zero points", data_type::INT8, 1, 0, vec![n], false, true),
        ("int8 blocks of 8 along K", data_type::INT8, 0, 8, vec![5, n], true, true),
        ("uint8 in one block of 1 << 30 (past k: one a column)", data_type::UINT8, 0, 1 << 30, vec![1, n], true, true),
        ("int4 blocks of 4 (half a word: runs as written)", data_type::INT4, 0, 4, vec![10, n], true, false),
    ];
    for (label, ty, axis, block, scale_shape, with_zero, packed) in layouts {
        let bits = if matches!(ty, data_type::INT4 | data_type::UINT4) { 4 } else { 8 };
        let (lo, span) = match ty {
            data_type::INT4 => (-8i64, 16),
            data_type::UINT4 => (0, 16),
            data_type::INT8 => (-128, 256),
            _ => (0, 256),
        };
        let codes: Vec<i64> = (0..k * n).map(|i| lo + (hash(i, 1) as i64 % span)).collect();
        let groups: usize = scale_shape.iter().product::<usize>().max(1);
        let scales: Vec<f32> = (0..groups).map(|i| 0.01 + hash(i, 2) as f32 * 1e-4).collect();
        let zeros: Vec<i64> = (0..groups).map(|i| lo + (hash(i, 3) as i64 % span)).collect();
        let raw = |v: &[i64]| -> Vec<u8> {
            if bits == 8 {
                v.iter().map(|&c| c as u8).collect()
            } else {
                v.chunks(2).map(|p| (p[0] as u8 & 15) | ((p.get(1).copied().unwrap_or(0) as u8 & 15) << 4)).collect()
            }
        };
        // The group of element (row, column): its index in the scales.
        let group = |r: usize, c: usize| match (scale_shape.len(), axis) {
            (0, _) => 0,
            (1, _) => c,
            _ => (r / block as usize) * n + c,
        };
        let default_zero = 0;
        let w: Vec<f64> = (0..k * n)
            .map(|i| {
                let g = group(i / n, i % n);
                (codes[i] - if with_zero { zeros[g] } else { default_zero }) as f64 * scales[g] as f64
            })
            .collect();
        let dims = |s: &[usize]| s.iter().map(|&d| d as i64).collect::<Vec<_>>();
        let mut initializer = vec![
            TensorProto { name: "w".into(), dims: vec![k as i64, n as i64], data_type: ty, raw_data: raw(&codes), ..Default::default() },
            TensorProto { name: "s".into(), dims: dims(&scale_shape), data_type: data_type::FLOAT, float_data: scales.clone(), ..Default::default() },
        ];
        let mut dq_inputs = vec!["w", "s"];
        if with_zero {
            initializer.push(TensorProto { name: "z".into(), dims: dims(&scale_shape), data_type: ty, raw_data: raw(&zeros), ..Default::default() });
            dq_inputs.push("z");
        }
        let mut attrs = vec![int("axis", axis)];
        if block > 0 {
            attrs.push(int("block_size", block));
        }
        let model = ModelProto {
            ir_version: 10,
            opset_import: vec![OperatorSetIdProto { domain: String::new(), version: 21 }],
            graph: Some(GraphProto {
                node: vec![node("DequantizeLinear", &dq_inputs, "wf", attrs), node("MatMul", &["x", "wf"], "y", vec![])],
                initializer,
                input: vec![ValueInfoProto { name: "x".into(), ..Default::default() }],
                output: vec![ValueInfoProto { name: "y".into(), ..Default::default() }],
                ..Default::default()
            }),
            ..Default::default()
        }
        .encode_to_vec();
        let model = OnnxModel::from_bytes(&dev, &model).unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(model.packed_weight_bytes() > 0, packed, "{label}: packed");
        let xv: Vec<f32> = (0..m * k).map(|i| hash(i, 4) as f32 / 250.0 - 2.0).collect();
        let x = Tensor::from_f32(&dev, &xv, &[m, k]).unwrap();
        let got = pollster::block_on(model.run(&[x]).unwrap()[0].to_vec_f32()).unwrap();
        assert_eq!(got.len(), m * n, "{label}");
        for (i, g) in got.iter().enumerate() {
            let want: f64 = (0..k).map(|j| xv[(i / n) * k + j] as f64 * w[j * n + i % n]).sum();
            assert!((*g as f64 - want).abs() <= 1e-5 * (1.0 + want.abs()), "{label}: y[{i}] = {g}, expected {want}");
        }
    }
}
