// Merge layers for the functional API: add, multiply, average, concatenate.
import * as ops from '../ops.js';
import type { Tensor } from '../tensor.js';
import { Layer, type LayerArgs, type Shape } from './layer.js';

export abstract class MergeLayer extends Layer {
  readonly multiInput = true;
  protected abstract merge(xs: Tensor[]): Tensor;
  computeOutputShape(s: Shape): Shape { return s; }
  /** Output shape from every input's shape. */
  mergeShapes(shapes: Shape[]): Shape {
    const first = shapes[0];
    for (const s of shapes) {
      if (s.length !== first.length || s.some((d, i) => d !== null && first[i] !== null && d !== first[i])) {
        throw new Error(`${this.name}: inputs of shapes ${shapes.map((x) => `[${x}]`).join(', ')} cannot be merged`);
      }
    }
    return first;
  }
  protected call(x: Tensor): Tensor { return x.clone(); }
  /** @internal */
  callMany(xs: Tensor[]): Tensor {
    if (xs.length < 2) throw new Error(`${this.name}: needs at least two inputs`);
    return this.merge(xs);
  }
}

export class Add extends MergeLayer {
  getClassName() { return 'Add'; }
  protected merge(xs: Tensor[]): Tensor { return xs.slice(1).reduce((a, b) => a.add(b), xs[0]); }
}

export class Multiply extends MergeLayer {
  getClassName() { return 'Multiply'; }
  protected merge(xs: Tensor[]): Tensor { return xs.slice(1).reduce((a, b) => a.mul(b), xs[0]); }
}

export class Average extends MergeLayer {
  getClassName() { return 'Average'; }
  protected merge(xs: Tensor[]): Tensor { return xs.slice(1).reduce((a, b) => a.add(b), xs[0]).div(xs.length); }
}

export class Maximum extends MergeLayer {
  getClassName() { return 'Maximum'; }
  protected merge(xs: Tensor[]): Tensor { return xs.slice(1).reduce((a, b) => a.maximum(b), xs[0]); }
}

export class Minimum extends MergeLayer {
  getClassName() { return 'Minimum'; }
  protected merge(xs: Tensor[]): Tensor { return xs.slice(1).reduce((a, b) => a.minimum(b), xs[0]); }
}

export class Concatenate extends MergeLayer {
  readonly axis: number;
  constructor(args: LayerArgs & { axis?: number } = {}) {
    super(args);
    this.axis = args.axis ?? -1;
  }
  getClassName() { return 'Concatenate'; }
  mergeShapes(shapes: Shape[]): Shape {
    const rank = shapes[0].length;
    const a = this.axis < 0 ? this.axis + rank : this.axis;
    const out = [...shapes[0]];
    out[a] = shapes.some((s) => s[a] === null) ? null : shapes.reduce((n, s) => n + (s[a] as number), 0);
    return out;
  }
  protected merge(xs: Tensor[]): Tensor { return ops.concat(xs, this.axis < 0 ? this.axis + xs[0].rank : this.axis); }
  getConfig() { return { ...super.getConfig(), axis: this.axis }; }
}

/** Dot: the dot product of two [batch, d] inputs ([batch, 1]), or of [batch, n, d] pairs along `axes` (batched matmul). */
export class Dot extends MergeLayer {
  readonly axes: number | [number, number];
  readonly normalize: boolean;
  constructor(args: LayerArgs & { axes: number | [number, number]; normalize?: boolean }) {
    super(args);
    this.axes = args.axes;
    this.normalize = args.normalize ?? false;
  }
  getClassName() { return 'Dot'; }
  private pair(rank: number): [number, number] {
    const [a, b] = Array.isArray(this.axes) ? this.axes : [this.axes, this.axes];
    return [a < 0 ? a + rank : a, b < 0 ? b + rank : b];
  }
  mergeShapes(shapes: Shape[]): Shape {
    if (shapes.length !== 2 || shapes[0].length !== shapes[1].length || ![2, 3].includes(shapes[0].length)) throw new Error(`${this.name}: Dot takes two inputs of rank 2 or 3 of one rank`);
    const [a, b] = this.pair(shapes[0].length);
    if (shapes[0].length === 2) return [shapes[0][0], 1];
    return [shapes[0][0], shapes[0][3 - a], shapes[1][3 - b]];
  }
  protected merge(xs: Tensor[]): Tensor {
    if (xs.length !== 2) throw new Error(`${this.name}: Dot takes exactly two inputs`);
    let [x, y] = xs;
    const [a, b] = this.pair(x.rank);
    if (this.normalize) {
      const unit = (t: Tensor, axis: number) => ops.div(t, ops.sqrt(ops.maximum(ops.sum(ops.square(t), axis, true), 1e-12)));
      [x, y] = [unit(x, a), unit(y, b)];
    }
    if (x.rank === 2) return ops.sum(ops.mul(x, y), 1, true);
    // [b, n, d] . [b, m, d] contracting axis a of x and b of y: a batched matmul
    return ops.matMul(x, y, a === 1, b === 2);
  }
  getConfig() { return { ...super.getConfig(), axes: this.axes, normalize: this.normalize }; }
}
