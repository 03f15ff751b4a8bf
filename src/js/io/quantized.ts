// TF.js's quantized weights (tensorflowjs_converter --quantize_uint8 / _uint16 / _float16): a
// weight stored as uint8 or uint16 codes (value = code * scale + min, rounded for int32 weights)
// or as IEEE halves. They are dequantized as they load, as TF.js does: the stream of stored bytes
// becomes the stream of float32 / int32 words the tensors are filled from, one chunk at a time.
import { wasm } from '../engine.js';
import type { WeightsManifestEntry } from './types.js';

export interface Quantization { dtype: 'uint8' | 'uint16' | 'float16'; min?: number; scale?: number }

const STORED_BYTES = { uint8: 1, uint16: 2, float16: 2 } as const;

const quantizationOf = (s: WeightsManifestEntry) => (s as { quantization?: Quantization }).quantization;

/** Checks a weight's quantization as TF.js's decoder does; null when the weight is not quantized. */
export function checkQuantization(op: string, s: WeightsManifestEntry): Quantization | null {
  const q = quantizationOf(s);
  if (q === undefined || q === null) return null;
  if (typeof q !== 'object' || !Object.prototype.hasOwnProperty.call(STORED_BYTES, q.dtype)) {
    throw new Error(`${op}: weight ${s.name} has quantization dtype ${String((q as { dtype?: unknown })?.dtype)}; supported: uint8, uint16, float16`);
  }
  const dtype = s.dtype ?? 'float32';
  if (q.dtype === 'float16' && dtype !== 'float32') throw new Error(`${op}: weight ${s.name} is a ${dtype} weight quantized to float16, which only float32 weights can be`);
  if (dtype !== 'float32' && dtype !== 'int32') throw new Error(`${op}: weight ${s.name} of dtype ${dtype} cannot be quantized`);
  if (q.dtype !== 'float16' && !(Number.isFinite(q.min) && Number.isFinite(q.scale))) throw new Error(`${op}: weight ${s.name} is quantized to ${q.dtype} without a finite min and scale`);
  return q;
}

/** The bytes a weight takes in the file. */
export function storedBytes(s: WeightsManifestEntry): number {
  const n = s.shape.reduce((a, b) => a * b, 1);
  const q = quantizationOf(s);
  return n * (q ? STORED_BYTES[q.dtype] : s.dtype === 'bool' ? 1 : 4);
}

/** Whether any weight is quantized. */
export const anyQuantized = (specs: WeightsManifestEntry[]) => specs.some((s) => quantizationOf(s));

/** The weight's values from its stored bytes (the whole weight). */
function dequantize(s: WeightsManifestEntry, q: Quantization, bytes: Uint8Array): Float32Array | Int32Array {
  if (q.dtype === 'float16') return wasm.float16ToFloat32(bytes);
  const codes = q.dtype === 'uint8' ? bytes : new Uint16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const [scale, min] = [q.scale!, q.min!];
  if (s.dtype === 'int32') return Int32Array.from(codes, (c) => Math.round(c * scale + min));
  return Float32Array.from(codes, (c) => c * scale + min);
}

/**
 * Turns the stored weight bytes (in the specs' order, in chunks of any size) into the 4-byte words
 * the tensors hold: quantized weights dequantized, the rest passed through. It holds at most one
 * quantized weight's bytes at a time.
 */
class Dequantizer {
  private index = 0;
  private have = 0;
  private pending: Uint8Array[] = [];

  constructor(private readonly specs: WeightsManifestEntry[]) { this.skipEmpty(); }

  private skipEmpty(): void {
    while (this.index < this.specs.length && storedBytes(this.specs[this.index]) === 0) this.index++;
  }

  push(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      if (this.index >= this.specs.length) {
        out.push(chunk.subarray(pos)); // more bytes than the specs: the consumer refuses them
        break;
      }
      const s = this.specs[this.index];
      const size = storedBytes(s);
      const take = Math.min(size - this.have, chunk.length - pos);
      const q = quantizationOf(s);
      if (q) this.pending.push(chunk.slice(pos, pos + take));
      else out.push(chunk.subarray(pos, pos + take)); // a plain weight passes as it arrives
      pos += take;
      this.have += take;
      if (this.have < size) continue;
      if (q) {
        const values = dequantize(s, q, concat(this.pending));
        out.push(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
        this.pending = [];
      }
      this.index++;
      this.have = 0;
      this.skipEmpty();
    }
    return out;
  }

  /** What is left of a weight cut short (the consumer counts the bytes and refuses). */
  rest(): Uint8Array[] { return this.pending; }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** The stored weight bytes of `specs` as the words their tensors hold, chunk by chunk. */
export async function* dequantizedChunks(specs: WeightsManifestEntry[], chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const d = new Dequantizer(specs);
  for await (const c of chunks) yield* d.push(c);
  yield* d.rest();
}

/** All the stored weight data as the words their tensors hold (for weights given whole). */
export function dequantizeAll(specs: WeightsManifestEntry[], data: ArrayBuffer): ArrayBuffer {
  const d = new Dequantizer(specs);
  return concat([...d.push(new Uint8Array(data)), ...d.rest()]).buffer as ArrayBuffer;
}

/** The specs as the dequantized words describe them. */
export const dequantizedSpecs = (specs: WeightsManifestEntry[]): WeightsManifestEntry[] =>
  specs.map((s) => { const { quantization: _, ...rest } = s as WeightsManifestEntry & { quantization?: unknown }; return rest; });
