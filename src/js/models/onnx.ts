// tf.loadOnnxModel: ONNX models for inference, run by the engine's importer (src/onnx) on the
// current backend. Every op is checked before the weights load; an unsupported one is an Error
// naming the op, its node and the opset.
import type * as Wasm from '../../../pkg/webtensor.js';
import { assertReady, wasm } from '../engine.js';
import { Tensor, Variable } from '../tensor.js';
import { bytesFrom } from '../io/bytes.js';
import { generateOnnx } from './onnx_generate.js';
import type { GenerateOptions } from './generate.js';
import { ByteReader, responseChunks, streamInto } from '../io/stream.js';

/** Integer inputs up to this many elements are read by executeAsync (HOST_VALUES_MAX in src/onnx/mod.rs). */
const KNOWN_INPUT_MAX = 4096;

export class OnnxGraphModel {
  /** @internal */
  private inner: Wasm.OnnxModel | null;
  private weights: Variable[] | null = null;

  /** @internal */
  constructor(inner: Wasm.OnnxModel) {
    this.inner = inner;
  }

  private get model(): Wasm.OnnxModel {
    if (!this.inner) throw new Error('OnnxGraphModel: the model is disposed');
    return this.inner;
  }

  /** The graph inputs to feed (initializers excluded), in order. */
  get inputNames(): string[] { return this.model.inputNames; }
  get outputNames(): string[] { return this.model.outputNames; }
  get opset(): number { return this.model.opset; }
  /**
   * Bytes the quantized weights (MatMulNBits, and MatMulInteger's constant weights) hold on the
   * device: they stay 4- or 8-bit there, dequantized in registers by the matmul kernels.
   */
  get packedWeightBytes(): number { return this.model.packedWeightBytes; }

  /**
   * Runs the graph. Inputs: one tensor, an array in `inputNames` order, or a map by name. Returns
   * one tensor when the graph has one output, else an array in `outputNames` order.
   */
  execute(inputs: Tensor | Tensor[] | Record<string, Tensor>, options: { training?: boolean } = {}): Tensor | Tensor[] {
    const list = this.inputList(inputs, 'execute');
    const outs = this.model.run(list.map((t) => t.handle.clone()), options.training ?? false).map((h) => new Tensor(h));
    return outs.length === 1 ? outs[0] : outs;
  }

  /**
   * As `execute`, reading the values of small integer inputs first (positions, lengths, a total
   * sequence length), so that a graph whose shapes depend on them also runs on WebGPU, where
   * `execute` cannot read a tensor back synchronously.
   */
  async executeAsync(inputs: Tensor | Tensor[] | Record<string, Tensor>, options: { training?: boolean } = {}): Promise<Tensor | Tensor[]> {
    const list = this.inputList(inputs, 'executeAsync');
    const known = await Promise.all(list.map(async (t) => (t.dtype !== 'float32' && t.size <= KNOWN_INPUT_MAX ? Int32Array.from(await t.data() as ArrayLike<number>) : undefined)));
    const outs = this.model.runKnown(list.map((t) => t.handle.clone()), known, options.training ?? false).map((h) => new Tensor(h));
    return outs.length === 1 ? outs[0] : outs;
  }

  /** The declared shape of input `i` (-1 where it is free), e.g. a cache's heads and head size. */
  inputShape(i: number): number[] {
    return Array.from(this.model.inputShape(i));
  }

  /** @internal Runs with the values of integer inputs given, so that nothing is read back. */
  runKnown(inputs: Tensor[], known: (Int32Array | undefined)[]): Tensor[] {
    return this.model.runKnown(inputs.map((t) => t.handle.clone()), known, false).map((h) => new Tensor(h));
  }

  /**
   * Extends each prompt row by up to `maxNewTokens` tokens with a decoder exported with past
   * key/values (inputs past_key_values.<i>.key|value, outputs present.<i>.key|value): the prompt
   * runs once, then one token a step over the cache, which stays on the device. Greedy by
   * default; `temperature`, `topK` and `seed` sample. Returns the rows with their new tokens.
   */
  generate(prompt: number[] | number[][] | Tensor, options: GenerateOptions = {}): Promise<number[] | number[][]> {
    return generateOnnx(this, prompt, options);
  }

  private inputList(inputs: Tensor | Tensor[] | Record<string, Tensor>, op: string): Tensor[] {
    const names = this.inputNames;
    let list: Tensor[];
    if (inputs instanceof Tensor) list = [inputs];
    else if (Array.isArray(inputs)) list = inputs;
    else {
      list = names.map((n) => {
        const t = (inputs as Record<string, Tensor>)[n];
        if (!(t instanceof Tensor)) throw new Error(`OnnxGraphModel.${op}: no tensor given for input '${n}' (inputs: ${names.join(', ')})`);
        return t;
      });
    }
    list.forEach((t, i) => {
      if (!(t instanceof Tensor)) throw new Error(`OnnxGraphModel.${op}: input ${i} (${names[i] ?? '?'}) is not a tensor`);
    });
    if (list.length !== names.length) throw new Error(`OnnxGraphModel.${op}: the model takes ${names.length} inputs (${names.join(', ')}), got ${list.length}`);
    return list;
  }

  predict(inputs: Tensor | Tensor[] | Record<string, Tensor>): Tensor | Tensor[] {
    return this.execute(inputs);
  }

  /**
   * The model's float initializers as Variables sharing its storage, for fine-tuning: pass them
   * to an optimizer, and run `execute(x, { training: true })` inside `minimize` so that gradients
   * reach them. Stepping them changes the model.
   */
  get trainableWeights(): Variable[] {
    if (!this.weights) {
      const names = this.model.weightNames();
      this.weights = this.model.trainableWeights().map((h, i) => new Variable(h, true, names[i]));
    }
    return this.weights;
  }

  dispose(): void {
    this.weights?.forEach((w) => w.dispose());
    this.weights = null;
    this.inner?.free();
    this.inner = null;
  }
}

/**
 * Loads an ONNX model from a URL, or from its bytes. Initializers kept in external data files (as
 * models over protobuf's 2 GB limit are saved) stream from files beside the model's URL straight
 * into device buffers; when loading from bytes, give those files in `externalData` by location.
 * float16 MatMul and Gemm weights and embedding tables stay half precision (half the memory;
 * read widened inside the kernels) and are frozen like quantized weights; `float16Weights:
 * 'float32'` loads them as float32 weights that `trainableWeights` offers for fine-tuning.
 */
export async function loadOnnxModel(
  source: string | ArrayBuffer | Uint8Array,
  options: { externalData?: Record<string, ArrayBuffer | Uint8Array>; float16Weights?: 'half' | 'float32' } = {},
): Promise<OnnxGraphModel> {
  const op = 'loadOnnxModel';
  assertReady(op);
  const halfWeights = options.float16Weights ?? 'half';
  if (halfWeights !== 'half' && halfWeights !== 'float32') throw new Error(`${op}: float16Weights must be 'half' or 'float32', got ${JSON.stringify(halfWeights)}`);
  const inner = wasm.OnnxModel.fromBytes(await bytesFrom(source, op), halfWeights === 'float32');
  try {
    const refs = inner.externalData() as Array<{ name: string; location: string; offset: number; length: number }>;
    const byFile = new Map<string, typeof refs>();
    for (const r of refs) byFile.set(r.location, [...(byFile.get(r.location) ?? []), r]);
    for (const [location, list] of byFile) {
      const given = options.externalData?.[location];
      let chunks: AsyncIterable<Uint8Array>;
      if (given) chunks = (async function* () { yield given instanceof Uint8Array ? given : new Uint8Array(given); })();
      else if (typeof source === 'string') {
        const page = typeof globalThis.location !== 'undefined' ? globalThis.location.href : undefined;
        const url = new URL(location, new URL(source, page)).href;
        const res = await fetch(url);
        if (!res.ok) throw new Error(`${op}: fetching external data ${url} failed (${res.status} ${res.statusText})`);
        chunks = responseChunks(res);
      } else {
        throw new Error(`${op}: the model keeps initializers in '${location}'; load it from a URL, or pass { externalData: { '${location}': bytes } }`);
      }
      // One pass over each file, filling its tensors in offset order.
      const reader = new ByteReader(chunks);
      for (const r of [...list].sort((a, b) => a.offset - b.offset)) {
        if (r.offset < reader.position) throw new Error(`${op}: external data of '${r.name}' overlaps another initializer in '${location}'`);
        await reader.skip(r.offset - reader.position);
        const t = new Tensor(inner.initializer(r.name));
        try {
          await streamInto([t], reader.take(r.length), `${op} (${location})`);
        } finally {
          t.dispose();
        }
      }
    }
  } catch (e) {
    inner.free();
    throw e;
  }
  return new OnnxGraphModel(inner);
}

/** Decodes a serialized ONNX TensorProto (such as ONNX test data .pb files) into a tensor. */
export function decodeOnnxTensor(bytes: Uint8Array): Tensor {
  assertReady('decodeOnnxTensor');
  return new Tensor(wasm.tensorFromOnnx(bytes));
}
