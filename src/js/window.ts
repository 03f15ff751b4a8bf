// Sliding-window geometry as TF.js computes it, and the taps of a window: for each filter offset,
// the input positions it reads at every output position, gathered at once. Ops that TF.js has
// and the engine does not (3-D convolutions and pools, dilation2d, maxPoolWithArgmax) are composed
// tap by tap from these, so their gradients follow from gather's.
import { describe, intArg } from './args.js';
import type { Tensor } from './tensor.js';
import { gather, pad, tensor } from './ops.js';

export type WindowPadding = 'same' | 'valid' | number;

/** A window's walk along one axis: output size and the padding before and after the input. */
export interface Window { out: number; before: number; after: number; stride: number; dilation: number }

export function windowAlong(op: string, size: number, k: number, stride: number, dilation: number, padding: WindowPadding): Window {
  const eff = (k - 1) * dilation + 1;
  let out: number, before: number;
  if (padding === 'same') {
    out = Math.ceil(size / stride);
    before = Math.floor(Math.max(0, (out - 1) * stride + eff - size) / 2);
  } else if (padding === 'valid') {
    out = Math.ceil((size - eff + 1) / stride);
    before = 0;
  } else {
    out = Math.floor((size + 2 * padding - eff) / stride) + 1;
    before = padding;
  }
  if (!(out > 0)) throw new Error(`${op}: a window of ${k} (dilation ${dilation}) does not fit an input of size ${size} with padding ${JSON.stringify(padding)}`);
  return { out, before, after: Math.max(0, (out - 1) * stride + eff - size - before), stride, dilation };
}

/** TF.js's window padding: 'same', 'valid', or (where `amounts`) an amount for every side. */
export function windowPaddingArg(op: string, v: unknown, amounts: boolean): WindowPadding {
  if (v === 'same' || v === 'valid') return v;
  if (amounts && typeof v === 'number') return intArg(`${op}: pad`, v, 0, 0x7fffffff);
  throw new Error(`${op}: pad must be 'same', 'valid'${amounts ? ' or an amount for every side' : ''}, got ${describe(v)}`);
}

/** `x` padded with `fill` as the windows along `axes` need. */
export function padForWindows(x: Tensor, axes: number[], windows: Window[], fill: number): Tensor {
  if (windows.every((w) => !w.before && !w.after)) return x;
  const amounts = x.shape.map(() => [0, 0] as [number, number]);
  axes.forEach((axis, i) => { amounts[axis] = [windows[i].before, windows[i].after]; });
  return pad(x, amounts, fill);
}

/** What filter offset `t` reads along `axis` of the padded input, for every output position. */
export function tap(padded: Tensor, axis: number, t: number, w: Window): Tensor {
  const rows = Int32Array.from({ length: w.out }, (_, o) => t * w.dilation + o * w.stride);
  return gather(padded, tensor(rows, [w.out], 'int32'), axis);
}
