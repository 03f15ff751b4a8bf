// Losses by Keras/TF.js names, as used by model.compile({loss}); and tf.losses.*. Each is the
// engine's loss (src/ops/losses.rs, the one home of each), named by its typed `Loss`.
import { wasm } from './engine.js';
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

/** tf.losses.* (TF.js signature: labels, predictions). */
export const losses = {
  meanSquaredError: (labels: Tensor, predictions: Tensor) => engineLoss(L.MeanSquaredError)(labels, predictions),
  softmaxCrossEntropy: (onehotLabels: Tensor, logits: Tensor) => engineLoss(L.SoftmaxCrossEntropy)(onehotLabels, logits),
  sigmoidCrossEntropy: (multiClassLabels: Tensor, logits: Tensor) => engineLoss(L.SigmoidCrossEntropy)(multiClassLabels, logits),
  absoluteDifference: (labels: Tensor, predictions: Tensor) => engineLoss(L.MeanAbsoluteError)(labels, predictions),
  logLoss: (labels: Tensor, predictions: Tensor) => engineLoss(L.BinaryCrossEntropy)(labels, predictions),
};
