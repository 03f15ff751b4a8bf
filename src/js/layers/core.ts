// Core layers: dense, flatten, reshape, dropout, activation.
import * as ops from '../ops.js';
import { rateArg, sizeArg } from '../args.js';
import type { Tensor, Variable } from '../tensor.js';
import { getActivation } from '../activations.js';
import { getInitializer, type Initializer } from '../initializers.js';
import { tidy } from '../engine.js';
import { blockFor, quantize, quantizedMatMul, quantizeOptions, QuantizedTensor, type QuantizeOptions } from '../quantize.js';
import { Layer, loadingWeights, type LayerArgs, type Shape } from './layer.js';

export interface DenseArgs extends LayerArgs {
  units: number;
  activation?: string;
  useBias?: boolean;
  kernelInitializer?: string | Initializer;
  biasInitializer?: string | Initializer;
  /**
   * Holds the kernel quantized (webtensor): 4- or 8-bit codes in blocks along the input axis,
   * frozen (the bias stays trainable). Set by tf.quantizeLayers and kept in saved configs.
   */
  kernelQuantization?: QuantizeOptions;
}

export class Dense extends Layer {
  readonly supportsMasking = true;
  readonly units: number;
  readonly activation: string;
  readonly useBias: boolean;
  private kernel?: Variable;
  private bias?: Variable;
  /** The kernel's quantized form, in place of `kernel`: codes, scales, zero points (asymmetric). */
  private quantized?: { options: Required<QuantizeOptions>; inDim: number; codes: Variable; scales: Variable; zeroPoints?: Variable };
  /** How the kernel is (or is to be built) quantized, if it is. */
  private kernelQuantization?: Required<QuantizeOptions>;
  private readonly args: DenseArgs;

  constructor(args: DenseArgs) {
    super(args);
    sizeArg('Dense', 'units', args.units);
    this.units = args.units;
    this.activation = args.activation ?? 'linear';
    getActivation(this.activation);
    this.useBias = args.useBias ?? true;
    if (args.kernelQuantization !== undefined && args.kernelQuantization !== null) this.kernelQuantization = quantizeOptions('Dense', args.kernelQuantization);
    this.args = args;
  }

  getClassName() { return 'Dense'; }

  build(inputShape: Shape): void {
    const inDim = inputShape[inputShape.length - 1];
    if (inDim === null || inDim === undefined) throw new Error(`${this.name}: the last input dimension must be known`);
    if (this.kernelQuantization) {
      this.kernelQuantization = { ...this.kernelQuantization, blockSize: blockFor(this.kernelQuantization, inDim) };
      this.quantizedWeights(inDim, this.kernelQuantization);
      // Loaded weights overwrite these; built from scratch, the kernel is initialized, then quantized.
      if (!loadingWeights()) {
        tidy(() => {
          const q = quantize(getInitializer(this.args.kernelInitializer, 'glorotUniform')([inDim, this.units]), this.quantized!.options);
          this.assignQuantized(q);
          q.dispose();
        });
      }
    } else {
      this.kernel = this.newWeight('kernel', [inDim, this.units], this.args.kernelInitializer, 'glorotUniform');
    }
    if (this.useBias) this.bias = this.newWeight('bias', [this.units], this.args.biasInitializer, 'zeros');
  }

  /** Creates the quantized kernel's weights (zeros): frozen, after any trainable ones. */
  private quantizedWeights(inDim: number, options: Required<QuantizeOptions>): void {
    const blocks = Math.ceil(inDim / options.blockSize);
    const words = (options.blockSize * options.bits) / 32;
    this.quantized = {
      options,
      inDim,
      codes: this.newWeight('kernel_codes', [this.units, blocks, words], 'zeros', 'zeros', false, 'int32'),
      scales: this.newWeight('kernel_scales', [this.units, blocks], 'zeros', 'zeros', false),
      zeroPoints: options.symmetric ? undefined : this.newWeight('kernel_zero_points', [this.units, blocks], 'zeros', 'zeros', false),
    };
  }

  private assignQuantized(q: QuantizedTensor): void {
    const w = this.quantized!;
    w.codes.assign(q.codes);
    w.scales.assign(q.scales);
    if (w.zeroPoints && q.zeroPoints) w.zeroPoints.assign(q.zeroPoints);
  }

  /** @internal Whether the kernel is held quantized. */
  get kernelQuantized(): boolean {
    return this.quantized !== undefined;
  }

  /**
   * @internal Replaces the float32 kernel by its quantized form (tf.quantizeLayers). Returns the
   * bytes the kernel took before and after.
   */
  quantizeKernel(options: QuantizeOptions): { before: number; after: number } {
    const opts = quantizeOptions('quantizeLayers', options);
    if (this.quantized) throw new Error(`quantizeLayers: ${this.name} is quantized already`);
    if (!this.kernel) throw new Error(`quantizeLayers: ${this.name} is not built yet`);
    const kernel = this.kernel;
    const q = quantize(kernel, opts);
    // The block size as used (a whole column for 16 bits by default), for the saved config.
    opts.blockSize = q.blockSize;
    this.quantizedWeights(kernel.shape[0], opts);
    this.assignQuantized(q);
    const sizes = { before: 4 * kernel.size, after: q.sizeBytes };
    q.dispose();
    this.kernel = undefined;
    this.dropWeight(kernel);
    this.kernelQuantization = opts;
    return sizes;
  }

  computeOutputShape(inputShape: Shape): Shape {
    return [...inputShape.slice(0, -1), this.units];
  }

  protected call(x: Tensor): Tensor {
    const inDim = x.shape[x.rank - 1];
    const flat = x.rank === 2 ? x : x.reshape([-1, inDim]);
    const q = this.quantized;
    let y = q
      ? quantizedMatMul(flat, new QuantizedTensor([q.inDim, this.units], q.options.bits, q.options.blockSize, q.codes, q.scales, q.zeroPoints ?? null))
      : ops.matMul(flat, this.kernel!);
    if (this.bias) y = y.add(this.bias);
    if (x.rank !== 2) y = y.reshape([...x.shape.slice(0, -1), this.units]);
    return getActivation(this.activation)(y);
  }

  getConfig() {
    const c: Record<string, unknown> = { ...super.getConfig(), units: this.units, activation: this.activation, useBias: this.useBias };
    if (this.kernelQuantization) c.kernelQuantization = { ...this.kernelQuantization };
    return c;
  }
}

export class Flatten extends Layer {
  getClassName() { return 'Flatten'; }
  computeOutputShape(s: Shape): Shape {
    const rest = s.slice(1);
    return [s[0], rest.some((d) => d === null) ? null : (rest as number[]).reduce((a, b) => a * b, 1)];
  }
  protected call(x: Tensor): Tensor {
    return x.reshape([x.shape[0], -1]);
  }
}

export class Reshape extends Layer {
  readonly targetShape: number[];
  constructor(args: LayerArgs & { targetShape: number[] }) {
    super(args);
    this.targetShape = args.targetShape;
  }
  getClassName() { return 'Reshape'; }
  computeOutputShape(s: Shape): Shape {
    const known = s.slice(1).every((d) => d !== null);
    if (!known || !this.targetShape.includes(-1)) return [s[0], ...this.targetShape];
    const total = (s.slice(1) as number[]).reduce((a, b) => a * b, 1);
    const rest = this.targetShape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    return [s[0], ...this.targetShape.map((d) => (d === -1 ? total / rest : d))];
  }
  protected call(x: Tensor): Tensor {
    return x.reshape([x.shape[0], ...this.targetShape]);
  }
  getConfig() { return { ...super.getConfig(), targetShape: this.targetShape }; }
}

export class Dropout extends Layer {
  readonly supportsMasking = true;
  readonly rate: number;
  readonly seed?: number;
  constructor(args: LayerArgs & { rate: number; seed?: number }) {
    super(args);
    this.rate = rateArg('Dropout', 'rate', args.rate);
    this.seed = args.seed;
  }
  getClassName() { return 'Dropout'; }
  computeOutputShape(s: Shape): Shape { return s; }
  protected call(x: Tensor, training: boolean): Tensor {
    return training && this.rate > 0 ? ops.dropout(x, this.rate, undefined, this.seed) : x.clone();
  }
  getConfig() { return { ...super.getConfig(), rate: this.rate }; }
}

export class Activation extends Layer {
  readonly supportsMasking = true;
  readonly activation: string;
  constructor(args: LayerArgs & { activation: string }) {
    super(args);
    this.activation = args.activation;
    getActivation(this.activation);
  }
  getClassName() { return 'Activation'; }
  computeOutputShape(s: Shape): Shape { return s; }
  protected call(x: Tensor): Tensor { return getActivation(this.activation)(x); }
  getConfig() { return { ...super.getConfig(), activation: this.activation }; }
}

/**
 * Masking: steps whose features all equal maskValue are padding. They are zeroed here, and the
 * mask ([batch, steps], true for real steps) travels to the layers after, where the RNN layers
 * skip them (carrying their state over them).
 */
export class Masking extends Layer {
  readonly supportsMasking = true;
  readonly maskValue: number;
  constructor(args: LayerArgs & { maskValue?: number } = {}) {
    super(args);
    if (args.maskValue !== undefined && typeof args.maskValue !== 'number') throw new Error('Masking: maskValue must be a number');
    this.maskValue = args.maskValue ?? 0;
  }
  getClassName() { return 'Masking'; }
  computeOutputShape(s: Shape): Shape { return s; }
  computeMask(x: Tensor): Tensor { return ops.any(ops.notEqual(x, this.maskValue), -1); }
  protected call(x: Tensor): Tensor {
    return ops.mul(x, ops.cast(ops.any(ops.notEqual(x, this.maskValue), -1, true), x.dtype));
  }
  getConfig() { return { ...super.getConfig(), maskValue: this.maskValue }; }
}
