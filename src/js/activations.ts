// Activations by their TF.js/Keras names.
import { own } from './args.js';
import { tidy } from './engine.js';
import * as ops from './ops.js';
import type { Tensor } from './tensor.js';

export type ActivationName = 'linear' | 'relu' | 'relu6' | 'sigmoid' | 'tanh' | 'softmax' | 'elu' | 'selu' | 'softplus' | 'gelu' | 'leakyRelu' | 'hardSigmoid' | 'swish' | 'silu' | 'gelu_new';

const ACTIVATIONS: Record<string, (x: Tensor) => Tensor> = {
  linear: (x) => x.clone(),
  relu: ops.relu,
  relu6: ops.relu6,
  sigmoid: ops.sigmoid,
  tanh: ops.tanh,
  softmax: (x) => ops.softmax(x, -1),
  elu: ops.elu,
  selu: ops.selu,
  softplus: ops.softplus,
  gelu: ops.gelu,
  leakyRelu: (x) => ops.leakyRelu(x, 0.3),
  hardSigmoid: (x) => tidy(() => x.mul(0.2).add(0.5).clipByValue(0, 1)),
  swish: ops.silu,
  silu: ops.silu,
  // Hugging Face's name for GPT-2's tanh-approximated GELU
  gelu_new: ops.geluTanh,
};

export function getActivation(name: string | undefined | null): (x: Tensor) => Tensor {
  const f = own(ACTIVATIONS, name ?? 'linear');
  if (!f) throw new Error(`unknown activation '${name}' (known: ${Object.keys(ACTIVATIONS).join(', ')})`);
  return f;
}
