// Arguments that cross into the wasm module as strings are checked here first. wasm-bindgen
// copies a string argument by reading its length and characters, so a number, an object or a
// string look-alike in that place traps the whole module (`memory access out of bounds`, or a
// heap grown by the look-alike's `length`) instead of throwing: every such argument passes
// through one of these, which accept primitive strings from a fixed list and nothing else.
import type { DataType } from './tensor.js';

const DTYPES: ReadonlySet<string> = new Set(['float32', 'int32', 'bool', 'float16']);
const PADDINGS: ReadonlySet<string> = new Set(['same', 'valid']);

/** A value named for an error message, without calling anything of it (no toString, no getters). */
export function describe(v: unknown): string {
  if (typeof v === 'string') return `'${v.length > 40 ? `${v.slice(0, 40)}...` : v}'`;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' || v === undefined || v === null) return String(v);
  if (typeof v === 'symbol') return 'a symbol';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  return `a ${typeof v}`;
}

export function dtypeArg(op: string, v: unknown): DataType {
  if (typeof v !== 'string' || !DTYPES.has(v)) throw new Error(`${op}: dtype must be 'float32', 'float16', 'int32' or 'bool', got ${describe(v)}`);
  return v as DataType;
}

export function paddingArg(op: string, v: unknown): 'same' | 'valid' {
  if (typeof v !== 'string' || !PADDINGS.has(v)) {
    const explicit = Array.isArray(v) || typeof v === 'number' ? ' (explicit padding amounts are not supported)' : '';
    throw new Error(`${op}: padding must be 'same' or 'valid'${explicit}, got ${describe(v)}`);
  }
  return v as 'same' | 'valid';
}

/** How TF.js's spatial ops take padding: a mode, one amount for every side, or per-dimension pairs. */
export type SpatialPadding = 'same' | 'valid' | number | number[][];

/**
 * A spatial op's padding as the engine takes it: 'same', 'valid' or 'explicit' with
 * [top, bottom, left, right]. A number pads every side; `pairs` allows TF.js's explicit form
 * [[0, 0], [top, bottom], [left, right], [0, 0]] (NCHW: the pairs of dimensions 2 and 3).
 */
export function spatialPaddingArg(op: string, v: unknown, pairs: boolean, dataFormat: 'NHWC' | 'NCHW' = 'NHWC'): [string, Uint32Array] {
  if (typeof v === 'string' && PADDINGS.has(v)) return [v, new Uint32Array(0)];
  const amount = (a: unknown) => typeof a === 'number' && Number.isInteger(a) && a >= 0 && a <= 0x7fffffff;
  if (amount(v)) return ['explicit', new Uint32Array(4).fill(v as number)];
  if (pairs && Array.isArray(v) && v.length === 4 && v.every((p) => Array.isArray(p) && p.length === 2 && p.every(amount))) {
    const [h, w, batch, channel] = dataFormat === 'NHWC' ? [1, 2, 0, 3] : [2, 3, 0, 1];
    if ((v[batch] as number[]).some((a) => a !== 0) || (v[channel] as number[]).some((a) => a !== 0)) throw new Error(`${op}: explicit padding may pad only the height and width dimensions, got ${JSON.stringify(v)}`);
    return ['explicit', Uint32Array.from([...(v[h] as number[]), ...(v[w] as number[])])];
  }
  const forms = pairs ? "'same', 'valid', an amount for every side, or [[0, 0], [top, bottom], [left, right], [0, 0]]" : "'same', 'valid' or an amount for every side";
  throw new Error(`${op}: padding must be ${forms} with integer amounts in [0, 2^31), got ${Array.isArray(v) ? JSON.stringify(v)?.slice(0, 80) : describe(v)}`);
}

/** TF.js's dimRoundingMode: only its default (truncation, which the engine does) is supported. */
export function dimRoundingArg(op: string, v: unknown): void {
  if (v !== undefined && v !== 'floor') throw new Error(`${op}: dimRoundingMode ${describe(v)} is not supported (only 'floor', the default)`);
}

/**
 * A layer's size (units, filters, a vocabulary): a positive integer below 2^31, checked when the
 * layer is made, since its weights are only allocated when it is built.
 */
export function sizeArg(op: string, what: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0 || v > 0x7fffffff) throw new Error(`${op}: ${what} must be a positive integer below 2^31, got ${describe(v)}`);
  return v;
}

/**
 * A window size, stride or dilation per spatial axis: one positive integer for every axis, or
 * one for each of the `axes`.
 */
export function spatialArg(op: string, what: string, v: unknown, axes: number): number[] {
  const each = Array.isArray(v) ? v : Array.from({ length: axes }, () => v);
  if (each.length !== axes) throw new Error(`${op}: ${what} must be a number or ${axes} numbers, got ${JSON.stringify(v)?.slice(0, 60)}`);
  return each.map((n) => {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 0x7fffffff) throw new Error(`${op}: ${what} must be positive integers below 2^31, got ${describe(n)}`);
    return n;
  });
}

/** A dropout rate: a number in [0, 1). */
export function rateArg(op: string, what: string, v: unknown): number {
  if (typeof v !== 'number' || !(v >= 0 && v < 1)) throw new Error(`${op}: ${what} must be in [0, 1), got ${describe(v)}`);
  return v;
}

/** A name from `allowed` (a primitive string). */
export function choiceArg<T extends string>(op: string, what: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) throw new Error(`${op}: ${what} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describe(v)}`);
  return v as T;
}

/**
 * `table[key]` for the table's own keys only: a name such as 'constructor', 'toString' or
 * '__proto__' (or a non-string) finds nothing instead of Object.prototype's members.
 */
export function own<T>(table: Readonly<Record<string, T>>, key: unknown): T | undefined {
  return typeof key === 'string' && Object.hasOwn(table, key) ? table[key] : undefined;
}

/**
 * A bad integer argument. `run` (ops.ts) names the op in front of the message. Integers are
 * checked before they reach wasm because the border wraps JS numbers to 32 bits: an axis or a
 * size of 2^32 + k would act as k, and NaN or 1.5 as 0 or 1.
 */
export class ArgumentError extends Error {}

export function intArg(what: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) throw new ArgumentError(`${what} must be an integer in [${lo}, ${hi}], got ${describe(v)}`);
  return v;
}

/** Sizes, strides, windows, permutations: integers in [0, 2^32). */
export function u32Arg(what: string, a: unknown): Uint32Array {
  if (!Array.isArray(a) && !ArrayBuffer.isView(a)) throw new ArgumentError(`${what} must be an array of integers, got ${describe(a)}`);
  return Uint32Array.from(a as ArrayLike<number>, (v) => intArg(what, v, 0, 0xffffffff));
}

/** An axis (negative counts from the end; the engine checks it against the rank). */
export const axisArg = (v: unknown) => intArg('axis', v, -0x80000000, 0x7fffffff);
