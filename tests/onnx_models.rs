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
    let manifest = fs::read_to_string(root().join("manifest.json")).expect("tests/fixtures/onnx_models/manifest.json");
    let names: Vec<String> = manifest.lines().filter_map(|l| l.split("\"name\": \"").nth(1).and_then(|r| r.split('"').next()).map(String::from)).collect();
    assert!(names.len() >= 5, "the manifest lists {} models", names.len());
    let mut failures = Vec::new();
    for name in &names {
        let dir = root().join(name);
        let model = match OnnxModel::from_bytes(&dev, &fs::read(dir.join("model.onnx")).unwrap()) {
            Ok(m) => m,
            Err(e) => {
                failures.push(format!("{name}: load: {e}"));
                continue;
            }
        };
        for case in case_dirs(&dir) {
            let case_name = case.file_name().unwrap().to_string_lossy().to_string();
            match pollster::block_on(run_case(&model, &dev, &case)) {
                Ok(err) if err <= 2e-4 => eprintln!("{label}: {name}/{case_name}: max relative error {err:.2e}"),
                Ok(err) => failures.push(format!("{name}/{case_name}: max relative error {err:.2e}")),
                Err(e) => failures.push(format!("{name}/{case_name}: {e}")),
            }
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
