//! Where a training step spends GPU time, kernel by kernel: `cargo run --release --example
//! profile_step` (natively: a real GPU, or lavapipe without one). Runs the browser benchmark's CNN
//! and MLP steps with `GpuContext::start_profile`, which waits for each dispatch on its own, so
//! the totals show shares, not the pipelined speed (bench/ measures that).
use webtensor::optim::{Kind, Optimizer};
use webtensor::ops::Padding;
use webtensor::{autograd, ops, DType, Device, Result, Tensor};

#[path = "digits_model.rs"]
mod digits_model;

fn adam() -> Optimizer {
    Optimizer::new(Kind::Adam { beta1: 0.9, beta2: 0.999, eps: 1e-7 }, 0.001)
}

fn params(dev: &Device, shapes: &[&[usize]]) -> Result<Vec<Tensor>> {
    let mut out = Vec::new();
    for (i, s) in shapes.iter().enumerate() {
        let p = if s.len() == 1 { ops::zeros(dev, s, DType::F32)? } else { ops::random_normal(dev, s, 0.0, 0.1, Some(i as u32 + 2))? };
        p.set_requires_grad(true)?;
        out.push(p);
    }
    Ok(out)
}

/// One training step as `optimizer.minimize` runs it: the forward pass (`logits`) and softmax
/// cross-entropy, backward, then (the graph released, as minimize's tidy does) an Adam update,
/// and the loss read back.
fn train_step(logits: impl FnOnce() -> Result<Tensor>, labels: &Tensor, opt: &mut Optimizer, params: &[Tensor]) -> Result<()> {
    let loss = ops::sparse_softmax_cross_entropy(labels, &logits()?)?;
    autograd::backward(&loss)?;
    let value = loss.detach();
    drop(loss);
    opt.step(params)?;
    pollster::block_on(value.to_vec_f32())?;
    Ok(())
}

/// conv2d(8, 3x3 valid, relu) - maxPool 2 - flatten - dense 10, 28x28x1 at batch 64, Adam.
fn cnn_step(dev: &Device) -> Result<impl FnMut() -> Result<()>> {
    let batch = 64;
    let x = ops::random_normal(dev, &[batch, 28, 28, 1], 0.0, 1.0, Some(1))?;
    let y = Tensor::from_i32(dev, &(0..batch as i32).map(|i| i % 10).collect::<Vec<_>>(), &[batch])?;
    let p = params(dev, &[&[3, 3, 1, 8], &[8], &[13 * 13 * 8, 10], &[10]])?;
    let mut opt = adam();
    Ok(move || {
        let forward = || {
            let c = ops::relu(&ops::add(&ops::conv2d(&x, &p[0], (1, 1), Padding::Valid, (1, 1))?, &p[1])?)?;
            let h = ops::max_pool(&c, (2, 2), (2, 2), Padding::Valid)?.reshape_to(&[batch, 13 * 13 * 8])?;
            ops::add(&ops::matmul(&h, &p[2], false, false)?, &p[3])
        };
        train_step(forward, &y, &mut opt, &p)
    })
}

/// Two convolutions, as in a typical MNIST model: conv(8, 3x3 same, relu) - conv(16, 3x3 same,
/// relu) - maxPool 2 - dense 10, 28x28x1 at batch 64, Adam. The second convolution needs the
/// input gradient too.
fn cnn2_step(dev: &Device) -> Result<impl FnMut() -> Result<()>> {
    let batch = 64;
    let x = ops::random_normal(dev, &[batch, 28, 28, 1], 0.0, 1.0, Some(1))?;
    let y = Tensor::from_i32(dev, &(0..batch as i32).map(|i| i % 10).collect::<Vec<_>>(), &[batch])?;
    let p = params(dev, &[&[3, 3, 1, 8], &[8], &[3, 3, 8, 16], &[16], &[14 * 14 * 16, 10], &[10]])?;
    let mut opt = adam();
    Ok(move || {
        let forward = || {
            let c1 = ops::relu(&ops::add(&ops::conv2d(&x, &p[0], (1, 1), Padding::Same, (1, 1))?, &p[1])?)?;
            let c2 = ops::relu(&ops::add(&ops::conv2d(&c1, &p[2], (1, 1), Padding::Same, (1, 1))?, &p[3])?)?;
            let h = ops::max_pool(&c2, (2, 2), (2, 2), Padding::Valid)?.reshape_to(&[batch, 14 * 14 * 16])?;
            ops::add(&ops::matmul(&h, &p[4], false, false)?, &p[5])
        };
        train_step(forward, &y, &mut opt, &p)
    })
}

/// Dense 784-128-relu-10, batch 128, Adam.
fn mlp_step(dev: &Device) -> Result<impl FnMut() -> Result<()>> {
    let x = ops::random_normal(dev, &[128, 784], 0.0, 1.0, Some(1))?;
    let y = Tensor::from_i32(dev, &(0..128).map(|i| i % 10).collect::<Vec<_>>(), &[128])?;
    let p = params(dev, &[&[784, 128], &[128], &[128, 10], &[10]])?;
    let mut opt = adam();
    Ok(move || {
        let forward = || {
            let h = ops::relu(&ops::add(&ops::matmul(&x, &p[0], false, false)?, &p[1])?)?;
            ops::add(&ops::matmul(&h, &p[2], false, false)?, &p[3])
        };
        train_step(forward, &y, &mut opt, &p)
    })
}

/// The digits demo's model (bench/digits_model.rs) at batch 32, as the demo trains it.
fn digits_step(dev: &Device) -> Result<impl FnMut() -> Result<()>> {
    let batch = 32;
    let x = ops::random_uniform(dev, &[batch, 8, 8, 1], 0.0, 1.0, Some(1))?;
    let y = ops::one_hot(&Tensor::from_i32(dev, &(0..batch as i32).map(|i| i % 10).collect::<Vec<_>>(), &[batch])?, 10)?;
    let p = digits_model::params(dev)?;
    let mut opt = adam();
    Ok(move || {
        let loss = digits_model::loss(&x, &y, &p)?;
        autograd::backward(&loss)?;
        let value = loss.detach();
        drop(loss);
        opt.step(&p)?;
        pollster::block_on(value.to_vec_f32())?;
        Ok(())
    })
}

fn profile(dev: &Device, name: &str, mut step: impl FnMut() -> Result<()>) -> Result<()> {
    let Device::Gpu(ctx) = dev else { return Ok(()) };
    for _ in 0..3 {
        step()?;
    }
    let reps = 5;
    ctx.start_profile();
    for _ in 0..reps {
        step()?;
    }
    let mut prof = ctx.take_profile();
    for k in &mut prof.kernels {
        k.1 /= reps as f64;
        k.2 /= reps;
    }
    println!("{name} on {}, per step (each dispatch waited for):\n{prof}\n", dev.description());
    Ok(())
}

fn main() -> Result<()> {
    let dev = pollster::block_on(Device::gpu())?;
    profile(&dev, "train step CNN conv8-pool-dense10, batch 64", cnn_step(&dev)?)?;
    profile(&dev, "train step MLP 784-128-10, batch 128", mlp_step(&dev)?)?;
    profile(&dev, "train step CNN conv8-conv16-pool-dense10, batch 64", cnn2_step(&dev)?)?;
    profile(&dev, "train step digits CNN (the demo's model), batch 32", digits_step(&dev)?)?;
    Ok(())
}
