// tf.loadOnnxModel: ONNX models for inference, run by the engine's importer (src/onnx) on the
// current backend. Every op is checked before the weights load; an unsupported one is an Error
// naming the op, its node and the opset.
import { assertReady, wasm } from '../engine.js';
import { Tensor, Variable } from '../tensor.js';
import { bytesFrom } from '../io/bytes.js';

export class OnnxGraphModel {
  /** @internal */
  private inner: wasm.OnnxModel | null;
  private weights: Variable[] | null = null;

  /** @internal */
  constructor(inner: wasm.OnnxModel) {
    this.inner = inner;
  }

  private get model(): wasm.OnnxModel {
    if (!this.inner) throw new Error('OnnxGraphModel: the model is disposed');
    return this.inner;
  }

  /** The graph inputs to feed (initializers excluded), in order. */
  get inputNames(): string[] { return this.model.inputNames; }
  get outputNames(): string[] { return this.model.outputNames; }
  get opset(): number { return this.model.opset; }

  /**
   * Runs the graph. Inputs: one tensor, an array in `inputNames` order, or a map by name. Returns
   * one tensor when the graph has one output, else an array in `outputNames` order.
   */
  execute(inputs: Tensor | Tensor[] | Record<string, Tensor>, options: { training?: boolean } = {}): Tensor | Tensor[] {
    const names = this.inputNames;
    let list: Tensor[];
    if (inputs instanceof Tensor) list = [inputs];
    else if (Array.isArray(inputs)) list = inputs;
    else {
      list = names.map((n) => {
        const t = (inputs as Record<string, Tensor>)[n];
        if (!(t instanceof Tensor)) throw new Error(`OnnxGraphModel.execute: no tensor given for input '${n}' (inputs: ${names.join(', ')})`);
        return t;
      });
    }
    list.forEach((t, i) => {
      if (!(t instanceof Tensor)) throw new Error(`OnnxGraphModel.execute: input ${i} (${names[i] ?? '?'}) is not a tensor`);
    });
    if (list.length !== names.length) throw new Error(`OnnxGraphModel.execute: the model takes ${names.length} inputs (${names.join(', ')}), got ${list.length}`);
    const outs = this.model.run(list.map((t) => t.handle.clone()), options.training ?? false).map((h) => new Tensor(h));
    return outs.length === 1 ? outs[0] : outs;
  }

  predict(inputs: Tensor | Tensor[] | Record<string, Tensor>): Tensor | Tensor[] {
    return this.execute(inputs);
  }

  /**
   * The model's float initializers as Variables sharing its storage, for fine-tuning: pass them
   * to an optimizer, and run `execute(x, { training: true })` inside `minimize` so that gradients
   * reach them. Stepping them changes the model.
   */
  get trainableWeights(): Variable[] {
    if (!this.weights) {
      const names = this.model.weightNames();
      this.weights = this.model.trainableWeights().map((h, i) => new Variable(h, true, names[i]));
    }
    return this.weights;
  }

  dispose(): void {
    this.weights?.forEach((w) => w.dispose());
    this.weights = null;
    this.inner?.free();
    this.inner = null;
  }
}

/** Loads an ONNX model from a URL, or from its bytes. */
export async function loadOnnxModel(source: string | ArrayBuffer | Uint8Array): Promise<OnnxGraphModel> {
  assertReady('loadOnnxModel');
  const bytes = await bytesFrom(source, 'loadOnnxModel');
  return new OnnxGraphModel(wasm.OnnxModel.fromBytes(bytes));
}

/** Decodes a serialized ONNX TensorProto (such as ONNX test data .pb files) into a tensor. */
export function decodeOnnxTensor(bytes: Uint8Array): Tensor {
  assertReady('decodeOnnxTensor');
  return new Tensor(wasm.tensorFromOnnx(bytes));
}
