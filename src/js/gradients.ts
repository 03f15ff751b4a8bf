// tf.grad / tf.grads / tf.valueAndGrad / tf.valueAndGrads over the engine's autograd.
import type * as Wasm from '../../pkg/webtensor.js';
import { isDifferentiating, tidy, wasm, whileDifferentiating } from './engine.js';
import * as ops from './ops.js';
import { Tensor } from './tensor.js';

/** d f / d xs at xs: tensors sharing the inputs' data record f; the engine runs backward. */
function compute(f: (...xs: Tensor[]) => Tensor, xs: Tensor[], dy?: Tensor): { value: Tensor; grads: Tensor[] } {
  if (!Array.isArray(xs) || !xs.every((x) => x instanceof Tensor)) throw new Error('grads: xs must be an array of tensors');
  if (typeof f !== 'function') throw new Error(`grads: f must be a function, got ${typeof f}`);
  if (dy !== undefined && !(dy instanceof Tensor)) throw new Error('grads: dy must be a tensor');
  const nested = isDifferentiating();
  const targets = xs.map((x) => new Tensor(wasm.gradTarget(x.handle)));
  let value: Tensor | undefined;
  let loss: Tensor | undefined;
  try {
    value = whileDifferentiating(() => tidy(() => f(...targets)));
    if (!(value instanceof Tensor)) throw new Error('grads: f must return a tensor');
    const v = value;
    if (dy && dy.shape.join() !== v.shape.join()) throw new Error(`grads: dy has shape [${dy.shape}], but f returned shape [${v.shape}]`);
    // Non-scalar outputs: gradient of sum(y * dy) (dy = ones by default), as TF.js.
    loss = tidy(() => (dy ? ops.sum(v.mul(dy)) : v.size === 1 ? v.reshape([]) : ops.sum(v)));
    const found = wasm.grads(loss.handle, targets.map((t) => t.handle.clone()), undefined, nested);
    const grads = found.map((g, i) => (g ? new Tensor(g) : ops.zerosLike(xs[i])));
    // Inside an outer gradient the value stays connected to the outer inputs.
    return { value: new Tensor(nested ? v.handle.clone() : v.handle.detach()), grads };
  } finally {
    targets.forEach((t) => t.dispose());
    loss?.dispose();
    if (value instanceof Tensor) value.dispose();
  }
}

export function grad(f: (x: Tensor) => Tensor): (x: Tensor, dy?: Tensor) => Tensor {
  return (x, dy) => {
    const { value, grads } = compute(f, [x], dy);
    value.dispose();
    return grads[0];
  };
}

export function grads(f: (...xs: Tensor[]) => Tensor): (xs: Tensor[], dy?: Tensor) => Tensor[] {
  return (xs, dy) => {
    const { value, grads } = compute(f, xs, dy);
    value.dispose();
    return grads;
  };
}

export function valueAndGrad(f: (x: Tensor) => Tensor): (x: Tensor, dy?: Tensor) => { value: Tensor; grad: Tensor } {
  return (x, dy) => {
    const { value, grads } = compute(f, [x], dy);
    return { value, grad: grads[0] };
  };
}

export function valueAndGrads(f: (...xs: Tensor[]) => Tensor): (xs: Tensor[], dy?: Tensor) => { value: Tensor; grads: Tensor[] } {
  return (xs, dy) => compute(f, xs, dy);
}

/** What a tf.customGrad function returns: its value and the gradient of its inputs. */
export interface CustomGradResult {
  value: Tensor;
  /** dy (and the tensors given to save) -> one gradient per input, each of its input's shape. */
  gradFunc: (dy: Tensor, saved: Tensor[]) => Tensor | Tensor[];
}

/**
 * TF.js's customGrad: f(...inputs, save) computes a value (not recorded) and says how its
 * inputs' gradients follow from the value's; those gradients are what backward passes on.
 */
export function customGrad(f: (...args: [...Tensor[], (tensors: Tensor[]) => void]) => CustomGradResult): (...inputs: Tensor[]) => Tensor {
  if (typeof f !== 'function') throw new Error('customGrad: expected a function');
  return (...inputs: Tensor[]) => {
    if (!inputs.every((x) => x instanceof Tensor)) throw new Error('customGrad: the custom function takes tensors');
    let saved: Tensor[] = [];
    let gradFunc: CustomGradResult['gradFunc'] | undefined;
    const save = (tensors: Tensor[]) => {
      if (!Array.isArray(tensors) || !tensors.every((t) => t instanceof Tensor)) throw new Error('customGrad: save takes an array of tensors');
      saved = tensors;
    };
    // The forward's own ops are not recorded: only the custom gradient reaches the inputs.
    const [value, ...kept] = wasm.noGrad(() => tidy(() => {
      const r = f(...inputs, save);
      if (!r || !(r.value instanceof Tensor) || typeof r.gradFunc !== 'function') throw new Error('customGrad: f must return { value: Tensor, gradFunc }');
      gradFunc = r.gradFunc;
      // clones: the value or a saved tensor may be one of the inputs, which stay the caller's
      return [r.value.clone(), ...saved.map((t) => t.clone())];
    })) as Tensor[];
    const gradient = (dyHandle: Wasm.Tensor, savedHandles: Wasm.Tensor[]) => {
      const dy = new Tensor(dyHandle);
      const again = savedHandles.map((h) => new Tensor(h));
      try {
        const grads = tidy(() => {
          const g = gradFunc!(dy, again);
          return Array.isArray(g) ? g : [g];
        });
        try {
          return grads.map((g, i) => {
            if (g === null || g === undefined) return null;
            if (!(g instanceof Tensor)) throw new Error(`customGrad: gradient ${i} is not a tensor`);
            return g.handle.clone();
          });
        } finally {
          grads.forEach((g) => g instanceof Tensor && g.dispose());
        }
      } finally {
        dy.dispose();
        again.forEach((t) => t.dispose());
      }
    };
    try {
      return new Tensor(wasm.customGrad(value.handle, inputs.map((x) => x.handle.clone()), kept.map((t) => t.handle.clone()), gradient));
    } finally {
      value.dispose();
      kept.forEach((t) => t.dispose());
    }
  };
}
