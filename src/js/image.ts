// tf.image and tf.browser: resizing, flips and colour conversions of NHWC images, and pixels in
// and out of the page. Resizes gather the source rows and columns the output samples (indices
// and weights computed on the host from the sizes alone, as TF.js's kernels compute them) and
// blend them with elementwise ops, so they run on both backends and carry gradients.
import * as ops from './ops.js';
import { tidy } from './engine.js';
import { choiceArg, describe, intArg } from './args.js';
import { cropAndResize, rotateWithOffset, transform } from './image_sampling.js';
import { SyncReadbackError, Tensor, type TypedArray } from './tensor.js';

type Size = [number, number];

/** For each output position along one axis: the source position (TF.js's resize kernels). */
function sources(inSize: number, outSize: number, alignCorners: boolean, halfPixelCenters: boolean, nearest: boolean): { lo: Int32Array; hi: Int32Array; frac: Float32Array } {
  const ratio = alignCorners && outSize > 1 ? (inSize - 1) / (outSize - 1) : inSize / outSize;
  const lo = new Int32Array(outSize), hi = new Int32Array(outSize), frac = new Float32Array(outSize);
  for (let o = 0; o < outSize; o++) {
    if (nearest) {
      const src = halfPixelCenters ? ratio * (o + 0.5) : ratio * o;
      let i = Math.min(inSize - 1, alignCorners ? Math.round(src) : Math.floor(src));
      if (halfPixelCenters) i = Math.max(0, i);
      lo[o] = hi[o] = i;
    } else {
      const src = halfPixelCenters ? ratio * (o + 0.5) - 0.5 : ratio * o;
      lo[o] = Math.max(0, Math.floor(src));
      hi[o] = Math.min(inSize - 1, Math.ceil(src));
      frac[o] = src - lo[o];
    }
  }
  return { lo, hi, frac };
}

function resize(op: string, images: Tensor, size: Size, alignCorners: boolean, halfPixelCenters: boolean, nearest: boolean): Tensor {
  if (!(images instanceof Tensor)) throw new Error(`${op}: images must be a tensor, got ${describe(images)}`);
  if (images.rank !== 3 && images.rank !== 4) throw new Error(`${op}: images must be rank 3 or 4, got shape [${images.shape}]`);
  if (!Array.isArray(size) || size.length !== 2) throw new Error(`${op}: size must be [newHeight, newWidth], got ${describe(size)}`);
  const [oh, ow] = [intArg(`${op}: newHeight`, size[0], 1, 2 ** 16), intArg(`${op}: newWidth`, size[1], 1, 2 ** 16)];
  if (alignCorners && halfPixelCenters) throw new Error(`${op}: alignCorners and halfPixelCenters cannot both be true`);
  return tidy(() => {
    const x = images.rank === 3 ? ops.expandDims(images, 0) : images;
    const input = x.dtype === 'float32' || nearest ? x : ops.cast(x, 'float32');
    const along = (t: Tensor, axis: number, inSize: number, outSize: number) => {
      const s = sources(inSize, outSize, alignCorners, halfPixelCenters, nearest);
      const lo = ops.gather(t, ops.tensor(s.lo, [outSize], 'int32'), axis);
      if (nearest) return lo;
      const hi = ops.gather(t, ops.tensor(s.hi, [outSize], 'int32'), axis);
      const shape = [1, 1, 1, 1];
      shape[axis] = outSize;
      return ops.add(lo, ops.mul(ops.sub(hi, lo), ops.tensor(s.frac, shape)));
    };
    const y = along(along(input, 1, x.shape[1], oh), 2, x.shape[2], ow);
    return images.rank === 3 ? ops.squeeze(y, [0]) : y;
  });
}

/** Intersection over union of boxes i and j of [n, 4] (y1, x1, y2, x2), corners in any order (TF.js). */
function iou(b: ArrayLike<number>, i: number, j: number): number {
  const box = (k: number) => [Math.min(b[k * 4], b[k * 4 + 2]), Math.min(b[k * 4 + 1], b[k * 4 + 3]), Math.max(b[k * 4], b[k * 4 + 2]), Math.max(b[k * 4 + 1], b[k * 4 + 3])];
  const [ay1, ax1, ay2, ax2] = box(i), [by1, bx1, by2, bx2] = box(j);
  const areaA = (ay2 - ay1) * (ax2 - ax1), areaB = (by2 - by1) * (bx2 - bx1);
  if (areaA <= 0 || areaB <= 0) return 0;
  const inter = Math.max(Math.min(ay2, by2) - Math.max(ay1, by1), 0) * Math.max(Math.min(ax2, bx2) - Math.max(ax1, bx1), 0);
  return inter / (areaA + areaB - inter);
}

/** Greedy non-maximum suppression on host values: indices kept, best score first. */
function suppress(op: string, boxes: ArrayLike<number>, scores: ArrayLike<number>, maxOutputSize: number, iouThreshold: number, scoreThreshold: number, softNmsSigma: number): number[] {
  intArg(`${op}: maxOutputSize`, maxOutputSize, 0, 2 ** 30);
  if (!(iouThreshold >= 0 && iouThreshold <= 1)) throw new Error(`${op}: iouThreshold must be in [0, 1], got ${iouThreshold}`);
  if (softNmsSigma !== 0) throw new Error(`${op}: soft-NMS (softNmsSigma ${softNmsSigma}) is not supported; use 0`);
  const order = Array.from(scores, (_, i) => i).filter((i) => scores[i] > scoreThreshold).sort((a, b) => scores[b] - scores[a] || a - b);
  const kept: number[] = [];
  for (const i of order) {
    if (kept.length >= maxOutputSize) break;
    if (kept.every((j) => iou(boxes, i, j) <= iouThreshold)) kept.push(i);
  }
  return kept;
}

function checkBoxes(op: string, boxes: Tensor, scores: Tensor): void {
  if (!(boxes instanceof Tensor) || boxes.rank !== 2 || boxes.shape[1] !== 4) throw new Error(`${op}: boxes must be [numBoxes, 4], got ${boxes instanceof Tensor ? `[${boxes.shape}]` : describe(boxes)}`);
  if (!(scores instanceof Tensor) || scores.rank !== 1 || scores.size !== boxes.shape[0]) throw new Error(`${op}: scores must be a vector of one score per box, got ${scores instanceof Tensor ? `[${scores.shape}]` : describe(scores)}`);
}

type NmsRead = (t: Tensor) => Promise<ArrayLike<number>> | ArrayLike<number>;
function nms(op: string, read: NmsRead) {
  return (boxes: Tensor, scores: Tensor, maxOutputSize: number, iouThreshold = 0.5, scoreThreshold = Number.NEGATIVE_INFINITY, softNmsSigma = 0) => {
    checkBoxes(op, boxes, scores);
    const b = read(boxes), s = read(scores);
    const finish = (bv: ArrayLike<number>, sv: ArrayLike<number>) => {
      const kept = suppress(op, bv, sv, maxOutputSize, iouThreshold, scoreThreshold, softNmsSigma);
      return { kept, scores: kept.map((i) => sv[i]) };
    };
    return b instanceof Promise || s instanceof Promise ? Promise.all([b, s]).then(([bv, sv]) => finish(bv, sv)) : finish(b as ArrayLike<number>, s as ArrayLike<number>);
  };
}
const syncRead: NmsRead = (t) => t.dataSync();
const asyncRead: NmsRead = (t) => t.data();
const indices = (r: { kept: number[] }) => ops.tensor(Int32Array.from(r.kept), [r.kept.length], 'int32');
const withScores = (r: { kept: number[]; scores: number[] }) => ({ selectedIndices: indices(r), selectedScores: ops.tensor(Float32Array.from(r.scores), [r.kept.length]) });
const padded = (maxOutputSize: number, pad: boolean) => (r: { kept: number[] }) => {
  const all = pad ? [...r.kept, ...new Array(Math.max(0, maxOutputSize - r.kept.length)).fill(0)] : r.kept;
  return { selectedIndices: ops.tensor(Int32Array.from(all), [all.length], 'int32'), validOutputs: ops.scalar(r.kept.length, 'int32') };
};

/**
 * Otsu's level for the 256-bin histogram of rounded `gray`: the bin index whose split maximises
 * the between-class variance (the first such, -1 if no split separates anything), on the device.
 */
function otsuLevel(gray: Tensor, pixels: number): Tensor {
  const bins = ops.bincount(ops.cast(ops.round(gray), 'int32'), null, 256);
  const hist = ops.cast(ops.reshape(bins, [256]), 'float32');
  const level = ops.tensor(Float32Array.from({ length: 256 }, (_, i) => i));
  const first = ops.slice(ops.cumsum(hist), [0], [255]), moment = ops.slice(ops.cumsum(ops.mul(hist, level)), [0], [255]);
  const [count, weighted] = [ops.sum(hist), ops.sum(ops.mul(hist, level))];
  const second = ops.sub(count, first);
  const spread = ops.sub(ops.div(moment, first), ops.div(ops.sub(weighted, moment), second));
  const between = ops.mul(ops.mul(ops.div(first, pixels), ops.div(second, pixels)), ops.square(spread));
  const valid = ops.where(ops.greater(between, 0), between, 0);
  return ops.reshape(ops.where(ops.greater(ops.max(valid), 0), ops.cast(ops.argMax(valid), 'float32'), -1), [1]);
}

export const image = {
  /** Boxes kept by greedy non-maximum suppression (reads the values: the CPU backend only; use the Async form on WebGPU). */
  nonMaxSuppression: (boxes: Tensor, scores: Tensor, maxOutputSize: number, iouThreshold?: number, scoreThreshold?: number) =>
    indices(nms('nonMaxSuppression', syncRead)(boxes, scores, maxOutputSize, iouThreshold, scoreThreshold) as { kept: number[] }),
  nonMaxSuppressionAsync: async (boxes: Tensor, scores: Tensor, maxOutputSize: number, iouThreshold?: number, scoreThreshold?: number) =>
    indices(await nms('nonMaxSuppressionAsync', asyncRead)(boxes, scores, maxOutputSize, iouThreshold, scoreThreshold)),
  nonMaxSuppressionWithScore: (boxes: Tensor, scores: Tensor, maxOutputSize: number, iouThreshold?: number, scoreThreshold?: number, softNmsSigma?: number) =>
    withScores(nms('nonMaxSuppressionWithScore', syncRead)(boxes, scores, maxOutputSize, iouThreshold, scoreThreshold, softNmsSigma) as { kept: number[]; scores: number[] }),
  nonMaxSuppressionWithScoreAsync: async (boxes: Tensor, scores: Tensor, maxOutputSize: number, iouThreshold?: number, scoreThreshold?: number, softNmsSigma?: number) =>
    withScores(await nms('nonMaxSuppressionWithScoreAsync', asyncRead)(boxes, scores, maxOutputSize, iouThreshold, scoreThreshold, softNmsSigma)),
  nonMaxSuppressionPadded: (boxes: Tensor, scores: Tensor, maxOutputSize: number, iouThreshold?: number, scoreThreshold?: number, padToMaxOutputSize = false) =>
    padded(maxOutputSize, padToMaxOutputSize)(nms('nonMaxSuppressionPadded', syncRead)(boxes, scores, maxOutputSize, iouThreshold, scoreThreshold) as { kept: number[] }),
  nonMaxSuppressionPaddedAsync: async (boxes: Tensor, scores: Tensor, maxOutputSize: number, iouThreshold?: number, scoreThreshold?: number, padToMaxOutputSize = false) =>
    padded(maxOutputSize, padToMaxOutputSize)(await nms('nonMaxSuppressionPaddedAsync', asyncRead)(boxes, scores, maxOutputSize, iouThreshold, scoreThreshold)),
  resizeBilinear: (images: Tensor, size: Size, alignCorners = false, halfPixelCenters = false) =>
    resize('resizeBilinear', images, size, alignCorners, halfPixelCenters, false),
  resizeNearestNeighbor: (images: Tensor, size: Size, alignCorners = false, halfPixelCenters = false) =>
    resize('resizeNearestNeighbor', images, size, alignCorners, halfPixelCenters, true),
  /** Mirrors each image of a [batch, height, width, channels] tensor left to right. */
  flipLeftRight: (image: Tensor) => {
    if (!(image instanceof Tensor) || image.rank !== 4) throw new Error(`flipLeftRight: expected a rank-4 image batch, got ${image instanceof Tensor ? `shape [${image.shape}]` : describe(image)}`);
    return ops.reverse(image, 2);
  },
  /** ITU-R 601 luma of RGB images (the last axis, of size 3), kept as one channel. */
  rgbToGrayscale: (image: Tensor) => tidy(() => {
    if (!(image instanceof Tensor) || image.rank < 2 || image.shape[image.rank - 1] !== 3) throw new Error(`rgbToGrayscale: the last dimension must be 3 (RGB), got ${image instanceof Tensor ? `shape [${image.shape}]` : describe(image)}`);
    const gray = ops.sum(ops.mul(ops.cast(image, 'float32'), ops.tensor([0.2989, 0.587, 0.114])), -1, true);
    return image.dtype === 'int32' ? ops.cast(ops.round(gray), 'int32') : gray;
  }),
  /**
   * 255 where a pixel's luma (or its only channel) is above the threshold, 0 elsewhere (the other
   * way round when `inverted`), as int32 [h, w, 1]. 'binary' thresholds at threshValue * 255;
   * 'otsu' at the level that best separates the image's 256-bin histogram into two classes.
   */
  threshold: (image: Tensor, method: 'binary' | 'otsu' = 'binary', inverted = false, threshValue = 0.5) => tidy(() => {
    const op = 'threshold';
    if (!(image instanceof Tensor) || image.rank !== 3 || (image.shape[2] !== 1 && image.shape[2] !== 3) || image.dtype === 'bool') throw new Error(`${op}: image must be an int32 or float32 [height, width, 1 or 3] tensor, got ${image instanceof Tensor ? `${image.dtype} [${image.shape}]` : describe(image)}`);
    const how = choiceArg(op, 'method', method, ['binary', 'otsu'] as const);
    if (typeof inverted !== 'boolean' || typeof threshValue !== 'number') throw new Error(`${op}: inverted must be a boolean and threshValue a number`);
    const gray = image.shape[2] === 3 ? ops.sum(ops.mul(ops.cast(image, 'float32'), ops.tensor([0.2989, 0.587, 0.114])), -1, true) : image;
    const level = how === 'binary' ? ops.scalar(threshValue * 255) : otsuLevel(gray, image.shape[0] * image.shape[1]);
    const above = inverted ? ops.lessEqual(gray, level) : ops.greater(gray, level);
    return ops.cast(ops.mul(ops.cast(above, 'float32'), 255), 'int32');
  }),
  cropAndResize,
  transform,
  rotateWithOffset,
  /** One-channel images repeated into three. */
  grayscaleToRGB: (image: Tensor) => {
    if (!(image instanceof Tensor) || image.rank < 2 || image.shape[image.rank - 1] !== 1) throw new Error(`grayscaleToRGB: the last dimension must be 1, got ${image instanceof Tensor ? `shape [${image.shape}]` : describe(image)}`);
    return ops.tile(image, [...image.shape.slice(0, -1).map(() => 1), 3]);
  },
};

// ---- tf.browser ----------------------------------------------------------------------------------

/** Pixels as TF.js takes them: an ImageData-like object, or a drawable the page can read back. */
type PixelSource = { data: Uint8Array | Uint8ClampedArray; width: number; height: number } | CanvasImageSource | OffscreenCanvas;

function rgba(pixels: PixelSource): { data: Uint8Array | Uint8ClampedArray; width: number; height: number } {
  const p = pixels as { data?: unknown; width?: unknown; height?: unknown };
  if (p && (p.data instanceof Uint8Array || p.data instanceof Uint8ClampedArray) && typeof p.width === 'number' && typeof p.height === 'number') {
    return p as { data: Uint8Array; width: number; height: number };
  }
  const el = pixels as HTMLVideoElement & HTMLImageElement;
  const width = el.videoWidth || el.naturalWidth || (el as unknown as { width: number }).width;
  const height = el.videoHeight || el.naturalHeight || (el as unknown as { height: number }).height;
  if (!(width > 0 && height > 0) || typeof OffscreenCanvas === 'undefined') throw new Error(`fromPixels: expected ImageData, an image, video, canvas or ImageBitmap with a size, or {data, width, height}, got ${describe(pixels)}`);
  const ctx = new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(pixels as CanvasImageSource, 0, 0, width, height);
  return ctx.getImageData(0, 0, width, height);
}

export const browser = {
  /** An int32 [height, width, numChannels] tensor of an image's pixels (RGBA read, the first numChannels kept). */
  fromPixels(pixels: PixelSource, numChannels = 3): Tensor {
    const c = intArg('fromPixels: numChannels', numChannels, 1, 4);
    const { data, width, height } = rgba(pixels);
    if (data.length !== width * height * 4) throw new Error(`fromPixels: ${data.length} bytes for a ${width}x${height} RGBA image (want ${width * height * 4})`);
    const out = new Int32Array(width * height * c);
    for (let i = 0, j = 0; i < width * height; i++) for (let k = 0; k < c; k++) out[j++] = data[i * 4 + k];
    return ops.tensor(out, [height, width, c], 'int32');
  },
  async fromPixelsAsync(pixels: PixelSource, numChannels = 3): Promise<Tensor> {
    return browser.fromPixels(pixels, numChannels);
  },
  /**
   * RGBA bytes of a [height, width] or [height, width, 1/3/4] image (float32 in [0, 1], int32 in
   * [0, 255]); drawn into `canvas` when given.
   */
  async toPixels(img: Tensor, canvas?: HTMLCanvasElement | OffscreenCanvas): Promise<Uint8ClampedArray> {
    imageArg('toPixels', img);
    const out = rgbaBytes('toPixels', img, await img.data(), 1);
    if (canvas) paint(canvas, out, img.shape[1], img.shape[0]);
    return out;
  },
  /**
   * Draws a [height, width] or [height, width, 1 | 3 | 4] image into a canvas's 2-D context (float32
   * in [0, 1], int32 in [0, 255]; imageOptions.alpha for images without their own). On the CPU it
   * is drawn before this returns; on WebGPU, whose reads are asynchronous, once the pixels are read.
   */
  draw(img: Tensor, canvas: HTMLCanvasElement | OffscreenCanvas, options: { imageOptions?: { alpha?: number }; contextOptions?: { contextType?: string; contextAttributes?: CanvasRenderingContext2DSettings } } = {}): void {
    const op = 'draw';
    imageArg(op, img);
    if (!canvas || typeof (canvas as HTMLCanvasElement).getContext !== 'function') throw new Error(`${op}: expected a canvas, got ${describe(canvas)}`);
    const alpha = options?.imageOptions?.alpha ?? 1;
    if (!(typeof alpha === 'number' && alpha >= 0 && alpha <= 1)) throw new Error(`${op}: imageOptions.alpha must be in [0, 1], got ${describe(alpha)}`);
    const context = options?.contextOptions?.contextType ?? '2d';
    if (context !== '2d') throw new Error(`${op}: contextType '${String(context)}' is not supported (only '2d')`);
    const attributes = options?.contextOptions?.contextAttributes ?? {};
    const [h, w] = img.shape;
    let values: TypedArray | null = null;
    try {
      values = img.dataSync();
    } catch (e) {
      if (!(e instanceof SyncReadbackError)) throw e;
    }
    if (values) {
      paint(canvas, rgbaBytes(op, img, values, alpha), w, h, attributes);
      return;
    }
    const kept = img.clone();
    void kept.data().then((v) => paint(canvas, rgbaBytes(op, kept, v, alpha), w, h, attributes)).finally(() => kept.dispose());
  },
};

function imageArg(op: string, img: unknown): asserts img is Tensor {
  if (!(img instanceof Tensor) || (img.rank !== 2 && img.rank !== 3)) throw new Error(`${op}: expected a rank-2 or rank-3 tensor, got ${img instanceof Tensor ? `shape [${img.shape}]` : describe(img)}`);
  const c = img.rank === 2 ? 1 : img.shape[2];
  if (![1, 3, 4].includes(c)) throw new Error(`${op}: images need 1, 3 or 4 channels, got ${c}`);
  if (img.dtype !== 'float32' && img.dtype !== 'int32') throw new Error(`${op}: images are float32 (in [0, 1]) or int32 (in [0, 255]), got ${img.dtype}`);
}

/** An image's RGBA bytes, as TF.js makes them (rounded; one channel is gray; no fourth: `alpha`). */
function rgbaBytes(op: string, img: Tensor, values: ArrayLike<number>, alpha: number): Uint8ClampedArray<ArrayBuffer> {
  const [h, w] = img.shape;
  const c = img.rank === 2 ? 1 : img.shape[2];
  const float = img.dtype === 'float32';
  const out = new Uint8ClampedArray(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    const v = (k: number) => {
      const x = values[i * c + k];
      if (float ? !(x >= 0 && x <= 1) : !(x >= 0 && x <= 255)) throw new Error(`${op}: value ${x} is outside ${float ? '[0, 1]' : '[0, 255]'}`);
      return Math.round(float ? x * 255 : x);
    };
    const [r, g, b] = c === 1 ? [v(0), v(0), v(0)] : [v(0), v(1), v(2)];
    out.set([r, g, b, c === 4 ? v(3) : Math.round(255 * alpha)], i * 4);
  }
  return out;
}

/** Puts RGBA bytes into a canvas, sized to them (its 2-D context made with `attributes`). */
function paint(canvas: HTMLCanvasElement | OffscreenCanvas, bytes: Uint8ClampedArray<ArrayBuffer>, w: number, h: number, attributes: CanvasRenderingContext2DSettings = {}): void {
  canvas.width = w;
  canvas.height = h;
  (canvas.getContext('2d', attributes) as CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D).putImageData(new ImageData(bytes, w, h), 0, 0);
}
