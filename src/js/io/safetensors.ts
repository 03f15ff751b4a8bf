// safetensors for weights alone: an 8-byte little-endian header length, a JSON header of
// {name: {dtype, shape, data_offsets}}, then the raw data.
import * as ops from '../ops.js';
import type { Tensor } from '../tensor.js';

/** The model's weights as a safetensors file (8-byte header length, JSON header, F32 data). */
export async function toSafetensors(weights: Array<{ name: string; tensor: Tensor }>): Promise<Uint8Array> {
  const header: Record<string, unknown> = { __metadata__: { format: 'webtensor' } };
  const datas = await Promise.all(weights.map((w) => w.tensor.data()));
  let at = 0;
  weights.forEach((w, i) => {
    header[w.name] = { dtype: 'F32', shape: w.tensor.shape, data_offsets: [at, at + datas[i].byteLength] };
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

/** Reads a safetensors file into named float32 tensors (validating offsets first). */
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
  const out = new Map<string, Tensor>();
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (e.dtype !== 'F32') throw new Error(`${op}: tensor ${name} is ${e.dtype}; only F32 is supported`);
    const count = e.shape.reduce((a, b) => a * b, 1);
    const [s, t] = e.data_offsets;
    if (!(Number.isInteger(s) && Number.isInteger(t) && s >= 0 && t - s === count * 4 && base + t <= bytes.byteLength)) {
      throw new Error(`${op}: tensor ${name} of shape [${e.shape}] has bad offsets [${s}, ${t}]`);
    }
    out.set(name, ops.tensor(new Float32Array(bytes.slice(base + s, base + t).buffer), e.shape));
  }
  return out;
}
