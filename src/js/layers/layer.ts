// The Layer base class (tfjs-layers style): lazy build from the first input shape, weights as
// Variables, and the bookkeeping model.summary() and get/setWeights use.
import { tidy } from '../engine.js';
import * as ops from '../ops.js';
import { Tensor, Variable } from '../tensor.js';
import { getInitializer, type Initializer } from '../initializers.js';

export type Shape = (number | null)[];

export interface LayerArgs {
  name?: string;
  inputShape?: Shape;
  batchInputShape?: Shape;
  inputDim?: number;
  batchSize?: number;
  trainable?: boolean;
  dtype?: 'float32';
}

const counters = new Map<string, number>();
/** TF.js's toSnakeCase, so default names match it (Conv2D -> conv2d, MaxPooling2D -> max_pooling2d). */
function snake(s: string): string {
  return s.replace(/(.)([A-Z][a-z0-9]+)/g, '$1_$2').replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
}

export abstract class Layer {
  readonly name: string;
  trainable: boolean;
  built = false;
  /** [batch, ...] shape of the expected input, when declared (first layer of a model). */
  batchInputShape?: Shape;
  protected readonly weightList: Variable[] = [];
  protected readonly weightTrainable: boolean[] = [];
  /** Output shape, known once built. */
  outputShape?: Shape;

  constructor(args: LayerArgs = {}) {
    const cls = this.getClassName();
    const n = (counters.get(cls) ?? 0) + 1;
    counters.set(cls, n);
    this.name = args.name ?? `${snake(cls)}_${cls}${n}`;
    this.trainable = args.trainable ?? true;
    if (args.batchInputShape) this.batchInputShape = args.batchInputShape;
    else if (args.inputShape) this.batchInputShape = [args.batchSize ?? null, ...args.inputShape];
    else if (args.inputDim !== undefined) this.batchInputShape = [args.batchSize ?? null, args.inputDim];
  }

  abstract getClassName(): string;
  abstract computeOutputShape(inputShape: Shape): Shape;
  protected abstract call(x: Tensor, training: boolean): Tensor;

  /** Creates the weights for an input of `inputShape` (batch dimension first, may be null). */
  build(_inputShape: Shape): void {}

  /** @internal builds once, checking the declared input shape. */
  ensureBuilt(inputShape: Shape): void {
    if (this.built) return;
    this.build(inputShape);
    this.outputShape = this.computeOutputShape(inputShape);
    this.built = true;
  }

  /** Applies the layer to a concrete tensor (building it on first use). */
  apply(x: Tensor, kwargs: { training?: boolean } = {}): Tensor {
    this.ensureBuilt([null, ...x.shape.slice(1)]);
    return tidy(() => this.call(x, kwargs.training ?? false));
  }

  protected addWeight(name: string, shape: number[], initializer: string | Initializer | undefined, fallback: string, trainable = true): Variable {
    const init = getInitializer(initializer, fallback);
    const value = init(shape);
    const v = ops.variable(value, trainable && this.trainable, `${this.name}/${name}`);
    value.dispose();
    this.weightList.push(v);
    this.weightTrainable.push(trainable);
    return v;
  }

  /** Trainable weights first, then the rest (TF.js's order, which get/setWeights follow). */
  get weights(): Variable[] {
    return [...this.trainableWeights, ...this.nonTrainableWeights];
  }

  get trainableWeights(): Variable[] {
    return this.trainable ? this.weightList.filter((_, i) => this.weightTrainable[i]) : [];
  }

  get nonTrainableWeights(): Variable[] {
    return this.trainable ? this.weightList.filter((_, i) => !this.weightTrainable[i]) : [...this.weightList];
  }

  countParams(): number {
    return this.weightList.reduce((n, w) => n + w.size, 0);
  }

  getWeights(): Tensor[] {
    return this.weights.map((w) => w.clone());
  }

  setWeights(weights: Tensor[]): void {
    const mine = this.weights;
    if (weights.length !== mine.length) {
      throw new Error(`${this.name}.setWeights: expected ${mine.length} tensors, got ${weights.length}`);
    }
    weights.forEach((w, i) => {
      const v = mine[i];
      if (w.shape.join() !== v.shape.join()) {
        throw new Error(`${this.name}.setWeights: weight ${v.name} has shape [${v.shape}], got [${w.shape}]`);
      }
      v.assign(w);
    });
  }

  getConfig(): Record<string, unknown> {
    const c: Record<string, unknown> = { name: this.name, trainable: this.trainable };
    if (this.batchInputShape) c.batchInputShape = this.batchInputShape;
    return c;
  }

  dispose(): void {
    this.weightList.forEach((w) => w.dispose());
    this.weightList.length = 0;
  }
}

export function checkRank(layer: Layer, shape: Shape, rank: number): void {
  if (shape.length !== rank) {
    throw new Error(`${layer.name}: expected input of rank ${rank} (batch first), got shape [${shape.map((d) => d ?? 'null')}]`);
  }
}
