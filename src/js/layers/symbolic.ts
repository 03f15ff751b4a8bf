// Symbolic tensors for the functional API: tf.input() and layer.apply(symbolic) record a graph
// of (layer, inputs) nodes that tf.model() runs on real tensors. (No runtime import of Layer:
// layer.ts imports this file.)
import type { Layer, Shape } from './layer.js';

let nextId = 0;

export class SymbolicTensor {
  readonly id = nextId++;
  constructor(
    readonly shape: Shape,
    /** The layer that produces it, and the symbolic inputs it was applied to. */
    readonly layer: Layer,
    readonly inputs: SymbolicTensor[],
    readonly dtype: 'float32' | 'int32' = 'float32',
  ) {}
  get rank(): number { return this.shape.length; }
}
