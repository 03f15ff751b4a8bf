// Sequential models <-> TF.js layers-format artifacts (Keras-style topology with snake_case
// configs, weight specs named `<layer>/<weight>`, one little-endian float32 buffer), and
// safetensors for weights alone. Untrusted files are validated before anything is allocated.
import * as ops from '../ops.js';
import type { Tensor } from '../tensor.js';
import { Layer } from '../layers/layer.js';
import { layers as make } from '../layers/index.js';
import { Sequential, type LayersModel } from '../models/sequential.js';
import { LIMITS, type ModelArtifacts, type WeightsManifestEntry } from './types.js';

const camelToSnake = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();

function kerasConfig(layer: Layer): Record<string, unknown> {
  const c: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(layer.getConfig())) c[camelToSnake(k)] = v;
  c.dtype = 'float32';
  const cls = layer.getClassName();
  if (/Conv|Pool/.test(cls)) c.data_format = 'channels_last';
  if (/Normalization/.test(cls)) c.axis ??= -1;
  return { class_name: cls, config: c };
}

export async function sequentialToArtifacts(model: LayersModel): Promise<ModelArtifacts> {
  if (!(model instanceof Sequential)) throw new Error(`save: saving ${model.getClassName()} models is not supported yet (Sequential models only)`);
  model.build();
  const weights = model.weights;
  const weightSpecs: WeightsManifestEntry[] = weights.map((w) => ({ name: w.name, shape: [...w.shape], dtype: 'float32' }));
  const parts = await Promise.all(weights.map((w) => w.data()));
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const data = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    data.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), at);
    at += p.byteLength;
  }
  return {
    modelTopology: {
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
function channelsLast(c: Cfg, cls: string): void {
  if (c.data_format !== undefined && c.data_format !== 'channels_last') throw new Error(`loadLayersModel: ${cls} with data_format '${c.data_format}' is not supported (channels_last only)`);
}

const rnn = (c: Cfg) => ({
  units: num(c.units),
  activation: c.activation as string | undefined,
  recurrentActivation: (c.recurrent_activation as string | undefined)?.replace('hard_sigmoid', 'hardSigmoid'),
  useBias: c.use_bias as boolean | undefined,
  returnSequences: c.return_sequences as boolean | undefined,
});

const FROM_KERAS: Record<string, (c: Cfg) => Layer> = {
  Dense: (c) => make.dense({ ...common(c), units: num(c.units), activation: c.activation as string, useBias: c.use_bias as boolean }),
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
  BatchNormalization: (c) => make.batchNormalization({ ...common(c), axis: c.axis as number, momentum: c.momentum as number, epsilon: c.epsilon as number, center: c.center as boolean, scale: c.scale as boolean }),
  LayerNormalization: (c) => make.layerNormalization({ ...common(c), axis: Array.isArray(c.axis) ? (c.axis as number[])[0] : (c.axis as number), epsilon: c.epsilon as number, center: c.center as boolean, scale: c.scale as boolean }),
  LSTM: (c) => make.lstm({ ...common(c), ...rnn(c), unitForgetBias: c.unit_forget_bias as boolean | undefined }),
  GRU: (c) => {
    if (c.reset_after) throw new Error('loadLayersModel: GRU with reset_after is not supported (TF.js GRU cells reset before)');
    return make.gru({ ...common(c), ...rnn(c) });
  },
  Embedding: (c) => make.embedding({ ...common(c), inputDim: num(c.input_dim), outputDim: num(c.output_dim), inputLength: c.input_length as number | undefined }),
};

function checkDepth(x: unknown, limit: number, what: string): void {
  const stack: Array<[unknown, number]> = [[x, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (d > limit) throw new Error(`${what}: nested more than ${limit} levels deep`);
    if (v && typeof v === 'object') for (const c of Object.values(v)) stack.push([c, d + 1]);
  }
}

/** Checks weight specs against the data, before any allocation. Returns each spec's byte offset. */
function checkWeights(specs: WeightsManifestEntry[], data: ArrayBuffer | undefined): number[] {
  const op = 'loadLayersModel';
  if (!Array.isArray(specs)) throw new Error(`${op}: weightSpecs must be an array`);
  if (specs.length > LIMITS.maxWeights) throw new Error(`${op}: ${specs.length} weights exceed the limit of ${LIMITS.maxWeights}`);
  const offsets: number[] = [];
  let total = 0;
  for (const s of specs) {
    if (!s || typeof s.name !== 'string' || !Array.isArray(s.shape)) throw new Error(`${op}: malformed weight spec ${JSON.stringify(s)?.slice(0, 100)}`);
    if (s.dtype !== undefined && s.dtype !== 'float32') throw new Error(`${op}: weight ${s.name} has dtype ${s.dtype}; only float32 weights are supported`);
    if (s.shape.length > 8 || s.shape.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`${op}: weight ${s.name} has an invalid shape [${s.shape}]`);
    const n = s.shape.reduce((a, b) => a * b, 1);
    if (n > LIMITS.maxElementsPerWeight) throw new Error(`${op}: weight ${s.name} of shape [${s.shape}] is too large`);
    offsets.push(total);
    total += n * 4;
    if (total > LIMITS.maxTotalBytes) throw new Error(`${op}: the weights declare more than ${LIMITS.maxTotalBytes} bytes`);
  }
  const have = data?.byteLength ?? 0;
  if (have !== total) throw new Error(`${op}: the weight specs need ${total} bytes but the weight data has ${have}`);
  return offsets;
}

export function sequentialFromArtifacts(a: ModelArtifacts): Sequential {
  const op = 'loadLayersModel';
  if (!a || typeof a !== 'object' || !a.modelTopology) throw new Error(`${op}: the artifacts have no modelTopology`);
  checkDepth(a.modelTopology, LIMITS.maxNesting, op);
  // Keras/TF.js may wrap the model config (model_config) or give it directly.
  const topo = ((a.modelTopology as Cfg).model_config ?? a.modelTopology) as Cfg;
  if (topo.class_name !== 'Sequential') {
    throw new Error(`${op}: model class '${String(topo.class_name)}' is not supported yet (Sequential models only)`);
  }
  const config = topo.config as Cfg | Cfg[];
  const layerCfgs = (Array.isArray(config) ? config : (config?.layers as Cfg[])) ?? [];
  if (!Array.isArray(layerCfgs) || layerCfgs.length === 0) throw new Error(`${op}: the Sequential model lists no layers`);
  if (layerCfgs.length > 10_000) throw new Error(`${op}: ${layerCfgs.length} layers exceed the limit`);
  const offsets = checkWeights(a.weightSpecs ?? [], a.weightData);

  let inputShape: (number | null)[] | undefined;
  const built: Layer[] = [];
  for (const lc of layerCfgs) {
    const cls = String(lc?.class_name);
    const cfg = ((lc?.config ?? {}) as Cfg);
    if (cls === 'InputLayer') {
      inputShape = (cfg.batch_input_shape ?? cfg.batch_shape) as (number | null)[];
      continue;
    }
    const fromKeras = FROM_KERAS[cls];
    if (!fromKeras) throw new Error(`${op}: unknown layer class '${cls}' (supported: ${Object.keys(FROM_KERAS).join(', ')})`);
    if (built.length === 0 && !cfg.batch_input_shape && inputShape) cfg.batch_input_shape = inputShape;
    built.push(fromKeras(cfg));
  }
  const model = new Sequential({ layers: built, name: (Array.isArray(config) ? undefined : (config?.name as string)) ?? 'sequential' });
  model.build();

  // Weights by name (`<layer>/<weight>`), checked against each variable's shape.
  const byName = new Map(model.weights.map((w) => [w.name, w]));
  const specs = a.weightSpecs ?? [];
  if (specs.length !== byName.size) throw new Error(`${op}: the file has ${specs.length} weights but the model needs ${byName.size}`);
  specs.forEach((s, i) => {
    const v = byName.get(s.name);
    if (!v) throw new Error(`${op}: weight '${s.name}' matches no layer weight (expected one of ${[...byName.keys()].join(', ')})`);
    if (v.shape.join() !== s.shape.join()) throw new Error(`${op}: weight '${s.name}' has shape [${s.shape}] in the file but [${v.shape}] in the model`);
    const n = s.shape.reduce((p, q) => p * q, 1);
    const values = new Float32Array(a.weightData!.slice(offsets[i], offsets[i] + n * 4));
    const t = ops.tensor(values, s.shape);
    v.assign(t);
    t.dispose();
  });
  return model;
}

// ---- safetensors ---------------------------------------------------------------------------

/** The model's weights as a safetensors file (8-byte header length, JSON header, F32 data). */
export async function toSafetensors(weights: Array<{ name: string; tensor: Tensor }>): Promise<Uint8Array> {
  const header: Record<string, unknown> = { __metadata__: { format: 'webtensor' } };
  const datas = await Promise.all(weights.map((w) => w.tensor.data()));
  let at = 0;
  weights.forEach((w, i) => {
    header[w.name] = { dtype: 'F32', shape: w.tensor.shape, data_offsets: [at, at + datas[i].byteLength] };
    at += datas[i].byteLength;
  });
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((json.length + 8) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + at);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let off = 8 + headerBytes.length;
  for (const d of datas) {
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), off);
    off += d.byteLength;
  }
  return out;
}

/** Reads a safetensors file into named float32 tensors (validating offsets first). */
export function fromSafetensors(bytes: Uint8Array): Map<string, Tensor> {
  const op = 'fromSafetensors';
  if (bytes.byteLength < 8) throw new Error(`${op}: ${bytes.byteLength} bytes is too short for a safetensors file`);
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (n > bytes.byteLength - 8 || n > 100 * 2 ** 20) throw new Error(`${op}: header length ${n} does not fit the file`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new Error(`${op}: the header is not JSON (${(e as Error).message})`);
  }
  const base = 8 + n;
  const out = new Map<string, Tensor>();
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (e.dtype !== 'F32') throw new Error(`${op}: tensor ${name} is ${e.dtype}; only F32 is supported`);
    const count = e.shape.reduce((a, b) => a * b, 1);
    const [s, t] = e.data_offsets;
    if (!(Number.isInteger(s) && Number.isInteger(t) && s >= 0 && t - s === count * 4 && base + t <= bytes.byteLength)) {
      throw new Error(`${op}: tensor ${name} of shape [${e.shape}] has bad offsets [${s}, ${t}]`);
    }
    out.set(name, ops.tensor(new Float32Array(bytes.slice(base + s, base + t).buffer), e.shape));
  }
  return out;
}
