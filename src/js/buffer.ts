// tf.buffer / TensorBuffer: a mutable host array with a shape, for building tensors element by
// element (TF.js's API), and tf.Rank.
import type { DataType, Tensor } from './tensor.js';
import * as ops from './ops.js';

export class TensorBuffer {
  readonly size: number;
  readonly strides: number[];
  readonly values: Float32Array | Int32Array | Uint8Array;

  constructor(readonly shape: number[], readonly dtype: DataType = 'float32', values?: ArrayLike<number>) {
    if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`buffer: shape must be non-negative integers, got ${JSON.stringify(shape)}`);
    this.size = shape.reduce((a, b) => a * b, 1);
    if (this.size > 2 ** 28) throw new Error(`buffer: shape [${shape}] is too large for a host buffer`);
    this.strides = shape.slice(1).map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
    const Ctor = dtype === 'int32' ? Int32Array : dtype === 'bool' ? Uint8Array : Float32Array;
    if (values !== undefined && values.length !== this.size) throw new Error(`buffer: ${values.length} values for shape [${shape}] (${this.size} elements)`);
    this.values = values ? Ctor.from(values) : new Ctor(this.size);
  }

  locToIndex(locs: number[]): number {
    if (locs.length !== this.shape.length || locs.some((l, i) => !Number.isInteger(l) || l < 0 || l >= this.shape[i])) throw new Error(`TensorBuffer: location [${locs}] is outside shape [${this.shape}]`);
    return locs.reduce((idx, l, i) => idx + l * (this.strides[i] ?? 1), 0);
  }

  indexToLoc(index: number): number[] {
    return this.shape.map((_, i) => Math.floor(index / (this.strides[i] ?? 1)) % this.shape[i]);
  }

  get(...locs: number[]): number { return this.values[this.locToIndex(locs)]; }
  set(value: number, ...locs: number[]): void { this.values[this.locToIndex(locs)] = value; }
  toTensor(): Tensor { return ops.tensor(this.dtype === 'bool' ? Array.from(this.values) : this.values, this.shape, this.dtype); }
}

export const buffer = (shape: number[], dtype: DataType = 'float32', values?: ArrayLike<number>) => new TensorBuffer(shape, dtype, values);

export const Rank = { R0: 'R0', R1: 'R1', R2: 'R2', R3: 'R3', R4: 'R4', R5: 'R5', R6: 'R6' } as const;
