// Losses by Keras/TF.js names, as used by model.compile({loss}); and tf.losses.*. Each is the
// engine's loss (src/ops/losses.rs, the one home of each), named by its typed `Loss`.
import type * as Wasm from '../../pkg/webtensor.js';
import { tidy, wasm } from './engine.js';
import { halfAware, Tensor } from './tensor.js';

export type LossFn = ((yTrue: Tensor, yPred: Tensor) => Tensor) & {
  /** A built-in loss's value per sample (Keras's unit of sample and class weights). */
  perSample?: (yTrue: Tensor, yPred: Tensor) => Tensor;
};

function engineLoss(loss: Wasm.Loss): LossFn {
  const check = (yTrue: unknown, yPred: unknown) => {
    if (!(yTrue instanceof Tensor) || !(yPred instanceof Tensor)) throw new Error('loss: expected tensors for the labels and the predictions');
  };
  const f: LossFn = (yTrue, yPred) => {
    check(yTrue, yPred);
    return halfAware(() => wasm.Tensor.loss(loss, yTrue.handle, yPred.handle));
  };
  f.perSample = (yTrue, yPred) => {
    check(yTrue, yPred);
    return halfAware(() => wasm.Tensor.lossPerSample(loss, yTrue.handle, yPred.handle));
  };
  return f;
}

const L = wasm.Loss;

export const LOSSES: Record<string, LossFn> = {
  meanSquaredError: engineLoss(L.MeanSquaredError),
  mse: engineLoss(L.MeanSquaredError),
  meanAbsoluteError: engineLoss(L.MeanAbsoluteError),
  mae: engineLoss(L.MeanAbsoluteError),
  binaryCrossentropy: engineLoss(L.BinaryCrossEntropy),
  categoricalCrossentropy: engineLoss(L.CategoricalCrossEntropy),
  sparseCategoricalCrossentropy: engineLoss(L.SparseCategoricalCrossEntropy),
  hinge: engineLoss(L.Hinge),
};

export function getLoss(spec: string | LossFn): LossFn {
  if (typeof spec === 'function') return spec;
  const f = typeof spec === 'string' && Object.hasOwn(LOSSES, spec) ? LOSSES[spec] : undefined;
  if (!f) throw new Error(`unknown loss '${String(spec)}' (known: ${Object.keys(LOSSES).join(', ')})`);
  return f;
}

/** TF.js's `tf.Reduction`: how tf.losses.* reduce the weighted losses. */
export const Reduction = { NONE: 0, MEAN: 1, SUM: 2, SUM_BY_NONZERO_WEIGHTS: 3 } as const;

function tensors(op: string, ...ts: unknown[]): void {
  if (!ts.every((t) => t instanceof Tensor)) throw new Error(`losses.${op}: expected tensors for the labels and the predictions`);
}

/** TF.js's computeWeightedLoss: `losses` times `weights` (broadcast), reduced by `reduction`. */
function computeWeightedLoss(losses: Tensor, weights?: Tensor | null, reduction: number = Reduction.SUM_BY_NONZERO_WEIGHTS): Tensor {
  const op = 'computeWeightedLoss';
  if (!(losses instanceof Tensor)) throw new Error(`losses.${op}: expected a tensor of losses`);
  if (weights !== undefined && weights !== null && !(weights instanceof Tensor)) throw new Error(`losses.${op}: weights must be a tensor`);
  if (!(reduction === 0 || reduction === 1 || reduction === 2 || reduction === 3)) throw new Error(`losses.${op}: reduction must be one of tf.Reduction's values (0-3), got ${String(reduction)}`);
  const r = reduction as Wasm.Reduction;
  return halfAware(() => (weights ? losses.handle.weightedLoss(weights.handle, r) : losses.handle.reducedLoss(r)));
}

/**
 * A tf.losses.* loss: each element's loss by TF.js's formula (`terms`), weighted and reduced.
 * Unweighted means of the common losses take the engine's fused mean (`mean`) instead.
 */
function weightedLoss(op: string, terms: Wasm.LossTerms, labels: Tensor, predictions: Tensor, weights: Tensor | undefined | null, reduction: number | undefined, param = 0, mean?: Wasm.Loss): Tensor {
  tensors(op, labels, predictions);
  const r = reduction ?? Reduction.SUM_BY_NONZERO_WEIGHTS;
  if (mean !== undefined && (weights === undefined || weights === null) && (r === Reduction.MEAN || r === Reduction.SUM_BY_NONZERO_WEIGHTS)) return engineLoss(mean)(labels, predictions);
  return tidy(() => computeWeightedLoss(halfAware(() => wasm.Tensor.lossTerms(terms, labels.handle, predictions.handle, param)), weights, r));
}

/** Labels moved towards `towards` by `labelSmoothing` (TF.js: one-hot to 1/classes, binary to 0.5). */
function smoothed(op: string, labels: Tensor, labelSmoothing: unknown, towards: number): Tensor {
  if (labelSmoothing === undefined || labelSmoothing === 0) return labels;
  if (typeof labelSmoothing !== 'number' || !(labelSmoothing > 0 && labelSmoothing <= 1)) throw new Error(`losses.${op}: labelSmoothing must be in [0, 1], got ${String(labelSmoothing)}`);
  return labels.mul(1 - labelSmoothing).add(labelSmoothing * towards);
}

const T = wasm.LossTerms;

/** tf.losses.* (TF.js signatures: labels, predictions, weights?, ..., reduction?). */
export const losses = {
  computeWeightedLoss,
  meanSquaredError: (labels: Tensor, predictions: Tensor, weights?: Tensor, reduction?: number) =>
    weightedLoss('meanSquaredError', T.SquaredError, labels, predictions, weights, reduction, 0, L.MeanSquaredError),
  absoluteDifference: (labels: Tensor, predictions: Tensor, weights?: Tensor, reduction?: number) =>
    weightedLoss('absoluteDifference', T.AbsoluteDifference, labels, predictions, weights, reduction, 0, L.MeanAbsoluteError),
  softmaxCrossEntropy: (onehotLabels: Tensor, logits: Tensor, weights?: Tensor, labelSmoothing = 0, reduction?: number) => {
    tensors('softmaxCrossEntropy', onehotLabels, logits);
    return tidy(() => weightedLoss('softmaxCrossEntropy', T.SoftmaxCrossEntropy, smoothed('softmaxCrossEntropy', onehotLabels, labelSmoothing, 1 / onehotLabels.shape[onehotLabels.rank - 1]), logits, weights, reduction, 0, L.SoftmaxCrossEntropy));
  },
  sigmoidCrossEntropy: (multiClassLabels: Tensor, logits: Tensor, weights?: Tensor, labelSmoothing = 0, reduction?: number) => {
    tensors('sigmoidCrossEntropy', multiClassLabels, logits);
    return tidy(() => weightedLoss('sigmoidCrossEntropy', T.SigmoidCrossEntropy, smoothed('sigmoidCrossEntropy', multiClassLabels, labelSmoothing, 0.5), logits, weights, reduction, 0, L.SigmoidCrossEntropy));
  },
  logLoss: (labels: Tensor, predictions: Tensor, weights?: Tensor, epsilon = 1e-7, reduction?: number) => {
    if (typeof epsilon !== 'number' || !(epsilon >= 0)) throw new Error(`losses.logLoss: epsilon must be a non-negative number, got ${String(epsilon)}`);
    return weightedLoss('logLoss', T.Log, labels, predictions, weights, reduction, epsilon);
  },
  hingeLoss: (labels: Tensor, predictions: Tensor, weights?: Tensor, reduction?: number) =>
    weightedLoss('hingeLoss', T.Hinge, labels, predictions, weights, reduction),
  huberLoss: (labels: Tensor, predictions: Tensor, weights?: Tensor, delta = 1, reduction?: number) => {
    if (typeof delta !== 'number' || !(delta > 0)) throw new Error(`losses.huberLoss: delta must be a positive number, got ${String(delta)}`);
    return weightedLoss('huberLoss', T.Huber, labels, predictions, weights, reduction, delta);
  },
  cosineDistance: (labels: Tensor, predictions: Tensor, axis: number, weights?: Tensor, reduction?: number) => {
    tensors('cosineDistance', labels, predictions);
    if (!Number.isInteger(axis) || axis < -predictions.rank || axis >= predictions.rank) throw new Error(`losses.cosineDistance: axis ${String(axis)} is out of range for shape [${predictions.shape}]`);
    return weightedLoss('cosineDistance', T.CosineDistance, labels, predictions, weights, reduction, axis);
  },
};
