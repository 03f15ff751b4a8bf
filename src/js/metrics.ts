// Metrics for model.compile({metrics}); names and log keys as TF.js ('accuracy' logs as 'acc').
import { own } from './args.js';
import { tidy } from './engine.js';
import * as ops from './ops.js';
import type { Tensor } from './tensor.js';

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

const METRICS: Record<string, [string, MetricFn]> = {
  accuracy: ['acc', accuracy],
  acc: ['acc', accuracy],
  mse: ['mse', (t, p) => tidy(() => ops.mean(ops.squaredDifference(p, t)))],
  mae: ['mae', (t, p) => tidy(() => ops.mean(ops.abs(p.sub(t))))],
};

export function getMetric(spec: string | MetricFn): [string, MetricFn] {
  if (typeof spec === 'function') return [spec.name || 'metric', spec];
  const m = own(METRICS, spec);
  if (!m) throw new Error(`unknown metric '${spec}' (known: ${Object.keys(METRICS).join(', ')})`);
  return m;
}
