// Recurrent layers as TF.js has them: cells (SimpleRNNCell, LSTMCell, GRUCell, StackedRNNCells)
// and the RNN layer that runs a cell over time; SimpleRNN, LSTM and GRU are RNNs of their cell.
// Gate orders and defaults follow TF.js/Keras 2 (i,f,c,o and z,r,h; recurrent activation
// 'hardSigmoid'). The input projection of every time step is one matmul; the recurrence runs step
// by step, and gradients flow through the ops it is built from.
import * as ops from '../ops.js';
import { sizeArg } from '../args.js';
import type { Tensor, Variable } from '../tensor.js';
import { getActivation } from '../activations.js';
import type { Initializer } from '../initializers.js';
import { checkRank, kerasConfig, Layer, type LayerArgs, type Shape } from './layer.js';

export interface CellArgs extends LayerArgs {
  units: number;
  activation?: string;
  recurrentActivation?: string;
  useBias?: boolean;
  kernelInitializer?: string | Initializer;
  recurrentInitializer?: string | Initializer;
  biasInitializer?: string | Initializer;
  unitForgetBias?: boolean;
  /** Fraction of the inputs dropped in training (one mask per sequence, as Keras). */
  dropout?: number;
  /** Fraction of the recurrent state dropped in training (one mask per sequence). */
  recurrentDropout?: number;
}

function rateArg(cls: string, what: string, v: unknown): number {
  const r = v ?? 0;
  if (typeof r !== 'number' || !(r >= 0 && r < 1)) throw new Error(`${cls}: ${what} must be in [0, 1), got ${String(v)}`);
  return r;
}

/**
 * A cell: one time step of a recurrence, from the input and the states to the new states (the
 * first is the output). Run over a sequence by tf.layers.rnn.
 */
export abstract class RNNCell extends Layer {
  /** The size of each state (the first is the output's). */
  abstract readonly stateSize: number[];
  /** The size of the output of a step. */
  abstract readonly outputSize: number;

  computeOutputShape(s: Shape): Shape { return [s[0], this.outputSize]; }

  protected call(): Tensor {
    throw new Error(`${this.name}: a cell runs inside tf.layers.rnn({ cell }); apply the RNN layer to the sequence`);
  }

  /** Zero states for a batch. */
  initialState(batch: number): Tensor[] { return this.stateSize.map((n) => ops.zeros([batch, n])); }

  /** Per-sequence dropout masks for training (null where there is no dropout). */
  dropoutMasks(_batch: number, _features: number, _training: boolean): DropoutMasks { return { input: null, recurrent: null }; }

  /** The inputs of all steps [n, features] projected by the input kernel (plus the bias). */
  abstract project(x: Tensor): Tensor;
  /** One step from a projected input and the states -> the new states. */
  abstract stepProjected(xw: Tensor, states: Tensor[], masks: DropoutMasks): Tensor[];
  /** A step's output among its states. */
  outputOf(states: Tensor[]): Tensor { return states[0]; }

  /** A new, unbuilt cell of the same configuration (for Bidirectional's backward copy). */
  abstract fresh(name?: string): RNNCell;
}

/** A sequence's dropout masks: of the inputs, of the state, and of each stacked cell. */
export interface DropoutMasks { input: Tensor | null; recurrent: Tensor | null; perCell?: DropoutMasks[] }

/** The cells with a kernel [features, gates * units], a recurrent kernel and a bias. */
abstract class GatedCell extends RNNCell {
  readonly units: number;
  readonly activation: string;
  readonly recurrentActivation: string;
  readonly useBias: boolean;
  readonly dropout: number;
  readonly recurrentDropout: number;
  protected kernel?: Variable;
  protected recurrentKernel?: Variable;
  protected bias?: Variable;
  protected abstract readonly gates: number;

  constructor(protected readonly args: CellArgs) {
    super(args);
    const cls = this.getClassName();
    this.units = sizeArg(cls, 'units', args.units);
    this.activation = args.activation ?? 'tanh';
    this.recurrentActivation = args.recurrentActivation ?? 'hardSigmoid';
    getActivation(this.activation);
    getActivation(this.recurrentActivation);
    this.useBias = args.useBias ?? true;
    this.dropout = rateArg(cls, 'dropout', args.dropout);
    this.recurrentDropout = rateArg(cls, 'recurrentDropout', args.recurrentDropout);
  }

  get outputSize() { return this.units; }

  build(s: Shape): void {
    const g = this.gates * this.units;
    this.kernel = this.addWeight('kernel', [s[s.length - 1] as number, g], this.args.kernelInitializer, 'glorotNormal'); // (TF.js's cells default to glorotNormal)
    this.recurrentKernel = this.addWeight('recurrent_kernel', [this.units, g], this.args.recurrentInitializer, 'orthogonal');
    if (this.useBias) this.bias = this.addWeight('bias', [g], this.args.biasInitializer, 'zeros');
  }

  project(x: Tensor): Tensor {
    const xw = ops.matMul(x, this.kernel!);
    return this.bias ? ops.add(xw, this.bias) : xw;
  }

  dropoutMasks(batch: number, features: number, training: boolean): DropoutMasks {
    const mask = (n: number, rate: number) => (training && rate > 0 ? ops.dropout(ops.ones([batch, n]), rate) : null);
    return { input: mask(features, this.dropout), recurrent: mask(this.units, this.recurrentDropout) };
  }

  /** The recurrent term of the gates, with the state's dropout mask applied. */
  protected recurrent(h: Tensor, masks: DropoutMasks, kernel: Tensor = this.recurrentKernel!): Tensor {
    return ops.matMul(masks.recurrent ? ops.mul(h, masks.recurrent) : h, kernel);
  }

  fresh(name?: string): RNNCell {
    return new (this.constructor as new (a: CellArgs) => RNNCell)({ ...this.args, name });
  }

  getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(), units: this.units, activation: this.activation, recurrentActivation: this.recurrentActivation,
      useBias: this.useBias, dropout: this.dropout, recurrentDropout: this.recurrentDropout,
    };
  }
}

/** h' = activation(x W + h U + b). */
export class SimpleRNNCell extends GatedCell {
  protected readonly gates = 1;
  readonly stateSize = [this.units];
  getClassName() { return 'SimpleRNNCell'; }
  stepProjected(xw: Tensor, [h]: Tensor[], masks: DropoutMasks): Tensor[] {
    return [getActivation(this.activation)(ops.add(xw, this.recurrent(h, masks)))];
  }
  getConfig(): Record<string, unknown> { const { recurrentActivation: _, ...rest } = super.getConfig(); return rest; }
}

/** LSTM: gates i, f, c, o; states [h, c]. */
export class LSTMCell extends GatedCell {
  protected readonly gates = 4;
  readonly stateSize = [this.units, this.units];
  readonly unitForgetBias: boolean;
  constructor(args: CellArgs) {
    super(args);
    this.unitForgetBias = args.unitForgetBias ?? true;
  }
  getClassName() { return 'LSTMCell'; }

  build(s: Shape): void {
    super.build(s);
    // Keras's unitForgetBias (default on): the forget gate's bias starts at 1.
    if (this.bias && this.unitForgetBias && this.args.biasInitializer === undefined) {
      const u = this.units;
      const init = ops.concat([ops.zeros([u]), ops.ones([u]), ops.zeros([2 * u])]);
      this.bias.assign(init);
      init.dispose();
    }
  }

  stepProjected(xw: Tensor, [h, c]: Tensor[], masks: DropoutMasks): Tensor[] {
    const act = getActivation(this.activation);
    const rec = getActivation(this.recurrentActivation);
    const [zi, zf, zc, zo] = ops.split(ops.add(xw, this.recurrent(h, masks)), 4, 1);
    const cNext = ops.add(ops.mul(rec(zf), c), ops.mul(rec(zi), act(zc)));
    return [ops.mul(rec(zo), act(cNext)), cNext];
  }
  getConfig(): Record<string, unknown> { return { ...super.getConfig(), unitForgetBias: this.unitForgetBias }; }
}

/** GRU (reset before the recurrent matmul, as TF.js): gates z, r, h. */
export class GRUCell extends GatedCell {
  protected readonly gates = 3;
  readonly stateSize = [this.units];
  getClassName() { return 'GRUCell'; }
  stepProjected(xw: Tensor, [h]: Tensor[], masks: DropoutMasks): Tensor[] {
    const u = this.units;
    const act = getActivation(this.activation);
    const rec = getActivation(this.recurrentActivation);
    const [xz, xr, xh] = ops.split(xw, 3, 1);
    const [uzr, uh] = ops.split(this.recurrentKernel!, [2 * u, u], 1);
    const [hz, hr] = ops.split(this.recurrent(h, masks, uzr), 2, 1);
    const z = rec(ops.add(xz, hz));
    const r = rec(ops.add(xr, hr));
    const hh = act(ops.add(xh, this.recurrent(ops.mul(r, h), masks, uh)));
    return [ops.add(ops.mul(z, h), ops.mul(ops.sub(1, z), hh))];
  }
}

/** Cells run one after another in each step: cell i's output is cell i + 1's input. */
export class StackedRNNCells extends RNNCell {
  readonly cells: RNNCell[];
  constructor(args: LayerArgs & { cells: RNNCell[] }) {
    super(args);
    if (!Array.isArray(args.cells) || args.cells.length === 0 || !args.cells.every((c) => c instanceof RNNCell)) throw new Error('StackedRNNCells: cells must be a non-empty array of RNN cells');
    this.cells = args.cells;
  }
  getClassName() { return 'StackedRNNCells'; }
  get stateSize() { return this.cells.flatMap((c) => c.stateSize); }
  get outputSize() { return this.cells[this.cells.length - 1].outputSize; }

  build(s: Shape): void {
    let features = s[s.length - 1] as number;
    this.cells.forEach((cell, i) => {
      // TF.js names the weights of the i-th stacked cell <layer>/RNNCell_<i>/<weight>
      cell.weightScope = `${this.weightScope ?? this.name}/RNNCell_${i}`;
      cell.ensureBuilt([s[0], features]);
      this.sublayers.push(cell);
      features = cell.outputSize;
    });
  }

  dropoutMasks(batch: number, features: number, training: boolean): DropoutMasks {
    const perCell = this.cells.map((c, i) => c.dropoutMasks(batch, i === 0 ? features : this.cells[i - 1].outputSize, training));
    // the first cell's input mask is applied by the RNN before projecting, like a single cell's
    return { input: perCell[0].input, recurrent: null, perCell };
  }

  project(x: Tensor): Tensor { return this.cells[0].project(x); }

  outputOf(states: Tensor[]): Tensor {
    const last = this.cells[this.cells.length - 1];
    return last.outputOf(states.slice(states.length - last.stateSize.length));
  }

  stepProjected(xw: Tensor, states: Tensor[], masks: DropoutMasks): Tensor[] {
    const perCell = masks.perCell!;
    const out: Tensor[] = [];
    let at = 0;
    let input: Tensor | null = null;
    this.cells.forEach((cell, i) => {
      const own = states.slice(at, at + cell.stateSize.length);
      at += cell.stateSize.length;
      const m = perCell[i];
      const projected = i === 0 ? xw : cell.project(m.input ? ops.mul(input!, m.input) : input!);
      const next = cell.stepProjected(projected, own, m);
      out.push(...next);
      input = cell.outputOf(next);
    });
    return out;
  }

  fresh(name?: string): RNNCell { return new StackedRNNCells({ name, cells: this.cells.map((c) => c.fresh()) }); }

  getConfig(): Record<string, unknown> { return { ...super.getConfig(), cells: this.cells.map(kerasConfig) }; }
}

export interface RNNArgs extends LayerArgs {
  returnSequences?: boolean;
  returnState?: boolean;
  goBackwards?: boolean;
  stateful?: boolean;
  /** Accepted for TF.js's sake: the loop is always unrolled over the known steps. */
  unroll?: boolean;
  inputLength?: number;
}

/** An RNN layer over any cell (or an array of cells, stacked): tf.layers.rnn. */
export class RNN extends Layer {
  readonly cell: RNNCell;
  readonly returnSequences: boolean;
  readonly goBackwards: boolean;
  protected readonly rnnArgs: RNNArgs;

  constructor(args: RNNArgs & { cell: RNNCell | RNNCell[] }) {
    super(args);
    const cls = this.getClassName();
    for (const opt of ['returnState', 'stateful'] as const) {
      if (args[opt]) throw new Error(`${cls}: option ${opt} is not supported`);
    }
    const cell = Array.isArray(args.cell) ? new StackedRNNCells({ cells: args.cell }) : args.cell;
    if (!(cell instanceof RNNCell)) throw new Error(`${cls}: cell must be an RNN cell (tf.layers.lstmCell and the like) or an array of them`);
    this.cell = cell;
    this.returnSequences = args.returnSequences ?? false;
    this.goBackwards = args.goBackwards ?? false;
    this.rnnArgs = args;
  }

  getClassName() { return 'RNN'; }

  computeOutputShape(s: Shape): Shape {
    checkRank(this, s, 3);
    return this.returnSequences ? [s[0], s[1], this.cell.outputSize] : [s[0], this.cell.outputSize];
  }

  build(s: Shape): void {
    checkRank(this, s, 3);
    this.cell.weightScope = this.weightScope ?? this.name;
    this.cell.ensureBuilt([s[0], s[2]]);
    this.sublayers.push(this.cell);
  }

  protected call(x: Tensor, training: boolean): Tensor {
    const [b, T, f] = x.shape;
    const masks = this.cell.dropoutMasks(b, f, training);
    // the input's dropout mask is the same for every step, so it applies before the projection
    const inputs = masks.input ? ops.mul(x, ops.reshape(masks.input, [b, 1, f])) : x;
    const proj2 = this.cell.project(ops.reshape(inputs, [b * T, f]));
    const g = proj2.shape[1];
    const proj = ops.reshape(proj2, [b, T, g]);
    let state = this.cell.initialState(b);
    const outputs: Tensor[] = [];
    for (let k = 0; k < T; k++) {
      const t = this.goBackwards ? T - 1 - k : k;
      const xw = ops.reshape(ops.slice(proj, [0, t, 0], [b, 1, g]), [b, g]);
      state = this.cell.stepProjected(xw, state, masks);
      if (this.returnSequences) outputs.push(this.cell.outputOf(state));
    }
    return this.returnSequences ? ops.stack(outputs, 1) : this.cell.outputOf(state);
  }

  /** An unbuilt copy of this layer running the other way in time (Bidirectional's backward half). */
  reversed(name: string): RNN {
    return new RNN({ ...this.rnnArgs, name, goBackwards: !this.goBackwards, cell: this.cell.fresh() });
  }

  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), returnSequences: this.returnSequences, returnState: false, goBackwards: this.goBackwards, stateful: false, unroll: false, cell: kerasConfig(this.cell) };
  }
}

/** SimpleRNN, LSTM and GRU: an RNN of their cell, configured (and saved) flat, as TF.js. */
abstract class CellRNN extends RNN {
  protected readonly cellArgs: CellArgs & RNNArgs;
  constructor(args: CellArgs & RNNArgs, makeCell: (a: CellArgs) => GatedCell) {
    // the cell's own name does not matter: its weights are named under this layer
    super({ ...args, cell: makeCell({ ...args, name: undefined, inputShape: undefined, batchInputShape: undefined }) });
    this.cellArgs = args;
  }
  get units() { return (this.cell as GatedCell).units; }
  reversed(name: string): RNN {
    return new (this.constructor as new (a: CellArgs & RNNArgs) => RNN)({ ...this.cellArgs, name, goBackwards: !this.goBackwards, inputShape: undefined, batchInputShape: undefined });
  }
  getConfig(): Record<string, unknown> {
    const { cell: _, ...rest } = super.getConfig();
    const { name: _n, trainable: _t, ...cellConfig } = this.cell.getConfig();
    return { ...rest, ...cellConfig };
  }
}

export class SimpleRNN extends CellRNN {
  constructor(args: CellArgs & RNNArgs) { super(args, (a) => new SimpleRNNCell(a)); }
  getClassName() { return 'SimpleRNN'; }
}

export class LSTM extends CellRNN {
  constructor(args: CellArgs & RNNArgs) { super(args, (a) => new LSTMCell(a)); }
  getClassName() { return 'LSTM'; }
}

export class GRU extends CellRNN {
  constructor(args: CellArgs & RNNArgs) { super(args, (a) => new GRUCell(a)); }
  getClassName() { return 'GRU'; }
}
