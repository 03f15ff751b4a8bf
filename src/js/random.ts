// Seeded random numbers drawn on the host: uniform ones (batch shuffling, sampling in generate())
// and TF.js's randomGamma.
import { tensor } from './ops.js';
import type { Tensor } from './tensor.js';

/** A generator of uniform numbers in [0, 1) from a 32-bit seed (mulberry32). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal numbers from uniform ones (Box-Muller, one of each pair). */
function normals(uniform: () => number): () => number {
  return () => {
    const u = 1 - uniform(); // (0, 1]: log is finite
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  };
}

/** One gamma(alpha, 1) draw by Marsaglia and Tsang's method (alpha < 1 boosted by U^(1 / alpha)). */
function gammaDraw(alpha: number, uniform: () => number, normal: () => number): number {
  const boost = alpha < 1 ? Math.pow(uniform(), 1 / alpha) : 1;
  const a = alpha < 1 ? alpha + 1 : alpha;
  const d = a - 1 / 3, c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number, v: number;
    do {
      x = normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = uniform();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return boost * d * v;
  }
}

/** Host-side draws above this count are refused (they are made one by one in JavaScript). */
const MAX_HOST_DRAWS = 2 ** 24;

/**
 * Gamma-distributed values of shape `alpha` and inverse scale `beta` (mean alpha / beta), as TF.js's
 * randomGamma; drawn on the host from a seeded generator (not TF.js's, so not its values).
 */
export function randomGamma(shape: number[], alpha: number, beta = 1, dtype: 'float32' | 'int32' = 'float32', seed?: number): Tensor {
  const op = 'randomGamma';
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`${op}: shape ${JSON.stringify(shape)} must be an array of non-negative integers`);
  if (!(typeof alpha === 'number' && alpha > 0 && Number.isFinite(alpha))) throw new Error(`${op}: alpha must be a positive number, got ${String(alpha)}`);
  if (!(typeof beta === 'number' && beta > 0 && Number.isFinite(beta))) throw new Error(`${op}: beta must be a positive number, got ${String(beta)}`);
  if (dtype !== 'float32' && dtype !== 'int32') throw new Error(`${op}: dtype must be 'float32' or 'int32', got ${String(dtype)}`);
  const n = shape.reduce((a, b) => a * b, 1);
  if (n > MAX_HOST_DRAWS) throw new Error(`${op}: ${n} values exceed the ${MAX_HOST_DRAWS} drawn on the host`);
  const uniform = mulberry32(seed ?? Math.floor(Math.random() * 2 ** 32));
  const normal = normals(uniform);
  const values = dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = gammaDraw(alpha, uniform, normal) / beta;
  return tensor(values, shape, dtype);
}
