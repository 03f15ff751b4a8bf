// Metrics for model.compile({metrics}); names and log keys as TF.js ('accuracy' logs as 'acc').
import type * as Wasm from '../../pkg/webtensor.js';
import { own } from './args.js';
import { tidy, wasm } from './engine.js';
import * as ops from './ops.js';
import { halfAware, Tensor } from './tensor.js';

export type MetricFn = (yTrue: Tensor, yPred: Tensor) => Tensor;

/** Accuracy: argmax match for several classes, threshold 0.5 for one output. */
function accuracy(yTrue: Tensor, yPred: Tensor): Tensor {
  return tidy(() => {
    const last = yPred.shape[yPred.shape.length - 1];
    if (last === 1 || yPred.rank === 1) return ops.mean(ops.equal(ops.greater(yPred, 0.5), ops.greater(yTrue, 0.5)).cast('float32'));
    const truth = yTrue.rank === yPred.rank && yTrue.shape[yTrue.rank - 1] === last ? ops.argMax(yTrue, -1) : yTrue.reshape([yTrue.size]).cast('int32');
    return ops.mean(ops.equal(ops.argMax(yPred, -1), truth.reshape([truth.size])).cast('float32'));
  });
}

// ---- tf.metrics: TF.js's per-sample metric functions ([batch] from [batch, ...] inputs) --------

const EPSILON = 1e-7;
const perSample = (loss: Wasm.Loss) => (yTrue: Tensor, yPred: Tensor) => halfAware(() => wasm.Tensor.lossPerSample(loss, yTrue.handle, yPred.handle));
const l2Normalize = (x: Tensor) => ops.div(x, ops.sqrt(ops.maximum(ops.sum(ops.square(x), -1, true), EPSILON)));
/** Counts of positions where yTrue is `truth` and yPred is `pred` (exactly, as TF.js compares them). */
const count = (yTrue: Tensor, yPred: Tensor, truth: number, pred: number) => ops.sum(ops.cast(ops.logicalAnd(ops.equal(yTrue, truth), ops.equal(yPred, pred)), 'float32'));
const ratio = (a: Tensor, b: Tensor) => { const d = ops.add(a, b); return ops.where(ops.greater(d, 0), ops.div(a, d), 0); };

const meanSquaredError = (yTrue: Tensor, yPred: Tensor) => tidy(() => ops.mean(ops.squaredDifference(yPred, yTrue), -1));
const meanAbsolutePercentageError = (yTrue: Tensor, yPred: Tensor) => tidy(() =>
  ops.mul(ops.mean(ops.abs(ops.div(ops.sub(yTrue, yPred), ops.clipByValue(ops.abs(yTrue), EPSILON, Number.MAX_VALUE))), -1), 100));

export const metrics = {
  binaryAccuracy: (yTrue: Tensor, yPred: Tensor) => tidy(() => ops.mean(ops.cast(ops.equal(yTrue, ops.cast(ops.greater(yPred, 0.5), yTrue.dtype)), 'float32'), -1)),
  categoricalAccuracy: (yTrue: Tensor, yPred: Tensor) => tidy(() => ops.cast(ops.equal(ops.argMax(yTrue, -1), ops.argMax(yPred, -1)), 'float32')),
  sparseCategoricalAccuracy: (yTrue: Tensor, yPred: Tensor) => tidy(() => {
    const truth = yTrue.rank === yPred.rank ? ops.squeeze(yTrue, [yTrue.rank - 1]) : yTrue;
    return ops.cast(ops.equal(truth, ops.cast(ops.argMax(yPred, -1), truth.dtype)), 'float32');
  }),
  binaryCrossentropy: perSample(wasm.Loss.BinaryCrossEntropy),
  categoricalCrossentropy: perSample(wasm.Loss.CategoricalCrossEntropy),
  sparseCategoricalCrossentropy: perSample(wasm.Loss.SparseCategoricalCrossEntropy),
  meanSquaredError,
  mse: meanSquaredError,
  MSE: meanSquaredError,
  meanAbsoluteError: (yTrue: Tensor, yPred: Tensor) => tidy(() => ops.mean(ops.abs(ops.sub(yPred, yTrue)), -1)),
  meanAbsolutePercentageError,
  mape: meanAbsolutePercentageError,
  MAPE: meanAbsolutePercentageError,
  cosineProximity: (yTrue: Tensor, yPred: Tensor) => tidy(() => ops.neg(ops.sum(ops.mul(l2Normalize(yTrue), l2Normalize(yPred)), -1))),
  precision: (yTrue: Tensor, yPred: Tensor) => tidy(() => ratio(count(yTrue, yPred, 1, 1), count(yTrue, yPred, 0, 1))),
  recall: (yTrue: Tensor, yPred: Tensor) => tidy(() => ratio(count(yTrue, yPred, 1, 1), count(yTrue, yPred, 1, 0))),
  r2Score: (yTrue: Tensor, yPred: Tensor) => tidy(() => {
    const residuals = ops.sum(ops.square(ops.sub(yTrue, yPred)));
    const total = ops.sum(ops.square(ops.sub(yTrue, ops.mean(yTrue))));
    return ops.sub(1, ops.div(residuals, total));
  }),
};

/** A per-sample metric as compile's metrics take it: its mean over the batch. */
const batchMean = (f: MetricFn): MetricFn => (t, p) => tidy(() => ops.mean(f(t, p)));

const METRICS: Record<string, [string, MetricFn]> = {
  accuracy: ['acc', accuracy],
  acc: ['acc', accuracy],
  mse: ['mse', batchMean(metrics.meanSquaredError)],
  mae: ['mae', batchMean(metrics.meanAbsoluteError)],
  binaryAccuracy: ['binaryAccuracy', batchMean(metrics.binaryAccuracy)],
  categoricalAccuracy: ['categoricalAccuracy', batchMean(metrics.categoricalAccuracy)],
  sparseCategoricalAccuracy: ['sparseCategoricalAccuracy', batchMean(metrics.sparseCategoricalAccuracy)],
  meanSquaredError: ['meanSquaredError', batchMean(metrics.meanSquaredError)],
  meanAbsoluteError: ['meanAbsoluteError', batchMean(metrics.meanAbsoluteError)],
  meanAbsolutePercentageError: ['meanAbsolutePercentageError', batchMean(metrics.meanAbsolutePercentageError)],
  mape: ['mape', batchMean(metrics.meanAbsolutePercentageError)],
  binaryCrossentropy: ['binaryCrossentropy', batchMean(metrics.binaryCrossentropy)],
  categoricalCrossentropy: ['categoricalCrossentropy', batchMean(metrics.categoricalCrossentropy)],
  cosineProximity: ['cosineProximity', batchMean(metrics.cosineProximity)],
};

export function getMetric(spec: string | MetricFn): [string, MetricFn] {
  if (typeof spec === 'function') return [spec.name || 'metric', spec];
  const m = own(METRICS, spec);
  if (!m) throw new Error(`unknown metric '${spec}' (known: ${Object.keys(METRICS).join(', ')})`);
  return m;
}
