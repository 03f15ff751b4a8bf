// safetensors for weights alone: an 8-byte little-endian header length, a JSON header of
// {name: {dtype, shape, data_offsets}}, then the raw data. F32, F16, BF16 (read as float32: every
// bfloat16 is one), I32 and BOOL.
import * as ops from '../ops.js';
import { wasm } from '../engine.js';
import type { DataType, Tensor } from '../tensor.js';

/** Bytes an element takes, by safetensors dtype. */
const ELEMENT_BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, I32: 4, BOOL: 1 };
const FILE_DTYPE: Record<DataType, string> = { float32: 'F32', float16: 'F16', int32: 'I32', bool: 'BOOL' };

/** The model's weights as a safetensors file (8-byte header length, JSON header, the data in
 * each tensor's own dtype). */
export async function toSafetensors(weights: Array<{ name: string; tensor: Tensor }>): Promise<Uint8Array> {
  const header: Record<string, unknown> = { __metadata__: { format: 'webtensor' } };
  const datas = await Promise.all(weights.map(async ({ tensor }) => {
    const v = await tensor.data();
    if (tensor.dtype === 'float16') return new Uint8Array(wasm.float32ToFloat16(v as Float32Array).buffer);
    if (tensor.dtype === 'bool') return Uint8Array.from(v);
    return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  }));
  let at = 0;
  weights.forEach((w, i) => {
    header[w.name] = { dtype: FILE_DTYPE[w.tensor.dtype], shape: w.tensor.shape, data_offsets: [at, at + datas[i].byteLength] };
    at += datas[i].byteLength;
  });
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((json.length + 8) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + at);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let off = 8 + headerBytes.length;
  for (const d of datas) {
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), off);
    off += d.byteLength;
  }
  return out;
}

/** Reads a safetensors file into named tensors (validating dtypes and offsets first): F16 as
 * float16, BF16 widened to float32. */
export function fromSafetensors(bytes: Uint8Array): Map<string, Tensor> {
  const op = 'fromSafetensors';
  if (bytes.byteLength < 8) throw new Error(`${op}: ${bytes.byteLength} bytes is too short for a safetensors file`);
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (n > bytes.byteLength - 8 || n > 100 * 2 ** 20) throw new Error(`${op}: header length ${n} does not fit the file`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new Error(`${op}: the header is not JSON (${(e as Error).message})`);
  }
  const base = 8 + n;
  if (!header || typeof header !== 'object' || Array.isArray(header)) throw new Error(`${op}: the header is not a JSON object`);
  // Every entry is checked, and the byte ranges must not overlap, before any tensor is made.
  const entries = Object.entries(header).filter(([name]) => name !== '__metadata__');
  const ranges: Array<[number, number, string]> = [];
  for (const [name, e] of entries) {
    if (!e || typeof e !== 'object') throw new Error(`${op}: tensor ${name} has no description`);
    const size = Object.hasOwn(ELEMENT_BYTES, String(e.dtype)) ? ELEMENT_BYTES[String(e.dtype)] : undefined;
    if (!size) throw new Error(`${op}: tensor ${name} is ${String(e.dtype)}; ${Object.keys(ELEMENT_BYTES).join(', ')} are supported`);
    if (!Array.isArray(e.shape) || e.shape.length > 8 || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) throw new Error(`${op}: tensor ${name} has an invalid shape`);
    const count = e.shape.reduce((a, b) => a * b, 1);
    const [s, t] = Array.isArray(e.data_offsets) ? e.data_offsets : [NaN, NaN];
    if (!(Number.isInteger(s) && Number.isInteger(t) && s >= 0 && t - s === count * size && base + t <= bytes.byteLength)) {
      throw new Error(`${op}: tensor ${name} of shape [${e.shape}] has bad offsets [${s}, ${t}]`);
    }
    ranges.push([s, t, name]);
  }
  ranges.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i][0] < ranges[i - 1][1]) throw new Error(`${op}: tensors ${ranges[i - 1][2]} and ${ranges[i][2]} overlap in the data`);
  }
  const out = new Map<string, Tensor>();
  for (const [name, e] of entries) {
    const [s, t] = e.data_offsets;
    const data = bytes.slice(base + s, base + t).buffer;
    if (e.dtype === 'F16') out.set(name, ops.tensor(new Uint16Array(data), e.shape, 'float16'));
    else if (e.dtype === 'BF16') out.set(name, ops.tensor(Float32Array.from(new Uint16Array(data), (h) => new Float32Array(new Uint32Array([h << 16]).buffer)[0]), e.shape));
    else if (e.dtype === 'I32') out.set(name, ops.tensor(new Int32Array(data), e.shape, 'int32'));
    else if (e.dtype === 'BOOL') out.set(name, ops.tensor(Array.from(new Uint8Array(data), (b) => b !== 0), e.shape, 'bool'));
    else out.set(name, ops.tensor(new Float32Array(data), e.shape));
  }
  return out;
}
