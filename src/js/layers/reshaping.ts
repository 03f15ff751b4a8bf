// Layers without weights that activate, rescale, reshape or pad (TF.js's activation layers,
// RepeatVector, Permute, ZeroPadding2D, Cropping2D, UpSampling2D, Rescaling, the 1-D pools and
// the noise layers). Each is a few engine ops; configs use TF.js's names, so models with them
// save and load both ways.
import * as ops from '../ops.js';
import { choiceArg, describe, intArg, paddingArg, rateArg } from '../args.js';
import type { Tensor } from '../tensor.js';
import { checkRank, Layer, type LayerArgs, type Shape } from './layer.js';
import { image } from '../image.js';

const finite = (op: string, what: string, v: unknown, fallback: number): number => {
  const x = v ?? fallback;
  if (typeof x !== 'number' || !Number.isFinite(x)) throw new Error(`${op}: ${what} must be a finite number, got ${describe(x)}`);
  return x;
};

export class ReLU extends Layer {
  readonly supportsMasking = true;
  readonly maxValue?: number;
  constructor(args: LayerArgs & { maxValue?: number } = {}) {
    super(args);
    if (args.maxValue !== undefined && args.maxValue !== null) this.maxValue = finite('ReLU', 'maxValue', args.maxValue, 0);
  }
  getClassName() { return 'ReLU'; }
  computeOutputShape(s: Shape): Shape { return s; }
  protected call(x: Tensor): Tensor { return this.maxValue === undefined ? ops.relu(x) : ops.clipByValue(x, 0, this.maxValue); }
  getConfig() { return { ...super.getConfig(), maxValue: this.maxValue ?? null }; }
}

export class LeakyReLU extends Layer {
  readonly supportsMasking = true;
  readonly alpha: number;
  constructor(args: LayerArgs & { alpha?: number } = {}) {
    super(args);
    this.alpha = finite('LeakyReLU', 'alpha', args.alpha, 0.3);
  }
  getClassName() { return 'LeakyReLU'; }
  computeOutputShape(s: Shape): Shape { return s; }
  protected call(x: Tensor): Tensor { return ops.leakyRelu(x, this.alpha); }
  getConfig() { return { ...super.getConfig(), alpha: this.alpha }; }
}

export class ELU extends Layer {
  readonly supportsMasking = true;
  readonly alpha: number;
  constructor(args: LayerArgs & { alpha?: number } = {}) {
    super(args);
    this.alpha = finite('ELU', 'alpha', args.alpha, 1);
    // As TF.js: the ELU layer takes only alpha = 1.
    if (this.alpha !== 1) throw new Error(`ELU: alpha ${this.alpha} is not supported (only 1, as in TF.js)`);
  }
  getClassName() { return 'ELU'; }
  computeOutputShape(s: Shape): Shape { return s; }
  protected call(x: Tensor): Tensor { return ops.elu(x); }
  getConfig() { return { ...super.getConfig(), alpha: this.alpha }; }
}

export class ThresholdedReLU extends Layer {
  readonly supportsMasking = true;
  readonly theta: number;
  constructor(args: LayerArgs & { theta?: number } = {}) {
    super(args);
    this.theta = finite('ThresholdedReLU', 'theta', args.theta, 1);
  }
  getClassName() { return 'ThresholdedReLU'; }
  computeOutputShape(s: Shape): Shape { return s; }
  protected call(x: Tensor): Tensor { return ops.mul(x, ops.cast(ops.greater(x, this.theta), 'float32')); }
  getConfig() { return { ...super.getConfig(), theta: this.theta }; }
}

export class Softmax extends Layer {
  readonly supportsMasking = true;
  readonly axis: number;
  constructor(args: LayerArgs & { axis?: number } = {}) {
    super(args);
    this.axis = intArg('Softmax: axis', args.axis ?? -1, -8, 7);
  }
  getClassName() { return 'Softmax'; }
  computeOutputShape(s: Shape): Shape { return s; }
  protected call(x: Tensor): Tensor { return ops.softmax(x, this.axis); }
  getConfig() { return { ...super.getConfig(), axis: this.axis }; }
}

/** [batch, features] -> [batch, n, features]. */
export class RepeatVector extends Layer {
  readonly n: number;
  constructor(args: LayerArgs & { n: number }) {
    super(args);
    this.n = intArg('RepeatVector: n', args.n, 1, 0x7fffffff);
  }
  getClassName() { return 'RepeatVector'; }
  computeOutputShape(s: Shape): Shape { checkRank(this, s, 2); return [s[0], this.n, s[1]]; }
  protected call(x: Tensor): Tensor { return ops.tile(ops.expandDims(x, 1), [1, this.n, 1]); }
  getConfig() { return { ...super.getConfig(), n: this.n }; }
}

/** Permutes the non-batch axes: `dims` is a permutation of 1..rank-1. */
export class Permute extends Layer {
  readonly dims: number[];
  constructor(args: LayerArgs & { dims: number[] }) {
    super(args);
    const dims = args.dims;
    if (!Array.isArray(dims) || dims.length === 0 || [...dims].sort((a, b) => a - b).some((d, i) => d !== i + 1)) throw new Error(`Permute: dims must be a permutation of 1..${Array.isArray(dims) ? dims.length : 'n'}, got ${Array.isArray(dims) ? `[${dims}]` : describe(dims)}`);
    this.dims = [...dims];
  }
  getClassName() { return 'Permute'; }
  computeOutputShape(s: Shape): Shape { checkRank(this, s, this.dims.length + 1); return [s[0], ...this.dims.map((d) => s[d])]; }
  protected call(x: Tensor): Tensor { return ops.transpose(x, [0, ...this.dims]); }
  getConfig() { return { ...super.getConfig(), dims: this.dims }; }
}

type Pairs = number | [number, number] | [[number, number], [number, number]];
/** TF.js's padding/cropping forms: n, [height, width], or [[top, bottom], [left, right]]. */
function sides(op: string, what: string, v: Pairs | undefined, fallback: number): [[number, number], [number, number]] {
  const n = (x: unknown) => intArg(`${op}: ${what}`, x, 0, 0x7fffffff);
  const p = v ?? fallback;
  if (typeof p === 'number') return [[n(p), n(p)], [n(p), n(p)]];
  if (Array.isArray(p) && p.length === 2 && p.every((e) => typeof e === 'number')) return [[n(p[0]), n(p[0])], [n(p[1]), n(p[1])]];
  if (Array.isArray(p) && p.length === 2 && p.every((e) => Array.isArray(e) && e.length === 2)) {
    const [[t, b], [l, r]] = p as [[number, number], [number, number]];
    return [[n(t), n(b)], [n(l), n(r)]];
  }
  throw new Error(`${op}: ${what} must be a number, [height, width] or [[top, bottom], [left, right]]`);
}
const channelsLast = (op: string, v: unknown) => {
  if (v !== undefined && v !== null && v !== 'channelsLast') throw new Error(`${op}: dataFormat ${describe(v)} is not supported (channelsLast only)`);
};
const plus = (d: number | null, a: number, b: number) => (d === null ? null : d + a + b);

export class ZeroPadding2D extends Layer {
  readonly padding: [[number, number], [number, number]];
  constructor(args: LayerArgs & { padding?: Pairs; dataFormat?: string } = {}) {
    super(args);
    channelsLast('ZeroPadding2D', args.dataFormat);
    this.padding = sides('ZeroPadding2D', 'padding', args.padding, 1);
  }
  getClassName() { return 'ZeroPadding2D'; }
  computeOutputShape(s: Shape): Shape { checkRank(this, s, 4); const [[t, b], [l, r]] = this.padding; return [s[0], plus(s[1], t, b), plus(s[2], l, r), s[3]]; }
  protected call(x: Tensor): Tensor { return ops.pad(x, [[0, 0], this.padding[0], this.padding[1], [0, 0]]); }
  getConfig() { return { ...super.getConfig(), padding: this.padding }; }
}

export class Cropping2D extends Layer {
  readonly cropping: [[number, number], [number, number]];
  constructor(args: LayerArgs & { cropping: Pairs; dataFormat?: string }) {
    super(args);
    channelsLast('Cropping2D', args.dataFormat);
    this.cropping = sides('Cropping2D', 'cropping', args.cropping, 0);
  }
  getClassName() { return 'Cropping2D'; }
  computeOutputShape(s: Shape): Shape { checkRank(this, s, 4); const [[t, b], [l, r]] = this.cropping; return [s[0], plus(s[1], -t, -b), plus(s[2], -l, -r), s[3]]; }
  protected call(x: Tensor): Tensor {
    const [[t, b], [l, r]] = this.cropping;
    const [h, w] = [x.shape[1] - t - b, x.shape[2] - l - r];
    if (h <= 0 || w <= 0) throw new Error(`Cropping2D: cropping ${JSON.stringify(this.cropping)} leaves nothing of input [${x.shape}]`);
    return ops.slice(x, [0, t, l, 0], [-1, h, w, -1]);
  }
  getConfig() { return { ...super.getConfig(), cropping: this.cropping }; }
}

/** Each pixel repeated size[0] x size[1] times (nearest neighbour; bilinear is refused). */
export class UpSampling2D extends Layer {
  readonly size: [number, number];
  constructor(args: LayerArgs & { size?: number | [number, number]; interpolation?: string; dataFormat?: string } = {}) {
    super(args);
    channelsLast('UpSampling2D', args.dataFormat);
    choiceArg('UpSampling2D', 'interpolation', args.interpolation ?? 'nearest', ['nearest'] as const);
    const s = args.size ?? [2, 2];
    const [sh, sw] = typeof s === 'number' ? [s, s] : s;
    this.size = [intArg('UpSampling2D: size', sh, 1, 0x7fffffff), intArg('UpSampling2D: size', sw, 1, 0x7fffffff)];
  }
  getClassName() { return 'UpSampling2D'; }
  computeOutputShape(s: Shape): Shape { checkRank(this, s, 4); return [s[0], s[1] === null ? null : s[1] * this.size[0], s[2] === null ? null : s[2] * this.size[1], s[3]]; }
  protected call(x: Tensor): Tensor {
    const [n, h, w, c] = x.shape;
    const [sh, sw] = this.size;
    const spread = ops.broadcastTo(ops.reshape(x, [n, h, 1, w, 1, c]), [n, h, sh, w, sw, c]);
    return ops.reshape(spread, [n, h * sh, w * sw, c]);
  }
  getConfig() { return { ...super.getConfig(), size: this.size, interpolation: 'nearest' }; }
}

/** x * scale + offset. */
export class Rescaling extends Layer {
  readonly supportsMasking = true;
  readonly scale: number;
  readonly offset: number;
  constructor(args: LayerArgs & { scale: number; offset?: number }) {
    super(args);
    this.scale = finite('Rescaling', 'scale', args.scale, NaN);
    this.offset = finite('Rescaling', 'offset', args.offset, 0);
  }
  getClassName() { return 'Rescaling'; }
  computeOutputShape(s: Shape): Shape { return s; }
  protected call(x: Tensor): Tensor { return ops.add(ops.mul(ops.cast(x, 'float32'), this.scale), this.offset); }
  getConfig() { return { ...super.getConfig(), scale: this.scale, offset: this.offset }; }
}

/** Additive zero-mean Gaussian noise while training; the identity at inference. */
export class GaussianNoise extends Layer {
  readonly supportsMasking = true;
  readonly stddev: number;
  readonly seed?: number;
  constructor(args: LayerArgs & { stddev: number; seed?: number }) {
    super(args);
    this.seed = args.seed;
    this.stddev = finite('GaussianNoise', 'stddev', args.stddev, NaN);
    if (this.stddev < 0) throw new Error(`GaussianNoise: stddev must be non-negative, got ${this.stddev}`);
  }
  getClassName() { return 'GaussianNoise'; }
  computeOutputShape(s: Shape): Shape { return s; }
  protected call(x: Tensor, training: boolean): Tensor { return training ? ops.add(x, ops.randomNormal(x.shape, 0, this.stddev, 'float32', this.seed)) : x.clone(); }
  getConfig() { return { ...super.getConfig(), stddev: this.stddev }; }
}

/** Multiplicative Gaussian noise of mean 1 and deviation sqrt(rate / (1 - rate)) while training. */
export class GaussianDropout extends Layer {
  readonly supportsMasking = true;
  readonly rate: number;
  constructor(args: LayerArgs & { rate: number }) {
    super(args);
    this.rate = rateArg('GaussianDropout', 'rate', args.rate);
  }
  getClassName() { return 'GaussianDropout'; }
  computeOutputShape(s: Shape): Shape { return s; }
  protected call(x: Tensor, training: boolean): Tensor {
    return training && this.rate > 0 ? ops.mul(x, ops.randomNormal(x.shape, 1, Math.sqrt(this.rate / (1 - this.rate)))) : x.clone();
  }
  getConfig() { return { ...super.getConfig(), rate: this.rate }; }
}

/** 1-D pools over [batch, steps, channels]: the 2-D pool with a height of 1. */
abstract class Pool1D extends Layer {
  readonly poolSize: number;
  readonly strides: number;
  readonly padding: 'same' | 'valid';
  constructor(args: LayerArgs & { poolSize?: number | [number]; strides?: number | [number]; padding?: 'same' | 'valid' } = {}) {
    super(args);
    const one = (v: number | [number] | undefined, fallback: number) => intArg(`${this.getClassName()}: size`, Array.isArray(v) ? v[0] : v ?? fallback, 1, 0x7fffffff);
    this.poolSize = one(args.poolSize, 2);
    this.strides = one(args.strides, this.poolSize);
    this.padding = paddingArg(this.getClassName(), args.padding ?? 'valid');
  }
  computeOutputShape(s: Shape): Shape {
    checkRank(this, s, 3);
    const n = s[1];
    const out = n === null ? null : this.padding === 'same' ? Math.ceil(n / this.strides) : Math.floor((n - this.poolSize) / this.strides) + 1;
    return [s[0], out, s[2]];
  }
  protected call(x: Tensor): Tensor {
    const y = this.pool(ops.expandDims(x, 1), [1, this.poolSize], [1, this.strides]);
    return ops.squeeze(y, [1]);
  }
  protected abstract pool(x: Tensor, size: [number, number], strides: [number, number]): Tensor;
  getConfig() { return { ...super.getConfig(), poolSize: [this.poolSize], strides: [this.strides], padding: this.padding }; }
}

export class MaxPooling1D extends Pool1D {
  getClassName() { return 'MaxPooling1D'; }
  protected pool(x: Tensor, size: [number, number], strides: [number, number]): Tensor { return ops.maxPool(x, size, strides, this.padding); }
}

export class AveragePooling1D extends Pool1D {
  getClassName() { return 'AveragePooling1D'; }
  protected pool(x: Tensor, size: [number, number], strides: [number, number]): Tensor { return ops.avgPool(x, size, strides, this.padding); }
}

/** PReLU: x where x > 0, alpha * x elsewhere, with a learned alpha per element (shared over `sharedAxes`). */
export class PReLU extends Layer {
  readonly supportsMasking = true;
  readonly sharedAxes?: number[];
  private alpha?: import('../tensor.js').Variable;
  private readonly init?: string | import('../initializers.js').Initializer;
  constructor(args: LayerArgs & { alphaInitializer?: string | import('../initializers.js').Initializer; sharedAxes?: number | number[] } = {}) {
    super(args);
    this.init = args.alphaInitializer;
    this.sharedAxes = args.sharedAxes === undefined || args.sharedAxes === null ? undefined : Array.isArray(args.sharedAxes) ? args.sharedAxes : [args.sharedAxes];
  }
  getClassName() { return 'PReLU'; }
  computeOutputShape(s: Shape): Shape { return s; }
  build(s: Shape): void {
    const shape = s.slice(1).map((d, i) => (this.sharedAxes?.includes(i + 1) ? 1 : d));
    if (shape.some((d) => d === null)) throw new Error(`PReLU: the input's non-batch dimensions must be known (or shared), got [${s}]`);
    this.alpha = this.newWeight('alpha', shape as number[], this.init, 'zeros');
  }
  protected call(x: Tensor): Tensor { return ops.prelu(x, this.alpha!); }
  getConfig() { return { ...super.getConfig(), sharedAxes: this.sharedAxes ?? null }; }
}

/** Dropout of whole channels of [batch, steps, channels] while training (one draw per batch and channel). */
export class SpatialDropout1D extends Layer {
  readonly supportsMasking = true;
  readonly rate: number;
  readonly seed?: number;
  constructor(args: LayerArgs & { rate: number; seed?: number }) {
    super(args);
    this.rate = rateArg('SpatialDropout1D', 'rate', args.rate);
    this.seed = args.seed;
  }
  getClassName() { return 'SpatialDropout1D'; }
  computeOutputShape(s: Shape): Shape { checkRank(this, s, 3); return s; }
  protected call(x: Tensor, training: boolean): Tensor {
    if (!training || this.rate === 0) return x.clone();
    const keep = ops.cast(ops.greaterEqual(ops.randomUniform([x.shape[0], 1, x.shape[2]], 0, 1, 'float32', this.seed), this.rate), 'float32');
    return ops.mul(x, ops.div(keep, 1 - this.rate));
  }
  getConfig() { return { ...super.getConfig(), rate: this.rate }; }
}

/** Alpha dropout (keeps SELU's self-normalisation) while training; the identity at inference. */
export class AlphaDropout extends Layer {
  readonly supportsMasking = true;
  readonly rate: number;
  constructor(args: LayerArgs & { rate: number; noiseShape?: number[] }) {
    super(args);
    this.rate = rateArg('AlphaDropout', 'rate', args.rate);
    if (args.noiseShape) throw new Error('AlphaDropout: noiseShape is not supported');
  }
  getClassName() { return 'AlphaDropout'; }
  computeOutputShape(s: Shape): Shape { return s; }
  protected call(x: Tensor, training: boolean): Tensor {
    if (!training || this.rate === 0) return x.clone();
    const alphaP = -1.6732632423543772 * 1.0507009873554805;
    const keep = ops.cast(ops.greaterEqual(ops.randomUniform(x.shape, 0, 1), this.rate), 'float32');
    const a = (1 / Math.sqrt((1 - this.rate) * (1 + this.rate * alphaP * alphaP)));
    const b = -a * alphaP * this.rate;
    return ops.add(ops.mul(ops.add(ops.mul(x, keep), ops.mul(ops.sub(1, keep), alphaP)), a), b);
  }
  getConfig() { return { ...super.getConfig(), rate: this.rate }; }
}

/** The central height x width crop of each image (TF.js CenterCrop). */
export class CenterCrop extends Layer {
  readonly height: number;
  readonly width: number;
  constructor(args: LayerArgs & { height: number; width: number }) {
    super(args);
    this.height = intArg('CenterCrop: height', args.height, 1, 2 ** 16);
    this.width = intArg('CenterCrop: width', args.width, 1, 2 ** 16);
  }
  getClassName() { return 'CenterCrop'; }
  computeOutputShape(s: Shape): Shape { return [...s.slice(0, -3), this.height, this.width, s[s.length - 1]]; }
  protected call(x: Tensor): Tensor {
    const [h, w] = x.shape.slice(-3, -1);
    if (h < this.height || w < this.width) throw new Error(`CenterCrop: a ${this.height}x${this.width} crop does not fit images of ${h}x${w}`);
    const begin = x.shape.map((_, i) => (i === x.rank - 3 ? Math.floor((h - this.height) / 2) : i === x.rank - 2 ? Math.floor((w - this.width) / 2) : 0));
    return ops.slice(x, begin, x.shape.map((d, i) => (i === x.rank - 3 ? this.height : i === x.rank - 2 ? this.width : d)));
  }
  getConfig() { return { ...super.getConfig(), height: this.height, width: this.width }; }
}

/** Images resized to height x width (bilinear or nearest), as TF.js's Resizing layer (corners aligned). */
export class Resizing extends Layer {
  readonly height: number;
  readonly width: number;
  readonly interpolation: 'bilinear' | 'nearest';
  constructor(args: LayerArgs & { height: number; width: number; interpolation?: 'bilinear' | 'nearest'; cropToAspectRatio?: boolean }) {
    super(args);
    this.height = intArg('Resizing: height', args.height, 1, 2 ** 16);
    this.width = intArg('Resizing: width', args.width, 1, 2 ** 16);
    this.interpolation = choiceArg('Resizing', 'interpolation', args.interpolation ?? 'bilinear', ['bilinear', 'nearest'] as const);
    if (args.cropToAspectRatio) throw new Error('Resizing: cropToAspectRatio is not supported');
  }
  getClassName() { return 'Resizing'; }
  computeOutputShape(s: Shape): Shape { return [...s.slice(0, -3), this.height, this.width, s[s.length - 1]]; }
  protected call(x: Tensor): Tensor {
    const size: [number, number] = [this.height, this.width];
    // corners aligned, as TF.js's Resizing layer resizes
    return this.interpolation === 'bilinear' ? image.resizeBilinear(x, size, true) : image.resizeNearestNeighbor(x, size, true);
  }
  getConfig() { return { ...super.getConfig(), height: this.height, width: this.width, interpolation: this.interpolation }; }
}

/** Integer category inputs as vectors of numTokens: 'oneHot', 'multiHot' (presence) or 'count'. */
export class CategoryEncoding extends Layer {
  readonly numTokens: number;
  readonly outputMode: 'oneHot' | 'multiHot' | 'count';
  constructor(args: LayerArgs & { numTokens: number; outputMode?: 'oneHot' | 'multiHot' | 'count' }) {
    super(args);
    this.numTokens = intArg('CategoryEncoding: numTokens', args.numTokens, 1, 2 ** 20);
    this.outputMode = choiceArg('CategoryEncoding', 'outputMode', args.outputMode ?? 'multiHot', ['oneHot', 'multiHot', 'count'] as const);
  }
  getClassName() { return 'CategoryEncoding'; }
  computeOutputShape(s: Shape): Shape { return this.outputMode === 'oneHot' && s.length === 1 ? [s[0], this.numTokens] : [...s.slice(0, s.length === 1 ? 1 : -1), this.numTokens]; }
  protected call(x: Tensor): Tensor {
    const hot = ops.oneHot(ops.cast(x, 'int32'), this.numTokens, 1, 0, 'float32');
    if (this.outputMode === 'oneHot' || x.rank === 1) return hot;
    const counts = ops.sum(hot, x.rank - 1);
    return this.outputMode === 'count' ? counts : ops.cast(ops.greater(counts, 0), 'float32');
  }
  getConfig() { return { ...super.getConfig(), numTokens: this.numTokens, outputMode: this.outputMode }; }
}
