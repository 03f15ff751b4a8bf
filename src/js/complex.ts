// Complex tensors (TF.js's complex64): a float32 engine tensor [..., 2] of (real, imaginary)
// pairs, seen as a tensor of the shape without that axis. Its values read as TF.js's do
// (interleaved real, imaginary). tf.complex makes them; tf.real, tf.imag, tf.abs, add, sub, mul
// (a real operand counts as imaginary part 0) and the FFTs (spectral.ts) take them; any other op
// refuses them with an Error naming it. Gradients flow through the pairs like through any float32
// tensor.
import type * as Wasm from '../../pkg/webtensor.js';
import { tidy } from './engine.js';
import * as ops from './ops.js';
import { ComplexTensorError, Tensor, type TypedArray } from './tensor.js';

const TAKEN_BY = 'complex64 tensors are taken only by tf.real, tf.imag, tf.abs, tf.complex, add, sub, mul and the FFTs (tf.spectral, tf.signal.stft); take tf.real / tf.imag first';

export class ComplexTensor extends Tensor {
  /** @internal wraps float32 pairs [..., 2]. */
  constructor(pairs: Wasm.Tensor) {
    super(pairs, true);
  }

  /** @internal the ops that take real tensors cannot take this one. */
  get handle(): Wasm.Tensor {
    throw new ComplexTensorError(TAKEN_BY);
  }

  /** @internal the [..., 2] float32 (real, imaginary) pairs. */
  get pairs(): Wasm.Tensor {
    return super.handle;
  }

  /** @internal */
  get sizeBytes(): number { return this.size * 8; }

  /** Interleaved real and imaginary parts, as TF.js's complex64 data. */
  async data(): Promise<TypedArray> { return (await this.pairs.data()) as Float32Array; }
  dataSync(): TypedArray { return withView(this, (v) => v.dataSync()); }
  /** Nested arrays whose innermost rows interleave real and imaginary parts (TF.js's layout). */
  async array(): Promise<unknown> {
    const view = realView(this);
    try {
      return flattenLast(await view.array());
    } finally {
      view.dispose();
    }
  }
  arraySync(): unknown { return withView(this, (v) => flattenLast(v.arraySync())); }

  clone(): Tensor { return new ComplexTensor(this.pairs.clone()); }
  toString(): string { return `Tensor(shape=[${this.shape}], dtype=complex64)`; }

  /** The magnitude of each element (float32). */
  abs(): Tensor {
    return tidy(() => ops.sqrt(ops.sum(ops.square(realView(this)), -1)));
  }
}

/** [..., n, 2] nested arrays as [..., 2n] (each innermost row's pairs run together). */
function flattenLast(a: unknown): unknown {
  if (!Array.isArray(a)) return a;
  if (a.length === 0 || !Array.isArray(a[0]) || Array.isArray((a[0] as unknown[])[0])) return a.map(flattenLast);
  return (a as number[][]).flat();
}

function withView<T>(x: ComplexTensor, f: (view: Tensor) => T): T {
  const view = realView(x);
  try {
    return f(view);
  } finally {
    view.dispose();
  }
}

/** @internal the pairs of `x` as a real tensor [..., 2] (a new handle to the same storage). */
export function realView(x: ComplexTensor): Tensor {
  return new Tensor(x.pairs.clone());
}

/** @internal a complex tensor from real and imaginary parts of one shape. */
export function fromParts(re: Tensor, im: Tensor): ComplexTensor {
  const pairs = ops.stack([re, im], -1);
  // the pairs' storage becomes the complex tensor's; the real view is released
  const out = new ComplexTensor(pairs.handle.clone());
  pairs.dispose();
  return out;
}

/** @internal the real and imaginary parts of `x`. */
export function parts(x: Tensor): [Tensor, Tensor] {
  if (!(x instanceof ComplexTensor)) return [x, ops.zerosLike(x)];
  const pairs = realView(x);
  const [re, im] = ops.unstack(pairs, -1);
  pairs.dispose();
  return [re, im];
}

function realArg(op: string, what: string, x: unknown): Tensor {
  if (!(x instanceof Tensor) || x instanceof ComplexTensor) throw new Error(`${op}: ${what} must be a real tensor`);
  return x.dtype === 'float32' ? x : ops.cast(x, 'float32');
}

/** A complex64 tensor from real and imaginary parts of one shape. */
export function complex(real: Tensor, imag: Tensor): ComplexTensor {
  const op = 'complex';
  return tidy(() => {
    const [re, im] = [realArg(op, 'real', real), realArg(op, 'imag', imag)];
    if (re.shape.join() !== im.shape.join()) throw new Error(`${op}: real [${re.shape}] and imag [${im.shape}] must have one shape`);
    return fromParts(re, im);
  });
}

/** The real part of a complex tensor (a real tensor's copy). */
export function real(input: Tensor): Tensor {
  if (!(input instanceof Tensor)) throw new Error('real: expected a tensor');
  return tidy(() => {
    const [re] = parts(input);
    return re === input ? input.clone() : re;
  });
}

/** The imaginary part of a complex tensor (zeros for a real one). */
export function imag(input: Tensor): Tensor {
  if (!(input instanceof Tensor)) throw new Error('imag: expected a tensor');
  return tidy(() => parts(input)[1]);
}

ops.registerComplexArithmetic((op, a, b) => tidy(() => {
  const [[ar, ai], [br, bi]] = [parts(a), parts(b)];
  if (op === 'add') return fromParts(ops.add(ar, br), ops.add(ai, bi));
  if (op === 'sub') return fromParts(ops.sub(ar, br), ops.sub(ai, bi));
  // (ar + i ai)(br + i bi)
  return fromParts(ops.sub(ops.mul(ar, br), ops.mul(ai, bi)), ops.add(ops.mul(ar, bi), ops.mul(ai, br)));
}));
