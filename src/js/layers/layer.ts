// The Layer base class (tfjs-layers style): lazy build from the first input shape, weights as
// Variables, and the bookkeeping model.summary() and get/setWeights use.
import { tidy } from '../engine.js';
import * as ops from '../ops.js';
import { Tensor, Variable } from '../tensor.js';
import { getInitializer, type Initializer } from '../initializers.js';
import { SymbolicTensor } from './symbolic.js';
import { constraintArg, regularizerArg, type Constraint, type Regularizer } from '../regularizers.js';

export type Shape = (number | null)[];

/** What `apply` passes on besides the inputs. */
export interface ApplyArgs {
  training?: boolean;
  /** MultiHeadAttention: [batch, seqQ, seqK], true (or nonzero) where a query may attend. */
  attentionMask?: Tensor;
  /** MultiHeadAttention: causal masking for this call. */
  useCausalMask?: boolean;
  /** Which steps of the input are real ([batch, steps] bool), from a Masking layer or an Embedding with maskZero. */
  mask?: Tensor;
}

export interface LayerArgs {
  name?: string;
  inputShape?: Shape;
  batchInputShape?: Shape;
  inputDim?: number;
  batchSize?: number;
  trainable?: boolean;
  dtype?: 'float32';
}

// While a model file is loaded, its config may only create as many weight bytes as the file's
// weight data holds: a hostile config (a Dense of 10^5 x 10^5 units, no data) is refused at the
// first weight past that, before the initializer allocates it.
let weightBudget: { bytes: number; refuse: (name: string, shape: number[], left: number) => Error } | null = null;

/** Whether layers are being built to receive loaded weights (their initial values are overwritten). */
export function loadingWeights(): boolean {
  return weightBudget !== null;
}

/** Runs `build` allowing its layers at most `bytes` of float32 weights in all. */
export function withWeightBudget<T>(bytes: number, refuse: (name: string, shape: number[], left: number) => Error, build: () => T): T {
  const outer = weightBudget;
  weightBudget = { bytes, refuse };
  try {
    return build();
  } finally {
    weightBudget = outer;
  }
}

/**
 * TF.js's InputSpec: what a layer's input must be (its rank or rank bounds, dtype, shape, or the
 * sizes of given axes). A layer with `inputSpec` set checks each input against it.
 */
export class InputSpec {
  dtype?: string;
  shape?: Shape;
  ndim?: number;
  maxNDim?: number;
  minNDim?: number;
  axes: Record<number, number>;
  constructor(args: { dtype?: string; shape?: Shape; ndim?: number; maxNDim?: number; minNDim?: number; axes?: Record<number, number> }) {
    if (!args || typeof args !== 'object') throw new Error('InputSpec: expected { ndim, minNDim, maxNDim, shape, dtype, axes }');
    this.dtype = args.dtype;
    this.shape = args.shape;
    this.ndim = args.shape ? args.shape.length : args.ndim;
    this.maxNDim = args.maxNDim;
    this.minNDim = args.minNDim;
    this.axes = args.axes ?? {};
  }
}

/** Why `shape` (of `dtype`) does not meet `spec`, or null. */
function specMismatch(spec: InputSpec, shape: Shape, dtype: string | undefined): string | null {
  const rank = shape.length;
  if (spec.ndim !== undefined && rank !== spec.ndim) return `expected rank ${spec.ndim}, got ${rank}`;
  if (spec.maxNDim !== undefined && rank > spec.maxNDim) return `expected rank at most ${spec.maxNDim}, got ${rank}`;
  if (spec.minNDim !== undefined && rank < spec.minNDim) return `expected rank at least ${spec.minNDim}, got ${rank}`;
  if (spec.dtype !== undefined && dtype !== undefined && dtype !== spec.dtype) return `expected dtype ${spec.dtype}, got ${dtype}`;
  for (const [key, size] of Object.entries(spec.axes)) {
    const axis = Number(key) < 0 ? rank + Number(key) : Number(key);
    if (size !== null && shape[axis] !== null && shape[axis] !== size) return `expected axis ${key} of size ${size}, got ${shape[axis]}`;
  }
  if (spec.shape) {
    for (let i = 0; i < rank; i++) {
      if (spec.shape[i] !== null && shape[i] !== null && spec.shape[i] !== shape[i]) return `expected shape [${spec.shape.map((d) => d ?? 'null')}]`;
    }
  }
  return null;
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
  /** @internal the prefix of this layer's weight names: its name, or one under the layer holding it. */
  weightScope?: string;
  /** Layers this one holds (an RNN's cell, a wrapper's layer): their weights are this layer's. */
  protected readonly sublayers: Layer[] = [];

  constructor(args: LayerArgs = {}) {
    const cls = this.getClassName();
    const n = (counters.get(cls) ?? 0) + 1;
    counters.set(cls, n);
    this.name = args.name ?? `${snake(cls)}_${cls}${n}`;
    this.trainable = args.trainable ?? true;
    if (args.batchInputShape) this.batchInputShape = args.batchInputShape;
    else if (args.inputShape) this.batchInputShape = [args.batchSize ?? null, ...args.inputShape];
    else if (args.inputDim !== undefined) this.batchInputShape = [args.batchSize ?? null, args.inputDim];
    // Regularizers and constraints by the weight they apply to ('kernel' from kernelRegularizer);
    // like initializers, checked now although used only once the layer builds.
    for (const [key, value] of Object.entries(args)) {
      const m = /^(.*)(Regularizer|Constraint)$/.exec(key);
      if (!m || value === undefined || value === null) continue;
      if (m[1] === 'activity') throw new Error(`${cls}: activityRegularizer is not supported`);
      if (m[2] === 'Regularizer') this.regularizers.set(m[1], regularizerArg(cls, key, value)!);
      else this.constraints.set(m[1], constraintArg(cls, key, value)!);
    }
    // Initializers are used only when the layer builds: a bad name is refused now, by its layer.
    for (const [key, value] of Object.entries(args)) {
      if (/(^i|I)nitializer$/.test(key) && value !== undefined && value !== null && typeof value !== 'function') {
        try {
          getInitializer(value as string, 'zeros');
        } catch (e) {
          throw new Error(`${cls}: ${key}: ${(e as Error).message}`);
        }
      }
    }
  }

  /** The layer's class name (TF.js custom layers give it as a static className). */
  getClassName(): string {
    const ctor = this.constructor as { className?: unknown; name: string };
    return typeof ctor.className === 'string' ? ctor.className : ctor.name;
  }
  abstract computeOutputShape(inputShape: Shape): Shape;
  protected abstract call(x: Tensor, training: boolean, mask?: Tensor): Tensor;

  /** What this layer's inputs must be (custom layers set it, as in TF.js); checked on apply. */
  inputSpec: InputSpec[] | null = null;

  private checkInputs(shapes: Shape[], dtypes: (string | undefined)[]): void {
    if (!this.inputSpec) return;
    if (this.inputSpec.length !== shapes.length) throw new Error(`${this.name}: expects ${this.inputSpec.length} input(s), got ${shapes.length}`);
    this.inputSpec.forEach((spec, i) => {
      const why = specMismatch(spec, shapes[i], dtypes[i]);
      if (why) throw new Error(`${this.name}: input ${i} of shape [${shapes[i].map((d) => d ?? 'null')}] is incompatible: ${why}`);
    });
  }

  /** Whether this layer passes a mask on or uses it (Keras's supportsMasking); others drop it. */
  readonly supportsMasking: boolean = false;

  /** @internal the mask of this layer's output, given its input and the input's mask. */
  computeMask(_x: Tensor, mask: Tensor | null): Tensor | null {
    return this.supportsMasking ? mask : null;
  }

  /** Creates the weights for an input of `inputShape` (batch dimension first, may be null). */
  build(_inputShape: Shape): void {}

  /** @internal builds once, checking the declared input shape. */
  ensureBuilt(inputShape: Shape): void {
    if (this.built) return;
    this.build(inputShape);
    this.outputShape = this.computeOutputShape(inputShape);
    this.built = true;
  }

  /**
   * Applies the layer to a tensor (building it on first use), or, given symbolic tensors (from
   * tf.input), records a node of a functional model and returns its symbolic output.
   */
  apply(x: Tensor, kwargs?: ApplyArgs): Tensor;
  apply(x: SymbolicTensor | SymbolicTensor[], kwargs?: ApplyArgs): SymbolicTensor;
  apply(x: Tensor[], kwargs?: ApplyArgs): Tensor;
  apply(x: Tensor | Tensor[] | SymbolicTensor | SymbolicTensor[], kwargs: ApplyArgs = {}): Tensor | SymbolicTensor {
    const list = Array.isArray(x) ? x : [x];
    const merge = (this as unknown as { callMany?: (xs: Tensor[], kwargs: ApplyArgs) => Tensor; mergeShapes?: (s: Shape[]) => Shape });
    if (list.length > 1 && !merge.callMany) throw new Error(`${this.name}: takes one input, got ${list.length}`);
    if (list[0] instanceof SymbolicTensor) {
      const syms = list as SymbolicTensor[];
      const shapes = syms.map((s) => s.shape);
      this.checkInputs(shapes, syms.map(() => undefined));
      const inShape = merge.mergeShapes ? merge.mergeShapes(shapes) : shapes[0];
      if (!this.built) {
        this.build(inShape);
        this.outputShape = this.computeOutputShape(inShape);
        this.built = true;
      }
      return new SymbolicTensor(this.computeOutputShape(inShape), this, syms);
    }
    const ts = list as Tensor[];
    this.checkInputs(ts.map((t) => t.shape), ts.map((t) => t.dtype));
    if (merge.callMany) {
      const shape = merge.mergeShapes!(ts.map((t) => [null, ...t.shape.slice(1)]));
      this.ensureBuilt(shape);
      return tidy(() => merge.callMany!(ts, kwargs));
    }
    this.ensureBuilt([null, ...ts[0].shape.slice(1)]);
    // a layer that does not take masks ignores one (and drops it: computeMask), as TF.js's do
    return tidy(() => this.call(ts[0], kwargs.training ?? false, this.supportsMasking ? kwargs.mask : undefined));
  }

  /** Regularizers and constraints by weight kind ('kernel', 'bias', 'recurrent', 'depthwise', ...). */
  private readonly regularizers = new Map<string, Regularizer>();
  private readonly constraints = new Map<string, Constraint>();
  private readonly weightRegularizers: Array<[Variable, Regularizer]> = [];
  private readonly ownConstraints: Array<[Variable, Constraint]> = [];

  /** @internal each weight with a constraint, and the constraint (the held layers' too). */
  get weightConstraints(): Array<[Variable, Constraint]> {
    return [...this.ownConstraints, ...this.sublayers.flatMap((l) => l.weightConstraints)];
  }

  /** @internal the sum of this layer's weight penalties (null without regularizers). */
  regularizationLoss(): Tensor | null {
    const held = this.sublayers.map((l) => l.regularizationLoss()).filter((p): p is Tensor => p !== null);
    if (!this.weightRegularizers.length) return held.length ? tidy(() => held.reduce((a, b) => ops.add(a, b))) : null;
    return tidy(() => [...this.weightRegularizers.map(([v, r]) => r.apply(v)), ...held].reduce((a, b) => ops.add(a, b)));
  }

  /**
   * TF.js's addWeight, for custom layers: a weight of `shape` from `initializer` (an Initializer
   * of tf.initializers, or its name), with an optional regularizer and constraint. The result is a
   * Variable, which has LayerVariable's read() and write().
   */
  addWeight(name: string, shape: number[], dtype?: 'float32', initializer?: string | Initializer, regularizer?: Regularizer | null, trainable = true, constraint?: Constraint | null): Variable {
    const cls = this.getClassName();
    if (typeof name !== 'string' || name === '') throw new Error(`${cls}.addWeight: name must be a non-empty string`);
    if (dtype !== undefined && dtype !== null && dtype !== 'float32') throw new Error(`${cls}.addWeight: only float32 weights are supported, got ${String(dtype)}`);
    if (initializer === undefined || initializer === null) throw new Error(`${cls}.addWeight: weight ${name} needs an initializer (tf.initializers.glorotUniform(), say)`);
    if (this.weightList.some((w) => w.name.endsWith(`/${name}`))) throw new Error(`${cls}.addWeight: duplicate weight name ${name}`);
    const v = this.newWeight(name, shape, initializer, 'zeros', trainable);
    if (regularizer) this.weightRegularizers.push([v, regularizerArg(cls, 'regularizer', regularizer)!]);
    if (constraint) this.ownConstraints.push([v, constraintArg(cls, 'constraint', constraint)!]);
    return v;
  }

  /**
   * Creates a weight (for the layers here: `fallback` names the default initializer). An int32
   * weight (packed codes) starts as zeros.
   */
  protected newWeight(name: string, shape: number[], initializer: string | Initializer | undefined, fallback: string, trainable = true, dtype: 'float32' | 'int32' = 'float32'): Variable {
    const init = getInitializer(initializer, fallback);
    if (weightBudget) {
      const bytes = 4 * shape.reduce((a, b) => a * b, 1);
      if (!(bytes <= weightBudget.bytes)) throw weightBudget.refuse(`${this.weightScope ?? this.name}/${name}`, shape, weightBudget.bytes);
      weightBudget.bytes -= bytes;
    }
    const value = dtype === 'int32' ? ops.zeros(shape, 'int32') : init(shape);
    const v = ops.variable(value, trainable && this.trainable, `${this.weightScope ?? this.name}/${name}`);
    value.dispose();
    this.weightList.push(v);
    this.weightTrainable.push(trainable);
    // 'recurrent_kernel' -> 'recurrent', 'depthwise_kernel' -> 'depthwise', 'moving_mean' -> 'movingMean'
    const kind = name.replace(/_kernel$/, '').replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    const reg = this.regularizers.get(kind), con = this.constraints.get(kind);
    if (reg) this.weightRegularizers.push([v, reg]);
    if (con) this.ownConstraints.push([v, con]);
    return v;
  }

  /** Removes weight `v` from this layer and disposes it (a kernel replaced by its quantized form). */
  protected dropWeight(v: Variable): void {
    const i = this.weightList.indexOf(v);
    if (i < 0) return;
    this.weightList.splice(i, 1);
    this.weightTrainable.splice(i, 1);
    for (const list of [this.weightRegularizers, this.ownConstraints] as Array<Array<[Variable, unknown]>>) {
      const j = list.findIndex(([w]) => w === v);
      if (j >= 0) list.splice(j, 1);
    }
    v.dispose();
  }

  /** @internal The layers this one holds (a wrapper's, a stacked cell's), for tf.quantizeLayers. */
  get innerLayers(): Layer[] {
    return this.sublayers;
  }

  /** Trainable weights first, then the rest (TF.js's order, which get/setWeights follow). */
  get weights(): Variable[] {
    return [...this.trainableWeights, ...this.nonTrainableWeights];
  }

  get trainableWeights(): Variable[] {
    if (!this.trainable) return [];
    return [...this.weightList.filter((_, i) => this.weightTrainable[i]), ...this.sublayers.flatMap((l) => l.trainableWeights)];
  }

  get nonTrainableWeights(): Variable[] {
    if (!this.trainable) return [...this.weightList, ...this.sublayers.flatMap((l) => l.weights)];
    return [...this.weightList.filter((_, i) => !this.weightTrainable[i]), ...this.sublayers.flatMap((l) => l.nonTrainableWeights)];
  }

  countParams(): number {
    return this.weights.reduce((n, w) => n + w.size, 0);
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
    this.sublayers.forEach((l) => l.dispose());
  }
}

const camelToSnake = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();

/** A layer's Keras-style config ({ class_name, config } with snake_case keys), as saved in model files. */
export function kerasConfig(layer: Layer): Record<string, unknown> {
  const c: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(layer.getConfig())) c[camelToSnake(k)] = v;
  c.dtype = 'float32';
  const cls = layer.getClassName();
  if (/Conv|Pool|ZeroPadding|Cropping|UpSampling/.test(cls)) c.data_format = 'channels_last';
  if (/Normalization/.test(cls)) c.axis ??= -1;
  return { class_name: cls, config: c };
}

export function checkRank(layer: Layer, shape: Shape, rank: number): void {
  if (shape.length !== rank) {
    throw new Error(`${layer.name}: expected input of rank ${rank} (batch first), got shape [${shape.map((d) => d ?? 'null')}]`);
  }
}
