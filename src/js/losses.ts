// Losses by Keras/TF.js names, as used by model.compile({loss}); and tf.losses.*. Each is the
// engine's loss (src/ops/losses.rs, the one home of each), named by its typed `Loss`.
import { tidy, wasm } from './engine.js';
import { Tensor } from './tensor.js';

export type LossFn = (yTrue: Tensor, yPred: Tensor) => Tensor;

function engineLoss(loss: wasm.Loss): LossFn {
  return (yTrue, yPred) => {
    if (!(yTrue instanceof Tensor) || !(yPred instanceof Tensor)) throw new Error('loss: expected tensors for the labels and the predictions');
    return new Tensor(wasm.Tensor.loss(loss, yTrue.handle, yPred.handle));
  };
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

/**
 * TF.js's `weights` and `reduction` arguments: the mean over every element is what the engine's
 * losses compute, which is TF.js's default (SUM_BY_NONZERO_WEIGHTS without weights) and MEAN.
 * Anything else is refused rather than ignored.
 */
function plainReduction(op: string, weights: unknown, reduction: unknown): void {
  if (weights !== undefined && weights !== null) throw new Error(`losses.${op}: weights are not supported yet`);
  if (reduction !== undefined && reduction !== 1 && reduction !== 3) throw new Error(`losses.${op}: only the mean reduction (Reduction.MEAN or the default SUM_BY_NONZERO_WEIGHTS) is supported, got ${String(reduction)}`);
}

/** Labels moved towards `towards` by `labelSmoothing` (TF.js: one-hot to 1/classes, binary to 0.5). */
function smoothed(op: string, labels: Tensor, labelSmoothing: unknown, towards: number): Tensor {
  if (labelSmoothing === undefined || labelSmoothing === 0) return labels;
  if (typeof labelSmoothing !== 'number' || !(labelSmoothing > 0 && labelSmoothing <= 1)) throw new Error(`losses.${op}: labelSmoothing must be in [0, 1], got ${String(labelSmoothing)}`);
  return labels.mul(1 - labelSmoothing).add(labelSmoothing * towards);
}

/** tf.losses.* (TF.js signatures: labels, predictions, weights?, ...). */
export const losses = {
  meanSquaredError: (labels: Tensor, predictions: Tensor, weights?: Tensor, reduction?: number) => {
    plainReduction('meanSquaredError', weights, reduction);
    return engineLoss(L.MeanSquaredError)(labels, predictions);
  },
  softmaxCrossEntropy: (onehotLabels: Tensor, logits: Tensor, weights?: Tensor, labelSmoothing = 0, reduction?: number) => {
    plainReduction('softmaxCrossEntropy', weights, reduction);
    if (!(onehotLabels instanceof Tensor)) throw new Error('losses.softmaxCrossEntropy: expected tensors for the labels and the logits');
    return tidy(() => engineLoss(L.SoftmaxCrossEntropy)(smoothed('softmaxCrossEntropy', onehotLabels, labelSmoothing, 1 / onehotLabels.shape[onehotLabels.rank - 1]), logits));
  },
  sigmoidCrossEntropy: (multiClassLabels: Tensor, logits: Tensor, weights?: Tensor, labelSmoothing = 0, reduction?: number) => {
    plainReduction('sigmoidCrossEntropy', weights, reduction);
    if (!(multiClassLabels instanceof Tensor)) throw new Error('losses.sigmoidCrossEntropy: expected tensors for the labels and the logits');
    return tidy(() => engineLoss(L.SigmoidCrossEntropy)(smoothed('sigmoidCrossEntropy', multiClassLabels, labelSmoothing, 0.5), logits));
  },
  absoluteDifference: (labels: Tensor, predictions: Tensor, weights?: Tensor, reduction?: number) => {
    plainReduction('absoluteDifference', weights, reduction);
    return engineLoss(L.MeanAbsoluteError)(labels, predictions);
  },
  logLoss: (labels: Tensor, predictions: Tensor, weights?: Tensor, epsilon?: number, reduction?: number) => {
    plainReduction('logLoss', weights, reduction);
    if (epsilon !== undefined) throw new Error('losses.logLoss: a custom epsilon is not supported yet');
    return engineLoss(L.BinaryCrossEntropy)(labels, predictions);
  },
};
