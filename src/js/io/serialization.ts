// Sequential and functional models <-> TF.js layers-format artifacts (Keras-style topology with snake_case
// configs, weight specs named `<layer>/<weight>`, one little-endian float32 buffer), and
// safetensors for weights alone. Untrusted files are validated before anything is allocated.
import type { QuantizeOptions } from '../quantize.js';
import { own } from '../args.js';
import * as ops from '../ops.js';
import { kerasConfig, Layer, withWeightBudget } from '../layers/layer.js';
import { layers as make } from '../layers/index.js';
import type { RNN, RNNCell } from '../layers/recurrent.js';
import { Sequential, type LayersModel } from '../models/sequential.js';
import { Functional } from '../models/functional.js';
import { InputLayer, input } from '../layers/input.js';
import { SymbolicTensor } from '../layers/symbolic.js';
import { LIMITS, type ModelArtifacts, type WeightsManifestEntry } from './types.js';
import { streamInto } from './stream.js';
import { checkWeights } from './weights.js';
import { anyQuantized, dequantizeAll, dequantizedChunks, dequantizedSpecs } from './quantized.js';
import type { Variable } from '../tensor.js';


/** Keras functional topology: each layer with its inbound nodes, plus the input/output layers. */
function functionalTopology(model: Functional): Record<string, unknown> {
  const uses = new Map<Layer, number>();
  for (const t of model.graphOrder()) uses.set(t.layer, (uses.get(t.layer) ?? 0) + 1);
  for (const [l, n] of uses) {
    if (n > 1) throw new Error(`save: layer ${l.name} is shared (applied ${n} times); saving shared layers is not supported yet`);
  }
  const ref = (t: SymbolicTensor) => [t.layer.name, 0, 0, {}];
  const layers = model.graphOrder().map((t) => {
    const base = t.layer instanceof InputLayer
      ? { class_name: 'InputLayer', config: { batch_input_shape: t.shape, dtype: 'float32', sparse: false, name: t.layer.name } }
      : kerasConfig(t.layer);
    return { ...base, name: t.layer.name, inbound_nodes: t.inputs.length ? [t.inputs.map(ref)] : [] };
  });
  return {
    class_name: 'Model',
    config: {
      name: model.name,
      layers,
      input_layers: model.inputs.map((t) => [t.layer.name, 0, 0]),
      output_layers: model.outputs.map((t) => [t.layer.name, 0, 0]),
    },
    keras_version: 'webtensor 0.1.0',
    backend: 'tensor_flow.js',
  };
}

export async function modelToArtifacts(model: LayersModel): Promise<ModelArtifacts> {
  if (!(model instanceof Sequential) && !(model instanceof Functional)) throw new Error(`save: cannot save a ${model.getClassName()} model`);
  model.build();
  const weights = model.weights;
  // float32, and int32 for the packed codes of quantized kernels (tf.quantizeLayers).
  const weightSpecs: WeightsManifestEntry[] = weights.map((w) => ({ name: w.name, shape: [...w.shape], dtype: w.dtype === 'int32' ? 'int32' : 'float32' }));
  const parts = await Promise.all(weights.map((w) => w.data()));
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const data = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    data.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), at);
    at += p.byteLength;
  }
  return {
    modelTopology: model instanceof Functional ? functionalTopology(model) : {
      class_name: 'Sequential',
      config: { name: model.name, layers: model.layers.map(kerasConfig) },
      keras_version: 'webtensor 0.1.0',
      backend: 'tensor_flow.js',
    },
    format: 'layers-model',
    generatedBy: 'webtensor 0.1.0',
    convertedBy: null,
    weightSpecs,
    weightData: data.buffer,
  };
}

type Cfg = Record<string, unknown>;
const common = (c: Cfg) => ({
  name: c.name as string | undefined,
  trainable: c.trainable as boolean | undefined,
  batchInputShape: c.batch_input_shape as (number | null)[] | undefined,
});
const num = (v: unknown) => v as number;
const pair = (v: unknown) => v as number | [number, number];
const triple = (v: unknown) => v as number | [number, number, number];
function channelsLast(c: Cfg, cls: string): void {
  if (c.data_format !== undefined && c.data_format !== 'channels_last') throw new Error(`loadLayersModel: ${cls} with data_format '${c.data_format}' is not supported (channels_last only)`);
}

/** A recurrent cell's settings (also those of SimpleRNN, LSTM and GRU, which Keras saves flat). */
const cell = (c: Cfg) => ({
  units: num(c.units),
  activation: c.activation as string | undefined,
  recurrentActivation: (c.recurrent_activation as string | undefined)?.replace('hard_sigmoid', 'hardSigmoid'),
  useBias: c.use_bias as boolean | undefined,
  dropout: (c.dropout ?? undefined) as number | undefined,
  recurrentDropout: (c.recurrent_dropout ?? undefined) as number | undefined,
});
/** An RNN layer's own settings. */
const sequence = (c: Cfg) => ({
  returnSequences: c.return_sequences as boolean | undefined,
  returnState: c.return_state as boolean | undefined,
  goBackwards: c.go_backwards as boolean | undefined,
  stateful: c.stateful as boolean | undefined,
});
const rnn = (c: Cfg) => ({ ...cell(c), ...sequence(c) });
const convLstm = (c: Cfg) => {
  const { units: _, ...rest } = cell(c);
  return {
    ...rest, filters: num(c.filters), kernelSize: pair(c.kernel_size), strides: pair(c.strides ?? 1), padding: c.padding as 'same' | 'valid',
    dilationRate: pair(c.dilation_rate ?? 1), unitForgetBias: c.unit_forget_bias as boolean | undefined,
  };
};

/** The layer a nested { class_name, config } describes (a wrapper's layer, an RNN's cell). */
function nested(what: unknown, owner: string): Layer {
  const n = what as { class_name?: unknown; config?: Cfg } | undefined;
  const make = typeof n?.class_name === 'string' ? own(FROM_KERAS, n.class_name) : undefined;
  if (!make || !n?.config || typeof n.config !== 'object') throw new Error(`loadLayersModel: ${owner} holds ${typeof n?.class_name === 'string' ? `a layer of class '${n.class_name}', which is not supported` : 'no layer config'}`);
  return make(n.config);
}

const CELLS: Record<string, (c: Cfg) => Layer> = {
  SimpleRNNCell: (c) => make.simpleRNNCell({ ...common(c), ...cell(c) }),
  LSTMCell: (c) => make.lstmCell({ ...common(c), ...cell(c), unitForgetBias: c.unit_forget_bias as boolean | undefined }),
  GRUCell: (c) => {
    if (c.reset_after) throw new Error('loadLayersModel: GRUCell with reset_after is not supported (TF.js GRU cells reset before)');
    return make.gruCell({ ...common(c), ...cell(c) });
  },
  ConvLSTM2DCell: (c) => { channelsLast(c, 'ConvLSTM2DCell'); return make.convLstm2dCell({ ...common(c), ...convLstm(c) }); },
  StackedRNNCells: (c) => make.stackedRNNCells({ ...common(c), cells: ((c.cells ?? []) as unknown[]).map((x) => nested(x, 'StackedRNNCells') as RNNCell) }),
};

const FROM_KERAS: Record<string, (c: Cfg) => Layer> = {
  Dense: (c) => make.dense({
    ...common(c), units: num(c.units), activation: c.activation as string, useBias: c.use_bias as boolean,
    // webtensor's quantized kernels (tf.quantizeLayers); checked by the Dense constructor.
    kernelQuantization: c.kernel_quantization as QuantizeOptions | undefined,
  }),
  Conv2D: (c) => { channelsLast(c, 'Conv2D'); return make.conv2d({ ...common(c), filters: num(c.filters), kernelSize: pair(c.kernel_size), strides: pair(c.strides ?? 1), padding: c.padding as 'same' | 'valid', dilationRate: pair(c.dilation_rate ?? 1), activation: c.activation as string, useBias: c.use_bias as boolean }); },
  DepthwiseConv2D: (c) => { channelsLast(c, 'DepthwiseConv2D'); return make.depthwiseConv2d({ ...common(c), kernelSize: pair(c.kernel_size), depthMultiplier: num(c.depth_multiplier ?? 1), strides: pair(c.strides ?? 1), padding: c.padding as 'same' | 'valid', dilationRate: pair(c.dilation_rate ?? 1), activation: c.activation as string, useBias: c.use_bias as boolean }); },
  MaxPooling2D: (c) => { channelsLast(c, 'MaxPooling2D'); return make.maxPooling2d({ ...common(c), poolSize: pair(c.pool_size ?? 2), strides: (c.strides ?? undefined) as [number, number] | undefined, padding: c.padding as 'same' | 'valid' }); },
  AveragePooling2D: (c) => { channelsLast(c, 'AveragePooling2D'); return make.averagePooling2d({ ...common(c), poolSize: pair(c.pool_size ?? 2), strides: (c.strides ?? undefined) as [number, number] | undefined, padding: c.padding as 'same' | 'valid' }); },
  GlobalAveragePooling2D: (c) => make.globalAveragePooling2d(common(c)),
  GlobalMaxPooling2D: (c) => make.globalMaxPooling2d(common(c)),
  Flatten: (c) => make.flatten(common(c)),
  Reshape: (c) => make.reshape({ ...common(c), targetShape: c.target_shape as number[] }),
  Dropout: (c) => make.dropout({ ...common(c), rate: num(c.rate) }),
  Activation: (c) => make.activation({ ...common(c), activation: c.activation as string }),
  Conv1D: (c) => { channelsLast(c, 'Conv1D'); return make.conv1d({ ...common(c), filters: num(c.filters), kernelSize: c.kernel_size as [number], strides: ((c.strides as number[] | undefined)?.[0] ?? c.strides ?? 1) as number, padding: c.padding as 'same' | 'valid', dilationRate: ((c.dilation_rate as number[] | undefined)?.[0] ?? c.dilation_rate ?? 1) as number, activation: c.activation as string, useBias: c.use_bias as boolean }); },
  Conv2DTranspose: (c) => { channelsLast(c, 'Conv2DTranspose'); if (c.output_padding) throw new Error('loadLayersModel: Conv2DTranspose with output_padding is not supported'); return make.conv2dTranspose({ ...common(c), filters: num(c.filters), kernelSize: pair(c.kernel_size), strides: pair(c.strides ?? 1), padding: c.padding as 'same' | 'valid', dilationRate: pair(c.dilation_rate ?? 1), activation: c.activation as string, useBias: c.use_bias as boolean }); },
  SeparableConv2D: (c) => { channelsLast(c, 'SeparableConv2D'); return make.separableConv2d({ ...common(c), filters: num(c.filters), kernelSize: pair(c.kernel_size), strides: pair(c.strides ?? 1), padding: c.padding as 'same' | 'valid', dilationRate: pair(c.dilation_rate ?? 1), depthMultiplier: num(c.depth_multiplier ?? 1), activation: c.activation as string, useBias: c.use_bias as boolean }); },
  Conv3D: (c) => { channelsLast(c, 'Conv3D'); return make.conv3d({ ...common(c), filters: num(c.filters), kernelSize: triple(c.kernel_size), strides: triple(c.strides ?? 1), padding: c.padding as 'same' | 'valid', dilationRate: triple(c.dilation_rate ?? 1), activation: c.activation as string, useBias: c.use_bias as boolean }); },
  Conv3DTranspose: (c) => { channelsLast(c, 'Conv3DTranspose'); if (c.output_padding) throw new Error('loadLayersModel: Conv3DTranspose with output_padding is not supported'); return make.conv3dTranspose({ ...common(c), filters: num(c.filters), kernelSize: triple(c.kernel_size), strides: triple(c.strides ?? 1), padding: c.padding as 'same' | 'valid', dilationRate: triple(c.dilation_rate ?? 1), activation: c.activation as string, useBias: c.use_bias as boolean }); },
  MaxPooling3D: (c) => { channelsLast(c, 'MaxPooling3D'); return make.maxPooling3d({ ...common(c), poolSize: triple(c.pool_size ?? 2), strides: (c.strides ?? undefined) as [number, number, number] | undefined, padding: c.padding as 'same' | 'valid' }); },
  AveragePooling3D: (c) => { channelsLast(c, 'AveragePooling3D'); return make.averagePooling3d({ ...common(c), poolSize: triple(c.pool_size ?? 2), strides: (c.strides ?? undefined) as [number, number, number] | undefined, padding: c.padding as 'same' | 'valid' }); },
  SimpleRNN: (c) => make.simpleRNN({ ...common(c), ...rnn(c) }),
  ...CELLS,
  ConvLSTM2D: (c) => { channelsLast(c, 'ConvLSTM2D'); return make.convLstm2d({ ...common(c), ...convLstm(c), ...sequence(c) }); },
  RNN: (c) => make.rnn({ ...common(c), ...sequence(c), cell: nested(c.cell, 'RNN') as RNNCell }),
  Bidirectional: (c) => {
    if (c.backward_layer) throw new Error('loadLayersModel: Bidirectional with its own backward_layer is not supported');
    return make.bidirectional({ ...common(c), layer: nested(c.layer, 'Bidirectional') as RNN, mergeMode: (c.merge_mode ?? 'concat') as 'concat' });
  },
  TimeDistributed: (c) => make.timeDistributed({ ...common(c), layer: nested(c.layer, 'TimeDistributed') }),
  PReLU: (c) => make.prelu({ ...common(c), sharedAxes: (c.shared_axes ?? undefined) as number[] | undefined }),
  SpatialDropout1D: (c) => make.spatialDropout1d({ ...common(c), rate: num(c.rate) }),
  AlphaDropout: (c) => make.alphaDropout({ ...common(c), rate: num(c.rate) }),
  Resizing: (c) => make.resizing({ ...common(c), height: num(c.height), width: num(c.width), interpolation: c.interpolation as 'bilinear' | 'nearest' | undefined }),
  CategoryEncoding: (c) => make.categoryEncoding({ ...common(c), numTokens: num(c.num_tokens), outputMode: (c.output_mode as string | undefined)?.replace('one_hot', 'oneHot').replace('multi_hot', 'multiHot') as 'oneHot' | 'multiHot' | 'count' | undefined }),
  CenterCrop: (c) => make.centerCrop({ ...common(c), height: num(c.height), width: num(c.width) }),
  ReLU: (c) => make.reLU({ ...common(c), maxValue: (c.max_value ?? undefined) as number | undefined }),
  LeakyReLU: (c) => make.leakyReLU({ ...common(c), alpha: (c.alpha ?? c.negative_slope) as number | undefined }),
  ELU: (c) => make.elu({ ...common(c), alpha: c.alpha as number | undefined }),
  ThresholdedReLU: (c) => make.thresholdedReLU({ ...common(c), theta: c.theta as number | undefined }),
  Softmax: (c) => make.softmax({ ...common(c), axis: c.axis as number | undefined }),
  RepeatVector: (c) => make.repeatVector({ ...common(c), n: num(c.n) }),
  Permute: (c) => make.permute({ ...common(c), dims: c.dims as number[] }),
  ZeroPadding2D: (c) => { channelsLast(c, 'ZeroPadding2D'); return make.zeroPadding2d({ ...common(c), padding: c.padding as [[number, number], [number, number]] }); },
  Cropping2D: (c) => { channelsLast(c, 'Cropping2D'); return make.cropping2D({ ...common(c), cropping: c.cropping as [[number, number], [number, number]] }); },
  UpSampling2D: (c) => { channelsLast(c, 'UpSampling2D'); return make.upSampling2d({ ...common(c), size: c.size as [number, number], interpolation: c.interpolation as string | undefined }); },
  Rescaling: (c) => make.rescaling({ ...common(c), scale: num(c.scale), offset: c.offset as number | undefined }),
  GaussianNoise: (c) => make.gaussianNoise({ ...common(c), stddev: num(c.stddev) }),
  GaussianDropout: (c) => make.gaussianDropout({ ...common(c), rate: num(c.rate) }),
  MaxPooling1D: (c) => { sequencePooling(c, 'MaxPooling1D'); return make.maxPooling1d({ ...common(c), poolSize: c.pool_size as [number], strides: (c.strides ?? undefined) as [number] | undefined, padding: c.padding as 'same' | 'valid' }); },
  AveragePooling1D: (c) => { sequencePooling(c, 'AveragePooling1D'); return make.averagePooling1d({ ...common(c), poolSize: c.pool_size as [number], strides: (c.strides ?? undefined) as [number] | undefined, padding: c.padding as 'same' | 'valid' }); },
  BatchNormalization: (c) => make.batchNormalization({ ...common(c), axis: c.axis as number, momentum: c.momentum as number, epsilon: c.epsilon as number, center: c.center as boolean, scale: c.scale as boolean }),
  LayerNormalization: (c) => make.layerNormalization({ ...common(c), axis: Array.isArray(c.axis) ? (c.axis as number[])[0] : (c.axis as number), epsilon: c.epsilon as number, center: c.center as boolean, scale: c.scale as boolean }),
  LSTM: (c) => make.lstm({ ...common(c), ...rnn(c), unitForgetBias: c.unit_forget_bias as boolean | undefined }),
  GRU: (c) => {
    if (c.reset_after) throw new Error('loadLayersModel: GRU with reset_after is not supported (TF.js GRU cells reset before)');
    return make.gru({ ...common(c), ...rnn(c) });
  },
  Embedding: (c) => make.embedding({ ...common(c), inputDim: num(c.input_dim), outputDim: num(c.output_dim), inputLength: c.input_length as number | undefined, maskZero: (c.mask_zero ?? undefined) as boolean | undefined }),
  Masking: (c) => make.masking({ ...common(c), maskValue: (c.mask_value ?? undefined) as number | undefined }),
  GlobalAveragePooling1D: (c) => { sequencePooling(c, 'GlobalAveragePooling1D'); return make.globalAveragePooling1d(common(c)); },
  GlobalMaxPooling1D: (c) => { sequencePooling(c, 'GlobalMaxPooling1D'); return make.globalMaxPooling1d(common(c)); },
  PositionEmbedding: (c) => make.positionEmbedding({ ...common(c), sequenceLength: num(c.sequence_length) }),
  MultiHeadAttention: (c) => {
    const cls = 'MultiHeadAttention';
    // Keras resolves the default attention axes of a [batch, seq, features] input to [1].
    const axes = c.attention_axes as unknown;
    if (axes !== null && axes !== undefined && !(Array.isArray(axes) && axes.length === 1 && axes[0] === 1)) throw new Error(`loadLayersModel: ${cls} with attention_axes ${JSON.stringify(axes)} is not supported (attention over the sequence axis only)`);
    if (c.use_gate) throw new Error(`loadLayersModel: ${cls} with use_gate is not supported`);
    if (c.sliding_window !== null && c.sliding_window !== undefined) throw new Error(`loadLayersModel: ${cls} with sliding_window is not supported`);
    return make.multiHeadAttention({
      ...common(c),
      numHeads: num(c.num_heads),
      keyDim: num(c.key_dim),
      valueDim: (c.value_dim ?? undefined) as number | undefined,
      dropout: (c.dropout ?? undefined) as number | undefined,
      useBias: c.use_bias as boolean | undefined,
      outputShape: (c.output_shape ?? undefined) as number | [number] | undefined,
      useCausalMask: (c.use_causal_mask ?? undefined) as boolean | undefined,
    });
  },
};

function sequencePooling(c: Cfg, cls: string): void {
  channelsLast(c, cls);
  if (c.keepdims) throw new Error(`loadLayersModel: ${cls} with keepdims is not supported`);
}

/**
 * The call arguments of a functional node that a layer needs at construction: Keras 3 writes
 * `use_causal_mask` as a call argument of MultiHeadAttention. A call argument the loader does not
 * implement (an attention mask fed from another layer) is refused.
 */
function callArguments(node: unknown, cls: string, name: string): Cfg {
  const kwargs = (Array.isArray(node)
    ? (Array.isArray(node[0]) ? (node[0] as unknown[])[3] : undefined)
    : (node as Cfg | undefined)?.kwargs) as Cfg | undefined;
  if (!kwargs || typeof kwargs !== 'object') return {};
  const out: Cfg = {};
  for (const [k, v] of Object.entries(kwargs)) {
    if (v === null || v === undefined || (k === 'training' && typeof v === 'boolean')) continue;
    if (cls === 'MultiHeadAttention' && k === 'use_causal_mask' && typeof v === 'boolean') out[k] = v;
    else if (k === 'return_attention_scores' && v === false) continue;
    else throw new Error(`loadLayersModel: layer ${name} (${cls}) is called with ${k} = ${JSON.stringify(v).slice(0, 80)}, which is not supported`);
  }
  return out;
}

function checkDepth(x: unknown, limit: number, what: string): void {
  const stack: Array<[unknown, number]> = [[x, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (d > limit) throw new Error(`${what}: nested more than ${limit} levels deep`);
    if (v && typeof v === 'object') for (const c of Object.values(v)) stack.push([c, d + 1]);
  }
}

/** Layers models' weight dtypes: float32, and int32 for quantized kernels' codes. */
export const LAYER_DTYPES = ['float32', 'int32'];

/** A model with the artifacts' weights (given whole in `weightData`). */
export function modelFromArtifacts(a: ModelArtifacts): LayersModel {
  if (a?.weightChunks) throw new Error('loadLayersModel: these artifacts stream their weights; load them with tf.loadLayersModel');
  const { offsets } = checkWeights('loadLayersModel', a.weightSpecs ?? [], a.weightData, { dtypes: LAYER_DTYPES });
  // quantized weights (TF.js's converter) are dequantized as TF.js does; the offsets are the dequantized ones
  if (anyQuantized(a.weightSpecs ?? [])) a = { ...a, weightSpecs: dequantizedSpecs(a.weightSpecs!), weightData: dequantizeAll(a.weightSpecs!, a.weightData!) };
  const model = withWeightBudget(a.weightData?.byteLength ?? 0, overBudget('loadLayersModel', 'the weight data'), () => modelWithoutWeights(a));
  try {
    assignWeights(model, a, offsets);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

/** As modelFromArtifacts, and for artifacts whose weights stream in (`weightChunks`). */
export async function loadModelFromArtifacts(a: ModelArtifacts): Promise<LayersModel> {
  if (!a?.weightChunks) return modelFromArtifacts(a);
  const op = 'loadLayersModel';
  const specs = a.weightSpecs ?? [];
  const { total } = checkWeights(op, specs, undefined, { streamed: true, dtypes: LAYER_DTYPES });
  const model = withWeightBudget(total, overBudget(op, 'the weight specs'), () => modelWithoutWeights(a));
  try {
    await streamInto(matchWeights(model, specs), anyQuantized(specs) ? dequantizedChunks(specs, a.weightChunks()) : a.weightChunks(), op);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

/** The refusal for a config whose layers want more weight bytes than `source` holds. */
export function overBudget(op: string, source: string) {
  return (name: string, shape: number[], left: number) =>
    new Error(`${op}: layer weight ${name} of shape [${shape}] needs more bytes than ${source} has left (${left}); the model config and its weights disagree`);
}

/** The model the topology describes, its weights as initialised (checked before anything is made). */
export function modelWithoutWeights(a: ModelArtifacts): LayersModel {
  const op = 'loadLayersModel';
  if (!a || typeof a !== 'object' || !a.modelTopology) throw new Error(`${op}: the artifacts have no modelTopology`);
  checkDepth(a.modelTopology, LIMITS.maxNesting, op);
  // Keras/TF.js may wrap the model config (model_config) or give it directly.
  const topo = ((a.modelTopology as Cfg).model_config ?? a.modelTopology) as Cfg;
  if (topo.class_name === 'Model' || topo.class_name === 'Functional') return functionalFromConfig(topo.config as Cfg);
  if (topo.class_name !== 'Sequential') {
    throw new Error(`${op}: model class '${String(topo.class_name)}' is not supported (Sequential, Model/Functional)`);
  }
  const config = topo.config as Cfg | Cfg[];
  const layerCfgs = (Array.isArray(config) ? config : (config?.layers as Cfg[])) ?? [];
  if (!Array.isArray(layerCfgs) || layerCfgs.length === 0) throw new Error(`${op}: the Sequential model lists no layers`);
  if (layerCfgs.length > 10_000) throw new Error(`${op}: ${layerCfgs.length} layers exceed the limit`);

  let inputShape: (number | null)[] | undefined;
  const built: Layer[] = [];
  for (const lc of layerCfgs) {
    const cls = String(lc?.class_name);
    const cfg = ((lc?.config ?? {}) as Cfg);
    if (cls === 'InputLayer') {
      inputShape = (cfg.batch_input_shape ?? cfg.batch_shape) as (number | null)[];
      continue;
    }
    const fromKeras = own(FROM_KERAS, cls);
    if (!fromKeras) throw new Error(`${op}: unknown layer class '${cls}' (supported: ${Object.keys(FROM_KERAS).join(', ')})`);
    if (built.length === 0 && !cfg.batch_input_shape && inputShape) cfg.batch_input_shape = inputShape;
    built.push(fromKeras(cfg));
  }
  const model = new Sequential({ layers: built, name: (Array.isArray(config) ? undefined : (config?.name as string)) ?? 'sequential' });
  model.build();
  return model;
}

/** A functional model from a Keras config: layers with inbound nodes (node and tensor index 0). */
function functionalFromConfig(config: Cfg): Functional {
  const op = 'loadLayersModel';
  const layerCfgs = (config?.layers ?? []) as Cfg[];
  if (!Array.isArray(layerCfgs) || layerCfgs.length === 0 || layerCfgs.length > 10_000) throw new Error(`${op}: the model lists ${layerCfgs?.length ?? 0} layers`);
  const out = new Map<string, SymbolicTensor>();
  let pending = [...layerCfgs];
  // Layers may be listed in any order: place each once its inputs exist.
  while (pending.length) {
    const next: Cfg[] = [];
    for (const lc of pending) {
      const cls = String(lc.class_name);
      const cfg = (lc.config ?? {}) as Cfg;
      const name = String(lc.name ?? cfg.name);
      const nodes = (lc.inbound_nodes ?? []) as unknown[][];
      if (!Array.isArray(nodes) || nodes.length > 1) throw new Error(`${op}: layer ${name} is applied ${nodes?.length} times; shared layers are not supported`);
      const inbound = inboundNames(nodes[0]);
      if (inbound.some((n) => !out.has(n))) { next.push(lc); continue; }
      if (cls === 'InputLayer') {
        out.set(name, input({ batchShape: (cfg.batch_input_shape ?? cfg.batch_shape) as (number | null)[], name }));
        continue;
      }
      const fromKeras = own(FROM_KERAS, cls) ?? own(MERGE, cls);
      if (!fromKeras) throw new Error(`${op}: unknown layer class '${cls}' (supported: ${[...Object.keys(FROM_KERAS), ...Object.keys(MERGE)].join(', ')})`);
      const layer = fromKeras({ ...cfg, ...callArguments(nodes[0], cls, name), name, batch_input_shape: undefined });
      const ins = inbound.map((n) => out.get(n)!);
      out.set(name, ins.length === 1 ? layer.apply(ins[0]) : layer.apply(ins));
    }
    if (next.length === pending.length) throw new Error(`${op}: layers ${next.map((l) => l.name).join(', ')} have inputs that are never produced`);
    pending = next;
  }
  // A single model input/output may be given flat: ['name', 0, 0] (Keras 3).
  const pick = (refs: unknown) => (Array.isArray(refs) && typeof refs[0] === 'string' ? [refs] : ((refs ?? []) as unknown[][])).map((r) => {
    const t = out.get(String(r[0]));
    if (!t) throw new Error(`${op}: model input/output '${String(r[0])}' is not a layer of the model`);
    return t;
  });
  return new Functional({ inputs: pick(config.input_layers), outputs: pick(config.output_layers), name: config.name as string });
}

/**
 * The layers feeding one inbound node: TF.js / Keras 2 list `[[name, node, tensor, kwargs], ...]`,
 * or Keras 3 `{ args: [...] }` whose args hold keras tensors (alone or in lists, as merge layers
 * take them) that name their layer in `config.keras_history`.
 */
function inboundNames(node: unknown): string[] {
  if (Array.isArray(node)) return node.map((r) => String(Array.isArray(r) ? r[0] : r));
  const names: string[] = [];
  const visit = (v: unknown, depth: number): void => {
    if (depth > 4) return;
    if (Array.isArray(v)) v.forEach((x) => visit(x, depth + 1));
    else if (v && typeof v === 'object') {
      const history = ((v as Cfg).config as Cfg | undefined)?.keras_history;
      if (Array.isArray(history)) names.push(String(history[0]));
    }
  };
  visit((node as Cfg | undefined)?.args, 0);
  return names;
}

const MERGE: Record<string, (c: Cfg) => Layer> = {
  Add: (c) => make.add(common(c)),
  Multiply: (c) => make.multiply(common(c)),
  Average: (c) => make.average(common(c)),
  Concatenate: (c) => make.concatenate({ ...common(c), axis: c.axis as number | undefined }),
  Maximum: (c) => make.maximum(common(c)),
  Dot: (c) => make.dot({ ...common(c), axes: c.axes as number | [number, number], normalize: c.normalize as boolean | undefined }),
  Minimum: (c) => make.minimum(common(c)),
};

/** The model's weights in the order of `specs`, matched by name (`<layer>/<weight>`) and shape. */
function matchWeights(model: LayersModel, specs: WeightsManifestEntry[]): Variable[] {
  const op = 'loadLayersModel';
  const byName = new Map(model.weights.map((w) => [w.name, w]));
  if (specs.length !== byName.size) throw new Error(`${op}: the file has ${specs.length} weights but the model needs ${byName.size}`);
  return specs.map((s) => {
    const v = byName.get(s.name);
    if (!v) throw new Error(`${op}: weight '${s.name}' matches no layer weight (expected one of ${[...byName.keys()].join(', ')})`);
    if (v.shape.join() !== s.shape.join()) throw new Error(`${op}: weight '${s.name}' has shape [${s.shape}] in the file but [${v.shape}] in the model`);
    if ((s.dtype ?? 'float32') !== v.dtype) throw new Error(`${op}: weight '${s.name}' is ${s.dtype ?? 'float32'} in the file but ${v.dtype} in the model`);
    return v;
  });
}

function assignWeights(model: LayersModel, a: ModelArtifacts, offsets: number[]): void {
  const specs = a.weightSpecs ?? [];
  matchWeights(model, specs).forEach((v, i) => {
    const s = specs[i];
    const n = s.shape.reduce((p, q) => p * q, 1);
    const bytes = a.weightData!.slice(offsets[i], offsets[i] + n * 4);
    const t = v.dtype === 'int32' ? ops.tensor(new Int32Array(bytes), s.shape, 'int32') : ops.tensor(new Float32Array(bytes), s.shape);
    v.assign(t);
    t.dispose();
  });
}
