// FFTs over the innermost axis (TF.js's tf.spectral: fft, ifft, rfft, irfft), composed of ops so
// both backends run them and gradients flow: power-of-two lengths take log2(n) radix-2 butterfly
// stages after one bit-reversal gather; other lengths a product with the DFT matrix. Twiddles
// and matrices are computed in float64 on the host (from j * k mod n, so large n stays exact).
import { tidy } from './engine.js';
import * as ops from './ops.js';
import { Tensor } from './tensor.js';
import { ComplexTensor, fromParts, parts } from './complex.js';

/** The largest length of a non-power-of-two transform (its DFT matrices take 8 n^2 bytes). */
const MAX_DFT_LENGTH = 2048;

function bitReversal(n: number): Int32Array {
  const bits = Math.log2(n);
  return Int32Array.from({ length: n }, (_, i) => {
    let r = 0;
    for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
    return r;
  });
}

/** Radix-2 transform of rows [b, n] (n a power of two); sign -1 forward, +1 inverse (unscaled). */
function radix2(re: Tensor, im: Tensor, sign: number): [Tensor, Tensor] {
  const [b, n] = re.shape;
  const order = ops.tensor(bitReversal(n), [n], 'int32');
  let [xr, xi] = [ops.gather(re, order, 1), ops.gather(im, order, 1)];
  for (let m = 1; m < n; m *= 2) {
    // blocks of 2m: the first half holds the even-indexed transform, the second the odd one
    const blocks = n / (2 * m);
    const half = (x: Tensor, h: number) => ops.slice(ops.reshape(x, [b, blocks, 2, m]), [0, 0, h, 0], [b, blocks, 1, m]);
    const [er, ei, or, oi] = [half(xr, 0), half(xi, 0), half(xr, 1), half(xi, 1)];
    let [tr, ti] = [or, oi];
    if (m > 1) {
      const angle = (k: number) => (sign * Math.PI * k) / m;
      const wr = ops.tensor(Float32Array.from({ length: m }, (_, k) => Math.cos(angle(k))), [1, 1, 1, m]);
      const wi = ops.tensor(Float32Array.from({ length: m }, (_, k) => Math.sin(angle(k))), [1, 1, 1, m]);
      [tr, ti] = [ops.sub(ops.mul(or, wr), ops.mul(oi, wi)), ops.add(ops.mul(or, wi), ops.mul(oi, wr))];
    }
    xr = ops.reshape(ops.concat([ops.add(er, tr), ops.sub(er, tr)], 2), [b, n]);
    xi = ops.reshape(ops.concat([ops.add(ei, ti), ops.sub(ei, ti)], 2), [b, n]);
  }
  return [xr, xi];
}

/** The DFT of rows [b, n] as matrix products; sign -1 forward, +1 inverse (unscaled). */
function matrixDFT(op: string, re: Tensor, im: Tensor, sign: number): [Tensor, Tensor] {
  const n = re.shape[1];
  if (n > MAX_DFT_LENGTH) throw new Error(`${op}: a length of ${n} that is not a power of two is limited to ${MAX_DFT_LENGTH} (pad to a power of two)`);
  const cos = new Float32Array(n * n), sin = new Float32Array(n * n);
  for (let j = 0; j < n; j++) {
    for (let k = 0; k < n; k++) {
      const angle = (2 * Math.PI * ((j * k) % n)) / n;
      cos[j * n + k] = Math.cos(angle);
      sin[j * n + k] = sign * Math.sin(angle);
    }
  }
  const [c, s] = [ops.tensor(cos, [n, n]), ops.tensor(sin, [n, n])];
  // (x_r + i x_i)(cos + i s) with s = sign * sin
  return [ops.sub(ops.matMul(re, c), ops.matMul(im, s)), ops.add(ops.matMul(im, c), ops.matMul(re, s))];
}

/** The transform of the innermost axis of parts [..., n]; the inverse is scaled by 1 / n. */
function transform(op: string, re: Tensor, im: Tensor, inverse: boolean): [Tensor, Tensor] {
  const shape = re.shape;
  const n = shape[shape.length - 1];
  if (n === 0) throw new Error(`${op}: the innermost dimension is empty (shape [${shape}])`);
  const rows = [re.size / n, n];
  const sign = inverse ? 1 : -1;
  const powerOfTwo = (n & (n - 1)) === 0;
  let [xr, xi] = powerOfTwo ? radix2(ops.reshape(re, rows), ops.reshape(im, rows), sign) : matrixDFT(op, ops.reshape(re, rows), ops.reshape(im, rows), sign);
  if (inverse) [xr, xi] = [ops.div(xr, n), ops.div(xi, n)];
  return [ops.reshape(xr, shape), ops.reshape(xi, shape)];
}

function complexArg(op: string, x: unknown): ComplexTensor {
  if (!(x instanceof ComplexTensor)) throw new Error(`${op}: input must be a complex64 tensor (tf.complex(real, imag)), got ${x instanceof Tensor ? x.dtype : typeof x}`);
  if (x.rank < 1) throw new Error(`${op}: input must have at least one dimension`);
  return x;
}

/** The discrete Fourier transform of the innermost axis of a complex tensor. */
export function fft(input: Tensor): Tensor {
  const x = complexArg('fft', input);
  return tidy(() => fromParts(...transform('fft', ...parts(x), false)));
}

/** The inverse discrete Fourier transform of the innermost axis of a complex tensor. */
export function ifft(input: Tensor): Tensor {
  const x = complexArg('ifft', input);
  return tidy(() => fromParts(...transform('ifft', ...parts(x), true)));
}

/**
 * The transform of a real signal's innermost axis: its fftLength / 2 + 1 non-negative
 * frequencies (the rest mirror them). The signal is cut or zero-padded to fftLength first.
 */
export function rfft(input: Tensor, fftLength?: number): Tensor {
  const op = 'rfft';
  if (!(input instanceof Tensor) || input instanceof ComplexTensor || input.rank < 1) throw new Error(`${op}: input must be a real tensor with at least one dimension`);
  const n = input.shape[input.rank - 1];
  const length = fftLength ?? n;
  if (!Number.isInteger(length) || length < 1 || length > 2 ** 24) throw new Error(`${op}: fftLength must be a positive integer, got ${String(fftLength)}`);
  return tidy(() => {
    let x = input.dtype === 'float32' ? input : ops.cast(input, 'float32');
    const lead = x.shape.slice(0, -1);
    if (length < n) x = ops.slice(x, x.shape.map(() => 0), [...lead, length]);
    else if (length > n) x = ops.pad(x, x.shape.map((_, i) => (i === x.rank - 1 ? [0, length - n] : [0, 0])) as Array<[number, number]>);
    const [re, im] = transform(op, x, ops.zerosLike(x), false);
    const keep = Math.floor(length / 2) + 1;
    const begin = x.shape.map(() => 0), size = [...lead, keep];
    return fromParts(ops.slice(re, begin, size), ops.slice(im, begin, size));
  });
}

/**
 * The real signal whose rfft is `input` [..., m]: the spectrum is completed by conjugate
 * symmetry to 2 (m - 1) frequencies (m when m <= 2, as TF.js) and inverted.
 */
export function irfft(input: Tensor): Tensor {
  const x = complexArg('irfft', input);
  return tidy(() => {
    const [re, im] = parts(x);
    const m = x.shape[x.rank - 1];
    let [fr, fi] = [re, im];
    if (m > 2) {
      const lead = x.shape.slice(0, -1);
      const mirrored = (t: Tensor) => ops.reverse(ops.slice(t, [...lead.map(() => 0), 1], [...lead, m - 2]), -1);
      [fr, fi] = [ops.concat([re, mirrored(re)], -1), ops.concat([im, ops.neg(mirrored(im))], -1)];
    }
    return transform('irfft', fr, fi, true)[0];
  });
}

export const spectral = { fft, ifft, rfft, irfft };

// TF.js's chained forms (t.fft() and so on)
declare module './tensor.js' {
  interface Tensor {
    fft(): Tensor;
    ifft(): Tensor;
    rfft(): Tensor;
    irfft(): Tensor;
  }
}
Tensor.prototype.fft = function fftMethod(this: Tensor) { return fft(this); };
Tensor.prototype.ifft = function ifftMethod(this: Tensor) { return ifft(this); };
Tensor.prototype.rfft = function rfftMethod(this: Tensor) { return rfft(this); };
Tensor.prototype.irfft = function irfftMethod(this: Tensor) { return irfft(this); };
