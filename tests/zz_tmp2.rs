use std::time::Instant;
use webtensor::onnx::{decode_tensor_bytes, upload, OnnxModel};
use webtensor::Device;
#[test]
fn kernels() {
    let dev = pollster::block_on(Device::gpu()).unwrap();
    for name in ["bert", "llama", "vit"] {
        let dir = format!("tests/fixtures/onnx_models/{name}");
        let m = OnnxModel::from_bytes(&dev, &std::fs::read(format!("{dir}/model.onnx")).unwrap()).unwrap();
        let mut inputs = vec![];
        for i in 0..m.inputs.len() { inputs.push(upload(&dev, &decode_tensor_bytes(&std::fs::read(format!("{dir}/case_0/input_{i}.pb")).unwrap()).unwrap()).unwrap()); }
        let Device::Gpu(ctx) = &dev else { panic!() };
        for r in 0..4 {
            let t = Instant::now();
            let o = m.run_values(&inputs).unwrap();
            pollster::block_on(o[0].to_vec_f32()).unwrap();
            eprintln!("{name} run {r}: {:.1} ms, kernels {}", t.elapsed().as_secs_f64() * 1e3, ctx.kernel_count());
        }
    }
}
