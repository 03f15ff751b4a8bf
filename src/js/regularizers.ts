// tf.regularizers (penalties a layer's weights add to the training loss) and tf.constraints
// (projections applied to a weight after each training step), with TF.js's names and formulas.
import * as ops from './ops.js';
import { tidy } from './engine.js';
import { describe, own } from './args.js';
import type { Tensor } from './tensor.js';

const EPSILON = 1e-7;
const factor = (op: string, what: string, v: unknown, fallback: number) => {
  const x = v ?? fallback;
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) throw new Error(`${op}: ${what} must be a non-negative number, got ${describe(x)}`);
  return x;
};

/** l1 * sum(|x|) + l2 * sum(x^2). */
export class Regularizer {
  readonly l1: number;
  readonly l2: number;
  constructor(args: { l1?: number; l2?: number } = {}, defaults: { l1: number; l2: number } = { l1: 0.01, l2: 0.01 }) {
    this.l1 = factor('regularizer', 'l1', args.l1, defaults.l1);
    this.l2 = factor('regularizer', 'l2', args.l2, defaults.l2);
  }
  apply(x: Tensor): Tensor {
    return tidy(() => {
      let penalty = ops.zeros([]);
      if (this.l1) penalty = ops.add(penalty, ops.mul(ops.sum(ops.abs(x)), this.l1));
      if (this.l2) penalty = ops.add(penalty, ops.mul(ops.sum(ops.square(x)), this.l2));
      return penalty;
    });
  }
  getClassName() { return 'L1L2'; }
  getConfig() { return { l1: this.l1, l2: this.l2 }; }
}

export const regularizers = {
  l1: (args?: { l1?: number }) => new Regularizer({ l1: args?.l1 ?? 0.01, l2: 0 }),
  l2: (args?: { l2?: number }) => new Regularizer({ l1: 0, l2: args?.l2 ?? 0.01 }),
  l1l2: (args?: { l1?: number; l2?: number }) => new Regularizer(args),
};

/** A regularizer argument: an instance, or a name TF.js accepts ('l1l2'). */
export function regularizerArg(op: string, what: string, v: unknown): Regularizer | undefined {
  if (v === undefined || v === null) return undefined;
  if (v instanceof Regularizer) return v;
  if (v === 'l1l2' || v === 'L1L2') return new Regularizer();
  throw new Error(`${op}: ${what} must be a tf.regularizers instance or 'l1l2', got ${describe(v)}`);
}

/** The L2 norms of w along `axis`, kept for broadcasting. */
const norms = (w: Tensor, axis: number) => ops.sqrt(ops.sum(ops.square(w), axis, true));

export abstract class Constraint {
  abstract apply(w: Tensor): Tensor;
  abstract getClassName(): string;
  getConfig(): Record<string, unknown> { return {}; }
}

class MaxNorm extends Constraint {
  constructor(readonly maxValue = 2, readonly axis = 0) { super(); }
  apply(w: Tensor) { return tidy(() => { const n = norms(w, this.axis); return ops.mul(w, ops.div(ops.clipByValue(n, 0, this.maxValue), ops.add(n, EPSILON))); }); }
  getClassName() { return 'MaxNorm'; }
  getConfig() { return { maxValue: this.maxValue, axis: this.axis }; }
}
class UnitNorm extends Constraint {
  constructor(readonly axis = 0) { super(); }
  apply(w: Tensor) { return tidy(() => ops.div(w, ops.add(norms(w, this.axis), EPSILON))); }
  getClassName() { return 'UnitNorm'; }
  getConfig() { return { axis: this.axis }; }
}
class NonNeg extends Constraint {
  apply(w: Tensor) { return ops.relu(w); }
  getClassName() { return 'NonNeg'; }
}
class MinMaxNorm extends Constraint {
  constructor(readonly minValue = 0, readonly maxValue = 1, readonly axis = 0, readonly rate = 1) { super(); }
  apply(w: Tensor) {
    return tidy(() => {
      const n = norms(w, this.axis);
      const desired = ops.add(ops.mul(ops.clipByValue(n, this.minValue, this.maxValue), this.rate), ops.mul(n, 1 - this.rate));
      return ops.mul(w, ops.div(desired, ops.add(n, EPSILON)));
    });
  }
  getClassName() { return 'MinMaxNorm'; }
  getConfig() { return { minValue: this.minValue, maxValue: this.maxValue, axis: this.axis, rate: this.rate }; }
}

export const constraints = {
  maxNorm: (args: { maxValue?: number; axis?: number } = {}) => new MaxNorm(args.maxValue, args.axis),
  unitNorm: (args: { axis?: number } = {}) => new UnitNorm(args.axis),
  nonNeg: () => new NonNeg(),
  minMaxNorm: (args: { minValue?: number; maxValue?: number; axis?: number; rate?: number } = {}) => new MinMaxNorm(args.minValue, args.maxValue, args.axis, args.rate),
};

/** A constraint argument: an instance, or one of TF.js's names. */
export function constraintArg(op: string, what: string, v: unknown): Constraint | undefined {
  if (v === undefined || v === null) return undefined;
  if (v instanceof Constraint) return v;
  const byName = own({ maxNorm: () => new MaxNorm(), unitNorm: () => new UnitNorm(), nonNeg: () => new NonNeg(), minMaxNorm: () => new MinMaxNorm() }, v);
  if (byName) return byName();
  throw new Error(`${op}: ${what} must be a tf.constraints instance or one of maxNorm, unitNorm, nonNeg, minMaxNorm, got ${describe(v)}`);
}
