// ConvLSTM2D (TF.js's convLstm2d and convLstm2dCell): an LSTM whose input and recurrent
// transforms are 2-D convolutions, over sequences of images [batch, steps, height, width,
// channels]. The input convolution of every step is one conv2d over all steps; the recurrent one
// (stride 1, 'same') runs per step.
import * as ops from '../ops.js';
import { paddingArg, rateArg, sizeArg, spatialArg } from '../args.js';
import { convOut } from './conv.js';
import type { Tensor, Variable } from '../tensor.js';
import { getActivation } from '../activations.js';
import type { Initializer } from '../initializers.js';
import type { LayerArgs, Shape } from './layer.js';
import { CellRNN, lstmUpdate, RNNCell, startForgetGateAtOne, type DropoutMasks, type RNNArgs } from './recurrent.js';

type Pair = number | [number, number];

export interface ConvLSTM2DCellArgs extends LayerArgs {
  filters: number;
  kernelSize: Pair;
  strides?: Pair;
  padding?: 'same' | 'valid';
  dataFormat?: 'channelsLast';
  dilationRate?: Pair;
  activation?: string;
  recurrentActivation?: string;
  useBias?: boolean;
  unitForgetBias?: boolean;
  kernelInitializer?: string | Initializer;
  recurrentInitializer?: string | Initializer;
  biasInitializer?: string | Initializer;
  dropout?: number;
  recurrentDropout?: number;
}

const pairArg = (cls: string, what: string, v: Pair) => spatialArg(cls, what, v, 2) as [number, number];

export class ConvLSTM2DCell extends RNNCell {
  readonly stepRank = 4;
  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly padding: 'same' | 'valid';
  readonly dilationRate: [number, number];
  readonly activation: string;
  readonly recurrentActivation: string;
  readonly useBias: boolean;
  readonly unitForgetBias: boolean;
  readonly dropout: number;
  readonly recurrentDropout: number;
  private kernel?: Variable;
  private recurrentKernel?: Variable;
  private bias?: Variable;

  constructor(private readonly args: ConvLSTM2DCellArgs) {
    super(args);
    const cls = this.getClassName();
    if (args.dataFormat !== undefined && args.dataFormat !== 'channelsLast') throw new Error(`${cls}: only dataFormat 'channelsLast' is supported`);
    this.filters = sizeArg(cls, 'filters', args.filters);
    this.kernelSize = pairArg(cls, 'kernelSize', args.kernelSize);
    this.strides = pairArg(cls, 'strides', args.strides ?? 1);
    this.dilationRate = pairArg(cls, 'dilationRate', args.dilationRate ?? 1);
    this.padding = paddingArg(cls, args.padding ?? 'valid');
    this.activation = args.activation ?? 'tanh';
    this.recurrentActivation = args.recurrentActivation ?? 'hardSigmoid';
    getActivation(this.activation);
    getActivation(this.recurrentActivation);
    this.useBias = args.useBias ?? true;
    this.unitForgetBias = args.unitForgetBias ?? true;
    this.dropout = rateArg(cls, 'dropout', args.dropout ?? 0);
    this.recurrentDropout = rateArg(cls, 'recurrentDropout', args.recurrentDropout ?? 0);
  }

  getClassName() { return 'ConvLSTM2DCell'; }
  get stateSize() { return [this.filters, this.filters]; }
  get outputSize() { return this.filters; }

  computeOutputShape(s: Shape): Shape {
    const out = (d: number | null, i: 0 | 1) => convOut(d, this.kernelSize[i], this.strides[i], this.dilationRate[i], this.padding);
    return [s[0], out(s[1], 0), out(s[2], 1), this.filters];
  }

  build(s: Shape): void {
    const g = 4 * this.filters;
    this.kernel = this.newWeight('kernel', [...this.kernelSize, s[3] as number, g], this.args.kernelInitializer, 'glorotNormal');
    this.recurrentKernel = this.newWeight('recurrent_kernel', [...this.kernelSize, this.filters, g], this.args.recurrentInitializer, 'orthogonal');
    if (this.useBias) {
      this.bias = this.newWeight('bias', [g], this.args.biasInitializer, 'zeros');
      if (this.unitForgetBias && this.args.biasInitializer === undefined) startForgetGateAtOne(this.bias, this.filters);
    }
  }

  initialState(x0: number[]): Tensor[] {
    const shape = this.computeOutputShape(x0) as number[];
    return [ops.zeros(shape), ops.zeros(shape)];
  }

  dropoutMasks(x0: number[], training: boolean): DropoutMasks {
    const mask = (shape: number[], rate: number) => (training && rate > 0 ? ops.dropout(ops.ones(shape), rate) : null);
    return { input: mask(x0, this.dropout), recurrent: mask(this.computeOutputShape(x0) as number[], this.recurrentDropout) };
  }

  project(x: Tensor): Tensor {
    const y = ops.conv2d(x, this.kernel!, this.strides, this.padding, 'NHWC', this.dilationRate);
    return this.bias ? ops.add(y, this.bias) : y;
  }

  stepProjected(xw: Tensor, [h, c]: Tensor[], masks: DropoutMasks): Tensor[] {
    const hh = masks.recurrent ? ops.mul(h, masks.recurrent) : h;
    const z = ops.add(xw, ops.conv2d(hh, this.recurrentKernel!, 1, 'same'));
    return lstmUpdate(z, c, 3, this.activation, this.recurrentActivation);
  }

  fresh(name?: string): RNNCell { return new ConvLSTM2DCell({ ...this.args, name }); }

  getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(), filters: this.filters, kernelSize: this.kernelSize, strides: this.strides, padding: this.padding,
      dilationRate: this.dilationRate, activation: this.activation, recurrentActivation: this.recurrentActivation,
      useBias: this.useBias, unitForgetBias: this.unitForgetBias, dropout: this.dropout, recurrentDropout: this.recurrentDropout,
    };
  }
}

export class ConvLSTM2D extends CellRNN<ConvLSTM2DCellArgs> {
  constructor(args: ConvLSTM2DCellArgs & RNNArgs) { super(args, (a) => new ConvLSTM2DCell(a)); }
  getClassName() { return 'ConvLSTM2D'; }
}
