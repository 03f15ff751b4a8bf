// tf.* ops under TF.js names and argument orders. Each is a thin call into the Rust engine;
// errors from it are JS Errors naming the op and shapes.
import type * as Wasm from '../../pkg/webtensor.js';
import { assertReady, maxTensorBytes, tidy, wasm, whileDifferentiating } from './engine.js';
import { ArgumentError, axisArg, choiceArg, dimRoundingArg, dtypeArg, intArg, spatialPaddingArg, u32Arg, type SpatialPadding } from './args.js';
import { ComplexTensorError, halfAware, halvesAware, Tensor, Variable, type DataType, type TensorLike, type TypedArray } from './tensor.js';
import { allVariables } from './variables.js';
import { recordOp } from './profile.js';

type Shape = number[];
const u32 = (a: number[]) => u32Arg('sizes', a);

/** Shapes must be arrays of non-negative integers (a negative or fractional size would wrap). */
function shapeArg(op: string, shape: unknown): Uint32Array {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0 || d > 0xffffffff)) {
    throw new Error(`${op}: shape ${JSON.stringify(shape)} must be an array of non-negative integers`);
  }
  return u32(shape);
}

/**
 * Runs a wasm call for `op`. Engine errors already name the op and shapes; a non-tensor passed
 * where a tensor belongs (a TypeError on `.handle`) is reported as this op's argument error.
 */
function run(op: string, f: () => Wasm.Tensor): Tensor {
  assertReady(op);
  try {
    return recordOp(op, () => (HALF_NATIVE.has(op) ? new Tensor(f()) : halfAware(f)));
  } catch (e) {
    if (e instanceof ArgumentError || e instanceof ComplexTensorError) throw new Error(`${op}: ${e.message}`);
    if (e instanceof TypeError) throw new Error(`${op}: expected tensor arguments (${e.message})`);
    throw e;
  }
}

/** Ops the engine runs on float16 as it is stored (the rest read it widened: `halfAware`). */
const HALF_NATIVE: ReadonlySet<string> = new Set(['cast', 'reshape']);

/** Checks that `x` is a tensor (for ops that read its shape before calling the engine). */
function must(op: string, x: unknown): Tensor {
  if (!(x instanceof Tensor)) throw new Error(`${op}: expected a tensor, got ${x === null ? 'null' : Array.isArray(x) ? 'an array' : typeof x}`);
  return x;
}

// ---- creation --------------------------------------------------------------------------------

/** Dimensions a tensor can have (the engine's MAX_RANK): deeper nesting is refused before it can
 * overflow the stack. */
const MAX_RANK = 8;

function flatten(values: unknown, out: number[], shape: number[], depth: number): void {
  if (Array.isArray(values)) {
    if (depth >= MAX_RANK) throw new Error(`tensor: arrays nested more than ${MAX_RANK} deep (a tensor has at most ${MAX_RANK} dimensions)`);
    if (shape.length <= depth) shape.push(values.length);
    else if (shape[depth] !== values.length) throw new Error(`tensor: ragged nested array (expected ${shape[depth]} elements at depth ${depth}, got ${values.length})`);
    for (const v of values) flatten(v, out, shape, depth + 1);
  } else if (typeof values === 'number' || typeof values === 'boolean') {
    if (depth < shape.length) throw new Error('tensor: ragged nested array');
    out.push(Number(values));
  } else {
    throw new Error(`tensor: cannot make a tensor from ${typeof values}`);
  }
}

function inferDtype(values: unknown): DataType {
  if (values instanceof Int32Array || values instanceof Uint8Array) return values instanceof Uint8Array ? 'bool' : 'int32';
  let v: unknown = values;
  while (Array.isArray(v)) v = v[0];
  return typeof v === 'boolean' ? 'bool' : 'float32';
}

/** tf.tensor(values, shape?, dtype?) from a number, nested arrays or a typed array. A
 * Float32Array (float32) or Int32Array (int32) goes to the engine as it is: on WebGPU straight
 * into the device buffer, with no copy on the way. */
export function tensor(values: TensorLike, shape?: Shape, dtype?: DataType): Tensor {
  if (values instanceof Tensor) return values.clone();
  const dt = dtype ?? inferDtype(values);
  if (dt !== 'float32' && dt !== 'int32' && dt !== 'bool' && dt !== 'float16') throw new Error(`tensor: unknown dtype '${String(dt)}' (use float32, float16, int32 or bool)`);
  let flat: ArrayLike<number>;
  let inferred: number[] = [];
  if (ArrayBuffer.isView(values)) {
    flat = values as TypedArray;
    inferred = [flat.length];
  } else {
    const out: number[] = [];
    flatten(values, out, inferred, 0);
    flat = out;
  }
  const s = shape ?? inferred;
  if (!Array.isArray(s) || s.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`tensor: shape ${JSON.stringify(s)} must be non-negative integers`);
  const n = s.reduce((a, b) => a * b, 1);
  if (n * 4 > maxTensorBytes()) throw new Error(`tensor: shape [${s}] has ${n} elements, more than the backend can hold (${maxTensorBytes()} bytes)`);
  if (n !== flat.length) {
    if (flat.length === 1 && shape) flat = new Array(n).fill(flat[0]);
    else throw new Error(`tensor: ${flat.length} values cannot fill shape [${s}] (${n} elements)`);
  }
  // The engine takes float32 as Float32Array and int32/bool as Int32Array (bools as 0/1);
  // float16 as a Float32Array (it rounds to halves) or a Uint16Array of half-precision bits.
  let data: Float32Array | Int32Array | Uint16Array;
  if (dt === 'float16') data = flat instanceof Uint16Array || flat instanceof Float32Array ? flat : Float32Array.from(flat);
  else if (dt === 'float32') data = flat instanceof Float32Array ? flat : Float32Array.from(flat);
  else if (dt === 'int32') data = flat instanceof Int32Array ? flat : Int32Array.from(flat);
  else data = Int32Array.from(flat, (v) => (v ? 1 : 0));
  return run('tensor', () => wasm.Tensor.fromArray(data, u32(s), dt));
}

export const scalar = (v: number | boolean, dtype?: DataType) => tensor(v as number, [], dtype);
export const tensor1d = (v: TensorLike, dtype?: DataType) => tensor(v, undefined, dtype);
export const tensor2d = (v: TensorLike, shape?: Shape, dtype?: DataType) => tensor(v, shape, dtype);
export const tensor3d = tensor2d;
export const tensor4d = tensor2d;

export const fill = (shape: Shape, value: number, dtype: DataType = 'float32') => run('fill', () => wasm.Tensor.fill(shapeArg('fill', shape), value, dtypeArg('fill', dtype)));
export const zeros = (shape: Shape, dtype: DataType = 'float32') => fill(shape, 0, dtype);
export const ones = (shape: Shape, dtype: DataType = 'float32') => fill(shape, 1, dtype);
export const zerosLike = (x: Tensor) => zeros(x.shape, x.dtype);
export const onesLike = (x: Tensor) => ones(x.shape, x.dtype);

function seed32(seed?: number): number | undefined {
  return seed === undefined ? undefined : (Math.floor(seed) >>> 0);
}

export function randomNormal(shape: Shape, mean = 0, stdDev = 1, dtype: DataType = 'float32', seed?: number): Tensor {
  dtypeArg('randomNormal', dtype);
  const t = run('randomNormal', () => wasm.Tensor.randomNormal(shapeArg('randomNormal', shape), mean, stdDev, seed32(seed)));
  return dtype === 'float32' ? t : castAndDispose(t, dtype);
}

export function randomUniform(shape: Shape, minval = 0, maxval = 1, dtype: DataType = 'float32', seed?: number): Tensor {
  dtypeArg('randomUniform', dtype);
  const t = run('randomUniform', () => wasm.Tensor.randomUniform(shapeArg('randomUniform', shape), minval, maxval, seed32(seed)));
  return dtype === 'float32' ? t : castAndDispose(t, dtype);
}

/** Normal values within 2 standard deviations (TF.js truncatedNormal): values outside the band are
 * redrawn twice, and the rare value still outside (p ~ 1e-4) is clipped to the band. */
export function truncatedNormal(shape: Shape, mean = 0, stdDev = 1, dtype: DataType = 'float32', seed?: number): Tensor {
  return tidy(() => {
    let z = randomNormal(shape, 0, 1, 'float32', seed);
    for (let k = 1; k <= 2; k++) {
      const redraw = randomNormal(shape, 0, 1, 'float32', seed === undefined ? undefined : seed + 7919 * k);
      z = where(z.abs().lessEqual(2), z, redraw);
    }
    z = z.clipByValue(-2, 2);
    const t = z.mul(stdDev).add(mean);
    return dtype === 'float32' ? t : t.cast(dtype);
  });
}

function castAndDispose(t: Tensor, dtype: DataType): Tensor {
  const c = cast(t, dtype);
  t.dispose();
  return c;
}

export function variable(initialValue: Tensor, trainable = true, name?: string, dtype?: DataType): Variable {
  must('variable', initialValue);
  if (dtype !== undefined) dtypeArg('variable', dtype);
  const src = dtype && dtype !== initialValue.dtype ? cast(initialValue, dtype) : initialValue;
  assertReady('variable');
  const v = new Variable(src.handle.detach(), trainable, name ?? `Variable${variableCount++}`);
  if (src !== initialValue) src.dispose();
  return v;
}
let variableCount = 0;

// ---- argument conversion ------------------------------------------------------------------------

/** Calls `f` with `x` as a tensor, disposing a tensor made from a plain value afterwards. */
function withTensor<R>(op: string, x: TensorLike, f: (t: Tensor) => R): R {
  if (x instanceof Tensor) return f(x);
  if (!(typeof x === 'number' || typeof x === 'boolean' || Array.isArray(x) || ArrayBuffer.isView(x))) {
    throw new Error(`${op}: expected a tensor or tensor-like value, got ${x === null ? 'null' : typeof x}`);
  }
  // As in TF.js, a JS number is a float32 scalar: int32 tensor * 2 is float32.
  const t = tensor(x);
  try {
    return f(t);
  } finally {
    t.dispose();
  }
}

/**
 * TF.js's dtype rule for arithmetic: the result has the inputs' common dtype, so ops on bools
 * give bools (the engine computes them as int32: nonzero is true).
 */
function keepBool(inputs: Tensor[], y: Tensor): Tensor {
  if (y.dtype !== 'int32' || !inputs.every((t) => t.dtype === 'bool')) return y;
  const b = run('cast', () => y.handle.cast('bool'));
  y.dispose();
  return b;
}

/** `boolsStay: false`: two bools give int32 (TF.js's maximum, minimum and floorDiv). */
function binary(op: Wasm.BinaryOp, name: string, a: TensorLike, b: TensorLike, boolsStay = true): Tensor {
  return withTensor(name, a, (ta) => withTensor(name, b, (tb) => {
    const y = run(name, () => ta.handle.binary(op, tb.handle));
    return boolsStay ? keepBool([ta, tb], y) : y;
  }));
}
function compare(op: Wasm.CompareOp, name: string, a: TensorLike, b: TensorLike): Tensor {
  return withTensor(name, a, (ta) => withTensor(name, b, (tb) => run(name, () => ta.handle.compare(op, tb.handle))));
}
function unary(op: Wasm.UnaryOp, name: string, x: TensorLike, alpha?: number, beta?: number): Tensor {
  return withTensor(name, x, (t) => keepBool([t], run(name, () => t.handle.unary(op, alpha, beta))));
}

// ---- elementwise -------------------------------------------------------------------------------

/** add, sub and mul of complex64 tensors, as complex.ts registers it (it imports this file, not the reverse). */
type ComplexArithmetic = (op: 'add' | 'sub' | 'mul', a: Tensor, b: Tensor) => Tensor;
let complexArithmetic: ComplexArithmetic | null = null;
/** @internal */
export function registerComplexArithmetic(f: ComplexArithmetic): void { complexArithmetic = f; }

/** add, sub and mul: complex operands (either one) go to the complex arithmetic. */
function arithmetic(op: Wasm.BinaryOp, name: 'add' | 'sub' | 'mul', a: TensorLike, b: TensorLike): Tensor {
  return withTensor(name, a, (ta) => withTensor(name, b, (tb) => {
    const complex = (ta.dtype as string) === 'complex64' || (tb.dtype as string) === 'complex64';
    return complex && complexArithmetic ? complexArithmetic(name, ta, tb) : binary(op, name, ta, tb);
  }));
}

export const add = (a: TensorLike, b: TensorLike) => arithmetic(wasm.BinaryOp.Add, 'add', a, b);
export const sub = (a: TensorLike, b: TensorLike) => arithmetic(wasm.BinaryOp.Sub, 'sub', a, b);
export const mul = (a: TensorLike, b: TensorLike) => arithmetic(wasm.BinaryOp.Mul, 'mul', a, b);
export const div = (a: TensorLike, b: TensorLike) => binary(wasm.BinaryOp.Div, 'div', a, b);
/** floor(a / b), int32 whatever the inputs (TF.js's kernel always answers int32). */
export const floorDiv = (a: TensorLike, b: TensorLike) => tidy(() => {
  const y = binary(wasm.BinaryOp.Div, 'floorDiv', a, b, false);
  return y.dtype === 'float32' ? cast(floor(y), 'int32') : y;
});
export const pow = (a: TensorLike, b: TensorLike) => binary(wasm.BinaryOp.Pow, 'pow', a, b);
export const maximum = (a: TensorLike, b: TensorLike) => binary(wasm.BinaryOp.Maximum, 'maximum', a, b, false);
export const minimum = (a: TensorLike, b: TensorLike) => binary(wasm.BinaryOp.Minimum, 'minimum', a, b, false);
export const squaredDifference = (a: TensorLike, b: TensorLike) => binary(wasm.BinaryOp.SquaredDifference, 'squaredDifference', a, b);
export const mod = (a: TensorLike, b: TensorLike) => binary(wasm.BinaryOp.Mod, 'mod', a, b);
export const atan2 = (a: TensorLike, b: TensorLike) => binary(wasm.BinaryOp.Atan2, 'atan2', a, b);
/** The bits both int32 tensors of one shape have set (TF.js: int32 only, no broadcasting). */
export const bitwiseAnd = (x: Tensor, y: Tensor) => {
  [x, y].forEach((t) => must('bitwiseAnd', t));
  if (x.dtype !== 'int32' || y.dtype !== 'int32') throw new Error(`bitwiseAnd: x and y must be int32, got ${x.dtype} and ${y.dtype}`);
  if (x.shape.join() !== y.shape.join()) throw new Error(`bitwiseAnd: x [${x.shape}] and y [${y.shape}] must have one shape`);
  return binary(wasm.BinaryOp.BitwiseAnd, 'bitwiseAnd', x, y);
};
export const equal = (a: TensorLike, b: TensorLike) => compare(wasm.CompareOp.Equal, 'equal', a, b);
export const notEqual = (a: TensorLike, b: TensorLike) => compare(wasm.CompareOp.NotEqual, 'notEqual', a, b);
export const less = (a: TensorLike, b: TensorLike) => compare(wasm.CompareOp.Less, 'less', a, b);
export const lessEqual = (a: TensorLike, b: TensorLike) => compare(wasm.CompareOp.LessEqual, 'lessEqual', a, b);
export const greater = (a: TensorLike, b: TensorLike) => compare(wasm.CompareOp.Greater, 'greater', a, b);
export const greaterEqual = (a: TensorLike, b: TensorLike) => compare(wasm.CompareOp.GreaterEqual, 'greaterEqual', a, b);
export const logicalAnd = (a: TensorLike, b: TensorLike) => compare(wasm.CompareOp.LogicalAnd, 'logicalAnd', a, b);
export const logicalOr = (a: TensorLike, b: TensorLike) => compare(wasm.CompareOp.LogicalOr, 'logicalOr', a, b);
export const logicalNot = (x: Tensor) => run('logicalNot', () => x.handle.logicalNot());

export const neg = (x: TensorLike) => unary(wasm.UnaryOp.Neg, 'neg', x);
/** |x|; of a complex64 tensor, its magnitude (float32). */
export const abs = (x: TensorLike): Tensor => (x instanceof Tensor && x.dtype === ('complex64' as DataType) ? x.abs() : unary(wasm.UnaryOp.Abs, 'abs', x));
export const exp = (x: TensorLike) => unary(wasm.UnaryOp.Exp, 'exp', x);
export const log = (x: TensorLike) => unary(wasm.UnaryOp.Log, 'log', x);
export const sqrt = (x: TensorLike) => unary(wasm.UnaryOp.Sqrt, 'sqrt', x);
export const rsqrt = (x: TensorLike) => unary(wasm.UnaryOp.Rsqrt, 'rsqrt', x);
export const square = (x: TensorLike) => unary(wasm.UnaryOp.Square, 'square', x);
export const reciprocal = (x: TensorLike) => unary(wasm.UnaryOp.Reciprocal, 'reciprocal', x);
export const relu = (x: TensorLike) => unary(wasm.UnaryOp.Relu, 'relu', x);
export const relu6 = (x: TensorLike) => unary(wasm.UnaryOp.Relu6, 'relu6', x);
export const elu = (x: TensorLike) => unary(wasm.UnaryOp.Elu, 'elu', x);
export const selu = (x: TensorLike) => unary(wasm.UnaryOp.Selu, 'selu', x);
export const leakyRelu = (x: TensorLike, alpha = 0.2) => unary(wasm.UnaryOp.LeakyRelu, 'leakyRelu', x, alpha);
export const sigmoid = (x: TensorLike) => unary(wasm.UnaryOp.Sigmoid, 'sigmoid', x);
export const tanh = (x: TensorLike) => unary(wasm.UnaryOp.Tanh, 'tanh', x);
export const softplus = (x: TensorLike) => unary(wasm.UnaryOp.Softplus, 'softplus', x);
export const erf = (x: TensorLike) => unary(wasm.UnaryOp.Erf, 'erf', x);
export const gelu = (x: TensorLike) => unary(wasm.UnaryOp.Gelu, 'gelu', x);
export const sin = (x: TensorLike) => unary(wasm.UnaryOp.Sin, 'sin', x);
export const cos = (x: TensorLike) => unary(wasm.UnaryOp.Cos, 'cos', x);
export const tan = (x: TensorLike) => unary(wasm.UnaryOp.Tan, 'tan', x);
export const asin = (x: TensorLike) => unary(wasm.UnaryOp.Asin, 'asin', x);
export const acos = (x: TensorLike) => unary(wasm.UnaryOp.Acos, 'acos', x);
export const atan = (x: TensorLike) => unary(wasm.UnaryOp.Atan, 'atan', x);
export const sinh = (x: TensorLike) => unary(wasm.UnaryOp.Sinh, 'sinh', x);
export const cosh = (x: TensorLike) => unary(wasm.UnaryOp.Cosh, 'cosh', x);
export const asinh = (x: TensorLike) => unary(wasm.UnaryOp.Asinh, 'asinh', x);
export const acosh = (x: TensorLike) => unary(wasm.UnaryOp.Acosh, 'acosh', x);
export const atanh = (x: TensorLike) => unary(wasm.UnaryOp.Atanh, 'atanh', x);
export const log1p = (x: TensorLike) => unary(wasm.UnaryOp.Log1p, 'log1p', x);
export const expm1 = (x: TensorLike) => unary(wasm.UnaryOp.Expm1, 'expm1', x);
export const sign = (x: TensorLike) => unary(wasm.UnaryOp.Sign, 'sign', x);
export const floor = (x: TensorLike) => unary(wasm.UnaryOp.Floor, 'floor', x);
export const ceil = (x: TensorLike) => unary(wasm.UnaryOp.Ceil, 'ceil', x);
export const round = (x: TensorLike) => unary(wasm.UnaryOp.Round, 'round', x);
export const logSigmoid = (x: TensorLike) => unary(wasm.UnaryOp.LogSigmoid, 'logSigmoid', x);
/** GELU with the tanh approximation (GPT-2's; webtensor). */
export const geluTanh = (x: TensorLike) => unary(wasm.UnaryOp.GeluTanh, 'geluTanh', x);
/** x * sigmoid(x) as one op (SiLU, Keras's swish; webtensor). */
export const silu = (x: TensorLike) => unary(wasm.UnaryOp.Silu, 'silu', x);
export function clipByValue(x: TensorLike, min: number, max: number): Tensor {
  if (min > max) throw new Error(`clipByValue: min ${min} is greater than max ${max}`);
  return unary(wasm.UnaryOp.Clip, 'clipByValue', x, min, max);
}

export function where(condition: TensorLike, a: TensorLike, b: TensorLike): Tensor {
  return withTensor('where', condition, (c) => withTensor('where', a, (ta) => withTensor('where', b, (tb) => run('where', () => c.handle.where(ta.handle, tb.handle)))));
}

export const cast = (x: Tensor, dtype: DataType) => { must('cast', x); return run('cast', () => x.handle.cast(dtypeArg('cast', dtype))); };

// ---- reductions --------------------------------------------------------------------------------

function axes(axis?: number | number[]): Int32Array | undefined {
  return axis === undefined || axis === null ? undefined : Int32Array.from(Array.isArray(axis) ? axis : [axis], axisArg);
}
const reduce = (kind: Wasm.Reduce, op: string, x: TensorLike, axis?: number | number[], keepDims = false) =>
  withTensor(op, x, (t) => run(op, () => t.handle.reduce(kind, axes(axis), keepDims)));
export const sum = (x: TensorLike, axis?: number | number[], keepDims = false) => reduce(wasm.Reduce.Sum, 'sum', x, axis, keepDims);
export const mean = (x: TensorLike, axis?: number | number[], keepDims = false) => reduce(wasm.Reduce.Mean, 'mean', x, axis, keepDims);
export const prod = (x: TensorLike, axis?: number | number[], keepDims = false) => reduce(wasm.Reduce.Prod, 'prod', x, axis, keepDims);
export const max = (x: TensorLike, axis?: number | number[], keepDims = false) =>
  withTensor('max', x, (t) => keepBool([t], reduce(wasm.Reduce.Max, 'max', t, axis, keepDims)));
export const min = (x: TensorLike, axis?: number | number[], keepDims = false) =>
  withTensor('min', x, (t) => keepBool([t], reduce(wasm.Reduce.Min, 'min', t, axis, keepDims)));
export const argMax = (x: Tensor, axis = 0) => run('argMax', () => x.handle.argMax(axisArg(axis)));
export const argMin = (x: Tensor, axis = 0) => run('argMin', () => x.handle.argMin(axisArg(axis)));
export const logSumExp = (x: Tensor, axis = -1, keepDims = false) => run('logSumExp', () => x.handle.logSumExp(axisArg(Array.isArray(axis) ? axis[0] : axis), keepDims));

export function moments(x: Tensor, axis?: number | number[], keepDims = false): { mean: Tensor; variance: Tensor } {
  must('moments', x);
  assertReady('moments');
  const [m, v] = halvesAware(() => x.handle.moments(axes(axis), keepDims));
  return { mean: m, variance: v };
}

// ---- linear algebra, nn ------------------------------------------------------------------------

export const matMul = (a: TensorLike, b: TensorLike, transposeA = false, transposeB = false) =>
  withTensor('matMul', a, (ta) => withTensor('matMul', b, (tb) => run('matMul', () => ta.handle.matMul(tb.handle, transposeA, transposeB))));
/** TF.js's dot: matMul, where a 1-D operand is a row (left) or a column (right) and its axis is dropped. */
export const dot = (a: TensorLike, b: TensorLike) => withTensor('dot', a, (ta) => withTensor('dot', b, (tb) => tidy(() => {
  if (ta.rank < 1 || ta.rank > 2 || tb.rank < 1 || tb.rank > 2) throw new Error(`dot: inputs must be rank 1 or 2, got shapes [${ta.shape}] and [${tb.shape}]`);
  const left = ta.rank === 1 ? reshape(ta, [1, ta.shape[0]]) : ta;
  const right = tb.rank === 1 ? reshape(tb, [tb.shape[0], 1]) : tb;
  if (left.shape[1] !== right.shape[0]) throw new Error(`dot: inner dimensions of shapes [${ta.shape}] and [${tb.shape}] differ`);
  const y = matMul(left, right);
  const shape = [...(ta.rank === 2 ? [ta.shape[0]] : []), ...(tb.rank === 2 ? [tb.shape[1]] : [])];
  return reshape(y, shape);
})));
export const softmax = (x: Tensor, axis = -1) => run('softmax', () => x.handle.softmax(axisArg(axis)));
export const logSoftmax = (x: Tensor, axis = -1) => run('logSoftmax', () => x.handle.logSoftmax(axisArg(axis)));
/** One-hot rows of `depth`; int32 like TF.js's unless `dtype` says otherwise. */
export const oneHot = (indices: TensorLike, depth: number, onValue = 1, offValue = 0, dtype: DataType = 'int32') => withTensor('oneHot', indices, (t) => tidy(() => {
  if (!Number.isInteger(depth) || depth <= 0) throw new Error(`oneHot: depth ${depth} must be a positive integer`);
  const to = dtypeArg('oneHot', dtype);
  const ix = t.dtype === 'int32' ? t : cast(t, 'int32');
  const oh = run('oneHot', () => ix.handle.oneHot(intArg('depth', depth, 1, 0x7fffffff)));
  const values = onValue === 1 && offValue === 0 ? oh : add(mul(oh, onValue - offValue), offValue);
  return values.dtype === to ? values : cast(values, to);
}));

const pair = (v: number | number[]) => u32(Array.isArray(v) ? v : [v]);

/**
 * Runs a 2-D spatial op on rank-4 NHWC data: a rank-3 input gets a batch of 1 and loses it
 * again, NCHW data is transposed in and out.
 */
function spatial(op: string, x: Tensor, dataFormat: unknown, f: (x4: Tensor) => Tensor): Tensor {
  must(op, x);
  const format = choiceArg(op, 'dataFormat', dataFormat, ['NHWC', 'NCHW'] as const);
  if (x.rank !== 3 && x.rank !== 4) throw new Error(`${op}: x must be rank 3 or 4, got shape [${x.shape}]`);
  return tidy(() => {
    let x4 = x.rank === 3 ? reshape(x, [1, ...x.shape]) : x;
    if (format === 'NCHW') x4 = transpose(x4, [0, 2, 3, 1]);
    let y = f(x4);
    if (format === 'NCHW') y = transpose(y, [0, 3, 1, 2]);
    return x.rank === 3 ? reshape(y, y.shape.slice(1)) : y;
  });
}

export function conv2d(x: Tensor, filter: Tensor, strides: number | [number, number], pad: SpatialPadding, dataFormat: 'NHWC' | 'NCHW' = 'NHWC', dilations: number | [number, number] = 1, dimRoundingMode?: 'floor' | 'round' | 'ceil'): Tensor {
  dimRoundingArg('conv2d', dimRoundingMode);
  const [mode, pads] = spatialPaddingArg('conv2d', pad, true, dataFormat);
  return spatial('conv2d', x, dataFormat, (x4) => run('conv2d', () => x4.handle.conv2d(filter.handle, pair(strides), mode, pads, pair(dilations))));
}

export function depthwiseConv2d(x: Tensor, filter: Tensor, strides: number | [number, number], pad: SpatialPadding, dataFormat: 'NHWC' | 'NCHW' = 'NHWC', dilations: number | [number, number] = 1, dimRoundingMode?: 'floor' | 'round' | 'ceil'): Tensor {
  dimRoundingArg('depthwiseConv2d', dimRoundingMode);
  const [mode, pads] = spatialPaddingArg('depthwiseConv2d', pad, true, dataFormat);
  return spatial('depthwiseConv2d', x, dataFormat, (x4) => run('depthwiseConv2d', () => x4.handle.depthwiseConv2d(filter.handle, pair(strides), mode, pads, pair(dilations))));
}

export function conv2dTranspose(x: Tensor, filter: Tensor, outputShape: number[], strides: number | [number, number], pad: SpatialPadding, dimRoundingMode?: 'floor' | 'round' | 'ceil'): Tensor {
  dimRoundingArg('conv2dTranspose', dimRoundingMode);
  const [mode, pads] = spatialPaddingArg('conv2dTranspose', pad, true);
  must('conv2dTranspose', x);
  const out = Array.isArray(outputShape) && outputShape.length === 3 && x.rank === 3 ? [1, ...outputShape] : outputShape;
  return spatial('conv2dTranspose', x, 'NHWC', (x4) => run('conv2dTranspose', () => x4.handle.conv2dTranspose(filter.handle, u32(out), pair(strides), mode, pads)));
}

export function maxPool(x: Tensor, filterSize: number | [number, number], strides: number | [number, number], pad: 'same' | 'valid' | number, dimRoundingMode?: 'floor' | 'round' | 'ceil'): Tensor {
  dimRoundingArg('maxPool', dimRoundingMode);
  const [mode, pads] = spatialPaddingArg('maxPool', pad, false);
  return spatial('maxPool', x, 'NHWC', (x4) => run('maxPool', () => x4.handle.maxPool(pair(filterSize), pair(strides), mode, pads)));
}

export function avgPool(x: Tensor, filterSize: number | [number, number], strides: number | [number, number], pad: 'same' | 'valid' | number, dimRoundingMode?: 'floor' | 'round' | 'ceil'): Tensor {
  dimRoundingArg('avgPool', dimRoundingMode);
  const [mode, pads] = spatialPaddingArg('avgPool', pad, false);
  return spatial('avgPool', x, 'NHWC', (x4) => run('avgPool', () => x4.handle.avgPool(pair(filterSize), pair(strides), mode, pads)));
}

export const dropout = (x: Tensor, rate: number, noiseShape?: number[], seed?: number) => {
  if (noiseShape) throw new Error('dropout: noiseShape is not supported');
  return run('dropout', () => x.handle.dropout(rate, seed32(seed)));
};

export function batchNorm(x: Tensor, mean: Tensor, variance: Tensor, offset?: Tensor, scale?: Tensor, varianceEpsilon = 0.001): Tensor {
  [x, mean, variance].forEach((t) => must('batchNorm', t));
  if (offset !== undefined) must('batchNorm', offset);
  if (scale !== undefined) must('batchNorm', scale);
  return run('batchNorm', () => x.handle.batchNorm(mean.handle, variance.handle, offset?.handle.clone(), scale?.handle.clone(), varianceEpsilon));
}

/** Layer normalisation over the last axis (webtensor; one kernel forward, two backward). */
export function layerNorm(x: Tensor, gamma?: Tensor, beta?: Tensor, epsilon = 1e-3): Tensor {
  must('layerNorm', x);
  return run('layerNorm', () => x.handle.layerNorm(gamma?.handle.clone(), beta?.handle.clone(), epsilon));
}

/** RMS normalisation over the last axis (webtensor). */
export function rmsNorm(x: Tensor, gamma?: Tensor, epsilon = 1e-6): Tensor {
  must('rmsNorm', x);
  return run('rmsNorm', () => x.handle.rmsNorm(gamma?.handle.clone(), epsilon));
}

/**
 * Rotary position embeddings (webtensor): rotates the first `rot` features of each position of
 * x [..., seq, d] in pairs by the angles whose cosines and sines are rows offset .. offset + seq of
 * `cos` and `sin` ([table, rot / 2]). Pairs (i, i + rot/2) by default (GPT-NeoX, LLaMA), (2i, 2i+1)
 * with `interleaved` (GPT-J). Differentiable in x, cos and sin.
 */
export function rope(x: Tensor, cos: Tensor, sin: Tensor, options: { offset?: number; interleaved?: boolean } = {}): Tensor {
  const op = 'rope';
  for (const [name, t] of [['x', x], ['cos', cos], ['sin', sin]] as const) {
    if (!(t instanceof Tensor)) throw new Error(`${op}: ${name} must be a tensor`);
  }
  if (options === null || typeof options !== 'object') throw new Error(`${op}: options must be an object`);
  const { offset = 0, interleaved = false } = options;
  if (!Number.isInteger(offset) || offset < 0 || offset > 0x7fffffff) throw new Error(`${op}: offset must be a non-negative integer, got ${String(offset)}`);
  if (typeof interleaved !== 'boolean') throw new Error(`${op}: interleaved must be a boolean`);
  return run(op, () => x.handle.rope(cos.handle, sin.handle, offset, interleaved));
}

/** Options of {@link scaledDotProductAttention}. */
export interface AttentionOptions {
  /** Added to the scores (float32), or where a query may attend (bool); broadcasts to [batch, heads, seqQ, seqK]. */
  mask?: Tensor;
  /** Query i attends to keys j <= i + seqK - seqQ (aligned to the bottom right, as decoding with a cache needs). */
  causal?: boolean;
  /** Multiplies q k^T; 1 / sqrt(headSize) by default. */
  scale?: number;
  /** Attend to the first kvLength keys of k and v only (a preallocated key/value cache). */
  kvLength?: number;
}

/**
 * softmax(q k^T * scale + mask) v as one fused op (webtensor; PyTorch's
 * `scaled_dot_product_attention`): q [batch, heads, seqQ, d], k [batch, kvHeads, seqK, d],
 * v [batch, kvHeads, seqK, dv], kvHeads dividing heads (grouped-query attention). The score
 * matrix is never materialised; rows that attend to no key give zeros. Differentiable in q, k, v
 * and a float mask.
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions = {}): Tensor {
  const op = 'scaledDotProductAttention';
  for (const [name, t] of [['q', q], ['k', k], ['v', v]] as const) {
    if (!(t instanceof Tensor)) throw new Error(`${op}: ${name} must be a tensor`);
  }
  if (options === null || typeof options !== 'object') throw new Error(`${op}: options must be an object`);
  const { mask, causal = false, scale, kvLength } = options;
  if (mask !== undefined && !(mask instanceof Tensor)) throw new Error(`${op}: mask must be a tensor`);
  if (typeof causal !== 'boolean') throw new Error(`${op}: causal must be a boolean, got ${typeof causal}`);
  if (scale !== undefined && !(typeof scale === 'number' && Number.isFinite(scale))) throw new Error(`${op}: scale must be a finite number`);
  if (kvLength !== undefined && !(Number.isInteger(kvLength) && kvLength >= 0 && kvLength <= k.shape[2])) throw new Error(`${op}: kvLength must be an integer in [0, ${k.shape[2]}], got ${String(kvLength)}`);
  return run(op, () => q.handle.attention(k.handle, v.handle, mask?.handle.clone(), causal, scale, kvLength));
}

// ---- layout ------------------------------------------------------------------------------------

export function reshape(x: Tensor, shape: number[]): Tensor {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < -1 || d > 0x7fffffff)) {
    throw new Error(`reshape: target shape ${JSON.stringify(shape)} must be integers (one may be -1)`);
  }
  return run('reshape', () => x.handle.reshape(Int32Array.from(shape)));
}
export const transpose = (x: Tensor, perm?: number[]) => run('transpose', () => x.handle.transpose(perm ? u32(perm) : undefined));
export function expandDims(x: Tensor, axis = 0): Tensor {
  must('expandDims', x);
  const a = axis < 0 ? x.rank + 1 + axis : axis;
  if (!Number.isInteger(a) || a < 0 || a > x.rank) throw new Error(`expandDims: axis ${axis} is out of range for rank ${x.rank}`);
  const s = [...x.shape];
  s.splice(a, 0, 1);
  return reshape(x, s);
}
export function squeeze(x: Tensor, axis?: number[]): Tensor {
  must('squeeze', x);
  const drop = (axis ?? x.shape.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0)).map((a) => (a < 0 ? a + x.rank : a));
  for (const a of drop) if (x.shape[a] !== 1) throw new Error(`squeeze: axis ${a} of shape [${x.shape}] is not 1`);
  return reshape(x, x.shape.filter((_, i) => !drop.includes(i)));
}
export function slice(x: Tensor, begin: number | number[], size?: number | number[]): Tensor {
  must('slice', x);
  const b = Array.isArray(begin) ? [...begin] : [begin];
  while (b.length < x.rank) b.push(0);
  const s = size === undefined ? x.shape.map(() => -1) : Array.isArray(size) ? [...size] : [size];
  while (s.length < x.rank) s.push(-1);
  return run('slice', () => x.handle.slice(u32(b), Int32Array.from(s, (v) => intArg('size', v, -1, 0x7fffffff))));
}
export function concat(tensors: Tensor[], axis = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) throw new Error('concat: needs at least one tensor');
  tensors.forEach((t) => must('concat', t));
  return run('concat', () => wasm.Tensor.concat(tensors.map((t) => t.handle.clone()), axisArg(axis)));
}
export function stack(tensors: Tensor[], axis = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) throw new Error('stack: needs at least one tensor');
  tensors.forEach((t) => must('stack', t));
  return run('stack', () => wasm.Tensor.stack(tensors.map((t) => t.handle.clone()), axisArg(axis)));
}
export function unstack(x: Tensor, axis = 0): Tensor[] {
  must('unstack', x);
  const a = axis < 0 ? axis + x.rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= x.rank) throw new Error(`unstack: axis ${axis} is out of range for shape [${x.shape}]`);
  return tidy(() => {
    const out: Tensor[] = [];
    for (let i = 0; i < x.shape[a]; i++) {
      const begin = x.shape.map((_, d) => (d === a ? i : 0));
      const size = x.shape.map((d, k) => (k === a ? 1 : d));
      out.push(squeeze(slice(x, begin, size), [a]));
    }
    return out;
  });
}
export function split(x: Tensor, numOrSizes: number | number[], axis = 0): Tensor[] {
  must('split', x);
  const a = axis < 0 ? axis + x.rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= x.rank) throw new Error(`split: axis ${axis} is out of range for shape [${x.shape}]`);
  if (!Array.isArray(numOrSizes) && !(Number.isInteger(numOrSizes) && numOrSizes > 0)) throw new Error(`split: numOrSizeSplits must be a positive integer or an array of sizes, got ${String(numOrSizes)}`);
  const sizes = Array.isArray(numOrSizes) ? [...numOrSizes] : new Array(numOrSizes).fill(x.shape[a] / numOrSizes);
  // One size may be -1: whatever the others leave (TF.js).
  const rest = sizes.indexOf(-1);
  if (rest >= 0 && sizes.lastIndexOf(-1) === rest) sizes[rest] = x.shape[a] - sizes.reduce((p, v, i) => (i === rest ? p : p + v), 0);
  if (sizes.some((s) => !Number.isInteger(s) || s < 0) || sizes.reduce((p, v) => p + v, 0) !== x.shape[a]) {
    throw new Error(`split: sizes [${sizes}] do not split axis ${axis} of shape [${x.shape}]`);
  }
  let at = 0;
  return sizes.map((s) => {
    const begin = x.shape.map((_, d) => (d === a ? at : 0));
    const size = x.shape.map((d, k) => (k === a ? s : d));
    at += s;
    return slice(x, begin, size);
  });
}
export const gather = (x: Tensor, indices: TensorLike, axis = 0, batchDims = 0) =>
  withTensor('gather', indices, (ix) => {
    must('gather', x);
    const ii = ix.dtype === 'float32' ? cast(ix, 'int32') : ix;
    try {
      if (batchDims === 0) return run('gather', () => x.handle.gather(ii.handle, axisArg(axis)));
      return tidy(() => batchedGather(x, ii, axis, batchDims));
    } finally {
      if (ii !== ix) ii.dispose();
    }
  });

/**
 * TF.js's gather with `batchDims` b: the first b dimensions of x and of the indices are a batch,
 * and each batch entry gathers along `axis` with its own indices. Composed from one plain gather
 * over the batch entries laid end to end (each entry's indices offset by its start); an index
 * outside [0, x.shape[axis]) is sent out of range rather than into a neighbour's rows.
 */
function batchedGather(x: Tensor, indices: Tensor, axis: number, batchDims: number): Tensor {
  const b = batchDims < 0 ? batchDims + indices.rank : batchDims;
  const a = axis < 0 ? axis + x.rank : axis;
  if (!Number.isInteger(b) || b < 0 || b > indices.rank) throw new Error(`gather: batchDims ${String(batchDims)} is out of range for indices of shape [${indices.shape}]`);
  if (!Number.isInteger(a) || a < b || a >= x.rank) throw new Error(`gather: axis ${String(axis)} must be in [batchDims, rank) = [${b}, ${x.rank}) for x of shape [${x.shape}]`);
  if (x.shape.slice(0, b).join() !== indices.shape.slice(0, b).join()) throw new Error(`gather: the first ${b} dimensions of x [${x.shape}] and indices [${indices.shape}] must match`);
  const prod = (d: number[]) => d.reduce((p, q) => p * q, 1);
  const [batch, outer, dim, inner] = [prod(x.shape.slice(0, b)), prod(x.shape.slice(b, a)), x.shape[a], prod(x.shape.slice(a + 1))];
  const count = prod(indices.shape.slice(b));
  // [batch * dim, outer, inner]: row r * dim + i holds entry r's slice i.
  const rows = reshape(transpose(reshape(x, [batch, outer, dim, inner]), [0, 2, 1, 3]), [batch * dim, outer, inner]);
  const local = reshape(indices, [batch, count]);
  const inRange = logicalAnd(greaterEqual(local, 0), less(local, dim));
  const start = mul(reshape(tensor(Int32Array.from({ length: batch }, (_, r) => r), [batch], 'int32'), [batch, 1]), tensor(dim, [], 'int32'));
  const flat = where(inRange, add(local, start), fill([batch, count], batch * dim, 'int32'));
  const picked = run('gather', () => rows.handle.gather(reshape(flat, [batch * count]).handle, 0));
  const out = transpose(reshape(picked, [batch, count, outer, inner]), [0, 2, 1, 3]);
  return reshape(out, [...x.shape.slice(0, a), ...indices.shape.slice(b), ...x.shape.slice(a + 1)]);
}
export const pad = (x: Tensor, paddings: Array<[number, number]>, constantValue = 0) =>
  run('pad', () => x.handle.pad(u32(paddings.flat()), constantValue));
export const broadcastTo = (x: Tensor, shape: number[]) => run('broadcastTo', () => x.handle.broadcastTo(shapeArg('broadcastTo', shape)));
export const clone = (x: Tensor) => x.clone();

// ---- TF.js ops composed of the engine's ------------------------------------------------------

/** TF.js step: 1 where x > 0, `alpha` elsewhere, NaN kept; the input's dtype; zero gradient. */
export const step = (x: TensorLike, alpha = 0) => withTensor('step', x, (t) => tidy(() => {
  const y = where(greater(t, 0), 1, alpha);
  const out = t.dtype === 'float32' ? where(isNaN(t), t, y) : y;
  return out.dtype === t.dtype ? out : cast(out, t.dtype);
}));
export const isNaN = (x: TensorLike) => withTensor('isNaN', x, (t) => notEqual(t, t));
export const isInf = (x: TensorLike) => withTensor('isInf', x, (t) => tidy(() => equal(abs(t), Infinity)));
export const isFinite = (x: TensorLike) => withTensor('isFinite', x, (t) => tidy(() => less(abs(t), Infinity)));

function bools(op: string, ...ts: Tensor[]): void {
  for (const t of ts) if (t.dtype !== 'bool') throw new Error(`${op}: expected a bool tensor, got ${t.dtype} of shape [${t.shape}]`);
}
export const logicalXor = (a: TensorLike, b: TensorLike) =>
  withTensor('logicalXor', a, (ta) => withTensor('logicalXor', b, (tb) => { bools('logicalXor', ta, tb); return notEqual(ta, tb); }));
/** True where every (all) or some (any) element along `axis` is true; bool in, bool out. */
export const all = (x: TensorLike, axis?: number | number[], keepDims = false) =>
  withTensor('all', x, (t) => { bools('all', t); return min(t, axis, keepDims); });
export const any = (x: TensorLike, axis?: number | number[], keepDims = false) =>
  withTensor('any', x, (t) => { bools('any', t); return max(t, axis, keepDims); });

/** x repeated `reps[d]` times along each dimension d (one broadcast, no copies in between). */
export const tile = (x: TensorLike, reps: number[]) => withTensor('tile', x, (t) => tidy(() => {
  if (!Array.isArray(reps) || reps.length !== t.rank) throw new Error(`tile: reps must have one count per dimension of shape [${t.shape}], got ${Array.isArray(reps) ? `[${reps}]` : String(reps)}`);
  const counts = Array.from(u32Arg('tile: reps', reps));
  const spread = t.shape.flatMap((d) => [1, d]);
  const target = t.shape.flatMap((d, i) => [counts[i], d]);
  return reshape(broadcastTo(reshape(t, spread), target), t.shape.map((d, i) => d * counts[i]));
}));

/** start, start + step, ... up to (not including) stop. */
export function range(start: number, stop: number, step = 1, dtype: 'float32' | 'int32' = 'float32'): Tensor {
  for (const [name, v] of [['start', start], ['stop', stop], ['step', step]] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`range: ${name} must be a finite number, got ${String(v)}`);
  }
  if (step === 0) throw new Error('range: step cannot be 0');
  const n = Math.max(Math.ceil((stop - start) / step), 0);
  const to = choiceArg('range', 'dtype', dtype, ['float32', 'int32'] as const);
  const values = Array.from({ length: intArg('range: length', n, 0, 2 ** 30) }, (_, i) => start + i * step);
  return tensor(to === 'int32' ? Int32Array.from(values) : Float32Array.from(values), [n], to);
}

/** `num` evenly spaced values from start to stop, both included. */
export function linspace(start: number, stop: number, num: number): Tensor {
  intArg('linspace: num', num, 1, 2 ** 30);
  const gap = num === 1 ? 0 : (stop - start) / (num - 1);
  return tensor(Float32Array.from({ length: num }, (_, i) => start + i * gap), [num]);
}

/** An identity matrix (rows x columns, ones on the diagonal), optionally repeated over batchShape. */
export function eye(numRows: number, numColumns = numRows, batchShape?: number[], dtype: DataType = 'float32'): Tensor {
  const [r, c] = [intArg('eye: numRows', numRows, 1, 2 ** 15), intArg('eye: numColumns', numColumns ?? numRows, 1, 2 ** 15)];
  const values = new Float32Array(r * c);
  for (let i = 0; i < Math.min(r, c); i++) values[i * c + i] = 1;
  return tidy(() => {
    let m = tensor(values, [r, c], 'float32');
    if (dtype !== 'float32') m = cast(m, dtypeArg('eye', dtype));
    return batchShape?.length ? tile(reshape(m, [...batchShape.map(() => 1), r, c]), [...batchShape, 1, 1]) : m;
  });
}

/** x with the order of its elements reversed along each of `axis` (all axes by default). */
export const reverse = (x: TensorLike, axis?: number | number[]) => withTensor('reverse', x, (t) => tidy(() => {
  const axes = axis === undefined ? t.shape.map((_, i) => i) : Array.isArray(axis) ? axis : [axis];
  let y = t;
  for (const a of axes) {
    const d = axisArg(a);
    const n = t.shape[d < 0 ? d + t.rank : d];
    if (n === undefined) throw new Error(`reverse: axis ${a} is out of range for shape [${t.shape}]`);
    y = gather(y, tensor(Int32Array.from({ length: n }, (_, i) => n - 1 - i), [n], 'int32'), d);
  }
  return y === t ? clone(t) : y;
}));

/** Cumulative sum along `axis`; `exclusive` leaves each element out of its own sum, `reverse` sums from the end. */
export const cumsum = (x: TensorLike, axis = 0, exclusive = false, reverse = false) =>
  withTensor('cumsum', x, (t) => run('cumsum', () => t.handle.cumsum(axisArg(axis), !!exclusive, !!reverse)));

// TF.js's rank-named aliases: the same ops, under the names TF.js code calls them by.
export const tensor5d = tensor;
export const tensor6d = tensor;
export const slice1d = slice;
export const slice2d = slice;
export const slice3d = slice;
export const slice4d = slice;
export const reverse1d = reverse;
export const reverse2d = reverse;
export const reverse3d = reverse;
export const reverse4d = reverse;
export const concat1d = (tensors: Tensor[]) => concat(tensors, 0);
export const concat2d = concat;
export const concat3d = concat;
export const concat4d = concat;
export const pad1d = (x: Tensor, paddings: [number, number], constantValue = 0) => pad(x, [paddings], constantValue);
export const pad2d = pad;
export const pad3d = pad;
export const pad4d = pad;
export const batchNorm2d = batchNorm;
export const batchNorm3d = batchNorm;
export const batchNorm4d = batchNorm;
export const randomStandardNormal = (shape: Shape, dtype: DataType = 'float32', seed?: number) => randomNormal(shape, 0, 1, dtype, seed);

/** The elementwise sum of tensors of one shape. */
export function addN(tensors: Tensor[]): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) throw new Error('addN: expected a non-empty array of tensors');
  tensors.forEach((t) => must('addN', t));
  if (tensors.some((t) => t.shape.join() !== tensors[0].shape.join())) throw new Error(`addN: the tensors must have one shape, got ${tensors.map((t) => `[${t.shape}]`).join(', ')}`);
  return tidy(() => tensors.slice(1).reduce((acc, t) => add(acc, t), tensors[0].clone()));
}

/** a / b, and 0 where b is 0 (even where a is 0 or NaN). */
export const divNoNan = (a: TensorLike, b: TensorLike) => withTensor('divNoNan', a, (ta) => withTensor('divNoNan', b, (tb) => tidy(() => {
  const zero = equal(tb, 0);
  return where(zero, zerosLike(div(ta, tb)), div(ta, where(zero, onesLike(tb), tb)));
})));

/** v1 (length m) times v2 (length n) as an m x n matrix. */
export const outerProduct = (v1: TensorLike, v2: TensorLike) => withTensor('outerProduct', v1, (a) => withTensor('outerProduct', v2, (b) => tidy(() => {
  if (a.rank !== 1 || b.rank !== 1) throw new Error(`outerProduct: expected two vectors, got shapes [${a.shape}] and [${b.shape}]`);
  return matMul(reshape(a, [a.size, 1]), reshape(b, [1, b.size]));
})));

/**
 * One step of TF.js's functional LSTM cell: [data, h] times lstmKernel plus lstmBias, split into
 * the gates i, j, f, o; returns [c', h'] with c' = sigmoid(i) tanh(j) + c sigmoid(forgetBias + f)
 * and h' = tanh(c') sigmoid(o).
 */
export function basicLSTMCell(forgetBias: TensorLike, lstmKernel: Tensor, lstmBias: Tensor, data: Tensor, c: Tensor, h: Tensor): [Tensor, Tensor] {
  const op = 'basicLSTMCell';
  [lstmKernel, lstmBias, data, c, h].forEach((t) => must(op, t));
  if (lstmKernel.rank !== 2 || lstmKernel.shape[1] % 4 !== 0) throw new Error(`${op}: lstmKernel must be [inputs + units, 4 * units], got [${lstmKernel.shape}]`);
  const units = lstmKernel.shape[1] / 4;
  if (data.rank !== 2 || c.rank !== 2 || h.rank !== 2 || h.shape[1] !== units || c.shape[1] !== units || data.shape[1] + units !== lstmKernel.shape[0]) {
    throw new Error(`${op}: data [${data.shape}], c [${c.shape}] and h [${h.shape}] do not fit lstmKernel [${lstmKernel.shape}]`);
  }
  return withTensor(op, forgetBias, (fb) => tidy(() => {
    const gates = add(matMul(concat([data, h], 1), lstmKernel), lstmBias);
    const [i, j, f, o] = split(gates, 4, 1);
    const cNext = add(mul(sigmoid(i), tanh(j)), mul(c, sigmoid(add(fb, f))));
    return [cNext, mul(tanh(cNext), sigmoid(o))] as [Tensor, Tensor];
  }));
}

/** TF.js's multiRNNCell: cells applied in turn to one step, each on the previous one's h; returns [cs, hs]. */
export function multiRNNCell(lstmCells: Array<(data: Tensor, c: Tensor, h: Tensor) => [Tensor, Tensor]>, data: Tensor, c: Tensor[], h: Tensor[]): [Tensor[], Tensor[]] {
  const op = 'multiRNNCell';
  if (!Array.isArray(lstmCells) || !Array.isArray(c) || !Array.isArray(h) || c.length !== lstmCells.length || h.length !== lstmCells.length) {
    throw new Error(`${op}: lstmCells, c and h must be arrays of the same length`);
  }
  must(op, data);
  const cs: Tensor[] = [], hs: Tensor[] = [];
  let input = data;
  lstmCells.forEach((cell, i) => {
    const [cNext, hNext] = cell(input, c[i], h[i]);
    cs.push(cNext);
    hs.push(hNext);
    input = hNext;
  });
  return [cs, hs];
}

/**
 * TF.js's norm: of a vector (one axis, or all of x), ord 'euclidean' (2), 1, Infinity or -Infinity;
 * of a matrix (two axes), 'euclidean' / 'fro', 1, Infinity or -Infinity.
 */
export function norm(x: Tensor, ord: number | 'euclidean' | 'fro' = 'euclidean', axis?: number | number[], keepDims = false): Tensor {
  must('norm', x);
  const axes = axis === undefined ? null : Array.isArray(axis) ? axis : [axis];
  return tidy(() => {
    const whole = axes === null ? reshape(x, [x.size]) : x;
    const ax = axes ?? [0];
    let y: Tensor;
    if (ax.length === 1) {
      const a = ax[0];
      if (ord === 'euclidean' || ord === 'fro' || ord === 2) y = sqrt(sum(square(whole), a, keepDims));
      else if (ord === Infinity) y = max(abs(whole), a, keepDims);
      else if (ord === -Infinity) y = min(abs(whole), a, keepDims);
      else if (ord === 1) y = sum(abs(whole), a, keepDims);
      else throw new Error(`norm: ord ${String(ord)} is not supported for a vector (as in TF.js: 'euclidean', 2, 1, Infinity, -Infinity)`);
    } else if (ax.length === 2) {
      const [a0, a1] = ax.map((a) => (a < 0 ? a + x.rank : a));
      if (ord === 'euclidean' || ord === 'fro') y = sqrt(sum(square(x), ax, keepDims));
      else if (ord === 1) y = max(sum(abs(x), a0, true), a1, true);
      else if (ord === Infinity) y = max(sum(abs(x), a1, true), a0, true);
      else if (ord === -Infinity) y = min(sum(abs(x), a1, true), a0, true);
      else throw new Error(`norm: ord ${String(ord)} is not supported for a matrix`);
      if (!keepDims && ord !== 'euclidean' && ord !== 'fro') y = reshape(y, x.shape.filter((_, i) => i !== a0 && i !== a1));
    } else {
      throw new Error(`norm: axis must be one or two axes, got [${ax}]`);
    }
    return axes === null && keepDims ? reshape(y, x.shape.map(() => 1)) : y;
  });
}
export const euclideanNorm = (x: Tensor, axis?: number | number[], keepDims = false) => norm(x, 'euclidean', axis, keepDims);

// ---- more of TF.js's ops, composed of the engine's (gradients follow from the parts) ----------

/** 1-D convolution of [batch, width, inChannels] by [width, inChannels, outChannels]: a 2-D one of height 1. */
export function conv1d(x: Tensor, filter: Tensor, stride: number, pad: 'same' | 'valid' | number, dataFormat: 'NWC' | 'NCW' = 'NWC', dilation = 1, dimRoundingMode?: 'floor' | 'round' | 'ceil'): Tensor {
  must('conv1d', x); must('conv1d', filter);
  const format = choiceArg('conv1d', 'dataFormat', dataFormat, ['NWC', 'NCW'] as const);
  if (x.rank !== 2 && x.rank !== 3) throw new Error(`conv1d: x must be rank 2 or 3, got shape [${x.shape}]`);
  if (filter.rank !== 3) throw new Error(`conv1d: filter must be rank 3, got shape [${filter.shape}]`);
  const amount = typeof pad === 'number' ? [[0, 0], [0, 0], [pad, pad], [0, 0]] as number[][] : pad;
  return tidy(() => {
    let x3 = x.rank === 2 ? expandDims(x, 0) : x;
    if (format === 'NCW') x3 = transpose(x3, [0, 2, 1]);
    const y = conv2d(expandDims(x3, 1), expandDims(filter, 0), [1, stride], amount, 'NHWC', [1, dilation], dimRoundingMode);
    let out = squeeze(y, [1]);
    if (format === 'NCW') out = transpose(out, [0, 2, 1]);
    return x.rank === 2 ? squeeze(out, [0]) : out;
  });
}

/** A depthwise convolution followed by a 1x1 (pointwise) one. */
export function separableConv2d(x: Tensor, depthwiseFilter: Tensor, pointwiseFilter: Tensor, strides: number | [number, number], pad: 'same' | 'valid', dilation: number | [number, number] = 1, dataFormat: 'NHWC' | 'NCHW' = 'NHWC'): Tensor {
  return spatial('separableConv2d', x, dataFormat, (x4) => conv2d(depthwiseConv2d(x4, depthwiseFilter, strides, pad, 'NHWC', dilation), pointwiseFilter, 1, 'valid'));
}

/** x where x > 0, alpha * x elsewhere (alpha broadcasts: one per channel, say). */
export const prelu = (x: TensorLike, alpha: TensorLike) => withTensor('prelu', x, (t) => withTensor('prelu', alpha, (a) => tidy(() => where(greater(t, 0), t, mul(t, a)))));

/** Each element's indices along `axis` reflected past the edges: 'reflect' skips the edge, 'symmetric' repeats it. */
function mirrorIndices(n: number, before: number, after: number, mode: 'reflect' | 'symmetric'): Int32Array {
  const out = new Int32Array(n + before + after);
  for (let i = 0; i < out.length; i++) {
    let j = i - before;
    if (mode === 'reflect') { if (j < 0) j = -j; else if (j >= n) j = 2 * (n - 1) - j; } else if (j < 0) j = -j - 1; else if (j >= n) j = 2 * n - 1 - j;
    out[i] = j;
  }
  return out;
}
export function mirrorPad(x: Tensor, paddings: Array<[number, number]>, mode: 'reflect' | 'symmetric'): Tensor {
  must('mirrorPad', x);
  const m = choiceArg('mirrorPad', 'mode', mode, ['reflect', 'symmetric'] as const);
  if (!Array.isArray(paddings) || paddings.length !== x.rank) throw new Error(`mirrorPad: paddings must have one [before, after] pair per dimension of shape [${x.shape}]`);
  return tidy(() => {
    let y = x;
    paddings.forEach(([b, a], axis) => {
      const n = x.shape[axis];
      const limit = m === 'reflect' ? n - 1 : n;
      if (![b, a].every((v) => Number.isInteger(v) && v >= 0 && v <= limit)) throw new Error(`mirrorPad: padding [${b}, ${a}] of axis ${axis} must be in [0, ${limit}] for size ${n} in ${m} mode`);
      if (b || a) y = gather(y, tensor(mirrorIndices(n, b, a, m), [n + b + a], 'int32'), axis);
    });
    return y === x ? x.clone() : y;
  });
}

/** Local response normalization over channels (the last axis) of NHWC x, as TF.js. */
export function localResponseNormalization(x: Tensor, depthRadius = 5, bias = 1, alpha = 1, beta = 0.5): Tensor {
  must('localResponseNormalization', x);
  if (x.rank !== 4 && x.rank !== 3) throw new Error(`localResponseNormalization: x must be rank 3 or 4, got shape [${x.shape}]`);
  const r = intArg('localResponseNormalization: depthRadius', depthRadius, 0, 2 ** 20);
  return tidy(() => {
    const c = x.shape[x.rank - 1];
    const sq = square(x);
    const pads = x.shape.map((_, i) => (i === x.rank - 1 ? [r, r] : [0, 0])) as Array<[number, number]>;
    const padded = pad(sq, pads);
    // the sum over each channel's window as a difference of a running sum
    const run = cumsum(padded, x.rank - 1, true);
    const end = concat([run, sum(padded, x.rank - 1, true)], x.rank - 1);
    const hi = slice(end, x.shape.map((_, i) => (i === x.rank - 1 ? 2 * r + 1 : 0)), x.shape.map((d, i) => (i === x.rank - 1 ? c : d)));
    const lo = slice(end, x.shape.map(() => 0), x.shape.map((d, i) => (i === x.rank - 1 ? c : d)));
    return div(x, pow(add(mul(sub(hi, lo), alpha), bias), beta));
  });
}

/** [b, h, w, c * s * s] -> [b, h * s, w * s, c]: depth moved into blocks of space. */
export function depthToSpace(x: Tensor, blockSize: number, dataFormat: 'NHWC' | 'NCHW' = 'NHWC'): Tensor {
  const s = intArg('depthToSpace: blockSize', blockSize, 2, 2 ** 15);
  return spatial('depthToSpace', x, dataFormat, (x4) => {
    const [b, h, w, c] = x4.shape;
    if (c % (s * s)) throw new Error(`depthToSpace: depth ${c} is not divisible by blockSize^2 = ${s * s}`);
    const oc = c / (s * s);
    return reshape(transpose(reshape(x4, [b, h, w, s, s, oc]), [0, 1, 3, 2, 4, 5]), [b, h * s, w * s, oc]);
  });
}

/** Blocks of space moved into the batch (TF.js spaceToBatchND over the spatial dimensions). */
export function spaceToBatchND(x: Tensor, blockShape: number[], paddings: number[][]): Tensor {
  must('spaceToBatchND', x);
  const m = blockShape.length;
  if (!Array.isArray(paddings) || paddings.length !== m || x.rank < m + 1) throw new Error(`spaceToBatchND: blockShape [${blockShape}] and paddings must cover dimensions 1..${m} of shape [${x.shape}]`);
  return tidy(() => {
    const padded = pad(x, [[0, 0], ...paddings.map((p) => [p[0], p[1]] as [number, number]), ...x.shape.slice(m + 1).map(() => [0, 0] as [number, number])]);
    const [b, ...rest] = padded.shape;
    const spatialDims = rest.slice(0, m), remaining = rest.slice(m);
    spatialDims.forEach((d, i) => { if (d % blockShape[i]) throw new Error(`spaceToBatchND: padded dimension ${i + 1} (${d}) is not divisible by block ${blockShape[i]}`); });
    const split = reshape(padded, [b, ...spatialDims.flatMap((d, i) => [d / blockShape[i], blockShape[i]]), ...remaining]);
    const perm = [...blockShape.map((_, i) => 2 + 2 * i), 0, ...blockShape.map((_, i) => 1 + 2 * i), ...remaining.map((_, i) => 1 + 2 * m + i)];
    return reshape(transpose(split, perm), [b * blockShape.reduce((p, q) => p * q, 1), ...spatialDims.map((d, i) => d / blockShape[i]), ...remaining]);
  });
}

/** The inverse of spaceToBatchND: batch entries back into blocks of space, then cropped. */
export function batchToSpaceND(x: Tensor, blockShape: number[], crops: number[][]): Tensor {
  must('batchToSpaceND', x);
  const m = blockShape.length;
  const prodBlock = blockShape.reduce((p, q) => p * q, 1);
  if (!Array.isArray(crops) || crops.length !== m || x.rank < m + 1 || x.shape[0] % prodBlock) throw new Error(`batchToSpaceND: blockShape [${blockShape}] and crops do not fit shape [${x.shape}]`);
  return tidy(() => {
    const [b, ...rest] = x.shape;
    const spatialDims = rest.slice(0, m), remaining = rest.slice(m);
    const nb = b / prodBlock;
    const split = reshape(x, [...blockShape, nb, ...rest]);
    const perm = [m, ...spatialDims.flatMap((_, i) => [m + 1 + i, i]), ...remaining.map((_, i) => 2 * m + 1 + i)];
    const full = reshape(transpose(split, perm), [nb, ...spatialDims.map((d, i) => d * blockShape[i]), ...remaining]);
    return slice(full, [0, ...crops.map((c) => c[0]), ...remaining.map(() => 0)], [nb, ...spatialDims.map((d, i) => d * blockShape[i] - crops[i][0] - crops[i][1]), ...remaining]);
  });
}

/** Slices of x at the index tuples in the last axis of `indices` (TF.js gatherND). */
export const gatherND = (x: Tensor, indices: TensorLike) => withTensor('gatherND', indices, (ix) => tidy(() => {
  must('gatherND', x);
  const { rows, k, count } = flatRows('gatherND', ix, x.shape);
  const picked = gather(reshape(x, [count, ...x.shape.slice(k)]), rows, 0);
  return reshape(picked, [...ix.shape.slice(0, -1), ...x.shape.slice(k)]);
}));

/** Running product along `axis` (TF.js cumprod): the engine's scan, as cumsum's. */
export const cumprod = (x: TensorLike, axis = 0, exclusive = false, reverse = false) =>
  withTensor('cumprod', x, (t) => run('cumprod', () => t.handle.cumprod(axisArg(axis), !!exclusive, !!reverse)));

/** Coordinate grids: for x of length n and y of length m, two [m, n] ('xy') or [n, m] ('ij') tensors. */
export function meshgrid(x: Tensor, y: Tensor, { indexing = 'xy' }: { indexing?: 'xy' | 'ij' } = {}): [Tensor, Tensor] {
  must('meshgrid', x); must('meshgrid', y);
  const ij = choiceArg('meshgrid', 'indexing', indexing, ['xy', 'ij'] as const) === 'ij';
  return tidy(() => {
    const [a, b] = [reshape(x, [x.size]), reshape(y, [y.size])];
    const shape = ij ? [a.size, b.size] : [b.size, a.size];
    return ij
      ? [broadcastTo(reshape(a, [a.size, 1]), shape), broadcastTo(reshape(b, [1, b.size]), shape)]
      : [broadcastTo(reshape(a, [1, a.size]), shape), broadcastTo(reshape(b, [b.size, 1]), shape)];
  });
}

/** TF.js diag: x of shape s gives shape [...s, ...s] with x's values on the diagonal, zeros elsewhere. */
export const diag = (x: Tensor) => tidy(() => {
  must('diag', x);
  const n = x.size;
  return reshape(mul(eye(n), reshape(x, [n, 1])), [...x.shape, ...x.shape]);
});

/** For each value, how many sorted entries are below it (lowerBound, 'left') or not above it (upperBound, 'right'). */
export function searchSorted(sortedSequence: Tensor, values: Tensor, side: 'left' | 'right' = 'left'): Tensor {
  must('searchSorted', sortedSequence); must('searchSorted', values);
  const right = choiceArg('searchSorted', 'side', side, ['left', 'right'] as const) === 'right';
  if (sortedSequence.rank !== values.rank || sortedSequence.shape.slice(0, -1).join() !== values.shape.slice(0, -1).join()) {
    throw new Error(`searchSorted: sortedSequence [${sortedSequence.shape}] and values [${values.shape}] must share their leading dimensions`);
  }
  return tidy(() => {
    const seq = expandDims(sortedSequence, -2);
    const v = expandDims(values, -1);
    return cast(sum(cast(right ? lessEqual(seq, v) : less(seq, v), 'int32'), -1), 'int32');
  });
}
export const lowerBound = (sortedSequence: Tensor, values: Tensor) => searchSorted(sortedSequence, values, 'left');
export const upperBound = (sortedSequence: Tensor, values: Tensor) => searchSorted(sortedSequence, values, 'right');

/** Integers drawn uniformly from [minval, maxval). */
export const randomUniformInt = (shape: Shape, minval: number, maxval: number, seed?: number) => tidy(() => {
  intArg('randomUniformInt: minval', minval, -(2 ** 31), 2 ** 31 - 1);
  intArg('randomUniformInt: maxval', maxval, minval + 1, 2 ** 31);
  return cast(floor(randomUniform(shape, minval, maxval, 'float32', seed)), 'int32');
});

/** numSamples class draws per row of logits (or of probabilities, when `normalized`): the Gumbel-max trick. */
export function multinomial(logits: Tensor, numSamples: number, seed?: number, normalized = false): Tensor {
  must('multinomial', logits);
  if (logits.rank !== 1 && logits.rank !== 2) throw new Error(`multinomial: logits must be rank 1 or 2, got shape [${logits.shape}]`);
  const n = intArg('multinomial: numSamples', numSamples, 1, 2 ** 20);
  return tidy(() => {
    const rows = logits.rank === 1 ? reshape(logits, [1, logits.size]) : logits;
    const lp = normalized ? log(rows) : logSoftmax(rows);
    const [b, c] = rows.shape;
    const u = randomUniform([b, n, c], 1e-7, 1, 'float32', seed);
    const draws = argMax(add(expandDims(lp, 1), neg(log(neg(log(u))))), 2);
    return logits.rank === 1 ? reshape(draws, [n]) : draws;
  });
}

/** x itself, once its shape is checked against `shape` (null entries match anything). */
export function ensureShape(x: Tensor, shape: Array<number | null>): Tensor {
  must('ensureShape', x);
  if (x.rank !== shape.length || shape.some((d, i) => d !== null && d !== x.shape[i])) throw new Error(`ensureShape: shape [${x.shape}] does not match [${shape.map((d) => d ?? 'null')}]`);
  return x.clone();
}

/** The broadcast of two shapes given as int32 vectors. */
export function broadcastArgs(s0: TensorLike, s1: TensorLike): Tensor {
  const read = (s: TensorLike) => (s instanceof Tensor ? Array.from(s.dataSync()) : Array.isArray(s) ? (s as number[]) : Array.from(s as ArrayLike<number>));
  const [a, b] = [read(s0), read(s1)];
  const n = Math.max(a.length, b.length);
  const out = Array.from({ length: n }, (_, i) => {
    const x = a[a.length - n + i] ?? 1, y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`broadcastArgs: shapes [${a}] and [${b}] do not broadcast`);
    return Math.max(x, y);
  });
  return tensor(Int32Array.from(out), [n], 'int32');
}

/** TF.js movingAverage: v - (v - x) * (1 - decay), debiased by 1 - decay^step when `zeroDebias`. */
export function movingAverage(v: Tensor, x: Tensor, decay: number, step?: number, zeroDebias = true): Tensor {
  must('movingAverage', v); must('movingAverage', x);
  return tidy(() => {
    let update = mul(sub(v, x), 1 - decay);
    if (zeroDebias) {
      if (step === undefined) throw new Error('movingAverage: step is needed when zeroDebias is true');
      update = div(update, 1 - decay ** step);
    }
    return sub(v, update);
  });
}

/** TF.js's general pool: max or avg, with strides (dilations other than 1 are not supported). */
export function pool(input: Tensor, windowShape: number | [number, number], poolingType: 'avg' | 'max', pad: 'same' | 'valid' | number, dilations: number | [number, number] = 1, strides: number | [number, number] = 1, dimRoundingMode?: 'floor' | 'round' | 'ceil'): Tensor {
  const kind = choiceArg('pool', 'poolingType', poolingType, ['avg', 'max'] as const);
  const d = Array.isArray(dilations) ? dilations : [dilations, dilations];
  if (d.some((v) => v !== 1)) throw new Error(`pool: dilations [${d}] are not supported (only 1)`);
  return kind === 'max' ? maxPool(input, windowShape, strides, pad, dimRoundingMode) : avgPool(input, windowShape, strides, pad, dimRoundingMode);
}

/** A Hann window of length n (TF.js signal.hannWindow's cosine window). */
export function cosineWindow(windowLength: number, a: number, b: number): Tensor {
  const n = intArg('cosineWindow: windowLength', windowLength, 1, 2 ** 24);
  const even = 1 - (n % 2);
  return tensor(Float32Array.from({ length: n }, (_, i) => a - b * Math.cos((2 * Math.PI * i) / (n + even - 1))), [n]);
}

// ---- async ops: their output shape depends on the data, so they read it first -----------------

/** The coordinates of the true elements, [count, rank] int32. */
export async function whereAsync(condition: Tensor): Promise<Tensor> {
  must('whereAsync', condition);
  const values = await condition.data();
  const strides = condition.shape.map((_, i) => condition.shape.slice(i + 1).reduce((p, q) => p * q, 1));
  const coords: number[] = [];
  values.forEach((v, flat) => { if (v) strides.forEach((s, d) => coords.push(Math.floor(flat / s) % condition.shape[d])); });
  return tensor(Int32Array.from(coords), [coords.length / Math.max(condition.rank, 1), condition.rank], 'int32');
}

/** The slices of `x` (along `axis`, over mask's dimensions) where `mask` is true. */
export async function booleanMaskAsync(x: Tensor, mask: Tensor, axis = 0): Promise<Tensor> {
  must('booleanMaskAsync', x); must('booleanMaskAsync', mask);
  const a = axisArg(axis) < 0 ? axisArg(axis) + x.rank : axisArg(axis);
  if (x.shape.slice(a, a + mask.rank).join() !== mask.shape.join()) throw new Error(`booleanMaskAsync: mask [${mask.shape}] does not match x [${x.shape}] at axis ${a}`);
  const m = await mask.data();
  const keep = Int32Array.from([...m.keys()].filter((i) => m[i]));
  return tidy(() => {
    const flat = reshape(x, [...x.shape.slice(0, a), mask.size, ...x.shape.slice(a + mask.rank)]);
    return gather(flat, tensor(keep, [keep.length], 'int32'), a);
  });
}

/** The values of x not in y, and their indices in x (TF.js setdiff1dAsync). */
export async function setdiff1dAsync(x: TensorLike, y: TensorLike): Promise<[Tensor, Tensor]> {
  const [tx, ty] = [x instanceof Tensor ? x : tensor(x), y instanceof Tensor ? y : tensor(y)];
  try {
    if (tx.rank !== 1 || ty.rank !== 1) throw new Error(`setdiff1dAsync: x and y must be vectors, got shapes [${tx.shape}] and [${ty.shape}]`);
    const [xv, yv] = [await tx.data(), await ty.data()];
    const drop = new Set(yv);
    const idx = [...xv.keys()].filter((i) => !drop.has(xv[i]));
    const vals = idx.map((i) => xv[i]);
    return [tensor(tx.dtype === 'float32' ? Float32Array.from(vals) : Int32Array.from(vals), [vals.length], tx.dtype), tensor(Int32Array.from(idx), [idx.length], 'int32')];
  } finally {
    if (tx !== x) tx.dispose();
    if (ty !== y) ty.dispose();
  }
}

/** Whether each target is among the k largest predictions of its row. */
export async function inTopKAsync(predictions: Tensor, targets: Tensor, k = 1): Promise<Tensor> {
  must('inTopKAsync', predictions); must('inTopKAsync', targets);
  const [rows, classes] = predictions.rank === 1 ? [1, predictions.size] : [predictions.size / predictions.shape[predictions.rank - 1], predictions.shape[predictions.rank - 1]];
  if (targets.size !== rows) throw new Error(`inTopKAsync: ${targets.size} targets for ${rows} rows of predictions [${predictions.shape}]`);
  const [p, t] = [await predictions.data(), await targets.data()];
  const out = new Uint8Array(rows);
  for (let r = 0; r < rows; r++) {
    const row = p.subarray(r * classes, r * classes + classes);
    const target = row[t[r]];
    let above = 0;
    for (const v of row) if (v > target) above++;
    out[r] = above < k ? 1 : 0;
  }
  return tensor(Array.from(out), targets.shape, 'bool');
}

/** Disposes every variable (TF.js disposeVariables). */
export function disposeVariables(): void {
  for (const v of allVariables()) v.dispose();
}

/** Runs f and resolves to its wall time in ms (TF.js time; kernelMs is the same figure here). */
export async function time(f: () => void): Promise<{ wallMs: number; kernelMs: number }> {
  const start = performance.now();
  const out = f() as unknown;
  if (out instanceof Tensor) { await out.data(); out.dispose(); }
  const wallMs = performance.now() - start;
  return { wallMs, kernelMs: wallMs };
}

/**
 * The k largest entries of each row (the last axis) and their indices, largest first; ties go to
 * the lower index, as in TF.js. k rounds of argmax on the device (no sort kernel), the found entry
 * masked out each round: meant for the small k of classification. The values' gradient flows to
 * the entries picked.
 */
export function topk(x: TensorLike, k = 1, sorted = true): { values: Tensor; indices: Tensor } {
  return withTensor('topk', x, (t) => {
    if (t.rank < 1) throw new Error('topk: x must have at least one dimension');
    const n = t.shape[t.rank - 1];
    intArg('topk: k', k, 0, n);
    if (sorted !== true) throw new Error('topk: only sorted = true is supported');
    return tidy(() => {
      const rows = reshape(t, [t.size / Math.max(n, 1), n]);
      let masked = t.dtype === 'float32' ? rows : cast(rows, 'float32');
      const picks: Tensor[] = [];
      for (let i = 0; i < k; i++) {
        const idx = argMax(masked, 1);
        picks.push(idx);
        masked = where(cast(oneHot(idx, n), 'bool'), fill(masked.shape, -Infinity), masked);
      }
      const shape = [...t.shape.slice(0, -1), k];
      const indices = k ? reshape(stack(picks, 1), shape) : zeros(shape, 'int32');
      const values = k ? reshape(gather(rows, reshape(indices, [rows.shape[0], k]), 1, 1), shape) : zeros(shape, t.dtype);
      return { values, indices };
    });
  });
}

// ---- scatters and counts, as one-hot products (differentiable; meant for moderate sizes) ------

/** Rows of x summed by segment: out[s] = sum of x[i] with segmentIds[i] = s (numSegments rows). */
export function unsortedSegmentSum(x: Tensor, segmentIds: TensorLike, numSegments: number): Tensor {
  must('unsortedSegmentSum', x);
  const n = intArg('unsortedSegmentSum: numSegments', numSegments, 1, 2 ** 20);
  return withTensor('unsortedSegmentSum', segmentIds, (ids) => tidy(() => {
    if (ids.rank !== 1 || ids.size !== x.shape[0]) throw new Error(`unsortedSegmentSum: segmentIds must be a vector of x's ${x.shape[0]} rows, got shape [${ids.shape}]`);
    const rows = reshape(cast(x, 'float32'), [x.shape[0], x.size / Math.max(x.shape[0], 1)]);
    const out = reshape(matMul(oneHot(ids, n, 1, 0, 'float32'), rows, true, false), [n, ...x.shape.slice(1)]);
    return x.dtype === 'float32' ? out : cast(out, x.dtype);
  }));
}

/** How often each value in [0, size) occurs in x (weighted by `weights` when given), TF.js bincount. */
export function bincount(x: Tensor, weights: Tensor | null | undefined, size: number): Tensor {
  must('bincount', x);
  const n = intArg('bincount: size', size, 0, 2 ** 20);
  return tidy(() => {
    const flat = reshape(x, [x.size]);
    const hits = oneHot(flat, n, 1, 0, 'float32');
    const w = weights && weights.size ? reshape(cast(weights, 'float32'), [x.size, 1]) : null;
    const counts = sum(w ? mul(hits, w) : hits, 0);
    // TF.js answers in the weights' dtype, also when they are empty
    return cast(counts, weights?.dtype ?? 'float32');
  });
}

/** bincount of a vector, or of each row of a matrix; `binaryOutput` marks presence instead. */
export function denseBincount(x: Tensor, weights: Tensor | null | undefined, size: number, binaryOutput = false): Tensor {
  must('denseBincount', x);
  if (x.rank !== 1 && x.rank !== 2) throw new Error(`denseBincount: x must be rank 1 or 2, got shape [${x.shape}]`);
  const n = intArg('denseBincount: size', size, 0, 2 ** 20);
  return tidy(() => {
    const hits = oneHot(x, n, 1, 0, 'float32');
    const w = weights && weights.size ? expandDims(cast(weights, 'float32'), -1) : null;
    let counts = sum(w && !binaryOutput ? mul(hits, w) : hits, x.rank - 1);
    if (binaryOutput) counts = cast(greater(counts, 0), 'float32');
    return cast(counts, weights?.dtype ?? 'float32');
  });
}

/** Flat row indices of the index tuples in `indices`' last axis into the first k dimensions of `shape`. */
function flatRows(op: string, indices: Tensor, shape: number[]): { rows: Tensor; k: number; count: number } {
  const k = indices.shape[indices.rank - 1];
  if (indices.rank < 1 || k > shape.length) throw new Error(`${op}: indices of shape [${indices.shape}] index more than the ${shape.length} dimensions of [${shape}]`);
  const strides = shape.slice(0, k).map((_, i) => shape.slice(i + 1, k).reduce((p, q) => p * q, 1));
  return { rows: reshape(sum(mul(cast(indices, 'int32'), tensor(Int32Array.from(strides), [k], 'int32')), -1), [-1]), k, count: shape.slice(0, k).reduce((p, q) => p * q, 1) };
}

/** A tensor of `shape`, zeros except the `updates` scattered (and summed) at `indices` (TF.js scatterND). */
export const scatterND = (indices: TensorLike, updates: Tensor, shape: number[]) => withTensor('scatterND', indices, (ix) => tidy(() => {
  must('scatterND', updates);
  const { rows, k, count } = flatRows('scatterND', ix, shape);
  const slice = shape.slice(k);
  const upd = reshape(cast(updates, 'float32'), [rows.size, slice.reduce((p, q) => p * q, 1)]);
  const out = reshape(matMul(oneHot(rows, count, 1, 0, 'float32'), upd, true, false), shape);
  return updates.dtype === 'float32' ? out : cast(out, updates.dtype);
}));

/** `tensor` with the slices at `indices` replaced by `updates` (TF.js tensorScatterUpdate). */
export const tensorScatterUpdate = (t: Tensor, indices: TensorLike, updates: Tensor) => withTensor('tensorScatterUpdate', indices, (ix) => tidy(() => {
  must('tensorScatterUpdate', t);
  const hit = greater(scatterND(ix, onesLike(cast(updates, 'float32')), t.shape), 0);
  const placed = scatterND(ix, updates, t.shape);
  return where(hit, placed, t);
}));

/** The gradients of f's scalar value with respect to variables (all trainable ones by default), by name. */
export function variableGrads(f: () => Tensor, varList?: Variable[]): { value: Tensor; grads: Record<string, Tensor> } {
  const vars = (varList ?? allVariables().filter((v) => v.trainable && v.dtype === 'float32')).filter((v) => !v.isDisposed);
  vars.forEach((v) => { v.handle.zeroGrad(); v.handle.setRequiresGrad(true); });
  try {
    const value = whileDifferentiating(() => tidy(f));
    if (!(value instanceof Tensor) || value.size !== 1) throw new Error('variableGrads: f must return a scalar tensor');
    wasm.backward(value.handle);
    const grads: Record<string, Tensor> = {};
    for (const v of vars) {
      const g = v.handle.grad;
      grads[v.name] = g ? new Tensor(g) : zerosLike(v);
    }
    const detached = new Tensor(value.handle.detach());
    value.dispose();
    return { value: detached, grads };
  } finally {
    vars.forEach((v) => v.handle.zeroGrad());
  }
}

/** A tensor of `shape` whose values `randFunction` gives, one call each (TF.js rand). */
export function rand(shape: Shape, randFunction: () => number, dtype: DataType = 'float32'): Tensor {
  const n = shapeArg('rand', shape).reduce((p, q) => p * q, 1);
  if (typeof randFunction !== 'function') throw new Error('rand: randFunction must be a function');
  return tensor(Array.from({ length: n }, () => randFunction()), shape, dtype);
}

/** Logs a tensor's shape, dtype and values (read asynchronously on WebGPU, where reads are async). */
export function print(x: Tensor, verbose = false): void {
  must('print', x);
  const head = verbose ? `Tensor\n  dtype: ${x.dtype}\n  rank: ${x.rank}\n  shape: [${x.shape}]\n  values:` : 'Tensor';
  x.data().then((v) => console.log(`${head}\n    ${Array.from(v).join(', ')}`), (e) => console.warn(`print: ${(e as Error).message}`));
}

/** The distinct values of a vector in first-seen order, and each element's index among them (reads values: the CPU backend). */
export function unique(x: TensorLike, axis = 0): { values: Tensor; indices: Tensor } {
  return withTensor('unique', x, (t) => {
    if (t.rank !== 1 || axis !== 0) throw new Error(`unique: only vectors (axis 0) are supported, got shape [${t.shape}] and axis ${axis}`);
    const v = t.dataSync();
    const seen = new Map<number, number>();
    const indices = Int32Array.from(v, (e) => { if (!seen.has(e)) seen.set(e, seen.size); return seen.get(e)!; });
    const values = [...seen.keys()];
    return { values: tensor(t.dtype === 'float32' ? Float32Array.from(values) : t.dtype === 'int32' ? Int32Array.from(values) : values, [values.length], t.dtype), indices: tensor(indices, [indices.length], 'int32') };
  });
}

/** A dense tensor of outputShape: defaultValue everywhere but the sparse entries. */
export function sparseToDense(sparseIndices: TensorLike, sparseValues: TensorLike, outputShape: number[], defaultValue: TensorLike = 0): Tensor {
  return withTensor('sparseToDense', sparseIndices, (ix) => withTensor('sparseToDense', sparseValues, (vals) => withTensor('sparseToDense', defaultValue, (dflt) => tidy(() => {
    const idx = ix.rank === 1 && outputShape.length === 1 ? reshape(ix, [ix.size, 1]) : ix.rank === 0 ? reshape(ix, [1, 1]) : ix;
    const n = idx.shape[0];
    const v = vals.rank === 0 ? broadcastTo(vals, [n]) : vals;
    return tensorScatterUpdate(broadcastTo(cast(dflt, v.dtype), outputShape), idx, v);
  }))));
}

/**
 * TF.js stridedSlice: begin / end / strides per axis (Python slice rules, negative strides
 * reverse), with beginMask / endMask (take the axis from its start / to its end) and
 * shrinkAxisMask (drop an axis, taking the element at begin). Ellipsis and new-axis masks are
 * refused.
 */
export function stridedSlice(x: Tensor, begin: number[], end: number[], strides?: number[], beginMask = 0, endMask = 0, ellipsisMask = 0, newAxisMask = 0, shrinkAxisMask = 0): Tensor {
  must('stridedSlice', x);
  if (ellipsisMask || newAxisMask) throw new Error('stridedSlice: ellipsisMask and newAxisMask are not supported');
  return tidy(() => {
    let y = x;
    const drop: number[] = [];
    for (let a = 0; a < x.rank; a++) {
      const n = x.shape[a];
      const step = strides?.[a] ?? 1;
      if (!Number.isInteger(step) || step === 0) throw new Error(`stridedSlice: stride ${step} of axis ${a} must be a non-zero integer`);
      const norm = (v: number) => (v < 0 ? v + n : v);
      let b = begin[a] ?? 0, e = end[a] ?? n;
      if (shrinkAxisMask & (1 << a)) {
        const i = norm(b);
        if (i < 0 || i >= n) throw new Error(`stridedSlice: index ${b} of shrunk axis ${a} is out of range for size ${n}`);
        y = slice(y, y.shape.map((_, k) => (k === a ? i : 0)), y.shape.map((d, k) => (k === a ? 1 : d)));
        drop.push(a);
        continue;
      }
      if (step > 0) {
        b = beginMask & (1 << a) ? 0 : Math.min(Math.max(norm(b), 0), n);
        e = endMask & (1 << a) ? n : Math.min(Math.max(norm(e), 0), n);
      } else {
        b = beginMask & (1 << a) ? n - 1 : Math.min(Math.max(norm(b), -1), n - 1);
        e = endMask & (1 << a) ? -1 : Math.min(Math.max(norm(e), -1), n - 1);
      }
      const picks: number[] = [];
      for (let i = b; step > 0 ? i < e : i > e; i += step) picks.push(i);
      if (picks.length === n && step === 1) continue;
      y = gather(y, tensor(Int32Array.from(picks), [picks.length], 'int32'), a);
    }
    return drop.length ? squeeze(y, drop) : y === x ? x.clone() : y;
  });
}

/** Einstein summation over the operands ("ij,jk->ik", "bhid,bhjd->bhij", ellipses allowed; diagonals refused). */
export function einsum(equation: string, ...tensors: Tensor[]): Tensor {
  if (typeof equation !== 'string' || equation.length > 256) throw new Error(`einsum: the equation must be a string such as 'ij,jk->ik', got ${typeof equation === 'string' ? 'a longer one' : typeof equation}`);
  tensors.forEach((t) => must('einsum', t));
  return run('einsum', () => wasm.Tensor.einsum(equation, tensors.map((t) => t.handle.clone())));
}

/** The smallest power of two at or above a positive number (TF.js enclosingPowerOfTwo, a number in and out). */
export function enclosingPowerOfTwo(value: number): number {
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) throw new Error(`enclosingPowerOfTwo: value must be a positive number, got ${String(value)}`);
  return 2 ** Math.ceil(Math.log2(value));
}

/** Resolves on the page's next animation frame (the next macrotask outside a page). */
export const nextFrame = () => new Promise<void>((resolve) => (typeof requestAnimationFrame === 'function' ? requestAnimationFrame(() => resolve()) : setTimeout(resolve, 0)));
