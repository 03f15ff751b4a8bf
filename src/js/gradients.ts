// tf.grad / tf.grads / tf.valueAndGrad / tf.valueAndGrads over the engine's autograd.
import { tidy, wasm } from './engine.js';
import * as ops from './ops.js';
import { Tensor } from './tensor.js';

// How many functions are being differentiated right now (grad called inside grad's f).
let differentiating = 0;

/** d f / d xs at xs: leaves sharing the inputs' data record f; the engine runs backward. */
function compute(f: (...xs: Tensor[]) => Tensor, xs: Tensor[], dy?: Tensor): { value: Tensor; grads: Tensor[] } {
  if (!Array.isArray(xs) || !xs.every((x) => x instanceof Tensor)) throw new Error('grads: xs must be an array of tensors');
  // The engine's backward pass runs fused gradient kernels that are not themselves recorded, so a
  // gradient taken inside a function being differentiated would silently count as a constant.
  if (differentiating > 0) throw new Error('grad: a gradient of a gradient (tf.grad inside a function that tf.grad differentiates) is not supported: the backward pass is not recorded');
  const leaves = xs.map((x) => new Tensor(x.handle.detach()));
  let value: Tensor | undefined;
  let loss: Tensor | undefined;
  try {
    leaves.forEach((l) => l.handle.setRequiresGrad(true));
    differentiating++;
    try {
      value = tidy(() => f(...leaves));
    } finally {
      differentiating--;
    }
    if (!(value instanceof Tensor)) throw new Error('grads: f must return a tensor');
    const v = value;
    // Non-scalar outputs: gradient of sum(y * dy) (dy = ones by default), as TF.js.
    loss = tidy(() => (dy ? ops.sum(v.mul(dy)) : v.size === 1 ? v.reshape([]) : ops.sum(v)));
    wasm.backward(loss.handle);
    const grads = leaves.map((l, i) => {
      const g = l.handle.grad;
      return g ? new Tensor(g) : ops.zerosLike(xs[i]);
    });
    return { value: new Tensor(v.handle.detach()), grads };
  } finally {
    leaves.forEach((l) => l.dispose());
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
