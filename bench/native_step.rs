//! Native training-step timing: `cargo run --release --example native_step`.
//! MLP 784-128-10, batch 128, Adam (the same workload as the browser benchmark) on the CPU backend
//! and on the native GPU (wgpu: Vulkan/Metal/DX12, or lavapipe without a GPU); median of 20 steps
//! after 5 warm-up steps, each ending in a readback of the loss.
use std::time::Instant;

use webtensor::optim::{Kind, Optimizer};
use webtensor::{autograd, ops, Device, Result, Tensor};

fn mlp_step_ms(dev: &Device) -> Result<f64> {
    let x = ops::random_normal(dev, &[128, 784], 0.0, 1.0, Some(1))?;
    let labels: Vec<i32> = (0..128).map(|i| (i * 7) % 10).collect();
    let y = Tensor::from_i32(dev, &labels, &[128])?;
    let params = [
        ops::random_normal(dev, &[784, 128], 0.0, 0.05, Some(2))?,
        ops::zeros(dev, &[128], webtensor::DType::F32)?,
        ops::random_normal(dev, &[128, 10], 0.0, 0.1, Some(3))?,
        ops::zeros(dev, &[10], webtensor::DType::F32)?,
    ];
    for p in &params {
        p.set_requires_grad(true)?;
    }
    let mut opt = Optimizer::new(Kind::Adam { beta1: 0.9, beta2: 0.999, eps: 1e-7 }, 0.001);
    let mut times = Vec::new();
    for i in 0..25 {
        let t0 = Instant::now();
        let h = ops::relu(&ops::add(&ops::matmul(&x, &params[0], false, false)?, &params[1])?)?;
        let logits = ops::add(&ops::matmul(&h, &params[2], false, false)?, &params[3])?;
        let loss = ops::sparse_softmax_cross_entropy(&y, &logits)?;
        autograd::backward(&loss)?;
        opt.step(&params)?;
        pollster::block_on(loss.to_vec_f32())?;
        if i >= 5 {
            times.push(t0.elapsed().as_secs_f64() * 1e3);
        }
    }
    times.sort_by(|a, b| a.total_cmp(b));
    Ok(times[times.len() / 2])
}

fn main() -> Result<()> {
    println!("MLP 784-128-10 batch 128 Adam step, median of 20:");
    println!("  cpu (native): {:.2} ms", mlp_step_ms(&Device::Cpu)?);
    match pollster::block_on(Device::gpu()) {
        Ok(dev) => println!("  gpu ({}): {:.2} ms", dev.description(), mlp_step_ms(&dev)?),
        Err(e) => println!("  gpu: skipped ({e})"),
    }
    Ok(())
}
