// Recurrent layers as TF.js has them: cells (SimpleRNNCell, LSTMCell, GRUCell, StackedRNNCells)
// and the RNN layer that runs a cell over time; SimpleRNN, LSTM and GRU are RNNs of their cell.
// Gate orders and defaults follow TF.js/Keras 2 (i,f,c,o and z,r,h; recurrent activation
// 'hardSigmoid'). The input projection of every time step is one matmul; the recurrence runs step
// by step, and gradients flow through the ops it is built from.
import * as ops from '../ops.js';
import { rateArg, sizeArg } from '../args.js';
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

/**
 * A cell: one time step of a recurrence, from the input and the states to the new states (the
 * first is the output). Run over a sequence by tf.layers.rnn.
 */
export abstract class RNNCell extends Layer {
  /** The size of each state (the first is the output's). */
  abstract readonly stateSize: number[];
  /** The size of the output of a step. */
  abstract readonly outputSize: number;
  /** The rank of one step's input, batch included ([batch, features]: 2). */
  readonly stepRank: number = 2;

  /** One step's output shape for a step input of shape `s` (batch first). */
  computeOutputShape(s: Shape): Shape { return [s[0], this.outputSize]; }

  protected call(): Tensor {
    throw new Error(`${this.name}: a cell runs inside tf.layers.rnn({ cell }); apply the RNN layer to the sequence`);
  }

  /** Zero states for steps of input shape `x0` ([batch, ...]). */
  initialState(x0: number[]): Tensor[] { return this.stateSize.map((n) => ops.zeros([x0[0], n])); }

  /** Per-sequence dropout masks for training, for steps of input shape `x0` (null: no dropout). */
  dropoutMasks(_x0: number[], _training: boolean): DropoutMasks { return { input: null, recurrent: null }; }

  /** The inputs of all steps [n, ...] projected by the input kernel (plus the bias). */
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
    this.dropout = rateArg(cls, 'dropout', args.dropout ?? 0);
    this.recurrentDropout = rateArg(cls, 'recurrentDropout', args.recurrentDropout ?? 0);
  }

  get outputSize() { return this.units; }

  build(s: Shape): void {
    const g = this.gates * this.units;
    this.kernel = this.newWeight('kernel', [s[s.length - 1] as number, g], this.args.kernelInitializer, 'glorotNormal'); // (TF.js's cells default to glorotNormal)
    this.recurrentKernel = this.newWeight('recurrent_kernel', [this.units, g], this.args.recurrentInitializer, 'orthogonal');
    if (this.useBias) this.bias = this.newWeight('bias', [g], this.args.biasInitializer, 'zeros');
  }

  project(x: Tensor): Tensor {
    const xw = ops.matMul(x, this.kernel!);
    return this.bias ? ops.add(xw, this.bias) : xw;
  }

  dropoutMasks(x0: number[], training: boolean): DropoutMasks {
    const mask = (shape: number[], rate: number) => (training && rate > 0 ? ops.dropout(ops.ones(shape), rate) : null);
    return { input: mask(x0, this.dropout), recurrent: mask(this.computeOutputShape(x0) as number[], this.recurrentDropout) };
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

/** Keras's unitForgetBias (default on): the forget gate's bias (the second quarter) starts at 1. */
export function startForgetGateAtOne(bias: Variable, units: number): void {
  const init = ops.concat([ops.zeros([units]), ops.ones([units]), ops.zeros([2 * units])]);
  bias.assign(init);
  init.dispose();
}

/** An LSTM step from the gate pre-activations z (i, f, c, o along `axis`) and the carry c -> [h, c]. */
export function lstmUpdate(z: Tensor, c: Tensor, axis: number, activation: string, recurrentActivation: string): Tensor[] {
  const act = getActivation(activation);
  const rec = getActivation(recurrentActivation);
  const [zi, zf, zc, zo] = ops.split(z, 4, axis);
  const cNext = ops.add(ops.mul(rec(zf), c), ops.mul(rec(zi), act(zc)));
  return [ops.mul(rec(zo), act(cNext)), cNext];
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
    if (this.bias && this.unitForgetBias && this.args.biasInitializer === undefined) startForgetGateAtOne(this.bias, this.units);
  }

  stepProjected(xw: Tensor, [h, c]: Tensor[], masks: DropoutMasks): Tensor[] {
    return lstmUpdate(ops.add(xw, this.recurrent(h, masks)), c, 1, this.activation, this.recurrentActivation);
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
    if (!Array.isArray(args.cells) || args.cells.length === 0 || !args.cells.every((c) => c instanceof RNNCell && c.stepRank === 2)) throw new Error('StackedRNNCells: cells must be a non-empty array of RNN cells over vectors (simpleRNNCell, lstmCell, gruCell)');
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

  dropoutMasks(x0: number[], training: boolean): DropoutMasks {
    const perCell = this.cells.map((c, i) => c.dropoutMasks(i === 0 ? x0 : [x0[0], this.cells[i - 1].outputSize], training));
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
  /** With inputDim: the input is [batch, inputLength, inputDim]. */
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
    // TF.js's inputDim and inputLength give the input [batch, steps, features] (Layer reads inputDim alone as [batch, features])
    if (args.inputDim !== undefined && !args.inputShape && !args.batchInputShape) this.batchInputShape = [args.batchSize ?? null, args.inputLength ?? null, args.inputDim];
    this.returnSequences = args.returnSequences ?? false;
    this.goBackwards = args.goBackwards ?? false;
    this.rnnArgs = args;
  }

  getClassName() { return 'RNN'; }

  /** The RNN skips masked steps; its sequence output keeps their mask. */
  readonly supportsMasking = true;
  computeMask(_x: Tensor, mask: Tensor | null): Tensor | null { return this.returnSequences ? mask : null; }

  computeOutputShape(s: Shape): Shape {
    checkRank(this, s, this.cell.stepRank + 1);
    const step = this.cell.computeOutputShape([s[0], ...s.slice(2)]);
    return this.returnSequences ? [s[0], s[1], ...step.slice(1)] : step;
  }

  build(s: Shape): void {
    checkRank(this, s, this.cell.stepRank + 1);
    this.cell.weightScope = this.weightScope ?? this.name;
    this.cell.ensureBuilt([s[0], ...s.slice(2)]);
    this.sublayers.push(this.cell);
  }

  protected call(x: Tensor, training: boolean, mask?: Tensor): Tensor {
    const [b, T, ...rest] = x.shape;
    if (mask && mask.shape.join() !== `${b},${T}`) throw new Error(`${this.name}: a mask of shape [${mask.shape}] does not fit steps [${b}, ${T}]`);
    const x0 = [b, ...rest];
    const masks = this.cell.dropoutMasks(x0, training);
    // the input's dropout mask is the same for every step, so it applies before the projection
    const inputs = masks.input ? ops.mul(x, ops.expandDims(masks.input, 1)) : x;
    // every step's input projection at once, the steps riding along with the batch
    const flat = this.cell.project(ops.reshape(inputs, [b * T, ...rest]));
    const g = flat.shape.slice(1);
    const proj = ops.reshape(flat, [b, T, ...g]);
    let state = this.cell.initialState(x0);
    const outputs: Tensor[] = [];
    for (let k = 0; k < T; k++) {
      const t = this.goBackwards ? T - 1 - k : k;
      const xw = ops.reshape(ops.slice(proj, [0, t, ...g.map(() => 0)], [b, 1, ...g]), [b, ...g]);
      const next = this.cell.stepProjected(xw, state, masks);
      if (mask) {
        // a masked step changes nothing: every state carries over it
        const real = ops.reshape(ops.slice(mask, [0, t], [b, 1]), [b]);
        state = next.map((s, i) => ops.where(ops.reshape(real, [b, ...s.shape.slice(1).map(() => 1)]), s, state[i]));
      } else {
        state = next;
      }
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

/** SimpleRNN, LSTM, GRU and ConvLSTM2D: an RNN of their cell, configured (and saved) flat, as TF.js. */
export abstract class CellRNN<A extends LayerArgs> extends RNN {
  protected readonly cellArgs: A & RNNArgs;
  constructor(args: A & RNNArgs, makeCell: (a: A) => RNNCell) {
    // the cell's own name does not matter: its weights are named under this layer
    super({ ...args, cell: makeCell({ ...args, name: undefined, inputShape: undefined, batchInputShape: undefined }) });
    this.cellArgs = args;
  }
  reversed(name: string): RNN {
    return new (this.constructor as new (a: A & RNNArgs) => RNN)({ ...this.cellArgs, name, goBackwards: !this.goBackwards, inputShape: undefined, batchInputShape: undefined });
  }
  getConfig(): Record<string, unknown> {
    const { cell: _, ...rest } = super.getConfig();
    const { name: _n, trainable: _t, ...cellConfig } = this.cell.getConfig();
    return { ...rest, ...cellConfig };
  }
}

export class SimpleRNN extends CellRNN<CellArgs> {
  constructor(args: CellArgs & RNNArgs) { super(args, (a) => new SimpleRNNCell(a)); }
  getClassName() { return 'SimpleRNN'; }
}

export class LSTM extends CellRNN<CellArgs> {
  constructor(args: CellArgs & RNNArgs) { super(args, (a) => new LSTMCell(a)); }
  getClassName() { return 'LSTM'; }
}

export class GRU extends CellRNN<CellArgs> {
  constructor(args: CellArgs & RNNArgs) { super(args, (a) => new GRUCell(a)); }
  getClassName() { return 'GRU'; }
}
