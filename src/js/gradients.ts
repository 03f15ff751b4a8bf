// tf.grad / tf.grads / tf.valueAndGrad / tf.valueAndGrads over the engine's autograd.
import { tidy, wasm } from './engine.js';
import * as ops from './ops.js';
import { Tensor } from './tensor.js';

/** d f / d xs at xs: leaves sharing the inputs' data record f; the engine runs backward. */
function compute(f: (...xs: Tensor[]) => Tensor, xs: Tensor[], dy?: Tensor): { value: Tensor; grads: Tensor[] } {
  const leaves = xs.map((x) => new Tensor(x.handle.detach()));
  try {
    leaves.forEach((l) => l.handle.setRequiresGrad(true));
    const value = tidy(() => f(...leaves));
    if (!(value instanceof Tensor)) throw new Error('grads: f must return a tensor');
    // Non-scalar outputs: gradient of sum(y * dy) (dy = ones by default), as TF.js.
    const loss = tidy(() => (dy ? ops.sum(value.mul(dy)) : value.size === 1 ? value.reshape([]) : ops.sum(value)));
    wasm.backward(loss.handle);
    if (loss !== value) loss.dispose();
    const grads = leaves.map((l, i) => {
      const g = l.handle.grad;
      return g ? new Tensor(g) : ops.zerosLike(xs[i]);
    });
    return { value: new Tensor(value.handle.detach()), grads: (value.dispose(), grads) };
  } finally {
    leaves.forEach((l) => l.dispose());
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
