// Convolution and pooling layers (channels-last, as TF.js's default).
import * as ops from '../ops.js';
import { paddingArg, sizeArg } from '../args.js';
import type { Tensor, Variable } from '../tensor.js';
import { getActivation } from '../activations.js';
import type { Initializer } from '../initializers.js';
import { checkRank, Layer, type LayerArgs, type Shape } from './layer.js';

type Pair = number | [number, number];
const pair = (v: Pair): [number, number] => (Array.isArray(v) ? v : [v, v]);

function convOut(size: number | null, k: number, s: number, d: number, padding: 'same' | 'valid'): number | null {
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
    this.kernel = this.addWeight('kernel', [...this.kernelSize, s[3] as number, this.filters], this.args.kernelInitializer, 'glorotUniform');
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], this.args.biasInitializer, 'zeros');
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
    this.kernel = this.addWeight('depthwise_kernel', [...this.kernelSize, c, this.depthMultiplier], this.args.kernelInitializer, 'glorotUniform');
    if (this.useBias) this.bias = this.addWeight('bias', [c * this.depthMultiplier], this.args.biasInitializer, 'zeros');
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
