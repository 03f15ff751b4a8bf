//! Losses, composed from primitives (mean over the batch, like TF.js/Keras defaults).
use crate::autograd::scalar;
use crate::{bail, ops, DType, Result, Tensor};

fn same_shape(op: &str, labels: &Tensor, preds: &Tensor) -> Result<()> {
    if labels.shape() != preds.shape() {
        bail!(op, "labels of shape {:?} do not match predictions of shape {:?}", labels.shape(), preds.shape());
    }
    Ok(())
}

/// mean((preds - labels)^2)
pub fn mean_squared_error(labels: &Tensor, preds: &Tensor) -> Result<Tensor> {
    same_shape("mean_squared_error", labels, preds)?;
    ops::mean(&ops::squared_difference(preds, labels)?, None, false)
}

/// mean over the batch of -sum(labels * log_softmax(logits)) along the last axis.
pub fn softmax_cross_entropy(labels: &Tensor, logits: &Tensor) -> Result<Tensor> {
    same_shape("softmax_cross_entropy", labels, logits)?;
    if logits.rank() == 0 {
        bail!("softmax_cross_entropy", "logits need a class axis, got a scalar");
    }
    let lsm = ops::log_softmax(logits, -1)?;
    let per_example = ops::neg(&ops::sum(&ops::mul(labels, &lsm)?, Some(&[-1]), false)?)?;
    ops::mean(&per_example, None, false)
}

/// Cross-entropy from integer class labels (shape = logits' shape without the last axis).
pub fn sparse_softmax_cross_entropy(labels: &Tensor, logits: &Tensor) -> Result<Tensor> {
    const OP: &str = "sparse_softmax_cross_entropy";
    if logits.rank() == 0 || labels.shape() != &logits.shape()[..logits.rank() - 1] {
        bail!(OP, "labels of shape {:?} must be logits' shape {:?} without its last axis", labels.shape(), logits.shape());
    }
    if labels.dtype() == DType::F32 {
        bail!(OP, "labels must be int32 class indices, got float32");
    }
    let depth = logits.shape()[logits.rank() - 1];
    softmax_cross_entropy(&ops::one_hot(labels, depth)?, logits)
}

/// Binary cross-entropy of probabilities, clipped to [eps, 1 - eps] like Keras (eps 1e-7).
pub fn binary_cross_entropy(labels: &Tensor, probs: &Tensor) -> Result<Tensor> {
    same_shape("binary_cross_entropy", labels, probs)?;
    const EPS: f32 = 1e-7;
    let p = ops::clip(probs, EPS, 1.0 - EPS)?;
    let one = scalar(probs, 1.0)?;
    let pos = ops::mul(labels, &ops::log(&p)?)?;
    let neg = ops::mul(&ops::sub(&one, labels)?, &ops::log(&ops::sub(&one, &p)?)?)?;
    ops::neg(&ops::mean(&ops::add(&pos, &neg)?, None, false)?)
}

/// Binary cross-entropy from logits, stable for any magnitude:
/// max(x, 0) - x z + log(1 + exp(-|x|)).
pub fn sigmoid_cross_entropy(labels: &Tensor, logits: &Tensor) -> Result<Tensor> {
    same_shape("sigmoid_cross_entropy", labels, logits)?;
    let zero = scalar(logits, 0.0)?;
    let one = scalar(logits, 1.0)?;
    let a = ops::sub(&ops::maximum(logits, &zero)?, &ops::mul(logits, labels)?)?;
    let b = ops::log(&ops::add(&one, &ops::exp(&ops::neg(&ops::abs(logits)?)?)?)?)?;
    ops::mean(&ops::add(&a, &b)?, None, false)
}
