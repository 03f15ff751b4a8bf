// LSTM and GRU (TF.js/Keras 2 cells: gate orders i,f,c,o and z,r,h; recurrent activation
// 'hardSigmoid' by default, as TF.js). The input projection of every time step is one matmul;
// the recurrence runs step by step, and gradients flow through the ops it is built from.
import * as ops from '../ops.js';
import { sizeArg } from '../args.js';
import type { Tensor, Variable } from '../tensor.js';
import { getActivation } from '../activations.js';
import type { Initializer } from '../initializers.js';
import { checkRank, Layer, type LayerArgs, type Shape } from './layer.js';

export interface RNNArgs extends LayerArgs {
  units: number;
  activation?: string;
  recurrentActivation?: string;
  useBias?: boolean;
  returnSequences?: boolean;
  kernelInitializer?: string | Initializer;
  recurrentInitializer?: string | Initializer;
  biasInitializer?: string | Initializer;
  unitForgetBias?: boolean;
  returnState?: boolean;
  goBackwards?: boolean;
  stateful?: boolean;
}

abstract class RNN extends Layer {
  readonly units: number;
  readonly activation: string;
  readonly recurrentActivation: string;
  readonly useBias: boolean;
  readonly returnSequences: boolean;
  protected kernel?: Variable;
  protected recurrentKernel?: Variable;
  protected bias?: Variable;
  protected readonly args: RNNArgs;
  protected abstract readonly gates: number;

  constructor(args: RNNArgs) {
    super(args);
    const cls = this.getClassName();
    sizeArg(cls, 'units', args.units);
    for (const opt of ['returnState', 'goBackwards', 'stateful'] as const) {
      if (args[opt]) throw new Error(`${cls}: option ${opt} is not supported`);
    }
    this.units = args.units;
    this.activation = args.activation ?? 'tanh';
    this.recurrentActivation = args.recurrentActivation ?? 'hardSigmoid';
    getActivation(this.activation);
    getActivation(this.recurrentActivation);
    this.useBias = args.useBias ?? true;
    this.returnSequences = args.returnSequences ?? false;
    this.args = args;
  }

  computeOutputShape(s: Shape): Shape {
    checkRank(this, s, 3);
    return this.returnSequences ? [s[0], s[1], this.units] : [s[0], this.units];
  }

  build(s: Shape): void {
    checkRank(this, s, 3);
    const g = this.gates * this.units;
    this.kernel = this.addWeight('kernel', [s[2] as number, g], this.args.kernelInitializer, 'glorotUniform');
    // TF.js defaults the recurrent kernel to 'orthogonal'; without a QR here it starts glorotUniform.
    this.recurrentKernel = this.addWeight('recurrent_kernel', [this.units, g], this.args.recurrentInitializer, 'glorotUniform');
    if (this.useBias) this.bias = this.addWeight('bias', [g], this.args.biasInitializer, 'zeros');
    this.initBias();
  }

  protected initBias(): void {}

  /** One step: projected input (x W + b) and the state -> the new state; state[0] is h. */
  protected abstract step(xw: Tensor, state: Tensor[]): Tensor[];
  protected abstract initialState(batch: number): Tensor[];

  protected call(x: Tensor): Tensor {
    const [b, T, f] = x.shape;
    const g = this.gates * this.units;
    let proj = ops.matMul(x.reshape([b * T, f]), this.kernel!);
    if (this.bias) proj = proj.add(this.bias);
    proj = proj.reshape([b, T, g]);
    let state = this.initialState(b);
    const outputs: Tensor[] = [];
    for (let t = 0; t < T; t++) {
      const xw = ops.slice(proj, [0, t, 0], [b, 1, g]).reshape([b, g]);
      state = this.step(xw, state);
      if (this.returnSequences) outputs.push(state[0]);
    }
    return this.returnSequences ? ops.stack(outputs, 1) : state[0];
  }

  getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(), units: this.units, activation: this.activation, recurrentActivation: this.recurrentActivation,
      useBias: this.useBias, returnSequences: this.returnSequences,
    };
  }
}

export class LSTM extends RNN {
  protected readonly gates = 4;
  getClassName() { return 'LSTM'; }

  protected initBias(): void {
    // Keras unitForgetBias (default on): the forget gate's bias starts at 1.
    if (this.bias && (this.args.unitForgetBias ?? true) && this.args.biasInitializer === undefined) {
      const u = this.units;
      const init = ops.concat([ops.zeros([u]), ops.ones([u]), ops.zeros([2 * u])]);
      this.bias.assign(init);
      init.dispose();
    }
  }

  protected initialState(batch: number): Tensor[] {
    return [ops.zeros([batch, this.units]), ops.zeros([batch, this.units])];
  }

  protected step(xw: Tensor, [h, c]: Tensor[]): Tensor[] {
    const act = getActivation(this.activation);
    const rec = getActivation(this.recurrentActivation);
    const z = xw.add(ops.matMul(h, this.recurrentKernel!));
    const [zi, zf, zc, zo] = ops.split(z, 4, 1);
    const i = rec(zi), f = rec(zf), o = rec(zo);
    const cNext = f.mul(c).add(i.mul(act(zc)));
    return [o.mul(act(cNext)), cNext];
  }
}

export class GRU extends RNN {
  protected readonly gates = 3;
  getClassName() { return 'GRU'; }

  protected initialState(batch: number): Tensor[] {
    return [ops.zeros([batch, this.units])];
  }

  protected step(xw: Tensor, [h]: Tensor[]): Tensor[] {
    const u = this.units;
    const act = getActivation(this.activation);
    const rec = getActivation(this.recurrentActivation);
    const [xz, xr, xh] = ops.split(xw, 3, 1);
    const [uzr, uh] = ops.split(this.recurrentKernel!, [2 * u, u], 1);
    const [hz, hr] = ops.split(ops.matMul(h, uzr), 2, 1);
    const z = rec(xz.add(hz));
    const r = rec(xr.add(hr));
    const hh = act(xh.add(ops.matMul(r.mul(h), uh)));
    return [z.mul(h).add(ops.sub(1, z).mul(hh))];
  }
}

/** SimpleRNN: h' = activation(x W + h U + b). */
export class SimpleRNN extends RNN {
  protected readonly gates = 1;
  getClassName() { return 'SimpleRNN'; }
  protected initialState(batch: number): Tensor[] { return [ops.zeros([batch, this.units])]; }
  protected step(xw: Tensor, [h]: Tensor[]): Tensor[] { return [getActivation(this.activation)(ops.add(xw, ops.matMul(h, this.recurrentKernel!)))]; }
  getConfig(): Record<string, unknown> { const { recurrentActivation: _, ...rest } = super.getConfig(); return rest; }
}
