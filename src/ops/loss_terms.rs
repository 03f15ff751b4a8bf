//! TF.js's `tf.losses.*`: each element's loss by TF.js's formula (each row's for the softmax
//! cross-entropy, the slice along `axis` for the cosine distance), then `compute_weighted_loss`
//! weights and reduces them as TF.js's `computeWeightedLoss` does. The Keras losses of
//! `model.compile` (losses.rs) take their shared formulas from here.
use crate::autograd::scalar;
use crate::{bail, ops, DType, Result, Tensor};

/// Which per-element loss (TF.js's `tf.losses` names).
#[cfg_attr(target_arch = "wasm32", wasm_bindgen::prelude::wasm_bindgen)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LossTerms {
    /// |labels - predictions|
    AbsoluteDifference,
    /// (labels - predictions)^2
    SquaredError,
    /// -labels log(p + eps) - (1 - labels) log(1 - p + eps); the parameter is eps.
    Log,
    /// From logits, stable for any magnitude: max(x, 0) - x z + log(1 + exp(-|x|)).
    SigmoidCrossEntropy,
    /// From logits, per row: -sum(labels * log_softmax(logits)) along the last axis.
    SoftmaxCrossEntropy,
    /// max(1 - (2 labels - 1) predictions, 0): labels in {0, 1}, as TF.js's hingeLoss takes them.
    Hinge,
    /// 0.5 q^2 + delta (|e| - q) with e = predictions - labels, q = min(|e|, delta); the parameter
    /// is delta.
    Huber,
    /// 1 - sum(labels * predictions) along the parameter's axis (kept, of size 1).
    CosineDistance,
}

/// TF.js's `tf.Reduction`, by its numbers.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen::prelude::wasm_bindgen)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reduction {
    None = 0,
    Mean = 1,
    Sum = 2,
    SumByNonzeroWeights = 3,
}

pub(crate) fn same_shape(op: &str, labels: &Tensor, preds: &Tensor) -> Result<()> {
    if labels.shape() != preds.shape() {
        bail!(op, "labels of shape {:?} do not match predictions of shape {:?}", labels.shape(), preds.shape());
    }
    Ok(())
}

impl LossTerms {
    /// Each element's loss; `param` is Log's eps, Huber's delta or CosineDistance's axis.
    pub fn apply(self, labels: &Tensor, preds: &Tensor, param: f32) -> Result<Tensor> {
        same_shape(self.name(), labels, preds)?;
        let one = || scalar(preds, 1.0);
        match self {
            LossTerms::AbsoluteDifference => ops::abs(&ops::sub(preds, labels)?),
            LossTerms::SquaredError => ops::squared_difference(preds, labels),
            LossTerms::Log => {
                let eps = scalar(preds, param)?;
                let pos = ops::mul(labels, &ops::log(&ops::add(preds, &eps)?)?)?;
                let neg = ops::mul(&ops::sub(&one()?, labels)?, &ops::log(&ops::add(&ops::sub(&one()?, preds)?, &eps)?)?)?;
                ops::neg(&ops::add(&pos, &neg)?)
            }
            LossTerms::SigmoidCrossEntropy => {
                let a = ops::sub(&ops::relu(preds)?, &ops::mul(preds, labels)?)?;
                ops::add(&a, &ops::log(&ops::add(&one()?, &ops::exp(&ops::neg(&ops::abs(preds)?)?)?)?)?)
            }
            LossTerms::SoftmaxCrossEntropy => {
                if preds.rank() == 0 {
                    bail!(self.name(), "logits need a class axis, got a scalar");
                }
                ops::neg(&ops::sum(&ops::mul(labels, &ops::log_softmax(preds, -1)?)?, Some(&[-1]), false)?)
            }
            LossTerms::Hinge => {
                let signed = ops::sub(&ops::mul(labels, &scalar(preds, 2.0)?)?, &one()?)?;
                ops::relu(&ops::sub(&one()?, &ops::mul(&signed, preds)?)?)
            }
            LossTerms::Huber => {
                if !(param > 0.0) {
                    bail!(self.name(), "delta must be positive, got {param}");
                }
                let err = ops::abs(&ops::sub(preds, labels)?)?;
                let quadratic = ops::minimum(&err, &scalar(preds, param)?)?;
                let linear = ops::sub(&err, &quadratic)?;
                ops::add(&ops::mul(&ops::square(&quadratic)?, &scalar(preds, 0.5)?)?, &ops::mul(&linear, &scalar(preds, param)?)?)
            }
            LossTerms::CosineDistance => {
                let axis = param as i64;
                if param.fract() != 0.0 || axis < -(preds.rank() as i64) || axis >= preds.rank() as i64 {
                    bail!(self.name(), "axis {param} is out of range for shape {:?}", preds.shape());
                }
                ops::sub(&one()?, &ops::sum(&ops::mul(labels, preds)?, Some(&[axis]), true)?)
            }
        }
    }

    fn name(self) -> &'static str {
        match self {
            LossTerms::AbsoluteDifference => "absoluteDifference",
            LossTerms::SquaredError => "meanSquaredError",
            LossTerms::Log => "logLoss",
            LossTerms::SigmoidCrossEntropy => "sigmoidCrossEntropy",
            LossTerms::SoftmaxCrossEntropy => "softmaxCrossEntropy",
            LossTerms::Hinge => "hingeLoss",
            LossTerms::Huber => "huberLoss",
            LossTerms::CosineDistance => "cosineDistance",
        }
    }
}

/// TF.js's `computeWeightedLoss`: `losses` times `weights` (which broadcast to them), reduced:
/// None keeps them; Sum adds them; Mean divides the sum by the weights' sum (times how many loss
/// elements each weight covers); SumByNonzeroWeights divides it by the count of nonzero weights
/// broadcast over the losses. Without weights, both means are the plain mean.
pub fn compute_weighted_loss(losses: &Tensor, weights: Option<&Tensor>, reduction: Reduction) -> Result<Tensor> {
    const OP: &str = "computeWeightedLoss";
    if losses.dtype() != DType::F32 {
        bail!(OP, "losses must be float32, got {}", losses.dtype());
    }
    let weighted = match weights {
        Some(w) => {
            let product = ops::mul(losses, w).ok().filter(|p| p.shape() == losses.shape());
            let Some(product) = product else {
                bail!(OP, "weights of shape {:?} do not broadcast to losses of shape {:?}", w.shape(), losses.shape());
            };
            product
        }
        None => losses.clone(),
    };
    match (reduction, weights) {
        (Reduction::None, _) => Ok(weighted),
        (Reduction::Sum, _) => ops::sum(&weighted, None, false),
        (Reduction::Mean | Reduction::SumByNonzeroWeights, None) => ops::mean(&weighted, None, false),
        (Reduction::Mean, Some(w)) => {
            let covered = (losses.numel() / w.numel().max(1)).max(1) as f32;
            let total = ops::sum(&ops::cast(w, DType::F32)?, None, false)?;
            ops::div(&ops::sum(&weighted, None, false)?, &ops::mul(&total, &scalar(losses, covered)?)?)
        }
        (Reduction::SumByNonzeroWeights, Some(w)) => {
            let spread = ops::mul(&ops::cast(w, DType::F32)?, &ops::ones(losses.device(), losses.shape(), DType::F32)?)?;
            let nonzero = ops::sum(&ops::cast(&ops::not_equal(&spread, &scalar(losses, 0.0)?)?, DType::F32)?, None, false)?;
            ops::div(&ops::sum(&weighted, None, false)?, &nonzero)
        }
    }
}
