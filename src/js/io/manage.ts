// tf.io's model management over browser storage (listModels, copyModel, moveModel, removeModel
// for indexeddb:// and localstorage:// URLs, in TF.js's layouts), weights to and from bytes
// (encodeWeights, decodeWeights), and reading a model from the page's File objects (browserFiles).
import * as ops from '../ops.js';
import { Tensor } from '../tensor.js';
import { wasm } from '../engine.js';
import { concatBuffers, handlerFor, idbRequest, LS, LS_ITEMS, openDb } from './handlers.js';
import type { IOHandler, ModelArtifacts, ModelArtifactsInfo, SaveResult, WeightsManifestEntry } from './types.js';
import { artifactsInfo } from './types.js';
import { checkWeights } from './weights.js';
import { anyQuantized, dequantizeAll, dequantizedSpecs, storedBytes } from './quantized.js';

const scheme = (url: string) => {
  const m = /^(indexeddb|localstorage):\/\/(.+)$/.exec(url);
  if (!m) throw new Error(`io: '${url}' is not an indexeddb:// or localstorage:// model URL`);
  return { kind: m[1] as 'indexeddb' | 'localstorage', path: m[2] };
};

/** Every model saved in IndexedDB and localStorage, by URL, with its artifacts info. */
export async function listModels(): Promise<Record<string, ModelArtifactsInfo>> {
  const out: Record<string, ModelArtifactsInfo> = {};
  if (typeof localStorage !== 'undefined') {
    for (let i = 0; i < localStorage.length; i++) {
      const m = new RegExp(`^${LS}/(.+)/info$`).exec(localStorage.key(i) ?? '');
      if (m) out[`localstorage://${m[1]}`] = JSON.parse(localStorage.getItem(localStorage.key(i)!) ?? '{}');
    }
  }
  if (typeof indexedDB !== 'undefined') {
    const db = await openDb();
    try {
      const rows = await idbRequest(db.transaction('model_info_store', 'readonly').objectStore('model_info_store').getAll());
      for (const r of rows as Array<{ modelPath: string; modelArtifactsInfo: ModelArtifactsInfo }>) out[`indexeddb://${r.modelPath}`] = r.modelArtifactsInfo;
    } finally {
      db.close();
    }
  }
  return out;
}

/** Deletes a saved model; resolves to its artifacts info. */
export async function removeModel(url: string): Promise<ModelArtifactsInfo> {
  const { kind, path } = scheme(url);
  const info = (await listModels())[url];
  if (!info) throw new Error(`removeModel: no model at ${url}`);
  if (kind === 'localstorage') {
    for (const k of LS_ITEMS) localStorage.removeItem(`${LS}/${path}/${k}`);
  } else {
    const db = await openDb();
    try {
      const tx = db.transaction(['models_store', 'model_info_store'], 'readwrite');
      await idbRequest(tx.objectStore('models_store').delete(path));
      await idbRequest(tx.objectStore('model_info_store').delete(path));
    } finally {
      db.close();
    }
  }
  return info;
}

/** Copies a saved model to another URL (across the two storages too). */
export async function copyModel(sourceURL: string, destURL: string): Promise<ModelArtifactsInfo> {
  scheme(sourceURL); scheme(destURL);
  if (sourceURL === destURL) throw new Error(`copyModel: the source and the destination are both ${sourceURL}`);
  const artifacts = await handlerFor(sourceURL, 'copyModel').load!();
  return (await handlerFor(destURL, 'save (copyModel)').save!(artifacts)).modelArtifactsInfo;
}

export async function moveModel(sourceURL: string, destURL: string): Promise<ModelArtifactsInfo> {
  const info = await copyModel(sourceURL, destURL);
  await removeModel(sourceURL);
  return info;
}

type NamedTensors = Record<string, Tensor> | Array<{ name: string; tensor: Tensor }>;

/** Weights as one buffer and their specs (float32, int32 and bool; float16 as float32 quantized
 * to float16, the TF.js converter's form), as TF.js's encodeWeights. */
export async function encodeWeights(tensors: NamedTensors): Promise<{ data: ArrayBuffer; specs: WeightsManifestEntry[] }> {
  const list = Array.isArray(tensors) ? tensors : Object.entries(tensors).map(([name, tensor]) => ({ name, tensor }));
  const specs: WeightsManifestEntry[] = [];
  const parts: ArrayBuffer[] = [];
  for (const { name, tensor } of list) {
    if (!(tensor instanceof Tensor)) throw new Error(`encodeWeights: ${name} is not a tensor`);
    const v = await tensor.data();
    if (tensor.dtype === 'float16') {
      // As TF.js's converter writes float16 weights: float32 quantized to float16.
      parts.push(wasm.float32ToFloat16(v as Float32Array).buffer.slice(0) as ArrayBuffer);
      specs.push({ name, shape: tensor.shape, dtype: 'float32', quantization: { dtype: 'float16' } } as WeightsManifestEntry);
      continue;
    }
    const typed = tensor.dtype === 'float32' ? Float32Array.from(v) : tensor.dtype === 'int32' ? Int32Array.from(v) : Uint8Array.from(v);
    parts.push(typed.buffer.slice(0) as ArrayBuffer);
    specs.push({ name, shape: tensor.shape, dtype: tensor.dtype });
  }
  return { data: concatBuffers(parts), specs };
}

/** The bytes all `specs` take in a weight file, once they are checked (shapes, dtypes, quantization, limits). */
function specsTotal(op: string, specs: WeightsManifestEntry[]): number {
  checkWeights(op, specs, undefined, { streamed: true, dtypes: ['float32', 'int32', 'bool'] });
  return specs.reduce((n, s) => n + storedBytes(s), 0);
}

/**
 * Tensors by name from a buffer and its specs (checked against the buffer's length first);
 * quantized weights are dequantized, as TF.js does.
 */
export function decodeWeights(data: ArrayBuffer, specs: WeightsManifestEntry[]): Record<string, Tensor> {
  const total = specsTotal('decodeWeights', specs);
  if (!(data instanceof ArrayBuffer)) throw new Error('decodeWeights: data must be an ArrayBuffer');
  if (data.byteLength !== total) throw new Error(`decodeWeights: the specs need ${total} bytes but the data has ${data.byteLength}`);
  if (anyQuantized(specs)) [data, specs] = [dequantizeAll(specs, data), dequantizedSpecs(specs)];
  const bytes = storedBytes;
  const out: Record<string, Tensor> = {};
  let at = 0;
  for (const s of specs) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const view = s.dtype === 'int32' ? new Int32Array(data, at, n) : s.dtype === 'bool' ? Array.from(new Uint8Array(data, at, n)) : new Float32Array(data, at, n);
    out[s.name] = ops.tensor(view instanceof Float32Array || view instanceof Int32Array ? view.slice() : view, s.shape, s.dtype);
    at += bytes(s);
  }
  return out;
}

/**
 * decodeWeights over a stream of the weight bytes (TF.js 4's decodeWeightsStream): the bytes are
 * counted as they arrive and a stream longer than the specs declare is refused at the first chunk
 * past them.
 */
export async function decodeWeightsStream(stream: ReadableStream<ArrayBuffer | Uint8Array>, specs: WeightsManifestEntry[]): Promise<Record<string, Tensor>> {
  const op = 'decodeWeightsStream';
  if (!stream || typeof (stream as ReadableStream).getReader !== 'function') throw new Error(`${op}: expected a ReadableStream of the weight bytes`);
  const total = specsTotal(op, specs);
  const whole = new Uint8Array(total);
  let at = 0;
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const chunk = value instanceof Uint8Array ? value : value instanceof ArrayBuffer ? new Uint8Array(value) : null;
      if (!chunk) throw new Error(`${op}: the stream gave a ${typeof value}, not bytes`);
      if (at + chunk.byteLength > total) throw new Error(`${op}: the stream holds more bytes than the specs declare (${total})`);
      whole.set(chunk, at);
      at += chunk.byteLength;
    }
  } finally {
    reader.releaseLock();
  }
  if (at !== total) throw new Error(`${op}: the specs need ${total} bytes but the stream held ${at}`);
  return decodeWeights(whole.buffer, specs);
}

/** All weight specs of a weights manifest. */
export const getWeightSpecs = (manifest: Array<{ weights: WeightsManifestEntry[] }>) => manifest.flatMap((g) => g.weights);

export const isHTTPScheme = (url: string) => /^https?:\/\//i.test(url);
export const concatenateArrayBuffers = (buffers: ArrayBuffer[] | ArrayBuffer) => (Array.isArray(buffers) ? concatBuffers(buffers) : buffers);
export const getModelArtifactsInfoForJSON = (a: ModelArtifacts): ModelArtifactsInfo => artifactsInfo(a);

/** A model from files the user picked: model.json and its weight files (matched by name). */
export function browserFiles(files: File[]): IOHandler {
  return {
    async load() {
      if (!Array.isArray(files) || files.length === 0) throw new Error('browserFiles: expected the model.json File and its weight files');
      const json = files.find((f) => f.name.endsWith('.json')) ?? files[0];
      const model = JSON.parse(await json.text());
      const manifest = (model.weightsManifest ?? []) as Array<{ paths: string[]; weights: WeightsManifestEntry[] }>;
      const byName = new Map(files.filter((f) => f !== json).map((f) => [f.name, f]));
      const parts: ArrayBuffer[] = [];
      for (const p of manifest.flatMap((g) => g.paths)) {
        const file = byName.get(p.split('/').pop()!);
        if (!file) throw new Error(`browserFiles: weight file '${p}' was not among the files given`);
        parts.push(await file.arrayBuffer());
      }
      return { modelTopology: model.modelTopology, format: model.format, generatedBy: model.generatedBy, convertedBy: model.convertedBy, trainingConfig: model.trainingConfig, weightSpecs: getWeightSpecs(manifest), weightData: concatBuffers(parts) };
    },
  };
}

/** fromMemory and withSaveHandler, for code that uses TF.js's Sync names. */
export const fromMemorySync = (a: ModelArtifacts): IOHandler => ({ load: async () => a });
export const withSaveHandlerSync = (f: (a: ModelArtifacts) => SaveResult): IOHandler => ({ save: async (a) => f(a) });

/** Several ArrayBuffers read as one (TF.js 4's CompositeArrayBuffer, for sharded weights). */
export class CompositeArrayBuffer {
  readonly byteLength: number;
  private readonly whole: ArrayBuffer;
  constructor(buffers?: ArrayBuffer | ArrayBuffer[]) {
    this.whole = buffers === undefined ? new ArrayBuffer(0) : Array.isArray(buffers) ? concatBuffers(buffers) : buffers;
    this.byteLength = this.whole.byteLength;
  }
  slice(start = 0, end = this.byteLength): ArrayBuffer { return this.whole.slice(start, end); }
  static join(buffers?: ArrayBuffer | ArrayBuffer[]): ArrayBuffer { return new CompositeArrayBuffer(buffers).slice(); }
}

export type Manifest = Array<{ paths: string[]; weights: WeightsManifestEntry[] }>;

/** Model artifacts from a model.json object, its weights fetched by `loadWeights(manifest)`. */
export async function getModelArtifactsForJSON(modelJSON: Record<string, unknown>, loadWeights: (manifest: Manifest) => Promise<[WeightsManifestEntry[], ArrayBuffer]>): Promise<ModelArtifacts> {
  const manifest = (modelJSON.weightsManifest ?? []) as Manifest;
  const [weightSpecs, weightData] = manifest.length ? await loadWeights(manifest) : [[], new ArrayBuffer(0)];
  return { modelTopology: modelJSON.modelTopology as Record<string, unknown>, format: modelJSON.format as string, generatedBy: modelJSON.generatedBy as string, convertedBy: modelJSON.convertedBy as string, trainingConfig: modelJSON.trainingConfig as Record<string, unknown>, weightSpecs, weightData };
}

/** Model artifacts from a model.json object and, when given, its weights (TF.js's Sync form). */
export function getModelArtifactsForJSONSync(modelJSON: Record<string, unknown>, weightSpecs?: WeightsManifestEntry[], weightData?: ArrayBuffer | ArrayBuffer[]): ModelArtifacts {
  if (!modelJSON || typeof modelJSON !== 'object') throw new Error('getModelArtifactsForJSONSync: modelJSON must be an object');
  return {
    modelTopology: modelJSON.modelTopology as Record<string, unknown>, format: modelJSON.format as string, generatedBy: modelJSON.generatedBy as string, convertedBy: modelJSON.convertedBy as string, trainingConfig: modelJSON.trainingConfig as Record<string, unknown>,
    ...(weightSpecs ? { weightSpecs } : {}),
    ...(weightData ? { weightData: concatenateArrayBuffers(weightData) } : {}),
  };
}

/** The URLs of a manifest's weight shards under `filePathPrefix`. */
export const shardURLs = (manifest: Manifest, filePathPrefix = '') =>
  manifest.flatMap((g) => g.paths.map((p) => (filePathPrefix && !filePathPrefix.endsWith('/') ? `${filePathPrefix}/${p}` : `${filePathPrefix}${p}`)));

/** The weight shards at `urls`, fetched. */
export const fetchShards = (urls: string[], requestInit?: RequestInit) => Promise.all(urls.map(async (u) => {
  const r = await fetch(u, requestInit);
  if (!r.ok) throw new Error(`loadWeights: fetching ${u} failed (${r.status})`);
  return r.arrayBuffer();
}));

/** A weights loader over `fetchWeights(urls)` (TF.js weightsLoaderFactory): manifest, prefix and optional names -> tensors. */
export function weightsLoaderFactory(fetchWeights: (urls: string[]) => Promise<ArrayBuffer[]>) {
  return async (manifest: Manifest, filePathPrefix = '', weightNames?: string[]): Promise<Record<string, Tensor>> => {
    const all = decodeWeights(concatBuffers(await fetchWeights(shardURLs(manifest, filePathPrefix))), getWeightSpecs(manifest));
    if (!weightNames) return all;
    const missing = weightNames.filter((n) => !(n in all));
    if (missing.length) throw new Error(`loadWeights: ${missing.join(', ')} not in the weights manifest`);
    for (const k of Object.keys(all)) if (!weightNames.includes(k)) all[k].dispose();
    return Object.fromEntries(weightNames.map((n) => [n, all[n]]));
  };
}

/** Tensors from a weights manifest's shards fetched over HTTP (TF.js io.loadWeights). */
export const loadWeights = (manifest: Manifest, filePathPrefix = '', weightNames?: string[], requestInit?: RequestInit) =>
  weightsLoaderFactory((urls) => fetchShards(urls, requestInit))(manifest, filePathPrefix, weightNames);
