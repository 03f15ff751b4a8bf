// Maxima over sliding 2-D windows that the engine's maxPool does not give: dilation2d (grayscale
// morphological dilation: the max of input plus filter over each window) and maxPoolWithArgmax
// (the max and where it was). Both walk the window tap by tap in TF.js's order (rows, then
// columns), so ties go to the first position as in TF.js; padding reads as -Infinity, which no
// value exceeds, so a padded position is never the max.
import { tidy } from './engine.js';
import { choiceArg, spatialArg } from './args.js';
import { Tensor } from './tensor.js';
import { add, fill, greater, maximum, reshape, slice, tensor, where } from './ops.js';
import { padForWindows, tap, windowAlong, windowPaddingArg, type Window, type WindowPadding } from './window.js';

type Pair = number | [number, number];

const pairArg = (op: string, what: string, v: unknown) => spatialArg(op, what, v, 2) as [number, number];

/** Each tap's view of NHWC `x4` ([batch, outH, outW, channels]), in TF.js's window order. */
function taps(x4: Tensor, rows: Window, cols: Window, kh: number, kw: number): Array<{ i: number; j: number; view: Tensor }> {
  const padded = padForWindows(x4, [1, 2], [rows, cols], -Infinity);
  const out = [];
  for (let i = 0; i < kh; i++) {
    const band = tap(padded, 1, i, rows);
    for (let j = 0; j < kw; j++) out.push({ i, j, view: tap(band, 2, j, cols) });
  }
  return out;
}

/** Grayscale dilation of x [batch, h, w, c] (or [h, w, c]) by filter [fh, fw, c]. */
export function dilation2d(x: Tensor, filter: Tensor, strides: Pair, pad: 'same' | 'valid', dilations: Pair = [1, 1], dataFormat: 'NHWC' = 'NHWC'): Tensor {
  const op = 'dilation2d';
  for (const [name, t] of [['x', x], ['filter', filter]] as const) if (!(t instanceof Tensor)) throw new Error(`${op}: ${name} must be a tensor`);
  choiceArg(op, 'dataFormat', dataFormat, ['NHWC'] as const);
  const padding = windowPaddingArg(op, pad, false);
  const [s, d] = [pairArg(op, 'strides', strides), pairArg(op, 'dilations', dilations)];
  if (x.rank !== 3 && x.rank !== 4) throw new Error(`${op}: x must be rank 3 or 4, got shape [${x.shape}]`);
  if (filter.rank !== 3 || filter.shape[2] !== x.shape[x.rank - 1]) throw new Error(`${op}: filter must be [height, width, ${x.shape[x.rank - 1]}] for x of shape [${x.shape}], got [${filter.shape}]`);
  return tidy(() => {
    const x4 = x.rank === 3 ? reshape(x, [1, ...x.shape]) : x;
    const [fh, fw, c] = filter.shape;
    const rows = windowAlong(op, x4.shape[1], fh, s[0], d[0], padding), cols = windowAlong(op, x4.shape[2], fw, s[1], d[1], padding);
    const sums = taps(x4, rows, cols, fh, fw).map(({ i, j, view }) => add(view, reshape(slice(filter, [i, j, 0], [1, 1, c]), [c])));
    const y = sums.reduce((a, b) => maximum(a, b));
    return x.rank === 3 ? reshape(y, y.shape.slice(1)) : y;
  });
}

/**
 * Max pooling of x [batch, h, w, c] that also gives each max's flat index into x: (y * w + x) * c
 * + channel, plus batch * h * w * c with `includeBatchInIndex`. Indexes are int32 and, as in
 * TF.js, not differentiable.
 */
export function maxPoolWithArgmax(x: Tensor, filterSize: Pair, strides: Pair, pad: WindowPadding, includeBatchInIndex = false): { result: Tensor; indexes: Tensor } {
  const op = 'maxPoolWithArgmax';
  if (!(x instanceof Tensor)) throw new Error(`${op}: x must be a tensor`);
  if (x.rank !== 4) throw new Error(`${op}: x must be rank 4, got shape [${x.shape}]`);
  const padding = windowPaddingArg(op, pad, true);
  const [k, s] = [pairArg(op, 'filterSize', filterSize), pairArg(op, 'strides', strides)];
  if (typeof includeBatchInIndex !== 'boolean') throw new Error(`${op}: includeBatchInIndex must be a boolean`);
  const [n, h, w, c] = x.shape;
  if (n * h * w * c > 0x7fffffff) throw new Error(`${op}: x of shape [${x.shape}] has too many elements for int32 indexes`);
  const [result, indexes] = tidy(() => {
    const rows = windowAlong(op, h, k[0], s[0], 1, padding), cols = windowAlong(op, w, k[1], s[1], 1, padding);
    let best = fill([n, rows.out, cols.out, c], -Infinity);
    let at = fill([n, rows.out, cols.out, c], -1, 'int32');
    // where each tap reads, as a flat index of x (batch and channel added below)
    const channel = tensor(Int32Array.from({ length: c }, (_, i) => i), [c], 'int32');
    const batch = includeBatchInIndex ? tensor(Int32Array.from({ length: n }, (_, b) => b * h * w * c), [n, 1, 1, 1], 'int32') : null;
    for (const { i, j, view } of taps(x, rows, cols, k[0], k[1])) {
      const place = Int32Array.from({ length: rows.out * cols.out }, (_, o) => {
        const [oy, ox] = [Math.floor(o / cols.out), o % cols.out];
        return ((oy * s[0] + i - rows.before) * w + (ox * s[1] + j - cols.before)) * c;
      });
      let index = add(tensor(place, [1, rows.out, cols.out, 1], 'int32'), channel);
      if (batch) index = add(index, batch);
      const larger = greater(view, best);
      best = where(larger, view, best);
      at = where(larger, index, at);
    }
    return [best, at];
  });
  return { result, indexes };
}
