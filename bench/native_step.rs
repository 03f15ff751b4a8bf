//! Native training-step timing: `cargo run --release --example native_step`.
//! MLP 784-128-10, batch 128, Adam (the same workload as the browser benchmark) on the CPU backend
//! and on the native GPU (wgpu: Vulkan/Metal/DX12, or lavapipe without a GPU); median of 20 steps
//! after 5 warm-up steps, each ending in a readback of the loss.
use std::time::Instant;

use webtensor::optim::{Kind, Optimizer};
use webtensor::{autograd, ops, Device, Result, Tensor};

#[path = "digits_model.rs"]
mod digits_model;

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

/// The digits demo's step (bench/digits_model.rs) at batch 32, Adam.
fn digits_step_ms(dev: &Device) -> Result<f64> {
    let x = ops::random_uniform(dev, &[32, 8, 8, 1], 0.0, 1.0, Some(1))?;
    let labels: Vec<i32> = (0..32).map(|i| (i * 7) % 10).collect();
    let y = ops::one_hot(&Tensor::from_i32(dev, &labels, &[32])?, 10)?;
    let params = digits_model::params(dev)?;
    let mut opt = Optimizer::new(Kind::Adam { beta1: 0.9, beta2: 0.999, eps: 1e-7 }, 0.01);
    let mut times = Vec::new();
    for i in 0..60 {
        let t0 = Instant::now();
        let loss = digits_model::loss(&x, &y, &params)?;
        autograd::backward(&loss)?;
        let value = loss.detach();
        drop(loss);
        opt.step(&params)?;
        pollster::block_on(value.to_vec_f32())?;
        if i >= 10 {
            times.push(t0.elapsed().as_secs_f64() * 1e3);
        }
    }
    times.sort_by(|a, b| a.total_cmp(b));
    Ok(times[times.len() / 2])
}

fn main() -> Result<()> {
    let gpu = pollster::block_on(Device::gpu());
    for (name, step) in [("MLP 784-128-10 batch 128 Adam step", mlp_step_ms as fn(&Device) -> Result<f64>), ("digits CNN batch 32 Adam step", digits_step_ms)] {
        println!("{name}, median:");
        println!("  cpu (native): {:.3} ms", step(&Device::Cpu)?);
        match &gpu {
            Ok(dev) => println!("  gpu ({}): {:.3} ms", dev.description(), step(dev)?),
            Err(e) => println!("  gpu: skipped ({e})"),
        }
    }
    Ok(())
}
