// Convolution and pooling layers (channels-last, as TF.js's default).
import * as ops from '../ops.js';
import { paddingArg, sizeArg } from '../args.js';
import type { Tensor, Variable } from '../tensor.js';
import { getActivation } from '../activations.js';
import type { Initializer } from '../initializers.js';
import { checkRank, Layer, type LayerArgs, type Shape } from './layer.js';

type Pair = number | [number, number];
const pair = (v: Pair): [number, number] => (Array.isArray(v) ? v : [v, v]);

/** One spatial size of a convolution or pool's output (null stays unknown). */
export function convOut(size: number | null, k: number, s: number, d: number, padding: 'same' | 'valid'): number | null {
  if (size === null) return null;
  if (padding === 'same') return Math.ceil(size / s);
  return Math.floor((size - ((k - 1) * d + 1)) / s) + 1;
}

export interface ConvArgs extends LayerArgs {
  kernelSize: Pair;
  strides?: Pair;
  padding?: 'same' | 'valid';
  dilationRate?: Pair;
  activation?: string;
  useBias?: boolean;
  kernelInitializer?: string | Initializer;
  biasInitializer?: string | Initializer;
  dataFormat?: 'channelsLast';
}

abstract class ConvBase extends Layer {
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly padding: 'same' | 'valid';
  readonly dilationRate: [number, number];
  readonly activation: string;
  readonly useBias: boolean;
  protected kernel?: Variable;
  protected bias?: Variable;
  protected readonly args: ConvArgs;

  constructor(args: ConvArgs) {
    super(args);
    if (args.dataFormat && args.dataFormat !== 'channelsLast') throw new Error(`${this.getClassName()}: only dataFormat 'channelsLast' is supported`);
    this.kernelSize = pair(args.kernelSize);
    this.strides = pair(args.strides ?? 1);
    this.padding = paddingArg(this.getClassName(), args.padding ?? 'valid');
    this.dilationRate = pair(args.dilationRate ?? 1);
    this.activation = args.activation ?? 'linear';
    getActivation(this.activation);
    this.useBias = args.useBias ?? true;
    this.args = args;
  }

  protected abstract outChannels(inChannels: number): number;

  computeOutputShape(s: Shape): Shape {
    checkRank(this, s, 4);
    const [kh, kw] = this.kernelSize;
    return [
      s[0],
      convOut(s[1], kh, this.strides[0], this.dilationRate[0], this.padding),
      convOut(s[2], kw, this.strides[1], this.dilationRate[1], this.padding),
      this.outChannels(s[3] as number),
    ];
  }

  getConfig() {
    return {
      ...super.getConfig(), kernelSize: this.kernelSize, strides: this.strides, padding: this.padding,
      dilationRate: this.dilationRate, activation: this.activation, useBias: this.useBias,
    };
  }
}

export class Conv2D extends ConvBase {
  readonly filters: number;
  constructor(args: ConvArgs & { filters: number }) {
    super(args);
    sizeArg('Conv2D', 'filters', args.filters);
    this.filters = args.filters;
  }
  getClassName() { return 'Conv2D'; }
  protected outChannels() { return this.filters; }
  build(s: Shape): void {
    checkRank(this, s, 4);
    this.kernel = this.newWeight('kernel', [...this.kernelSize, s[3] as number, this.filters], this.args.kernelInitializer, 'glorotUniform');
    if (this.useBias) this.bias = this.newWeight('bias', [this.filters], this.args.biasInitializer, 'zeros');
  }
  protected call(x: Tensor): Tensor {
    let y = ops.conv2d(x, this.kernel!, this.strides, this.padding, 'NHWC', this.dilationRate);
    if (this.bias) y = y.add(this.bias);
    return getActivation(this.activation)(y);
  }
  getConfig() { return { ...super.getConfig(), filters: this.filters }; }
}

export class DepthwiseConv2D extends ConvBase {
  readonly depthMultiplier: number;
  constructor(args: ConvArgs & { depthMultiplier?: number; depthwiseInitializer?: string | Initializer }) {
    super({ ...args, kernelInitializer: args.depthwiseInitializer ?? args.kernelInitializer });
    this.depthMultiplier = args.depthMultiplier ?? 1;
  }
  getClassName() { return 'DepthwiseConv2D'; }
  protected outChannels(c: number) { return c * this.depthMultiplier; }
  build(s: Shape): void {
    checkRank(this, s, 4);
    const c = s[3] as number;
    this.kernel = this.newWeight('depthwise_kernel', [...this.kernelSize, c, this.depthMultiplier], this.args.kernelInitializer, 'glorotUniform');
    if (this.useBias) this.bias = this.newWeight('bias', [c * this.depthMultiplier], this.args.biasInitializer, 'zeros');
  }
  protected call(x: Tensor): Tensor {
    let y = ops.depthwiseConv2d(x, this.kernel!, this.strides, this.padding, 'NHWC', this.dilationRate);
    if (this.bias) y = y.add(this.bias);
    return getActivation(this.activation)(y);
  }
}

export interface PoolArgs extends LayerArgs {
  poolSize?: Pair;
  strides?: Pair;
  padding?: 'same' | 'valid';
}

abstract class Pool2D extends Layer {
  readonly poolSize: [number, number];
  readonly strides: [number, number];
  readonly padding: 'same' | 'valid';
  constructor(args: PoolArgs = {}) {
    super(args);
    this.poolSize = pair(args.poolSize ?? 2);
    this.strides = pair(args.strides ?? this.poolSize);
    this.padding = paddingArg(this.getClassName(), args.padding ?? 'valid');
  }
  computeOutputShape(s: Shape): Shape {
    checkRank(this, s, 4);
    return [s[0], convOut(s[1], this.poolSize[0], this.strides[0], 1, this.padding), convOut(s[2], this.poolSize[1], this.strides[1], 1, this.padding), s[3]];
  }
  getConfig() { return { ...super.getConfig(), poolSize: this.poolSize, strides: this.strides, padding: this.padding }; }
}

export class MaxPooling2D extends Pool2D {
  getClassName() { return 'MaxPooling2D'; }
  protected call(x: Tensor): Tensor { return ops.maxPool(x, this.poolSize, this.strides, this.padding); }
}

export class AveragePooling2D extends Pool2D {
  getClassName() { return 'AveragePooling2D'; }
  protected call(x: Tensor): Tensor { return ops.avgPool(x, this.poolSize, this.strides, this.padding); }
}

export class GlobalAveragePooling2D extends Layer {
  getClassName() { return 'GlobalAveragePooling2D'; }
  computeOutputShape(s: Shape): Shape { checkRank(this, s, 4); return [s[0], s[3]]; }
  protected call(x: Tensor): Tensor { return ops.mean(x, [1, 2]); }
}

export class GlobalMaxPooling2D extends Layer {
  getClassName() { return 'GlobalMaxPooling2D'; }
  computeOutputShape(s: Shape): Shape { checkRank(this, s, 4); return [s[0], s[3]]; }
  protected call(x: Tensor): Tensor { return ops.max(x, [1, 2]); }
}

/** Conv1D over [batch, steps, channels]: kernel [width, inChannels, filters]. */
export class Conv1D extends Layer {
  readonly filters: number;
  readonly kernelSize: number;
  readonly strides: number;
  readonly padding: 'same' | 'valid';
  readonly dilationRate: number;
  readonly activation: string;
  readonly useBias: boolean;
  private kernel?: Variable;
  private bias?: Variable;
  private readonly args: ConvArgs;
  constructor(args: Omit<ConvArgs, 'kernelSize'> & { filters: number; kernelSize: number | [number] }) {
    super(args);
    const one = (v: Pair | [number] | undefined, fallback: number) => (Array.isArray(v) ? v[0] : v ?? fallback);
    this.filters = sizeArg('Conv1D', 'filters', args.filters);
    this.kernelSize = sizeArg('Conv1D', 'kernelSize', one(args.kernelSize as number | [number], NaN));
    this.strides = sizeArg('Conv1D', 'strides', one(args.strides, 1));
    this.dilationRate = sizeArg('Conv1D', 'dilationRate', one(args.dilationRate, 1));
    this.padding = paddingArg('Conv1D', args.padding ?? 'valid');
    this.activation = args.activation ?? 'linear';
    getActivation(this.activation);
    this.useBias = args.useBias ?? true;
    this.args = args as ConvArgs;
  }
  getClassName() { return 'Conv1D'; }
  computeOutputShape(s: Shape): Shape { checkRank(this, s, 3); return [s[0], convOut(s[1], this.kernelSize, this.strides, this.dilationRate, this.padding), this.filters]; }
  build(s: Shape): void {
    checkRank(this, s, 3);
    this.kernel = this.newWeight('kernel', [this.kernelSize, s[2] as number, this.filters], this.args.kernelInitializer, 'glorotUniform');
    if (this.useBias) this.bias = this.newWeight('bias', [this.filters], this.args.biasInitializer, 'zeros');
  }
  protected call(x: Tensor): Tensor {
    let y = ops.conv1d(x, this.kernel!, this.strides, this.padding, 'NWC', this.dilationRate);
    if (this.bias) y = y.add(this.bias);
    return getActivation(this.activation)(y);
  }
  getConfig() {
    return { ...super.getConfig(), filters: this.filters, kernelSize: [this.kernelSize], strides: [this.strides], padding: this.padding, dilationRate: [this.dilationRate], activation: this.activation, useBias: this.useBias };
  }
}

/** Conv2DTranspose: kernel [kh, kw, filters, inChannels], output size in * stride ('same') or (in - 1) * stride + k ('valid'). */
export class Conv2DTranspose extends ConvBase {
  readonly filters: number;
  constructor(args: ConvArgs & { filters: number }) {
    super(args);
    this.filters = sizeArg('Conv2DTranspose', 'filters', args.filters);
    if (this.dilationRate.some((d) => d !== 1)) throw new Error('Conv2DTranspose: dilationRate other than 1 is not supported');
  }
  getClassName() { return 'Conv2DTranspose'; }
  protected outChannels() { return this.filters; }
  computeOutputShape(s: Shape): Shape {
    checkRank(this, s, 4);
    const out = (d: number | null, k: number, st: number) => (d === null ? null : this.padding === 'same' ? d * st : (d - 1) * st + k);
    return [s[0], out(s[1], this.kernelSize[0], this.strides[0]), out(s[2], this.kernelSize[1], this.strides[1]), this.filters];
  }
  build(s: Shape): void {
    checkRank(this, s, 4);
    this.kernel = this.newWeight('kernel', [...this.kernelSize, this.filters, s[3] as number], this.args.kernelInitializer, 'glorotUniform');
    if (this.useBias) this.bias = this.newWeight('bias', [this.filters], this.args.biasInitializer, 'zeros');
  }
  protected call(x: Tensor): Tensor {
    const shape = this.computeOutputShape(x.shape) as number[];
    let y = ops.conv2dTranspose(x, this.kernel!, [x.shape[0], ...shape.slice(1)], this.strides, this.padding);
    if (this.bias) y = y.add(this.bias);
    return getActivation(this.activation)(y);
  }
  getConfig() { return { ...super.getConfig(), filters: this.filters }; }
}

/** SeparableConv2D: a depthwise kernel [kh, kw, in, depthMultiplier], then a pointwise [1, 1, in * dm, filters]. */
export class SeparableConv2D extends ConvBase {
  readonly filters: number;
  readonly depthMultiplier: number;
  private pointwise?: Variable;
  private readonly sepArgs: { depthwiseInitializer?: string | Initializer; pointwiseInitializer?: string | Initializer };
  constructor(args: ConvArgs & { filters: number; depthMultiplier?: number; depthwiseInitializer?: string | Initializer; pointwiseInitializer?: string | Initializer }) {
    super(args);
    this.filters = sizeArg('SeparableConv2D', 'filters', args.filters);
    this.depthMultiplier = sizeArg('SeparableConv2D', 'depthMultiplier', args.depthMultiplier ?? 1);
    this.sepArgs = args;
  }
  getClassName() { return 'SeparableConv2D'; }
  protected outChannels() { return this.filters; }
  build(s: Shape): void {
    checkRank(this, s, 4);
    const c = s[3] as number;
    this.kernel = this.newWeight('depthwise_kernel', [...this.kernelSize, c, this.depthMultiplier], this.sepArgs.depthwiseInitializer, 'glorotUniform');
    this.pointwise = this.newWeight('pointwise_kernel', [1, 1, c * this.depthMultiplier, this.filters], this.sepArgs.pointwiseInitializer, 'glorotUniform');
    if (this.useBias) this.bias = this.newWeight('bias', [this.filters], this.args.biasInitializer, 'zeros');
  }
  protected call(x: Tensor): Tensor {
    let y = ops.separableConv2d(x, this.kernel!, this.pointwise!, this.strides, this.padding, this.dilationRate);
    if (this.bias) y = y.add(this.bias);
    return getActivation(this.activation)(y);
  }
  getConfig() { return { ...super.getConfig(), filters: this.filters, depthMultiplier: this.depthMultiplier }; }
}
