// Weight specs (a weights manifest) checked against limits and data before anything is allocated.
import { LIMITS, type WeightsManifestEntry } from './types.js';
import { checkQuantization, storedBytes } from './quantized.js';

/**
 * Checks weight specs for `op` (and, unless they are streamed, the data's length) before any
 * allocation: well-formed, of an allowed dtype and quantization, within the limits. Returns each
 * weight's byte offset and the bytes of all as loaded (4 a value), and the bytes stored in the file.
 */
export function checkWeights(
  op: string,
  specs: WeightsManifestEntry[],
  data: ArrayBuffer | undefined,
  options: { streamed?: boolean; dtypes?: string[] } = {},
): { offsets: number[]; total: number; stored: number } {
  const dtypes = options.dtypes ?? ['float32'];
  if (!Array.isArray(specs)) throw new Error(`${op}: weightSpecs must be an array`);
  if (specs.length > LIMITS.maxWeights) throw new Error(`${op}: ${specs.length} weights exceed the limit of ${LIMITS.maxWeights}`);
  const offsets: number[] = [];
  let total = 0;
  let stored = 0;
  for (const s of specs) {
    if (!s || typeof s.name !== 'string' || !Array.isArray(s.shape)) throw new Error(`${op}: malformed weight spec ${JSON.stringify(s)?.slice(0, 100)}`);
    checkQuantization(op, s);
    if (s.dtype !== undefined && !dtypes.includes(s.dtype)) throw new Error(`${op}: weight ${s.name} has dtype ${s.dtype}; only ${dtypes.join(' and ')} weights are supported`);
    if (s.shape.length > 8 || s.shape.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`${op}: weight ${s.name} has an invalid shape [${s.shape}]`);
    const n = s.shape.reduce((a, b) => a * b, 1);
    if (n > LIMITS.maxElementsPerWeight) throw new Error(`${op}: weight ${s.name} of shape [${s.shape}] is too large`);
    offsets.push(total);
    total += n * 4;
    stored += storedBytes(s);
    if (total > LIMITS.maxTotalBytes) throw new Error(`${op}: the weights declare more than ${LIMITS.maxTotalBytes} bytes`);
  }
  const have = data?.byteLength ?? 0;
  // Streamed data is counted as it arrives (streamInto).
  if (!options.streamed && have !== stored) throw new Error(`${op}: the weight specs need ${stored} bytes but the weight data has ${have}`);
  // offsets and total: of the weights as loaded (4 bytes a value, quantized or not)
  return { offsets, total, stored };
}
