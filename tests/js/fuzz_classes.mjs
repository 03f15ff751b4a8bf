// The abuse classes of issue #22, each fuzzed on its own with seeded random picks, and counted:
// calls, calls that worked, clear Errors, traps (a WebAssembly.RuntimeError or a non-Error: must
// be 0), hangs (a call over HANG_MS: must be 0), and the largest memory growth seen across a
// refused call (wasm heap high-water, GPU pool high-water, JS ArrayBuffers where the runtime
// reports them). Every refusal must be an Error whose message names what it refuses.
import { rng } from './fuzz.mjs';

const HANG_MS = 10_000;


/** Bytes in use that a hostile input could inflate, summed over what this runtime exposes. */
function footprint(tf) {
  const m = tf.memory();
  const js = typeof process !== 'undefined' && process.memoryUsage ? process.memoryUsage().arrayBuffers : (globalThis.performance?.memory?.usedJSHeapSize ?? 0);
  return { wasm: m.wasmHeapBytes ?? 0, gpu: m.gpuHighWaterBytes ?? 0, js };
}

// ---- tiny file writers for the hostile files ---------------------------------------------------

/** A minimal protobuf writer: enough of ModelProto for an ONNX file with one initializer. */
function pb(fields) {
  const out = [];
  const varint = (v) => { let n = BigInt(v); do { let b = Number(n & 0x7fn); n >>= 7n; if (n) b |= 0x80; out.push(b); } while (n); };
  for (const [field, value] of fields) {
    if (typeof value === 'number' || typeof value === 'bigint') { varint((field << 3) | 0); varint(value); continue; }
    const bytes = typeof value === 'string' ? new TextEncoder().encode(value) : value;
    varint((field << 3) | 2); varint(bytes.length); out.push(...bytes);
  }
  return Uint8Array.from(out);
}

/** An ONNX model whose one initializer declares `dims` but carries `rawBytes` bytes. */
function onnxWithInitializer(dims, rawBytes) {
  const tensor = pb([...dims.map((d) => [1, d]), [2, 1], [8, 'w'], [9, new Uint8Array(rawBytes)]]);
  const node = pb([[1, 'x'], [1, 'w'], [2, 'y'], [4, 'Add']]);
  const valueInfo = (name) => pb([[1, name]]);
  const graph = pb([[1, node], [2, 'g'], [5, tensor], [11, valueInfo('x')], [12, valueInfo('y')]]);
  return pb([[1, 8], [8, pb([[2, 13]])], [7, graph]]);
}

/** A safetensors file with one entry whose header says `shape` and `offsets`, and `dataBytes` of data. */
function safetensorsFile(shape, offsets, dataBytes, nesting = 0) {
  // written out by hand: JSON.stringify itself would overflow the stack at 10^5 levels
  const entry = JSON.stringify({ w: { dtype: 'F32', shape, data_offsets: offsets } });
  const json = new TextEncoder().encode('{"__metadata__":'.repeat(nesting) + entry + '}'.repeat(nesting));
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

const denseTopology = (units, inputs) => ({ class_name: 'Sequential', config: { layers: [{ class_name: 'Dense', config: { name: 'd', units, batch_input_shape: [null, inputs] } }] } });
const nested = (depth, leaf = 1) => { let v = leaf; for (let i = 0; i < depth; i++) v = [v]; return v; };

// ---- the classes -----------------------------------------------------------------------------

// (null and undefined mean 'the default' wherever an argument is optional, as in TF.js)
const HOSTILE_STRINGS = [7, 1, {}, 10n, Symbol('s'), NaN, { toString() { return 'float32'; } }, { length: -1 }, { length: 2 ** 30 }, ['same'], () => 'x'];
// (2^31 itself is a fine stride or window: only values no u32 holds, or no integer, are bad)
const BAD_INTEGERS = [2 ** 32, 2 ** 32 + 1, -(2 ** 31) - 1, 2 ** 53, NaN, 1.5, Infinity, -Infinity, -7];
const PROTO_NAMES = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__', 'isPrototypeOf', '__defineGetter__', 'toLocaleString'];
const DEPTHS = [9, 64, 1000, 10_000, 100_000];

const kerasConfig = (inputs, units) => new TextEncoder().encode(JSON.stringify({ class_name: 'Sequential', config: { layers: [{ class_name: 'InputLayer', config: { batch_shape: [null, inputs] } }, { class_name: 'Dense', config: { name: 'd', units } }] } }));

function classes(tf, pick, r, zipSync) {
  // a small built model for one call, disposed after it (its weights are variables, which tidy keeps)
  const withModel = (f) => {
    const m = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });
    try { return f(m); } finally { m.dispose(); }
  };
  const x = () => tf.tensor([1.5, -2, 3, 0.5], [2, 2]);
  const img = () => tf.zeros([1, 4, 4, 1]);
  const kernel = () => tf.zeros([3, 3, 1, 1]);
  return {
    'non-strings where a string is taken': [
      (v) => tf.cast(x(), v), (v) => tf.zeros([2], v), (v) => tf.ones([2], v), (v) => tf.fill([2], 1, v), (v) => tf.randomNormal([2], 0, 1, v),
      (v) => tf.randomUniform([2], 0, 1, v), (v) => tf.variable(x(), true, undefined, v), (v) => tf.oneHot(tf.tensor1d([0, 1], 'int32'), 2, 1, 0, v),
      (v) => tf.conv2d(img(), kernel(), 1, typeof v === 'number' ? { v } : v), (v) => tf.conv2d(img(), kernel(), 1, 'same', v),
      (v) => tf.depthwiseConv2d(img(), kernel(), 1, typeof v === 'number' ? [v] : v), (v) => tf.maxPool(img(), 2, 2, typeof v === 'number' ? [[v]] : v),
      (v) => tf.avgPool(img(), 2, 2, typeof v === 'number' ? `${v}` : v), (v) => tf.layers.conv2d({ filters: 1, kernelSize: 3, padding: v }),
      (v) => tf.layers.maxPooling2d({ padding: v }), (v) => tf.layers.dense({ units: 2, activation: v }),
      (v) => withModel((m) => m.compile({ optimizer: 'sgd', loss: v })),
      (v) => withModel((m) => m.compile({ optimizer: v, loss: 'mse' })),
      (v) => tf.train.rmsprop(0.1, 0.9, 0, 1e-7, v), (v) => tf.setBackend(v),
    ].map((f) => [() => pick(HOSTILE_STRINGS), f]),

    'integers past 2^31 and 2^32, NaN, fractions': [
      (v) => tf.sum(x(), v), (v) => tf.argMax(x(), v), (v) => tf.softmax(x(), v), (v) => tf.concat([x(), x()], v), (v) => tf.stack([x(), x()], v),
      (v) => tf.gather(x(), tf.tensor1d([0], 'int32'), v), (v) => tf.oneHot(tf.tensor1d([0], 'int32'), v), (v) => tf.conv2d(img(), kernel(), v, 'same'),
      (v) => tf.maxPool(img(), v, 1, 'valid'), (v) => tf.maxPool(img(), 2, 1, v), (v) => tf.avgPool(img(), 2, v, 'same'), (v) => tf.slice(x(), [0, 0], [1, v]),
      (v) => tf.transpose(x(), [v, 0]), (v) => tf.split(x(), v), (v) => tf.split(x(), [1, v]), (v) => tf.expandDims(x(), v), (v) => tf.reshape(x(), [v, -1]),
      (v) => tf.zeros([v, 2]), (v) => tf.pad(x(), [[0, v], [0, 0]]), (v) => tf.unstack(x(), v), (v) => tf.tensor([1], [v]),
      (v) => tf.conv2d(img(), kernel(), 1, [[0, 0], [v, 0], [0, 0], [0, 0]]), (v) => tf.gather(tf.ones([2, 3]), tf.tensor([[0]], [1, 1], 'int32'), 1, v),
      (v) => tf.layers.dense({ units: v, inputShape: [2] }), (v) => tf.layers.embedding({ inputDim: v, outputDim: 2 }),
    ].map((f) => [() => pick(BAD_INTEGERS), f]),

    'prototype keys as names': [
      (n) => tf.layers.dense({ units: 2, activation: n }), (n) => tf.layers.activation({ activation: n }),
      (n) => tf.layers.dense({ units: 2, kernelInitializer: n }),
      (n) => withModel((m) => m.compile({ optimizer: 'sgd', loss: n })),
      (n) => withModel((m) => m.compile({ optimizer: n, loss: 'mse' })),
      (n) => withModel((m) => m.compile({ optimizer: 'sgd', loss: 'mse', metrics: [n] })),
      (n) => tf.loadLayersModel(tf.io.fromMemory({ modelTopology: { class_name: 'Sequential', config: { layers: [{ class_name: n, config: {} }] } }, weightSpecs: [], weightData: new ArrayBuffer(0) })),
      (n) => tf.loadLayersModel(tf.io.fromMemory({ modelTopology: { class_name: n, config: {} }, weightSpecs: [], weightData: new ArrayBuffer(0) })),
      (n) => tf.loadGraphModel(tf.io.fromMemory({ format: 'graph-model', modelTopology: { node: [{ name: 'x', op: 'Placeholder' }, { name: 'y', op: n, input: ['x'] }] }, weightSpecs: [] })),
    ].map((f) => [() => pick(PROTO_NAMES), f]),

    'nesting depth': [
      (d) => tf.tensor(nested(d)), (d) => tf.add(nested(d), 1), (d) => tf.stack([nested(d)]),
      (d) => { const a = []; let c = a; for (let i = 0; i < d; i++) { const n = []; c.push(n); c = n; } c.push(a); return tf.dispose(a); },
      (d) => { let cfg = {}; for (let i = 0; i < d; i++) cfg = { a: cfg }; return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: { class_name: 'Sequential', config: { layers: [], cfg } } })); },
      (d) => withModel((m) => m.loadSafetensors(safetensorsFile([1], [0, 4], 4, d))),
    ].map((f) => [() => pick(DEPTHS), f]),

    // [make the file, load it]: memory is measured across the load alone
    'declared sizes against the bytes present': [
      // TF.js layers artifacts: specs and config against the data
      () => tf.loadLayersModel(tf.io.fromMemory({ modelTopology: denseTopology(1 + Math.floor(r() * 2 ** 17), 1 + Math.floor(r() * 2 ** 17)), weightSpecs: [], weightData: new ArrayBuffer(Math.floor(r() * 64) * 4) })),
      () => tf.loadLayersModel(tf.io.fromMemory({ modelTopology: denseTopology(2, 3), weightSpecs: [{ name: 'd/kernel', shape: [pick([4, 2 ** 14, 2 ** 20, 2 ** 31]), 2], dtype: 'float32' }, { name: 'd/bias', shape: [2], dtype: 'float32' }], weightData: new ArrayBuffer(32) })),
      // TF.js graph model: declared weights against the data given
      () => tf.loadGraphModel(tf.io.fromMemory({ format: 'graph-model', modelTopology: { node: [{ name: 'x', op: 'Placeholder' }, { name: 'w', op: 'Const' }, { name: 'y', op: 'AddV2', input: ['x', 'w'] }] }, weightSpecs: [{ name: 'w', shape: [pick([2 ** 14, 2 ** 20, 2 ** 28]), 2], dtype: 'float32' }], weightData: new ArrayBuffer(8) })),
      // safetensors: offsets past the data, shapes larger than their range
      [() => safetensorsFile([pick([2, 2 ** 20, 2 ** 31])], [0, pick([4, 2 ** 22, 2 ** 33])], 4), (file) => withModel((m) => m.loadSafetensors(file))],
      // ONNX: an initializer declaring far more than its raw bytes
      // (2^32 + 4 with the 32 bytes a [4, 2] weight has: the dimension must not wrap on wasm32)
      [() => { const d = pick([2 ** 16, 2 ** 24, 2 ** 31, 2 ** 32 + 4]); return onnxWithInitializer([d, 2], d === 2 ** 32 + 4 ? 32 : 8); }, (file) => tf.loadOnnxModel(file)],
      // .keras: a config larger than its weights file
      [() => zipSync({ 'config.json': kerasConfig(1 + Math.floor(r() * 2 ** 16), 1 + Math.floor(r() * 2 ** 16)), 'model.weights.h5': new Uint8Array(Math.floor(r() * 4096)) }), (file) => tf.loadKerasModel(file)],
    ],

    'decompression bombs': [
      // weights that inflate far past what the config's one Dense needs
      [() => zipSync({ 'config.json': kerasConfig(2, 1), 'model.weights.h5': new Uint8Array(pick([1, 4, 16]) * 2 ** 20) }, { level: 9 }), (file) => tf.loadKerasModel(file)],
      // a config.json that inflates past its cap
      [() => zipSync({ 'config.json': new Uint8Array(pick([17, 24, 32]) * 2 ** 20).fill(32) }, { level: 9 }), (file) => tf.loadKerasModel(file)],
    ],
  };
}

/** Runs `calls` seeded calls of each class; returns the counts per class. */
export async function fuzzByClass(tf, calls = 200, seed = 22) {
  const r = rng(seed);
  const pick = (a) => a[Math.floor(r() * a.length)];
  const { zipSync } = await import(/* @vite-ignore */ 'fflate');
  const report = {};
  for (const [name, fns] of Object.entries(classes(tf, pick, r, zipSync))) {
    const c = { calls: 0, ok: 0, errors: 0, traps: 0, hangs: 0, largestGrowthBytes: 0 };
    for (let i = 0; i < calls; i++) {
      const entry = pick(fns);
      // an entry is [make the input, use it], or a call that makes its own input
      const [make, load] = Array.isArray(entry) ? entry : [() => undefined, entry];
      const input = make();
      const before = footprint(tf);
      const start = Date.now();
      c.calls++;
      try {
        // tidy frees the scratch tensors of a synchronous call; a promise is awaited after it
        let pending;
        const sync = tf.tidy(() => {
          const o = load(input);
          if (o && typeof o.then === 'function') { pending = o; return undefined; }
          return o;
        });
        const out = pending ? await pending : sync;
        c.ok++;
        if (globalThis.FUZZ_DEBUG) console.log(`${name}: accepted ${typeof input === 'symbol' ? 'a symbol' : typeof input === 'bigint' ? `${input}n` : String(input).slice(0, 40)} in ${load.toString().slice(0, 100)}`);
        if (out && typeof out.dispose === 'function') out.dispose();
      } catch (e) {
        if (e instanceof WebAssembly.RuntimeError || !(e instanceof Error)) {
          c.traps++;
          throw new Error(`${name}, call ${i}: trapped the module or threw a non-Error: ${(e && e.stack) || String(e)}`);
        }
        if (!e.message || e.message.length < 12 || /call stack|undefined$|is not a function/.test(e.message)) {
          throw new Error(`${name}, call ${i}: unclear error "${e.message}" from ${load.toString().slice(0, 120)}`);
        }
        c.errors++;
        const after = footprint(tf);
        c.largestGrowthBytes = Math.max(c.largestGrowthBytes, after.wasm - before.wasm, after.gpu - before.gpu, after.js - before.js);
      }
      if (Date.now() - start > HANG_MS) c.hangs++;
      if (i % 25 === 0) await new Promise((res) => setTimeout(res, 0));
    }
    report[name] = c;
  }
  return report;
}
