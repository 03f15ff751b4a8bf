// IO handlers by URL scheme, as TF.js: http(s) URLs, indexeddb://, localstorage://, downloads://,
// and in-memory handlers (fromMemory / withSaveHandler).
import { artifactsInfo, type IOHandler, type ModelArtifacts, type SaveResult, type WeightsManifestEntry } from './types.js';
import { responseChunks } from './stream.js';

function modelJson(a: ModelArtifacts, weightsPath: string): Record<string, unknown> {
  return {
    modelTopology: a.modelTopology,
    format: a.format ?? 'layers-model',
    generatedBy: a.generatedBy,
    convertedBy: a.convertedBy ?? null,
    weightsManifest: [{ paths: [weightsPath], weights: a.weightSpecs ?? [] }],
    ...(a.trainingConfig ? { trainingConfig: a.trainingConfig } : {}),
  };
}

function parseModelJson(json: unknown, what: string): { artifacts: ModelArtifacts; groups: Array<{ paths: string[]; weights: WeightsManifestEntry[] }> } {
  if (!json || typeof json !== 'object') throw new Error(`${what}: model.json is not a JSON object`);
  const j = json as Record<string, unknown>;
  if (!j.modelTopology || typeof j.modelTopology !== 'object') throw new Error(`${what}: model.json has no modelTopology`);
  const manifest = (j.weightsManifest ?? []) as unknown;
  if (!Array.isArray(manifest)) throw new Error(`${what}: weightsManifest must be an array`);
  const groups = manifest.map((g, i) => {
    if (!g || !Array.isArray(g.paths) || !Array.isArray(g.weights)) throw new Error(`${what}: weightsManifest[${i}] needs paths and weights arrays`);
    return g as { paths: string[]; weights: WeightsManifestEntry[] };
  });
  return {
    artifacts: {
      modelTopology: j.modelTopology as Record<string, unknown>,
      format: j.format as string,
      generatedBy: j.generatedBy as string,
      convertedBy: j.convertedBy as string,
      trainingConfig: j.trainingConfig as Record<string, unknown>,
      signature: j.signature as Record<string, unknown> | undefined,
      weightSpecs: groups.flatMap((g) => g.weights),
    },
    groups,
  };
}

export function concatBuffers(parts: ArrayBuffer[]): ArrayBuffer {
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p), at);
    at += p.byteLength;
  }
  return out.buffer;
}

/**
 * model.json + weight shards over HTTP(S) (TF.js browserHTTPRequest). With `streamWeights` the
 * artifacts carry `weightChunks` instead of `weightData`: shards are fetched as the weights load,
 * chunk by chunk, and never held whole (tf.loadLayersModel on a URL does this).
 */
export function http(url: string, init: RequestInit = {}, options: { streamWeights?: boolean } = {}): IOHandler {
  return {
    async load() {
      const res = await fetch(url, init);
      if (!res.ok) throw new Error(`loadLayersModel: fetching ${url} failed (${res.status} ${res.statusText})`);
      const { artifacts, groups } = parseModelJson(await res.json(), url);
      const base = new URL(url, typeof location !== 'undefined' ? location.href : undefined);
      const shardUrls = groups.flatMap((g) => g.paths.map((p) => new URL(p, base).href));
      const fetchShard = async (shardUrl: string) => {
        const r = await fetch(shardUrl, init);
        if (!r.ok) throw new Error(`loadLayersModel: fetching weights ${shardUrl} failed (${r.status})`);
        return r;
      };
      if (options.streamWeights) {
        artifacts.weightChunks = async function* () {
          for (const shardUrl of shardUrls) yield* responseChunks(await fetchShard(shardUrl));
        };
        return artifacts;
      }
      const shards: ArrayBuffer[] = [];
      for (const shardUrl of shardUrls) shards.push(await (await fetchShard(shardUrl)).arrayBuffer());
      artifacts.weightData = concatBuffers(shards);
      return artifacts;
    },
    async save(a) {
      const form = new FormData();
      form.append('model.json', new Blob([JSON.stringify(modelJson(a, './model.weights.bin'))], { type: 'application/json' }), 'model.json');
      if (a.weightData) form.append('model.weights.bin', new Blob([a.weightData], { type: 'application/octet-stream' }), 'model.weights.bin');
      const res = await fetch(url, { method: 'POST', body: form, ...init });
      if (!res.ok) throw new Error(`model.save: POST to ${url} failed (${res.status})`);
      return { modelArtifactsInfo: artifactsInfo(a), responses: [res] };
    },
  };
}

// IndexedDB in TF.js's own layout (database 'tensorflowjs', stores 'models_store' and
// 'model_info_store'), so models saved by TF.js load here and the reverse.
const IDB_NAME = 'tensorflowjs';
export function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    if (typeof indexedDB === 'undefined') return reject(new Error('indexeddb:// needs a browser with IndexedDB'));
    const req = indexedDB.open(IDB_NAME, 1);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains('models_store')) db.createObjectStore('models_store', { keyPath: 'modelPath' });
      if (!db.objectStoreNames.contains('model_info_store')) db.createObjectStore('model_info_store', { keyPath: 'modelPath' });
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

export function idbRequest<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

export function indexedDb(modelPath: string): IOHandler {
  return {
    async save(a) {
      const db = await openDb();
      try {
        const info = artifactsInfo(a);
        const tx = db.transaction(['models_store', 'model_info_store'], 'readwrite');
        await idbRequest(tx.objectStore('model_info_store').put({ modelPath, modelArtifactsInfo: info }));
        await idbRequest(tx.objectStore('models_store').put({ modelPath, modelArtifacts: a }));
        return { modelArtifactsInfo: info };
      } finally {
        db.close();
      }
    },
    async load() {
      const db = await openDb();
      try {
        const rec = await idbRequest(db.transaction('models_store', 'readonly').objectStore('models_store').get(modelPath));
        if (!rec) throw new Error(`loadLayersModel: no model at indexeddb://${modelPath}`);
        return rec.modelArtifacts as ModelArtifacts;
      } finally {
        db.close();
      }
    },
  };
}

// localStorage in TF.js's key layout ('tensorflowjs_models/<path>/...'), weights in base64.
export const LS = 'tensorflowjs_models';
/** The localStorage items one saved model occupies (as TF.js lays them out). */
export const LS_ITEMS = ['info', 'model_topology', 'weight_specs', 'weight_data', 'model_metadata'] as const;
function b64(buf: ArrayBuffer): string {
  let s = '';
  const bytes = new Uint8Array(buf);
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
function unb64(s: string): ArrayBuffer {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out.buffer;
}

export function localStorageHandler(modelPath: string): IOHandler {
  const key = (k: string) => `${LS}/${modelPath}/${k}`;
  const store = () => {
    if (typeof localStorage === 'undefined') throw new Error('localstorage:// needs a browser with localStorage');
    return localStorage;
  };
  return {
    async save(a) {
      const ls = store();
      const info = artifactsInfo(a);
      ls.setItem(key('info'), JSON.stringify(info));
      ls.setItem(key('model_topology'), JSON.stringify(a.modelTopology));
      ls.setItem(key('weight_specs'), JSON.stringify(a.weightSpecs ?? []));
      ls.setItem(key('weight_data'), b64(a.weightData ?? new ArrayBuffer(0)));
      ls.setItem(key('model_metadata'), JSON.stringify({ format: a.format, generatedBy: a.generatedBy, convertedBy: a.convertedBy }));
      return { modelArtifactsInfo: info };
    },
    async load() {
      const ls = store();
      const topo = ls.getItem(key('model_topology'));
      if (topo === null) throw new Error(`loadLayersModel: no model at localstorage://${modelPath}`);
      const meta = JSON.parse(ls.getItem(key('model_metadata')) ?? '{}');
      return {
        modelTopology: JSON.parse(topo),
        weightSpecs: JSON.parse(ls.getItem(key('weight_specs')) ?? '[]'),
        weightData: unb64(ls.getItem(key('weight_data')) ?? ''),
        ...meta,
      };
    },
  };
}

/** Downloads model.json and the weights as files (TF.js 'downloads://name'). */
export function downloads(name = 'model'): IOHandler {
  return {
    async save(a) {
      if (typeof document === 'undefined') throw new Error('downloads:// needs a browser page');
      const weightsName = `${name}.weights.bin`;
      const json = new Blob([JSON.stringify(modelJson(a, `./${weightsName}`))], { type: 'application/json' });
      const weights = new Blob([a.weightData ?? new ArrayBuffer(0)], { type: 'application/octet-stream' });
      for (const [blob, file] of [[json, `${name}.json`], [weights, weightsName]] as const) {
        const link = document.createElement('a');
        link.download = file;
        link.href = URL.createObjectURL(blob);
        link.click();
      }
      return { modelArtifactsInfo: artifactsInfo(a) };
    },
  };
}

/** A handler that loads given artifacts (or a model.json object plus weights). */
export function fromMemory(modelArtifactsOrTopology: ModelArtifacts | Record<string, unknown>, weightSpecs?: WeightsManifestEntry[], weightData?: ArrayBuffer): IOHandler {
  const a = (modelArtifactsOrTopology as ModelArtifacts).modelTopology !== undefined
    ? (modelArtifactsOrTopology as ModelArtifacts)
    : { modelTopology: modelArtifactsOrTopology as Record<string, unknown>, weightSpecs, weightData };
  return { load: async () => a };
}

/** A handler whose save calls `f` with the artifacts. */
export function withSaveHandler(f: (a: ModelArtifacts) => Promise<SaveResult>): IOHandler {
  return { save: f };
}

/** The handler for a URL string (http(s), indexeddb://, localstorage://, downloads://). */
// Routers registered by applications (TF.js registerLoadRouter / registerSaveRouter): asked first.
type Router = (url: string) => IOHandler | null | undefined;
const loadRouters: Router[] = [];
const saveRouters: Router[] = [];
export const registerLoadRouter = (r: Router) => { loadRouters.push(r); };
export const registerSaveRouter = (r: Router) => { saveRouters.push(r); };
/** The handlers registered routers give for `url` (built-in schemes are not among them). */
export const getLoadHandlers = (url: string) => loadRouters.map((r) => r(url)).filter((h): h is IOHandler => !!h);
export const getSaveHandlers = (url: string) => saveRouters.map((r) => r(url)).filter((h): h is IOHandler => !!h);

export function handlerFor(url: string, op: string): IOHandler {
  const routed = (op.startsWith('save') ? getSaveHandlers(url) : getLoadHandlers(url))[0];
  if (routed) return routed;
  const m = /^([a-z]+):\/\/(.*)$/.exec(url);
  const scheme = m?.[1];
  if (scheme === 'indexeddb') return indexedDb(m![2]);
  if (scheme === 'localstorage') return localStorageHandler(m![2]);
  if (scheme === 'downloads') return downloads(m![2] || 'model');
  if (scheme === 'http' || scheme === 'https' || !scheme) return http(url, {}, { streamWeights: true });
  throw new Error(`${op}: no IO handler for '${url}' (use http(s)://, indexeddb://, localstorage:// or downloads://)`);
}

export { parseModelJson };
