// 3-D convolution and pooling layers over [batch, depth, height, width, channels] (channels last).
import { avgPool3d, conv3d, conv3dTranspose, maxPool3d } from '../volumetric.js';
import { paddingArg, sizeArg, spatialArg } from '../args.js';
import { convOut } from './conv.js';
import type { Tensor, Variable } from '../tensor.js';
import { getActivation } from '../activations.js';
import type { Initializer } from '../initializers.js';
import { checkRank, Layer, type LayerArgs, type Shape } from './layer.js';

type Triple = number | [number, number, number];

const triple = (cls: string, what: string, v: Triple) => spatialArg(cls, what, v, 3) as [number, number, number];

function channelsLast(cls: string, dataFormat: unknown): void {
  if (dataFormat !== undefined && dataFormat !== 'channelsLast') throw new Error(`${cls}: only dataFormat 'channelsLast' is supported`);
}

export interface Conv3DArgs extends LayerArgs {
  filters: number;
  kernelSize: Triple;
  strides?: Triple;
  padding?: 'same' | 'valid';
  dilationRate?: Triple;
  activation?: string;
  useBias?: boolean;
  kernelInitializer?: string | Initializer;
  biasInitializer?: string | Initializer;
  dataFormat?: 'channelsLast';
}

abstract class Conv3DBase extends Layer {
  readonly filters: number;
  readonly kernelSize: [number, number, number];
  readonly strides: [number, number, number];
  readonly padding: 'same' | 'valid';
  readonly dilationRate: [number, number, number];
  readonly activation: string;
  readonly useBias: boolean;
  protected kernel?: Variable;
  protected bias?: Variable;

  constructor(protected readonly args: Conv3DArgs) {
    super(args);
    const cls = this.getClassName();
    channelsLast(cls, args.dataFormat);
    this.filters = sizeArg(cls, 'filters', args.filters);
    this.kernelSize = triple(cls, 'kernelSize', args.kernelSize);
    this.strides = triple(cls, 'strides', args.strides ?? 1);
    this.dilationRate = triple(cls, 'dilationRate', args.dilationRate ?? 1);
    this.padding = paddingArg(cls, args.padding ?? 'valid');
    this.activation = args.activation ?? 'linear';
    getActivation(this.activation);
    this.useBias = args.useBias ?? true;
  }

  /** The kernel's shape for `inChannels` input channels. */
  protected abstract kernelShape(inChannels: number): number[];
  protected abstract convolve(x: Tensor): Tensor;

  build(s: Shape): void {
    checkRank(this, s, 5);
    this.kernel = this.newWeight('kernel', this.kernelShape(s[4] as number), this.args.kernelInitializer, 'glorotUniform');
    if (this.useBias) this.bias = this.newWeight('bias', [this.filters], this.args.biasInitializer, 'zeros');
  }
  protected call(x: Tensor): Tensor {
    let y = this.convolve(x);
    if (this.bias) y = y.add(this.bias);
    return getActivation(this.activation)(y);
  }
  getConfig() {
    return {
      ...super.getConfig(), filters: this.filters, kernelSize: this.kernelSize, strides: this.strides, padding: this.padding,
      dilationRate: this.dilationRate, activation: this.activation, useBias: this.useBias,
    };
  }
}

/** Conv3D: kernel [kd, kh, kw, inChannels, filters]. */
export class Conv3D extends Conv3DBase {
  getClassName() { return 'Conv3D'; }
  protected kernelShape(c: number) { return [...this.kernelSize, c, this.filters]; }
  computeOutputShape(s: Shape): Shape {
    checkRank(this, s, 5);
    return [s[0], ...[1, 2, 3].map((i) => convOut(s[i], this.kernelSize[i - 1], this.strides[i - 1], this.dilationRate[i - 1], this.padding)), this.filters];
  }
  protected convolve(x: Tensor) { return conv3d(x, this.kernel!, this.strides, this.padding, 'NDHWC', this.dilationRate); }
}

/** Conv3DTranspose: kernel [kd, kh, kw, filters, inChannels]; output size in * stride ('same') or (in - 1) * stride + k ('valid'). */
export class Conv3DTranspose extends Conv3DBase {
  constructor(args: Conv3DArgs) {
    super(args);
    if (this.dilationRate.some((d) => d !== 1)) throw new Error('Conv3DTranspose: dilationRate other than 1 is not supported');
  }
  getClassName() { return 'Conv3DTranspose'; }
  protected kernelShape(c: number) { return [...this.kernelSize, this.filters, c]; }
  computeOutputShape(s: Shape): Shape {
    checkRank(this, s, 5);
    const out = (d: number | null, k: number, st: number) => (d === null ? null : this.padding === 'same' ? d * st : (d - 1) * st + k);
    return [s[0], ...[1, 2, 3].map((i) => out(s[i], this.kernelSize[i - 1], this.strides[i - 1])), this.filters];
  }
  protected convolve(x: Tensor) {
    const shape = this.computeOutputShape(x.shape) as number[];
    return conv3dTranspose(x, this.kernel!, [x.shape[0], ...shape.slice(1)], this.strides, this.padding);
  }
}

export interface Pool3DArgs extends LayerArgs {
  poolSize?: Triple;
  strides?: Triple;
  padding?: 'same' | 'valid';
  dataFormat?: 'channelsLast';
}

abstract class Pool3D extends Layer {
  readonly poolSize: [number, number, number];
  readonly strides: [number, number, number];
  readonly padding: 'same' | 'valid';
  constructor(args: Pool3DArgs = {}) {
    super(args);
    const cls = this.getClassName();
    channelsLast(cls, args.dataFormat);
    this.poolSize = triple(cls, 'poolSize', args.poolSize ?? 2);
    this.strides = triple(cls, 'strides', args.strides ?? this.poolSize);
    this.padding = paddingArg(cls, args.padding ?? 'valid');
  }
  computeOutputShape(s: Shape): Shape {
    checkRank(this, s, 5);
    return [s[0], ...[1, 2, 3].map((i) => convOut(s[i], this.poolSize[i - 1], this.strides[i - 1], 1, this.padding)), s[4]];
  }
  getConfig() { return { ...super.getConfig(), poolSize: this.poolSize, strides: this.strides, padding: this.padding }; }
}

export class MaxPooling3D extends Pool3D {
  getClassName() { return 'MaxPooling3D'; }
  protected call(x: Tensor): Tensor { return maxPool3d(x, this.poolSize, this.strides, this.padding); }
}

export class AveragePooling3D extends Pool3D {
  getClassName() { return 'AveragePooling3D'; }
  protected call(x: Tensor): Tensor { return avgPool3d(x, this.poolSize, this.strides, this.padding); }
}
