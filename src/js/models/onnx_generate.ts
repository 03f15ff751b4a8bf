// Text generation from an imported ONNX decoder (Hugging Face / Optimum exports): inputs
// `input_ids`, optionally `attention_mask` and `position_ids`, and a cache as inputs
// `past_key_values.<i>.key|value` with outputs `present.<i>.key|value`. The prompt runs once with
// an empty cache; then each new token runs alone on the presents of the step before, which stay
// on the device. A decoder exported without a cache reruns the whole sequence each step.
import { dispose } from '../engine.js';
import * as ops from '../ops.js';
import { Tensor } from '../tensor.js';
import { generateOptions, pick, promptRows, type GenerateOptions } from './generate.js';
import { mulberry32 } from '../random.js';

const OP = 'generate';
const PAST = /^past_key_values\.(\d+)\.(key|value)$/;

/** What generation needs of an ONNX model. */
export interface OnnxDecoder {
  readonly inputNames: string[];
  readonly outputNames: string[];
  inputShape(i: number): number[];
  /** Runs with the values of integer inputs given (so no readback is needed for them). */
  runKnown(inputs: Tensor[], known: (Int32Array | undefined)[]): Tensor[];
}

export async function generateOnnx(model: OnnxDecoder, prompt: number[] | number[][] | Tensor, options: GenerateOptions = {}): Promise<number[] | number[][]> {
  const { rows, flat } = await promptRows(prompt);
  const { maxNewTokens, temperature, topK, seed, eosTokenId, onToken } = generateOptions(options);
  const names = model.inputNames, outNames = model.outputNames;
  const role = names.map((n) => (n === 'input_ids' || n === 'attention_mask' || n === 'position_ids' ? n : PAST.test(n) ? 'past' : null));
  const unknown = names.filter((_, i) => role[i] === null);
  if (!names.includes('input_ids') || unknown.length) {
    throw new Error(`${OP}: the model's inputs must be input_ids, optionally attention_mask, position_ids and past_key_values.<i>.key|value; it has ${unknown.length ? `also ${unknown.join(', ')}` : 'no input_ids'}`);
  }
  // Where each past comes from: the output present.<i>.<key|value>.
  const presentOf = names.map((n, i) => {
    if (role[i] !== 'past') return -1;
    const at = outNames.indexOf(n.replace(/^past_key_values\./, 'present.'));
    if (at < 0) throw new Error(`${OP}: input ${n} has no matching output ${n.replace(/^past_key_values\./, 'present.')} (outputs: ${outNames.join(', ')})`);
    return at;
  });
  const logitsAt = Math.max(0, outNames.indexOf('logits'));
  const batch = rows.length;
  const past: (Tensor | null)[] = names.map((n, i) => {
    if (role[i] !== 'past') return null;
    const s = model.inputShape(i);
    if (s.length !== 4 || s[1] < 1 || s[3] < 1) throw new Error(`${OP}: input ${n} must declare [batch, heads, past, head size] with fixed heads and head size, got [${s}]`);
    return ops.zeros([batch, s[1], 0, s[3]]);
  });
  const cached = past.some((p) => p !== null);
  const random = mulberry32(seed ?? Math.floor(Math.random() * 2 ** 32));
  const done = rows.map(() => false);
  const result = rows.map((r) => [...r]);
  let seen = 0; // positions already in the cache
  try {
    for (let n = 0; n < maxNewTokens && !done.every(Boolean); n++) {
      const step = cached ? rows.map((r) => r.slice(seen)) : rows;
      const len = step[0].length, total = (cached ? seen : 0) + len;
      const values: Record<string, { data: Int32Array; shape: number[] }> = {
        input_ids: { data: Int32Array.from(step.flat()), shape: [batch, len] },
        attention_mask: { data: new Int32Array(batch * total).fill(1), shape: [batch, total] },
        position_ids: { data: Int32Array.from({ length: batch * len }, (_, k) => total - len + (k % len)), shape: [batch, len] },
      };
      const made: Tensor[] = [];
      const known: (Int32Array | undefined)[] = [];
      const inputs = names.map((name, i) => {
        if (role[i] === 'past') {
          known.push(undefined);
          return past[i] as Tensor;
        }
        const v = values[name];
        known.push(v.data);
        const t = ops.tensor(v.data, v.shape, 'int32');
        made.push(t);
        return t;
      });
      let outs: Tensor[];
      try {
        outs = model.runKnown(inputs, known);
      } finally {
        dispose(made);
      }
      const logits = outs[logitsAt];
      const vocab = logits.shape[2];
      const last = ops.slice(logits, [0, logits.shape[1] - 1, 0], [batch, 1, vocab]);
      const data = (await last.data()) as Float32Array;
      last.dispose();
      for (let i = 0; i < names.length; i++) {
        if (role[i] !== 'past') continue;
        past[i]?.dispose();
        past[i] = outs[presentOf[i]];
      }
      dispose(outs.filter((t) => !past.includes(t)));
      seen = total;
      // Finished rows keep being fed (the eos token) so that every row stays as long as the cache.
      rows.forEach((row, b) => {
        const token = done[b] ? (eosTokenId ?? 0) : pick(data.subarray(b * vocab, (b + 1) * vocab), temperature, topK, random);
        row.push(token);
        if (!done[b]) result[b].push(token);
        if (token === eosTokenId) done[b] = true;
      });
      if (onToken) await onToken(rows.map((r) => r[r.length - 1]), n);
    }
  } finally {
    dispose(past.filter((p): p is Tensor => p !== null));
  }
  return flat ? result[0] : result;
}
