// tf.loadGraphModel: TF.js graph models (the TF.js converter's model.json: a GraphDef as JSON plus
// weight shards), run node by node on the engine's ops. Every node's op is checked at load (an
// unsupported one is an Error naming it and its node); weights stream into device buffers as they
// download. Ops that need a shape, axis or paddings read it from constants known on the host.
import { own } from '../args.js';
import { assertReady, tidy } from '../engine.js';
import * as ops from '../ops.js';
import { Tensor, type DataType } from '../tensor.js';
import { handlerFor } from '../io/handlers.js';
import { streamInto } from '../io/stream.js';
import { anyQuantized, dequantizeAll, dequantizedChunks } from '../io/quantized.js';
import type { IOHandler, ModelArtifacts, WeightsManifestEntry } from '../io/types.js';
import { checkWeights } from '../io/weights.js';

const OP = 'loadGraphModel';

type Attr = { s?: string; i?: string | number; f?: number; b?: boolean; type?: string; list?: { i?: Array<string | number>; s?: string[]; f?: number[] } };
interface GraphNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, Attr>;
}
/** A value in the graph: the tensor and, when known on the host, its values. */
interface Value {
  t: Tensor;
  host?: number[];
}
type Inputs = Tensor | Tensor[] | Record<string, Tensor>;

const text = (a?: Attr) => (a?.s === undefined ? undefined : atob(a.s));
const ints = (a?: Attr) => (a?.list?.i ?? []).map(Number);
const int = (a?: Attr, dflt = 0) => (a?.i === undefined ? dflt : Number(a.i));
const DTYPES: Record<string, DataType> = { DT_FLOAT: 'float32', DT_INT32: 'int32', DT_INT64: 'int32', DT_BOOL: 'bool' };

/** NHWC 2-D window attributes (strides or ksize as [1, h, w, 1]) and TF padding. */
function window2d(node: GraphNode, name: string): [number, number] {
  const v = ints(node.attr?.[name]);
  if (v.length === 0) return [1, 1];
  if (v.length !== 4 || v[0] !== 1 || v[3] !== 1) throw new Error(`${node.op} '${node.name}': unsupported ${name} [${v}]`);
  return [v[1], v[2]];
}
function padding(node: GraphNode): 'same' | 'valid' {
  const p = text(node.attr?.padding);
  if (p !== 'SAME' && p !== 'VALID') throw new Error(`${node.op} '${node.name}': unsupported padding ${p}`);
  const format = text(node.attr?.data_format);
  if (format !== undefined && format !== 'NHWC') throw new Error(`${node.op} '${node.name}': unsupported data_format ${format} (NHWC only)`);
  return p === 'SAME' ? 'same' : 'valid';
}

const UNARY: Record<string, (x: Tensor) => Tensor> = {
  Relu: ops.relu, Relu6: ops.relu6, Elu: ops.elu, Selu: ops.selu, Sigmoid: ops.sigmoid, Tanh: ops.tanh, Softplus: ops.softplus,
  Exp: ops.exp, Log: ops.log, Sqrt: ops.sqrt, Rsqrt: ops.rsqrt, Square: ops.square, Neg: ops.neg, Abs: ops.abs,
  Reciprocal: ops.reciprocal, Floor: ops.floor, Ceil: ops.ceil, Round: ops.round, Sin: ops.sin, Cos: ops.cos, Erf: ops.erf,
  Sign: ops.sign, Softmax: (x) => ops.softmax(x, -1), LogSoftmax: (x) => ops.logSoftmax(x, -1),
  Identity: (x) => x, StopGradient: (x) => x, Snapshot: (x) => x,
};
const BINARY: Record<string, (a: Tensor, b: Tensor) => Tensor> = {
  Add: ops.add, AddV2: ops.add, BiasAdd: ops.add, Sub: ops.sub, Mul: ops.mul, RealDiv: ops.div, Div: ops.div, FloorDiv: ops.floorDiv,
  Maximum: ops.maximum, Minimum: ops.minimum, Pow: ops.pow, SquaredDifference: ops.squaredDifference,
  Equal: ops.equal, Less: ops.less, Greater: ops.greater, LessEqual: ops.lessEqual, GreaterEqual: ops.greaterEqual,
};
const REDUCE: Record<string, (x: Tensor, axes: number[], keep: boolean) => Tensor> = {
  Mean: ops.mean, Sum: ops.sum, Max: ops.max, Min: ops.min, Prod: ops.prod,
};
const OTHER = new Set([
  'Placeholder', 'Const', 'NoOp', 'Conv2D', 'DepthwiseConv2dNative', '_FusedConv2D', 'FusedDepthwiseConv2dNative', '_FusedDepthwiseConv2dNative', 'MatMul', '_FusedMatMul',
  'BatchMatMul', 'BatchMatMulV2', 'AddN', 'LeakyRelu', 'MaxPool', 'AvgPool', 'FusedBatchNorm', 'FusedBatchNormV3', 'Reshape', 'Squeeze',
  'ExpandDims', 'ConcatV2', 'Pack', 'Transpose', 'Pad', 'PadV2', 'ArgMax', 'Cast', 'Shape', 'Fill', 'Slice', 'StridedSlice', 'Select', 'SelectV2',
]);

/** Activations that TF's grappler fuses into _FusedConv2D / _FusedMatMul after the bias. */
function fusedActivation(node: GraphNode, name: string, y: Tensor): Tensor {
  switch (name) {
    case 'Relu': return ops.relu(y);
    case 'Relu6': return ops.relu6(y);
    case 'Elu': return ops.elu(y);
    case 'Sigmoid': return ops.sigmoid(y);
    case 'Tanh': return ops.tanh(y);
    case 'LeakyRelu': return ops.leakyRelu(y, node.attr?.leakyrelu_alpha?.f ?? 0.2);
    default: throw new Error(`${node.op} '${node.name}': unsupported fused activation ${name}`);
  }
}

export class GraphModel {
  private readonly nodes = new Map<string, GraphNode>();
  private readonly consts = new Map<string, Value>();
  readonly inputNodes: string[];
  readonly outputNodes: string[];

  /** @internal */
  constructor(nodes: GraphNode[], consts: Map<string, Value>, signature?: Record<string, unknown>) {
    for (const n of nodes) this.nodes.set(n.name, n);
    this.consts = consts;
    const sigNames = (part: unknown) => Object.values((part ?? {}) as Record<string, { name: string }>).map((v) => v.name.split(':')[0]);
    const consumed = new Set(nodes.flatMap((n) => (n.input ?? []).map(nodeName)));
    this.inputNodes = signature?.inputs ? sigNames(signature.inputs) : nodes.filter((n) => n.op === 'Placeholder').map((n) => n.name);
    this.outputNodes = signature?.outputs ? sigNames(signature.outputs) : nodes.filter((n) => !consumed.has(n.name) && n.op !== 'Const' && n.op !== 'NoOp').map((n) => n.name);
  }

  get inputs(): Array<{ name: string }> { return this.inputNodes.map((name) => ({ name })); }
  get outputs(): Array<{ name: string }> { return this.outputNodes.map((name) => ({ name })); }

  /** Runs the graph; inputs by position or by input node name. One output -> a tensor, else an array. */
  execute(inputs: Inputs, outputs?: string | string[]): Tensor | Tensor[] {
    const wanted = outputs === undefined ? this.outputNodes : (Array.isArray(outputs) ? outputs : [outputs]).map(nodeName);
    const feed = new Map<string, Tensor>();
    if (inputs instanceof Tensor || Array.isArray(inputs)) {
      const list = inputs instanceof Tensor ? [inputs] : inputs;
      if (list.length !== this.inputNodes.length) throw new Error(`GraphModel.execute: the model takes ${this.inputNodes.length} inputs (${this.inputNodes.join(', ')}), got ${list.length}`);
      list.forEach((t, i) => feed.set(this.inputNodes[i], t));
    } else {
      for (const [k, t] of Object.entries(inputs)) feed.set(nodeName(k), t);
    }
    for (const [k, t] of feed) {
      if (!(t instanceof Tensor)) throw new Error(`GraphModel.execute: input '${k}' is not a tensor`);
    }
    const outs = tidy(() => {
      const values = new Map<string, Value>();
      for (const name of this.order(wanted)) values.set(name, this.run(this.nodes.get(name)!, values, feed));
      return wanted.map((w) => {
        const v = values.get(w);
        if (!v) throw new Error(`GraphModel.execute: no node '${w}'`);
        return v.t;
      });
    });
    return outs.length === 1 ? outs[0] : outs;
  }

  predict(inputs: Inputs): Tensor | Tensor[] {
    return this.execute(inputs);
  }

  dispose(): void {
    for (const v of this.consts.values()) v.t.dispose();
    this.consts.clear();
  }

  /** The nodes the outputs need, each after its inputs (iterative DFS: graphs can be deep). */
  private order(outputs: string[]): string[] {
    const out: string[] = [];
    const state = new Map<string, 1 | 2>();
    const stack: Array<[string, boolean]> = outputs.map((o) => [o, false]);
    while (stack.length) {
      const [name, done] = stack.pop()!;
      if (done) { state.set(name, 2); out.push(name); continue; }
      if (state.get(name) === 2) continue;
      if (state.get(name) === 1) throw new Error(`GraphModel: the graph has a cycle through '${name}'`);
      const node = this.nodes.get(name);
      if (!node) throw new Error(`GraphModel: the graph uses '${name}', which no node produces`);
      state.set(name, 1);
      stack.push([name, true]);
      for (const i of node.input ?? []) if (!i.startsWith('^') && state.get(nodeName(i)) !== 2) stack.push([nodeName(i), false]);
    }
    return out;
  }

  private run(node: GraphNode, values: Map<string, Value>, feed: Map<string, Tensor>): Value {
    const args = (node.input ?? []).filter((i) => !i.startsWith('^')).map((i) => {
      const v = values.get(nodeName(i));
      if (!v) throw new Error(`GraphModel: '${node.name}' reads '${i}' before it is computed`);
      return v;
    });
    const t = (i: number) => args[i].t;
    const host = (i: number, what: string) => {
      const h = args[i]?.host;
      if (!h) throw new Error(`${node.op} '${node.name}': unsupported: its ${what} must be a constant`);
      return h;
    };
    const val = (x: Tensor, h?: number[]): Value => ({ t: x, host: h });
    const a = node.attr ?? {};
    const unary = own(UNARY, node.op), binary = own(BINARY, node.op), reduce = own(REDUCE, node.op);
    if (unary) return val(unary(t(0)), node.op === 'Identity' ? args[0].host : undefined);
    if (binary) return val(binary(t(0), t(1)));
    if (reduce) return val(reduce(t(0), host(1, 'axes'), a.keep_dims?.b ?? false));
    switch (node.op) {
      case 'Placeholder': {
        const x = feed.get(node.name);
        if (!x) throw new Error(`GraphModel.execute: no tensor given for input '${node.name}' (inputs: ${this.inputNodes.join(', ')})`);
        return val(x);
      }
      case 'Const': {
        const c = this.consts.get(node.name);
        if (!c) throw new Error(`GraphModel: constant '${node.name}' has no weight data`);
        return c;
      }
      // (the converter writes the fused depthwise conv without the leading underscore)
      case 'Conv2D': case 'DepthwiseConv2dNative': case '_FusedConv2D': case 'FusedDepthwiseConv2dNative': case '_FusedDepthwiseConv2dNative': {
        const depthwise = node.op.includes('Depthwise');
        const conv = depthwise ? ops.depthwiseConv2d : ops.conv2d;
        let y = conv(t(0), t(1), window2d(node, 'strides'), padding(node), 'NHWC', window2d(node, 'dilations'));
        if (node.op.includes('Fused')) y = this.fused(node, y, args.slice(2));
        return val(y);
      }
      case 'MatMul': case '_FusedMatMul': case 'BatchMatMul': case 'BatchMatMulV2': {
        const [ta, tb] = node.op.startsWith('Batch') ? [a.adj_x?.b, a.adj_y?.b] : [a.transpose_a?.b, a.transpose_b?.b];
        let y = ops.matMul(t(0), t(1), ta ?? false, tb ?? false);
        if (node.op === '_FusedMatMul') y = this.fused(node, y, args.slice(2));
        return val(y);
      }
      case 'AddN': return val(args.slice(1).reduce((s, v) => ops.add(s, v.t), t(0)));
      case 'LeakyRelu': return val(ops.leakyRelu(t(0), a.alpha?.f ?? 0.2));
      case 'MaxPool': case 'AvgPool': {
        const pool = node.op === 'MaxPool' ? ops.maxPool : ops.avgPool;
        return val(pool(t(0), window2d(node, 'ksize'), window2d(node, 'strides'), padding(node)));
      }
      case 'FusedBatchNorm': case 'FusedBatchNormV3':
        if (a.is_training?.b) throw new Error(`${node.op} '${node.name}': unsupported: training mode`);
        return val(ops.batchNorm(t(0), t(3), t(4), t(2), t(1), a.epsilon?.f ?? 1e-3));
      case 'Reshape': return val(ops.reshape(t(0), host(1, 'shape')), args[0].host);
      case 'Squeeze': return val(ops.squeeze(t(0), ints(a.squeeze_dims).length ? ints(a.squeeze_dims) : undefined));
      case 'ExpandDims': return val(ops.expandDims(t(0), host(1, 'axis')[0]), args[0].host);
      case 'ConcatV2': {
        const axis = host(args.length - 1, 'axis')[0];
        const parts = args.slice(0, -1);
        const known = parts.every((p) => p.host) && parts[0].t.rank <= 1;
        return val(ops.concat(parts.map((p) => p.t), axis), known ? parts.flatMap((p) => p.host!) : undefined);
      }
      case 'Pack': {
        const known = args.every((p) => p.host && p.t.rank === 0);
        return val(ops.stack(args.map((p) => p.t), int(a.axis)), known ? args.map((p) => p.host![0]) : undefined);
      }
      case 'Transpose': return val(ops.transpose(t(0), host(1, 'perm')));
      case 'Pad': case 'PadV2': {
        const p = host(1, 'paddings');
        const pairs = Array.from({ length: p.length / 2 }, (_, i) => [p[2 * i], p[2 * i + 1]] as [number, number]);
        return val(ops.pad(t(0), pairs, node.op === 'PadV2' ? host(2, 'constant value')[0] : 0));
      }
      case 'ArgMax': return val(ops.argMax(t(0), host(1, 'axis')[0]));
      case 'Cast': {
        const to = own(DTYPES, a.DstT?.type ?? '');
        if (!to) throw new Error(`Cast '${node.name}': unsupported: cast to ${a.DstT?.type}`);
        return val(ops.cast(t(0), to), args[0].host);
      }
      case 'Shape': return val(ops.tensor(t(0).shape, [t(0).rank], 'int32'), [...t(0).shape]);
      case 'Fill': {
        const dims = host(0, 'dims');
        return val(ops.fill(dims, host(1, 'value')[0], t(1).dtype));
      }
      case 'Slice': {
        const begin = host(1, 'begin');
        const size = host(2, 'size');
        const h = args[0].host && t(0).rank === 1 ? args[0].host.slice(begin[0], size[0] < 0 ? undefined : begin[0] + size[0]) : undefined;
        return val(ops.slice(t(0), begin, size), h);
      }
      case 'StridedSlice': return this.stridedSlice(node, args, host);
      case 'Select': case 'SelectV2': return val(ops.where(t(0), t(1), t(2)));
      default: throw new Error(`GraphModel: unsupported op '${node.op}' (node '${node.name}')`);
    }
  }

  /** The bias and activation TF fused into a conv or matmul (fused_ops = ['BiasAdd', act?]). */
  private fused(node: GraphNode, y: Tensor, extra: Value[]): Tensor {
    const fusedOps = (node.attr?.fused_ops?.list?.s ?? []).map((s) => atob(s));
    let out = y;
    let k = 0;
    for (const op of fusedOps) {
      if (op === 'BiasAdd') out = ops.add(out, extra[k++].t);
      else if (op === 'FusedBatchNorm') {
        const [scale, offset, mean, variance] = extra.slice(k, k + 4).map((v) => v.t);
        k += 4;
        out = ops.batchNorm(out, mean, variance, offset, scale, node.attr?.epsilon?.f ?? 1e-3);
      } else out = fusedActivation(node, op, out);
    }
    return out;
  }

  /** StridedSlice with unit strides and begin/end/shrink masks (what converted models use). */
  private stridedSlice(node: GraphNode, args: Value[], host: (i: number, what: string) => number[]): Value {
    const a = node.attr ?? {};
    const x = args[0].t;
    const [b, e, s] = [host(1, 'begin'), host(2, 'end'), host(3, 'strides')];
    if (int(a.ellipsis_mask) || int(a.new_axis_mask) || s.some((v) => v !== 1)) {
      throw new Error(`StridedSlice '${node.name}': unsupported: strides other than 1, ellipsis or new axes`);
    }
    const begin: number[] = [];
    const size: number[] = [];
    const shrink: number[] = [];
    for (let d = 0; d < x.rank; d++) {
      const n = x.shape[d];
      const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
      const from = d < b.length && !(int(a.begin_mask) & (1 << d)) ? clamp(b[d]) : 0;
      let to = d < e.length && !(int(a.end_mask) & (1 << d)) ? clamp(e[d]) : n;
      if (int(a.shrink_axis_mask) & (1 << d)) { to = from + 1; shrink.push(d); }
      begin.push(from);
      size.push(Math.max(to - from, 0));
    }
    let y = ops.slice(x, begin, size);
    const h = args[0].host && x.rank === 1 ? args[0].host.slice(begin[0], begin[0] + size[0]) : undefined;
    if (shrink.length) y = ops.reshape(y, y.shape.filter((_, d) => !shrink.includes(d)));
    return { t: y, host: h };
  }
}

function nodeName(input: string): string {
  return input.replace(/^\^/, '').split(':')[0];
}

/** The graph's nodes and weight specs, checked before any weight loads. */
function checkedGraph(a: ModelArtifacts): { nodes: GraphNode[]; specs: WeightsManifestEntry[] } {
  const nodes = (a?.modelTopology as { node?: GraphNode[] } | undefined)?.node;
  if (a.format !== undefined && a.format !== 'graph-model') throw new Error(`${OP}: the model is a '${a.format}', not a graph model (use loadLayersModel)`);
  if (!Array.isArray(nodes)) throw new Error(`${OP}: model.json has no GraphDef nodes (modelTopology.node)`);
  if ((a.modelTopology as { library?: { function?: unknown[] } }).library?.function?.length) {
    throw new Error(`${OP}: unsupported: graphs with functions (control flow)`);
  }
  // Every op is checked before any weight loads.
  for (const n of nodes) {
    if (!n || typeof n.name !== 'string' || typeof n.op !== 'string') throw new Error(`${OP}: malformed node ${JSON.stringify(n)?.slice(0, 100)}`);
    if (!own(UNARY, n.op) && !own(BINARY, n.op) && !own(REDUCE, n.op) && !OTHER.has(n.op)) throw new Error(`${OP}: unsupported op '${n.op}' (node '${n.name}')`);
  }
  const specs = a.weightSpecs ?? [];
  // (TF.js stores bool weights one byte each; the engine holds them as words: not read yet.)
  // Weights given whole are checked against their specs before any tensor is allocated for them;
  // streamed ones as they arrive.
  checkWeights(OP, specs, a.weightChunks ? undefined : a.weightData ?? new ArrayBuffer(0), { streamed: !!a.weightChunks, dtypes: ['float32', 'int32'] });
  return { nodes, specs };
}

/** Integer and tiny constants are also kept on the host: shapes, axes, paddings, scalars. */
const keptOnHost = (dtype: string | undefined, size: number) => (dtype ?? 'float32') !== 'float32' || size <= 16;

/** A graph model from artifacts whose weights are given whole (no reads from the device). */
function graphFromWhole(a: ModelArtifacts): GraphModel {
  const { nodes, specs } = checkedGraph(a);
  // quantized weights (the converter's --quantize_*) are dequantized, as TF.js does
  const data = anyQuantized(specs) ? dequantizeAll(specs, a.weightData ?? new ArrayBuffer(0)) : a.weightData ?? new ArrayBuffer(0);
  const consts = new Map<string, Value>();
  let at = 0;
  try {
    for (const s of specs) {
      const n = s.shape.reduce((p, d) => p * d, 1);
      const values = s.dtype === 'int32' ? new Int32Array(data.slice(at, at + 4 * n)) : new Float32Array(data.slice(at, at + 4 * n));
      at += 4 * n;
      consts.set(s.name, { t: ops.tensor(values, s.shape, (s.dtype ?? 'float32') as DataType), host: keptOnHost(s.dtype, n) ? Array.from(values) : undefined });
    }
  } catch (e) {
    consts.forEach((c) => c.t.dispose());
    throw e;
  }
  return new GraphModel(nodes, consts, a.signature);
}

/** Loads a TF.js graph model (model.json from the TF.js converter) from a URL or an IO handler. */
export async function loadGraphModel(pathOrHandler: string | IOHandler): Promise<GraphModel> {
  assertReady(OP);
  const handler = typeof pathOrHandler === 'string' ? handlerFor(pathOrHandler, OP) : pathOrHandler;
  if (!handler?.load) throw new Error(`${OP}: the IO handler cannot load`);
  const a: ModelArtifacts = await handler.load();
  if (!a?.weightChunks) return graphFromWhole(a);
  const { nodes, specs } = checkedGraph(a);
  const tensors = specs.map((s) => ops.zeros(s.shape, (s.dtype ?? 'float32') as DataType));
  const consts = new Map<string, Value>();
  try {
    // quantized weights (the converter's --quantize_*) are dequantized as they stream in, as TF.js does
    await streamInto(tensors, anyQuantized(specs) ? dequantizedChunks(specs, a.weightChunks()) : a.weightChunks(), OP);
    for (let i = 0; i < specs.length; i++) {
      const t = tensors[i];
      consts.set(specs[i].name, { t, host: keptOnHost(t.dtype, t.size) ? Array.from(await t.data()) : undefined });
    }
  } catch (e) {
    tensors.forEach((t) => t.dispose());
    throw e;
  }
  return new GraphModel(nodes, consts, a.signature);
}

/**
 * TF.js's loadGraphModelSync: a graph model from artifacts at hand, a synchronous IO handler, or
 * [model.json's object, its weight data].
 */
export function loadGraphModelSync(source: ModelArtifacts | { load(): ModelArtifacts } | [Record<string, unknown>, ArrayBuffer]): GraphModel {
  assertReady(`${OP}Sync`);
  let a: ModelArtifacts;
  if (Array.isArray(source)) {
    const [json, weightData] = source;
    const manifest = (json?.weightsManifest ?? []) as Array<{ weights: WeightsManifestEntry[] }>;
    a = { modelTopology: json?.modelTopology as Record<string, unknown>, format: json?.format as string, signature: json?.signature as Record<string, unknown>, weightSpecs: manifest.flatMap((g) => g.weights), weightData };
  } else if (source && typeof (source as { load?: unknown }).load === 'function') {
    a = (source as { load(): ModelArtifacts }).load();
    if (a instanceof Promise) throw new Error(`${OP}Sync: the IO handler loads asynchronously; use loadGraphModel`);
  } else {
    a = source as ModelArtifacts;
  }
  if (!a || typeof a !== 'object') throw new Error(`${OP}Sync: expected model artifacts, a synchronous IO handler, or [modelJSON, weightData]`);
  if (a.weightChunks) throw new Error(`${OP}Sync: these artifacts stream their weights; use loadGraphModel`);
  return graphFromWhole(a);
}
