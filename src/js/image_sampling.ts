// Sampling NHWC images at coordinates computed on the device: the core of tf.image's
// cropAndResize, transform and rotateWithOffset. Coordinates are float32 tensors (from boxes or
// transform matrices that live on the device, so nothing is read back); the pixels they name are
// gathered from the image, positions outside it read `fill`. Gradients reach the image through
// gather.
import * as ops from './ops.js';
import { tidy } from './engine.js';
import { choiceArg, describe, intArg } from './args.js';
import { Tensor } from './tensor.js';

/** Where (batch, y, x) samples fall: int32 row, column and batch tensors broadcasting together. */
interface Positions { batch: Tensor; y: Tensor; x: Tensor }

/**
 * The pixels of `image` [B, H, W, C] at integer positions (broadcast to [N, oh, ow]), as
 * [N, oh, ow, C]; positions outside the image read `fill`.
 */
function readPixels(image: Tensor, at: Positions, fill: number | Tensor): Tensor {
  const [b, h, w, c] = image.shape;
  const inside = ops.logicalAnd(
    ops.logicalAnd(ops.greaterEqual(at.y, 0), ops.less(at.y, h)),
    ops.logicalAnd(ops.greaterEqual(at.x, 0), ops.less(at.x, w)));
  const row = ops.add(ops.mul(at.batch, h), ops.clipByValue(at.y, 0, h - 1));
  const flat = ops.add(ops.mul(row, w), ops.clipByValue(at.x, 0, w - 1));
  const pixels = ops.gather(ops.reshape(image, [b * h * w, c]), flat);
  return ops.where(ops.expandDims(inside, -1), pixels, fill);
}

/** Float coordinates rounded half away from zero, as JavaScript's Math.round for the non-negative. */
const roundHalfUp = (v: Tensor) => ops.cast(ops.floor(ops.add(v, 0.5)), 'int32');

/**
 * `image` sampled at float coordinates y, x (broadcast to [N, oh, ow]): 'nearest' reads the
 * closest pixel, 'bilinear' blends the four around, each outside pixel reading `fill`.
 */
function samplePixels(image: Tensor, batch: Tensor, y: Tensor, x: Tensor, method: 'nearest' | 'bilinear', fill: number): Tensor {
  if (method === 'nearest') return readPixels(image, { batch, y: roundHalfUp(y), x: roundHalfUp(x) }, fill);
  const [y0, x0] = [ops.floor(y), ops.floor(x)];
  const [yi, xi] = [ops.cast(y0, 'int32'), ops.cast(x0, 'int32')];
  const [yi1, xi1] = [ops.add(yi, 1), ops.add(xi, 1)];
  const [dy, dx] = [ops.expandDims(ops.sub(y, y0), -1), ops.expandDims(ops.sub(x, x0), -1)];
  const at = (py: Tensor, px: Tensor) => readPixels(image, { batch, y: py, x: px }, fill);
  const lerp = (a: Tensor, b: Tensor, t: Tensor) => ops.add(a, ops.mul(ops.sub(b, a), t));
  return lerp(lerp(at(yi, xi), at(yi, xi1), dx), lerp(at(yi1, xi), at(yi1, xi1), dx), dy);
}

function imageArg(op: string, image: unknown): Tensor {
  if (!(image instanceof Tensor) || image.rank !== 4) throw new Error(`${op}: image must be a rank-4 tensor [batch, height, width, channels], got ${image instanceof Tensor ? `shape [${image.shape}]` : describe(image)}`);
  return image;
}

/** Float32 coordinates a hair past the last pixel (rounding of a box edge at 1) count as on it. */
const EDGE_SLACK = 2 ** -20;

/**
 * Crops of `image` [batch, h, w, c] by `boxes` [n, 4] (normalised y1, x1, y2, x2) from the
 * images `boxInd` [n] names, each resized to `cropSize`: [n, cropH, cropW, c]. Samples outside
 * the image read `extrapolationValue`; a box naming no image gives zeros (as TF.js).
 */
export function cropAndResize(image: Tensor, boxes: Tensor, boxInd: Tensor, cropSize: [number, number], method: 'bilinear' | 'nearest' = 'bilinear', extrapolationValue = 0): Tensor {
  const op = 'cropAndResize';
  imageArg(op, image);
  if (!(boxes instanceof Tensor) || boxes.rank !== 2 || boxes.shape[1] !== 4) throw new Error(`${op}: boxes must be [numBoxes, 4], got ${boxes instanceof Tensor ? `[${boxes.shape}]` : describe(boxes)}`);
  const n = boxes.shape[0];
  if (!(boxInd instanceof Tensor) || boxInd.rank !== 1 || boxInd.shape[0] !== n) throw new Error(`${op}: boxInd must be [${n}], got ${boxInd instanceof Tensor ? `[${boxInd.shape}]` : describe(boxInd)}`);
  if (!Array.isArray(cropSize) || cropSize.length !== 2) throw new Error(`${op}: cropSize must be [height, width], got ${describe(cropSize)}`);
  const [ch, cw] = [intArg(`${op}: cropSize`, cropSize[0], 1, 2 ** 16), intArg(`${op}: cropSize`, cropSize[1], 1, 2 ** 16)];
  const how = choiceArg(op, 'method', method, ['bilinear', 'nearest'] as const);
  if (typeof extrapolationValue !== 'number') throw new Error(`${op}: extrapolationValue must be a number, got ${describe(extrapolationValue)}`);
  const [batch, h, w] = image.shape;
  return tidy(() => {
    const input = image.dtype === 'float32' ? image : ops.cast(image, 'float32');
    const b = ops.cast(boxes, 'float32');
    const edge = (i: number) => ops.reshape(ops.slice(b, [0, i], [n, 1]), [n, 1, 1]);
    // TF.js's sample positions: a box edge to edge over crop - 1 steps, or its middle for a crop of 1
    const along = (lo: Tensor, hi: Tensor, size: number, crop: number, axis: 1 | 2) => {
      if (crop === 1) return ops.mul(ops.mul(ops.add(lo, hi), 0.5), size - 1);
      const shape: number[] = [1, 1, 1];
      shape[axis] = crop;
      const steps = ops.tensor(Float32Array.from({ length: crop }, (_, i) => i), shape);
      return ops.add(ops.mul(lo, size - 1), ops.mul(steps, ops.div(ops.mul(ops.sub(hi, lo), size - 1), crop - 1)));
    };
    const ys = along(edge(0), edge(2), h, ch, 1), xs = along(edge(1), edge(3), w, cw, 2);
    const within = (v: Tensor, size: number) => ops.logicalAnd(ops.greaterEqual(v, -EDGE_SLACK * size), ops.lessEqual(v, (size - 1) * (1 + EDGE_SLACK)));
    const inside = ops.logicalAnd(within(ys, h), within(xs, w));
    const ind = ops.reshape(ops.cast(boxInd, 'int32'), [n, 1, 1]);
    const named = ops.logicalAnd(ops.greaterEqual(ind, 0), ops.less(ind, batch));
    const clampTo = (v: Tensor, size: number) => ops.clipByValue(v, 0, size - 1);
    const crops = samplePixels(input, ops.clipByValue(ind, 0, batch - 1), clampTo(ys, h), clampTo(xs, w), how, 0);
    return ops.where(ops.expandDims(named, -1), ops.where(ops.expandDims(inside, -1), crops, extrapolationValue), 0);
  });
}

/** TF.js's fill modes: where a coordinate outside [0, len) reads from (as float tensors). */
function mapCoordinates(v: Tensor, len: number, mode: 'constant' | 'reflect' | 'wrap' | 'nearest'): Tensor {
  if (mode === 'constant') return v;
  if (mode === 'nearest' || len <= 1) return len <= 1 ? ops.zerosLike(v) : ops.clipByValue(v, 0, len - 1);
  const below = ops.less(v, 0), above = ops.greater(v, len - 1);
  let mapped: Tensor;
  if (mode === 'reflect') {
    const sz2 = 2 * len;
    // below: fold into (-2 len, 0], then mirror; above: fold into [0, 2 len), then mirror
    const low = ops.add(ops.mul(ops.floor(ops.div(ops.neg(v), sz2)), sz2), v);
    const fromLow = ops.where(ops.less(low, -len), ops.add(low, sz2), ops.sub(ops.neg(low), 1));
    const high = ops.sub(v, ops.mul(ops.floor(ops.div(v, sz2)), sz2));
    const fromHigh = ops.where(ops.greaterEqual(high, len), ops.sub(sz2 - 1, high), high);
    mapped = ops.where(below, fromLow, ops.where(above, fromHigh, v));
  } else {
    const sz = len - 1;
    const fromLow = ops.add(v, ops.mul(ops.add(ops.floor(ops.div(ops.neg(v), sz)), 1), len));
    const fromHigh = ops.sub(v, ops.mul(ops.floor(ops.div(v, sz)), len));
    mapped = ops.where(below, fromLow, ops.where(above, fromHigh, v));
  }
  return ops.clipByValue(mapped, 0, len - 1);
}

/**
 * Projective transforms of `image` [batch, h, w, c]: transforms [batch or 1, 8] map each output
 * (x, y) to the input point ((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k), k = c0 x + c1 y + 1.
 */
export function transform(image: Tensor, transforms: Tensor, interpolation: 'nearest' | 'bilinear' = 'nearest', fillMode: 'constant' | 'reflect' | 'wrap' | 'nearest' = 'constant', fillValue = 0, outputShape?: [number, number]): Tensor {
  const op = 'transform';
  imageArg(op, image);
  const [batch, h, w] = image.shape;
  if (!(transforms instanceof Tensor) || transforms.rank !== 2 || transforms.shape[1] !== 8 || (transforms.shape[0] !== 1 && transforms.shape[0] !== batch)) throw new Error(`${op}: transforms must be [${batch}, 8] or [1, 8], got ${transforms instanceof Tensor ? `[${transforms.shape}]` : describe(transforms)}`);
  const how = choiceArg(op, 'interpolation', interpolation, ['nearest', 'bilinear'] as const);
  const mode = choiceArg(op, 'fillMode', fillMode, ['constant', 'reflect', 'wrap', 'nearest'] as const);
  if (typeof fillValue !== 'number') throw new Error(`${op}: fillValue must be a number, got ${describe(fillValue)}`);
  if (outputShape !== undefined && outputShape !== null && (!Array.isArray(outputShape) || outputShape.length !== 2)) throw new Error(`${op}: outputShape must be [height, width], got ${describe(outputShape)}`);
  const [oh, ow] = outputShape ? [intArg(`${op}: outputShape`, outputShape[0], 1, 2 ** 16), intArg(`${op}: outputShape`, outputShape[1], 1, 2 ** 16)] : [h, w];
  return tidy(() => {
    const input = image.dtype === 'float32' ? image : ops.cast(image, 'float32');
    const t = ops.cast(transforms, 'float32');
    const k = (i: number) => ops.reshape(ops.slice(t, [0, i], [t.shape[0], 1]), [t.shape[0], 1, 1]);
    const xo = ops.tensor(Float32Array.from({ length: ow }, (_, i) => i), [1, 1, ow]);
    const yo = ops.tensor(Float32Array.from({ length: oh }, (_, i) => i), [1, oh, 1]);
    const affine = (a: number) => ops.add(ops.add(ops.mul(k(a), xo), ops.mul(k(a + 1), yo)), k(a + 2));
    const projection = ops.add(ops.add(ops.mul(k(6), xo), ops.mul(k(7), yo)), 1);
    const full = [batch, oh, ow];
    const [xs, ys] = [0, 3].map((a) => ops.broadcastTo(ops.div(affine(a), projection), full));
    const first = ops.tensor(Int32Array.from({ length: batch }, (_, i) => i), [batch, 1, 1], 'int32');
    const sampled = samplePixels(input, first, mapCoordinates(ys, h, mode), mapCoordinates(xs, w, mode), how, fillValue);
    const out = ops.where(ops.expandDims(ops.broadcastTo(ops.equal(projection, 0), full), -1), fillValue, sampled);
    return image.dtype === 'float32' ? out : ops.cast(out, image.dtype);
  });
}

/**
 * `image` [batch, h, w, c] rotated by `radians` about `center` (fractions of the width and
 * height), nearest pixel; outside reads `fillValue` (one number, or one per channel with 255 for
 * a fourth, as TF.js). The positions depend on the arguments only, so they are computed here.
 */
export function rotateWithOffset(image: Tensor, radians: number, fillValue: number | [number, number, number] = 0, center: number | [number, number] = 0.5): Tensor {
  const op = 'rotateWithOffset';
  imageArg(op, image);
  if (typeof radians !== 'number' || !Number.isFinite(radians)) throw new Error(`${op}: radians must be a finite number, got ${describe(radians)}`);
  const fills = typeof fillValue === 'number' ? null : fillValue;
  if (fills !== null && (!Array.isArray(fills) || fills.length !== 3 || !fills.every((v) => typeof v === 'number'))) throw new Error(`${op}: fillValue must be a number or [r, g, b], got ${describe(fillValue)}`);
  const [cx, cy] = typeof center === 'number' ? [center, center] : Array.isArray(center) && center.length === 2 ? center : [NaN, NaN];
  if (!Number.isFinite(cx) || !Number.isFinite(cy)) throw new Error(`${op}: center must be a number or [x, y], got ${describe(center)}`);
  const [batch, h, w, c] = image.shape;
  const [centerX, centerY, sin, cos] = [w * cx, h * cy, Math.sin(radians), Math.cos(radians)];
  const ys = new Int32Array(h * w), xs = new Int32Array(h * w);
  for (let row = 0; row < h; row++) {
    for (let col = 0; col < w; col++) {
      xs[row * w + col] = Math.round((col - centerX) * cos - (row - centerY) * sin + centerX);
      ys[row * w + col] = Math.round((col - centerX) * sin + (row - centerY) * cos + centerY);
    }
  }
  return tidy(() => {
    const fill = fills === null ? fillValue as number : ops.tensor(Float32Array.from({ length: c }, (_, i) => (i === 3 ? 255 : fills[i] ?? 0)), [c]);
    const first = ops.tensor(Int32Array.from({ length: batch }, (_, i) => i), [batch, 1, 1], 'int32');
    const out = readPixels(image.dtype === 'float32' ? image : ops.cast(image, 'float32'), { batch: first, y: ops.tensor(ys, [1, h, w], 'int32'), x: ops.tensor(xs, [1, h, w], 'int32') }, fill);
    return image.dtype === 'float32' ? out : ops.cast(out, image.dtype);
  });
}
