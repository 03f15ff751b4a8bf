// MultiHeadAttention (Keras 3's layer, weights laid out and named as Keras lays them out) and the
// sequence pooling transformer classifiers end in.
import * as ops from '../ops.js';
import type { Tensor, Variable } from '../tensor.js';
import type { Initializer } from '../initializers.js';
import { Layer, checkRank, type ApplyArgs, type LayerArgs, type Shape } from './layer.js';
import { decodeState } from './decoding.js';

export interface MultiHeadAttentionArgs extends LayerArgs {
  numHeads: number;
  /** Size of each head of the queries and keys. */
  keyDim: number;
  /** Size of each head of the values (keyDim by default). */
  valueDim?: number;
  /** Dropout on the attention probabilities while training. */
  dropout?: number;
  useBias?: boolean;
  /** Size of the output's last axis (the query's by default). */
  outputShape?: number | [number];
  /** Each query attends only to itself and earlier positions. */
  useCausalMask?: boolean;
  kernelInitializer?: string | Initializer;
  biasInitializer?: string | Initializer;
  seed?: number;
}

const positiveInt = (v: unknown) => Number.isInteger(v) && (v as number) > 0 && (v as number) <= 1 << 20;

/**
 * Multi-head attention over [batch, seq, features] inputs, as Keras: `apply([query, value])`,
 * `apply([query, value, key])` or `apply(x)` (self-attention), with an optional
 * `attentionMask` [batch, seqQ, seqK] (true / 1 = attend) in the apply arguments. Runs the fused
 * attention op (tf.scaledDotProductAttention); while training with dropout the probabilities are
 * materialised, since dropout acts on them.
 */
export class MultiHeadAttention extends Layer {
  readonly numHeads: number;
  readonly keyDim: number;
  readonly valueDim: number;
  readonly dropout: number;
  readonly useBias: boolean;
  readonly outputDim?: number;
  readonly useCausalMask: boolean;
  readonly seed?: number;
  /** Keras 3 keeps the weights in these sublayers of the layer's .keras group, in this order. */
  readonly kerasSublayers = ['query_dense', 'key_dense', 'value_dense', 'output_dense'];
  private readonly args: MultiHeadAttentionArgs;
  private inputShapes?: Shape[];
  private w: Record<string, Variable | undefined> = {};

  constructor(args: MultiHeadAttentionArgs) {
    super(args);
    const op = 'MultiHeadAttention';
    if (!args || typeof args !== 'object') throw new Error(`${op}: expected an arguments object`);
    for (const key of ['numHeads', 'keyDim'] as const) {
      if (!positiveInt(args[key])) throw new Error(`${op}: ${key} must be a positive integer, got ${String(args[key])}`);
    }
    if (args.valueDim !== undefined && args.valueDim !== null && !positiveInt(args.valueDim)) throw new Error(`${op}: valueDim must be a positive integer, got ${String(args.valueDim)}`);
    const rate = args.dropout ?? 0;
    if (!(typeof rate === 'number' && rate >= 0 && rate < 1)) throw new Error(`${op}: dropout must be in [0, 1), got ${String(rate)}`);
    const out = Array.isArray(args.outputShape) ? args.outputShape[0] : args.outputShape;
    if (out !== undefined && out !== null && !positiveInt(out)) throw new Error(`${op}: outputShape must be a positive integer, got ${String(args.outputShape)}`);
    if (args.useCausalMask !== undefined && typeof args.useCausalMask !== 'boolean') throw new Error(`${op}: useCausalMask must be a boolean`);
    this.numHeads = args.numHeads;
    this.keyDim = args.keyDim;
    this.valueDim = args.valueDim ?? args.keyDim;
    this.dropout = rate;
    this.useBias = args.useBias ?? true;
    this.outputDim = out ?? undefined;
    this.useCausalMask = args.useCausalMask ?? false;
    this.seed = args.seed;
    this.args = args;
  }

  getClassName() { return 'MultiHeadAttention'; }

  /** @internal [query, value, key?] shapes; the output has the query's shape (last axis: outputShape). */
  mergeShapes(shapes: Shape[]): Shape {
    if (shapes.length > 3) throw new Error(`${this.name}: takes query, value and key, got ${shapes.length} inputs`);
    shapes.forEach((s) => checkRank(this, s, 3));
    const [query, value, key = value ?? query] = shapes;
    if (value && key[1] !== null && value[1] !== null && key[1] !== value[1]) throw new Error(`${this.name}: key and value lengths differ ([${key}] and [${value}])`);
    this.inputShapes = [query, value ?? query, key];
    return query;
  }

  computeOutputShape(s: Shape): Shape {
    checkRank(this, s, 3);
    return [s[0], s[1], this.outputDim ?? s[2]];
  }

  build(queryShape: Shape): void {
    const [query, value, key] = this.inputShapes ?? [queryShape, queryShape, queryShape];
    const dim = (s: Shape, what: string) => {
      const d = s[2];
      if (d === null || d === undefined) throw new Error(`${this.name}: the last axis of the ${what} must be known`);
      return d;
    };
    const [h, dk, dv] = [this.numHeads, this.keyDim, this.valueDim];
    const out = this.outputDim ?? dim(query, 'query');
    const kernel = (name: string, shape: number[]) => this.newWeight(name, shape, this.args.kernelInitializer, 'glorotUniform');
    const bias = (name: string, shape: number[]) => (this.useBias ? this.newWeight(name, shape, this.args.biasInitializer, 'zeros') : undefined);
    // Keras's order: query, key, value, then the output projection; kernel before bias.
    this.w.qk = kernel('query/kernel', [dim(query, 'query'), h, dk]);
    this.w.qb = bias('query/bias', [h, dk]);
    this.w.kk = kernel('key/kernel', [dim(key, 'key'), h, dk]);
    this.w.kb = bias('key/bias', [h, dk]);
    this.w.vk = kernel('value/kernel', [dim(value, 'value'), h, dv]);
    this.w.vb = bias('value/bias', [h, dv]);
    this.w.ok = kernel('attention_output/kernel', [h, dv, out]);
    this.w.ob = bias('attention_output/bias', [out]);
  }

  protected call(x: Tensor, training: boolean): Tensor {
    return this.attend([x], { training });
  }

  /** @internal */
  callMany(xs: Tensor[], kwargs: ApplyArgs = {}): Tensor {
    return this.attend(xs, kwargs);
  }

  private attend(xs: Tensor[], kwargs: ApplyArgs): Tensor {
    const [query, value = query, key = value] = xs;
    xs.forEach((x) => {
      if (x.rank !== 3) throw new Error(`${this.name}: inputs must be [batch, seq, features], got [${x.shape}]`);
    });
    const [b, sq] = query.shape;
    const sk = key.shape[1];
    if (value.shape[1] !== sk || value.shape[0] !== b || key.shape[0] !== b) {
      throw new Error(`${this.name}: query [${query.shape}], value [${value.shape}] and key [${key.shape}] must share the batch, and key and value the length`);
    }
    const { qk, qb, kk, kb, vk, vb, ok, ob } = this.w;
    const [h, dk, dv] = [this.numHeads, this.keyDim, this.valueDim];
    // x [b, s, c] @ kernel [c, h, d] + bias [h, d] -> [b, h, s, d]
    const project = (x: Tensor, kernel: Variable, bias: Variable | undefined, d: number) => {
      const [n, s, c] = x.shape;
      let y = ops.matMul(x.reshape([n * s, c]), kernel.reshape([c, h * d]));
      if (bias) y = y.add(bias.reshape([h * d]));
      return y.reshape([n, s, h, d]).transpose([0, 2, 1, 3]);
    };
    const q = project(query, qk!, qb, dk), k = project(key, kk!, kb, dk), v = project(value, vk!, vb, dv);
    const causal = this.useCausalMask || kwargs.useCausalMask === true;
    let mask = this.attentionMask(kwargs.attentionMask, b, sq, sk);
    // Keras's causal mask is aligned to the top left (query i sees keys j <= i); the fused op's
    // flag aligns to the bottom right, which is the same when the lengths agree. Otherwise (and
    // where the probabilities are formed here) it is a mask, combined with the caller's.
    const withCausal = (m: Tensor | undefined) => {
      const tril = ops.tensor(Array.from({ length: sq * sk }, (_, e) => e % sk <= Math.floor(e / sk)), [1, 1, sq, sk], 'bool');
      return m ? ops.logicalAnd(m, tril) : tril;
    };
    const fusedCausal = causal && sq === sk;
    if (causal && !fusedCausal) mask = withCausal(mask);
    const decoding = decodeState();
    let o: Tensor;
    if (decoding) {
      // generate(): this call's keys and values go into the cache after the past ones, and the
      // queries attend to everything up to themselves (the causal flag's bottom-right alignment).
      const cache = decoding.caches.get(this);
      if (!cache) throw new Error(`${this.name}: no key/value cache; generate() makes one for each attention layer`);
      if (xs.length > 1 && (value !== query || key !== query)) throw new Error(`${this.name}: generate() needs self-attention (query, key and value the same tensor)`);
      const at = Uint32Array.of(0, 0, decoding.position, 0);
      cache.k.handle.assignSlice(k.handle, at);
      cache.v.handle.assignSlice(v.handle, at);
      o = ops.scaledDotProductAttention(q, cache.k, cache.v, { causal: true, kvLength: decoding.position + sq });
    } else if (kwargs.training && this.dropout > 0) {
      // Dropout acts on the probabilities, so they are formed here (as Keras: masked scores -1e9).
      let s = ops.matMul(q, k, false, true).mul(1 / Math.sqrt(dk));
      if (fusedCausal) mask = withCausal(mask);
      if (mask) s = ops.where(mask, s, ops.tensor(-1e9));
      o = ops.matMul(ops.dropout(ops.softmax(s), this.dropout, undefined, this.seed), v);
    } else {
      o = ops.scaledDotProductAttention(q, k, v, { mask, causal: fusedCausal });
    }
    // [b, h, sq, dv] -> [b, sq, h * dv] @ kernel [h * dv, out] + bias
    const out = ok!.shape[2];
    let y = ops.matMul(o.transpose([0, 2, 1, 3]).reshape([b * sq, h * dv]), ok!.reshape([h * dv, out]));
    if (ob) y = y.add(ob);
    return y.reshape([b, sq, out]);
  }

  /** Keras's attention_mask [batch, seqQ, seqK] (true or nonzero = attend) as a bool [batch, 1, seqQ, seqK]. */
  private attentionMask(mask: unknown, b: number, sq: number, sk: number): Tensor | undefined {
    if (mask === undefined || mask === null) return undefined;
    if (!(mask instanceof Object) || !('shape' in mask)) throw new Error(`${this.name}: attentionMask must be a tensor`);
    const m = mask as Tensor;
    const want = [b, sq, sk];
    if (m.rank !== 3 || m.shape.some((d, i) => d !== want[i] && d !== 1)) {
      throw new Error(`${this.name}: attentionMask of shape [${m.shape}] does not broadcast to [batch, seqQ, seqK] = [${want}]`);
    }
    return (m.dtype === 'bool' ? m : ops.notEqual(m, 0)).reshape([m.shape[0], 1, m.shape[1], m.shape[2]]);
  }

  getConfig() {
    return {
      ...super.getConfig(),
      numHeads: this.numHeads,
      keyDim: this.keyDim,
      valueDim: this.valueDim,
      dropout: this.dropout,
      useBias: this.useBias,
      outputShape: this.outputDim ?? null,
      useCausalMask: this.useCausalMask,
    };
  }
}

/** Mean over the sequence axis: [batch, seq, features] -> [batch, features]. */
export class GlobalAveragePooling1D extends Layer {
  getClassName() { return 'GlobalAveragePooling1D'; }
  computeOutputShape(s: Shape): Shape { checkRank(this, s, 3); return [s[0], s[2]]; }
  protected call(x: Tensor): Tensor { return ops.mean(x, 1); }
}

/** Max over the sequence axis: [batch, seq, features] -> [batch, features]. */
export class GlobalMaxPooling1D extends Layer {
  getClassName() { return 'GlobalMaxPooling1D'; }
  computeOutputShape(s: Shape): Shape { checkRank(this, s, 3); return [s[0], s[2]]; }
  protected call(x: Tensor): Tensor { return ops.max(x, 1); }
}

/**
 * Learned position embeddings (keras_hub's PositionEmbedding): for input [batch, seq, features]
 * (seq <= sequenceLength), the first seq rows of a [sequenceLength, features] table broadcast to
 * the input's shape; add them to the token embeddings.
 */
export class PositionEmbedding extends Layer {
  readonly sequenceLength: number;
  private embeddings?: Variable;
  private readonly init?: string | Initializer;
  constructor(args: LayerArgs & { sequenceLength: number; initializer?: string | Initializer }) {
    super(args);
    if (!positiveInt(args?.sequenceLength)) throw new Error(`PositionEmbedding: sequenceLength must be a positive integer, got ${String(args?.sequenceLength)}`);
    this.sequenceLength = args.sequenceLength;
    this.init = args.initializer;
  }
  getClassName() { return 'PositionEmbedding'; }
  computeOutputShape(s: Shape): Shape { return s; }
  build(s: Shape): void {
    checkRank(this, s, 3);
    const dim = s[2];
    if (dim === null) throw new Error(`${this.name}: the last input dimension must be known`);
    this.embeddings = this.newWeight('embeddings', [this.sequenceLength, dim], this.init, 'glorotUniform');
  }
  protected call(x: Tensor): Tensor {
    const [, seq, dim] = x.shape;
    // While generate() runs, this call's tokens start at the decoding position.
    const start = decodeState()?.position ?? 0;
    if (x.rank !== 3 || start + seq > this.sequenceLength) throw new Error(`${this.name}: positions ${start} to ${start + seq - 1} of input [${x.shape}] exceed sequenceLength ${this.sequenceLength}`);
    return ops.broadcastTo(ops.slice(this.embeddings!, [start, 0], [seq, dim]), x.shape);
  }
  getConfig() { return { ...super.getConfig(), sequenceLength: this.sequenceLength }; }
}
