// tf.train.*: optimizers whose update is one fused kernel per variable in the engine.
import type * as Wasm from '../../pkg/webtensor.js';
import { tidy, wasm, whileDifferentiating } from './engine.js';
import { describe } from './args.js';
import { Tensor, Variable } from './tensor.js';
import { trainableVariables } from './variables.js';

export class Optimizer {
  private handle: Wasm.Optimizer | null;
  private readonly registered = new Set<Variable>();
  readonly kind: string;

  constructor(kind: string, learningRate: number, config: Record<string, unknown> = {}) {
    if (typeof kind !== 'string' || kind.length > 64) throw new Error(`optimizer: the kind must be a name such as 'adam', got ${describe(kind)}`);
    this.kind = kind;
    this.handle = new wasm.Optimizer(kind, learningRate, config);
  }

  /** @internal the engine's optimizer; an Error (not a null pointer in wasm) once disposed. */
  get inner(): Wasm.Optimizer {
    if (!this.handle) throw new Error(`optimizer (${this.kind}): used after dispose()`);
    return this.handle;
  }

  get learningRate(): number {
    return this.inner.learningRate;
  }

  set learningRate(lr: number) {
    this.inner.learningRate = lr;
  }

  /**
   * Runs `f` (recording), back-propagates its scalar result into the variables, and applies one
   * update to each (all trainable variables unless `varList` is given). Returns the cost when
   * `returnCost`.
   */
  minimize(f: () => Tensor, returnCost = false, varList?: Variable[]): Tensor | null {
    // Only float variables have gradients: an int32 or bool variable (a counter, a mask) marked
    // trainable is left alone, as TF.js leaves variables f does not differentiate.
    const vars = (varList ?? trainableVariables().filter((v) => v.dtype === 'float32')).filter((v) => v.trainable && !v.isDisposed);
    for (const v of vars) {
      if (!this.registered.has(v)) {
        this.inner.addParam(v.handle);
        this.registered.add(v);
      }
    }
    const graph = whileDifferentiating(() => tidy(() => f()));
    if (!(graph instanceof Tensor)) throw new Error('minimize: f must return a scalar tensor');
    wasm.backward(graph.handle);
    // The cost without its graph: releasing the graph before the update frees the forward pass's
    // intermediates (nothing is left pending on the weights about to change), as TF.js's
    // minimize leaves nothing behind.
    const cost = new Tensor(graph.handle.detach());
    graph.dispose();
    this.inner.step();
    if (returnCost) return cost;
    cost.dispose();
    return null;
  }

  dispose(): void {
    this.handle?.free();
    this.handle = null;
    this.registered.clear();
  }

  getClassName(): string {
    return { sgd: 'SGD', momentum: 'Momentum', adam: 'Adam', adamw: 'AdamW', rmsprop: 'RMSProp', adagrad: 'Adagrad', adamax: 'Adamax', adadelta: 'Adadelta' }[this.kind] ?? this.kind;
  }
}

// TF.js's optimizer classes, each the engine's rule of that name (tf.train.* makes them).
export class SGDOptimizer extends Optimizer {
  constructor(learningRate: number) { super('sgd', learningRate); }
}
export class MomentumOptimizer extends Optimizer {
  constructor(learningRate: number, momentum: number, useNesterov = false) { super('momentum', learningRate, { momentum, useNesterov }); }
}
export class AdamOptimizer extends Optimizer {
  constructor(learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7) { super('adam', learningRate, { beta1, beta2, epsilon }); }
}
export class RMSPropOptimizer extends Optimizer {
  constructor(learningRate: number, decay = 0.9, momentum = 0, epsilon = 1e-7, centered = false) {
    if (typeof centered !== 'boolean') throw new Error(`train.rmsprop: centered must be a boolean, got ${describe(centered)}`);
    super('rmsprop', learningRate, { decay, momentum, epsilon, centered });
  }
}
export class AdagradOptimizer extends Optimizer {
  constructor(learningRate: number, initialAccumulatorValue = 0.1) { super('adagrad', learningRate, { initialAccumulatorValue }); }
}
export class AdamaxOptimizer extends Optimizer {
  constructor(learningRate = 0.002, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7, decay = 0) { super('adamax', learningRate, { beta1, beta2, epsilon, decay }); }
}
export class AdadeltaOptimizer extends Optimizer {
  constructor(learningRate = 0.001, rho = 0.95, epsilon = 1e-7) { super('adadelta', learningRate, { rho, epsilon }); }
}

export const train = {
  sgd: (learningRate: number) => new SGDOptimizer(learningRate),
  momentum: (learningRate: number, momentum: number, useNesterov = false) => new MomentumOptimizer(learningRate, momentum, useNesterov),
  adam: (learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7) => new AdamOptimizer(learningRate, beta1, beta2, epsilon),
  adamw: (learningRate = 0.001, weightDecay = 0.01, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7) =>
    new Optimizer('adamw', learningRate, { beta1, beta2, epsilon, weightDecay }),
  rmsprop: (learningRate: number, decay = 0.9, momentum = 0, epsilon = 1e-7, centered = false) => new RMSPropOptimizer(learningRate, decay, momentum, epsilon, centered),
  adagrad: (learningRate: number, initialAccumulatorValue = 0.1) => new AdagradOptimizer(learningRate, initialAccumulatorValue),
  adamax: (learningRate = 0.002, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7, decay = 0) => new AdamaxOptimizer(learningRate, beta1, beta2, epsilon, decay),
  adadelta: (learningRate = 0.001, rho = 0.95, epsilon = 1e-7) => new AdadeltaOptimizer(learningRate, rho, epsilon),
};

/** Optimizer by Keras/TF.js name ('adam', 'sgd', ...) with default settings. */
export function getOptimizer(name: string): Optimizer {
  if (typeof name !== 'string') throw new Error(`compile: optimizer must be an optimizer (tf.train.adam(...)) or its name, got ${describe(name)}`);
  switch (name.toLowerCase()) {
    case 'sgd': return train.sgd(0.01);
    case 'adam': return train.adam(0.001);
    case 'adamw': return train.adamw(0.001);
    case 'rmsprop': return train.rmsprop(0.001);
    case 'adagrad': return train.adagrad(0.01);
    case 'momentum': return train.momentum(0.01, 0.9);
    case 'adamax': return train.adamax(0.002);
    case 'adadelta': return train.adadelta(0.001);
    default: throw new Error(`unknown optimizer '${name}' (use sgd, momentum, adam, adamw, rmsprop, adagrad, adamax or adadelta)`);
  }
}
