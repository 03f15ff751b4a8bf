// Layers that run another layer: Bidirectional (an RNN forward and a copy of it backward in time,
// merged) and TimeDistributed (a layer applied to every time step). The held layers' weights are
// the wrapper's, named under it as TF.js names them.
import * as ops from '../ops.js';
import { choiceArg } from '../args.js';
import type { Tensor } from '../tensor.js';
import { checkRank, kerasConfig, Layer, type LayerArgs, type Shape } from './layer.js';
import { RNN } from './recurrent.js';

type MergeMode = 'concat' | 'sum' | 'mul' | 'ave';

export class Bidirectional extends Layer {
  readonly forwardLayer: RNN;
  readonly backwardLayer: RNN;
  readonly mergeMode: MergeMode;

  constructor(args: LayerArgs & { layer: RNN; mergeMode?: MergeMode | null }) {
    super(args);
    if (!(args.layer instanceof RNN)) throw new Error('Bidirectional: layer must be a recurrent layer (tf.layers.lstm, gru, simpleRNN or rnn)');
    if (args.layer.built) throw new Error(`Bidirectional: layer ${args.layer.name} is already built; give it a new one`);
    if (args.mergeMode === null) throw new Error('Bidirectional: mergeMode null (two outputs) is not supported; use concat, sum, mul or ave');
    this.mergeMode = choiceArg('Bidirectional', 'mergeMode', args.mergeMode ?? 'concat', ['concat', 'sum', 'mul', 'ave'] as const);
    this.forwardLayer = args.layer;
    this.backwardLayer = args.layer.reversed(`backward_${args.layer.name}`);
  }

  getClassName() { return 'Bidirectional'; }

  readonly supportsMasking = true;
  computeMask(x: Tensor, mask: Tensor | null): Tensor | null { return this.forwardLayer.computeMask(x, mask); }

  computeOutputShape(s: Shape): Shape {
    const out = this.forwardLayer.computeOutputShape(s);
    if (this.mergeMode !== 'concat') return out;
    const last = out[out.length - 1];
    return [...out.slice(0, -1), last === null ? null : 2 * last];
  }

  build(s: Shape): void {
    checkRank(this, s, 3);
    const scope = this.weightScope ?? this.name;
    this.forwardLayer.weightScope = `${scope}/forward_${this.forwardLayer.name}`;
    this.backwardLayer.weightScope = `${scope}/${this.backwardLayer.name}`;
    this.forwardLayer.ensureBuilt(s);
    this.backwardLayer.ensureBuilt(s);
    this.sublayers.push(this.forwardLayer, this.backwardLayer);
  }

  protected call(x: Tensor, training: boolean, mask?: Tensor): Tensor {
    const y = this.forwardLayer.apply(x, { training, mask });
    let back = this.backwardLayer.apply(x, { training, mask });
    // the backward half's sequence comes out last step first: put it in time order
    if (this.forwardLayer.returnSequences) back = ops.reverse(back, 1);
    switch (this.mergeMode) {
      case 'concat': return ops.concat([y, back], -1);
      case 'sum': return ops.add(y, back);
      case 'mul': return ops.mul(y, back);
      default: return ops.mul(ops.add(y, back), 0.5);
    }
  }

  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), layer: kerasConfig(this.forwardLayer), mergeMode: this.mergeMode };
  }
}

/** Applies a layer to each step of [batch, steps, ...]: the steps ride along with the batch. */
export class TimeDistributed extends Layer {
  readonly layer: Layer;

  constructor(args: LayerArgs & { layer: Layer }) {
    super(args);
    if (!(args.layer instanceof Layer)) throw new Error('TimeDistributed: layer must be a layer');
    if (args.layer.built) throw new Error(`TimeDistributed: layer ${args.layer.name} is already built; give it a new one`);
    this.layer = args.layer;
  }

  getClassName() { return 'TimeDistributed'; }
  /** (the mask of the steps passes through; the wrapped layer sees one step at a time) */
  readonly supportsMasking = true;

  private stepShape(s: Shape): Shape {
    if (s.length < 3) throw new Error(`${this.name}: expected input of rank 3 or more ([batch, steps, ...]), got shape [${s.map((d) => d ?? 'null')}]`);
    return [s[0], ...s.slice(2)];
  }

  computeOutputShape(s: Shape): Shape {
    const out = this.layer.computeOutputShape(this.stepShape(s));
    return [s[0], s[1], ...out.slice(1)];
  }

  build(s: Shape): void {
    this.layer.weightScope = this.weightScope ?? this.name;
    this.layer.ensureBuilt(this.stepShape(s));
    this.sublayers.push(this.layer);
  }

  protected call(x: Tensor, training: boolean): Tensor {
    const [b, t, ...rest] = x.shape;
    const y = this.layer.apply(ops.reshape(x, [b * t, ...rest]), { training });
    return ops.reshape(y, [b, t, ...y.shape.slice(1)]);
  }

  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), layer: kerasConfig(this.layer) };
  }
}
