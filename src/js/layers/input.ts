// tf.input() and the InputLayer that stands for a functional model's input.
import type { Tensor } from '../tensor.js';
import { Layer, type LayerArgs, type Shape } from './layer.js';
import { SymbolicTensor } from './symbolic.js';

export class InputLayer extends Layer {
  constructor(args: LayerArgs) {
    super(args);
  }
  getClassName() { return 'InputLayer'; }
  computeOutputShape(s: Shape): Shape { return s; }
  protected call(x: Tensor): Tensor { return x.clone(); }
}

/** tf.input({shape}): the entry point of a functional model (batch dimension left open). */
export function input(args: { shape?: Shape; batchShape?: Shape; name?: string; dtype?: 'float32' | 'int32' }): SymbolicTensor {
  const batchShape = args.batchShape ?? (args.shape ? [null, ...args.shape] : undefined);
  if (!batchShape) throw new Error('input: needs a shape (or batchShape)');
  const layer = new InputLayer({ name: args.name, batchInputShape: batchShape });
  layer.ensureBuilt(batchShape);
  return new SymbolicTensor(batchShape, layer, [], args.dtype ?? 'float32');
}
