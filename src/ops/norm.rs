//! Batch and layer normalisation, composed from primitives (gradients follow).
use crate::autograd::scalar;
use crate::{ops, Result, Tensor};

/// (x - mean) / sqrt(var + eps) * gamma + beta, with given statistics (TF.js `batchNorm`).
pub fn batch_norm(x: &Tensor, mean: &Tensor, variance: &Tensor, gamma: Option<&Tensor>, beta: Option<&Tensor>, eps: f32) -> Result<Tensor> {
    let inv = ops::rsqrt(&ops::add(variance, &scalar(x, eps)?)?)?;
    let mut y = ops::mul(&ops::sub(x, mean)?, &inv)?;
    if let Some(g) = gamma {
        y = ops::mul(&y, g)?;
    }
    if let Some(b) = beta {
        y = ops::add(&y, b)?;
    }
    Ok(y)
}

/// Normalises over the last axis with the batch's own statistics, then scales and shifts
/// (Keras `LayerNormalization`).
pub fn layer_norm(x: &Tensor, gamma: Option<&Tensor>, beta: Option<&Tensor>, eps: f32) -> Result<Tensor> {
    let (mean, var) = ops::moments(x, &[-1], true)?;
    batch_norm(x, &mean, &var, gamma, beta, eps)
}
