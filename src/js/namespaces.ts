// Small TF.js namespaces built on the ops: tf.fused (matMul / conv2d / depthwiseConv2d with bias
// and activation), tf.math.confusionMatrix, tf.signal's windows and frames, tf.linalg.bandPart,
// gramSchmidt and qr, tf.signal.stft. The engine fuses the bias and activation into the op's output anyway; these give
// TF.js's calling conventions.
import * as ops from './ops.js';
import { tidy } from './engine.js';
import { choiceArg, intArg } from './args.js';
import { Tensor } from './tensor.js';
import { rfft } from './spectral.js';
import type { SpatialPadding } from './args.js';

type FusedActivation = 'linear' | 'relu' | 'relu6' | 'elu' | 'sigmoid' | 'leakyrelu' | 'prelu';
interface FusedExtras { bias?: Tensor; activation?: FusedActivation; preluActivationWeights?: Tensor; leakyreluAlpha?: number }

function activate(op: string, y: Tensor, { bias, activation = 'linear', preluActivationWeights, leakyreluAlpha = 0.2 }: FusedExtras): Tensor {
  const a = choiceArg(`fused.${op}`, 'activation', activation, ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'] as const);
  let z = bias ? ops.add(y, bias) : y;
  if (a === 'relu') z = ops.relu(z);
  else if (a === 'relu6') z = ops.relu6(z);
  else if (a === 'elu') z = ops.elu(z);
  else if (a === 'sigmoid') z = ops.sigmoid(z);
  else if (a === 'leakyrelu') z = ops.leakyRelu(z, leakyreluAlpha);
  else if (a === 'prelu') {
    if (!preluActivationWeights) throw new Error(`fused.${op}: activation 'prelu' needs preluActivationWeights`);
    z = ops.prelu(z, preluActivationWeights);
  }
  return z;
}

export const fused = {
  matMul: ({ a, b, transposeA = false, transposeB = false, ...extras }: { a: Tensor; b: Tensor; transposeA?: boolean; transposeB?: boolean } & FusedExtras) =>
    tidy(() => activate('matMul', ops.matMul(a, b, transposeA, transposeB), extras)),
  conv2d: ({ x, filter, strides, pad, dataFormat = 'NHWC', dilations = 1, dimRoundingMode, ...extras }: { x: Tensor; filter: Tensor; strides: number | [number, number]; pad: SpatialPadding; dataFormat?: 'NHWC' | 'NCHW'; dilations?: number | [number, number]; dimRoundingMode?: 'floor' | 'round' | 'ceil' } & FusedExtras) =>
    tidy(() => activate('conv2d', ops.conv2d(x, filter, strides, pad, dataFormat, dilations, dimRoundingMode), extras)),
  depthwiseConv2d: ({ x, filter, strides, pad, dataFormat = 'NHWC', dilations = 1, dimRoundingMode, ...extras }: { x: Tensor; filter: Tensor; strides: number | [number, number]; pad: SpatialPadding; dataFormat?: 'NHWC' | 'NCHW'; dilations?: number | [number, number]; dimRoundingMode?: 'floor' | 'round' | 'ceil' } & FusedExtras) =>
    tidy(() => activate('depthwiseConv2d', ops.depthwiseConv2d(x, filter, strides, pad, dataFormat, dilations, dimRoundingMode), extras)),
};

export const math = {
  /** counts[i][j]: how many samples of true class i were predicted as j (int32 [numClasses, numClasses]). */
  confusionMatrix: (labels: Tensor, predictions: Tensor, numClasses: number) => tidy(() => {
    const n = intArg('confusionMatrix: numClasses', numClasses, 1, 2 ** 15);
    if (!(labels instanceof Tensor) || !(predictions instanceof Tensor) || labels.rank !== 1 || labels.shape.join() !== predictions.shape.join()) {
      throw new Error('confusionMatrix: labels and predictions must be vectors of one length');
    }
    const truth = ops.oneHot(labels, n, 1, 0, 'float32');
    const guess = ops.oneHot(predictions, n, 1, 0, 'float32');
    return ops.cast(ops.matMul(truth, guess, true, false), 'int32');
  }),
};

/** a - b cos(2 pi i / (n - 1)) for i < n (periodic windows use n + 1 when n is even, as TF.js). */
const window = (n: number, a: number, b: number) => ops.cosineWindow(n, a, b);

const hannWindow = (windowLength: number): Tensor => window(windowLength, 0.5, 0.5);

export const signal = {
  hannWindow,
  hammingWindow: (windowLength: number) => window(windowLength, 0.54, 0.46),
  /** Frames of `frameLength` samples, `frameStep` apart, from a 1-D signal (padded with padValue when padEnd). */
  frame: (signalTensor: Tensor, frameLength: number, frameStep: number, padEnd = false, padValue = 0): Tensor => tidy(() => {
    if (!(signalTensor instanceof Tensor) || signalTensor.rank !== 1) throw new Error('frame: the signal must be a vector');
    const len = intArg('frame: frameLength', frameLength, 1, 2 ** 24), step = intArg('frame: frameStep', frameStep, 1, 2 ** 24);
    const n = signalTensor.size;
    const count = padEnd ? Math.ceil(n / step) : n < len ? 0 : Math.floor((n - len) / step) + 1;
    const need = (count - 1) * step + len;
    const src = padEnd && need > n ? ops.pad(signalTensor, [[0, need - n]], padValue) : signalTensor;
    if (count === 0) return ops.zeros([0, len], signalTensor.dtype);
    const idx = Int32Array.from({ length: count * len }, (_, k) => Math.floor(k / len) * step + (k % len));
    return ops.reshape(ops.gather(src, ops.tensor(idx, [count * len], 'int32')), [count, len]);
  }),
  /**
   * The short-time Fourier transform of a 1-D signal: frames of frameLength every frameStep,
   * each windowed (Hann by default) and transformed by rfft of fftLength (the enclosing power of
   * two by default): complex64 [frames, fftLength / 2 + 1].
   */
  stft: (signalTensor: Tensor, frameLength: number, frameStep: number, fftLength?: number, windowFn: (length: number) => Tensor = hannWindow): Tensor => tidy(() => {
    if (typeof windowFn !== 'function') throw new Error('stft: windowFn must be a function of the frame length');
    const frames = signal.frame(signalTensor, frameLength, frameStep);
    return rfft(ops.mul(frames, windowFn(frameLength)), fftLength ?? ops.enclosingPowerOfTwo(frameLength));
  }),
};

export const linalg = {
  /** Keeps the band of each matrix within numLower below and numUpper above the diagonal (-1: all). */
  bandPart: (a: Tensor, numLower: number, numUpper: number) => tidy(() => {
    if (!(a instanceof Tensor) || a.rank < 2) throw new Error('bandPart: a must be a matrix or a batch of them');
    const [m, n] = a.shape.slice(-2);
    const lo = intArg('bandPart: numLower', numLower, -1, 2 ** 31), hi = intArg('bandPart: numUpper', numUpper, -1, 2 ** 31);
    const keep = Float32Array.from({ length: m * n }, (_, k) => {
      const [i, j] = [Math.floor(k / n), k % n];
      return (lo < 0 || i - j <= lo) && (hi < 0 || j - i <= hi) ? 1 : 0;
    });
    const mask = ops.tensor(keep, [m, n]);
    return a.dtype === 'float32' ? ops.mul(a, mask) : ops.cast(ops.mul(a, mask), a.dtype);
  }),
  /** Orthonormal rows of a matrix (or each matrix of an array of vectors), by Gram-Schmidt. */
  gramSchmidt: (xs: Tensor | Tensor[]) => tidy(() => {
    const rows = Array.isArray(xs) ? xs : ops.unstack(xs, 0);
    const out: Tensor[] = [];
    for (const r of rows) {
      let v = r;
      for (const u of out) v = ops.sub(v, ops.mul(ops.sum(ops.mul(v, u)), u));
      out.push(ops.div(v, ops.norm(v)));
    }
    return Array.isArray(xs) ? out : ops.stack(out, 0);
  }),
  qr,
};

/**
 * QR decomposition of each matrix of x [..., m, n] by Householder reflections (TF.js's sign
 * choice: each reflection sends its column to -sign(pivot) times its norm, so R's diagonal has
 * the opposite sign of the pivot it replaced). [q, r]: q [..., m, k], r [..., k, n] with
 * k = min(m, n), or q [..., m, m] and r [..., m, n] with fullMatrices. Composed of ops, so
 * differentiable; all matrices of a batch at once.
 */
function qr(x: Tensor, fullMatrices = false): [Tensor, Tensor] {
  if (!(x instanceof Tensor) || x.rank < 2) throw new Error(`qr: x must be a matrix or a batch of them, got ${x instanceof Tensor ? `shape [${x.shape}]` : typeof x}`);
  if (typeof fullMatrices !== 'boolean') throw new Error('qr: fullMatrices must be a boolean');
  const [m, n] = x.shape.slice(-2);
  const outer = x.shape.slice(0, -2);
  const b = outer.reduce((p, d) => p * d, 1);
  return tidy(() => {
    let r = ops.reshape(ops.cast(x, 'float32'), [b, m, n]);
    let q = ops.tile(ops.reshape(ops.eye(m), [1, m, m]), [b, 1, 1]);
    const one = ops.ones([b, 1, 1]);
    for (let j = 0; j < Math.min(m, n); j++) {
      const column = ops.slice(r, [0, j, j], [b, m - j, 1]);
      const norm = ops.sqrt(ops.sum(ops.square(column), 1, true));
      const pivot = ops.slice(r, [0, j, j], [b, 1, 1]);
      const s = ops.where(ops.greater(pivot, 0), -1, 1);
      const u1 = ops.sub(pivot, ops.mul(s, norm));
      const w = m - j === 1 ? one : ops.concat([one, ops.div(ops.slice(column, [0, 1, 0], [b, m - j - 1, 1]), u1)], 1);
      const tauW = ops.mul(ops.neg(ops.div(ops.mul(s, u1), norm)), w);
      // R := H R on rows j.., Q := Q H on columns j.., with H = I - tau w w'
      const lower = ops.slice(r, [0, j, 0], [b, m - j, n]);
      const reflected = ops.sub(lower, ops.matMul(tauW, ops.matMul(w, lower, true, false)));
      r = j === 0 ? reflected : ops.concat([ops.slice(r, [0, 0, 0], [b, j, n]), reflected], 1);
      const right = ops.slice(q, [0, 0, j], [b, m, m - j]);
      const turned = ops.sub(right, ops.matMul(ops.matMul(right, w), tauW, false, true));
      q = j === 0 ? turned : ops.concat([ops.slice(q, [0, 0, 0], [b, m, j]), turned], 2);
    }
    const k = fullMatrices || m <= n ? m : n;
    const [qOut, rOut] = [ops.slice(q, [0, 0, 0], [b, m, k]), ops.slice(r, [0, 0, 0], [b, k, n])];
    return [ops.reshape(qOut, [...outer, m, k]), ops.reshape(rOut, [...outer, k, n])];
  });
}
