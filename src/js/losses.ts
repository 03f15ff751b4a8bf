// Losses by Keras/TF.js names, as used by model.compile({loss}); and tf.losses.*.
import { tidy, wasm } from './engine.js';
import * as ops from './ops.js';
import { Tensor } from './tensor.js';

export type LossFn = (yTrue: Tensor, yPred: Tensor) => Tensor;

/** A loss the engine implements (stable forms, from logits where the name says so). */
function engineLoss(name: string): LossFn {
  return (yTrue, yPred) => new Tensor(wasm.Tensor.loss(name, yTrue.handle, yPred.handle));
}

/** Categorical cross-entropy of probabilities (Keras: predictions are softmax outputs). */
function categoricalCrossentropy(yTrue: Tensor, yPred: Tensor): Tensor {
  return tidy(() => {
    const p = yPred.div(ops.sum(yPred, -1, true)).clipByValue(1e-7, 1 - 1e-7);
    return ops.mean(ops.neg(ops.sum(yTrue.mul(ops.log(p)), -1)));
  });
}

function sparseCategoricalCrossentropy(yTrue: Tensor, yPred: Tensor): Tensor {
  return tidy(() => {
    const labels = yTrue.rank === yPred.rank ? ops.reshape(yTrue, yTrue.shape.slice(0, -1)) : yTrue;
    const depth = yPred.shape[yPred.shape.length - 1];
    return categoricalCrossentropy(ops.oneHot(labels.dtype === 'int32' ? labels : labels.cast('int32'), depth), yPred);
  });
}

export const LOSSES: Record<string, LossFn> = {
  meanSquaredError: engineLoss('meanSquaredError'),
  mse: engineLoss('meanSquaredError'),
  meanAbsoluteError: (t, p) => tidy(() => ops.mean(ops.abs(p.sub(t)))),
  mae: (t, p) => tidy(() => ops.mean(ops.abs(p.sub(t)))),
  binaryCrossentropy: engineLoss('binaryCrossEntropy'),
  categoricalCrossentropy,
  sparseCategoricalCrossentropy,
  hinge: (t, p) => tidy(() => ops.mean(ops.relu(ops.sub(1, t.mul(p))))),
};

export function getLoss(spec: string | LossFn): LossFn {
  if (typeof spec === 'function') return spec;
  const f = LOSSES[spec];
  if (!f) throw new Error(`unknown loss '${spec}' (known: ${Object.keys(LOSSES).join(', ')})`);
  return f;
}

/** tf.losses.* (TF.js signature: labels, predictions). */
export const losses = {
  meanSquaredError: (labels: Tensor, predictions: Tensor) => engineLoss('meanSquaredError')(labels, predictions),
  softmaxCrossEntropy: (onehotLabels: Tensor, logits: Tensor) => engineLoss('softmaxCrossEntropy')(onehotLabels, logits),
  sigmoidCrossEntropy: (multiClassLabels: Tensor, logits: Tensor) => engineLoss('sigmoidCrossEntropy')(multiClassLabels, logits),
  absoluteDifference: (labels: Tensor, predictions: Tensor) => tidy(() => ops.mean(ops.abs(predictions.sub(labels)))),
  logLoss: (labels: Tensor, predictions: Tensor) => engineLoss('binaryCrossEntropy')(labels, predictions),
};
