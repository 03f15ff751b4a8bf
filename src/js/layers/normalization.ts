// Batch and layer normalisation layers, and embedding.
import { wasm } from '../engine.js';
import * as ops from '../ops.js';
import { sizeArg } from '../args.js';
import type { Tensor, Variable } from '../tensor.js';
import type { Initializer } from '../initializers.js';
import { Layer, type LayerArgs, type Shape } from './layer.js';

export interface NormArgs extends LayerArgs {
  axis?: number;
  momentum?: number;
  epsilon?: number;
  center?: boolean;
  scale?: boolean;
}

export class BatchNormalization extends Layer {
  readonly supportsMasking = true;
  readonly momentum: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  private gamma?: Variable;
  private beta?: Variable;
  private movingMean?: Variable;
  private movingVariance?: Variable;

  constructor(args: NormArgs = {}) {
    super(args);
    if (args.axis !== undefined && args.axis !== -1) throw new Error('BatchNormalization: only axis -1 (channels last) is supported');
    this.momentum = args.momentum ?? 0.99;
    this.epsilon = args.epsilon ?? 1e-3;
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
  }
  getClassName() { return 'BatchNormalization'; }
  computeOutputShape(s: Shape): Shape { return s; }
  build(s: Shape): void {
    const c = s[s.length - 1] as number;
    if (this.scale) this.gamma = this.newWeight('gamma', [c], 'ones', 'ones');
    if (this.center) this.beta = this.newWeight('beta', [c], 'zeros', 'zeros');
    this.movingMean = this.newWeight('moving_mean', [c], 'zeros', 'zeros', false);
    this.movingVariance = this.newWeight('moving_variance', [c], 'ones', 'ones', false);
  }
  protected call(x: Tensor, training: boolean): Tensor {
    if (!training) return ops.batchNorm(x, this.movingMean!, this.movingVariance!, this.beta, this.gamma, this.epsilon);
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    const { mean, variance } = ops.moments(x, axes);
    // Moving statistics follow the batch (no gradient flows into them).
    wasm.noGrad(() => {
      const m = this.momentum;
      this.movingMean!.assign(this.movingMean!.mul(m).add(mean.mul(1 - m)));
      this.movingVariance!.assign(this.movingVariance!.mul(m).add(variance.mul(1 - m)));
    });
    return ops.batchNorm(x, mean, variance, this.beta, this.gamma, this.epsilon);
  }
  getConfig() { return { ...super.getConfig(), momentum: this.momentum, epsilon: this.epsilon, center: this.center, scale: this.scale }; }
}

export class LayerNormalization extends Layer {
  readonly supportsMasking = true;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  private gamma?: Variable;
  private beta?: Variable;
  constructor(args: NormArgs = {}) {
    super(args);
    if (args.axis !== undefined && args.axis !== -1) throw new Error('LayerNormalization: only axis -1 is supported');
    this.epsilon = args.epsilon ?? 1e-3;
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
  }
  getClassName() { return 'LayerNormalization'; }
  computeOutputShape(s: Shape): Shape { return s; }
  build(s: Shape): void {
    const c = s[s.length - 1] as number;
    if (this.scale) this.gamma = this.newWeight('gamma', [c], 'ones', 'ones');
    if (this.center) this.beta = this.newWeight('beta', [c], 'zeros', 'zeros');
  }
  protected call(x: Tensor): Tensor {
    return ops.layerNorm(x, this.gamma, this.beta, this.epsilon);
  }
  getConfig() { return { ...super.getConfig(), axis: -1, epsilon: this.epsilon, center: this.center, scale: this.scale }; }
}

export class Embedding extends Layer {
  readonly inputDimVocab: number;
  readonly outputDim: number;
  private embeddings?: Variable;
  private readonly init?: string | Initializer;
  /** Index 0 is padding: the output's mask marks the other steps (for the RNN layers after it). */
  readonly maskZero: boolean;
  constructor(args: LayerArgs & { inputDim: number; outputDim: number; embeddingsInitializer?: string | Initializer; inputLength?: number; maskZero?: boolean }) {
    super({ ...args, inputDim: undefined, inputShape: args.inputShape ?? (args.inputLength ? [args.inputLength] : undefined) });
    this.inputDimVocab = sizeArg('Embedding', 'inputDim', args.inputDim);
    this.outputDim = sizeArg('Embedding', 'outputDim', args.outputDim);
    this.init = args.embeddingsInitializer;
    if (args.maskZero !== undefined && typeof args.maskZero !== 'boolean') throw new Error('Embedding: maskZero must be a boolean');
    this.maskZero = args.maskZero ?? false;
  }
  computeMask(x: Tensor): Tensor | null { return this.maskZero ? ops.notEqual(x, 0) : null; }
  getClassName() { return 'Embedding'; }
  computeOutputShape(s: Shape): Shape { return [...s, this.outputDim]; }
  build(): void {
    this.embeddings = this.newWeight('embeddings', [this.inputDimVocab, this.outputDim], this.init, 'randomUniform');
  }
  protected call(x: Tensor): Tensor { return ops.gather(this.embeddings!, x.dtype === 'int32' ? x : x.cast('int32'), 0); }
  getConfig() { return { ...super.getConfig(), inputDim: this.inputDimVocab, outputDim: this.outputDim, maskZero: this.maskZero }; }
}
