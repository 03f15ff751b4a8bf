// Weight initializers by their TF.js names (glorotUniform, heNormal, ...), with fan computed as
// Keras does (conv kernels: receptive field x channels).
import { own } from './args.js';
import * as ops from './ops.js';
import { mulberry32 } from './random.js';
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

/** Seeded standard normal values on the host (mulberry32 and Box-Muller). */
function hostNormals(n: number, seed: number): Float64Array {
  const uniform = mulberry32(seed);
  // (0, 1): the log below must not see 0
  const open = () => uniform() * (1 - 2 ** -33) + 2 ** -33;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(open())) * Math.cos(2 * Math.PI * open());
  return out;
}

/**
 * A random orthogonal matrix (TF.js/Keras `orthogonal`): Gram-Schmidt on the rows (or columns) of
 * a seeded normal matrix, computed on the host, times `gain`. Kernels of more than 2 dimensions
 * are flattened to [prod(all but last), last], as Keras does.
 */
function orthogonal(cfg?: InitializerConfig & { gain?: number }): Initializer {
  return (shape) => {
    if (shape.length < 2) throw new Error(`orthogonal initializer: shape [${shape}] needs at least 2 dimensions`);
    const cols = shape[shape.length - 1];
    const rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
    if (rows * cols > 2 ** 22) throw new Error(`orthogonal initializer: shape [${shape}] is too large for a host-side orthogonalisation`);
    // Orthonormalise the shorter side's vectors: m vectors of length n, m <= n.
    const [m, n] = rows < cols ? [rows, cols] : [cols, rows];
    const g = hostNormals(m * n, nextSeed(cfg));
    for (let i = 0; i < m; i++) {
      const v = g.subarray(i * n, i * n + n);
      for (let j = 0; j < i; j++) {
        const u = g.subarray(j * n, j * n + n);
        let d = 0;
        for (let k = 0; k < n; k++) d += u[k] * v[k];
        for (let k = 0; k < n; k++) v[k] -= d * u[k];
      }
      const len = Math.hypot(...v) || 1;
      for (let k = 0; k < n; k++) v[k] /= len;
    }
    const gain = cfg?.gain ?? 1;
    const out = new Float32Array(rows * cols);
    // rows < cols: the m = rows vectors are the rows; otherwise they are the columns.
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = gain * (rows < cols ? g[r * cols + c] : g[c * rows + r]);
    return ops.tensor(out, shape);
  };
}

const INITIALIZERS: Record<string, (cfg?: InitializerConfig) => Initializer> = {
  identity: (cfg) => (shape) => {
    if (shape.length !== 2 || shape[0] !== shape[1]) throw new Error(`identity initializer: only square matrices, got shape [${shape}]`);
    return ops.mul(ops.eye(shape[0]), (cfg as { gain?: number } | undefined)?.gain ?? 1);
  },
  orthogonal: (cfg) => orthogonal(cfg),
  varianceScaling: (cfg) => {
    const c = (cfg ?? {}) as InitializerConfig & { scale?: number; mode?: string; distribution?: string };
    const mode = own({ fanIn: 'fanIn', fanOut: 'fanOut', fanAvg: 'fanAvg' } as const, c.mode ?? 'fanIn');
    const dist = own({ normal: 'normal', truncatedNormal: 'normal', uniform: 'uniform' } as const, c.distribution ?? 'normal');
    if (!mode || !dist) throw new Error(`varianceScaling initializer: mode must be fanIn, fanOut or fanAvg and distribution normal, truncatedNormal or uniform, got ${String(c.mode)} and ${String(c.distribution)}`);
    if (!(typeof (c.scale ?? 1) === 'number' && (c.scale ?? 1) > 0)) throw new Error(`varianceScaling initializer: scale must be positive, got ${String(c.scale)}`);
    return varianceScaling(c.scale ?? 1, mode, dist, cfg);
  },
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
