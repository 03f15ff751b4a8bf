// tf.model({inputs, outputs}): a functional model, run by walking its graph of layer nodes.
import { tidy } from '../engine.js';
import type { Tensor } from '../tensor.js';
import { Layer, type Shape } from '../layers/layer.js';
import { InputLayer } from '../layers/input.js';
import { SymbolicTensor } from '../layers/symbolic.js';
import { LayersModel } from './sequential.js';

export class Functional extends LayersModel {
  readonly inputs: SymbolicTensor[];
  readonly outputs: SymbolicTensor[];
  /** Nodes (symbolic tensors) in an order where every input comes before its users. */
  private readonly order: SymbolicTensor[];
  private readonly layerList: Layer[];

  constructor(args: { inputs: SymbolicTensor | SymbolicTensor[]; outputs: SymbolicTensor | SymbolicTensor[]; name?: string }) {
    super(args.name ?? 'model');
    this.inputs = Array.isArray(args.inputs) ? args.inputs : [args.inputs];
    this.outputs = Array.isArray(args.outputs) ? args.outputs : [args.outputs];
    if (!this.inputs.every((i) => i instanceof SymbolicTensor && i.layer instanceof InputLayer)) {
      throw new Error('model: inputs must come from tf.input()');
    }
    if (!this.outputs.every((o) => o instanceof SymbolicTensor)) throw new Error('model: outputs must be symbolic tensors (layer.apply(...) of tf.input())');
    const seen = new Set<SymbolicTensor>();
    this.order = [];
    const visit = (t: SymbolicTensor, path: Set<SymbolicTensor>) => {
      if (seen.has(t)) return;
      if (path.has(t)) throw new Error('model: the graph has a cycle');
      path.add(t);
      t.inputs.forEach((i) => visit(i, path));
      path.delete(t);
      seen.add(t);
      this.order.push(t);
    };
    this.outputs.forEach((o) => visit(o, new Set()));
    for (const t of this.order) {
      if (t.layer instanceof InputLayer && !this.inputs.includes(t)) {
        throw new Error(`model: output depends on input '${t.layer.name}' that is not among the model's inputs`);
      }
    }
    this.layerList = [...new Set(this.order.map((t) => t.layer))];
  }

  get layers(): Layer[] { return this.layerList; }
  /** @internal the graph's nodes, inputs before their users */
  graphOrder(): SymbolicTensor[] { return [...this.order]; }
  build(): void {}
  get inputShape(): Shape { return this.inputs[0].shape; }
  get outputShape(): Shape { return this.outputs[0].shape; }

  /** Runs the graph on concrete inputs, returning every output. */
  applyMany(xs: Tensor[], kwargs: { training?: boolean } = {}): Tensor[] {
    if (xs.length !== this.inputs.length) throw new Error(`${this.name}: expects ${this.inputs.length} inputs, got ${xs.length}`);
    return tidy(() => {
      const values = new Map<SymbolicTensor, Tensor>();
      this.inputs.forEach((s, i) => {
        const x = xs[i];
        if (x.rank !== s.rank || s.shape.some((d, k) => k > 0 && d !== null && d !== x.shape[k])) {
          throw new Error(`${this.name}: input ${i} has shape [${x.shape}], expected [${s.shape.map((d) => d ?? 'null')}]`);
        }
        values.set(s, x);
      });
      // masks (from Masking or an Embedding with maskZero) travel along with the values
      const masks = new Map<SymbolicTensor, Tensor | null>();
      for (const t of this.order) {
        if (values.has(t)) continue;
        const ins = t.inputs.map((i) => values.get(i)!);
        const inMasks = t.inputs.map((i) => masks.get(i) ?? null);
        if (ins.length === 1) {
          values.set(t, t.layer.apply(ins[0], { ...kwargs, mask: inMasks[0] ?? undefined }));
          masks.set(t, t.layer.computeMask(ins[0], inMasks[0]));
        } else {
          if (inMasks.some((m) => m)) throw new Error(`${t.layer.name}: masked inputs to a layer of several inputs are not supported`);
          values.set(t, t.layer.apply(ins, kwargs));
        }
      }
      return this.outputs.map((o) => values.get(o)!);
    });
  }

  /** @internal */
  outputsFor(x: Tensor | Tensor[]): Tensor[] {
    return this.applyMany(Array.isArray(x) ? x : [x]);
  }

  apply(x: Tensor | Tensor[], kwargs: { training?: boolean } = {}): Tensor {
    const outs = this.applyMany(Array.isArray(x) ? x : [x], kwargs);
    if (outs.length !== 1) throw new Error(`${this.name}: has ${outs.length} outputs; use applyMany`);
    return outs[0];
  }

  getClassName(): string { return 'Functional'; }
}

export const model = (args: ConstructorParameters<typeof Functional>[0]) => new Functional(args);
