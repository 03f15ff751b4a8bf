//! Losses (mean over the batch, like TF.js/Keras defaults). Most are compositions of elementwise
//! ops and reductions, so they fuse; cross-entropy from logits has a rule of its own.
use crate::autograd::{is_recording, no_grad, record, scalar};
use crate::fusion::{self, gradient_exprs, Space};
use super::loss_terms::{same_shape, LossTerms};
use crate::{bail, ops, DType, Result, Tensor};

/// Every loss, by its typed name (the JS API and model configs parse Keras/TF.js names into it).
#[cfg_attr(target_arch = "wasm32", wasm_bindgen::prelude::wasm_bindgen)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loss {
    MeanSquaredError,
    MeanAbsoluteError,
    /// From logits (TF.js `tf.losses.softmaxCrossEntropy`).
    SoftmaxCrossEntropy,
    SparseSoftmaxCrossEntropy,
    /// Of probabilities (Keras `binaryCrossentropy`, TF.js `tf.losses.logLoss`).
    BinaryCrossEntropy,
    /// From logits.
    SigmoidCrossEntropy,
    /// Of probabilities (Keras `categoricalCrossentropy`).
    CategoricalCrossEntropy,
    SparseCategoricalCrossEntropy,
    Hinge,
}

impl Loss {
    /// The loss of `predictions` against `labels` (mean over the batch).
    pub fn apply(self, labels: &Tensor, predictions: &Tensor) -> Result<Tensor> {
        match self {
            Loss::MeanSquaredError => mean_squared_error(labels, predictions),
            Loss::MeanAbsoluteError => mean_absolute_error(labels, predictions),
            Loss::SoftmaxCrossEntropy => softmax_cross_entropy(labels, predictions),
            Loss::SparseSoftmaxCrossEntropy => sparse_softmax_cross_entropy(labels, predictions),
            Loss::BinaryCrossEntropy => binary_cross_entropy(labels, predictions),
            Loss::SigmoidCrossEntropy => sigmoid_cross_entropy(labels, predictions),
            Loss::CategoricalCrossEntropy => categorical_cross_entropy(labels, predictions),
            Loss::SparseCategoricalCrossEntropy => sparse_categorical_cross_entropy(labels, predictions),
            Loss::Hinge => hinge(labels, predictions),
        }
    }

    /// Each sample's loss, as Keras weighs samples: the mean over the last axis of the
    /// elementwise losses (squared and absolute error, the binary cross-entropies, hinge; a rank-1
    /// prediction is one value per sample), or each row's cross-entropy. `apply` is its mean.
    pub fn per_sample(self, labels: &Tensor, predictions: &Tensor) -> Result<Tensor> {
        let rows = |terms: Tensor| if terms.rank() <= 1 { Ok(terms) } else { ops::mean(&terms, Some(&[-1]), false) };
        match self {
            Loss::MeanSquaredError => rows(LossTerms::SquaredError.apply(labels, predictions, 0.0)?),
            Loss::MeanAbsoluteError => rows(LossTerms::AbsoluteDifference.apply(labels, predictions, 0.0)?),
            Loss::SigmoidCrossEntropy => rows(LossTerms::SigmoidCrossEntropy.apply(labels, predictions, 0.0)?),
            Loss::BinaryCrossEntropy => rows(binary_cross_entropy_terms(labels, predictions)?),
            Loss::Hinge => rows(hinge_terms(labels, predictions)?),
            Loss::SoftmaxCrossEntropy => LossTerms::SoftmaxCrossEntropy.apply(labels, predictions, 0.0),
            Loss::SparseSoftmaxCrossEntropy => {
                let one_hot = sparse_one_hot("sparse_softmax_cross_entropy", labels, predictions)?;
                LossTerms::SoftmaxCrossEntropy.apply(&one_hot, predictions, 0.0)
            }
            Loss::CategoricalCrossEntropy => ops::neg(&ops::sum(&categorical_terms(labels, predictions)?, Some(&[-1]), false)?),
            Loss::SparseCategoricalCrossEntropy => {
                let one_hot = sparse_one_hot("sparse_categorical_cross_entropy", labels, predictions)?;
                ops::neg(&ops::sum(&categorical_terms(&one_hot, predictions)?, Some(&[-1]), false)?)
            }
        }
    }
}

/// Integer class labels (the predictions' shape without its last axis, or with a last axis of 1;
/// float labels are truncated) as float32 one-hot rows.
fn sparse_one_hot(op: &str, labels: &Tensor, preds: &Tensor) -> Result<Tensor> {
    if preds.rank() == 0 {
        bail!(op, "predictions need a class axis, got a scalar");
    }
    let classes = &preds.shape()[..preds.rank() - 1];
    let labels = if labels.rank() == preds.rank() && labels.shape().last() == Some(&1) { labels.reshape_to(classes)? } else { labels.clone() };
    if labels.shape() != classes {
        bail!(op, "labels of shape {:?} must be the predictions' shape {:?} without its last axis", labels.shape(), preds.shape());
    }
    let labels = if labels.dtype() == DType::F32 { ops::cast(&labels, DType::I32)? } else { labels };
    ops::cast(&ops::one_hot(&labels, preds.shape()[preds.rank() - 1])?, DType::F32)
}

/// mean((preds - labels)^2)
pub fn mean_squared_error(labels: &Tensor, preds: &Tensor) -> Result<Tensor> {
    ops::mean(&LossTerms::SquaredError.apply(labels, preds, 0.0)?, None, false)
}

/// mean over the batch of -sum(labels * log_softmax(logits)) along the last axis.
pub fn softmax_cross_entropy(labels: &Tensor, logits: &Tensor) -> Result<Tensor> {
    same_shape("softmax_cross_entropy", labels, logits)?;
    cross_entropy_from_logits("softmax_cross_entropy", labels, logits, false)
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
    cross_entropy_from_logits(OP, &ops::one_hot(labels, depth)?, logits, true)
}

/// mean_rows(sum_j labels_j (lse - x_j)): two kernels forward (the rows' log-sum-exp, then one
/// reduction of the whole expression) and none of its own backward, where the gradient is the
/// elementwise (softmax * sum(labels) - labels) / rows. `one_hot`: the labels of each row sum to
/// 1 (saves reducing them in the backward pass).
fn cross_entropy_from_logits(op: &'static str, labels: &Tensor, logits: &Tensor, one_hot: bool) -> Result<Tensor> {
    if logits.rank() == 0 {
        bail!(op, "logits need a class axis, got a scalar");
    }
    let shape = logits.shape().to_vec();
    let rows = (logits.numel() / shape[shape.len() - 1].max(1)).max(1) as f32;
    let lse = no_grad(|| ops::log_sum_exp(logits, -1, true))?;
    let s = Space::new(op, &shape, &[labels, logits])?;
    let (y, x, l) = (s.read(labels)?, s.read(logits)?, s.read(&lse)?);
    let terms = no_grad(|| s.tensor(y * (l - x) * (1.0 / rows)))?;
    let loss = no_grad(|| ops::sum(&terms, None, false))?;
    Ok(record(op, loss, &[labels, logits], move |g| {
        // A recorded backward pass recomputes the rows' log-sum-exp, recorded, so that the
        // gradient depends on the logits through it too.
        let lse = if is_recording() { ops::log_sum_exp(&g.inputs[1], -1, true)? } else { lse.clone() };
        let (needs_labels, needs_logits) = (g.needs(0), g.needs(1));
        let label_sums = if needs_logits && !one_hot { Some(ops::sum(&g.inputs[0], Some(&[-1]), true)?) } else { None };
        let mut tensors = vec![g.grad, &g.inputs[0], &g.inputs[1], &lse];
        tensors.extend(&label_sums);
        let d = gradient_exprs(op, &shape, &tensors, |e| {
            let dy = &e[0] * (1.0 / rows);
            let (y, x, l) = (&e[1], &e[2], &e[3]);
            let mut d = Vec::new();
            if needs_labels {
                d.push(&dy * (l - x));
            }
            if needs_logits {
                let softmax = fusion::exp(x - l);
                let mass = if one_hot { softmax } else { softmax * &e[4] };
                d.push((mass - y) * &dy);
            }
            d
        })?;
        let mut d = d.into_iter();
        Ok(vec![if needs_labels { d.next() } else { None }, if needs_logits { d.next() } else { None }])
    }))
}

/// Binary cross-entropy of probabilities, clipped to [eps, 1 - eps] like Keras (eps 1e-7).
pub fn binary_cross_entropy(labels: &Tensor, probs: &Tensor) -> Result<Tensor> {
    ops::mean(&binary_cross_entropy_terms(labels, probs)?, None, false)
}

/// -(labels log p + (1 - labels) log(1 - p)) per element, p clipped to [1e-7, 1 - 1e-7].
fn binary_cross_entropy_terms(labels: &Tensor, probs: &Tensor) -> Result<Tensor> {
    same_shape("binary_cross_entropy", labels, probs)?;
    const EPS: f32 = 1e-7;
    let p = ops::clip(probs, EPS, 1.0 - EPS)?;
    let one = scalar(probs, 1.0)?;
    let pos = ops::mul(labels, &ops::log(&p)?)?;
    let neg = ops::mul(&ops::sub(&one, labels)?, &ops::log(&ops::sub(&one, &p)?)?)?;
    ops::neg(&ops::add(&pos, &neg)?)
}

/// Binary cross-entropy from logits, stable for any magnitude:
/// max(x, 0) - x z + log(1 + exp(-|x|)).
pub fn sigmoid_cross_entropy(labels: &Tensor, logits: &Tensor) -> Result<Tensor> {
    ops::mean(&LossTerms::SigmoidCrossEntropy.apply(labels, logits, 0.0)?, None, false)
}

/// Keras categorical cross-entropy of probabilities (a softmax output): each row is normalised to
/// sum 1 and clipped to [1e-7, 1 - 1e-7] (as Keras and TF.js do), then mean over the rows of
/// -sum(labels * log p). One reduction for the rows' sums and one for the whole loss.
pub fn categorical_cross_entropy(labels: &Tensor, probs: &Tensor) -> Result<Tensor> {
    const OP: &str = "categorical_cross_entropy";
    same_shape(OP, labels, probs)?;
    if probs.rank() == 0 {
        bail!(OP, "predictions need a class axis, got a scalar");
    }
    let rows = (probs.numel() / probs.shape()[probs.rank() - 1].max(1)).max(1) as f32;
    let terms = ops::mul(&categorical_terms(labels, probs)?, &scalar(probs, -1.0 / rows)?)?;
    ops::sum(&terms, None, false)
}

/// labels * log p per element, each row of p normalised to sum 1 and clipped to [1e-7, 1 - 1e-7].
fn categorical_terms(labels: &Tensor, probs: &Tensor) -> Result<Tensor> {
    const EPS: f32 = 1e-7;
    let p = ops::clip(&ops::div(probs, &ops::sum(probs, Some(&[-1]), true)?)?, EPS, 1.0 - EPS)?;
    ops::mul(labels, &ops::log(&p)?)
}

/// Keras sparse categorical cross-entropy of probabilities: integer class labels (the
/// predictions' shape without its last axis, or with a last axis of 1).
pub fn sparse_categorical_cross_entropy(labels: &Tensor, probs: &Tensor) -> Result<Tensor> {
    categorical_cross_entropy(&sparse_one_hot("sparse_categorical_cross_entropy", labels, probs)?, probs)
}

/// mean(|predictions - labels|)
pub fn mean_absolute_error(labels: &Tensor, preds: &Tensor) -> Result<Tensor> {
    ops::mean(&LossTerms::AbsoluteDifference.apply(labels, preds, 0.0)?, None, false)
}

/// Keras hinge: mean(max(1 - labels * predictions, 0)), labels in {-1, 1}.
pub fn hinge(labels: &Tensor, preds: &Tensor) -> Result<Tensor> {
    ops::mean(&hinge_terms(labels, preds)?, None, false)
}

fn hinge_terms(labels: &Tensor, preds: &Tensor) -> Result<Tensor> {
    same_shape("hinge", labels, preds)?;
    ops::relu(&ops::sub(&scalar(preds, 1.0)?, &ops::mul(labels, preds)?)?)
}
