// Weight-only quantization (webtensor; TF.js has none): a float32 weight [k, n] becomes 4- or
// 8-bit codes in blocks of `blockSize` along k, each block with a scale (and, asymmetric, a zero
// point), held packed on the device: eight 4-bit or four 8-bit codes a 32-bit word. The matmul
// dequantizes in registers, so the weight never exists in float32 again. Gradients reach x, not
// the quantized weight: layers around it fine-tune (QLoRA's setting).
import { assertReady, wasm } from './engine.js';
import { intArg } from './args.js';
import { Tensor } from './tensor.js';

export interface QuantizeOptions {
  /** Bits a code: 4 or 8 (default 4). */
  bits?: number;
  /** Codes per block along k (default 32); blockSize * bits must be a multiple of 32. */
  blockSize?: number;
  /** Codes symmetric about the block's middle with one scale (default true), else a zero point per block from its min and max. */
  symmetric?: boolean;
}

/** Checked options, with their defaults. */
export function quantizeOptions(op: string, options: QuantizeOptions | undefined): Required<QuantizeOptions> {
  if (options === null || (options !== undefined && typeof options !== 'object')) throw new Error(`${op}: options must be an object`);
  const unknown = Object.keys(options ?? {}).filter((key) => !['bits', 'blockSize', 'symmetric'].includes(key));
  if (unknown.length) throw new Error(`${op}: unknown option ${unknown.join(', ')} (bits, blockSize, symmetric are taken)`);
  const { bits = 4, blockSize = 32, symmetric = true } = options ?? {};
  if (bits !== 4 && bits !== 8) throw new Error(`${op}: bits must be 4 or 8, got ${String(bits)}`);
  intArg(`${op}: blockSize`, blockSize, 1, 1 << 20);
  if ((blockSize * bits) % 32 !== 0) throw new Error(`${op}: blockSize * bits must be a multiple of 32 (whole 32-bit words a block), got ${blockSize} x ${bits}`);
  if (typeof symmetric !== 'boolean') throw new Error(`${op}: symmetric must be a boolean`);
  return { bits, blockSize, symmetric };
}

function call(op: string, f: () => wasm.Tensor): Tensor {
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
  const { bits, blockSize, symmetric } = quantizeOptions(op, options);
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
