// The Tensor class (TF.js-compatible surface) over a handle to a Rust tensor.
import type * as Wasm from '../../pkg/webtensor.js';
import { assertReady, keep, setTensorCheck, track, untrack, wasm } from './engine.js';
import * as ops from './ops.js';
import { registerVariable } from './variables.js';
import type { SpatialPadding } from './args.js';
import { image } from './image.js';
import { TensorBuffer } from './buffer.js';
import { dilation2d } from './window_max.js';

export type DataType = 'float32' | 'int32' | 'bool' | 'float16';
export type TypedArray = Float32Array | Int32Array | Uint8Array;
export type Rank = number;
export type TensorLike = Tensor | number | boolean | number[] | number[][] | number[][][] | number[][][][] | TypedArray | Uint16Array | boolean[];

let nextId = 0;
/** While tf.profile records an op: the tensors whose handles the op reads (its inputs). */
let handleReads: Set<Tensor> | null = null;
/** @internal */
export function watchHandleReads(reads: Set<Tensor> | null): void {
  handleReads = reads;
}
const DTYPES: DataType[] = ['float32', 'int32', 'bool', 'float16'];

/**
 * float16 through ops that compute in float32 (all but cast and reshape): while an op runs
 * (`widenHalves`), a float16 input hands the engine a widened view of itself (a lazy cast, fused
 * into the op's kernel where it reads its input that way), and the op reports whether it read
 * halves and whether it read float32 tensors of rank > 0 (float32 scalars, such as JS numbers,
 * do not promote float16, as in PyTorch).
 */
interface HalfScope { widened: Wasm.Tensor[]; readHalf: boolean; readSingle: boolean }
let halfScope: HalfScope | null = null;

/**
 * @internal An engine call over float16 inputs computes in float32 (the engine reads the halves
 * widened, inside its kernels) and gives float16, rounded once where its result is stored: the
 * dtype PyTorch gives, at float32's accuracy in between. A float32 input of rank > 0 makes the
 * result float32; int and bool results stay as they are.
 */
export function halfAware(f: () => Wasm.Tensor): Tensor {
  return halvesAware(() => [f()])[0];
}

/** @internal `halfAware` for an engine call with several results. */
export function halvesAware(f: () => Wasm.Tensor[]): Tensor[] {
  const { value, narrow } = widenHalves(f);
  return value.map((handle) => {
    const y = new Tensor(handle);
    if (!narrow || y.dtype !== 'float32') return y;
    const h = new Tensor(handle.cast('float16'));
    y.dispose();
    return h;
  });
}

/** Runs `f` with float16 inputs widened; frees the widened views after. */
function widenHalves<R>(f: () => R): { value: R; narrow: boolean } {
  const outer = halfScope;
  const scope: HalfScope = { widened: [], readHalf: false, readSingle: false };
  halfScope = scope;
  try {
    const value = f();
    return { value, narrow: scope.readHalf && !scope.readSingle };
  } finally {
    halfScope = outer;
    for (const w of scope.widened) w.free();
  }
}

/** dataSync()/arraySync() on a backend that can only read asynchronously (WebGPU). */
export class SyncReadbackError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SyncReadbackError';
  }
}

/** A complex64 tensor given to an op that takes only real ones. */
export class ComplexTensorError extends Error {}

export class Tensor {
  readonly id: number;
  readonly shape: number[];
  readonly dtype: DataType;
  /** @internal the Rust tensor; null once disposed */
  protected _handle: Wasm.Tensor | null;

  /** @internal wraps a wasm handle; use tf.tensor() and the ops to make tensors. Shape and dtype
   * are read once (one call into the engine) and kept here. A complex64 tensor (complex.ts) is
   * float32 pairs [..., 2] seen without their last axis. */
  constructor(handle: Wasm.Tensor, complex = false) {
    this._handle = handle;
    const meta = handle.meta;
    // (complex64 is not in DataType: no op but the complex ones ever sees it, see ComplexTensor)
    this.dtype = complex ? 'complex64' as DataType : DTYPES[meta[0]];
    this.shape = Array.from(meta.subarray(1, complex ? meta.length - 1 : meta.length));
    this.id = nextId++;
    track(this, handle);
  }

  /** @internal */
  get handle(): Wasm.Tensor {
    if (this._handle === null) throw new Error(`Tensor is disposed (id ${this.id}, shape [${this.shape}]); it cannot be used any more`);
    handleReads?.add(this);
    if (halfScope !== null) {
      if (this.dtype === 'float16') {
        halfScope.readHalf = true;
        const wide = this._handle.cast('float32');
        halfScope.widened.push(wide);
        return wide;
      }
      if (this.dtype === 'float32' && this.shape.length > 0) halfScope.readSingle = true;
    }
    return this._handle;
  }

  get rank(): number { return this.shape.length; }
  get size(): number { return this.shape.reduce((a, b) => a * b, 1); }
  get isDisposed(): boolean { return this._handle === null; }
  /** @internal */
  get sizeBytes(): number { return this.dtype === 'float16' ? Math.ceil(this.size / 2) * 4 : this.size * 4; }

  /** The values, read back asynchronously (the only way on WebGPU). */
  async data(): Promise<TypedArray> {
    const v = (await this.handle.data()) as Float32Array | Int32Array;
    return this.dtype === 'bool' ? Uint8Array.from(v as Int32Array) : v;
  }

  /**
   * Synchronous read: only where the backend can (CPU). On WebGPU, where reads are asynchronous,
   * it throws a `SyncReadbackError` naming `await t.data()` (it never blocks or hangs).
   */
  dataSync(): TypedArray {
    let v: Float32Array | Int32Array;
    try {
      v = this.handle.dataSync() as Float32Array | Int32Array;
    } catch (e) {
      throw new SyncReadbackError((e as Error).message);
    }
    return this.dtype === 'bool' ? Uint8Array.from(v as Int32Array) : v;
  }

  async array(): Promise<unknown> { return nest(Array.from(await this.data()), this.shape); }
  arraySync(): unknown { return nest(Array.from(this.dataSync()), this.shape); }

  async print(): Promise<void> {
    console.log(`Tensor\n  dtype: ${this.dtype}\n  rank: ${this.rank}\n  shape: [${this.shape}]\n  values: ${JSON.stringify(await this.array())}`);
  }

  toString(): string { return `Tensor(shape=[${this.shape}], dtype=${this.dtype})`; }

  dispose(): void {
    if (this._handle === null) return;
    this._handle.free();
    this._handle = null;
    untrack(this);
  }

  clone(): Tensor { return new Tensor(this.handle.clone()); }

  // ---- chained ops (same as the tf.* functions) ----
  add(b: TensorLike): Tensor { return ops.add(this, b); }
  sub(b: TensorLike): Tensor { return ops.sub(this, b); }
  mul(b: TensorLike): Tensor { return ops.mul(this, b); }
  div(b: TensorLike): Tensor { return ops.div(this, b); }
  pow(b: TensorLike): Tensor { return ops.pow(this, b); }
  maximum(b: TensorLike): Tensor { return ops.maximum(this, b); }
  minimum(b: TensorLike): Tensor { return ops.minimum(this, b); }
  squaredDifference(b: TensorLike): Tensor { return ops.squaredDifference(this, b); }
  mod(b: TensorLike): Tensor { return ops.mod(this, b); }
  equal(b: TensorLike): Tensor { return ops.equal(this, b); }
  notEqual(b: TensorLike): Tensor { return ops.notEqual(this, b); }
  less(b: TensorLike): Tensor { return ops.less(this, b); }
  lessEqual(b: TensorLike): Tensor { return ops.lessEqual(this, b); }
  greater(b: TensorLike): Tensor { return ops.greater(this, b); }
  greaterEqual(b: TensorLike): Tensor { return ops.greaterEqual(this, b); }
  matMul(b: TensorLike, transposeA = false, transposeB = false): Tensor { return ops.matMul(this, b, transposeA, transposeB); }
  neg(): Tensor { return ops.neg(this); }
  abs(): Tensor { return ops.abs(this); }
  exp(): Tensor { return ops.exp(this); }
  log(): Tensor { return ops.log(this); }
  sqrt(): Tensor { return ops.sqrt(this); }
  rsqrt(): Tensor { return ops.rsqrt(this); }
  square(): Tensor { return ops.square(this); }
  reciprocal(): Tensor { return ops.reciprocal(this); }
  relu(): Tensor { return ops.relu(this); }
  relu6(): Tensor { return ops.relu6(this); }
  elu(): Tensor { return ops.elu(this); }
  selu(): Tensor { return ops.selu(this); }
  leakyRelu(alpha = 0.2): Tensor { return ops.leakyRelu(this, alpha); }
  sigmoid(): Tensor { return ops.sigmoid(this); }
  tanh(): Tensor { return ops.tanh(this); }
  softplus(): Tensor { return ops.softplus(this); }
  sin(): Tensor { return ops.sin(this); }
  cos(): Tensor { return ops.cos(this); }
  tan(): Tensor { return ops.tan(this); }
  asin(): Tensor { return ops.asin(this); }
  acos(): Tensor { return ops.acos(this); }
  atan(): Tensor { return ops.atan(this); }
  sinh(): Tensor { return ops.sinh(this); }
  cosh(): Tensor { return ops.cosh(this); }
  asinh(): Tensor { return ops.asinh(this); }
  acosh(): Tensor { return ops.acosh(this); }
  atanh(): Tensor { return ops.atanh(this); }
  log1p(): Tensor { return ops.log1p(this); }
  expm1(): Tensor { return ops.expm1(this); }
  atan2(b: TensorLike): Tensor { return ops.atan2(this, b); }
  step(alpha = 0): Tensor { return ops.step(this, alpha); }
  isNaN(): Tensor { return ops.isNaN(this); }
  isInf(): Tensor { return ops.isInf(this); }
  isFinite(): Tensor { return ops.isFinite(this); }
  logicalXor(b: TensorLike): Tensor { return ops.logicalXor(this, b); }
  all(axis?: number | number[], keepDims = false): Tensor { return ops.all(this, axis, keepDims); }
  any(axis?: number | number[], keepDims = false): Tensor { return ops.any(this, axis, keepDims); }
  tile(reps: number[]): Tensor { return ops.tile(this, reps); }
  reverse(axis?: number | number[]): Tensor { return ops.reverse(this, axis); }
  cumsum(axis = 0, exclusive = false, reverse = false): Tensor { return ops.cumsum(this, axis, exclusive, reverse); }
  sign(): Tensor { return ops.sign(this); }
  floor(): Tensor { return ops.floor(this); }
  ceil(): Tensor { return ops.ceil(this); }
  round(): Tensor { return ops.round(this); }
  logSigmoid(): Tensor { return ops.logSigmoid(this); }
  geluTanh(): Tensor { return ops.geluTanh(this); }
  silu(): Tensor { return ops.silu(this); }
  clipByValue(min: number, max: number): Tensor { return ops.clipByValue(this, min, max); }
  sum(axis?: number | number[], keepDims = false): Tensor { return ops.sum(this, axis, keepDims); }
  mean(axis?: number | number[], keepDims = false): Tensor { return ops.mean(this, axis, keepDims); }
  prod(axis?: number | number[], keepDims = false): Tensor { return ops.prod(this, axis, keepDims); }
  max(axis?: number | number[], keepDims = false): Tensor { return ops.max(this, axis, keepDims); }
  min(axis?: number | number[], keepDims = false): Tensor { return ops.min(this, axis, keepDims); }
  argMax(axis = 0): Tensor { return ops.argMax(this, axis); }
  argMin(axis = 0): Tensor { return ops.argMin(this, axis); }
  softmax(axis = -1): Tensor { return ops.softmax(this, axis); }
  logSoftmax(axis = -1): Tensor { return ops.logSoftmax(this, axis); }
  reshape(shape: number[]): Tensor { return ops.reshape(this, shape); }
  flatten(): Tensor { return ops.reshape(this, [this.size]); }
  expandDims(axis = 0): Tensor { return ops.expandDims(this, axis); }
  squeeze(axis?: number[]): Tensor { return ops.squeeze(this, axis); }
  transpose(perm?: number[]): Tensor { return ops.transpose(this, perm); }
  slice(begin: number | number[], size?: number | number[]): Tensor { return ops.slice(this, begin, size); }
  gather(indices: TensorLike, axis = 0): Tensor { return ops.gather(this, indices, axis); }
  cast(dtype: DataType): Tensor { return ops.cast(this, dtype); }
  toFloat(): Tensor { return ops.cast(this, 'float32'); }
  toInt(): Tensor { return ops.cast(this, 'int32'); }
  asType(dtype: DataType): Tensor { return ops.cast(this, dtype); }
  as1D(): Tensor { return ops.reshape(this, [this.size]); }
  as2D(r: number, c: number): Tensor { return ops.reshape(this, [r, c]); }
  pad(paddings: Array<[number, number]>, constantValue = 0): Tensor { return ops.pad(this, paddings, constantValue); }
  conv2d(filter: Tensor, strides: number | [number, number], pad: SpatialPadding, dataFormat?: 'NHWC' | 'NCHW', dilations: number | [number, number] = 1, dimRoundingMode?: 'floor' | 'round' | 'ceil'): Tensor {
    return ops.conv2d(this, filter, strides, pad, dataFormat, dilations, dimRoundingMode);
  }
  depthwiseConv2d(filter: Tensor, strides: number | [number, number], pad: SpatialPadding, dataFormat?: 'NHWC' | 'NCHW', dilations: number | [number, number] = 1, dimRoundingMode?: 'floor' | 'round' | 'ceil'): Tensor {
    return ops.depthwiseConv2d(this, filter, strides, pad, dataFormat, dilations, dimRoundingMode);
  }
  conv2dTranspose(filter: Tensor, outputShape: number[], strides: number | [number, number], pad: SpatialPadding, dimRoundingMode?: 'floor' | 'round' | 'ceil'): Tensor {
    return ops.conv2dTranspose(this, filter, outputShape, strides, pad, dimRoundingMode);
  }
  maxPool(filterSize: number | [number, number], strides: number | [number, number], pad: 'same' | 'valid' | number, dimRoundingMode?: 'floor' | 'round' | 'ceil'): Tensor {
    return ops.maxPool(this, filterSize, strides, pad, dimRoundingMode);
  }
  avgPool(filterSize: number | [number, number], strides: number | [number, number], pad: 'same' | 'valid' | number, dimRoundingMode?: 'floor' | 'round' | 'ceil'): Tensor {
    return ops.avgPool(this, filterSize, strides, pad, dimRoundingMode);
  }
  batchNorm(mean: Tensor, variance: Tensor, offset?: Tensor, scale?: Tensor, varianceEpsilon?: number): Tensor { return ops.batchNorm(this, mean, variance, offset, scale, varianceEpsilon); }
  // The rest of TF.js's chained methods, each the op of the same name with this tensor first.
  variable(trainable = true, name?: string, dtype?: DataType): Variable { return ops.variable(this, trainable, name, dtype); }
  asScalar(): Tensor { return ops.reshape(this, []); }
  as3D(a: number, b: number, c: number): Tensor { return ops.reshape(this, [a, b, c]); }
  as4D(a: number, b: number, c: number, d: number): Tensor { return ops.reshape(this, [a, b, c, d]); }
  as5D(a: number, b: number, c: number, d: number, e: number): Tensor { return ops.reshape(this, [a, b, c, d, e]); }
  reshapeAs(x: Tensor): Tensor { return ops.reshape(this, x.shape); }
  toBool(): Tensor { return ops.cast(this, 'bool'); }
  broadcastTo(shape: number[]): Tensor { return ops.broadcastTo(this, shape); }
  concat(x: Tensor | Tensor[], axis = 0): Tensor { return ops.concat([this, ...(Array.isArray(x) ? x : [x])], axis); }
  stack(x: Tensor | Tensor[], axis = 0): Tensor { return ops.stack([this, ...(Array.isArray(x) ? x : [x])], axis); }
  split(numOrSizeSplits: number | number[], axis = 0): Tensor[] { return ops.split(this, numOrSizeSplits, axis); }
  unstack(axis = 0): Tensor[] { return ops.unstack(this, axis); }
  where(condition: TensorLike, b: TensorLike): Tensor { return ops.where(condition, this, b); }
  dot(b: TensorLike): Tensor { return ops.dot(this, b); }
  norm(ord?: number | 'euclidean' | 'fro', axis?: number | number[], keepDims = false): Tensor { return ops.norm(this, ord, axis, keepDims); }
  euclideanNorm(axis?: number | number[], keepDims = false): Tensor { return ops.euclideanNorm(this, axis, keepDims); }
  floorDiv(b: TensorLike): Tensor { return ops.floorDiv(this, b); }
  divNoNan(b: TensorLike): Tensor { return ops.divNoNan(this, b); }
  erf(): Tensor { return ops.erf(this); }
  logSumExp(axis = -1, keepDims = false): Tensor { return ops.logSumExp(this, axis, keepDims); }
  logicalAnd(b: TensorLike): Tensor { return ops.logicalAnd(this, b); }
  logicalOr(b: TensorLike): Tensor { return ops.logicalOr(this, b); }
  logicalNot(): Tensor { return ops.logicalNot(this); }
  oneHot(depth: number, onValue = 1, offValue = 0, dtype: DataType = 'int32'): Tensor { return ops.oneHot(this, depth, onValue, offValue, dtype); }
  onesLike(): Tensor { return ops.onesLike(this); }
  zerosLike(): Tensor { return ops.zerosLike(this); }
  /** The raw bytes of the values (TF.js bytes(): 4 per float32/int32 element, 1 per bool; 2 per
   * float16 element, its half-precision bits). */
  async bytes(): Promise<Uint8Array> {
    const v = await this.data();
    if (this.dtype === 'float16') return new Uint8Array(wasm.float32ToFloat16(v as Float32Array).buffer);
    return this.dtype === 'bool' ? Uint8Array.from(v) : new Uint8Array((this.dtype === 'int32' ? Int32Array.from(v) : Float32Array.from(v)).buffer);
  }
  /** The values in a mutable host buffer (read asynchronously). */
  async buffer(): Promise<TensorBuffer> { return new TensorBuffer(this.shape, this.dtype, await this.data()); }
  /** The same, read synchronously (the CPU backend only, as dataSync). */
  bufferSync(): TensorBuffer { return new TensorBuffer(this.shape, this.dtype, this.dataSync()); }
  unique(axis = 0): { values: Tensor; indices: Tensor } { return ops.unique(this, axis); }
  stridedSlice(begin: number[], end: number[], strides?: number[], beginMask = 0, endMask = 0, ellipsisMask = 0, newAxisMask = 0, shrinkAxisMask = 0): Tensor {
    return ops.stridedSlice(this, begin, end, strides, beginMask, endMask, ellipsisMask, newAxisMask, shrinkAxisMask);
  }
  unsortedSegmentSum(segmentIds: TensorLike, numSegments: number): Tensor { return ops.unsortedSegmentSum(this, segmentIds, numSegments); }
  topk(k = 1, sorted = true): { values: Tensor; indices: Tensor } { return ops.topk(this, k, sorted); }
  mirrorPad(paddings: Array<[number, number]>, mode: 'reflect' | 'symmetric'): Tensor { return ops.mirrorPad(this, paddings, mode); }
  prelu(alpha: TensorLike): Tensor { return ops.prelu(this, alpha); }
  cumprod(axis = 0, exclusive = false, reverse = false): Tensor { return ops.cumprod(this, axis, exclusive, reverse); }
  depthToSpace(blockSize: number, dataFormat: 'NHWC' | 'NCHW' = 'NHWC'): Tensor { return ops.depthToSpace(this, blockSize, dataFormat); }
  spaceToBatchND(blockShape: number[], paddings: number[][]): Tensor { return ops.spaceToBatchND(this, blockShape, paddings); }
  batchToSpaceND(blockShape: number[], crops: number[][]): Tensor { return ops.batchToSpaceND(this, blockShape, crops); }
  localResponseNormalization(depthRadius?: number, bias?: number, alpha?: number, beta?: number): Tensor { return ops.localResponseNormalization(this, depthRadius, bias, alpha, beta); }
  conv1d(filter: Tensor, stride: number, pad: 'same' | 'valid' | number, dataFormat: 'NWC' | 'NCW' = 'NWC', dilation = 1): Tensor { return ops.conv1d(this, filter, stride, pad, dataFormat, dilation); }
  separableConv2d(depthwiseFilter: Tensor, pointwiseFilter: Tensor, strides: number | [number, number], pad: 'same' | 'valid', dilation: number | [number, number] = 1, dataFormat: 'NHWC' | 'NCHW' = 'NHWC'): Tensor {
    return ops.separableConv2d(this, depthwiseFilter, pointwiseFilter, strides, pad, dilation, dataFormat);
  }
  dilation2d(filter: Tensor, strides: number | [number, number], pad: 'same' | 'valid', dilations: number | [number, number] = 1, dataFormat: 'NHWC' = 'NHWC'): Tensor {
    return dilation2d(this, filter, strides, pad, dilations, dataFormat);
  }
  pool(windowShape: number | [number, number], poolingType: 'avg' | 'max', pad: 'same' | 'valid' | number, dilations?: number | [number, number], strides?: number | [number, number]): Tensor {
    return ops.pool(this, windowShape, poolingType, pad, dilations, strides);
  }
  resizeBilinear(size: [number, number], alignCorners = false, halfPixelCenters = false): Tensor { return image.resizeBilinear(this, size, alignCorners, halfPixelCenters); }
  resizeNearestNeighbor(size: [number, number], alignCorners = false, halfPixelCenters = false): Tensor { return image.resizeNearestNeighbor(this, size, alignCorners, halfPixelCenters); }
}

/** A mutable tensor: a model weight. `assign` overwrites it in place. */
export class Variable extends Tensor {
  trainable: boolean;
  readonly name: string;

  /** @internal */
  constructor(handle: Wasm.Tensor, trainable: boolean, name: string) {
    super(handle);
    this.trainable = trainable;
    this.name = name;
    // A weight: the CPU backend keeps it packed for its products while it is not written.
    handle.markWeight();
    registerVariable(this);
    // Like TF.js, variables outlive tidy scopes (a model built lazily inside predict keeps them).
    keep(this);
  }

  assign(newValue: Tensor): void {
    this.handle.assign(newValue.handle);
  }

  /** TF.js LayerVariable's read(): the value (a variable is a tensor, so itself). */
  read(): Variable { return this; }

  /** TF.js LayerVariable's write(): assigns a new value. */
  write(newValue: Tensor): Variable {
    this.assign(newValue);
    return this;
  }
}

/**
 * TF.js's LayerVariable: a variable made from a value, named, whose write() applies an optional
 * constraint (as layers' weights are constrained after each update).
 */
export class LayerVariable extends Variable {
  readonly originalName: string;
  readonly constraint: { apply(x: Tensor): Tensor } | null;

  constructor(val: Tensor, dtype: DataType = 'float32', name = 'Variable', trainable = true, constraint: { apply(x: Tensor): Tensor } | null = null) {
    if (!(val instanceof Tensor)) throw new Error('LayerVariable: the value must be a tensor');
    if (!DTYPES.includes(dtype)) throw new Error(`LayerVariable: unknown dtype ${String(dtype)}`);
    if (constraint !== null && typeof constraint?.apply !== 'function') throw new Error('LayerVariable: constraint must have an apply(x) method');
    const src = val.dtype === dtype ? val : ops.cast(val, dtype);
    super(src.handle.detach(), trainable, name);
    if (src !== val) src.dispose();
    this.originalName = name;
    this.constraint = constraint;
  }

  write(newValue: Tensor): Variable {
    if (!this.constraint) return super.write(newValue);
    const constrained = this.constraint.apply(newValue);
    try {
      return super.write(constrained);
    } finally {
      constrained.dispose();
    }
  }
}

setTensorCheck((x: unknown): x is Tensor => x instanceof Tensor);

function nest(flat: number[], shape: number[]): unknown {
  if (shape.length === 0) return flat[0];
  if (shape.length === 1) return flat;
  const inner = shape.slice(1).reduce((a, b) => a * b, 1);
  const out = [];
  for (let i = 0; i < shape[0]; i++) out.push(nest(flat.slice(i * inner, (i + 1) * inner), shape.slice(1)));
  return out;
}

/** @internal asserts the backend runs, then wraps a fresh handle. */
export function fromHandle(op: string, make: () => Wasm.Tensor): Tensor {
  assertReady(op);
  return new Tensor(make());
}
