// Weight initializers by their TF.js names (glorotUniform, heNormal, ...), with fan computed as
// Keras does (conv kernels: receptive field x channels).
import { own } from './args.js';
import * as ops from './ops.js';
import type { Tensor } from './tensor.js';

export interface InitializerConfig { seed?: number; mean?: number; stddev?: number; minval?: number; maxval?: number; value?: number }
export type Initializer = (shape: number[]) => Tensor;

function fans(shape: number[]): [number, number] {
  if (shape.length === 1) return [shape[0], shape[0]];
  if (shape.length === 2) return [shape[0], shape[1]];
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return [receptive * shape[shape.length - 2], receptive * shape[shape.length - 1]];
}

let seedCounter = 1;
const nextSeed = (cfg?: InitializerConfig) => cfg?.seed ?? (seedCounter++ * 2654435761) % 4294967296;

function varianceScaling(scale: number, mode: 'fanIn' | 'fanOut' | 'fanAvg', dist: 'normal' | 'uniform', cfg?: InitializerConfig): Initializer {
  return (shape) => {
    const [fin, fout] = fans(shape);
    const n = mode === 'fanIn' ? fin : mode === 'fanOut' ? fout : (fin + fout) / 2;
    const s = scale / Math.max(1, n);
    if (dist === 'uniform') {
      const limit = Math.sqrt(3 * s);
      return ops.randomUniform(shape, -limit, limit, 'float32', nextSeed(cfg));
    }
    // Keras truncates the normal at 2 stddev and rescales by 0.8796 to keep the variance.
    return ops.truncatedNormal(shape, 0, Math.sqrt(s) / 0.87962566103423978, 'float32', nextSeed(cfg));
  };
}

const INITIALIZERS: Record<string, (cfg?: InitializerConfig) => Initializer> = {
  zeros: () => (shape) => ops.zeros(shape),
  ones: () => (shape) => ops.ones(shape),
  constant: (cfg) => (shape) => ops.fill(shape, cfg?.value ?? 0),
  randomNormal: (cfg) => (shape) => ops.randomNormal(shape, cfg?.mean ?? 0, cfg?.stddev ?? 0.05, 'float32', nextSeed(cfg)),
  randomUniform: (cfg) => (shape) => ops.randomUniform(shape, cfg?.minval ?? -0.05, cfg?.maxval ?? 0.05, 'float32', nextSeed(cfg)),
  truncatedNormal: (cfg) => (shape) => ops.truncatedNormal(shape, cfg?.mean ?? 0, cfg?.stddev ?? 0.05, 'float32', nextSeed(cfg)),
  glorotUniform: (cfg) => varianceScaling(1, 'fanAvg', 'uniform', cfg),
  glorotNormal: (cfg) => varianceScaling(1, 'fanAvg', 'normal', cfg),
  heUniform: (cfg) => varianceScaling(2, 'fanIn', 'uniform', cfg),
  heNormal: (cfg) => varianceScaling(2, 'fanIn', 'normal', cfg),
  leCunUniform: (cfg) => varianceScaling(1, 'fanIn', 'uniform', cfg),
  leCunNormal: (cfg) => varianceScaling(1, 'fanIn', 'normal', cfg),
};

export function getInitializer(spec: string | Initializer | undefined, fallback: string): Initializer {
  if (typeof spec === 'function') return spec;
  const make = own(INITIALIZERS, spec ?? fallback);
  if (!make) throw new Error(`unknown initializer '${spec}' (known: ${Object.keys(INITIALIZERS).join(', ')})`);
  return make();
}

export const initializers = Object.fromEntries(Object.entries(INITIALIZERS).map(([k, f]) => [k, (cfg?: InitializerConfig) => f(cfg)]));
