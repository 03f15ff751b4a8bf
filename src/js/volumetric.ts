// TF.js's 3-D convolutions and pools over [batch, depth, height, width, channels], composed of the
// engine's 2-D ops: the depth axis is walked tap by tap (one 2-D op over every output depth slice
// at once per filter tap), so gradients follow from the parts and both backends run them.
import { tidy } from './engine.js';
import { choiceArg, dimRoundingArg, spatialArg } from './args.js';
import { padForWindows, tap, windowAlong, windowPaddingArg, type Window, type WindowPadding } from './window.js';
import { Tensor } from './tensor.js';
import { add, avgPool, conv2d, conv2dTranspose, div, maxPool, maximum, pad as padTensor, reshape, slice, tensor, transpose } from './ops.js';

type Triple = number | [number, number, number];
type Padding3D = WindowPadding;

const triple = (op: string, what: string, v: unknown) => spatialArg(op, what, v, 3) as [number, number, number];

/**
 * Runs a 3-D op on rank-5 NDHWC data: a rank-4 input gets a batch of 1 and loses it again,
 * NCDHW data is transposed in and out.
 */
function volumetric(op: string, x: unknown, dataFormat: unknown, f: (x5: Tensor) => Tensor): Tensor {
  if (!(x instanceof Tensor)) throw new Error(`${op}: x must be a tensor`);
  const format = choiceArg(op, 'dataFormat', dataFormat, ['NDHWC', 'NCDHW'] as const);
  if (x.rank !== 4 && x.rank !== 5) throw new Error(`${op}: x must be rank 4 or 5, got shape [${x.shape}]`);
  return tidy(() => {
    let x5 = x.rank === 4 ? reshape(x, [1, ...x.shape]) : x;
    if (format === 'NCDHW') x5 = transpose(x5, [0, 2, 3, 4, 1]);
    let y = f(x5);
    if (format === 'NCDHW') y = transpose(y, [0, 4, 1, 2, 3]);
    return x.rank === 4 ? reshape(y, y.shape.slice(1)) : y;
  });
}

/** For each depth tap of a window, the input slices it reads for every output depth, as one
 * [batch * outDepth, height, width, channels] tensor. */
function depthTaps(x5: Tensor, k: number, w: Window, fill: number): Tensor[] {
  const [n, , h, wd, c] = x5.shape;
  const padded = padForWindows(x5, [1], [w], fill);
  return Array.from({ length: k }, (_, t) => reshape(tap(padded, 1, t, w), [n * w.out, h, wd, c]));
}

const unflatten = (y: Tensor, n: number, depth: number) => reshape(y, [n, depth, ...y.shape.slice(1)]);

/** 3-D convolution of x [batch, depth, height, width, in] by filter [d, h, w, in, out]. */
export function conv3d(x: Tensor, filter: Tensor, strides: Triple, pad: 'same' | 'valid', dataFormat: 'NDHWC' | 'NCDHW' = 'NDHWC', dilations: Triple = 1): Tensor {
  const op = 'conv3d';
  const padding = windowPaddingArg(op, pad, false) as 'same' | 'valid';
  const [s, d] = [triple(op, 'strides', strides), triple(op, 'dilations', dilations)];
  return volumetric(op, x, dataFormat, (x5) => {
    if (!(filter instanceof Tensor) || filter.rank !== 5) throw new Error(`${op}: filter must be a rank-5 tensor [depth, height, width, in, out], got ${filter instanceof Tensor ? `shape [${filter.shape}]` : typeof filter}`);
    if (filter.shape[3] !== x5.shape[4]) throw new Error(`${op}: x's ${x5.shape[4]} channels (shape [${x.shape}]) differ from the filter's ${filter.shape[3]} input channels (shape [${filter.shape}])`);
    const [kd, kh, kw, ci, co] = filter.shape;
    const g = windowAlong(op, x5.shape[1], kd, s[0], d[0], padding);
    const taps = depthTaps(x5, kd, g, 0).map((xs, t) =>
      conv2d(xs, reshape(slice(filter, [t, 0, 0, 0, 0], [1, kh, kw, ci, co]), [kh, kw, ci, co]), [s[1], s[2]], padding, 'NHWC', [d[1], d[2]]));
    return unflatten(taps.reduce((a, b) => add(a, b)), x5.shape[0], g.out);
  });
}

/**
 * The transpose of conv3d (its gradient with respect to its input): x [batch, depth, height,
 * width, in] by filter [d, h, w, out, in] into outputShape [batch, depth, height, width, out].
 */
export function conv3dTranspose(x: Tensor, filter: Tensor, outputShape: number[], strides: Triple, pad: 'same' | 'valid'): Tensor {
  const op = 'conv3dTranspose';
  const padding = windowPaddingArg(op, pad, false) as 'same' | 'valid';
  const s = triple(op, 'strides', strides);
  if (!(x instanceof Tensor)) throw new Error(`${op}: x must be a tensor`);
  const out5 = Array.isArray(outputShape) && outputShape.length === 4 && x.rank === 4 ? [1, ...outputShape] : outputShape;
  if (!Array.isArray(out5) || out5.length !== 5 || !out5.every((v) => Number.isInteger(v) && v > 0)) throw new Error(`${op}: outputShape must be [batch, depth, height, width, channels] of positive integers, got ${JSON.stringify(outputShape)}`);
  return volumetric(op, x, 'NDHWC', (x5) => {
    if (!(filter instanceof Tensor) || filter.rank !== 5) throw new Error(`${op}: filter must be a rank-5 tensor [depth, height, width, out, in], got ${filter instanceof Tensor ? `shape [${filter.shape}]` : typeof filter}`);
    const [n, din, h, w, c] = x5.shape;
    const [kd, kh, kw, co, ci] = filter.shape;
    if (ci !== c || co !== out5[4] || out5[0] !== n) throw new Error(`${op}: x [${x.shape}], filter [${filter.shape}] and outputShape [${outputShape}] disagree (filter is [depth, height, width, out, in])`);
    const g = windowAlong(op, out5[1], kd, s[0], 1, padding);
    if (g.out !== din) throw new Error(`${op}: an input of depth ${din} cannot come from an output of depth ${out5[1]} with stride ${s[0]} and padding '${padding}'`);
    const full = (din - 1) * s[0] + kd;
    const rows = reshape(x5, [n * din, h, w, c]);
    const taps = Array.from({ length: kd }, (_, t) => {
      const f = reshape(slice(filter, [t, 0, 0, 0, 0], [1, kh, kw, co, ci]), [kh, kw, co, ci]);
      let y = unflatten(conv2dTranspose(rows, f, [n * din, out5[2], out5[3], co], [s[1], s[2]], padding), n, din);
      if (s[0] > 1) {
        // zeros between the depth slices: input slice i lands on output row i * stride + t
        const [, , ho, wo] = y.shape;
        y = reshape(padTensor(reshape(y, [n, din, 1, ho, wo, co]), [[0, 0], [0, 0], [0, s[0] - 1], [0, 0], [0, 0], [0, 0]]), [n, din * s[0], ho, wo, co]);
        y = slice(y, [0, 0, 0, 0, 0], [n, (din - 1) * s[0] + 1, ho, wo, co]);
      }
      return padTensor(y, [[0, 0], [t, full - ((din - 1) * s[0] + 1) - t], [0, 0], [0, 0], [0, 0]]);
    });
    const summed = taps.reduce((a, b) => add(a, b));
    const tail = Math.max(0, g.before + out5[1] - full);
    const fitted = tail ? padTensor(summed, [[0, 0], [0, tail], [0, 0], [0, 0], [0, 0]]) : summed;
    return slice(fitted, [0, g.before, 0, 0, 0], [n, out5[1], out5[2], out5[3], co]);
  });
}

type PoolFn = typeof maxPool;
function pool3d(op: string, kind: 'max' | 'avg', x: Tensor, filterSize: Triple, strides: Triple, pad: Padding3D, dimRoundingMode: unknown, dataFormat: unknown): Tensor {
  dimRoundingArg(op, dimRoundingMode);
  const padding = windowPaddingArg(op, pad, true);
  const [k, s] = [triple(op, 'filterSize', filterSize), triple(op, 'strides', strides)];
  return volumetric(op, x, dataFormat, (x5) => {
    const g = windowAlong(op, x5.shape[1], k[0], s[0], 1, padding);
    const pool2d: PoolFn = kind === 'max' ? maxPool : avgPool;
    const taps = depthTaps(x5, k[0], g, kind === 'max' ? -Infinity : 0).map((xs) => pool2d(xs, [k[1], k[2]], [s[1], s[2]], padding));
    if (kind === 'max') return unflatten(taps.reduce((a, b) => maximum(a, b)), x5.shape[0], g.out);
    // the 2-D pools average over the in-bounds part of each window; along depth, so does this
    const counts = Float32Array.from({ length: g.out }, (_, d) => {
      const first = d * s[0] - g.before;
      return Math.min(first + k[0], x5.shape[1]) - Math.max(first, 0);
    });
    return div(unflatten(taps.reduce((a, b) => add(a, b)), x5.shape[0], g.out), tensor(counts, [1, g.out, 1, 1, 1]));
  });
}

/** 3-D max pooling of [batch, depth, height, width, channels]. */
export const maxPool3d = (x: Tensor, filterSize: Triple = [1, 1, 1], strides: Triple = 1, pad: Padding3D = 'valid', dimRoundingMode?: 'floor' | 'round' | 'ceil', dataFormat: 'NDHWC' | 'NCDHW' = 'NDHWC') =>
  pool3d('maxPool3d', 'max', x, filterSize, strides, pad, dimRoundingMode, dataFormat);

/** 3-D average pooling of [batch, depth, height, width, channels] (padding not counted). */
export const avgPool3d = (x: Tensor, filterSize: Triple = [1, 1, 1], strides: Triple = 1, pad: Padding3D = 'valid', dimRoundingMode?: 'floor' | 'round' | 'ceil', dataFormat: 'NDHWC' | 'NCDHW' = 'NDHWC') =>
  pool3d('avgPool3d', 'avg', x, filterSize, strides, pad, dimRoundingMode, dataFormat);
