// Weight-only quantization (webtensor; TF.js has none): a float32 weight [k, n] becomes 4- or
// 8-bit codes in blocks of `blockSize` along k, each block with a scale (and, asymmetric, a zero
// point), held packed on the device: eight 4-bit or four 8-bit codes a 32-bit word; or (bits 16)
// the weight's values rounded to half precision, two a word, each block of scale 1. The matmul
// dequantizes in registers, so the weight never exists in float32 again. Gradients reach x, not
// the quantized weight: layers around it fine-tune (QLoRA's setting).
import type * as Wasm from '../../pkg/webtensor.js';
import { assertReady, wasm } from './engine.js';
import { intArg } from './args.js';
import { Tensor } from './tensor.js';

export interface QuantizeOptions {
  /** Bits a code: 4 or 8 (default 4); 16 holds the values as float16 (symmetric, scale 1). */
  bits?: number;
  /** Codes per block along k (default 32; for 16 bits, the whole of k); blockSize * bits must be
   * a multiple of 32. */
  blockSize?: number;
  /** Codes symmetric about the block's middle with one scale (default true), else a zero point per block from its min and max. */
  symmetric?: boolean;
}

/** Checked options, with their defaults. */
export function quantizeOptions(op: string, options: QuantizeOptions | undefined): Required<QuantizeOptions> {
  if (options === null || (options !== undefined && typeof options !== 'object')) throw new Error(`${op}: options must be an object`);
  const unknown = Object.keys(options ?? {}).filter((key) => !['bits', 'blockSize', 'symmetric'].includes(key));
  if (unknown.length) throw new Error(`${op}: unknown option ${unknown.join(', ')} (bits, blockSize, symmetric are taken)`);
  const { bits = 4, symmetric = true } = options ?? {};
  if (bits !== 4 && bits !== 8 && bits !== 16) throw new Error(`${op}: bits must be 4, 8 or 16, got ${String(bits)}`);
  if (bits === 16 && symmetric !== true) throw new Error(`${op}: 16-bit (float16) codes take no zero points: symmetric must be true`);
  // 0: one block a column (halves' blocks only lay out the codes: their scales are all 1).
  const blockSize = options?.blockSize ?? (bits === 16 ? 0 : 32);
  if (!(bits === 16 && blockSize === 0)) intArg(`${op}: blockSize`, blockSize, 1, 1 << 20);
  if ((blockSize * bits) % 32 !== 0) throw new Error(`${op}: blockSize * bits must be a multiple of 32 (whole 32-bit words a block), got ${blockSize} x ${bits}`);
  if (typeof symmetric !== 'boolean') throw new Error(`${op}: symmetric must be a boolean`);
  return { bits, blockSize, symmetric };
}

/** The block size `options` give a weight of `k` rows (a whole column, rounded up to even, for 0). */
export function blockFor(options: Required<QuantizeOptions>, k: number): number {
  return options.blockSize === 0 ? k + (k % 2) : options.blockSize;
}

function call(op: string, f: () => Wasm.Tensor): Tensor {
  assertReady(op);
  return new Tensor(f());
}

/** A weight [k, n] quantized by {@link quantize}. */
export class QuantizedTensor {
  /** @internal */
  constructor(
    readonly shape: [number, number],
    readonly bits: number,
    readonly blockSize: number,
    /** int32 [n, blocks, blockSize * bits / 32]: the packed codes, column by column. */
    readonly codes: Tensor,
    /** float32 [n, blocks]. */
    readonly scales: Tensor,
    /** float32 [n, blocks] codes, or null (symmetric: 2^(bits - 1)). */
    readonly zeroPoints: Tensor | null,
  ) {}

  get symmetric(): boolean { return this.zeroPoints === null; }

  /** Bytes held on the device: codes, scales and zero points. */
  get sizeBytes(): number {
    return 4 * (this.codes.size + this.scales.size + (this.zeroPoints?.size ?? 0));
  }

  /** The weight in float32 [k, n], as the matmul sees it. */
  dequantize(): Tensor {
    const [k, n] = this.shape;
    return call('dequantize', () => this.codes.handle.dequantizeWeight(this.scales.handle, this.zeroPoints?.handle.clone(), this.bits, this.blockSize, k, n));
  }

  dispose(): void {
    this.codes.dispose();
    this.scales.dispose();
    this.zeroPoints?.dispose();
  }
}

/**
 * Quantizes the float32 matrix `w` [k, n] (a Dense kernel's layout) in blocks along k, where it
 * lives (a kernel on WebGPU). Round to nearest even; symmetric blocks have scale absmax / (2^(bits-1) - 1).
 */
export function quantize(w: Tensor, options?: QuantizeOptions): QuantizedTensor {
  const op = 'quantize';
  if (!(w instanceof Tensor)) throw new Error(`${op}: w must be a tensor`);
  if (w.rank !== 2 || w.dtype !== 'float32') throw new Error(`${op}: w must be a float32 matrix [k, n], got ${w.dtype} [${w.shape}]`);
  const checked = quantizeOptions(op, options);
  const { bits, symmetric } = checked;
  const blockSize = blockFor(checked, w.shape[0]);
  assertReady(op);
  const parts = w.handle.quantizeWeight(bits, blockSize, symmetric).map((h) => new Tensor(h));
  return new QuantizedTensor([w.shape[0], w.shape[1]], bits, blockSize, parts[0], parts[1], parts[2] ?? null);
}

/** x [..., k] times the quantized weight w [k, n]: [..., n]. Differentiable in x. */
export function quantizedMatMul(x: Tensor, w: QuantizedTensor): Tensor {
  const op = 'quantizedMatMul';
  if (!(x instanceof Tensor)) throw new Error(`${op}: x must be a tensor`);
  if (!(w instanceof QuantizedTensor)) throw new Error(`${op}: w must be a QuantizedTensor (from tf.quantize)`);
  const [k, n] = w.shape;
  return call(op, () => x.handle.quantizedMatMul(w.codes.handle, w.scales.handle, w.zeroPoints?.handle.clone(), w.bits, w.blockSize, k, n));
}
