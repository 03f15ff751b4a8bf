//! dropout: zeroes each element with probability `rate` and scales the rest by 1 / (1 - rate)
//! (inverted dropout, as TF.js). Seeded; the mask is a constant, so the gradient passes through
//! the kept elements scaled the same way.
use crate::autograd::{no_grad, scalar};
use crate::{bail, ops, DType, Result, Tensor};

pub fn dropout(x: &Tensor, rate: f32, seed: Option<u32>) -> Result<Tensor> {
    if !(0.0..1.0).contains(&rate) {
        bail!("dropout", "rate {rate} must be in [0, 1)");
    }
    if rate == 0.0 {
        return Ok(x.clone());
    }
    let keep = no_grad(|| -> Result<Tensor> {
        let u = ops::random_uniform(x.device(), x.shape(), 0.0, 1.0, seed)?;
        let kept = ops::cast(&ops::greater_equal(&u, &scalar(x, rate)?)?, DType::F32)?;
        ops::mul(&kept, &scalar(x, 1.0 / (1.0 - rate))?)
    })?;
    ops::mul(x, &keep)
}
