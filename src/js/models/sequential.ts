// LayersModel: what every model shares (compile / fit / evaluate / predict / summary / save /
// weights), and tf.sequential(): a stack of layers.
import { compileAhead, dispose, keep, tidy, wasm } from '../engine.js';
import { describe } from '../args.js';
import * as ops from '../ops.js';
import { Tensor, type Variable } from '../tensor.js';
import { getLoss, type LossFn } from '../losses.js';
import { getMetric, type MetricFn } from '../metrics.js';
import { getOptimizer, Optimizer } from '../optimizers.js';
import { Layer, type Shape } from '../layers/layer.js';
import { normalizeCallbacks, type CallbackHooks, type Logs } from './callbacks.js';
import { handlerFor } from '../io/handlers.js';
import { toSafetensors, fromSafetensors } from '../io/safetensors.js';
import type { IOHandler, SaveResult } from '../io/types.js';
import { generate, type GenerateOptions } from './generate.js';
import { mulberry32 } from '../random.js';

export interface CompileArgs {
  optimizer: string | Optimizer;
  loss: string | LossFn;
  metrics?: Array<string | MetricFn> | string;
}

export interface FitArgs {
  epochs?: number;
  batchSize?: number;
  validationSplit?: number;
  validationData?: [Tensor, Tensor];
  shuffle?: boolean;
  callbacks?: CallbackHooks | CallbackHooks[];
  verbose?: number;
  initialEpoch?: number;
  /** Seed of the batch shuffling, for reproducible runs. */
  seed?: number;
  /**
   * Weights per class index (TF.js/Keras): each sample's loss is multiplied by its class's weight
   * before the batch mean. The class is y's argmax for one-hot rows, y itself for a single column
   * or for integer labels. Needs a built-in loss.
   */
  classWeight?: Record<number, number>;
  /** Not supported (as in TF.js's fit): refused rather than ignored. */
  sampleWeight?: unknown;
  /** 'auto' only: fit yields to the page between batches on its own. */
  yieldEvery?: 'auto';
}

export class History {
  epoch: number[] = [];
  history: Record<string, number[]> = {};
  push(epoch: number, logs: Logs): void {
    this.epoch.push(epoch);
    for (const [k, v] of Object.entries(logs)) (this.history[k] ??= []).push(v);
  }
}

/** Yields to the browser's event loop now and then, so pages stay responsive during fit. */
let lastYield = 0;
async function maybeYield(): Promise<void> {
  const now = typeof performance !== 'undefined' ? performance.now() : Date.now();
  if (now - lastYield < 16) return;
  lastYield = now;
  await new Promise<void>((r) => setTimeout(r, 0));
}

export abstract class LayersModel {
  readonly name: string;
  stopTraining = false;
  optimizer?: Optimizer;
  protected lossFn?: LossFn;
  protected metricFns: Array<[string, MetricFn]> = [];

  constructor(name: string) {
    this.name = name;
  }

  /** Every layer, in the order their weights are listed. */
  abstract get layers(): Layer[];
  /** Builds every layer from the declared input shape. */
  abstract build(): void;
  abstract get inputShape(): Shape;
  abstract get outputShape(): Shape;
  /** The forward pass (one input, one output for training). */
  abstract apply(x: Tensor, kwargs?: { training?: boolean }): Tensor;
  abstract getClassName(): string;

  /** Checks x against the model's declared input shape. */
  protected checkInput(x: Tensor): void {
    const expected = this.inputShape;
    if (x.rank !== expected.length || expected.some((d, i) => i > 0 && d !== null && d !== x.shape[i])) {
      throw new Error(`${this.name}: input shape [${x.shape}] does not match the model's input [${expected.map((d) => d ?? 'null')}]`);
    }
  }

  compile(args: CompileArgs): void {
    if (args === null || typeof args !== 'object') throw new Error('compile: expected an arguments object ({ optimizer, loss, metrics })');
    // Checked before it is kept: a model holding a non-optimizer would fail later, far from here.
    const optimizer = typeof args.optimizer === 'string' ? getOptimizer(args.optimizer) : args.optimizer;
    if (!(optimizer instanceof Optimizer)) throw new Error(`compile: optimizer must be a name or a tf.train optimizer, got ${describe(args.optimizer)}`);
    this.optimizer = optimizer;
    this.lossFn = getLoss(args.loss);
    const metrics = args.metrics === undefined ? [] : Array.isArray(args.metrics) ? args.metrics : [args.metrics];
    this.metricFns = metrics.map(getMetric);
    this.build();
  }

  /** All trainable weights (layer by layer), then all non-trainable ones: TF.js's order. */
  get weights(): Variable[] { return [...this.trainableWeights, ...this.nonTrainableWeights]; }
  get trainableWeights(): Variable[] { this.build(); return this.layers.flatMap((l) => l.trainableWeights); }
  get nonTrainableWeights(): Variable[] { this.build(); return this.layers.flatMap((l) => l.nonTrainableWeights); }
  getWeights(): Tensor[] { return this.weights.map((w) => w.clone()); }
  setWeights(weights: Tensor[]): void {
    const mine = this.weights;
    if (mine.length !== weights.length) throw new Error(`setWeights: the model has ${mine.length} weights, got ${weights.length}`);
    weights.forEach((w, i) => {
      if (w.shape.join() !== mine[i].shape.join()) throw new Error(`setWeights: weight ${mine[i].name} has shape [${mine[i].shape}], got [${w.shape}]`);
    });
    weights.forEach((w, i) => mine[i].assign(w));
  }
  countParams(): number { this.build(); return this.layers.reduce((n, l) => n + l.countParams(), 0); }

  /**
   * Compiles the GPU kernels that `predict` needs (and, with `training: true`, those of a `fit`
   * step's forward and backward pass) ahead of time, off the main thread, so that the first real
   * call neither waits for compilation nor freezes the page. Nothing is computed and no weight
   * changes. TF.js users warm up by predicting on zeros; this replaces that. Resolves to the number
   * of kernels compiled (0 on the CPU backend).
   */
  async warmup(args: { batchSize?: number; training?: boolean } = {}): Promise<number> {
    this.build();
    const batch = args.batchSize ?? 1;
    const shape = [batch, ...this.inputShape.slice(1).map((d) => d ?? 1)];
    if (args.training) this.requireCompiled('warmup');
    return compileAhead(() => {
      const x = ops.zeros(shape);
      this.predict(x);
      if (!args.training) return;
      const weights = this.trainableWeights;
      const tracked = weights.map((w) => w.handle.requiresGrad);
      weights.forEach((w) => w.handle.setRequiresGrad(true));
      try {
        const pred = this.apply(x, { training: true });
        wasm.backward(this.lossFn!(ops.zeros(pred.shape), pred).handle);
      } finally {
        // The trace's gradients are garbage: leave none behind for the first real step.
        weights.forEach((w, i) => { w.handle.zeroGrad(); w.handle.setRequiresGrad(tracked[i]); });
      }
    });
  }

  /**
   * Text generation (webtensor): extends token-id prompts by up to `maxNewTokens` tokens, greedy
   * or sampled (temperature, topK, seed), with a key/value cache (models/generate.ts).
   */
  generate(prompt: number[] | number[][] | Tensor, options?: GenerateOptions): Promise<number[] | number[][]> {
    return generate(this, prompt, options);
  }

  /** @internal every output of the model for `x` (one for a Sequential; Functional overrides). */
  outputsFor(x: Tensor | Tensor[]): Tensor[] {
    return [(this.apply as (x: Tensor | Tensor[]) => Tensor)(x)];
  }

  /**
   * Predictions in batches, without recording gradients. A model with several inputs takes an
   * array; a model with several outputs returns one (TF.js's `Tensor | Tensor[]`).
   */
  predict(x: Tensor | Tensor[], args: { batchSize?: number } = {}): Tensor | Tensor[] {
    const bs = args.batchSize ?? 32;
    if (!(Number.isInteger(bs) && bs > 0)) throw new Error(`${this.name}.predict: batchSize must be a positive integer, got ${describe(bs)}`);
    const xs = Array.isArray(x) ? x : [x];
    if (xs.length === 0) throw new Error(`${this.name}.predict: no input given`);
    // Each batch is the same rows of every input.
    const run = (rows: Tensor[]) => this.outputsFor(Array.isArray(x) && rows.length > 1 ? rows : rows[0]);
    const outs = wasm.noGrad(() => tidy(() => {
      const n = xs[0].shape[0];
      if (n <= bs) return run(xs);
      const parts: Tensor[][] = [];
      for (let i = 0; i < n; i += bs) parts.push(run(xs.map((t) => ops.slice(t, [i], [Math.min(bs, n - i)]))));
      return parts[0].map((_, k) => ops.concat(parts.map((p) => p[k]), 0));
    })) as Tensor[];
    return outs.length === 1 ? outs[0] : outs;
  }

  /** Loss (and metrics) over (x, y): a scalar tensor, or an array when there are metrics. */
  evaluate(x: Tensor, y: Tensor, args: { batchSize?: number } = {}): Tensor | Tensor[] {
    this.requireCompiled('evaluate');
    const bs = args.batchSize ?? 32;
    if (!(Number.isInteger(bs) && bs > 0)) throw new Error(`${this.name}.evaluate: batchSize must be a positive integer, got ${describe(bs)}`);
    const sums = this.evaluateSums(x, y, bs);
    const n = x.shape[0];
    const out = sums.map((s) => { const m = s.div(n); s.dispose(); return m; });
    return out.length === 1 ? out[0] : out;
  }

  /** Sums over batches of batch-size-weighted loss and metrics (device tensors, no readback). */
  private evaluateSums(x: Tensor, y: Tensor, bs: number): Tensor[] {
    return wasm.noGrad(() => tidy(() => {
      const n = x.shape[0];
      let sums: Tensor[] = [];
      for (let i = 0; i < n; i += bs) {
        const len = Math.min(bs, n - i);
        const xb = ops.slice(x, [i], [len]);
        const yb = ops.slice(y, [i], [len]);
        const pred = this.apply(xb);
        const vals = [this.lossFn!(yb, pred), ...this.metricFns.map(([, f]) => f(yb, pred))].map((v) => v.mul(len));
        sums = sums.length ? sums.map((s, k) => s.add(vals[k])) : vals;
      }
      return sums;
    })) as Tensor[];
  }

  async fit(x: Tensor, y: Tensor, args: FitArgs = {}): Promise<History> {
    this.requireCompiled('fit');
    if (x.shape[0] !== y.shape[0]) throw new Error(`fit: x has ${x.shape[0]} samples but y has ${y.shape[0]}`);
    const epochs = args.epochs ?? 1;
    const bs = args.batchSize ?? 32;
    if (!(Number.isInteger(bs) && bs > 0)) throw new Error(`fit: batchSize must be a positive integer, got ${bs}`);
    if (!(Number.isInteger(epochs) && epochs >= 0)) throw new Error(`fit: epochs must be a non-negative integer, got ${describe(epochs)}`);
    if (args.sampleWeight !== undefined && args.sampleWeight !== null) throw new Error('fit: sampleWeight is not supported (nor in TF.js); use classWeight');
    // An option that would be ignored is refused (yieldEvery: the loop yields to the page on its own, as 'auto').
    const known = ['epochs', 'batchSize', 'validationSplit', 'validationData', 'shuffle', 'callbacks', 'verbose', 'initialEpoch', 'seed', 'classWeight', 'sampleWeight', 'yieldEvery'];
    const unknown = Object.keys(args).filter((k) => !known.includes(k));
    if (unknown.length) throw new Error(`fit: option${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} not supported (supported: ${known.join(', ')})`);
    if (args.yieldEvery !== undefined && args.yieldEvery !== 'auto') throw new Error(`fit: yieldEvery ${describe(args.yieldEvery)} is not supported (only 'auto')`);
    const classWeights = args.classWeight === undefined || args.classWeight === null ? undefined : await this.sampleWeightsOf(y, args.classWeight);
    const cbs = normalizeCallbacks(args.callbacks);
    cbs.forEach((c) => c.setModel?.(this));
    this.stopTraining = false;

    // Keras takes the validation split from the end, before shuffling.
    let [xTrain, yTrain] = [x, y];
    let val: [Tensor, Tensor] | undefined = args.validationData;
    const owned: Tensor[] = classWeights ? [classWeights] : [];
    if (!val && args.validationSplit) {
      const nVal = Math.floor(x.shape[0] * args.validationSplit);
      const nTrain = x.shape[0] - nVal;
      if (nVal > 0) {
        xTrain = ops.slice(x, [0], [nTrain]);
        yTrain = ops.slice(y, [0], [nTrain]);
        val = [ops.slice(x, [nTrain], [nVal]), ops.slice(y, [nTrain], [nVal])];
        owned.push(xTrain, yTrain, ...val);
      }
    }
    const n = xTrain.shape[0];
    const rand = mulberry32(args.seed ?? 0x5eed);
    const history = new History();
    const metricNames = this.metricFns.map(([k]) => k);
    try {
      for (const c of cbs) await c.onTrainBegin?.();
      for (let epoch = args.initialEpoch ?? 0; epoch < epochs && !this.stopTraining; epoch++) {
        for (const c of cbs) await c.onEpochBegin?.(epoch);
        const order = Int32Array.from({ length: n }, (_, i) => i);
        if (args.shuffle ?? true) {
          for (let i = n - 1; i > 0; i--) {
            const j = Math.floor(rand() * (i + 1));
            [order[i], order[j]] = [order[j], order[i]];
          }
        }
        let sums: Tensor[] = [];
        const wantBatchLogs = cbs.some((c) => c.onBatchEnd);
        for (let b = 0, start = 0; start < n; b++, start += bs) {
          const len = Math.min(bs, n - start);
          for (const c of cbs) await c.onBatchBegin?.(b, { batch: b, size: len });
          const values = tidy(() => {
            const idx = ops.tensor(order.subarray(start, start + len), [len], 'int32');
            return this.trainStep(ops.gather(xTrain, idx), ops.gather(yTrain, idx), classWeights && ops.gather(classWeights, idx));
          });
          // Running sums stay on the device; read back once per epoch unless a callback wants batches.
          const weighted = tidy(() => values.map((v) => v.mul(len)));
          const next = sums.length ? tidy(() => sums.map((s, k) => s.add(weighted[k]))) : weighted;
          if (sums.length) { dispose(sums); dispose(weighted); }
          sums = next;
          if (wantBatchLogs) {
            const read = await Promise.all(values.map((v) => v.data()));
            const logs: Logs = { batch: b, size: len, loss: read[0][0] };
            metricNames.forEach((k, i) => { logs[k] = read[i + 1][0]; });
            for (const c of cbs) await c.onBatchEnd?.(b, logs);
          } else {
            await maybeYield();
          }
          dispose(values);
          if (this.stopTraining) break;
        }
        const totals = await Promise.all(sums.map((s) => s.data()));
        dispose(sums);
        const logs: Logs = { loss: totals[0][0] / n };
        metricNames.forEach((k, i) => { logs[k] = totals[i + 1][0] / n; });
        if (val) Object.assign(logs, await this.validationLogs(val, bs));
        history.push(epoch, logs);
        for (const c of cbs) await c.onEpochEnd?.(epoch, logs);
      }
      for (const c of cbs) await c.onTrainEnd?.();
    } finally {
      dispose(owned);
    }
    return history;
  }

  /**
   * One optimizer step on a batch: [loss, ...metrics] of it. The loss is the compiled one (each
   * sample weighted when `sampleWeights` are given) plus the layers' weight penalties, as TF.js
   * minimises and reports it; constraints then project their weights.
   */
  private trainStep(xb: Tensor, yb: Tensor, sampleWeights?: Tensor): Tensor[] {
    return tidy(() => {
      let metricVals: Tensor[] = [];
      const loss = this.optimizer!.minimize(() => {
        const pred = this.apply(xb, { training: true });
        // kept: minimize's own tidy would otherwise dispose them with the forward pass
        metricVals = wasm.noGrad(() => this.metricFns.map(([, f]) => keep(f(yb, pred)))) as Tensor[];
        const dataLoss = sampleWeights ? ops.mean(this.lossFn!.perSample!(yb, pred).mul(sampleWeights)) : this.lossFn!(yb, pred);
        const penalties = this.layers.map((l) => l.regularizationLoss()).filter((p): p is Tensor => p !== null);
        return penalties.reduce((a, b) => ops.add(a, b), dataLoss);
      }, true, this.trainableWeights)!;
      for (const l of this.layers) for (const [v, c] of l.weightConstraints) v.assign(c.apply(v));
      return [loss, ...metricVals];
    });
  }

  /**
   * Trains on a tf.data dataset of batches ({xs, ys} or [xs, ys] elements), epoch by epoch:
   * `batchesPerEpoch` batches each, or one pass over the dataset. Logs are means over batches.
   */
  async fitDataset(dataset: { [Symbol.asyncIterator](): AsyncIterator<unknown> }, args: { epochs?: number; batchesPerEpoch?: number; callbacks?: CallbackHooks | CallbackHooks[]; validationData?: [Tensor, Tensor]; initialEpoch?: number } = {}): Promise<History> {
    this.requireCompiled('fitDataset');
    const known = ['epochs', 'batchesPerEpoch', 'callbacks', 'validationData', 'initialEpoch', 'verbose'];
    const unknown = Object.keys(args ?? {}).filter((k) => !known.includes(k));
    if (unknown.length) throw new Error(`fitDataset: option${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} not supported (supported: ${known.join(', ')})`);
    if (!dataset || typeof dataset[Symbol.asyncIterator] !== 'function') throw new Error(`fitDataset: expected a tf.data dataset, got ${describe(dataset)}`);
    const epochs = args.epochs ?? 1;
    if (!(Number.isInteger(epochs) && epochs >= 0)) throw new Error(`fitDataset: epochs must be a non-negative integer, got ${describe(epochs)}`);
    const perEpoch = args.batchesPerEpoch;
    if (perEpoch !== undefined && !(Number.isInteger(perEpoch) && perEpoch > 0)) throw new Error(`fitDataset: batchesPerEpoch must be a positive integer, got ${describe(perEpoch)}`);
    const cbs = normalizeCallbacks(args.callbacks);
    cbs.forEach((c) => c.setModel?.(this));
    this.stopTraining = false;
    const history = new History();
    const metricNames = this.metricFns.map(([k]) => k);
    let it = dataset[Symbol.asyncIterator]();
    for (const c of cbs) await c.onTrainBegin?.();
    for (let epoch = args.initialEpoch ?? 0; epoch < epochs && !this.stopTraining; epoch++) {
      for (const c of cbs) await c.onEpochBegin?.(epoch);
      const totals: number[] = [];
      let batches = 0;
      while (perEpoch === undefined || batches < perEpoch) {
        let r = await it.next();
        if (r.done && perEpoch !== undefined) { it = dataset[Symbol.asyncIterator](); r = await it.next(); }
        if (r.done) break;
        const el = r.value as { xs?: Tensor; ys?: Tensor } | [Tensor, Tensor];
        const [xb, yb] = Array.isArray(el) ? el : [el.xs, el.ys];
        if (!(xb instanceof Tensor) || !(yb instanceof Tensor)) throw new Error('fitDataset: each element must be {xs, ys} or [xs, ys] tensors (batch the dataset first)');
        for (const c of cbs) await c.onBatchBegin?.(batches, { batch: batches, size: xb.shape[0] });
        const values = this.trainStep(xb, yb);
        const read = await Promise.all(values.map((v) => v.data()));
        dispose(values);
        dispose([xb, yb]);
        read.forEach((v, i) => { totals[i] = (totals[i] ?? 0) + v[0]; });
        const logs: Logs = { batch: batches, size: xb.shape[0], loss: read[0][0] };
        metricNames.forEach((k, i) => { logs[k] = read[i + 1][0]; });
        for (const c of cbs) await c.onBatchEnd?.(batches, logs);
        batches++;
        if (this.stopTraining) break;
      }
      if (perEpoch === undefined) it = dataset[Symbol.asyncIterator]();
      if (batches === 0) throw new Error('fitDataset: the dataset gave no batches');
      const logs: Logs = { loss: totals[0] / batches };
      metricNames.forEach((k, i) => { logs[k] = totals[i + 1] / batches; });
      if (args.validationData) Object.assign(logs, await this.validationLogs(args.validationData, 32));
      history.push(epoch, logs);
      for (const c of cbs) await c.onEpochEnd?.(epoch, logs);
    }
    for (const c of cbs) await c.onTrainEnd?.();
    return history;
  }

  /** val_loss and val_<metric> over (x, y), in batches of `bs`. */
  private async validationLogs([x, y]: [Tensor, Tensor], bs: number): Promise<Logs> {
    const sums = this.evaluateSums(x, y, bs);
    const totals = await Promise.all(sums.map((s) => s.data()));
    dispose(sums);
    const logs: Logs = { val_loss: totals[0][0] / x.shape[0] };
    this.metricFns.forEach(([k], i) => { logs[`val_${k}`] = totals[i + 1][0] / x.shape[0]; });
    return logs;
  }

  /** Each sample's weight from `classWeight` (TF.js's standardizeWeights), read from y once. */
  private async sampleWeightsOf(y: Tensor, classWeight: Record<number, number>): Promise<Tensor> {
    if (typeof classWeight !== 'object') throw new Error(`fit: classWeight must be an object mapping class indices to weights, got ${describe(classWeight)}`);
    if (!this.lossFn?.perSample) throw new Error('fit: classWeight needs one of the built-in losses (a custom loss function gives no per-sample losses to weight)');
    const oneHot = y.rank === 2 && y.shape[1] > 1;
    if (!(y.rank === 1 || (y.rank === 2 && y.shape[1] >= 1))) throw new Error(`fit: classWeight needs y of shape [n], [n, 1] or [n, classes], got [${y.shape}]`);
    const classes = oneHot ? ops.argMax(y, 1) : y;
    const indices = await classes.data();
    if (classes !== y) classes.dispose();
    const weights = new Float32Array(indices.length);
    indices.forEach((c, i) => {
      const w = Object.hasOwn(classWeight, c) ? (classWeight as Record<number, unknown>)[c] : undefined;
      if (typeof w !== 'number' || !Number.isFinite(w)) throw new Error(`fit: classWeight has no finite weight for class ${c}, which sample ${i} belongs to`);
      weights[i] = w;
    });
    return ops.tensor(weights, [weights.length]);
  }

  private requireCompiled(op: string): void {
    if (!this.optimizer || !this.lossFn) throw new Error(`${op}: call model.compile({optimizer, loss}) first`);
  }

  /** Prints the layer table in TF.js's layout. */
  summary(lineLength = 65, positions = [0.45, 0.85, 1], printFn: (line: string) => void = console.log): void {
    this.build();
    const cols = positions.map((p) => Math.floor(lineLength * p));
    const row = (fields: string[]) => {
      let line = '';
      fields.forEach((f, i) => {
        line += f;
        line = line.slice(0, cols[i]);
        line += ' '.repeat(Math.max(0, cols[i] - line.length));
      });
      printFn(line);
    };
    const shapeStr = (s: Shape) => `[${s.map((d) => (d === null ? 'null' : d)).join(',')}]`;
    printFn('_'.repeat(lineLength));
    row(['Layer (type)', 'Output shape', 'Param #']);
    printFn('='.repeat(lineLength));
    this.layers.forEach((l, i) => {
      row([`${l.name} (${l.getClassName()})`, shapeStr(l.outputShape!), String(l.countParams())]);
      printFn(i === this.layers.length - 1 ? '='.repeat(lineLength) : '_'.repeat(lineLength));
    });
    const total = this.countParams();
    const trainable = this.trainableWeights.reduce((n, w) => n + w.size, 0);
    printFn(`Total params: ${total}`);
    printFn(`Trainable params: ${trainable}`);
    printFn(`Non-trainable params: ${total - trainable}`);
    printFn('_'.repeat(lineLength));
  }

  /** Saves topology and weights in the TF.js layers format (URL scheme or IO handler). */
  async save(handlerOrURL: string | IOHandler): Promise<SaveResult> {
    const handler = typeof handlerOrURL === 'string' ? handlerFor(handlerOrURL, 'save') : handlerOrURL;
    if (!handler.save) throw new Error('save: this IO handler cannot save');
    // Imported here: serialization knows every model class, which import this module.
    const { modelToArtifacts } = await import('../io/serialization.js');
    return handler.save(await modelToArtifacts(this));
  }

  /** The weights as a safetensors file, keyed by weight name. */
  async saveSafetensors(): Promise<Uint8Array> {
    return toSafetensors(this.weights.map((w) => ({ name: w.name, tensor: w })));
  }

  /**
   * Loads weights from a safetensors file: by weight name, or, when the names differ (another
   * instance of the same architecture), by order, as setWeights does. Shapes must match.
   */
  loadSafetensors(bytes: Uint8Array): void {
    const found = fromSafetensors(bytes);
    try {
      const weights = this.weights;
      const byName = weights.every((w) => found.has(w.name));
      const inFile = [...found.values()];
      if (!byName && inFile.length !== weights.length) {
        throw new Error(`loadSafetensors: the file has ${inFile.length} tensors and names that do not match this model's ${weights.length} weights`);
      }
      weights.forEach((w, i) => {
        const t = byName ? found.get(w.name)! : inFile[i];
        if (t.shape.join() !== w.shape.join()) throw new Error(`loadSafetensors: weight ${i} (${w.name}) is [${t.shape}] in the file, [${w.shape}] in the model`);
        // Half-precision files load into float32 weights (exactly: every half is a float32).
        const floats = new Set(['float32', 'float16']);
        if (t.dtype !== w.dtype && floats.has(t.dtype) && floats.has(w.dtype)) {
          const c = t.cast(w.dtype);
          w.assign(c);
          c.dispose();
        } else {
          w.assign(t);
        }
      });
    } finally {
      found.forEach((t) => t.dispose());
    }
  }

  dispose(): void {
    this.layers.forEach((l) => l.dispose());
    this.optimizer?.dispose();
  }

}

export class Sequential extends LayersModel {
  private readonly stack: Layer[] = [];
  private built = false;

  constructor(args: { layers?: Layer[]; name?: string } = {}) {
    super(args.name ?? 'sequential');
    for (const l of args.layers ?? []) this.add(l);
  }

  get layers(): Layer[] { return this.stack; }

  add(layer: Layer): void {
    if (!(layer instanceof Layer)) throw new Error('Sequential.add: expected a layer (tf.layers.*)');
    if (this.stack.length === 0 && !layer.batchInputShape) {
      throw new Error(`Sequential: the first layer (${layer.name}) needs an inputShape (or inputDim / batchInputShape)`);
    }
    this.stack.push(layer);
    this.built = false;
  }

  build(): void {
    if (this.built) return;
    if (this.stack.length === 0) throw new Error('Sequential: the model has no layers');
    let shape: Shape = this.stack[0].batchInputShape!;
    for (const l of this.stack) {
      l.ensureBuilt(shape);
      shape = l.outputShape!;
    }
    this.built = true;
  }

  get inputShape(): Shape { return this.stack[0]?.batchInputShape ?? []; }
  get outputShape(): Shape { this.build(); return this.stack[this.stack.length - 1].outputShape!; }

  apply(x: Tensor, kwargs: { training?: boolean } = {}): Tensor {
    this.build();
    this.checkInput(x);
    return tidy(() => {
      let h = x;
      // a mask (from Masking or an Embedding with maskZero) travels along with the activations
      let mask: Tensor | null = null;
      for (const l of this.stack) {
        const out = l.apply(h, { ...kwargs, mask: mask ?? undefined }) as Tensor;
        mask = l.computeMask(h, mask);
        h = out;
      }
      return h;
    });
  }

  getClassName(): string { return 'Sequential'; }
}

export const sequential = (args?: { layers?: Layer[]; name?: string }) => new Sequential(args);
