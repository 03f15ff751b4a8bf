// Text generation from a layers model that maps token ids [batch, seq] to next-token logits
// [batch, seq, vocab] (a GPT: embeddings, causal multiHeadAttention, position-wise layers). The
// prompt runs once; then each new token runs alone, its attention reading the keys and values of
// every earlier position from a cache preallocated for the whole generation and filled in place.
import { dispose, tidy } from '../engine.js';
import * as ops from '../ops.js';
import { Tensor } from '../tensor.js';
import { withDecodeState, type DecodeState, type KVCache } from '../layers/decoding.js';
import { MultiHeadAttention } from '../layers/attention.js';
import type { LayersModel } from './sequential.js';
import { mulberry32 } from '../random.js';

export interface GenerateOptions {
  /** Tokens to add (default 16). */
  maxNewTokens?: number;
  /** 0 (the default): the most likely token each step; above 0: sampled from softmax(logits / temperature). */
  temperature?: number;
  /** Sample among the topK most likely tokens only. */
  topK?: number;
  /** Seed of the sampling (a fixed seed gives the same tokens). */
  seed?: number;
  /** A row stops growing once it has produced this token. */
  eosTokenId?: number;
  /** Called after each step with that step's new token per row (for streaming text to a page);
   * a returned promise is awaited before the next step. */
  onToken?: (tokens: number[], step: number) => void | Promise<void>;
}

/** Layers whose output at a position depends on that position's input only (or, for causal attention, on earlier ones). */
const STEPWISE = new Set(['InputLayer', 'Embedding', 'PositionEmbedding', 'MultiHeadAttention', 'Dense', 'LayerNormalization', 'Add', 'Multiply', 'Average', 'Activation', 'Dropout']);

const OP = 'generate';
const GENERATE_OPTIONS = ['maxNewTokens', 'temperature', 'topK', 'seed', 'eosTokenId', 'onToken'];

export async function promptRows(prompt: unknown): Promise<{ rows: number[][]; flat: boolean }> {
  let value = prompt;
  if (value instanceof Tensor) {
    if (value.rank < 1 || value.rank > 2) throw new Error(`${OP}: a prompt tensor must be [seq] or [batch, seq], got [${value.shape}]`);
    const ids = Array.from(await value.data());
    const len = value.shape[value.rank - 1];
    value = value.rank === 1 ? ids : Array.from({ length: value.shape[0] }, (_, b) => ids.slice(b * len, (b + 1) * len));
  }
  const flat = Array.isArray(value) && value.every((v) => typeof v === 'number');
  const rows = (flat ? [value] : value) as unknown[];
  if (!Array.isArray(rows) || rows.length === 0 || !rows.every((r) => Array.isArray(r) && r.length > 0 && r.length === (rows[0] as unknown[]).length)) {
    throw new Error(`${OP}: the prompt must be a non-empty array of token ids, or equal-length rows of them`);
  }
  for (const r of rows as unknown[][]) {
    if (!r.every((t) => Number.isInteger(t) && (t as number) >= 0 && (t as number) < 2 ** 31)) throw new Error(`${OP}: token ids must be non-negative integers, got [${r.slice(0, 8).join(', ')}${r.length > 8 ? ', ...' : ''}]`);
  }
  return { rows: (rows as number[][]).map((r) => [...r]), flat };
}

/** The next token from one row of logits. */
export function pick(logits: Float32Array, temperature: number, topK: number | undefined, random: () => number): number {
  let order = Array.from(logits.keys());
  if (temperature === 0 || topK === 1) return order.reduce((best, i) => (logits[i] > logits[best] ? i : best), 0);
  order.sort((a, b) => logits[b] - logits[a]);
  if (topK !== undefined) order = order.slice(0, topK);
  const top = logits[order[0]];
  const weights = order.map((i) => Math.exp((logits[i] - top) / temperature));
  let r = random() * weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < order.length; i++) {
    r -= weights[i];
    if (r < 0) return order[i];
  }
  return order[order.length - 1];
}

/** The options with their defaults, checked. */
export function generateOptions(options: GenerateOptions): Required<Omit<GenerateOptions, 'topK' | 'seed' | 'eosTokenId' | 'onToken'>> & GenerateOptions {
  if (options === null || typeof options !== 'object') throw new Error(`${OP}: options must be an object`);
  const { maxNewTokens = 16, temperature = 0, topK, seed, eosTokenId, onToken } = options;
  if (onToken !== undefined && typeof onToken !== 'function') throw new Error(`${OP}: onToken must be a function, got ${typeof onToken}`);
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0 || maxNewTokens > 1 << 16) throw new Error(`${OP}: maxNewTokens must be an integer in [0, 65536], got ${String(maxNewTokens)}`);
  if (!(typeof temperature === 'number' && temperature >= 0 && Number.isFinite(temperature))) throw new Error(`${OP}: temperature must be a finite number >= 0, got ${String(temperature)}`);
  if (topK !== undefined && !(Number.isInteger(topK) && topK > 0)) throw new Error(`${OP}: topK must be a positive integer, got ${String(topK)}`);
  if (seed !== undefined && !Number.isInteger(seed)) throw new Error(`${OP}: seed must be an integer, got ${String(seed)}`);
  if (eosTokenId !== undefined && !(Number.isInteger(eosTokenId) && eosTokenId >= 0)) throw new Error(`${OP}: eosTokenId must be a non-negative integer, got ${String(eosTokenId)}`);
  const unknown = Object.keys(options).filter((k) => !GENERATE_OPTIONS.includes(k));
  if (unknown.length) throw new Error(`${OP}: unknown option ${unknown.join(', ')} (options: ${GENERATE_OPTIONS.join(', ')})`);
  return { maxNewTokens, temperature, topK, seed, eosTokenId, onToken };
}

/**
 * Extends each prompt row by up to `maxNewTokens` tokens. `model` maps ids [batch, seq] (a free
 * sequence length: `tf.input({ shape: [null] })`) to logits [batch, seq, vocab] through layers that
 * work position by position and causal multiHeadAttention. Returns the rows with their new tokens
 * (one array for a one-dimensional prompt).
 */
export async function generate(model: LayersModel, prompt: number[] | number[][] | Tensor, options: GenerateOptions = {}): Promise<number[] | number[][]> {
  const { rows, flat } = await promptRows(prompt);
  const { maxNewTokens, temperature, topK, seed, eosTokenId, onToken } = generateOptions(options);
  const inShape = model.inputShape, outShape = model.outputShape;
  if (inShape.length !== 2 || inShape[1] !== null || outShape.length !== 3) {
    throw new Error(`${OP}: the model must map ids [batch, seq] with a free seq (tf.input({ shape: [null] })) to logits [batch, seq, vocab]; it takes [${inShape}] to [${outShape}]`);
  }
  const attention: MultiHeadAttention[] = [];
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    if (!STEPWISE.has(cls)) throw new Error(`${OP}: layer ${layer.name} (${cls}) mixes positions, which generation one token at a time cannot run`);
    if (layer instanceof MultiHeadAttention) {
      if (!layer.useCausalMask) throw new Error(`${OP}: attention layer ${layer.name} is not causal (useCausalMask: true)`);
      attention.push(layer);
    }
  }
  const batch = rows.length;
  const capacity = rows[0].length + maxNewTokens;
  const caches = new Map<object, KVCache>();
  for (const l of attention) caches.set(l, { k: ops.zeros([batch, l.numHeads, capacity, l.keyDim]), v: ops.zeros([batch, l.numHeads, capacity, l.valueDim]) });
  const state: DecodeState = { position: 0, caches };
  const random = mulberry32(seed ?? Math.floor(Math.random() * 2 ** 32));
  const done = rows.map(() => false);
  try {
    let step = rows.map((r) => r);
    for (let n = 0; n < maxNewTokens && !done.every(Boolean); n++) {
      const len = step[0].length;
      const last = withDecodeState(state, () => tidy(() => {
        const logits = (model.apply as (x: Tensor) => Tensor)(ops.tensor(step.flat(), [batch, len]));
        const vocab = logits.shape[2];
        return ops.slice(logits, [0, len - 1, 0], [batch, 1, vocab]).reshape([batch, vocab]);
      }));
      state.position += len;
      const values = (await last.data()) as Float32Array;
      const vocab = last.shape[1];
      last.dispose();
      step = rows.map((row, b) => {
        const token = done[b] ? (eosTokenId ?? 0) : pick(values.subarray(b * vocab, (b + 1) * vocab), temperature, topK, random);
        if (!done[b]) row.push(token);
        if (token === eosTokenId) done[b] = true;
        return [token];
      });
      if (onToken) await onToken(step.map(([t]) => t), n);
    }
  } finally {
    for (const c of caches.values()) dispose([c.k, c.v]);
  }
  return flat ? rows[0] : rows;
}
