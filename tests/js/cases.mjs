import { fuzz } from './fuzz.mjs';
import { fuzzByClass } from './fuzz_classes.mjs';
import { onnxConformance } from './onnx.mjs';

// The JS API suite, shared by Node (tests/js/api.test.mjs, CPU backend) and headless Chromium
// (tests/browser/api.test.mjs, WebGPU and CPU). `tf` is webtensor; `ref` is TF.js 4.22 (its CPU
// backend), the reference of the differential cases.

export function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}

export function close(got, want, rtol = 1e-4, atol = 1e-5, what = 'values') {
  const g = Array.from(got), w = Array.from(want);
  assert(g.length === w.length, `${what}: ${g.length} values, expected ${w.length}`);
  for (let i = 0; i < g.length; i++) {
    const ok = Number.isNaN(w[i]) ? Number.isNaN(g[i]) : g[i] === w[i] || Math.abs(g[i] - w[i]) <= atol + rtol * Math.abs(w[i]);
    assert(ok, `${what}[${i}] = ${g[i]}, expected ${w[i]}`);
  }
}

function throwsWith(f, needles, what) {
  let err;
  try { f(); } catch (e) { err = e; }
  assert(err instanceof Error, `${what}: expected an Error to be thrown`);
  for (const n of needles) assert(err.message.includes(n), `${what}: message "${err.message}" lacks "${n}"`);
}

// Tensors made and not disposed, whether still alive or already freed by the GC safety net: leak
// checks compare this, so that the collector freeing an earlier case's leaks mid-test is no noise.
const owned = (m) => ({ tensors: m.numTensors + m.numTensorsFreedByGC, bytes: m.numBytes + m.numBytesFreedByGC });

/** A file of tests/fixtures/, from disk in Node and from the test server in browsers. */
async function fixtureBytes(path) {
  if (typeof window === 'undefined') {
    const fsModule = 'node:fs/promises';
    const fs = await import(/* @vite-ignore */ fsModule);
    return new Uint8Array(await fs.readFile(new URL(`../fixtures/${path}`, import.meta.url)));
  }
  const res = await fetch(`/tests/fixtures/${path}`);
  if (!res.ok) throw new Error(`fetch ${path}: ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** A file of the repository (e.g. the demo's www/data), from disk in Node and the server in browsers. */
async function repoBytes(path) {
  if (typeof window === 'undefined') {
    const fsModule = 'node:fs/promises';
    const fs = await import(/* @vite-ignore */ fsModule);
    return new Uint8Array(await fs.readFile(new URL(`../../${path}`, import.meta.url)));
  }
  const res = await fetch(`/${path}`);
  if (!res.ok) throw new Error(`fetch ${path}: ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

async function assertRejects(f, needles, what) {
  let err;
  try { await f(); } catch (e) { err = e; }
  assert(err instanceof Error, `${what}: expected an Error`);
  for (const n of needles) assert(err.message.includes(n), `${what}: "${err.message}" lacks "${n}"`);
}

/**
 * Each [name, f] of `cases` run here and in TF.js (f takes the library): same shape, same values
 * (and same dtype unless told not to check it).
 */
async function agreesWithTfjs(tf, ref, cases, [rtol, atol], { dtype = true, prefix = '' } = {}) {
  for (const [name, f] of cases) {
    const [ours, theirs] = [tf.tidy(() => f(tf)), ref.tidy(() => f(ref))];
    assert(ours.shape.join() === theirs.shape.join(), `${prefix}${name}: shape [${ours.shape}], TF.js [${theirs.shape}]`);
    if (dtype) assert(ours.dtype === theirs.dtype, `${prefix}${name}: dtype ${ours.dtype}, TF.js ${theirs.dtype}`);
    close(await ours.data(), await theirs.data(), rtol, atol, `${prefix}${name} vs TF.js`);
    tf.dispose(ours); ref.dispose(theirs);
  }
}

/**
 * `train(lib)` builds a model, fits it and resolves to [history, model], in this package and in
 * TF.js: the loss per epoch and the first weight afterwards must agree.
 */
async function trainsAsTfjs(tf, ref, train, what, [rtol, atol]) {
  const results = [];
  for (const lib of [tf, ref]) {
    const [h, m] = await train(lib);
    results.push([h.history.loss, await m.getWeights()[0].data()]);
    m.dispose();
  }
  close(results[0][0], results[1][0], rtol, atol, `${what}: loss per epoch vs TF.js`);
  close(results[0][1], results[1][1], rtol, atol, `${what}: weights after fit vs TF.js`);
}

/** Artifacts of a model saved in memory with `lib` (this package or TF.js). */
async function saved(lib, model) {
  let a;
  await model.save(lib.io.withSaveHandler(async (x) => { a = x; return { modelArtifactsInfo: {} }; }));
  return a;
}

/**
 * A one-layer model (`layer` of `args` over inputs of `shape`) built here and in TF.js with the
 * same seeded weights: predictions compared, then (unless forwardOnly) each library's saved model
 * loaded by the other, predicting the same.
 */
async function layerAgreesWithTfjs(tf, ref, [shape, layer, args, forwardOnly], seed, [rtol, atol]) {
  const what = `${layer}(${JSON.stringify(args)})`;
  const x = seeded(2 * shape.reduce((p, q) => p * q, 1), seed);
  const build = (lib) => lib.sequential({ layers: [lib.layers[layer]({ ...args, inputShape: shape })] });
  const [ours, theirs] = [build(tf), build(ref)];
  const weights = theirs.getWeights().map((w, i) => seeded(w.size, seed + 1 + i, 0.6));
  assert(ours.getWeights().length === weights.length, `${what}: ${ours.getWeights().length} weights, TF.js ${weights.length}`);
  if (weights.length) {
    ours.setWeights(weights.map((v, i) => tf.tensor(v, theirs.getWeights()[i].shape)));
    theirs.setWeights(weights.map((v, i) => ref.tensor(v, theirs.getWeights()[i].shape)));
  }
  const [y, want] = [ours.predict(tf.tensor(x, [2, ...shape])), theirs.predict(ref.tensor(x, [2, ...shape]))];
  assert(y.shape.join() === want.shape.join(), `${what}: shape [${y.shape}], TF.js [${want.shape}]`);
  close(await y.data(), await want.data(), rtol, atol, `${what} vs TF.js`);
  if (!forwardOnly) {
    const inTfjs = await ref.loadLayersModel(ref.io.fromMemory(await saved(tf, ours)));
    close(await inTfjs.predict(ref.tensor(x, [2, ...shape])).data(), await want.data(), rtol, atol, `${what}: TF.js loads ours`);
    const fromTfjs = await tf.loadLayersModel(tf.io.fromMemory(await saved(ref, theirs)));
    close(await fromTfjs.predict(tf.tensor(x, [2, ...shape])).data(), await want.data(), rtol, atol, `${what}: we load TF.js's`);
    fromTfjs.dispose();
  }
  tf.dispose(y); ref.dispose(want); ours.dispose();
}

function seeded(n, seed, scale = 1) {
  let x = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return (x / 4294967296 - 0.5) * 2 * scale;
  });
}

export const cases = {
  async 'tensor creation, dtype, shape, data and array'(tf) {
    const a = tf.tensor([[1, 2, 3], [4, 5, 6]]);
    assert(a.shape.join() === '2,3' && a.dtype === 'float32' && a.rank === 2 && a.size === 6, 'shape/dtype');
    close(await a.data(), [1, 2, 3, 4, 5, 6]);
    assert(JSON.stringify(await a.array()) === '[[1,2,3],[4,5,6]]', 'array()');
    const i = tf.tensor1d([1, 2, 3], 'int32');
    assert(i.dtype === 'int32' && (await i.data()) instanceof Int32Array, 'int32 data');
    const b = tf.tensor([true, false]);
    assert(b.dtype === 'bool' && (await b.data()) instanceof Uint8Array, 'bool data is Uint8Array like TF.js');
    assert((await tf.scalar(3).array()) === 3, 'scalar');
    close(await tf.zeros([2, 2]).data(), [0, 0, 0, 0]);
    close(await tf.ones([3]).data(), [1, 1, 1]);
    close(await tf.fill([2], 7).data(), [7, 7]);
    close(await tf.tensor2d([1, 2, 3, 4], [2, 2]).data(), [1, 2, 3, 4]);
    const r = tf.randomUniform([1000], 2, 3, 'float32', 5);
    const rv = await r.data();
    assert(rv.every((v) => v >= 2 && v < 3), 'randomUniform range');
    close(await tf.randomUniform([1000], 2, 3, 'float32', 5).data(), rv, 0, 0, 'seeded randomUniform repeats');
    close(await tf.oneHot(tf.tensor1d([0, 2], 'int32'), 3).data(), [1, 0, 0, 0, 0, 1]);
  },

  async 'chained ops and broadcasting'(tf) {
    const x = tf.tensor([[1, 2], [3, 4]]);
    close(await x.add(1).mul(tf.tensor([2, 3])).relu().data(), [4, 9, 8, 15]);
    close(await x.sub(2.5).abs().data(), [1.5, 0.5, 0.5, 1.5]);
    close(await x.matMul(x, false, true).data(), [5, 11, 11, 25]);
    close(await x.sum().data(), [10]);
    close(await x.mean(0).data(), [2, 3]);
    close(await x.max(1, true).data(), [2, 4]);
    close(await x.argMax(1).data(), [1, 1]);
    close(await x.transpose().reshape([4]).data(), [1, 3, 2, 4]);
    close(await tf.concat([x, x], 1).slice([0, 1], [2, 2]).data(), [2, 1, 4, 3]);
    close(await tf.stack([tf.tensor([1, 2]), tf.tensor([3, 4])]).data(), [1, 2, 3, 4]);
    close(await tf.where(x.greater(2), x, tf.scalar(0)).data(), [0, 0, 3, 4]);
    close(await x.softmax().sum(1).data(), [1, 1]);
    close(await tf.gather(x, tf.tensor1d([1, 0], 'int32')).data(), [3, 4, 1, 2]);
    close(await x.pow(2).sqrt().data(), [1, 2, 3, 4]);
    const [p, q] = tf.split(tf.tensor([1, 2, 3, 4, 5, 6]), 2);
    close(await q.data(), [4, 5, 6]);
    assert(tf.unstack(x).length === 2 && x.expandDims(0).shape.join() === '1,2,2', 'unstack/expandDims');
  },

  async 'tidy, keep, dispose and memory'(tf) {
    const before = owned(tf.memory()).tensors;
    let kept;
    const out = tf.tidy(() => {
      const a = tf.tensor([1, 2, 3]);
      const b = a.square();
      kept = tf.keep(a.add(1));
      return { b, list: [b.neg()] };
    });
    assert(owned(tf.memory()).tensors === before + 3, `tidy kept returned + kept tensors (${owned(tf.memory()).tensors} vs ${before} + 3)`);
    close(await out.list[0].data(), [-1, -4, -9]);
    tf.dispose([out.b, out.list, kept]);
    assert(owned(tf.memory()).tensors === before, 'dispose released all');
    const t = tf.tensor([1]);
    t.dispose();
    assert(t.isDisposed, 'isDisposed');
(() => t.add(1), ['disposed'], 'use after dispose');
    assert(tf.memory().numBytes >= 0, 'numBytes');
  },

  async 'tidyAsync: scopes that span awaits free their own tensors only, even interleaved'(tf) {
    const before = owned(tf.memory()).tensors;
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    const log = [];
    const scope = (name, delays) => tf.tidyAsync(function* () {
      let acc = tf.scalar(0);
      for (const d of delays) {
        const step = tf.scalar(d);
        yield sleep(d);                       // the other scope runs here
        acc = acc.add(step);
        log.push(name);
        const v = yield acc.data();           // awaiting a read inside the scope
        assert(v[0] > 0, 'read inside the scope');
      }
      return { total: acc, kept: tf.keep(tf.scalar(1)) };
    });
    const [a, b] = await Promise.all([scope('a', [5, 1, 8]), scope('b', [2, 7, 1])]);
    assert(log.join('') !== 'aaabbb' && new Set(log).size === 2, `the scopes interleaved: ${log.join('')}`);
    close(await a.total.data(), [14]);
    close(await b.total.data(), [10]);
    assert(owned(tf.memory()).tensors === before + 4, `only returned and kept tensors survive (${owned(tf.memory()).tensors - before})`);
    tf.dispose([a, b]);
    assert(owned(tf.memory()).tensors === before, 'all freed');
    let err;
    try {
      await tf.tidyAsync(function* () { tf.ones([3]); yield sleep(1); throw new Error('boom'); });
    } catch (e) { err = e; }
    assert(err?.message === 'boom' && owned(tf.memory()).tensors === before, 'a throwing scope frees its tensors and rethrows');
  },

  async 'fuzz: 10,000 random bad calls throw Errors, none traps, and the engine still computes right'(tf) {
    const before = owned(tf.memory()).tensors;
    const report = await fuzz(tf, 10_000, 7);
    console.log(`fuzz on ${tf.getBackend()}: ${JSON.stringify(report)}`);
    assert(report.traps === 0 && report.errors > 2000 && report.ok > 2000, `fuzz report ${JSON.stringify(report)}`);
    // On WebGPU a gather of an index out of range (the fuzz makes some) is noted by the kernel and
    // reported, once, by the next readback: that one fails naming it, the next succeeds.
    if (tf.getBackend() === 'webgpu') {
      const probe = tf.scalar(1);
      await assertRejects(() => probe.data(), ['earlier gather', 'outside an axis'], 'the readback after the fuzz reports its out-of-range gathers');
      close(await probe.data(), [1], 0, 0, 'the tensor behind the failed readback');
      probe.dispose();
    }
    // a fixed reference computation is still right afterwards
    const y = tf.tidy(() => { const x = tf.tensor([[1, 2], [3, 4]]); return x.matMul(x).add(1).softmax(); });
    close(await y.data(), [1 / (1 + Math.exp(3)), 1 / (1 + Math.exp(-3)), 1 / (1 + Math.exp(7)), 1 / (1 + Math.exp(-7))], 1e-5, 1e-7, 'reference after fuzz');
    y.dispose();
    assert(owned(tf.memory()).tensors === before, `fuzz leaked ${owned(tf.memory()).tensors - before} tensors`);
  },

  async 'fuzz by abuse class (#22): every bad call of each class is a clear Error, no trap, no hang, no large allocation'(tf) {
    const before = owned(tf.memory()).tensors;
    const calls = typeof process !== 'undefined' && process.versions?.node ? 100 : 30;
    const report = await fuzzByClass(tf, calls, 22);
    console.log(`fuzz by class on ${tf.getBackend()}: ${JSON.stringify(report)}`);
    for (const [name, c] of Object.entries(report)) {
      assert(c.calls === calls && c.traps === 0 && c.hangs === 0, `${name}: ${JSON.stringify(c)}`);
      // every input of these classes is bad; nesting's include disposing deep containers, which works
      if (name !== 'nesting depth') assert(c.ok === 0, `${name}: ${c.ok} bad calls were accepted`);
      assert(c.largestGrowthBytes < 64 * 2 ** 20, `${name}: memory grew by ${c.largestGrowthBytes} bytes before a refusal`);
    }
    const y = tf.tidy(() => tf.tensor([[1, 2], [3, 4]]).matMul(tf.tensor([[1], [1]])));
    close(await y.data(), [3, 7], 0, 0, 'reference after the class fuzz');
    y.dispose();
    assert(owned(tf.memory()).tensors === before, `the class fuzz leaked ${owned(tf.memory()).tensors - before} tensors`);
  },

  async 'soak: 1000 fit batches and 1000 predict calls keep memory flat'(tf) {
    const model = tf.sequential({ layers: [
      tf.layers.dense({ units: 16, activation: 'relu', inputShape: [8] }),
      tf.layers.dense({ units: 4, activation: 'softmax' }),
    ] });
    model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const x = tf.tensor(seeded(64 * 8, 5), [64, 8]);
    const y = tf.oneHot(tf.tensor1d(Int32Array.from({ length: 64 }, (_, i) => i % 4), 'int32'), 4);
    // Handles held by readback promises are released when those settle (in Firefox, a turn
    // later): measure after the event loop has run.
    const settled = async () => { await new Promise((r) => setTimeout(r, 0)); await new Promise((r) => setTimeout(r, 0)); return tf.memory(); };
    await model.fit(x, y, { epochs: 1, batchSize: 8 });
    const m0 = await settled();
    await model.fit(x, y, { epochs: 125, batchSize: 8 }); // 1000 batches
    const m1 = await settled();
    for (let i = 0; i < 1000; i++) model.predict(x).dispose();
    const m2 = await settled();
    console.log(`soak on ${tf.getBackend()}: ${JSON.stringify({ warm: m0, afterFit: m1, afterPredict: m2 })}`);
    for (const [k, m] of [['fit', m1], ['predict', m2]]) {
      const [a, b] = [owned(m0), owned(m)];
      assert(a.tensors === b.tensors && a.bytes === b.bytes, `${k}: tensors ${a.tensors} -> ${b.tensors}, bytes ${a.bytes} -> ${b.bytes}`);
      if (m0.numBytesInGPU !== undefined) {
        // Never more than after warm-up (Firefox still holds ~0.5 kB from the warm-up fit at m0,
        // released later; Chromium is exact).
        assert(m.numBytesInGPU <= m0.numBytesInGPU, `${k}: device bytes ${m0.numBytesInGPU} -> ${m.numBytesInGPU}`);
        assert(m.gpuHighWaterBytes <= m0.gpuHighWaterBytes * 2, `${k}: pool high-water grew ${m0.gpuHighWaterBytes} -> ${m.gpuHighWaterBytes}`);
      }
    }
    tf.dispose([x, y]);
    model.dispose();
  },

  async 'products large enough to split across the CPU threads equal TF.js; the thread count is set before start only'(tf, ref) {
    // Rows, columns (a decoding step), a batch of small products, a convolution as GEMM, a
    // softmax's rows, a fused elementwise expression: each above the size the CPU backend splits
    // (where it runs on more than one thread).
    const seeded = (n, s) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + s) * 0.5);
    await agreesWithTfjs(tf, ref, [
      ['matMul 300x200x500', (t) => t.matMul(t.tensor(seeded(300 * 200, 1), [300, 200]), t.tensor(seeded(200 * 500, 2), [200, 500]))],
      ['matMul 1x1024x1024', (t) => t.matMul(t.tensor(seeded(1024, 3), [1, 1024]), t.tensor(seeded(1024 * 1024, 4), [1024, 1024]))],
      ['matMul 1x1024x1024, B transposed', (t) => t.matMul(t.tensor(seeded(1024, 3), [1, 1024]), t.tensor(seeded(1024 * 1024, 4), [1024, 1024]), false, true)],
      ['batched matMul 256x16x16x17', (t) => t.matMul(t.tensor(seeded(256 * 256, 5), [256, 16, 16]), t.tensor(seeded(256 * 272, 6), [256, 16, 17]))],
      ['conv2d 2x32x32x16 * 3x3x16x32', (t) => t.conv2d(t.tensor(seeded(2 * 32 * 32 * 16, 7), [2, 32, 32, 16]), t.tensor(seeded(9 * 16 * 32, 8), [3, 3, 16, 32]), 1, 'same')],
      ['softmax 300x257', (t) => t.softmax(t.tensor(seeded(300 * 257, 11), [300, 257]).mul(20))],
      ['relu(x * 3 + x) of 2^17 elements', (t) => { const x = t.tensor(seeded(1 << 17, 12), [1 << 17]); return t.relu(x.mul(3).add(x)); }],
    ], [1e-4, 1e-4]);
    // A quantized decoding-step product (columns split) equals x times its dequantized weight.
    const w = tf.tensor(seeded(512 * 1024, 9), [512, 1024]);
    const q = tf.quantize(w, { bits: 8 });
    const x = tf.tensor(seeded(512, 10), [1, 512]);
    const [got, want] = [tf.quantizedMatMul(x, q), tf.tidy(() => tf.matMul(x, q.dequantize()))];
    close(await got.data(), await want.data(), 1e-4, 1e-4, 'quantizedMatMul 1x512x1024 vs its dequantized weight');
    tf.dispose([w, x, got, want]);
    q.dispose();
    // The count is fixed once the engine runs; a bad count is an Error either way.
    const threads = tf.getThreadsCount();
    assert(Number.isInteger(threads) && threads >= 1, `getThreadsCount: ${threads}`);
    tf.setThreadsCount(threads);
    throwsWith(() => tf.setThreadsCount(threads + 1), ['setThreadsCount', 'already started', 'before tf.ready()'], 'setThreadsCount after start');
    for (const bad of [0, 1.5, -1, '2', 65]) throwsWith(() => tf.setThreadsCount(bad), ['setThreadsCount', 'integer from 1 to 64'], `setThreadsCount(${bad})`);
  },

  async 'a variable read by repeated products gives what a plain tensor gives, before and after a write (the CPU backend keeps it packed)'(tf) {
    const packed = () => tf.memory().numBytesInPackedWeights ?? 0;
    const cpu = tf.getBackend() === 'cpu';
    const start = packed();
    const wv = seeded(600 * 300, 21);
    const init = tf.tensor(wv, [600, 300]);
    const v = tf.variable(init);
    init.dispose();
    const plain = tf.tensor(wv, [600, 300]);
    const x = tf.tensor(seeded(130 * 600, 22), [130, 600]);
    const product = async (w) => { const y = tf.matMul(x, w); const d = await y.data(); y.dispose(); return d; };
    const want = await product(plain);
    for (let i = 0; i < 3; i++) close(await product(v), want, 0, 0, `product ${i} of the variable`);
    // The pack is made on the second product (then reused), beside the weight.
    assert(cpu ? packed() - start >= 600 * 300 * 4 : packed() === 0, `packed bytes after three products: ${packed() - start}`);
    const other = tf.tensor(seeded(600 * 300, 23), [600, 300]);
    v.assign(other);
    assert(packed() === start, `a write drops the pack: ${packed() - start} bytes left`);
    const want2 = await product(other);
    for (let i = 0; i < 3; i++) close(await product(v), want2, 0, 0, `product ${i} after assign`);
    v.dispose();
    assert(packed() === start, `the pack is freed with its variable: ${packed() - start} bytes left`);
    // Off, nothing is packed (and the values are the same).
    tf.setCpuWeightPacking(false);
    try {
      assert(tf.getCpuWeightPacking() === false, 'getCpuWeightPacking after turning it off');
      const u = tf.variable(plain);
      for (let i = 0; i < 3; i++) close(await product(u), want, 0, 0, `product ${i} with packing off`);
      assert(packed() === start, `packing off still packed ${packed() - start} bytes`);
      u.dispose();
    } finally {
      tf.setCpuWeightPacking(true);
    }
    throwsWith(() => tf.setCpuWeightPacking('no'), ['setCpuWeightPacking', 'true or false'], 'setCpuWeightPacking of a string');
    tf.dispose([plain, x, other]);
  },

  async 'bad input is a clear Error and the engine keeps working'(tf) {
    const a = tf.tensor([[1, 2, 3], [4, 5, 6]]);
(() => a.add(tf.tensor([1, 2, 3, 4])), ['add', '[2, 3]', '[4]'], 'broadcast mismatch');
(() => a.matMul(a), ['matmul', '[2, 3]'], 'matmul mismatch');
(() => tf.tensor([1, 2, 3], [2, 2]), ['tensor', '[2,2]'], 'values vs shape');
(() => a.sum(5), ['sum', 'axis 5'], 'axis out of range');
(() => tf.layers.dense({ units: 3, activation: 'nope' }), ['activation', 'nope'], 'unknown activation');
(() => tf.sequential().compile({ optimizer: 'adam', loss: 'nope' }), ['loss', 'nope'], 'unknown loss');
(() => tf.sequential().compile({ optimizer: 'nope', loss: 'mse' }), ['optimizer', 'nope'], 'unknown optimizer');
(() => tf.tensor([1, 2]).conv2d(tf.ones([3, 3, 1, 1]), 1, 'same'), ['conv2d'], 'conv2d of a vector');
(() => tf.ones([1, 4, 4, 1], 'int32').conv2d(tf.ones([3, 3, 1, 1]), 1, 'same'), ['conv2d', 'float32', 'int32'], 'conv2d of int32 (wrong dtype)');
(() => tf.variable(tf.ones([2], 'int32')).assign(tf.ones([2])), ['assign', 'int32'], 'assign of another dtype');
(() => tf.sequential().add(tf.layers.dense({ units: 2 })), ['inputShape'], 'first layer without an input shape');
    // paddings near 2^31 used to wrap the padded size on wasm32 (a 1x1 maxPool answer, a wrong conv error)
    const img = tf.zeros([1, 4, 4, 1]);
(() => tf.maxPool(img, 2, 1, 2 ** 31 - 1), ['max_pool', '2^32'], 'maxPool padding 2^31 - 1');
(() => tf.conv2d(img, tf.zeros([3, 3, 1, 1]), 1, 2 ** 31 - 1), ['conv2d', '2^32'], 'conv2d padding 2^31 - 1');
    if (tf.getBackend() === 'webgpu') {
      let err;
      try { a.dataSync(); } catch (e) { err = e; }
      assert(err instanceof tf.SyncReadbackError && err.message.includes('await t.data()'), `dataSync on WebGPU: ${err}`);
    } else {
      close(a.dataSync(), [1, 2, 3, 4, 5, 6], 0, 0, 'dataSync on CPU');
    }
    close(await a.add(a).data(), [2, 4, 6, 8, 10, 12], 0, 0, 'still working');
  },

  async 'non-strings where a string is taken, and prototype names, are clear Errors: no trap, the engine keeps working'(tf) {
    // Found by an outside check: these trapped the module (wasm-bindgen reads a string argument's
    // length and characters) or looked names up through Object.prototype.
    const bad = [7, true, {}, 10n, Symbol('s'), NaN, { toString() { return 'float32'; } }, { length: -1 }, { length: 2 ** 30 }, ['same']];
    const x = tf.tensor([1.5, -2], [2]);
    const img = tf.zeros([1, 4, 4, 1]), k = tf.zeros([3, 3, 1, 1]);
    const calls = {
      cast: [(v) => tf.cast(x, v), 'dtype'],
      zeros: [(v) => tf.zeros([2], v), 'dtype'],
      ones: [(v) => tf.ones([2], v), 'dtype'],
      fill: [(v) => tf.fill([2], 1, v), 'dtype'],
      randomNormal: [(v) => tf.randomNormal([2], 0, 1, v), 'dtype'],
      randomUniform: [(v) => tf.randomUniform([2], 0, 1, v), 'dtype'],
      variable: [(v) => tf.variable(x, true, undefined, v), 'dtype'],
      // the ops take an amount as padding too (7 is fine there): one past 2^32 must not wrap to 1
      conv2d: [(v) => tf.conv2d(img, k, 1, v === 7 ? 2 ** 32 + 1 : v), 'padding'],
      depthwiseConv2d: [(v) => tf.depthwiseConv2d(img, k, 1, v === 7 ? 1.5 : v), 'padding'],
      conv2dTranspose: [(v) => tf.conv2dTranspose(img, k, [1, 4, 4, 1], 1, v === 7 ? -1 : v), 'padding'],
      maxPool: [(v) => tf.maxPool(img, 2, 2, v === 7 ? [[0, 0], [1, 1], [1, 1], [0, 0]] : v), 'padding'],
      avgPool: [(v) => tf.avgPool(img, 2, 2, v === 7 ? 2 ** 31 : v), 'padding'],
      'layers.conv2d': [(v) => tf.layers.conv2d({ filters: 1, kernelSize: 3, padding: v }), 'padding'],
      'layers.maxPooling2d': [(v) => tf.layers.maxPooling2d({ padding: v }), 'padding'],
    };
    let count = 0;
    for (const [name, [f, what]] of Object.entries(calls)) {
      for (const v of bad) {
        let err;
        try { f(v); } catch (e) { err = e; }
        const shown = typeof v === 'symbol' ? 'a symbol' : typeof v === 'bigint' ? `${v}n` : JSON.stringify(v);
        assert(err instanceof Error && !(err instanceof WebAssembly.RuntimeError), `${name} with ${shown}: ${err ? `${err.constructor.name}: ${err.message}` : 'accepted'}`);
        assert(err.message.includes(what), `${name} with ${shown}: "${err.message}" does not say which argument (${what})`);
        count++;
      }
    }
    assert(count === Object.keys(calls).length * bad.length, 'every bad call was made');
    // Integers past 2^32 (which the wasm border wraps to k), NaN and fractions: Errors naming the op.
    const m2 = tf.tensor([[1, 2], [3, 4]]);
    const wrapped = {
      sum: () => tf.sum(m2, 2 ** 32 + 1), argMax: () => tf.argMax(m2, 2 ** 32), softmax: () => tf.softmax(m2, NaN),
      concat: () => tf.concat([m2, m2], 1.5), stack: () => tf.stack([m2, m2], 2 ** 32), gather: () => tf.gather(m2, tf.tensor([0], [1], 'int32'), 2 ** 32 + 1),
      oneHot: () => tf.oneHot(tf.tensor([0], [1], 'int32'), 2 ** 32 + 2), conv2d: () => tf.conv2d(img, k, 2 ** 32 + 1, 'same'),
      maxPool: () => tf.maxPool(img, 2 ** 32 + 2, 1, 'valid'), slice: () => tf.slice(m2, [0, 0], [1, 2 ** 32 + 1]), transpose: () => tf.transpose(m2, [2 ** 32, 0]),
    };
    for (const [name, f] of Object.entries(wrapped)) throwsWith(f, [name, 'integer'], `${name} with a wrapped integer`);
    m2.dispose();
    // Hangs, runaway allocations, stack overflows and use after dispose: Errors instead.
(() => tf.tensor4d([[[1]]], [2147483648]), ['tensor', 'elements'], 'a shape of 2^31 elements filled from one value');
    let deep = [1];
    for (let i = 0; i < 10000; i++) deep = [deep];
(() => tf.tensor(deep), ['tensor', 'nested'], 'arrays nested 10^4 deep');
    const cyclic = [tf.tensor([1])];
    cyclic.push(cyclic);
    tf.dispose(cyclic);
    assert(cyclic[0].isDisposed, 'a tensor in a cyclic container is disposed');
(() => tf.tidy(null), ['tidy', 'function'], 'tidy(null)');
    const opt = tf.train.adam(0.1);
    opt.dispose();
    const w = tf.variable(tf.tensor([1]));
(() => opt.minimize(() => w.square().sum()), ['optimizer', 'dispose'], 'an optimizer used after dispose');
    w.dispose();
    const small = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });
(() => small.predict(tf.ones([3, 2]), { batchSize: 0 }), ['predict', 'batchSize'], 'predict with batchSize 0');
    small.dispose();
    await assertRejects(() => tf.setBackend(7), ['setBackend', 'string'], 'setBackend(7)');
    for (const key of ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__']) {
  (() => tf.layers.dense({ units: 2, activation: key }), ['activation', key], `activation '${key}'`);
      const topology = { modelTopology: { class_name: 'Sequential', config: { name: 's', layers: [{ class_name: key, config: { name: 'l' } }] } } };
      await assertRejects(() => tf.loadLayersModel(tf.io.fromMemory(topology)), ['unknown layer'], `layer class '${key}'`);
    }
    const m = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });
(() => m.compile({ optimizer: 5, loss: 'meanSquaredError' }), ['compile', 'optimizer', '5'], 'compile({ optimizer: 5 })');
    m.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    await m.fit(tf.ones([4, 2]), tf.ones([4, 1]), { epochs: 1 });
    m.dispose();
    close(await tf.add(x, x).data(), [3, -4], 0, 0, 'the engine still computes');
    tf.dispose([x, img, k]);
  },

  async 'variables survive tidy: a model built lazily inside predict keeps its weights'(tf) {
    const m = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] })] });
    const x = tf.ones([1, 3]);
    const first = await m.predict(x).data();
    close(await m.predict(x).data(), first, 0, 0, 'second predict');
    const v = tf.tidy(() => tf.variable(tf.zeros([2])));
    assert(!v.isDisposed, 'a variable made inside tidy is kept');
    m.dispose();
    v.dispose();
  },

  async 'gradients: grad, grads, valueAndGrads, gradients of gradients'(tf, ref) {
    const g = tf.grad((x) => x.square().sum());
    close(await g(tf.tensor([1, -2, 3])).data(), [2, -4, 6]);
    const [da, db] = tf.grads((a, b) => a.mul(b).sum())([tf.tensor([1, 2]), tf.tensor([3, 4])]);
    close(await da.data(), [3, 4]);
    close(await db.data(), [1, 2]);
    const { value, grads } = tf.valueAndGrads((x) => x.exp().sum())([tf.tensor([0, 1])]);
    close(await value.data(), [1 + Math.E]);
    close(await grads[0].data(), [1, Math.E]);
    // Gradients of gradients (the inner backward pass is recorded): against TF.js where it
    // answers, else against central differences of the (first-order) function.
    close(await tf.grad(tf.grad((x) => x.mul(x).mul(x)))(tf.tensor([2, 3])).data(), await ref.grad(ref.grad((x) => x.mul(x).mul(x)))(ref.tensor([2, 3])).data(), 1e-6, 1e-6, 'd2 x^3 vs TF.js');
    close(await tf.grad(tf.grad(tf.grad((x) => x.sin().sum())))(tf.tensor([0.3, -1.2])).data(), [-Math.cos(0.3), -Math.cos(-1.2)], 1e-3, 1e-5, 'd3 sin');
    const differences = async (f, base, shape) => {
      const out = [];
      for (let i = 0; i < base.length; i++) {
        const at = async (d) => (await tf.tidy(() => f(tf.tensor(base.map((v, j) => (j === i ? v + d : v)), shape))).data())[0];
        out.push(((await at(1e-2)) - (await at(-1e-2))) / 2e-2);
      }
      return out;
    };
    // TF.js 4.22 cannot: its softmax gradient is not recorded.
    const w = [0.5, -1, 2, 0.25];
    const softmaxCurvature = (x) => tf.grad((y) => tf.softmax(y).mul(tf.tensor([w, w])).sum())(x).square().sum();
    const logits = [0.1, -0.4, 1.3, 0.2, 2, 0.5, -1, 0];
    close(await tf.grad(softmaxCurvature)(tf.tensor(logits, [2, 4])).data(), await differences(softmaxCurvature, logits, [2, 4]), 1e-2, 1e-3, 'softmax second order');
    // A gradient penalty: the weights' gradient of |d D(x) / dx|^2 (WGAN-GP's term). TF.js 4.22
    // answers this one wrongly (its values differ from the differences by up to 0.6).
    const x0 = tf.tensor([[0.3, -0.7, 1.1], [0.9, 0.2, -0.5]]);
    const penalty = (k) => tf.grad((xx) => tf.tanh(tf.matMul(xx, k)).sum())(x0).square().sum();
    const k0 = [0.2, -0.4, 0.7, 0.1, -0.3, 0.5];
    close(await tf.grad(penalty)(tf.tensor(k0, [3, 2])).data(), await differences(penalty, k0, [3, 2]), 1e-2, 1e-3, 'gradient penalty');
    x0.dispose();
    // Through tf.layers and an optimizer: minimize (like variableGrads) differentiates a loss with
    // a tf.grad inside, so the penalty on the input gradient trains.
    const critic = tf.sequential({ layers: [tf.layers.dense({ units: 4, inputShape: [3], activation: 'tanh' }), tf.layers.dense({ units: 1 })] });
    const xs = tf.tensor([[0.3, -0.7, 1.1], [0.9, 0.2, -0.5]]);
    const gp = () => tf.grad((xx) => critic.apply(xx).sum())(xs).square().sum();
    const first = tf.tidy(gp);
    const start = (await first.data())[0];
    first.dispose();
    const sgd = tf.train.sgd(0.1);
    for (let i = 0; i < 20; i++) sgd.minimize(gp);
    const last = tf.tidy(gp);
    const end = (await last.data())[0];
    assert(end < 0.2 * start, `the gradient penalty went ${start} -> ${end} in 20 SGD steps`);
    [last, xs].forEach((t) => t.dispose());
    critic.dispose();
    sgd.dispose();
    // A rule run by a fused kernel is refused by name, not counted as a constant; grad works after.
(() => tf.grad(tf.grad((x) => tf.maxPool(x, 2, 1, 'valid').square().sum()))(tf.ones([1, 3, 3, 1])), ['max_pool', 'gradient of a gradient'], 'second order through maxPool');
    close(await g(tf.tensor([3])).data(), [6]);
  },

  async 'variables and optimizers minimize'(tf) {
    const w = tf.variable(tf.scalar(5));
    const opt = tf.train.sgd(0.1);
    for (let i = 0; i < 50; i++) opt.minimize(() => w.sub(2).square(), false, [w]);
    close(await w.data(), [2], 1e-3, 1e-3, 'sgd converges to 2');
    w.assign(tf.scalar(-1));
    close(await w.data(), [-1], 0, 0, 'assign');
    const v = tf.variable(tf.tensor([1, -2]));
    const adam = tf.train.adam(0.1);
    const cost = adam.minimize(() => v.square().sum(), true, [v]);
    close(await cost.data(), [5]);
    close(await v.data(), [0.9, -1.9], 1e-4, 1e-5, 'first Adam step moves by lr');
  },

  async 'model.fit learns XOR, memory flat per epoch, history and callbacks'(tf) {
    const model = tf.sequential();
    model.add(tf.layers.dense({ units: 8, activation: 'tanh', inputShape: [2] }));
    model.add(tf.layers.dense({ units: 1, activation: 'sigmoid' }));
    model.compile({ optimizer: tf.train.adam(0.05), loss: 'binaryCrossentropy', metrics: ['accuracy'] });
    const x = tf.tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
    const y = tf.tensor([[0], [1], [1], [0]]);
    const counts = [];
    let batches = 0;
    const h = await model.fit(x, y, {
      epochs: 150, batchSize: 4,
      callbacks: { onEpochEnd: () => { counts.push(owned(tf.memory()).tensors); }, onBatchEnd: (b, logs) => { batches++; assert(typeof logs.loss === 'number', 'batch logs'); } },
    });
    assert(h.history.loss.length === 150 && h.epoch.length === 150, 'history per epoch');
    assert(h.history.loss.at(-1) < 0.05, `XOR loss ${h.history.loss.at(-1)}`);
    assert(h.history.acc.at(-1) === 1, `XOR accuracy ${h.history.acc.at(-1)}`);
    assert(batches === 150, 'onBatchEnd per batch');
    assert(counts.every((c) => c === counts[0]), `numTensors per epoch: ${[...new Set(counts)]}`);
    const p = await model.predict(x).data();
    assert(p[0] < 0.5 && p[1] > 0.5 && p[2] > 0.5 && p[3] < 0.5, `predictions ${p}`);
    const [loss, acc] = model.evaluate(x, y);
    assert((await acc.data())[0] === 1 && (await loss.data())[0] < 0.05, 'evaluate');
    model.dispose();
  },

  async 'conv net fit on synthetic images, summary, early stopping, validation'(tf) {
    const n = 48;
    const data = new Float32Array(n * 8 * 8);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const vertical = i % 2;
      labels[i] = vertical;
      const at = 1 + (i * 5) % 6;
      for (let r = 0; r < 8; r++) for (let c = 0; c < 8; c++) data[(i * 8 + r) * 8 + c] = (vertical ? c === at : r === at) ? 1 : 0;
    }
    const x = tf.tensor(data, [n, 8, 8, 1]);
    const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 2);
    const model = tf.sequential({ layers: [
      tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', padding: 'same', inputShape: [8, 8, 1] }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 2, activation: 'softmax' }),
    ] });
    model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const lines = [];
    model.summary(undefined, undefined, (l) => lines.push(l));
    assert(lines[1].startsWith('Layer (type)') && lines.some((l) => /conv2d_Conv2D\d+ \(Conv2D\)\s+\[null,8,8,4\]\s+40/.test(l)), `summary:\n${lines.join('\n')}`);
    assert(lines.includes('Total params: 170'), `total params:\n${lines.join('\n')}`);
    model.optimizer.learningRate = 0.05;
    const h = await model.fit(x, y, { epochs: 30, batchSize: 16, validationSplit: 0.25, callbacks: tf.callbacks.earlyStopping({ monitor: 'val_acc', patience: 100 }) });
    assert('val_loss' in h.history && 'val_acc' in h.history, 'validation logs');
    assert(h.history.acc.at(-1) >= 0.95, `conv net training accuracy ${h.history.acc.at(-1)}`);
    const stop = await model.fit(x, y, { epochs: 50, batchSize: 16, validationData: [x, y], callbacks: tf.callbacks.earlyStopping({ monitor: 'loss', minDelta: 10 }) });
    assert(stop.epoch.length === 2, `early stopping after patience 0 + 1 epoch, ran ${stop.epoch.length}`);
    // TF.js stops once `patience` epochs in a row did not improve: patience 1 also stops after 2.
    const stop1 = await model.fit(x, y, { epochs: 50, batchSize: 16, callbacks: tf.callbacks.earlyStopping({ monitor: 'loss', minDelta: 10, patience: 1 }) });
    assert(stop1.epoch.length === 2, `early stopping with patience 1 ran ${stop1.epoch.length} epochs (TF.js: 2)`);
    await assertRejects(() => model.fit(x, y, { epochs: 1, sampleWeight: tf.ones([x.shape[0]]) }), ['fit', 'sampleWeight'], 'sampleWeight');
    await assertRejects(() => model.fit(x, y, { epochs: 1, stepsPerEpoch: 3 }), ['fit', 'stepsPerEpoch'], 'an option fit would ignore');
    model.dispose();
  },

  async 'differential vs TF.js: fit with classWeight (one-hot and binary labels) trains as TF.js does'(tf, ref) {
    const n = 8;
    const xs = seeded(n * 4, 81);
    for (const [units, activation, loss, labels, classWeight] of [
      [3, 'softmax', 'categoricalCrossentropy', (t) => t.oneHot(t.tensor1d([0, 1, 2, 1, 1, 0, 2, 1], 'int32'), 3), { 0: 1, 1: 3, 2: 0.5 }],
      [1, 'sigmoid', 'binaryCrossentropy', (t) => t.tensor([1, 0, 0, 1, 1, 1, 0, 1], [n, 1]), { 0: 2.5, 1: 0.7 }],
      [2, 'linear', 'meanSquaredError', (t) => t.oneHot(t.tensor1d([0, 1, 1, 1, 0, 1, 0, 0], 'int32'), 2, 1, 0, 'float32'), { 0: 0.2, 1: 4 }],
    ]) {
      const run = async (t) => {
        const m = t.sequential({ layers: [t.layers.dense({ units, activation, inputShape: [4], kernelInitializer: t.initializers.glorotUniform({ seed: 5 }) })] });
        m.setWeights([t.tensor(seeded(4 * units, 82), [4, units]), t.tensor(seeded(units, 83), [units])]);
        m.compile({ optimizer: t.train.sgd(0.5), loss });
        return [await m.fit(t.tensor(xs, [n, 4]), labels(t), { epochs: 3, batchSize: 4, shuffle: false, classWeight }), m];
      };
      await trainsAsTfjs(tf, ref, run, `${loss} with classWeight`, [1e-4, 1e-6]);
    }
    const m = tf.sequential({ layers: [tf.layers.dense({ units: 2, activation: 'softmax', inputShape: [4] })] });
    m.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });
    const [x, y] = [tf.tensor(xs, [n, 4]), tf.oneHot(tf.tensor1d([0, 1, 1, 1, 0, 1, 0, 0], 'int32'), 2)];
    await assertRejects(() => m.fit(x, y, { classWeight: { 0: 1 } }), ['fit', 'classWeight', 'class 1'], 'a class without a weight');
    m.compile({ optimizer: 'sgd', loss: (a, b) => tf.losses.meanSquaredError(a, b) });
    await assertRejects(() => m.fit(x, y, { classWeight: { 0: 1, 1: 2 } }), ['fit', 'classWeight', 'built-in'], 'classWeight with a custom loss');
    tf.dispose([x, y]);
    m.dispose();
  },

  async 'differential vs TF.js: ops'(tf, ref) {
    const x = seeded(24, 1), w = seeded(12, 2);
    const pairs = [
      [(t) => t.tensor(x, [2, 3, 4]).relu().sum(-1), 'relu sum'],
      [(t) => t.tensor(x, [6, 4]).matMul(t.tensor(w, [4, 3])).softmax(), 'matmul softmax'],
      [(t) => t.tensor(x, [2, 3, 4]).transpose([2, 0, 1]).exp().mean(1), 'transpose exp mean'],
      [(t) => t.logSoftmax(t.tensor(x, [4, 6])), 'logSoftmax'],
      [(t) => t.tensor(x, [2, 12]).sigmoid().mul(t.tensor(x.slice(0, 12), [12])).tanh(), 'sigmoid mul tanh'],
      [(t) => t.conv2d(t.tensor(x, [1, 4, 6, 1]), t.tensor(w.slice(0, 9), [3, 3, 1, 1]), 1, 'same'), 'conv2d same'],
      [(t) => t.maxPool(t.tensor(x, [1, 4, 6, 1]), 2, 2, 'valid'), 'maxPool'],
      [(t) => t.avgPool(t.tensor(x, [1, 4, 6, 1]), 3, 1, 'same'), 'avgPool same'],
      [(t) => t.tensor(x, [4, 6]).clipByValue(-0.3, 0.2).elu().square(), 'clip elu square'],
      [(t) => t.tensor(x, [4, 6]).max(0), 'max'],
      // the ops added by the contributor's guide (docs/CONTRIBUTING.md)
      [(t) => t.logSigmoid(t.tensor(x, [4, 6]).mul(20)), 'logSigmoid'],
      [(t) => t.mod(t.tensor(x, [4, 6]).mul(7), t.tensor(w.slice(0, 6), [6]).add(0.25)), 'mod'],
      [(t) => t.mod(t.tensor([7, -7, 7, -7, 0], [5], 'int32'), t.tensor([3, 3, -3, -3, 2], [5], 'int32')), 'int mod'],
      // padding as amounts, NCHW, rank-3 inputs, 1-D dot, split with a -1 size
      [(t) => t.conv2d(t.tensor(x, [1, 4, 6, 1]), t.tensor(w.slice(0, 6), [3, 2, 1, 1]), [2, 1], [[0, 0], [2, 1], [0, 3], [0, 0]]), 'conv2d explicit padding'],
      [(t) => t.conv2d(t.tensor(x, [1, 2, 3, 4]), t.tensor(w.slice(0, 8), [2, 2, 2, 1]), 1, 1, 'NCHW'), 'conv2d NCHW, padding 1'],
      [(t) => t.conv2d(t.tensor(x, [2, 3, 4]), t.tensor(w.slice(0, 8), [2, 2, 2, 1]), 1, [[0, 0], [0, 0], [1, 0], [0, 1]], 'NCHW'), 'conv2d rank-3 NCHW explicit'],
      [(t) => t.depthwiseConv2d(t.tensor(x, [4, 3, 2]), t.tensor(w.slice(0, 8), [2, 2, 2, 1]), 1, [[0, 0], [1, 1], [0, 2], [0, 0]]), 'depthwiseConv2d rank 3, explicit'],
      [(t) => t.maxPool(t.tensor(x.map((v) => v - 1), [1, 4, 6, 1]), 3, 2, 1), 'maxPool padding 1'],
      [(t) => t.avgPool(t.tensor(x, [4, 6, 1]), 2, 1, 1), 'avgPool rank 3, padding 1'],
      [(t) => t.stack([t.dot(t.tensor(x.slice(0, 4)), t.tensor(w.slice(0, 4))), t.dot(t.tensor(x.slice(0, 4)), t.tensor(w.slice(0, 8), [4, 2])).sum(), t.dot(t.tensor(w.slice(0, 8), [2, 4]), t.tensor(x.slice(0, 4))).sum()]), 'dot of 1-D operands'],
      [(t) => t.concat(t.split(t.tensor(x, [4, 6]), [2, -1, 1], 1).map((p, i) => p.mul(i + 1)), 1), 'split with a -1 size'],
      // NaN propagates as in TF.js
      [(t) => t.stack([t.relu(t.tensor([NaN, -1, 2])), t.relu6(t.tensor([NaN, -1, 7])), t.sigmoid(t.tensor([NaN, -1, 2])), t.clipByValue(t.tensor([NaN, -1, 2]), -0.5, 0.5)]), 'relu, relu6, sigmoid, clip of NaN'],
      [(t) => t.stack([t.maximum(t.tensor([NaN, -1, 2]), 0), t.minimum(t.tensor([NaN, -1, 2]), 0)]), 'maximum, minimum with NaN'],
      // The CPU's vectorised transcendental loops clamp their argument (the clamp must keep a
      // NaN, in the relaxed-SIMD build too); GPU math may assume NaN-free inputs.
      [(t) => t.stack([t.exp(t.tensor([NaN, -1, 80])), t.tanh(t.tensor([NaN, -1, 20])), t.elu(t.tensor([NaN, -1, 2])), t.softplus(t.tensor([NaN, -1, 2]))]), 'exp, tanh, elu, softplus of NaN'],
      [(t) => t.stack([t.max(t.tensor([[NaN, -1, 2], [1, 5, 3]]), 1), t.min(t.tensor([[NaN, -1, 2], [1, 5, 3]]), 1)]), 'max, min over a NaN'],
      // added for transformers: TF.js has neither, so its side is the formula
      [(t) => (t === tf ? tf.silu(tf.tensor(x, [4, 6]).mul(6)) : t.tensor(x, [4, 6]).mul(6).mul(t.sigmoid(t.tensor(x, [4, 6]).mul(6)))), 'silu'],
      [(t) => (t === tf ? tf.geluTanh(tf.tensor(x, [4, 6]).mul(6)) : t.tidy(() => { const v = t.tensor(x, [4, 6]).mul(6); return v.mul(0.5).mul(t.tanh(v.add(v.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI))).add(1)); })), 'geluTanh'],
    ];
    for (const [f, name] of pairs) {
      const ours = await tf.tidy(() => f(tf)).data();
      const theirs = await ref.tidy(() => f(ref)).data();
      close(ours, theirs, 1e-4, 1e-5, `TF.js differential: ${name}`);
    }
  },

  async 'differential vs TF.js: the dtype and values of int32 and bool ops'(tf, ref) {
    const values = { int32: [[3, -7, 0, 5], [2, 3, 1, -2]], bool: [[1, 0, 1, 0], [1, 1, 0, 0]] };
    const cases = [];
    for (const dt of ['int32', 'bool']) {
      const a = (t) => t.tensor(values[dt][0], [4], dt), b = (t) => t.tensor(values[dt][1], [4], dt);
      // add and sub of bools are left out: TF.js stores 2 and 255 in its bool tensors there
      for (const op of ['mul', 'div', 'floorDiv', 'pow', 'maximum', 'minimum', 'mod', 'squaredDifference', ...(dt === 'int32' ? ['add', 'sub'] : [])]) cases.push([`${op}(${dt}, ${dt})`, (t) => t[op](a(t), b(t))]);
      for (const op of ['abs', 'neg', 'square', 'relu', 'relu6', 'sign', 'reciprocal', 'round', 'sum', 'max', 'min', 'prod', 'argMax']) cases.push([`${op}(${dt})`, (t) => t[op](a(t))]);
      cases.push([`clipByValue(${dt})`, (t) => t.clipByValue(a(t), -1.5, 2)]);
      cases.push([`${dt} * a number`, (t) => t.mul(a(t), 2)]);
      cases.push([`${dt} + float32`, (t) => t.add(a(t), t.tensor([0.5, 1, 1.5, 2]))]);
    }
    cases.push(['oneHot', (t) => t.oneHot(t.tensor1d([0, 2], 'int32'), 3)]);
    cases.push(['oneHot with on and off values', (t) => t.oneHot(t.tensor1d([1, 0], 'int32'), 2, 5, -1)]);
    cases.push(['oneHot float32', (t) => t.oneHot(t.tensor1d([1, 0], 'int32'), 2, 1, 0, 'float32')]);
    for (const [name, f] of cases) {
      const [ours, theirs] = [tf.tidy(() => f(tf)), ref.tidy(() => f(ref))];
      assert(ours.dtype === theirs.dtype, `${name}: dtype ${ours.dtype}, TF.js ${theirs.dtype}`);
      close(await ours.data(), await theirs.data(), 0, 0, `${name} vs TF.js`);
      tf.dispose(ours); ref.dispose(theirs);
    }
  },

  async 'differential vs TF.js: trigonometric and hyperbolic ops, atan2, step, isNaN/isInf/isFinite, all/any, tile, range, linspace, eye, reverse, cumsum: values, dtypes and gradients'(tf, ref) {
    const x = seeded(12, 91);
    const domains = { asin: 0.9, acos: 0.9, atanh: 0.9, acosh: null, log1p: null };
    const input = (t, op) => (op === 'acosh' ? t.tensor(x.map((v) => 1.2 + Math.abs(v) * 2), [3, 4]) : op === 'log1p' ? t.tensor(x.map((v) => v * 0.9 + 1e-4), [3, 4]) : t.tensor(x.map((v) => v * (domains[op] ?? 1.3)), [3, 4]));
    for (const op of ['tan', 'asin', 'acos', 'atan', 'sinh', 'cosh', 'asinh', 'acosh', 'atanh', 'log1p', 'expm1']) {
      // GPUs build asin, acos and atan from atan2 and tan from sin / cos: WGSL promises them to
      // about 1e-3 (Firefox's asin near +-0.9 is 3e-4 off)
      const atol = ['tan', 'asin', 'acos', 'atan'].includes(op) ? 1e-3 : 1e-4;
      close(await tf.tidy(() => tf[op](input(tf, op))).data(), await ref.tidy(() => ref[op](input(ref, op))).data(), 2e-4, atol, `${op} vs TF.js`);
      close(await tf.tidy(() => tf.grad((v) => tf[op](v).sum())(input(tf, op))).data(), await ref.tidy(() => ref.grad((v) => ref[op](v).sum())(input(ref, op))).data(), 1e-3, 1e-4, `${op} gradient vs TF.js`);
    }
    const a = (t) => t.tensor(x, [3, 4]), b = (t) => t.tensor(seeded(12, 92), [3, 4]);
    const pairs = [
      [(t) => t.atan2(a(t), b(t)), 'atan2'],
      [(t) => t.grads((p, q) => t.atan2(p, q).sum())([a(t), b(t)])[0], 'atan2 gradient of a'],
      [(t) => t.grads((p, q) => t.atan2(p, q).sum())([a(t), b(t)])[1], 'atan2 gradient of b'],
      [(t) => t.step(t.tensor([-1, 0, 2, NaN]), 0.3), 'step'],
      [(t) => t.step(t.tensor([-1, 0, 2], [3], 'int32')), 'step of int32'],
      [(t) => t.isNaN(t.tensor([NaN, 1, Infinity])), 'isNaN'],
      [(t) => t.isInf(t.tensor([NaN, -Infinity, Infinity, 2])), 'isInf'],
      [(t) => t.isFinite(t.tensor([NaN, -Infinity, 3, 0])), 'isFinite'],
      [(t) => t.logicalXor(t.tensor([1, 1, 0, 0], [4], 'bool'), t.tensor([1, 0, 1, 0], [4], 'bool')), 'logicalXor'],
      [(t) => t.all(t.tensor([[1, 1], [0, 1]], [2, 2], 'bool'), 1), 'all over rows'],
      [(t) => t.any(t.tensor([[0, 0], [0, 1]], [2, 2], 'bool'), 0, true), 'any over columns, kept'],
      [(t) => t.all(t.tensor([1, 1, 1], [3], 'bool')), 'all'],
      [(t) => t.tile(a(t), [2, 3]), 'tile'],
      [(t) => t.tile(t.tensor([1, 2], [2], 'int32'), [3]), 'tile of int32'],
      [(t) => t.grad((v) => t.tile(v, [2, 1]).mul(t.tensor(seeded(24, 93), [6, 4])).sum())(a(t)), 'tile gradient'],
      [(t) => t.range(0, 10, 3), 'range'],
      [(t) => t.range(5, -2, -1.5), 'range, negative step'],
      [(t) => t.range(1, 6, 2, 'int32'), 'range of int32'],
      [(t) => t.linspace(-1, 2, 7), 'linspace'],
      [(t) => t.eye(3, 4), 'eye'],
      [(t) => t.eye(2, 2, [3], 'int32'), 'eye batched, int32'],
      [(t) => t.reverse(a(t), 1), 'reverse one axis'],
      [(t) => t.reverse(a(t)), 'reverse all'],
      [(t) => t.grad((v) => t.reverse(v, 0).mul(t.tensor(seeded(12, 94), [3, 4])).sum())(a(t)), 'reverse gradient'],
      [(t) => t.cumsum(a(t), 1), 'cumsum'],
      [(t) => t.cumsum(a(t), 0, true, true), 'cumsum exclusive reversed'],
      [(t) => t.cumsum(t.tensor([1, 2, 3, 4, 5], [5], 'int32'), 0, true), 'cumsum of int32'],
      [(t) => t.grad((v) => t.cumsum(v, 1).mul(t.tensor(seeded(12, 95), [3, 4])).sum())(a(t)), 'cumsum gradient'],
    ];
    for (const [f, name] of pairs) {
      const [ours, theirs] = [tf.tidy(() => f(tf)), ref.tidy(() => f(ref))];
      assert(ours.dtype === theirs.dtype, `${name}: dtype ${ours.dtype}, TF.js ${theirs.dtype}`);
      assert(ours.shape.join() === theirs.shape.join(), `${name}: shape [${ours.shape}], TF.js [${theirs.shape}]`);
      close(await ours.data(), await theirs.data(), 2e-4, 1e-5, `${name} vs TF.js`);
      tf.dispose(ours); ref.dispose(theirs);
    }
  },

  async 'differential vs TF.js: tf.metrics, norms, addN, divNoNan, outerProduct and the rank-named aliases'(tf, ref) {
    const yTrue = (t) => t.tensor([[0, 1, 0], [1, 0, 0], [0, 0, 1], [0, 1, 0]]);
    const yPred = (t) => t.tensor([[0.1, 0.7, 0.2], [0.3, 0.6, 0.1], [0.2, 0.2, 0.6], [0.5, 0.4, 0.1]]);
    const reg = (t) => [t.tensor([[1.5, -2], [0.5, 3], [2, 0.25]]), t.tensor([[1, -1.5], [0.75, 2], [2.5, 0.5]])];
    const bin = (t) => [t.tensor([1, 0, 1, 1, 0, 1]), t.tensor([1, 0, 0, 1, 1, 1])];
    const cases = [
      ['binaryAccuracy', (t) => t.metrics.binaryAccuracy(yTrue(t), yPred(t))],
      ['categoricalAccuracy', (t) => t.metrics.categoricalAccuracy(yTrue(t), yPred(t))],
      ['sparseCategoricalAccuracy', (t) => t.metrics.sparseCategoricalAccuracy(t.tensor([[1], [1], [2], [0]]), yPred(t))],
      ['binaryCrossentropy', (t) => t.metrics.binaryCrossentropy(yTrue(t), yPred(t))],
      ['categoricalCrossentropy', (t) => t.metrics.categoricalCrossentropy(yTrue(t), yPred(t))],
      ['meanSquaredError', (t) => t.metrics.meanSquaredError(...reg(t))],
      ['MSE', (t) => t.metrics.MSE(...reg(t))],
      ['meanAbsoluteError', (t) => t.metrics.meanAbsoluteError(...reg(t))],
      ['meanAbsolutePercentageError', (t) => t.metrics.meanAbsolutePercentageError(...reg(t))],
      ['cosineProximity', (t) => t.metrics.cosineProximity(...reg(t))],
      ['precision', (t) => t.metrics.precision(...bin(t))],
      ['recall', (t) => t.metrics.recall(...bin(t))],
      ['r2Score', (t) => t.metrics.r2Score(...reg(t))],
      ['norm euclidean', (t) => t.norm(reg(t)[0])],
      ['norm 1 over an axis', (t) => t.norm(reg(t)[0], 1, 0)],
      ['norm inf, kept', (t) => t.norm(reg(t)[0], Infinity, 1, true)],
      ['matrix norm 1', (t) => t.norm(reg(t)[0], 1, [0, 1])],
      ['matrix norm inf', (t) => t.norm(reg(t)[0], Infinity, [0, 1])],
      ['matrix norm fro', (t) => t.norm(reg(t)[0], 'fro', [0, 1])],
      ['euclideanNorm', (t) => t.euclideanNorm(reg(t)[0], 0)],
      ['norm gradient', (t) => t.grad((v) => t.norm(v))(reg(t)[0])],
      ['addN', (t) => t.addN([...reg(t), reg(t)[0]])],
      ['divNoNan', (t) => t.divNoNan(t.tensor([1, 0, -2, NaN]), t.tensor([2, 0, 0, 0]))],
      ['outerProduct', (t) => t.outerProduct(t.tensor([1, 2, 3]), t.tensor([4, -5]))],
      ['concat1d', (t) => t.concat1d([t.tensor1d([1, 2]), t.tensor1d([3])])],
      ['pad1d', (t) => t.pad1d(t.tensor1d([1, 2]), [1, 2], 7)],
      ['slice2d', (t) => t.slice2d(reg(t)[0], [1, 0], [2, 1])],
      ['reverse2d', (t) => t.reverse2d(reg(t)[0], 0)],
      ['tensor5d', (t) => t.tensor5d([1, 2, 3, 4], [1, 2, 1, 2, 1])],
    ];
    await agreesWithTfjs(tf, ref, cases, [1e-4, 1e-6]);
(() => tf.norm(tf.ones([3]), 3), ['norm', 'ord 3'], 'a p-norm TF.js refuses too');
    // the metrics by name in compile, as TF.js logs them
    const m = tf.sequential({ layers: [tf.layers.dense({ units: 3, activation: 'softmax', inputShape: [2] })] });
    m.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy', metrics: ['categoricalAccuracy', 'mape'] });
    const h = await m.fit(tf.tensor(seeded(8, 96), [4, 2]), yTrue(tf), { epochs: 1 });
    assert('categoricalAccuracy' in h.history && 'mape' in h.history, `metric logs: ${Object.keys(h.history)}`);
    m.dispose();
  },

  async 'differential vs TF.js: activation, reshaping, padding, 1-D pooling and noise layers predict as TF.js, and their models load both ways'(tf, ref) {
    const img = [4, 5, 3], seq = [6, 3], flat = [5];
    const cases = [
      [flat, 'reLU', { maxValue: 0.4 }], [flat, 'reLU', {}], [flat, 'leakyReLU', { alpha: 0.1 }], [flat, 'elu', {}],
      [flat, 'thresholdedReLU', { theta: 0.2 }], [flat, 'softmax', {}], [flat, 'repeatVector', { n: 3 }],
      [seq, 'permute', { dims: [2, 1] }], [img, 'zeroPadding2d', { padding: [[1, 0], [2, 1]] }], [img, 'zeroPadding2d', { padding: 1 }],
      [img, 'cropping2D', { cropping: [[1, 0], [1, 2]] }], [img, 'upSampling2d', { size: [2, 3] }], [flat, 'rescaling', { scale: 0.5, offset: -1 }],
      [seq, 'maxPooling1d', { poolSize: 2 }], [seq, 'averagePooling1d', { poolSize: 3, strides: 2, padding: 'same' }],
      [flat, 'gaussianNoise', { stddev: 0.3 }], [flat, 'gaussianDropout', { rate: 0.2 }],
    ];
    for (const c of cases) await layerAgreesWithTfjs(tf, ref, c, 97, [1e-5, 1e-6]);
    // the noise layers act only in training: the mean of many noisy copies stays at x
    const noisy = tf.layers.gaussianNoise({ stddev: 0.5 });
    const ones = tf.ones([4000]);
    const m = await noisy.apply(ones, { training: true }).mean().data();
    assert(Math.abs(m[0] - 1) < 0.05, `GaussianNoise in training: mean ${m[0]}`);
(() => tf.layers.elu({ alpha: 2 }), ['ELU', 'alpha'], 'ELU alpha other than 1 (TF.js refuses it too)');
(() => tf.layers.upSampling2d({ interpolation: 'bilinear' }), ['UpSampling2D', 'interpolation'], 'bilinear upsampling (not yet)');
  },

  async 'differential vs TF.js: chained Tensor methods give what the ops give in TF.js'(tf, ref) {
    const m = (t) => t.tensor(seeded(12, 98), [3, 4]);
    const img = (t) => t.tensor(seeded(32, 99), [1, 4, 4, 2]);
    const calls = [
      ['asScalar', (t) => t.tensor([3]).asScalar()], ['as3D', (t) => m(t).as3D(2, 3, 2)], ['as4D', (t) => m(t).as4D(1, 2, 3, 2)], ['reshapeAs', (t) => m(t).reshapeAs(t.zeros([4, 3]))],
      ['toBool', (t) => t.tensor([0, 2, -1]).toBool()], ['broadcastTo', (t) => t.tensor([1, 2]).broadcastTo([3, 2])], ['concat', (t) => m(t).concat([m(t), m(t)], 1)],
      ['stack', (t) => m(t).stack(m(t), 1)], ['split', (t) => m(t).split([1, -1], 1)[1]], ['unstack', (t) => m(t).unstack(1)[2]], ['where', (t) => m(t).where(m(t).greater(0), t.zeros([3, 4]))],
      ['dot', (t) => m(t).dot(t.tensor([1, 2, 3, 4]))], ['norm', (t) => m(t).norm(1, 1)], ['euclideanNorm', (t) => m(t).euclideanNorm()], ['floorDiv', (t) => m(t).mul(10).floorDiv(3)],
      ['divNoNan', (t) => m(t).divNoNan(t.tensor([0, 1, 2, 0]))], ['erf', (t) => m(t).erf()], ['logSumExp', (t) => m(t).logSumExp(1, true)],
      ['logicalAnd', (t) => m(t).greater(0).logicalAnd(m(t).less(0.5))], ['logicalOr', (t) => m(t).greater(0.5).logicalOr(m(t).less(-0.5))], ['logicalNot', (t) => m(t).greater(0).logicalNot()],
      ['oneHot', (t) => t.tensor([0, 2], [2], 'int32').oneHot(3)], ['onesLike', (t) => m(t).onesLike()], ['zerosLike', (t) => t.tensor([1, 2], [2], 'int32').zerosLike()],
      ['maxPool', (t) => img(t).maxPool(2, 1, 'same')], ['avgPool', (t) => img(t).avgPool(2, 2, 'valid')],
      ['depthwiseConv2d', (t) => img(t).depthwiseConv2d(t.tensor(seeded(8, 100), [2, 2, 2, 1]), 1, 'same')],
      ['conv2dTranspose', (t) => t.tensor(seeded(16, 101), [1, 2, 2, 4]).conv2dTranspose(t.tensor(seeded(48, 102), [2, 2, 3, 4]), [1, 4, 4, 3], 2, 'same')],
      ['batchNorm', (t) => m(t).batchNorm(t.tensor([0.1, 0.2, 0.3, 0.4]), t.tensor([1, 2, 0.5, 1.5]), t.tensor([0, 1, 0, -1]), t.tensor([1, 1, 2, 2]), 0.01)],
    ];
    await agreesWithTfjs(tf, ref, calls, [1e-4, 1e-6], { prefix: 'Tensor.' });
    const v = tf.tensor([1, 2]).variable(false, 'chained');
    assert(v instanceof tf.Variable && v.trainable === false && v.name === 'chained', 'Tensor.variable');
    v.dispose();
  },

  async 'differential vs TF.js: conv1d, separableConv2d, prelu, mirrorPad, LRN, depthToSpace, space/batch moves, gatherND, cumprod, meshgrid, diag, searchSorted, the async ops and the new initializers'(tf, ref) {
    const v = (n, seed, shape) => (t) => t.tensor(seeded(n, seed), shape);
    const x4 = v(2 * 4 * 4 * 4, 110, [2, 4, 4, 4]);
    const cases = [
      ['conv1d', (t) => t.conv1d(v(2 * 7 * 3, 111, [2, 7, 3])(t), v(3 * 3 * 2, 112, [3, 3, 2])(t), 2, 'same')],
      ['conv1d dilated, valid', (t) => t.conv1d(v(2 * 9 * 3, 111, [2, 9, 3])(t), v(2 * 3 * 2, 112, [2, 3, 2])(t), 1, 'valid', 'NWC', 2)],
      ['conv1d gradient', (t) => t.grad((w) => t.conv1d(v(2 * 7 * 3, 111, [2, 7, 3])(t), w, 1, 'same').square().sum())(v(3 * 3 * 2, 112, [3, 3, 2])(t))],
      ['separableConv2d', (t) => t.separableConv2d(x4(t), v(2 * 2 * 4 * 2, 113, [2, 2, 4, 2])(t), v(8 * 3, 114, [1, 1, 8, 3])(t), 1, 'same')],
      ['prelu', (t) => t.prelu(x4(t), t.tensor([0.1, 0.2, 0.3, 0.4]))],
      ['prelu gradient', (t) => t.grads((a, b) => t.prelu(a, b).sum())([x4(t), t.tensor([0.1, 0.2, 0.3, 0.4])])[1]],
      ['mirrorPad reflect', (t) => t.mirrorPad(v(12, 115, [3, 4])(t), [[2, 1], [3, 0]], 'reflect')],
      ['mirrorPad symmetric', (t) => t.mirrorPad(v(12, 115, [3, 4])(t), [[3, 1], [0, 4]], 'symmetric')],
      ['localResponseNormalization', (t) => t.localResponseNormalization(x4(t), 1, 1.5, 0.3, 0.75)],
      ['localResponseNormalization defaults', (t) => t.localResponseNormalization(v(2 * 3 * 3 * 12, 116, [2, 3, 3, 12])(t))],
      ['depthToSpace', (t) => t.depthToSpace(x4(t), 2)],
      ['spaceToBatchND', (t) => t.spaceToBatchND(x4(t), [2, 2], [[0, 0], [1, 1]])],
      ['batchToSpaceND', (t) => t.batchToSpaceND(v(8 * 2 * 3 * 1, 117, [8, 2, 3, 1])(t), [2, 2], [[0, 1], [1, 0]])],
      ['gatherND', (t) => t.gatherND(x4(t), t.tensor([[1, 2], [0, 3], [1, 0]], [3, 2], 'int32'))],
      ['cumprod', (t) => t.cumprod(v(12, 118, [3, 4])(t), 1)],
      ['cumprod exclusive reversed', (t) => t.cumprod(v(12, 118, [3, 4])(t), 0, true, true)],
      ['meshgrid xy', (t) => t.meshgrid(t.tensor([1, 2, 3]), t.tensor([4, 5]))[0]],
      ['meshgrid ij', (t) => t.meshgrid(t.tensor([1, 2, 3]), t.tensor([4, 5]), { indexing: 'ij' })[1]],
      ['diag', (t) => t.diag(t.tensor([[1, 2], [3, 4]]))],
      ['searchSorted left', (t) => t.searchSorted(t.tensor([[1, 3, 5, 7], [2, 4, 6, 8]]), t.tensor([[0, 3, 9], [4, 4, 1]]))],
      ['upperBound', (t) => t.upperBound(t.tensor([[1, 3, 5, 7]]), t.tensor([[0, 3, 7]]))],
      ['movingAverage', (t) => t.movingAverage(t.tensor([1, 2]), t.tensor([3, 0]), 0.9, 3)],
      ['ensureShape', (t) => t.ensureShape(t.tensor([[1, 2]]), [null, 2])],
      ['pool', (t) => t.pool(x4(t), 2, 'avg', 'valid', 1, 2)],
      ['cosineWindow (hann)', (t) => (t === tf ? tf.cosineWindow(7, 0.5, 0.5) : ref.signal.hannWindow(7))],
    ];
    await agreesWithTfjs(tf, ref, cases, [1e-4, 1e-5]);
    // async ops
    const cond = [[true, false, true], [false, false, true]];
    const [w1, w2] = [await tf.whereAsync(tf.tensor(cond, [2, 3], 'bool')), await ref.whereAsync(ref.tensor(cond, [2, 3], 'bool'))];
    close(await w1.data(), await w2.data(), 0, 0, 'whereAsync'); assert(w1.shape.join() === w2.shape.join(), 'whereAsync shape');
    const [b1, b2] = [await tf.booleanMaskAsync(tf.tensor(seeded(12, 119), [3, 4]), tf.tensor([true, false, true], [3], 'bool')), await ref.booleanMaskAsync(ref.tensor(seeded(12, 119), [3, 4]), ref.tensor([true, false, true], [3], 'bool'))];
    close(await b1.data(), await b2.data(), 0, 0, 'booleanMaskAsync'); assert(b1.shape.join() === b2.shape.join(), 'booleanMaskAsync shape');
    const [[s1, i1], [s2, i2]] = [await tf.setdiff1dAsync([1, 2, 3, 4, 5], [2, 5]), await ref.setdiff1dAsync([1, 2, 3, 4, 5], [2, 5])];
    close(await s1.data(), await s2.data(), 0, 0, 'setdiff1dAsync values'); close(await i1.data(), await i2.data(), 0, 0, 'setdiff1dAsync indices');
    const [k1, k2] = [await tf.inTopKAsync(tf.tensor([[0.1, 0.8, 0.1], [0.5, 0.2, 0.3]]), tf.tensor([1, 2], [2], 'int32'), 1), await ref.inTopKAsync(ref.tensor([[0.1, 0.8, 0.1], [0.5, 0.2, 0.3]]), ref.tensor([1, 2], [2], 'int32'), 1)];
    close(await k1.data(), await k2.data(), 0, 0, 'inTopKAsync');
    tf.dispose([w1, b1, s1, i1, k1]); ref.dispose([w2, b2, s2, i2, k2]);
    // random ops: right range, dtype and spread
    const ints = await tf.randomUniformInt([2000], 3, 7, 5).data();
    assert(ints.every((n) => Number.isInteger(n) && n >= 3 && n < 7) && new Set(ints).size === 4, 'randomUniformInt covers [3, 7)');
    const draws = await tf.multinomial(tf.tensor([[0, Math.log(3)], [Math.log(9), 0]]), 4000, 7).data();
    const first = draws.slice(0, 4000).reduce((p, q) => p + q, 0) / 4000, second = draws.slice(4000).reduce((p, q) => p + q, 0) / 4000;
    assert(Math.abs(first - 0.75) < 0.03 && Math.abs(second - 0.1) < 0.03, `multinomial frequencies ${first}, ${second} (want 0.75, 0.1)`);
    // initializers: identity exact, orthogonal orthonormal, varianceScaling's spread
    close(await tf.initializers.identity({ gain: 2 })([3, 3]).data(), [2, 0, 0, 0, 2, 0, 0, 0, 2], 0, 0, 'identity initializer');
    const q = tf.initializers.orthogonal({ seed: 3 })([5, 3]);
    close(await tf.matMul(q, q, true, false).data(), [1, 0, 0, 0, 1, 0, 0, 0, 1], 0, 1e-5, 'orthogonal columns');
    const vs = await tf.initializers.varianceScaling({ scale: 2, mode: 'fanIn', distribution: 'uniform', seed: 4 })([400, 50]).data();
    const sd = Math.sqrt(vs.reduce((p, q) => p + q * q, 0) / vs.length);
    assert(Math.abs(sd - Math.sqrt(2 / 400)) < 0.005, `varianceScaling stddev ${sd}, want ${Math.sqrt(2 / 400)}`);
(() => tf.initializers.varianceScaling({ mode: 'constructor' }), ['varianceScaling', 'mode'], 'a prototype key as the mode');
  },

  async 'differential vs TF.js: tf.image resizes (every corner mode, values and gradients), flips, colour conversions, and tf.browser pixels in and out'(tf, ref) {
    const img = (t) => t.tensor(seeded(2 * 5 * 7 * 3, 120), [2, 5, 7, 3]);
    const cases = [];
    for (const [oh, ow] of [[9, 4], [3, 11], [5, 7]]) {
      for (const [align, half] of [[false, false], [true, false], [false, true]]) {
        for (const op of ['resizeBilinear', 'resizeNearestNeighbor']) cases.push([`${op} ${oh}x${ow} align ${align} half ${half}`, (t) => t.image[op](img(t), [oh, ow], align, half)]);
      }
    }
    // (TF.js's own gradient swaps height and width unless the image is square, and ignores
    // halfPixelCenters: the half-pixel gradient is checked by finite differences below)
    cases.push(['resizeBilinear gradient', (t) => t.grad((x) => t.image.resizeBilinear(x, [8, 3]).mul(t.tensor(seeded(2 * 8 * 3 * 3, 121), [2, 8, 3, 3])).sum())(t.tensor(seeded(2 * 6 * 6 * 3, 123), [2, 6, 6, 3]))]);
    cases.push(['resizeBilinear of a rank-3 int32 image', (t) => t.image.resizeBilinear(t.tensor([1, 5, 9, 13], [2, 2, 1], 'int32'), [3, 3])]);
    cases.push(['flipLeftRight', (t) => t.image.flipLeftRight(img(t))]);
    cases.push(['rgbToGrayscale', (t) => t.image.rgbToGrayscale(img(t))]);
    cases.push(['grayscaleToRGB', (t) => t.image.grayscaleToRGB(t.tensor(seeded(6, 122), [2, 3, 1]))]);
    const pixels = { data: Uint8Array.from({ length: 3 * 2 * 4 }, (_, i) => (i * 37) % 256), width: 3, height: 2 };
    cases.push(['fromPixels', (t) => t.browser.fromPixels(pixels)]);
    cases.push(['fromPixels, 4 channels', (t) => t.browser.fromPixels(pixels, 4)]);
    await agreesWithTfjs(tf, ref, cases, [1e-4, 1e-5]);
    // the half-pixel resize's gradient against central differences (it is linear: exact up to rounding)
    const base = seeded(4 * 5, 124), weights = tf.tensor(seeded(3 * 7, 125), [1, 3, 7, 1]);
    const f = (vals) => tf.tidy(() => tf.image.resizeBilinear(tf.tensor(vals, [1, 4, 5, 1]), [3, 7], false, true).mul(weights).sum());
    const g = await tf.grad((x) => tf.image.resizeBilinear(x, [3, 7], false, true).mul(weights).sum())(tf.tensor(base, [1, 4, 5, 1])).data();
    for (let i = 0; i < base.length; i++) {
      const [up, down] = [base.slice(), base.slice()];
      up[i] += 0.5; down[i] -= 0.5;
      const fd = (await f(up).data())[0] - (await f(down).data())[0];
      close([g[i]], [fd], 1e-3, 1e-4, `half-pixel resizeBilinear gradient at ${i}`);
    }
    weights.dispose();
    for (const [shape, values, dtype] of [[[2, 2], [0, 0.5, 1, 0.25], 'float32'], [[1, 2, 3], [255, 0, 10, 3, 4, 5], 'int32'], [[2, 1, 4], [0.1, 0.2, 0.3, 0.4, 1, 1, 1, 0], 'float32']]) {
      const [a, b] = [await tf.browser.toPixels(tf.tensor(values, shape, dtype)), await ref.browser.toPixels(ref.tensor(values, shape, dtype))];
      close(a, b, 0, 0, `toPixels of [${shape}] ${dtype}`);
    }
    await assertRejects(() => tf.browser.toPixels(tf.tensor([2], [1, 1])), ['toPixels', 'outside'], 'a float pixel above 1');
    // non-maximum suppression (the async forms; the sync ones read synchronously, as on TF.js's CPU)
    const boxes = (t) => t.tensor([[0, 0, 1, 1], [0, 0.1, 1, 1.1], [0, -0.1, 1, 0.9], [0, 10, 1, 11], [0, 10.1, 1, 11.1], [1, 100, 0, 101]]);
    const scores = (t) => t.tensor([0.9, 0.75, 0.6, 0.95, 0.5, 0.3]);
    for (const [iou, thr, max] of [[0.5, -Infinity, 3], [0.8, 0.55, 6], [0.3, 0, 2]]) {
      const [a, b] = [await tf.image.nonMaxSuppressionAsync(boxes(tf), scores(tf), max, iou, thr), await ref.image.nonMaxSuppressionAsync(boxes(ref), scores(ref), max, iou, thr)];
      close(await a.data(), await b.data(), 0, 0, `nonMaxSuppressionAsync iou ${iou} threshold ${thr} max ${max}`);
      const [c, d] = [await tf.image.nonMaxSuppressionWithScoreAsync(boxes(tf), scores(tf), max, iou, thr), await ref.image.nonMaxSuppressionWithScoreAsync(boxes(ref), scores(ref), max, iou, thr)];
      close(await c.selectedScores.data(), await d.selectedScores.data(), 0, 0, 'nonMaxSuppressionWithScoreAsync scores');
      const [e, f] = [await tf.image.nonMaxSuppressionPaddedAsync(boxes(tf), scores(tf), max, iou, thr, true), await ref.image.nonMaxSuppressionPaddedAsync(boxes(ref), scores(ref), max, iou, thr, true)];
      close(await e.selectedIndices.data(), await f.selectedIndices.data(), 0, 0, 'nonMaxSuppressionPaddedAsync indices');
      close(await e.validOutputs.data(), await f.validOutputs.data(), 0, 0, 'nonMaxSuppressionPaddedAsync validOutputs');
    }
    if (tf.getBackend() === 'cpu') close(await tf.image.nonMaxSuppression(boxes(tf), scores(tf), 3).data(), await ref.image.nonMaxSuppression(boxes(ref), scores(ref), 3).data(), 0, 0, 'nonMaxSuppression (sync)');
    // topk: values, indices (ties to the lower index) and the values' gradient
    const tk = (t) => t.tensor([[0.1, 0.7, 0.2, 0.7, -1], [3, 1, 2, 0, 5]]);
    for (const k of [1, 3, 5]) {
      const [a, b] = [tf.topk(tk(tf), k), ref.topk(tk(ref), k)];
      close(await a.values.data(), await b.values.data(), 0, 0, `topk ${k} values`);
      close(await a.indices.data(), await b.indices.data(), 0, 0, `topk ${k} indices`);
      assert(a.indices.dtype === 'int32', 'topk indices are int32');
    }
    // (TF.js has no gradient for topk: the weights land on the picked entries, by hand)
    close(await tf.grad((x) => tf.topk(x, 2).values.mul(tf.tensor([[1, 2], [3, 4]])).sum())(tk(tf)).data(), [0, 1, 0, 2, 0, 4, 0, 0, 0, 3], 0, 0, 'topk gradient');
    // the classic classification flow, by changing only the library: pixels -> fromPixels ->
    // resizeBilinear -> a model -> softmax -> topk
    const flow = async (t, pixels) => {
      const model = t.sequential({ layers: [t.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', inputShape: [8, 8, 3] }), t.layers.globalAveragePooling2d({}), t.layers.dense({ units: 5, activation: 'softmax' })] });
      model.setWeights(model.getWeights().map((w, i) => t.tensor(seeded(w.size, 130 + i), w.shape)));
      const x = t.tidy(() => t.image.resizeBilinear(t.browser.fromPixels(pixels).toFloat().div(255), [8, 8]).expandDims(0));
      const { values, indices } = t.topk(model.predict(x), 3);
      const out = [await values.data(), await indices.data()];
      model.dispose();
      return out;
    };
    const rgba = Uint8ClampedArray.from({ length: 12 * 10 * 4 }, (_, i) => (i % 4 === 3 ? 255 : (i * 53) % 256));
    const sources = [['pixel data', { data: Uint8Array.from(rgba), width: 12, height: 10 }]];
    if (typeof document !== 'undefined') {
      // in a page, an <img> element (a PNG drawn here), as TF.js apps start
      const canvas = new OffscreenCanvas(12, 10);
      canvas.getContext('2d').putImageData(new ImageData(rgba, 12, 10), 0, 0);
      const img = document.createElement('img');
      img.src = URL.createObjectURL(await canvas.convertToBlob({ type: 'image/png' }));
      await img.decode();
      sources.push(['an <img>', img]);
    }
    for (const [what, pixels] of sources) {
      const [[ov, oi], [tv, ti]] = [await flow(tf, pixels), await flow(ref, pixels)];
      close(ov, tv, 1e-4, 1e-6, `classification flow from ${what}: top-3 probabilities vs TF.js`);
      close(oi, ti, 0, 0, `classification flow from ${what}: top-3 classes vs TF.js`);
    }
  },

  async 'differential vs TF.js: regularizers join the training loss, constraints project weights'(tf, ref) {
    const x = seeded(8 * 3, 140), y = seeded(8 * 2, 141);
    const run = async (t) => {
      const m = t.sequential({ layers: [
        t.layers.dense({ units: 4, activation: 'tanh', inputShape: [3], kernelRegularizer: t.regularizers.l2({ l2: 0.05 }), biasRegularizer: t.regularizers.l1({ l1: 0.02 }) }),
        t.layers.dense({ units: 2, kernelRegularizer: t.regularizers.l1l2({ l1: 0.01, l2: 0.03 }) }),
      ] });
      m.setWeights(m.getWeights().map((w, i) => t.tensor(seeded(w.size, 142 + i), w.shape)));
      m.compile({ optimizer: t.train.sgd(0.1), loss: 'meanSquaredError' });
      return [await m.fit(t.tensor(x, [8, 3]), t.tensor(y, [8, 2]), { epochs: 3, batchSize: 4, shuffle: false }), m];
    };
    await trainsAsTfjs(tf, ref, run, 'fit with regularizers', [1e-4, 1e-6]);
    const w = (t) => t.tensor(seeded(12, 150, 2), [3, 4]);
    for (const [name, make] of [['maxNorm', (t) => t.constraints.maxNorm({ maxValue: 1, axis: 0 })], ['unitNorm', (t) => t.constraints.unitNorm({ axis: 1 })],
      ['nonNeg', (t) => t.constraints.nonNeg()], ['minMaxNorm', (t) => t.constraints.minMaxNorm({ minValue: 0.5, maxValue: 1.5, rate: 0.7 })]]) {
      close(await make(tf).apply(w(tf)).data(), await make(ref).apply(w(ref)).data(), 1e-5, 1e-6, `constraint ${name} vs TF.js`);
    }
    // a constraint holds after every step of fit
    const m = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [3], kernelConstraint: tf.constraints.nonNeg(), biasConstraint: 'maxNorm' })] });
    m.compile({ optimizer: tf.train.sgd(0.5), loss: 'meanSquaredError' });
    await m.fit(tf.tensor(x, [8, 3]), tf.tensor(seeded(24, 151, -3), [8, 3]), { epochs: 2 });
    assert((await m.getWeights()[0].data()).every((v) => v >= 0), 'nonNeg kernel after fit');
    m.dispose();
(() => tf.layers.dense({ units: 2, kernelRegularizer: 'l3' }), ['Dense', 'kernelRegularizer'], 'an unknown regularizer');
(() => tf.layers.dense({ units: 2, activityRegularizer: tf.regularizers.l2() }), ['Dense', 'activityRegularizer'], 'activity regularizers (not supported)');
  },

  async 'differential vs TF.js: tf.fused, confusionMatrix, signal windows and frames, bandPart, gramSchmidt, qr, segment sums, bincounts, scatterND, tensorScatterUpdate, variableGrads, buffer'(tf, ref) {
    const a = (t) => t.tensor(seeded(12, 160), [3, 4]), b = (t) => t.tensor(seeded(8, 161), [4, 2]);
    const img = (t) => t.tensor(seeded(2 * 5 * 5 * 2, 162), [2, 5, 5, 2]), f = (t) => t.tensor(seeded(3 * 3 * 2 * 3, 163), [3, 3, 2, 3]);
    const cases = [
      ['fused.matMul relu', (t) => t.fused.matMul({ a: a(t), b: b(t), bias: t.tensor([0.1, -0.2]), activation: 'relu' })],
      ['fused.matMul leakyrelu, transposed', (t) => t.fused.matMul({ a: a(t), b: t.tensor(seeded(8, 164), [2, 4]), transposeB: true, activation: 'leakyrelu', leakyreluAlpha: 0.3 })],
      ['fused.matMul prelu', (t) => t.fused.matMul({ a: a(t), b: b(t), activation: 'prelu', preluActivationWeights: t.tensor([0.5, 0.1]) })],
      ['fused.conv2d sigmoid', (t) => t.fused.conv2d({ x: img(t), filter: f(t), strides: 1, pad: 'same', bias: t.tensor([0, 0.5, -0.5]), activation: 'sigmoid' })],
      ['fused.depthwiseConv2d relu6', (t) => t.fused.depthwiseConv2d({ x: img(t), filter: t.tensor(seeded(2 * 2 * 2, 165), [2, 2, 2, 1]), strides: 2, pad: 'valid', activation: 'relu6' })],
      ['confusionMatrix', (t) => t.math.confusionMatrix(t.tensor([0, 1, 2, 1, 0], [5], 'int32'), t.tensor([0, 2, 2, 1, 1], [5], 'int32'), 3)],
      ['hannWindow', (t) => t.signal.hannWindow(8)], ['hammingWindow', (t) => t.signal.hammingWindow(7)],
      ['frame', (t) => t.signal.frame(t.tensor(seeded(10, 166)), 4, 3)], ['frame, padded at the end', (t) => t.signal.frame(t.tensor(seeded(10, 166)), 4, 3, true, 9)],
      ['bandPart', (t) => t.linalg.bandPart(t.tensor(seeded(20, 167), [4, 5]), 1, 2)], ['bandPart lower', (t) => t.linalg.bandPart(t.tensor(seeded(20, 167), [4, 5]), -1, 0)],
      ['gramSchmidt', (t) => t.linalg.gramSchmidt(t.tensor([[1, 1, 0], [1, 0, 1], [0, 1, 1]]))],
      ...[[[5, 3], false], [[5, 3], true], [[3, 5], false], [[4, 4], false], [[2, 3, 3], false]].flatMap(([shape, full], i) => [0, 1].map((part) =>
        [`qr ${part ? 'r' : 'q'} of [${shape}]${full ? ', full' : ''}`, (t) => t.linalg.qr(t.tensor(seeded(shape.reduce((p, d) => p * d), 350 + i), shape), full)[part]])),
      ['unsortedSegmentSum', (t) => t.unsortedSegmentSum(a(t), t.tensor([2, 0, 2], [3], 'int32'), 4)],
      ['bincount', (t) => t.bincount(t.tensor([1, 3, 1, 0, 4], [5], 'int32'), t.tensor([0.5, 1, 2, 3, 1]), 6)],
      ['denseBincount', (t) => t.denseBincount(t.tensor([[1, 1, 2], [0, 3, 3]], [2, 3], 'int32'), t.tensor([], [0]), 4)],
      ['denseBincount binary', (t) => t.denseBincount(t.tensor([[1, 1, 2], [0, 3, 3]], [2, 3], 'int32'), t.tensor([], [0]), 4, true)],
      ['scatterND', (t) => t.scatterND(t.tensor([[0, 1], [2, 0]], [2, 2], 'int32'), t.tensor([5, -3]), [3, 2])],
      ['scatterND of rows', (t) => t.scatterND(t.tensor([[1], [3]], [2, 1], 'int32'), t.tensor([[1, 2], [3, 4]]), [4, 2])],
      ['tensorScatterUpdate', (t) => t.tensorScatterUpdate(a(t), t.tensor([[0, 1], [2, 3]], [2, 2], 'int32'), t.tensor([9, -9]))],
    ];
    await agreesWithTfjs(tf, ref, cases, [1e-4, 1e-5]);
    // qr's gradient (TF.js cannot differentiate its own: no gradient for Greater) by central differences
    const qrLoss = (a) => { const [q, r] = tf.linalg.qr(a); return q.mul(tf.tensor(seeded(15, 360), [5, 3])).sum().add(r.square().sum()); };
    const qrBase = seeded(15, 361);
    const qrGrad = await tf.grad(qrLoss)(tf.tensor(qrBase, [5, 3])).data();
    for (let i = 0; i < qrBase.length; i++) {
      const [up, down] = [qrBase.slice(), qrBase.slice()];
      up[i] += 1e-2; down[i] -= 1e-2;
      const fd = (await tf.tidy(() => qrLoss(tf.tensor(up, [5, 3])).sub(qrLoss(tf.tensor(down, [5, 3])))).data())[0] / 2e-2;
      close([qrGrad[i]], [fd], 2e-2, 2e-2, `qr gradient at ${i}`);
    }
    // variableGrads: gradients by variable name, as TF.js
    const run = (t) => {
      const v1 = t.variable(t.tensor([1, 2]), true, 'vg_a'), v2 = t.variable(t.tensor([[0.5], [-1]]), true, 'vg_b');
      const { value, grads } = t.variableGrads(() => t.matMul(v1.reshape([1, 2]), v2).square().sum(), [v1, v2]);
      return [value, grads.vg_a, grads.vg_b, v1, v2];
    };
    const [mine, theirs] = [run(tf), run(ref)];
    for (let i = 0; i < 3; i++) close(await mine[i].data(), await theirs[i].data(), 1e-5, 1e-6, `variableGrads output ${i}`);
    tf.dispose(mine); ref.dispose(theirs);
    // buffer: set values, make a tensor
    const buf = tf.buffer([2, 3], 'int32');
    buf.set(7, 1, 2); buf.set(-1, 0, 0);
    close(await buf.toTensor().data(), [-1, 0, 0, 0, 0, 7], 0, 0, 'TensorBuffer');
    assert(buf.get(1, 2) === 7 && (await tf.tensor([[1, 2]]).buffer()).get(0, 1) === 2, 'TensorBuffer.get and Tensor.buffer()');
  },

  async 'differential vs TF.js: conv1d, conv2dTranspose, separableConv2d, simpleRNN, prelu and centerCrop layers with the same weights, saved and loaded both ways'(tf, ref) {
    const cases = [
      [[7, 3], 'conv1d', { filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }],
      [[9, 2], 'conv1d', { filters: 2, kernelSize: 2, dilationRate: 2 }],
      [[3, 4, 2], 'conv2dTranspose', { filters: 3, kernelSize: 3, strides: 2, padding: 'same' }],
      [[3, 4, 2], 'conv2dTranspose', { filters: 2, kernelSize: [2, 3], strides: [1, 2], padding: 'valid', activation: 'tanh' }],
      [[5, 5, 3], 'separableConv2d', { filters: 4, kernelSize: 3, padding: 'same' }],
      // (TF.js does not save depthMultiplier, so its own files of this one do not load back: forward only)
      [[5, 5, 3], 'separableConv2d', { filters: 4, kernelSize: 3, depthMultiplier: 2, strides: 2 }, 'forward only'],
      [[6, 3], 'simpleRNN', { units: 4, returnSequences: true }],
      [[6, 3], 'simpleRNN', { units: 2 }],
      [[4, 3], 'prelu', {}], [[4, 3], 'prelu', { sharedAxes: [1] }],
      [[5], 'alphaDropout', { rate: 0.2 }], [[4, 3], 'spatialDropout1d', { rate: 0.3 }],
    ];
    for (const c of cases) await layerAgreesWithTfjs(tf, ref, c, 170, [1e-4, 1e-5]);
    // gradients flow through the new layers: a conv1d + simpleRNN model fits
    const m = tf.sequential({ layers: [tf.layers.conv1d({ filters: 4, kernelSize: 2, inputShape: [6, 1], activation: 'relu' }), tf.layers.simpleRNN({ units: 4 }), tf.layers.dense({ units: 1 })] });
    m.compile({ optimizer: tf.train.adam(0.05), loss: 'meanSquaredError' });
    const xs = tf.tensor(seeded(32 * 6, 180), [32, 6, 1]), ys = xs.sum(1);
    const h = await m.fit(xs, ys, { epochs: 30, batchSize: 32 });
    assert(h.history.loss.at(-1) < h.history.loss[0] * 0.2, `conv1d + simpleRNN loss ${h.history.loss[0]} -> ${h.history.loss.at(-1)}`);
    tf.dispose([xs, ys]); m.dispose();
    // centerCrop by hand (TF.js's own CenterCrop as a first layer rejects its input)
    const crop = tf.sequential({ layers: [tf.layers.centerCrop({ height: 2, width: 3, inputShape: [5, 6, 1] })] });
    close(await crop.predict(tf.tensor(Array.from({ length: 30 }, (_, i) => i), [1, 5, 6, 1])).data(), [7, 8, 9, 13, 14, 15], 0, 0, 'centerCrop');
    crop.dispose();
    assert(tf.layers.Layer === tf.Layer && typeof tf.layers.input === 'function' && tf.layers.inputLayer({ inputShape: [2] }).getClassName() === 'InputLayer', 'tf.layers.Layer, input, inputLayer');
  },

  async 'differential vs TF.js: conv3d, conv3dTranspose, maxPool3d, avgPool3d, their gradients and layers'(tf, ref) {
    const v = (n, seed, shape) => (t) => t.tensor(seeded(n, seed), shape);
    const x = v(2 * 5 * 6 * 4 * 3, 301, [2, 5, 6, 4, 3]), f = v(3 * 2 * 2 * 3 * 4, 302, [3, 2, 2, 3, 4]);
    const dy = v(2 * 3 * 3 * 2 * 4, 304, [2, 3, 3, 2, 4]);
    const cases = [
      ['conv3d same', (t) => t.conv3d(x(t), f(t), 1, 'same')],
      ['conv3d valid, strided', (t) => t.conv3d(x(t), f(t), [2, 1, 2], 'valid')],
      ['conv3d same, stride 2', (t) => t.conv3d(x(t), f(t), 2, 'same')],
      ['conv3d dilated', (t) => t.conv3d(x(t), f(t), 1, 'valid', 'NDHWC', [2, 1, 1])],
      ['conv3d of rank 4', (t) => t.conv3d(v(5 * 6 * 4 * 3, 303, [5, 6, 4, 3])(t), f(t), 1, 'same')],
      ['conv3d gradient of x', (t) => t.grad((a) => t.conv3d(a, f(t), [2, 1, 1], 'same').square().sum())(x(t))],
      ['conv3d gradient of the filter', (t) => t.grad((w) => t.conv3d(x(t), w, [1, 2, 1], 'valid').square().sum())(f(t))],
      ['conv3dTranspose same, stride 2', (t) => t.conv3dTranspose(dy(t), f(t), [2, 6, 6, 4, 3], 2, 'same')],
      ['conv3dTranspose valid', (t) => t.conv3dTranspose(dy(t), f(t), [2, 5, 4, 3, 3], 1, 'valid')],
      ['conv3dTranspose odd output, stride 2', (t) => t.conv3dTranspose(dy(t), f(t), [2, 5, 5, 3, 3], 2, 'same')],
      // TF.js has no gradient for conv3dTranspose: its gradient with respect to x is conv3d's forward
      ['conv3dTranspose gradient of x (= conv3d)', (t) => (t === ref ? t.conv3d(x(t).slice([0, 0, 0, 0, 0], [2, 5, 6, 4, 3]).pad([[0, 0], [0, 1], [0, 0], [0, 0], [0, 0]]), f(t), 2, 'same')
        : t.grad((a) => t.conv3dTranspose(a, f(t), [2, 6, 6, 4, 3], 2, 'same').mul(x(t).pad([[0, 0], [0, 1], [0, 0], [0, 0], [0, 0]])).sum())(dy(t)))],
      ['maxPool3d', (t) => t.maxPool3d(x(t), 2, 2, 'valid')],
      ['maxPool3d same', (t) => t.maxPool3d(x(t), [3, 2, 2], [2, 1, 2], 'same')],
      ['avgPool3d same', (t) => t.avgPool3d(x(t), [3, 2, 2], [2, 1, 2], 'same')],
      ['avgPool3d padded by 1', (t) => t.avgPool3d(x(t), 3, 2, 1)],
      ['maxPool3d gradient', (t) => t.grad((a) => t.maxPool3d(a, 2, 1, 'same').square().sum())(x(t))],
      ['avgPool3d gradient', (t) => t.grad((a) => t.avgPool3d(a, [3, 2, 2], [2, 1, 2], 'valid').square().sum())(x(t))],
    ];
    await agreesWithTfjs(tf, ref, cases, [1e-4, 1e-5]);
    // With 'same' padding TF.js's average-pool gradient divides by the whole window although its
    // forward averages the in-bounds part; ours is the forward's derivative: central differences
    // (the pool is linear, so they are exact up to rounding).
    const base = seeded(3 * 3 * 2, 305), weights = tf.tensor(seeded(2 * 3 * 2, 306), [1, 2, 3, 2, 1]);
    const pooled = (a) => tf.avgPool3d(a, [2, 2, 2], [2, 1, 1], 'same').mul(weights).sum();
    const g = await tf.grad(pooled)(tf.tensor(base, [1, 3, 3, 2, 1])).data();
    for (let i = 0; i < base.length; i++) {
      const [up, down] = [base.slice(), base.slice()];
      up[i] += 0.5; down[i] -= 0.5;
      const fd = await tf.tidy(() => pooled(tf.tensor(up, [1, 3, 3, 2, 1])).sub(pooled(tf.tensor(down, [1, 3, 3, 2, 1])))).data();
      close([g[i]], fd, 1e-3, 1e-4, `avgPool3d 'same' gradient at ${i}`);
    }
    weights.dispose();
(() => tf.conv3d(x(tf), v(2 * 2 * 2 * 2 * 4, 1, [2, 2, 2, 2, 4])(tf), 1, 'same'), ['conv3d', 'channels'], 'conv3d channel mismatch');
(() => tf.maxPool3d(x(tf), 9, 1, 'valid'), ['maxPool3d', 'does not fit'], 'maxPool3d window past the input');
    const layers = [
      [[4, 5, 4, 2], 'conv3d', { filters: 3, kernelSize: [2, 3, 2], strides: [1, 2, 1], padding: 'same', activation: 'relu' }],
      [[4, 5, 4, 2], 'conv3d', { filters: 2, kernelSize: 2 }],
      [[3, 3, 2, 2], 'conv3dTranspose', { filters: 3, kernelSize: 2, strides: 2, padding: 'same' }],
      [[3, 3, 2, 2], 'conv3dTranspose', { filters: 2, kernelSize: [3, 2, 2], padding: 'valid', activation: 'tanh' }],
      [[4, 5, 4, 2], 'maxPooling3d', { poolSize: 2 }], [[4, 5, 4, 2], 'averagePooling3d', { poolSize: [2, 3, 2], strides: 1, padding: 'same' }],
    ];
    for (const c of layers) await layerAgreesWithTfjs(tf, ref, c, 310, [1e-4, 1e-5]);
    // a 3-D conv net trains (gradients through conv3d, the pools and conv3dTranspose)
    const m = tf.sequential({ layers: [
      tf.layers.conv3d({ filters: 4, kernelSize: 2, padding: 'same', activation: 'relu', inputShape: [4, 4, 4, 1] }),
      tf.layers.conv3dTranspose({ filters: 2, kernelSize: 2, strides: 2, padding: 'same' }),
      tf.layers.maxPooling3d({ poolSize: 2 }), tf.layers.avgPool3d({ poolSize: 2 }), tf.layers.flatten(), tf.layers.dense({ units: 1 }),
    ] });
    m.compile({ optimizer: tf.train.adam(0.03), loss: 'meanSquaredError' });
    // (targets of unit scale: the sum of each volume over 8)
    const xs = tf.tensor(seeded(16 * 64, 320), [16, 4, 4, 4, 1]), ys = xs.sum([1, 2, 3]).div(8);
    const h = await m.fit(xs, ys, { epochs: 40, batchSize: 16 });
    assert(h.history.loss.at(-1) < h.history.loss[0] * 0.3, `3-D conv net loss ${h.history.loss[0]} -> ${h.history.loss.at(-1)}`);
    tf.dispose([xs, ys]); m.dispose();
  },

  async 'differential vs TF.js: dilation2d (and its gradients) and maxPoolWithArgmax'(tf, ref) {
    const v = (n, seed, shape) => (t) => t.tensor(seeded(n, seed), shape);
    const x = v(2 * 7 * 6 * 3, 330, [2, 7, 6, 3]), f = v(3 * 2 * 3, 331, [3, 2, 3]);
    const argmax = (args, part) => (t) => t.maxPoolWithArgmax(...args(t))[part];
    const cases = [
      ['dilation2d same', (t) => t.dilation2d(x(t), f(t), 1, 'same')],
      ['dilation2d valid, strided', (t) => t.dilation2d(x(t), f(t), [2, 1], 'valid')],
      ['dilation2d dilated', (t) => t.dilation2d(x(t), f(t), 1, 'same', [2, 2])],
      ['dilation2d of rank 3, as a method', (t) => v(7 * 6 * 3, 332, [7, 6, 3])(t).dilation2d(f(t), 2, 'same')],
      ['dilation2d gradient of x', (t) => t.grad((a) => t.dilation2d(a, f(t), 1, 'same').square().sum())(x(t))],
      ['dilation2d gradient of the filter', (t) => t.grad((w) => t.dilation2d(x(t), w, [2, 1], 'valid').square().sum())(f(t))],
      ['maxPoolWithArgmax result', argmax((t) => [x(t), 3, 2, 'same'], 'result')],
      ['maxPoolWithArgmax indexes', argmax((t) => [x(t), 3, 2, 'same'], 'indexes')],
      ['maxPoolWithArgmax indexes with the batch', argmax((t) => [x(t), [2, 3], [1, 2], 'valid', true], 'indexes')],
      // ties go to the first position in the window, as TF.js
      ['maxPoolWithArgmax of ties', argmax((t) => [t.tensor([1, 1, 1, 1, 2, 2, 0, 0], [1, 2, 4, 1]), 2, 2, 'valid'], 'indexes')],
    ];
    await agreesWithTfjs(tf, ref, cases, [1e-5, 1e-6]);
(() => tf.dilation2d(x(tf), v(12, 1, [2, 2, 3])(tf).reshape([2, 2, 3]).slice([0, 0, 0], [2, 2, 2]), 1, 'same'), ['dilation2d', 'filter'], 'dilation2d channel mismatch');
(() => tf.maxPoolWithArgmax(x(tf), 2, 2, 'full'), ['maxPoolWithArgmax', 'pad'], 'maxPoolWithArgmax bad padding');
  },

  async 'differential vs TF.js: tf.image cropAndResize, transform, rotateWithOffset and threshold'(tf, ref) {
    const img = (t) => t.tensor(seeded(2 * 6 * 7 * 3, 340), [2, 6, 7, 3]);
    const boxes = [[0, 0, 1, 1], [0.1, 0.2, 0.7, 0.9], [-0.2, 0.3, 0.5, 1.3], [0.8, 0.9, 0.2, 0.1], [0.3, 0.3, 0.6, 0.5]];
    const crop = (size, method, extra, ind = [0, 1, 1, 0, 5]) => (t) => t.image.cropAndResize(img(t), t.tensor(boxes), t.tensor(ind, [5], 'int32'), size, method, extra);
    const rotations = [[0.4, 0, 0.5], [-1.1, 0.25, [0.3, 0.6]], [Math.PI / 2, [10, 20, 30], 0.5]];
    const transforms = [[1, 0.1, -1.5, -0.2, 0.9, 0.7, 0.01, -0.02], [0.8, -0.3, 2.2, 0.35, 1.1, -1.4, 0, 0]];
    // a 4-channel image for the per-channel fill (the fourth reads 255)
    const img4 = (t) => t.tensor(seeded(6 * 5 * 4, 341), [1, 6, 5, 4]);
    const gray = (t) => t.tensor(Float32Array.from(seeded(8 * 9, 342), (v) => Math.round((v + 1) * 127.4)), [8, 9, 1]);
    const cases = [
      ['cropAndResize bilinear', crop([4, 5], 'bilinear', 0)],
      ['cropAndResize nearest, extrapolating', crop([3, 6], 'nearest', -7)],
      ['cropAndResize to one pixel', crop([1, 1], 'bilinear', 2)],
      ...rotations.map(([r, fill, center]) => [`rotateWithOffset(${r}, ${fill}, ${center})`, (t) => t.image.rotateWithOffset(Array.isArray(fill) ? img4(t) : img(t), r, fill, center)]),
      // (TF.js's CPU transform fills every image after the first: one image at a time here)
      ...['constant', 'reflect', 'wrap', 'nearest'].flatMap((mode) => ['nearest', 'bilinear'].flatMap((how) => [0, 1].map((i) =>
        [`transform ${how}, ${mode}, ${i}`, (t) => t.image.transform(img(t).slice([i, 0, 0, 0], [1, 6, 7, 3]), t.tensor([transforms[i]]), how, mode, 0.5)]))),
      ['transform to another size', (t) => t.image.transform(img(t).slice([0, 0, 0, 0], [1, 6, 7, 3]), t.tensor([transforms[0]]), 'bilinear', 'constant', 0, [4, 9])],
      ['threshold binary of RGB', (t) => t.image.threshold(t.mul(t.add(img(t).slice([0, 0, 0, 0], [1, 6, 7, 3]).reshape([6, 7, 3]), 1), 127))],
      ['threshold inverted, 0.3', (t) => t.image.threshold(gray(t), 'binary', true, 0.3)],
      ['threshold otsu', (t) => t.image.threshold(gray(t), 'otsu')],
      ['threshold otsu of an int32 image', (t) => t.image.threshold(gray(t).cast('int32'), 'otsu', true)],
    ];
    await agreesWithTfjs(tf, ref, cases, [1e-4, 1e-5]);
    // a batch: each image by its own transform, or all by one
    const one = (i, tr) => tf.image.transform(img(tf).slice([i, 0, 0, 0], [1, 6, 7, 3]), tf.tensor([tr]), 'bilinear', 'reflect');
    close(await tf.image.transform(img(tf), tf.tensor(transforms), 'bilinear', 'reflect').data(), await tf.concat([one(0, transforms[0]), one(1, transforms[1])]).data(), 1e-6, 1e-6, 'transform of a batch');
    close(await tf.image.transform(img(tf), tf.tensor([transforms[1]]), 'bilinear', 'reflect').data(), await tf.concat([one(0, transforms[1]), one(1, transforms[1])]).data(), 1e-6, 1e-6, 'transform of a batch by one');
    // TF.js has no gradient for cropAndResize; ours (linear in the image) against central differences
    const base = seeded(4 * 5, 343), weights = tf.tensor(seeded(2 * 3 * 3, 344), [2, 3, 3, 1]);
    const cropped = (x) => tf.image.cropAndResize(x, tf.tensor([[0.1, 0.2, 0.7, 0.9], [0, -0.1, 1, 0.8]]), tf.tensor([0, 0], [2], 'int32'), [3, 3]).mul(weights).sum();
    const g = await tf.grad(cropped)(tf.tensor(base, [1, 4, 5, 1])).data();
    for (let i = 0; i < base.length; i++) {
      const [up, down] = [base.slice(), base.slice()];
      up[i] += 0.5; down[i] -= 0.5;
      const fd = await tf.tidy(() => cropped(tf.tensor(up, [1, 4, 5, 1])).sub(cropped(tf.tensor(down, [1, 4, 5, 1])))).data();
      close([g[i]], fd, 1e-3, 1e-4, `cropAndResize gradient at ${i}`);
    }
    weights.dispose();
(() => tf.image.cropAndResize(img(tf), tf.tensor([[0, 0, 1]]), tf.tensor([0], [1], 'int32'), [2, 2]), ['cropAndResize', 'boxes'], 'cropAndResize boxes of 3');
(() => tf.image.transform(img(tf), tf.tensor([[1, 0, 0, 0, 1, 0, 0]])), ['transform', '8'], 'transform of 7 numbers');
(() => tf.image.threshold(img(tf)), ['threshold', '[height, width'], 'threshold of a batch');
  },

  async 'differential vs TF.js: RNN cells, tf.layers.rnn, stacked cells, bidirectional, timeDistributed, convLstm2d and the functional LSTM cell ops'(tf, ref) {
    const layers = [
      [[5, 3], 'rnn', (t) => ({ cell: t.layers.lstmCell({ units: 4 }), returnSequences: true })],
      [[5, 3], 'rnn', (t) => ({ cell: t.layers.gruCell({ units: 2 }) })],
      [[5, 3], 'rnn', (t) => ({ cell: t.layers.simpleRNNCell({ units: 3, activation: 'relu' }), goBackwards: true, returnSequences: true })],
      [[5, 3], 'rnn', (t) => ({ cell: [t.layers.gruCell({ units: 2 }), t.layers.simpleRNNCell({ units: 3 })], returnSequences: true })],
      [[5, 3], 'rnn', (t) => ({ cell: t.layers.stackedRNNCells({ cells: [t.layers.lstmCell({ units: 3 }), t.layers.lstmCell({ units: 2 })] }) })],
      [[5, 3], 'lstm', () => ({ units: 3, goBackwards: true })],
      [[5, 3], 'bidirectional', (t) => ({ layer: t.layers.lstm({ units: 2, returnSequences: true }) })],
      [[5, 3], 'bidirectional', (t) => ({ layer: t.layers.gru({ units: 3 }), mergeMode: 'sum' })],
      [[5, 3], 'bidirectional', (t) => ({ layer: t.layers.simpleRNN({ units: 2, returnSequences: true }), mergeMode: 'ave' })],
      [[5, 3], 'bidirectional', (t) => ({ layer: t.layers.lstm({ units: 2 }), mergeMode: 'mul' })],
      [[5, 3], 'timeDistributed', (t) => ({ layer: t.layers.dense({ units: 4, activation: 'tanh' }) })],
      [[3, 4, 4, 2], 'timeDistributed', (t) => ({ layer: t.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same' }) })],
      [[3, 5, 5, 2], 'convLstm2d', () => ({ filters: 3, kernelSize: 3, padding: 'same', returnSequences: true })],
      [[3, 6, 5, 2], 'convLstm2d', () => ({ filters: 2, kernelSize: [2, 3], strides: 2, activation: 'relu' })],
      [[3, 5, 5, 2], 'convLstm2d', () => ({ filters: 2, kernelSize: 2, dilationRate: 2, goBackwards: true })],
    ];
    // (the args are made per library: cells and wrapped layers are that library's objects)
    for (const [shape, layer, args] of layers) {
      const what = `${layer}(${JSON.stringify(args(ref), (k, v) => (v && v.getClassName ? v.getClassName() : v))})`;
      const x = seeded(2 * shape.reduce((p, q) => p * q, 1), 380);
      const build = (lib) => lib.sequential({ layers: [lib.layers[layer]({ ...args(lib), inputShape: shape })] });
      const [ours, theirs] = [build(tf), build(ref)];
      const weights = theirs.getWeights().map((w, i) => seeded(w.size, 381 + i, 0.6));
      assert(ours.getWeights().length === weights.length, `${what}: ${ours.getWeights().length} weights, TF.js ${weights.length}`);
      ours.setWeights(weights.map((v, i) => tf.tensor(v, theirs.getWeights()[i].shape)));
      theirs.setWeights(weights.map((v, i) => ref.tensor(v, theirs.getWeights()[i].shape)));
      const [y, want] = [ours.predict(tf.tensor(x, [2, ...shape])), theirs.predict(ref.tensor(x, [2, ...shape]))];
      assert(y.shape.join() === want.shape.join(), `${what}: shape [${y.shape}], TF.js [${want.shape}]`);
      close(await y.data(), await want.data(), 1e-4, 1e-5, `${what} vs TF.js`);
      // each library loads the other's saved model and predicts the same
      const inTfjs = await ref.loadLayersModel(ref.io.fromMemory(await saved(tf, ours)));
      close(await inTfjs.predict(ref.tensor(x, [2, ...shape])).data(), await want.data(), 1e-4, 1e-5, `${what}: TF.js loads ours`);
      const fromTfjs = await tf.loadLayersModel(tf.io.fromMemory(await saved(ref, theirs)));
      close(await fromTfjs.predict(tf.tensor(x, [2, ...shape])).data(), await want.data(), 1e-4, 1e-5, `${what}: we load TF.js's`);
      [ours, fromTfjs].forEach((m) => m.dispose());
    }
    // (TF.js cannot build a Bidirectional of rnn({ cell }): ours equals the one of the same LSTM)
    const bi = (layer) => tf.sequential({ layers: [tf.layers.bidirectional({ layer, inputShape: [5, 3] })] });
    const [viaCell, viaLstm] = [bi(tf.layers.rnn({ cell: tf.layers.lstmCell({ units: 2 }), returnSequences: true })), bi(tf.layers.lstm({ units: 2, returnSequences: true }))];
    viaCell.setWeights(viaLstm.getWeights());
    const seq = tf.tensor(seeded(30, 389), [2, 5, 3]);
    close(await viaCell.predict(seq).data(), await viaLstm.predict(seq).data(), 1e-6, 1e-6, 'bidirectional of rnn({ cell: lstmCell }) vs of lstm');
    [viaCell, viaLstm, seq].forEach((v) => v.dispose());
    // a bidirectional LSTM classifier with dropout trains (gradients through both directions)
    const m = tf.sequential({ layers: [
      tf.layers.bidirectional({ layer: tf.layers.lstm({ units: 6, dropout: 0.1, recurrentDropout: 0.1 }), inputShape: [6, 1] }),
      tf.layers.dense({ units: 1, activation: 'sigmoid' }),
    ] });
    m.compile({ optimizer: tf.train.adam(0.05), loss: 'binaryCrossentropy', metrics: ['accuracy'] });
    // label: is the first step larger than the last?
    const xs = tf.tensor(seeded(64 * 6, 390), [64, 6, 1]);
    const ys = tf.tidy(() => xs.slice([0, 0, 0], [64, 1, 1]).greater(xs.slice([0, 5, 0], [64, 1, 1])).cast('float32').reshape([64, 1]));
    const h = await m.fit(xs, ys, { epochs: 40, batchSize: 32 });
    assert(h.history.loss.at(-1) < 0.3 && h.history.acc.at(-1) > 0.85, `bidirectional LSTM: loss ${h.history.loss[0]} -> ${h.history.loss.at(-1)}, accuracy ${h.history.acc.at(-1)}`);
    tf.dispose([xs, ys]); m.dispose();
(() => tf.layers.bidirectional({ layer: tf.layers.dense({ units: 2 }) }), ['Bidirectional', 'recurrent'], 'bidirectional of a dense layer');
(() => tf.layers.rnn({ cell: tf.layers.lstmCell({ units: 2 }), returnState: true }), ['returnState'], 'returnState');
    // inputDim with inputLength declares [batch, steps, features] (TF.js documents it; its Sequential refuses it): as inputShape does
    const [byDim, byShape] = [tf.layers.lstm({ units: 2, inputDim: 3, inputLength: 5 }), tf.layers.lstm({ units: 2, inputShape: [5, 3] })].map((l) => tf.sequential({ layers: [l] }));
    assert(byDim.layers[0].batchInputShape.join() === ',5,3', `lstm inputDim + inputLength: input [${byDim.layers[0].batchInputShape}]`);
    byDim.setWeights(byShape.getWeights());
    const steps = tf.tensor(seeded(30, 404), [2, 5, 3]);
    close(await byDim.predict(steps).data(), await byShape.predict(steps).data(), 0, 0, 'lstm declared by inputDim and inputLength');
    [byDim, byShape, steps].forEach((v) => v.dispose());
(() => tf.layers.lstmCell({ units: 2, dropout: '0.5' }), ['dropout', '[0, 1)'], 'a dropout rate given as a string');
    // the functional LSTM cell ops
    const k = (t) => t.tensor(seeded(5 * 8, 395, 0.5), [5, 8]), b = (t) => t.tensor(seeded(8, 396), [8]);
    const data = (t) => t.tensor(seeded(6, 397), [2, 3]), c0 = (t) => t.tensor(seeded(4, 398), [2, 2]), h0 = (t) => t.tensor(seeded(4, 399), [2, 2]);
    const k2 = (t) => t.tensor(seeded(4 * 8, 400, 0.5), [4, 8]);
    const cell1 = (t) => (d, c, h) => t.basicLSTMCell(t.scalar(1), k(t), b(t), d, c, h);
    const cell2 = (t) => (d, c, h) => t.basicLSTMCell(t.scalar(0.5), k2(t), b(t), d, c, h);
    const cases = [
      ['basicLSTMCell c', (t) => t.basicLSTMCell(1, k(t), b(t), data(t), c0(t), h0(t))[0]],
      ['basicLSTMCell h', (t) => t.basicLSTMCell(1, k(t), b(t), data(t), c0(t), h0(t))[1]],
      ...[0, 1].flatMap((part) => [0, 1].map((i) => [`multiRNNCell ${part ? 'h' : 'c'}${i}`, (t) => t.multiRNNCell([cell1(t), cell2(t)], data(t), [c0(t), c0(t)], [h0(t), h0(t)])[part][i]])),
    ];
    await agreesWithTfjs(tf, ref, cases, [1e-5, 1e-6]);
  },

  async 'customGrad: the custom gradient replaces the forward one (as TF.js), bad gradients are clear Errors, nothing leaks'(tf, ref) {
    const x = (t) => t.tensor(seeded(6, 410), [2, 3]), w = (t) => t.tensor(seeded(6, 411), [2, 3]);
    const absGrad = (t) => t.customGrad((a, save) => { save([a]); return { value: a.square(), gradFunc: (dy, [s]) => [dy.mul(s.abs())] }; });
    const pair = (t) => t.customGrad((a, b) => ({ value: a.mul(b), gradFunc: (dy) => [dy.mul(2), dy.mul(b).neg()] }));
    // a straight-through estimator: round forward, identity backward
    const ste = (t) => t.customGrad((a) => ({ value: a.round(), gradFunc: (dy) => dy }));
    const cases = [
      ['value', (t) => absGrad(t)(x(t))],
      ['gradient', (t) => t.grad((a) => absGrad(t)(a).mul(w(t)).sum())(x(t))],
      ['gradients of two inputs (a)', (t) => t.grads((a, b) => pair(t)(a, b).sum())([x(t), w(t)])[0]],
      ['gradients of two inputs (b)', (t) => t.grads((a, b) => pair(t)(a, b).sum())([x(t), w(t)])[1]],
      ['straight-through gradient in a chain', (t) => t.grad((a) => ste(t)(a.mul(3)).square().mul(w(t)).sum())(x(t))],
    ];
    await agreesWithTfjs(tf, ref, cases, [1e-5, 1e-6], { prefix: 'customGrad ' });
    const input = x(tf);
    const before = owned(tf.memory()).tensors;
    tf.grad((a) => absGrad(tf)(a).sum())(input).dispose();
    assert(owned(tf.memory()).tensors === before, `customGrad leaks ${owned(tf.memory()).tensors - before} tensors`);
    const wrongShape = tf.customGrad((a) => ({ value: a.mul(2), gradFunc: (dy) => [dy.sum()] }));
(() => tf.grad((a) => wrongShape(a).sum())(x(tf)), ['customGrad', 'shape'], 'a gradient of the wrong shape');
    const throwing = tf.customGrad((a) => ({ value: a.mul(2), gradFunc: () => { throw new Error('no gradient here'); } }));
(() => tf.grad((a) => throwing(a).sum())(x(tf)), ['customGrad', 'no gradient here'], 'a gradient function that throws');
(() => tf.customGrad((a) => a.mul(2))(x(tf)), ['customGrad', 'gradFunc'], 'f without gradFunc');
    close(await tf.grad((a) => absGrad(tf)(a).sum())(input).data(), (await input.data()).map((v) => Math.abs(v)), 1e-6, 1e-6, 'the engine still computes after the errors');
    assert(!input.isDisposed, 'the input is still usable');
  },

  async 'differential vs TF.js: complex tensors (with add, sub, mul), fft, ifft, rfft, irfft and stft (and their gradients by central differences)'(tf, ref) {
    const v = (n, seed, shape) => (t) => t.tensor(seeded(n, seed), shape);
    const cx = (shape, seed) => (t) => t.complex(v(shape.reduce((p, d) => p * d), seed, shape)(t), v(shape.reduce((p, d) => p * d), seed + 1, shape)(t));
    const sig = (t) => t.tensor(Float32Array.from({ length: 100 }, (_, i) => Math.sin(i * 0.3) + 0.5 * Math.cos(i * 1.7) + 0.1 * seeded(100, 420)[i]));
    const cases = [
      ['complex', cx([2, 3], 421)],
      ['real', (t) => t.real(cx([2, 3], 421)(t))],
      ['imag', (t) => t.imag(cx([2, 3], 421)(t))],
      ['abs of complex', (t) => t.abs(cx([2, 3], 421)(t))],
      ['fft of 8 (radix 2)', (t) => t.spectral.fft(cx([3, 8], 422)(t))],
      ['fft of 64', (t) => cx([2, 64], 423)(t).fft()],
      ['fft of 6 (DFT)', (t) => t.fft(cx([2, 6], 424)(t))],
      ['fft of 1', (t) => t.fft(cx([4, 1], 425)(t))],
      ['ifft of 16', (t) => t.ifft(cx([2, 16], 426)(t))],
      ['ifft of 5', (t) => t.ifft(cx([3, 5], 427)(t))],
      ['rfft of 16', (t) => t.rfft(v(64, 428, [4, 16])(t))],
      ['rfft of 10', (t) => v(30, 429, [3, 10])(t).rfft()],
      ['rfft cut to 8', (t) => t.spectral.rfft(v(30, 429, [3, 10])(t), 8)],
      ['rfft padded to 16', (t) => t.spectral.rfft(v(30, 429, [3, 10])(t), 16)],
      ['irfft of 9', (t) => t.irfft(cx([2, 9], 430)(t))],
      ['irfft of 6', (t) => t.spectral.irfft(cx([2, 6], 431)(t))],
      ['irfft of 2', (t) => t.irfft(cx([3, 2], 432)(t))],
      ['irfft of rfft', (t) => t.irfft(t.rfft(v(32, 433, [2, 16])(t)))],
      ['stft', (t) => t.signal.stft(sig(t), 16, 8)],
      ['stft, fftLength 32, Hamming', (t) => t.signal.stft(sig(t), 20, 10, 32, t.signal.hammingWindow)],
      ['spectrogram magnitude', (t) => t.signal.stft(sig(t), 16, 4).abs()],
      ['complex add, sub, mul', (t) => t.mul(t.add(cx([2, 3], 434)(t), cx([2, 3], 435)(t)), t.sub(cx([2, 3], 436)(t), cx([2, 3], 437)(t)))],
      // (TF.js's CPU backend broadcasts complex operands wrongly, NaN past the first row: same shapes here)
      ['complex times real of one shape', (t) => cx([2, 3], 438)(t).mul(v(6, 439, [2, 3])(t))],
      // filtering in the frequency domain: ifft(fft(x) fft(h)) is the circular convolution
      ['circular convolution by FFTs', (t) => t.real(t.ifft(t.mul(t.fft(cx([2, 16], 440)(t)), t.fft(cx([1, 16], 441)(t)))))],
    ];
    await agreesWithTfjs(tf, ref, cases, [1e-4, 1e-4]);
    const [a, b] = [cx([2, 2], 440)(tf), cx([2, 2], 440)(ref)];
    assert(JSON.stringify(await a.array()) === JSON.stringify(await b.array()), `complex array() layout ${JSON.stringify(await a.array())} vs TF.js ${JSON.stringify(await b.array())}`);
    // broadcasting, and a real operand as imaginary part 0, checked by parts
    const c = cx([2, 3], 442)(tf), r = v(3, 443, [3])(tf);
    const byParts = tf.complex(tf.real(c).mul(r).add(2), tf.imag(c).mul(r));
    close(await c.mul(r).add(2).data(), await byParts.data(), 1e-6, 1e-6, 'complex * real (broadcast) + 2, by parts');
    tf.dispose([c, r, byParts]);
(() => tf.div(a, 1), ['div', 'complex64'], 'div of a complex tensor');
(() => a.sum(), ['sum', 'complex64'], 'sum of a complex tensor');
(() => tf.fft(tf.ones([4])), ['fft', 'complex64'], 'fft of a real tensor');
    tf.dispose(a); ref.dispose(b);
    // gradients (TF.js has none for the FFTs): of a spectrogram's magnitudes, and through irfft
    for (const [what, loss, n] of [
      ['|rfft| (radix 2)', (x) => tf.rfft(x).abs().mul(tf.tensor(seeded(9, 441), [9])).sum(), 16],
      ['|rfft| (DFT)', (x) => tf.rfft(x).abs().mul(tf.tensor(seeded(6, 442), [6])).sum(), 10],
      ['irfft(fft)', (x) => tf.irfft(tf.rfft(x.square())).mul(tf.tensor(seeded(8, 443), [8])).sum(), 8],
    ]) {
      const base = seeded(n, 444);
      const g = await tf.grad(loss)(tf.tensor(base)).data();
      for (let i = 0; i < n; i++) {
        const [up, down] = [base.slice(), base.slice()];
        up[i] += 1e-2; down[i] -= 1e-2;
        const fd = (await tf.tidy(() => loss(tf.tensor(up)).sub(loss(tf.tensor(down)))).data())[0] / 2e-2;
        close([g[i]], [fd], 2e-2, 2e-2, `${what} gradient at ${i}`);
      }
    }
  },

  async 'differential vs TF.js: masking (Masking, Embedding maskZero) through RNNs, bidirectional and timeDistributed, saved and loaded both ways'(tf, ref) {
    // the same model in each library, TF.js's weights in both; predictions compared, then each loads the other's file
    const agrees = async (make, input, what) => {
      const [ours, theirs] = [make(tf), make(ref)];
      const weights = theirs.getWeights().map((w, i) => seeded(w.size, 450 + i, 0.6));
      ours.setWeights(weights.map((v, i) => tf.tensor(v, theirs.getWeights()[i].shape)));
      theirs.setWeights(weights.map((v, i) => ref.tensor(v, theirs.getWeights()[i].shape)));
      const [y, want] = [ours.predict(input(tf)), theirs.predict(input(ref))];
      assert(y.shape.join() === want.shape.join(), `${what}: shape [${y.shape}], TF.js [${want.shape}]`);
      close(await y.data(), await want.data(), 1e-4, 1e-5, `${what} vs TF.js`);
      const inTfjs = await ref.loadLayersModel(ref.io.fromMemory(await saved(tf, ours)));
      close(await inTfjs.predict(input(ref)).data(), await want.data(), 1e-4, 1e-5, `${what}: TF.js loads ours`);
      const fromTfjs = await tf.loadLayersModel(tf.io.fromMemory(await saved(ref, theirs)));
      close(await fromTfjs.predict(input(tf)).data(), await want.data(), 1e-4, 1e-5, `${what}: we load TF.js's`);
      [ours, fromTfjs].forEach((m) => m.dispose());
    };
    // sequences of 6 steps of 3 features, padded with zero steps at the end and in the middle
    const padded = Float32Array.from(seeded(3 * 6 * 3, 451));
    for (const [seqIndex, steps] of [[0, [4, 5]], [1, [2, 3, 4, 5]], [2, [1]]]) for (const s of steps) padded.fill(0, (seqIndex * 6 + s) * 3, (seqIndex * 6 + s + 1) * 3);
    const seq = (t) => t.tensor(padded, [3, 6, 3]);
    const tokens = (t) => t.tensor([[3, 1, 4, 0, 0, 0], [5, 0, 2, 6, 0, 0], [1, 2, 3, 4, 5, 6]], [3, 6], 'float32');
    const seqModel = (layers) => (t) => t.sequential({ layers: layers(t) });
    await agrees(seqModel((t) => [t.layers.masking({ maskValue: 0, inputShape: [6, 3] }), t.layers.lstm({ units: 4 })]), seq, 'masking + lstm');
    await agrees(seqModel((t) => [t.layers.masking({ inputShape: [6, 3] }), t.layers.gru({ units: 3, returnSequences: true }), t.layers.timeDistributed({ layer: t.layers.dense({ units: 2 }) })]), seq, 'masking + gru sequences + timeDistributed(dense)');
    await agrees(seqModel((t) => [t.layers.masking({ inputShape: [6, 3] }), t.layers.bidirectional({ layer: t.layers.simpleRNN({ units: 3, returnSequences: true }) }), t.layers.lstm({ units: 2 })]), seq, 'masking + bidirectional simpleRNN + lstm');
    await agrees(seqModel((t) => [t.layers.embedding({ inputDim: 8, outputDim: 4, maskZero: true, inputLength: 6 }), t.layers.lstm({ units: 3, goBackwards: true }), t.layers.dense({ units: 2, activation: 'softmax' })]), tokens, 'embedding maskZero + lstm backwards + dense');
    await agrees((t) => {
      const input = t.input({ shape: [6, 3] });
      const h = t.layers.lstm({ units: 3 }).apply(t.layers.masking({}).apply(input));
      return t.model({ inputs: input, outputs: t.layers.dense({ units: 1 }).apply(h) });
    }, seq, 'functional masking + lstm');
    // a layer that takes no mask (Flatten) drops it: the LSTM after it sees every step, as with no Masking at all
    const after = (masked) => tf.sequential({ layers: [...(masked ? [tf.layers.masking({ inputShape: [6, 3] })] : []), tf.layers.flatten({ inputShape: [6, 3] }), tf.layers.repeatVector({ n: 2 }), tf.layers.lstm({ units: 2 })] });
    const [dropped, plain] = [after(true), after(false)];
    plain.setWeights(dropped.getWeights());
    close(await dropped.predict(seq(tf)).data(), await plain.predict(seq(tf)).data(), 1e-6, 1e-6, 'a mask dropped by flatten');
    [dropped, plain].forEach((m) => m.dispose());
  },

  async 'randomGamma: moments of the gamma distribution, seeded; browser.draw paints what TF.js paints'(tf, ref) {
    for (const [alpha, beta] of [[2.5, 2], [0.5, 1], [9, 0.5]]) {
      const x = tf.randomGamma([40000], alpha, beta, 'float32', 7);
      const v = await x.data();
      const mean = v.reduce((a, b) => a + b, 0) / v.length;
      const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length;
      close([mean, variance], [alpha / beta, alpha / beta ** 2], 0.04, 0, `randomGamma(${alpha}, ${beta}) mean and variance`);
      assert(v.every((y) => y >= 0), 'randomGamma values are non-negative');
      x.dispose();
    }
    close(await tf.randomGamma([5], 2, 1, 'float32', 3).data(), await tf.randomGamma([5], 2, 1, 'float32', 3).data(), 0, 0, 'randomGamma with one seed repeats');
    const ints = tf.randomGamma([3, 2], 4, 1, 'int32', 5);
    assert(ints.dtype === 'int32' && ints.shape.join() === '3,2', 'randomGamma int32');
(() => tf.randomGamma([2], -1), ['randomGamma', 'alpha'], 'randomGamma of a negative alpha');
    if (typeof OffscreenCanvas === 'undefined') return; // (draw needs a canvas: the browser pages)
    const images = [[[2, 3], seeded(6, 460).map((v) => Math.abs(v)), 'float32', {}], [[2, 2, 3], [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 250, 255], 'int32', { imageOptions: { alpha: 0.5 } }], [[1, 2, 4], [0.1, 0.2, 0.3, 0.4, 1, 0.5, 0, 1], 'float32', {}]];
    for (const [shape, values, dtype, options] of images) {
      const [ours, theirs] = [new OffscreenCanvas(1, 1), new OffscreenCanvas(1, 1)];
      const img = tf.tensor(values, shape, dtype);
      tf.browser.draw(img, ours, options);
      ref.browser.draw(ref.tensor(values, shape, dtype), theirs, options);
      await img.data(); await new Promise((r) => setTimeout(r, 0)); // (on WebGPU the pixels land once read)
      const pixels = (c) => c.getContext('2d').getImageData(0, 0, shape[1], shape[0]).data;
      assert(ours.width === shape[1] && ours.height === shape[0], `draw sizes the canvas (${ours.width}x${ours.height})`);
      close(pixels(ours), pixels(theirs), 0, 0, `draw of ${dtype} [${shape}] vs TF.js`);
      img.dispose();
    }
  },

  async 'differential vs TF.js: a TF.js-style custom layer (addWeight, read, a constraint, InputSpec) predicts and trains as in TF.js; LayerVariable'(tf, ref) {
    const scaleShift = (lib) => class ScaleShift extends lib.layers.Layer {
      static className = 'ScaleShift';
      constructor(args) {
        super(args ?? {});
        this.inputSpec = [new lib.InputSpec({ minNDim: 2 })];
      }
      build(inputShape) {
        const d = inputShape[inputShape.length - 1];
        this.scale = this.addWeight('scale', [d], 'float32', lib.initializers.ones());
        this.shift = this.addWeight('shift', [d], 'float32', lib.initializers.zeros(), null, true, lib.constraints.nonNeg());
      }
      computeOutputShape(s) { return s; }
      call(inputs) {
        const x = Array.isArray(inputs) ? inputs[0] : inputs;
        return lib.tidy(() => x.mul(this.scale.read()).add(this.shift.read()));
      }
    };
    const xs = seeded(16 * 4, 470), ys = seeded(16, 471);
    await trainsAsTfjs(tf, ref, async (lib) => {
      const Custom = scaleShift(lib);
      const m = lib.sequential({ layers: [lib.layers.dense({ units: 3, inputShape: [4], kernelInitializer: 'ones' }), new Custom(), lib.layers.dense({ units: 1, kernelInitializer: 'ones' })] });
      m.compile({ optimizer: lib.train.sgd(0.05), loss: 'meanSquaredError' });
      const h = await m.fit(lib.tensor(xs, [16, 4]), lib.tensor(ys, [16, 1]), { epochs: 5, batchSize: 8, shuffle: false });
      return [h, m];
    }, 'a custom layer', [1e-4, 1e-5]);
    const layer = new (scaleShift(tf))();
    assert(layer.getClassName() === 'ScaleShift' && layer.name.startsWith('scale_shift_ScaleShift'), `custom layer names: ${layer.getClassName()}, ${layer.name}`);
(() => layer.apply(tf.ones([3])), ['input 0', 'rank at least 2'], 'an input against the InputSpec');
    // LayerVariable: a variable from a value whose write() applies its constraint
    const v = new tf.LayerVariable(tf.tensor([1, -2, 3]), 'float32', 'lv', true, tf.constraints.nonNeg());
    v.write(tf.tensor([-1, 5, -3]));
    close(await v.read().data(), [0, 5, 0], 0, 0, 'LayerVariable.write applies the constraint');
    assert(v.name === 'lv' && v.originalName === 'lv' && v.trainable, 'LayerVariable name and trainable');
    v.dispose(); layer.dispose();
  },

  async 'differential vs TF.js: bitwiseAnd of int32 tensors'(tf, ref) {
    const ints = (values, shape) => (t) => t.tensor(values, shape, 'int32');
    const x = ints([0, 1, 7, 12, -1, -8, 2147483647, -2147483648, 255, 1023, 6, 5], [3, 4]);
    const y = ints([5, 3, 2, 10, 12345, -3, -1, 2147483647, 15, -1024, 3, 0], [3, 4]);
    await agreesWithTfjs(tf, ref, [['bitwiseAnd', (t) => t.bitwiseAnd(x(t), y(t))], ['bitwiseAnd of scalars', (t) => t.bitwiseAnd(t.scalar(13, 'int32'), t.scalar(7, 'int32'))]], [0, 0]);
(() => tf.bitwiseAnd(tf.tensor([1.5]), tf.tensor([2])), ['bitwiseAnd', 'int32'], 'bitwiseAnd of floats');
(() => tf.bitwiseAnd(x(tf), tf.tensor([1], [1], 'int32')), ['bitwiseAnd', 'one shape'], 'bitwiseAnd of two shapes');
  },

  async 'differential vs TF.js: tf.data sources (FileDataSource, URLDataSource), TextLineDataset and CSVDataset with its options'(tf, ref) {
    const bytes = (text) => new TextEncoder().encode(text);
    const rows = async (ds) => JSON.stringify(await ds.toArray());
    const table = 'name,age,score,ok\r\n"Smith, J",31,4.5,true\nLee,,3,false\nN\u00e9e \u{1F600},27,,1\n';
    const sources = [
      ['csv defaults', (t) => new t.data.CSVDataset(new t.data.FileDataSource(bytes(table)))],
      ['small chunks (UTF-8 split across them)', (t) => new t.data.CSVDataset(new t.data.FileDataSource(bytes(table), { chunkSize: 5 }))],
      ['labels, dtypes, a default', (t) => new t.data.CSVDataset(new t.data.FileDataSource(bytes(table)), { columnConfigs: { ok: { isLabel: true, dtype: 'bool' }, age: { dtype: 'int32', default: -1 }, score: { default: 0 } } })],
      ['configured columns only', (t) => new t.data.CSVDataset(new t.data.FileDataSource(bytes(table)), { configuredColumnsOnly: true, columnConfigs: { name: {}, score: { isLabel: true, default: 0 } } })],
      ['no header, named columns', (t) => new t.data.CSVDataset(new t.data.FileDataSource(bytes('1;2\n3;4\n')), { hasHeader: false, columnNames: ['a', 'b'], delimiter: ';' })],
      ['whitespace-delimited', (t) => new t.data.CSVDataset(new t.data.FileDataSource(bytes('x y  z\n1 2  3\n4   5 6\n')), { delimWhitespace: true })],
      ['lines', (t) => new t.data.TextLineDataset(new t.data.FileDataSource(bytes(table), { chunkSize: 3 }))],
      ['lines of a URL', (t) => new t.data.TextLineDataset(new t.data.URLDataSource(`data:text/plain,${encodeURIComponent('one\ntwo\r\nthree')}`))],
    ];
    for (const [what, make] of sources) {
      const [ours, theirs] = [await rows(make(tf)), await rows(make(ref))];
      assert(ours === theirs, `${what}: ${ours}, TF.js ${theirs}`);
    }
    const names = async (t) => new t.data.CSVDataset(new t.data.FileDataSource(bytes(table))).columnNames();
    assert(JSON.stringify(await names(tf)) === JSON.stringify(await names(ref)), `columnNames ${await names(tf)}`);
    await assertRejects(() => new tf.data.CSVDataset(new tf.data.FileDataSource(bytes(table)), { columnConfigs: { nope: {} } }).toArray(), ['nope'], 'a column config for no column');
    await assertRejects(() => new tf.data.CSVDataset(new tf.data.FileDataSource(bytes(table)), { columnConfigs: { age: { required: true } } }).toArray(), ['age', 'empty'], 'a required column left empty');
(() => new tf.data.FileDataSource('/etc/passwd'), ['FileDataSource', 'Uint8Array'], 'a file path');
  },

  async 'differential vs TF.js: tf.data pipelines (array, zip, map, filter, batch, take, skip, repeat, shuffle, generator, csv) and model.fitDataset'(tf, ref) {
    const values = async (t, ds) => {
      const out = [];
      for (const el of await ds.toArray()) {
        const flat = el instanceof t.Tensor ? [el] : Array.isArray(el) ? el : Object.values(el);
        out.push(...(await Promise.all(flat.map(async (x) => (x instanceof t.Tensor ? Array.from(await x.data()) : [x])))).flat());
      }
      return out;
    };
    const pipelines = [
      ['batch of numbers', (t) => t.data.array([1, 2, 3, 4, 5]).batch(2)],
      ['map, filter, take, skip', (t) => t.data.array([1, 2, 3, 4, 5, 6, 7]).map((x) => x * 10).filter((x) => x !== 30).skip(1).take(3)],
      ['repeat', (t) => t.data.array([1, 2]).repeat(3)],
      ['zip of arrays', (t) => t.data.zip([t.data.array([1, 2, 3]), t.data.array([4, 5, 6])])],
      ['batched rows of numbers', (t) => t.data.array([[1, 0], [0, 1], [1, 1]]).batch(2)],
      ['zip of an object, tensors batched', (t) => t.data.zip({ a: t.data.array([1, 2, 3]).map((v) => t.tensor([v, -v])), b: t.data.array([4, 5, 6]) }).batch(3)],
      ['generator', (t) => t.data.generator(function* () { for (let i = 0; i < 4; i++) yield i * i; }).batch(3)],
    ];
    for (const [name, make] of pipelines) close(await values(tf, make(tf)), await values(ref, make(ref)), 0, 0, `tf.data ${name} vs TF.js`);
    const shuffled = await tf.data.array([1, 2, 3, 4, 5, 6, 7, 8]).shuffle(4, 'seed').toArray();
    assert(shuffled.slice().sort().join() === '1,2,3,4,5,6,7,8' && shuffled.join() !== '1,2,3,4,5,6,7,8', `shuffle permutes: ${shuffled}`);
    const rows = await tf.data.csv('a,b,label\n1,2,0\n3,4,1', { columnConfigs: { label: { isLabel: true } } }).toArray();
    assert(JSON.stringify(rows) === JSON.stringify([{ xs: { a: 1, b: 2 }, ys: { label: 0 } }, { xs: { a: 3, b: 4 }, ys: { label: 1 } }]), `csv rows ${JSON.stringify(rows)}`);
    // from a URL, as TF.js reads it
    const url = `data:text/csv,${encodeURIComponent('x,y,kind\n1.5,2,a\n-3,4e2,b\n')}`;
    const [fromUrl, tfjsRows] = [await tf.data.csv(url).toArray(), await ref.data.csv(url).toArray()];
    assert(JSON.stringify(fromUrl) === JSON.stringify(tfjsRows), `csv from a URL ${JSON.stringify(fromUrl)}, TF.js ${JSON.stringify(tfjsRows)}`);
    // fitDataset trains as TF.js's does on the same batches
    const xs = seeded(12 * 3, 190), ys = seeded(12 * 2, 191);
    const train = async (t) => {
      const m = t.sequential({ layers: [t.layers.dense({ units: 2, activation: 'tanh', inputShape: [3] })] });
      m.setWeights([t.tensor(seeded(6, 192), [3, 2]), t.tensor([0.1, -0.1])]);
      m.compile({ optimizer: t.train.sgd(0.2), loss: 'meanSquaredError' });
      const rowsOf = (v, w) => Array.from({ length: 12 }, (_, i) => v.slice(i * w, i * w + w));
      const ds = t.data.zip({ xs: t.data.array(rowsOf(xs, 3)).map((r) => t.tensor(r)), ys: t.data.array(rowsOf(ys, 2)).map((r) => t.tensor(r)) }).batch(4);
      return [await m.fitDataset(ds, { epochs: 3 }), m];
    };
    await trainsAsTfjs(tf, ref, train, 'fitDataset', [1e-5, 1e-6]);
(() => tf.data.csv('a\n1', { header: true }), ['data.csv', 'header'], 'an unsupported csv option');
    const m = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [1] })] });
    m.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    await assertRejects(() => m.fitDataset(tf.data.array([]), { classWeight: { 0: 1 } }), ['fitDataset', 'classWeight'], 'an unsupported fitDataset option');
    m.dispose();
  },

  async 'differential vs TF.js: stridedSlice, unique, sparseToDense, the dot / resizing / categoryEncoding layers, optimizer and callback classes'(tf, ref) {
    const x = (t) => t.tensor(seeded(4 * 5 * 3, 210), [4, 5, 3]);
    const cases = [
      ['stridedSlice', (t) => t.stridedSlice(x(t), [1, 0, 0], [4, 5, 3], [2, 2, 1])],
      ['stridedSlice negative stride, masks', (t) => t.stridedSlice(x(t), [3, 4, 0], [0, 0, 2], [-1, -2, 1], 0b100, 0b010)],
      ['stridedSlice shrink', (t) => t.stridedSlice(x(t), [2, -2, 0], [3, 5, 3], [1, 1, 1], 0, 0, 0, 0, 0b001)],
      ['sparseToDense', (t) => t.sparseToDense(t.tensor([[0, 1], [2, 3]], [2, 2], 'int32'), t.tensor([5, 6]), [3, 4], 0.5)],
      ['sparseToDense of a vector', (t) => t.sparseToDense(t.tensor([1, 3], [2], 'int32'), t.tensor([9, 8], [2], 'int32'), [5], 0)],
      ['layers.dot', (t) => t.layers.dot({ axes: 1 }).apply([t.tensor(seeded(6, 211), [2, 3]), t.tensor(seeded(6, 212), [2, 3])])],
      ['layers.dot normalized', (t) => t.layers.dot({ axes: -1, normalize: true }).apply([t.tensor(seeded(6, 211), [2, 3]), t.tensor(seeded(6, 212), [2, 3])])],
      ['layers.dot of sequences', (t) => t.layers.dot({ axes: [2, 2] }).apply([t.tensor(seeded(24, 213), [2, 3, 4]), t.tensor(seeded(16, 214), [2, 2, 4])])],
      ['layers.categoryEncoding multiHot', (t) => t.layers.categoryEncoding({ numTokens: 5, outputMode: 'multiHot' }).apply(t.tensor([[0, 1, 1], [4, 4, 2]], [2, 3], 'int32'))],
      ['layers.categoryEncoding count', (t) => t.layers.categoryEncoding({ numTokens: 5, outputMode: 'count' }).apply(t.tensor([[0, 1, 1], [4, 4, 2]], [2, 3], 'int32'))],
      ['layers.categoryEncoding oneHot', (t) => t.layers.categoryEncoding({ numTokens: 4, outputMode: 'oneHot' }).apply(t.tensor([3, 0, 2], [3], 'int32'))],
      ['layers.resizing', (t) => t.layers.resizing({ height: 3, width: 7 }).apply(t.tensor(seeded(2 * 5 * 4 * 2, 215), [2, 5, 4, 2]))],
      ['einsum matmul', (t) => t.einsum('ij,jk->ik', t.tensor(seeded(6, 216), [2, 3]), t.tensor(seeded(12, 217), [3, 4]))],
      ['einsum outer', (t) => t.einsum('i,j->ij', t.tensor([1, 2, 3]), t.tensor([4, 5]))],
      ['einsum batched transpose', (t) => t.einsum('bij,bkj->bik', t.tensor(seeded(24, 218), [2, 3, 4]), t.tensor(seeded(16, 219), [2, 2, 4]))],
      // (TF.js has no einsum gradient: its side is matMul's)
      ['einsum gradient', (t) => t.grad((a) => (t === tf ? tf.einsum('ij,jk->ik', a, tf.tensor(seeded(12, 217), [3, 4])) : ref.matMul(a, ref.tensor(seeded(12, 217), [3, 4]))).square().sum())(t.tensor(seeded(6, 216), [2, 3]))],
    ];
    await agreesWithTfjs(tf, ref, cases, [1e-4, 1e-5], { dtype: false });
    if (tf.getBackend() === 'cpu') {
      const [u1, u2] = [tf.unique(tf.tensor([4, 1, 4, 2, 1], [5], 'int32')), ref.unique(ref.tensor([4, 1, 4, 2, 1], [5], 'int32'))];
      close(await u1.values.data(), await u2.values.data(), 0, 0, 'unique values');
      close(await u1.indices.data(), await u2.indices.data(), 0, 0, 'unique indices');
    }
    assert(tf.train.adam() instanceof tf.AdamOptimizer && tf.train.sgd(0.1) instanceof tf.SGDOptimizer && tf.train.adamax() instanceof tf.Optimizer, 'optimizer classes');
    const seen = [];
    const m = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });
    m.compile({ optimizer: new tf.AdamOptimizer(0.01), loss: 'meanSquaredError' });
    await m.fit(tf.ones([4, 2]), tf.ones([4, 1]), { epochs: 2, callbacks: new tf.CallbackList([new tf.CustomCallback({ onEpochEnd: (e) => { seen.push(e); } })]) });
    assert(seen.join() === '0,1', `CustomCallback in a CallbackList saw epochs ${seen}`);
    m.dispose();
  },

  async 'differential vs TF.js: fused attention equals softmax(q k^T * scale + mask) v composed in TF.js, values and gradients'(tf, ref) {
    const [b, h, sq, sk, d] = [2, 3, 5, 7, 4];
    const values = [seeded(b * h * sq * d, 3), seeded(b * h * sk * d, 4), seeded(b * h * sk * d, 5), seeded(b * sq * sk, 6)];
    const shapes = [[b, h, sq, d], [b, h, sk, d], [b, h, sk, d], [b, 1, sq, sk]];
    const weight = seeded(b * h * sq * d, 7);
    const scale = 0.6;
    for (const causal of [false, true]) {
      // TF.js has no attention op: its reference is the composition, causal masking as a bias.
      const bias = Array.from({ length: sq * sk }, (_, e) => ((e % sk) > Math.floor(e / sk) + sk - sq ? -1e9 : 0));
      const theirs = (q, k, v, m) => {
        let s = ref.matMul(q, k, false, true).mul(scale).add(m);
        if (causal) s = s.add(ref.tensor(bias, [sq, sk]));
        return ref.softmax(s).matMul(v);
      };
      const ours = (q, k, v, m) => tf.scaledDotProductAttention(q, k, v, { mask: m, causal, scale });
      const inputs = (t) => values.map((v, i) => t.tensor(v, shapes[i]));
      const what = `attention (causal ${causal})`;
      close(await tf.tidy(() => ours(...inputs(tf))).data(), await ref.tidy(() => theirs(...inputs(ref))).data(), 1e-4, 1e-5, what);
      const ourGrads = tf.grads((q, k, v, m) => ours(q, k, v, m).mul(tf.tensor(weight, shapes[0])).sum())(inputs(tf));
      const theirGrads = ref.grads((q, k, v, m) => theirs(q, k, v, m).mul(ref.tensor(weight, shapes[0])).sum())(inputs(ref));
      for (let i = 0; i < 4; i++) close(await ourGrads[i].data(), await theirGrads[i].data(), 1e-3, 1e-5, `${what}: gradient ${'qkvm'[i]}`);
      tf.dispose(ourGrads);
      ref.dispose(theirGrads);
    }
    // Label smoothing against TF.js; options not implemented are refused, not ignored.
    const lab = tf.oneHot(tf.tensor([0, 2, 1], [3], 'int32'), 3), logit = tf.tensor(seeded(9, 11), [3, 3]);
    const rlab = ref.oneHot(ref.tensor1d([0, 2, 1], 'int32'), 3), rlogit = ref.tensor(seeded(9, 11), [3, 3]);
    close(await tf.losses.softmaxCrossEntropy(lab, logit, undefined, 0.2).data(), await ref.losses.softmaxCrossEntropy(rlab, rlogit, undefined, 0.2).data(), 1e-5, 1e-6, 'softmaxCrossEntropy with labelSmoothing');
    close(await tf.losses.sigmoidCrossEntropy(lab, logit, undefined, 0.2).data(), await ref.losses.sigmoidCrossEntropy(rlab, rlogit, undefined, 0.2).data(), 1e-5, 1e-6, 'sigmoidCrossEntropy with labelSmoothing');
    // centered RMSProp (with momentum), three steps against TF.js's
    const steps = (t) => {
      const v = t.variable(t.tensor([1, -2, 0.5]));
      const opt = t.train.rmsprop(0.05, 0.8, 0.3, 1e-6, true);
      for (const k of [1, 2, 3]) opt.minimize(() => v.sub(t.tensor([0.2 * k, 1, -1])).square().mul(t.tensor([1, 3, 0.5])).sum());
      return v;
    };
    close(await steps(tf).data(), await steps(ref).data(), 1e-5, 1e-6, 'centered rmsprop vs TF.js');
    // adamax (with decay) and adadelta, three steps each against TF.js's
    for (const make of [(t) => t.train.adamax(0.05, 0.8, 0.99, 1e-6, 0.1), (t) => t.train.adadelta(0.5, 0.9, 1e-6), (t) => t.train.adamax()]) {
      const run = (t) => {
        const v = t.variable(t.tensor([1, -2, 0.5]));
        const opt = make(t);
        for (const k of [1, 2, 3]) opt.minimize(() => v.sub(t.tensor([0.2 * k, 1, -1])).square().mul(t.tensor([1, 3, 0.5])).sum(), false, [v]);
        return v;
      };
      close(await run(tf).data(), await run(ref).data(), 1e-5, 1e-6, `${make(tf).getClassName()} vs TF.js`);
    }
    // gather with batch dimensions, values and the gradient, against TF.js
    for (const [axis, batchDims, ishape, ivals] of [[1, 1, [2, 3], [2, 0, 1, 1, 1, 0]], [2, 1, [2, 2], [3, 0, 1, 2]], [2, 2, [2, 3, 2], [0, 3, 1, 1, 2, 2, 3, 3, 0, 0, 1, 2]], [-1, -1, [2, 3, 1], [3, 2, 1, 0, 1, 2]]]) {
      const run = (t) => {
        const xg = t.tensor(seeded(24, 61), [2, 3, 4]);
        const ig = t.tensor(ivals, ishape, 'int32');
        const y = t.gather(xg, ig, axis, batchDims);
        const weight = t.tensor(seeded(y.size, 62), y.shape);
        return [y, t.grad((v) => t.gather(v, ig, axis, batchDims).mul(weight).sum())(xg)];
      };
      const [gv, gg] = tf.tidy(() => run(tf));
      const rv = ref.gather(ref.tensor(seeded(24, 61), [2, 3, 4]), ref.tensor(ivals, ishape, 'int32'), axis, batchDims);
      assert(gv.shape.join() === rv.shape.join(), `gather batchDims ${batchDims} axis ${axis}: shape [${gv.shape}], TF.js [${rv.shape}]`);
      close(await gv.data(), await rv.data(), 0, 0, `gather batchDims ${batchDims} axis ${axis}`);
      // the gradient by hand (TF.js's own fails for batchDims 2): each output's weight lands on
      // the x element it picked, found by gathering the elements' flat positions
      const picked = await tf.gather(tf.tensor(Array.from({ length: 24 }, (_, i) => i), [2, 3, 4], 'int32'), tf.tensor(ivals, ishape, 'int32'), axis, batchDims).data();
      const want = new Float32Array(24), w = seeded(picked.length, 62);
      picked.forEach((e, k) => { want[e] += w[k]; });
      close(await gg.data(), want, 1e-5, 1e-6, `gather batchDims ${batchDims} axis ${axis}: gradient`);
      tf.dispose([gv, gg]); ref.dispose(rv);
    }
(() => tf.gather(tf.ones([2, 3]), tf.tensor([[0], [1], [2]], [3, 1], 'int32'), 1, 1), ['gather', 'must match'], 'gather batch dimensions that differ');
    tf.dispose([lab, logit]);
    ref.dispose([rlab, rlogit]);
    // Rotary embeddings (half-split pairs) against HF's x * cos + rotate_half(x) * sin in TF.js.
    const [rs, rd] = [5, 8];
    const rx = seeded(2 * rs * rd, 8), rc = seeded(rs * rd / 2, 9), rsn = seeded(rs * rd / 2, 10);
    const ropeTheirs = ref.tidy(() => {
      const x = ref.tensor(rx, [2, rs, rd]), c = ref.tensor(rc, [rs, rd / 2]), sn = ref.tensor(rsn, [rs, rd / 2]);
      const x1 = x.slice([0, 0, 0], [2, rs, rd / 2]), x2 = x.slice([0, 0, rd / 2], [2, rs, rd / 2]);
      return x.mul(ref.concat([c, c], 1)).add(ref.concat([x2.neg(), x1], 2).mul(ref.concat([sn, sn], 1)));
    });
    close(await tf.tidy(() => tf.rope(tf.tensor(rx, [2, rs, rd]), tf.tensor(rc, [rs, rd / 2]), tf.tensor(rsn, [rs, rd / 2]))).data(), await ropeTheirs.data(), 1e-5, 1e-6, 'rope vs TF.js rotate_half');
    ropeTheirs.dispose();
(() => tf.scaledDotProductAttention(tf.zeros([1, 4, 2, 8]), tf.zeros([1, 3, 2, 8]), tf.zeros([1, 3, 2, 8])), ['attention', '[1, 3, 2, 8]'], 'attention heads');
(() => tf.scaledDotProductAttention(tf.zeros([1, 1, 2, 8]), tf.zeros([1, 1, 2, 8]), tf.zeros([1, 1, 2, 8]), { causal: 'yes' }), ['scaledDotProductAttention', 'causal'], 'attention causal flag');
  },

  async 'differential vs TF.js: every tf.losses loss with weights and each reduction, values and gradients'(tf, ref) {
    const [rows, cols] = [3, 4];
    const data = (t) => ({
      labels: t.tensor(seeded(rows * cols, 41).map((v) => (v > 0 ? 1 : 0)), [rows, cols]),
      probs: t.sigmoid(t.tensor(seeded(rows * cols, 42), [rows, cols]).mul(3)),
      logits: t.tensor(seeded(rows * cols, 43), [rows, cols]).mul(4),
      onehot: t.oneHot(t.tensor1d([0, 3, 1], 'int32'), cols, 1, 0, 'float32'),
    });
    const weightsOf = (t) => [undefined, t.scalar(2), t.tensor([[1], [0], [3]]), t.tensor(seeded(rows * cols, 44).map((v) => (v > 0.3 ? 0 : v + 1)), [rows, cols])];
    const cases = {
      meanSquaredError: (t, d, p, w, r) => t.losses.meanSquaredError(d.labels, p, w, r),
      absoluteDifference: (t, d, p, w, r) => t.losses.absoluteDifference(d.labels, p, w, r),
      logLoss: (t, d, p, w, r) => t.losses.logLoss(d.labels, t.sigmoid(p), w, 1e-6, r),
      hingeLoss: (t, d, p, w, r) => t.losses.hingeLoss(d.labels, p, w, r),
      huberLoss: (t, d, p, w, r) => t.losses.huberLoss(d.labels, p, w, 0.7, r),
      sigmoidCrossEntropy: (t, d, p, w, r) => t.losses.sigmoidCrossEntropy(d.labels, p, w, 0.1, r),
      // per-row losses: weights of shape [rows, cols] do not apply
      softmaxCrossEntropy: (t, d, p, w, r) => t.losses.softmaxCrossEntropy(d.onehot, p, w?.rank === 2 && w.shape[1] === cols ? undefined : w?.rank === 2 ? w.reshape([rows]) : w, 0.1, r),
      cosineDistance: (t, d, p, w, r) => t.losses.cosineDistance(t.div(d.labels, 2), p.div(4), 1, w?.rank === 2 && w.shape[1] === cols ? undefined : w, r),
    };
    let checked = 0;
    for (const [name, f] of Object.entries(cases)) {
      for (const reduction of [undefined, 0, 1, 2, 3]) {
        for (let wi = 0; wi < 4; wi++) {
          const run = (t) => {
            const d = data(t), w = weightsOf(t)[wi];
            const value = t.tidy(() => f(t, d, d.logits, w, reduction));
            const grad = t.grad((p) => f(t, d, p, w, reduction).sum())(d.logits);
            return [value, grad];
          };
          const [[v, g], [rv, rg]] = [tf.tidy(() => run(tf)), ref.tidy(() => run(ref))];
          const what = `${name}, weights #${wi}, reduction ${reduction}`;
          assert(v.shape.join() === rv.shape.join(), `${what}: shape [${v.shape}], TF.js [${rv.shape}]`);
          close(await v.data(), await rv.data(), 1e-4, 1e-5, `${what}: value`);
          close(await g.data(), await rg.data(), 1e-3, 1e-5, `${what}: gradient`);
          tf.dispose([v, g]); ref.dispose([rv, rg]);
          checked++;
        }
      }
    }
    assert(checked === 8 * 5 * 4, `checked ${checked}`);
    assert(tf.Reduction.SUM === ref.Reduction.SUM && tf.Reduction.SUM_BY_NONZERO_WEIGHTS === ref.Reduction.SUM_BY_NONZERO_WEIGHTS, 'tf.Reduction matches TF.js');
(() => tf.losses.meanSquaredError(tf.ones([2, 3]), tf.ones([2, 3]), tf.ones([4])), ['computeWeightedLoss', '[4]', '[2, 3]'], 'weights that do not broadcast');
(() => tf.losses.huberLoss(tf.ones([2]), tf.ones([2]), undefined, -1), ['huberLoss', 'delta'], 'negative delta');
(() => tf.losses.computeWeightedLoss(tf.ones([2]), undefined, 7), ['computeWeightedLoss', 'reduction'], 'unknown reduction');
  },

  async 'differential vs TF.js: a small model forward pass with the same weights'(tf, ref) {
    const build = (t) => {
      const m = t.sequential();
      m.add(t.layers.conv2d({ filters: 3, kernelSize: 3, activation: 'relu', inputShape: [6, 6, 2] }));
      m.add(t.layers.maxPooling2d({ poolSize: 2 }));
      m.add(t.layers.flatten());
      m.add(t.layers.dense({ units: 4, activation: 'softmax' }));
      return m;
    };
    const ours = build(tf), theirs = build(ref);
    const shapes = theirs.getWeights().map((w) => w.shape);
    const values = shapes.map((s, i) => seeded(s.reduce((a, b) => a * b, 1), 10 + i, 0.5));
    ours.setWeights(values.map((v, i) => tf.tensor(v, shapes[i])));
    theirs.setWeights(values.map((v, i) => ref.tensor(v, shapes[i])));
    const input = seeded(2 * 6 * 6 * 2, 42);
    const a = await ours.predict(tf.tensor(input, [2, 6, 6, 2])).data();
    const b = await theirs.predict(ref.tensor(input, [2, 6, 6, 2])).data();
    close(a, b, 1e-4, 1e-6, 'model forward vs TF.js');
    ours.dispose();
    theirs.dispose();
  },
  async 'model files: TF.js -> webtensor and webtensor -> TF.js, same predictions'(tf, ref) {
    const build = (t) => t.sequential({ layers: [
      t.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [5, 5, 1] }),
      t.layers.batchNormalization(),
      t.layers.maxPooling2d({ poolSize: 2 }),
      t.layers.flatten(),
      t.layers.dropout({ rate: 0.2 }),
      t.layers.dense({ units: 3, activation: 'softmax' }),
    ] });
    const input = seeded(2 * 5 * 5, 9);
    // TF.js saves, we load
    const theirs = build(ref);
    // TF.js orders weights trainable first (..., dense, then BN moving statistics); variances > 0
    const names = theirs.weights.map((w) => w.name);
    theirs.setWeights(theirs.getWeights().map((w, i) => ref.tensor(seeded(w.size, 30 + i, 0.5).map((v) => (/moving_variance|gamma/.test(names[i]) ? Math.abs(v) + 0.5 : v)), w.shape)));
    const probe = build(tf);
    const ourOrder = probe.weights.map((w) => w.name.split('/')[1]);
    probe.dispose();
    assert(ourOrder.join() === names.map((n) => n.split('/')[1]).join(), `weight order ${ourOrder} vs TF.js ${names}`);
    let saved;
    await theirs.save(ref.io.withSaveHandler(async (a) => { saved = a; return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }; }));
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved));
    const want = await theirs.predict(ref.tensor(input, [2, 5, 5, 1])).data();
    close(await loaded.predict(tf.tensor(input, [2, 5, 5, 1])).data(), want, 1e-4, 1e-6, 'TF.js model loaded here');
    // we save, TF.js loads
    let ours;
    await loaded.save(tf.io.withSaveHandler(async (a) => { ours = a; return { modelArtifactsInfo: {} }; }));
    const back = await ref.loadLayersModel(ref.io.fromMemory(ours));
    close(await back.predict(ref.tensor(input, [2, 5, 5, 1])).data(), want, 1e-4, 1e-6, 'our file loaded by TF.js');
    // safetensors round trip
    const st = await loaded.saveSafetensors();
    const fresh = build(tf);
    fresh.loadSafetensors(st.slice());
    close(await fresh.predict(tf.tensor(input, [2, 5, 5, 1])).data(), want, 1e-6, 1e-7, 'weights through safetensors');
(() => fresh.loadSafetensors(st.slice(0, 20)), ['fromSafetensors', 'does not fit'], 'truncated safetensors');
    // Two tensors over the same bytes: refused, not loaded twice.
    const header = new TextEncoder().encode(JSON.stringify({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }));
    const overlapping = new Uint8Array(8 + header.length + 12);
    new DataView(overlapping.buffer).setBigUint64(0, BigInt(header.length), true);
    overlapping.set(header, 8);
(() => fresh.loadSafetensors(overlapping), ['fromSafetensors', 'overlap'], 'overlapping safetensors ranges');
    // A dtype named like an Object property is an unknown dtype, not a lookup into the prototype.
    const oddHeader = new TextEncoder().encode(JSON.stringify({ a: { dtype: 'constructor', shape: [2], data_offsets: [0, 8] } }).padEnd(64));
    const odd = new Uint8Array(8 + oddHeader.length + 8);
    new DataView(odd.buffer).setBigUint64(0, BigInt(oddHeader.length), true);
    odd.set(oddHeader, 8);
(() => fresh.loadSafetensors(odd), ['fromSafetensors', 'constructor', 'F32, F16'], 'a dtype named constructor');
    // Half-precision files (as Hugging Face models ship): F16 and BF16 load into float32 weights.
    const small = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] })] });
    const halfJson = JSON.stringify({ [small.weights[0].name]: { dtype: 'F16', shape: [3, 2], data_offsets: [0, 12] }, [small.weights[1].name]: { dtype: 'BF16', shape: [2], data_offsets: [12, 16] } });
    const halfHeader = new TextEncoder().encode(halfJson.padEnd(Math.ceil(halfJson.length / 8) * 8));
    const halfFile = new Uint8Array(8 + halfHeader.length + 16);
    new DataView(halfFile.buffer).setBigUint64(0, BigInt(halfHeader.length), true);
    halfFile.set(halfHeader, 8);
    // halves 0.5, -1, 2, 0.25, 3, -0.125; bfloat16 1.5, -2
    new Uint16Array(halfFile.buffer, 8 + halfHeader.length, 8).set([0x3800, 0xbc00, 0x4000, 0x3400, 0x4200, 0xb000, 0x3fc0, 0xc000]);
    small.loadSafetensors(halfFile);
    const [kernel16, bias16] = small.getWeights();
    assert(kernel16.dtype === 'float32', `a half-precision file loads into float32 weights, got ${kernel16.dtype}`);
    close(await kernel16.data(), [0.5, -1, 2, 0.25, 3, -0.125], 0, 0, 'F16 kernel from safetensors');
    close(await bias16.data(), [1.5, -2], 0, 0, 'BF16 bias from safetensors');
    tf.dispose([kernel16, bias16]);
    small.dispose();
    loaded.dispose(); fresh.dispose(); theirs.dispose(); back.dispose();
  },

  async 'differential vs TF.js: LSTM and GRU with the same weights, forward and training'(tf, ref) {
    for (const kind of ['lstm', 'gru']) {
      for (const returnSequences of [false, true]) {
        const build = (t) => t.sequential({ layers: [
          t.layers[kind]({ units: 4, returnSequences, inputShape: [5, 3] }),
          ...(returnSequences ? [t.layers.flatten()] : []),
          t.layers.dense({ units: 2 }),
        ] });
        const ours = build(tf), theirs = build(ref);
        const shapes = theirs.getWeights().map((w) => w.shape);
        assert(ours.getWeights().map((w) => w.shape.join('x')).join() === shapes.map((s) => s.join('x')).join(), `${kind} weight shapes`);
        const values = shapes.map((s, i) => seeded(s.reduce((a, b) => a * b, 1), 50 + i, 0.6));
        ours.setWeights(values.map((v, i) => tf.tensor(v, shapes[i])));
        theirs.setWeights(values.map((v, i) => ref.tensor(v, shapes[i])));
        const x = seeded(2 * 5 * 3, 77, 1.5);
        close(await ours.predict(tf.tensor(x, [2, 5, 3])).data(), await theirs.predict(ref.tensor(x, [2, 5, 3])).data(), 1e-4, 1e-5, `${kind} returnSequences=${returnSequences}`);
        // one SGD step on the same batch moves both to the same weights (gradients agree)
        const y = seeded(4, 78);
        for (const [m, t] of [[ours, tf], [theirs, ref]]) {
          m.compile({ optimizer: t.train.sgd(0.5), loss: 'meanSquaredError' });
          await m.fit(t.tensor(x, [2, 5, 3]), t.tensor(y, [2, 2]), { epochs: 1, batchSize: 2, shuffle: false });
        }
        const after = theirs.getWeights();
        const mine = ours.getWeights();
        for (let i = 0; i < after.length; i++) close(await mine[i].data(), await after[i].data(), 1e-3, 1e-5, `${kind} weight ${i} after a step`);
        ours.dispose();
        theirs.dispose();
      }
    }
  },

  async 'functional API: tf.input, tf.model, merge layers, fit, and TF.js agreement'(tf, ref) {
    const build = (t) => {
      const a = t.input({ shape: [4] });
      const b = t.input({ shape: [3] });
      const ha = t.layers.dense({ units: 5, activation: 'relu' }).apply(a);
      const hb = t.layers.dense({ units: 5, activation: 'tanh' }).apply(b);
      const sum = t.layers.add().apply([ha, hb]);
      const cat = t.layers.concatenate().apply([sum, hb]);
      const out = t.layers.dense({ units: 2, activation: 'softmax' }).apply(cat);
      return t.model({ inputs: [a, b], outputs: out });
    };
    const ours = build(tf), theirs = build(ref);
    assert(ours.outputShape.join() === ',2', `output shape ${ours.outputShape}`);
    const shapes = theirs.getWeights().map((w) => w.shape);
    const values = shapes.map((sh, i) => seeded(sh.reduce((p, q) => p * q, 1), 90 + i, 0.7));
    ours.setWeights(values.map((v, i) => tf.tensor(v, shapes[i])));
    theirs.setWeights(values.map((v, i) => ref.tensor(v, shapes[i])));
    const xa = seeded(3 * 4, 1), xb = seeded(3 * 3, 2);
    const mine = ours.applyMany([tf.tensor(xa, [3, 4]), tf.tensor(xb, [3, 3])])[0];
    const want = theirs.predict([ref.tensor(xa, [3, 4]), ref.tensor(xb, [3, 3])]);
    close(await mine.data(), await want.data(), 1e-4, 1e-6, 'functional forward vs TF.js');
    // a model with two outputs predicts both, batch by batch, as TF.js does
    const twoHeads = (t) => {
      const a = t.input({ shape: [4] });
      const h = t.layers.dense({ units: 3, activation: 'relu' }).apply(a);
      return t.model({ inputs: a, outputs: [t.layers.dense({ units: 2 }).apply(h), t.layers.dense({ units: 1, activation: 'sigmoid' }).apply(h)] });
    };
    const [ours2, theirs2] = [twoHeads(tf), twoHeads(ref)];
    const shapes2 = theirs2.getWeights().map((w) => w.shape);
    const values2 = shapes2.map((sh, i) => seeded(sh.reduce((p, q) => p * q, 1), 70 + i, 0.8));
    ours2.setWeights(values2.map((v, i) => tf.tensor(v, shapes2[i])));
    theirs2.setWeights(values2.map((v, i) => ref.tensor(v, shapes2[i])));
    const x5 = seeded(5 * 4, 3);
    const got2 = ours2.predict(tf.tensor(x5, [5, 4]), { batchSize: 2 });
    const want2 = theirs2.predict(ref.tensor(x5, [5, 4]), { batchSize: 2 });
    assert(Array.isArray(got2) && got2.length === 2, 'predict of a two-output model gives two tensors');
    for (let k = 0; k < 2; k++) {
      assert(got2[k].shape.join() === want2[k].shape.join(), `output ${k}: shape [${got2[k].shape}], TF.js [${want2[k].shape}]`);
      close(await got2[k].data(), await want2[k].data(), 1e-5, 1e-6, `two-output predict, output ${k}`);
    }
    tf.dispose(got2); ref.dispose(want2); ours2.dispose(); theirs2.dispose();
    // a single-input functional model with a residual connection trains with fit
    const x = tf.input({ shape: [2] });
    const h = tf.layers.dense({ units: 2, activation: 'tanh' }).apply(x);
    const res = tf.layers.add().apply([x, h]);
    const y = tf.layers.dense({ units: 1, activation: 'sigmoid' }).apply(tf.layers.dense({ units: 8, activation: 'tanh' }).apply(res));
    const m = tf.model({ inputs: x, outputs: y });
    m.compile({ optimizer: tf.train.adam(0.05), loss: 'binaryCrossentropy', metrics: ['accuracy'] });
    const hist = await m.fit(tf.tensor([[0, 0], [0, 1], [1, 0], [1, 1]]), tf.tensor([[0], [1], [1], [0]]), { epochs: 200, batchSize: 4 });
    assert(hist.history.acc.at(-1) === 1, `functional XOR accuracy ${hist.history.acc.at(-1)}`);
(() => tf.model({ inputs: tf.input({ shape: [2] }), outputs: y }), ['input'], 'output not reachable from the given input');
(() => tf.layers.add().apply([tf.input({ shape: [2] }), tf.input({ shape: [3] })]), ['cannot be merged'], 'merge shape mismatch');
    // functional model files, both ways with TF.js
    const save = async (model) => { let a; await model.save(tf.io.withSaveHandler(async (x) => { a = x; return { modelArtifactsInfo: {} }; })); return a; };
    const inTfjs = await ref.loadLayersModel(ref.io.fromMemory(await save(ours)));
    close(await inTfjs.predict([ref.tensor(xa, [3, 4]), ref.tensor(xb, [3, 3])]).data(), await want.data(), 1e-4, 1e-6, 'TF.js loads our functional model');
    let theirsSaved;
    await theirs.save(ref.io.withSaveHandler(async (x) => { theirsSaved = x; return { modelArtifactsInfo: {} }; }));
    const fromTfjs = await tf.loadLayersModel(tf.io.fromMemory(theirsSaved));
    close(await fromTfjs.applyMany([tf.tensor(xa, [3, 4]), tf.tensor(xb, [3, 3])])[0].data(), await want.data(), 1e-4, 1e-6, 'we load TF.js functional model');
    ours.dispose(); theirs.dispose(); m.dispose(); inTfjs.dispose(); fromTfjs.dispose();
  },

  async 'hostile model files are rejected with clear errors'(tf) {
    const good = { modelTopology: { class_name: 'Sequential', config: { name: 's', layers: [{ class_name: 'Dense', config: { units: 2, batch_input_shape: [null, 3], name: 'd1' } }] } },
      weightSpecs: [{ name: 'd1/kernel', shape: [3, 2], dtype: 'float32' }, { name: 'd1/bias', shape: [2], dtype: 'float32' }],
      weightData: new Float32Array(8).buffer };
    const ok = await tf.loadLayersModel(tf.io.fromMemory(good));
    assert(ok.layers.length === 1, 'a well-formed file loads');
    ok.dispose();
    const bad = async (patch, needles, what) => {
      const a = { ...good, ...patch };
      let err;
      try { await tf.loadLayersModel(tf.io.fromMemory(a)); } catch (e) { err = e; }
      assert(err instanceof Error, `${what}: expected an Error`);
      for (const n of needles) assert(err.message.includes(n), `${what}: "${err.message}" lacks "${n}"`);
    };
    await bad({ weightData: new Float32Array(7).buffer }, ['32 bytes', '28'], 'wrong byte length');
    await bad({ weightSpecs: [{ name: 'd1/kernel', shape: [1e6, 1e6], dtype: 'float32' }] }, ['too large'], 'absurd shape');
    await bad({ weightSpecs: [{ name: 'd1/kernel', shape: [2 ** 20, 2 ** 10], dtype: 'float32' }, ...Array(3).fill({ name: 'x', shape: [2 ** 20, 2 ** 10], dtype: 'float32' })] }, ['bytes'], 'huge declared total');
    let deep = {};
    for (let i = 0; i < 200; i++) deep = { a: deep };
    await bad({ modelTopology: { class_name: 'Sequential', config: { layers: [], deep } } }, ['nested'], 'deep nesting');
    await bad({ modelTopology: { class_name: 'Sequential', config: { layers: [{ class_name: 'Evil', config: {} }] } } }, ['Evil', 'unknown layer'], 'unknown class');
    await bad({ modelTopology: { class_name: 'EvilModel', config: {} } }, ['EvilModel', 'not supported'], 'unsupported model class');
    await bad({ modelTopology: { class_name: 'Model', config: { layers: [{ class_name: 'Dense', name: 'd', config: { units: 2 }, inbound_nodes: [[['nowhere', 0, 0, {}]]] }] } } }, ['never produced'], 'dangling functional input');
    await bad({ weightSpecs: [{ name: 'd1/kernel', shape: [2, 3], dtype: 'float32' }, { name: 'd1/bias', shape: [2], dtype: 'float32' }] }, ['shape'], 'weight of the wrong shape');
    await bad({ weightSpecs: [{ name: 'd1/kernel', shape: [3, 2], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.1, min: 0 } }, { name: 'd1/bias', shape: [2], dtype: 'float32' }] }, ['14 bytes', '32'], 'quantized specs over float32 data (their stored size counts)');
    await bad({ modelTopology: null }, ['modelTopology'], 'no topology');
    // a config declaring far more weights than the data holds is refused before they are allocated
    const huge = { class_name: 'Sequential', config: { layers: [{ class_name: 'Dense', config: { units: 1e5, batch_input_shape: [null, 1e5], name: 'd1' } }] } };
    await bad({ modelTopology: huge }, ['d1/kernel', '100000', 'weight data'], 'config larger than its weight data');
    await bad({ modelTopology: huge, weightSpecs: [], weightData: new ArrayBuffer(0) }, ['d1/kernel', 'weight data'], 'config with no weights at all');
  },

  async 'IndexedDB and localStorage round trips, also with TF.js (browser only)'(tf, ref) {
    if (typeof indexedDB === 'undefined') return;
    // predict first: the model is built lazily inside predict's tidy, and its weights must survive
    const m = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3], activation: 'tanh' })] });
    const x = tf.tensor(seeded(6, 3), [2, 3]);
    const want = await m.predict(x).data();
    for (const url of ['indexeddb://webtensor-test', 'localstorage://webtensor-test']) {
      await m.save(url);
      const back = await tf.loadLayersModel(url);
      close(await back.predict(x).data(), want, 0, 0, url);
      back.dispose();
      // across libraries, through the browser storage itself: ours -> TF.js and TF.js -> ours
      const inTfjs = await ref.loadLayersModel(url);
      close(await inTfjs.predict(ref.tensor(seeded(6, 3), [2, 3])).data(), want, 1e-5, 1e-6, `TF.js loads our ${url}`);
      const theirs = ref.sequential({ layers: [ref.layers.dense({ units: 3, inputShape: [3], activation: 'relu' })] });
      const theirsWant = await theirs.predict(ref.tensor(seeded(6, 3), [2, 3])).data();
      await theirs.save(`${url}-tfjs`);
      const fromTfjs = await tf.loadLayersModel(`${url}-tfjs`);
      close(await fromTfjs.predict(x).data(), theirsWant, 1e-5, 1e-6, `we load TF.js's ${url}`);
      fromTfjs.dispose(); inTfjs.dispose(); theirs.dispose();
      // model management, seen the same way by TF.js
      const copy = `${url}-copy`, moved = `${url}-moved`;
      await tf.io.copyModel(url, copy);
      assert(copy in (await tf.io.listModels()) && copy in (await ref.io.listModels()), `${copy} is listed by both`);
      await tf.io.moveModel(copy, moved);
      const listed = await tf.io.listModels();
      assert(moved in listed && !(copy in listed), `moveModel: ${Object.keys(listed)}`);
      close(await (await tf.loadLayersModel(moved)).predict(x).data(), want, 0, 0, `${moved} predicts`);
      for (const u of [moved, url, `${url}-tfjs`]) await tf.io.removeModel(u);
      assert(!(url in (await ref.io.listModels())), `removeModel: TF.js still lists ${url}`);
    }
    m.dispose();
  },

  async 'tf.io.encodeWeights / decodeWeights interchange with TF.js'(tf, ref) {
    const named = (t) => ({ a: t.tensor(seeded(6, 200), [2, 3]), b: t.tensor([1, -2, 3], [3], 'int32'), c: t.tensor([1, 0, 1], [3], 'bool') });
    for (const [from, to] of [[tf, ref], [ref, tf]]) {
      const { data, specs } = await from.io.encodeWeights(named(from));
      const back = to.io.decodeWeights(data, specs);
      for (const [k, v] of Object.entries(named(to))) {
        assert(back[k].dtype === v.dtype && back[k].shape.join() === v.shape.join(), `${k}: ${back[k].dtype} [${back[k].shape}]`);
        close(await back[k].data(), await v.data(), 0, 0, `decoded ${k}`);
      }
    }
(() => tf.io.decodeWeights(new ArrayBuffer(4), [{ name: 'w', shape: [2], dtype: 'float32' }]), ['decodeWeights', '8 bytes'], 'weights shorter than their specs');
    assert(tf.io.isHTTPScheme('https://x/model.json') && !tf.io.isHTTPScheme('indexeddb://m'), 'isHTTPScheme');
    // a registered router serves its own scheme for loading and saving
    const store = {};
    tf.io.registerSaveRouter((url) => (url.startsWith('memo://') ? { save: async (a) => { store[url] = a; return { modelArtifactsInfo: {} }; } } : null));
    tf.io.registerLoadRouter((url) => (url.startsWith('memo://') ? { load: async () => store[url] } : null));
    const m = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] })] });
    await m.save('memo://m1');
    const back = await tf.loadLayersModel('memo://m1');
    close(await back.predict(tf.ones([1, 3])).data(), await m.predict(tf.ones([1, 3])).data(), 0, 0, 'a model through a registered router');
    assert(tf.io.getLoadHandlers('memo://m1').length >= 1 && tf.io.getLoadHandlers('https://x').length === 0, 'getLoadHandlers'); // (a page runs the suite once per backend: the routers are registered again)
    m.dispose(); back.dispose();
    close([1, 3, 8, 9, 1000].map(tf.enclosingPowerOfTwo), [1, 3, 8, 9, 1000].map(ref.enclosingPowerOfTwo), 0, 0, 'enclosingPowerOfTwo');
    // sharded weights through a weights loader, as TF.js reads them
    const { data: blob, specs: blobSpecs } = await tf.io.encodeWeights(named(tf));
    const shards = [blob.slice(0, 10), blob.slice(10)];
    const manifest = [{ paths: ['w1.bin', 'w2.bin'], weights: blobSpecs }];
    const fetcher = async (urls) => { assert(urls.join() === 'models/w1.bin,models/w2.bin', `shard urls ${urls}`); return shards; };
    // (TF.js's own loader reads 'b' back as zeros when names are picked: checked against the values)
    const got = await tf.io.weightsLoaderFactory(fetcher)(manifest, 'models', ['b', 'a']);
    close(await got.a.data(), await named(tf).a.data(), 0, 0, 'weightsLoaderFactory a');
    close(await got.b.data(), [1, -2, 3], 0, 0, 'weightsLoaderFactory b');
    assert(Object.keys(got).join() === 'b,a', `weightsLoaderFactory names ${Object.keys(got)}`);
    close(new Uint8Array(tf.io.CompositeArrayBuffer.join(shards)), new Uint8Array(ref.io.CompositeArrayBuffer.join(shards)), 0, 0, 'CompositeArrayBuffer.join');
    const artifacts = await tf.io.getModelArtifactsForJSON({ modelTopology: { x: 1 }, weightsManifest: manifest }, async (m) => [m[0].weights, blob]);
    assert(artifacts.weightSpecs.length === 3 && artifacts.weightData.byteLength === blob.byteLength, 'getModelArtifactsForJSON');
    close(await tf.tensor([1.5, -2]).bytes(), await ref.tensor([1.5, -2]).bytes(), 0, 0, 'Tensor.bytes');
    await tf.nextFrame();
    // the Sync artifacts, as TF.js
    for (const lib of [tf, ref]) {
      const a = lib.io.getModelArtifactsForJSONSync({ modelTopology: { x: 1 }, format: 'layers-model', weightsManifest: manifest }, blobSpecs, blob);
      assert(a.modelTopology.x === 1 && a.format === 'layers-model' && a.weightSpecs.length === 3 && a.weightData.byteLength === blob.byteLength, `getModelArtifactsForJSONSync (${lib === tf ? 'ours' : 'TF.js'})`);
    }
    // decodeWeightsStream: the same tensors as TF.js from the same chunks
    const stream = () => new ReadableStream({ start(c) { c.enqueue(new Uint8Array(blob.slice(0, 7))); c.enqueue(new Uint8Array(blob.slice(7))); c.close(); } });
    const [ours, theirs] = [await tf.io.decodeWeightsStream(stream(), blobSpecs), await ref.io.decodeWeightsStream(stream(), blobSpecs)];
    for (const k of Object.keys(theirs)) {
      assert(ours[k].dtype === theirs[k].dtype && ours[k].shape.join() === theirs[k].shape.join(), `decodeWeightsStream ${k}: ${ours[k].dtype} [${ours[k].shape}]`);
      close(await ours[k].data(), await theirs[k].data(), 0, 0, `decodeWeightsStream ${k}`);
    }
    tf.dispose(Object.values(ours)); ref.dispose(Object.values(theirs));
    await assertRejects(() => tf.io.decodeWeightsStream(new ReadableStream({ start(c) { c.enqueue(new Uint8Array(blob.byteLength + 4)); c.close(); } }), blobSpecs), ['decodeWeightsStream', 'more bytes'], 'a stream longer than its specs');
    // tf.models.modelFromJSON: the topology alone (weights as initialised), or with a manifest whose shards it fetches
    const dense = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4], activation: 'tanh' }), tf.layers.dense({ units: 2 })] });
    const art = await saved(tf, dense);
    const bare = await tf.models.modelFromJSON(art.modelTopology);
    assert(bare.layers.length === 2 && bare.outputShape.join() === ',2', `modelFromJSON of the topology: ${bare.layers.length} layers, output [${bare.outputShape}]`);
    const base64 = btoa(String.fromCharCode(...new Uint8Array(art.weightData)));
    const withWeights = await tf.models.modelFromJSON({ modelTopology: art.modelTopology, weightsManifest: [{ paths: [`data:application/octet-stream;base64,${base64}`], weights: art.weightSpecs }] });
    const inTfjs = await ref.models.modelFromJSON({ modelTopology: art.modelTopology });
    let offset = 0;
    inTfjs.setWeights(art.weightSpecs.map((w) => {
      const n = w.shape.reduce((p, d) => p * d, 1);
      offset += 4 * n;
      return ref.tensor(new Float32Array(art.weightData, offset - 4 * n, n), w.shape);
    }));
    const input = seeded(8, 370);
    close(await withWeights.predict(tf.tensor(input, [2, 4])).data(), await inTfjs.predict(ref.tensor(input, [2, 4])).data(), 1e-5, 1e-6, 'modelFromJSON with fetched weights vs TF.js');
    [dense, bare, withWeights].forEach((m) => m.dispose());
  },
  async 'model.warmup compiles kernels ahead and changes nothing: the first predict compiles none'(tf) {
    const make = () => {
      const m = tf.sequential({ layers: [
        tf.layers.conv2d({ filters: 3, kernelSize: 3, activation: 'relu', inputShape: [6, 6, 1] }),
        tf.layers.batchNormalization(),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 2, activation: 'softmax' }),
      ] });
      m.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
      return m;
    };
    const a = make(), b = make();
    b.setWeights(a.getWeights());
    const x = tf.tensor(seeded(4 * 36, 21), [4, 6, 6, 1]);
    const y = tf.oneHot(tf.tensor1d([0, 1, 1, 0], 'int32'), 2);
    const before = tf.compiledKernels();
    const n = await a.warmup({ batchSize: 4, training: true });
    assert(tf.compiledKernels() === before + n, `warmup compiled ${n}, the cache grew ${tf.compiledKernels() - before}`);
    if (tf.getBackend() === 'webgpu') {
      // on a fresh device n is the model's whole kernel set; here earlier cases compiled most of it
      const k = tf.compiledKernels();
      const p = a.predict(x);
      await p.data(); // elementwise results run when read: read it
      p.dispose();
      assert(tf.compiledKernels() === k, `predict after warmup compiled ${tf.compiledKernels() - k} kernels`);
    } else {
      assert(n === 0, 'nothing to compile on the CPU');
    }
    // warmup left no trace: the same fit step gives the same loss and weights as a model never warmed up
    const ha = await a.fit(x, y, { epochs: 2, batchSize: 4, shuffle: false });
    const hb = await b.fit(x, y, { epochs: 2, batchSize: 4, shuffle: false });
    close(ha.history.loss, hb.history.loss, 1e-6, 1e-7, 'loss with and without warmup');
    const wa = a.getWeights(), wb = b.getWeights();
    for (let i = 0; i < wa.length; i++) close(await wa[i].data(), await wb[i].data(), 1e-6, 1e-7, `weight ${i}`);
    tf.dispose([wa, wb, x, y]);
    a.dispose(); b.dispose();
  },

  async 'ONNX conformance cases through tf.loadOnnxModel: none fails'(tf) {
    const readBytes = (path) => fixtureBytes(`onnx/${path}`);
    // Firefox reads back slowly (~100 ms a readback): a tenth of the cases there.
    const every = typeof navigator !== 'undefined' && /Firefox/.test(navigator.userAgent) ? 10 : 1;
    const before = owned(tf.memory()).tensors;
    const r = await onnxConformance(tf, readBytes, { every });
    console.log(`onnx conformance on ${tf.getBackend()}: ${r.cases} cases, ${r.pass} pass, ${r.fail} fail, ${r.unsupported} unsupported`);
    assert(r.fail === 0, `failures:\n${r.failures.slice(0, 10).join('\n')}`);
    // executeAsync reads small integer inputs (shapes, axes) first, so WebGPU passes as many as
    // the CPU: 737 of 830 (89%; Firefox's tenth of the cases: 69 of 83).
    assert(r.pass >= Math.floor(r.cases * 0.8), `only ${r.pass} of ${r.cases} cases pass`);
    assert(owned(tf.memory()).tensors === before, 'the conformance run leaves no tensors behind');
    await assertRejects(() => tf.loadOnnxModel(new Uint8Array([1, 2, 3, 4])), ['onnx', 'not a valid ONNX model'], 'garbage bytes');
    const abs = await tf.loadOnnxModel(await readBytes('node/test_abs/model.onnx'));
(() => abs.execute([[1, 2]]), ['execute', 'not a tensor'], 'a non-tensor input');
(() => abs.execute([]), ['takes 1 inputs'], 'too few inputs');
    abs.dispose();
  },

  async 'ONNX transformers (BERT, optimized BERT, GPT-2 with a cache, ViT, Llama, com.microsoft nodes; 4-bit, 8-bit and float16) match onnxruntime at every sequence length'(tf) {
    const manifest = JSON.parse(new TextDecoder().decode(await fixtureBytes('onnx_models/manifest.json')));
    assert(manifest.models.length >= 16, `${manifest.models.length} models`);
    const quantized = JSON.parse(new TextDecoder().decode(await fixtureBytes('onnx_quantized/manifest.json')));
    assert(quantized.models.length >= 10, `${quantized.models.length} quantized models`);
    const models = [...manifest.models.map((m) => ({ ...m, root: 'onnx_models' })), ...quantized.models.map((m) => ({ ...m, root: 'onnx_quantized' }))];
    const before = owned(tf.memory()).tensors;
    let cases = 0;
    for (const m of models) {
      const model = await tf.loadOnnxModel(await fixtureBytes(`${m.root}/${m.name}/model.onnx`));
      if (m.root === 'onnx_quantized' && (m.name.includes('_q') || m.name.startsWith('gather'))) {
        assert(model.packedWeightBytes > 0, `${m.name}: no weight stayed packed`);
        // packed weights are frozen: neither their codes nor their scales are offered for training
        const offered = model.trainableWeights.map((w) => w.name).filter((n) => /_Q4$|_scales$|_zero_points$|_quantized$/.test(n));
        assert(offered.length === 0, `${m.name}: packed weights offered as trainable: ${offered.slice(0, 3)}`);
      }
      // float16 MatMul/Gemm weights stay half precision (frozen), unless asked for as float32.
      let wide = null;
      if (m.name.endsWith('_f16')) {
        assert(model.packedWeightBytes > 0, `${m.name}: float16 weights were widened`);
        wide = await tf.loadOnnxModel(await fixtureBytes(`${m.root}/${m.name}/model.onnx`), { float16Weights: 'float32' });
        assert(wide.packedWeightBytes === 0 && wide.trainableWeights.length > model.trainableWeights.length, `${m.name} with float32 weights: ${wide.packedWeightBytes} packed bytes, ${wide.trainableWeights.length} vs ${model.trainableWeights.length} trainable`);
      }
      for (let k = 0; k < m.cases.length; k++) {
        const dir = `${m.root}/${m.name}/case_${k}`;
        const inputs = [];
        for (let i = 0; i < m.inputs.length; i++) inputs.push(tf.decodeOnnxTensor(await fixtureBytes(`${dir}/input_${i}.pb`)));
        let outs = await model.executeAsync(inputs);
        outs = Array.isArray(outs) ? outs : [outs];
        for (let i = 0; i < outs.length; i++) {
          const want = tf.decodeOnnxTensor(await fixtureBytes(`${dir}/output_${i}.pb`));
          assert(outs[i].shape.join() === want.shape.join(), `${dir} output ${i}: shape [${outs[i].shape}], expected [${want.shape}]`);
          // float16 models: onnxruntime computes in float16, the engine in float32 (the manifest's tolerance)
          const [rtol, atol] = m.tolerance > 2e-4 ? [m.tolerance, m.tolerance] : [1e-3, 1e-4];
          close(await outs[i].data(), await want.data(), rtol, atol, `${dir} output ${i}`);
          want.dispose();
        }
        if (wide) {
          let wouts = await wide.executeAsync(inputs);
          wouts = Array.isArray(wouts) ? wouts : [wouts];
          for (let i = 0; i < outs.length; i++) close(await wouts[i].data(), await outs[i].data(), 1e-4, 1e-5, `${dir} output ${i}, half weights vs float32`);
          tf.dispose(wouts);
        }
        tf.dispose([inputs, outs]);
        cases++;
      }
      model.dispose();
      wide?.dispose();
    }
    assert(owned(tf.memory()).tensors === before, 'the models leave no tensors behind');
    console.log(`onnx transformer models on ${tf.getBackend()}: ${models.length} models, ${cases} cases pass`);
  },

  async 'quantize: 4-, 8- and 16-bit weights stay packed; quantizedMatMul equals x times the dequantized weight and its gradient reaches x; bad options are Errors'(tf) {
    const before = owned(tf.memory()).tensors;
    const [k, n] = [70, 40];
    const wv = Float32Array.from({ length: k * n }, (_, i) => Math.sin(i * 1.7) * 2);
    const w = tf.tensor(wv, [k, n]);
    const x = tf.tensor(Float32Array.from({ length: 3 * k }, (_, i) => Math.cos(i * 0.3)), [3, k]);
    const c = tf.tensor(Float32Array.from({ length: 3 * n }, (_, i) => Math.sin(i * 0.7)), [3, n]);
    for (const opts of [{ bits: 4, blockSize: 32 }, { bits: 4, blockSize: 16, symmetric: false }, { bits: 8, blockSize: 64 }, { bits: 8, blockSize: 128, symmetric: false }]) {
      const what = JSON.stringify(opts);
      const q = tf.quantize(w, opts);
      const blocks = Math.ceil(k / opts.blockSize), words = (opts.blockSize * opts.bits) / 32;
      assert(q.codes.dtype === 'int32' && q.codes.shape.join() === [n, blocks, words].join(), `${what}: codes ${q.codes.dtype} [${q.codes.shape}]`);
      assert(q.sizeBytes === 4 * (n * blocks * words + n * blocks * (opts.symmetric === false ? 2 : 1)), `${what}: ${q.sizeBytes} bytes`);
      assert(q.sizeBytes < (4 * k * n) / 2, `${what}: ${q.sizeBytes} bytes for a ${4 * k * n}-byte weight`);
      const deq = q.dequantize();
      const d = await deq.data(), s = await q.scales.data();
      for (let i = 0; i < k * n; i++) {
        const step = s[(i % n) * blocks + Math.floor(Math.floor(i / n) / opts.blockSize)];
        assert(Math.abs(d[i] - wv[i]) <= step * 0.5001 + 1e-6, `${what}: w[${i}] = ${wv[i]} dequantized to ${d[i]} (step ${step})`);
      }
      const [y, want, gx, gwant] = tf.tidy(() => [
        tf.quantizedMatMul(x, q), tf.matMul(x, deq),
        // the gradient of sum(x w * c) in x is c w^T
        tf.grad((xx) => tf.quantizedMatMul(xx, q).mul(c).sum())(x), tf.matMul(c, deq, false, true),
      ]);
      close(await y.data(), await want.data(), 1e-4, 1e-4, `${what}: x w`);
      close(await gx.data(), await gwant.data(), 1e-4, 1e-4, `${what}: d/dx`);
      tf.dispose([deq, y, want, gx, gwant]);
      q.dispose();
    }
(() => tf.quantize(w, { bits: 3 }), ['quantize', 'bits must be 4, 8 or 16'], 'bits 3');
(() => tf.quantize(w, { bits: 16, symmetric: false }), ['quantize', 'no zero points'], 'float16 codes with zero points');
    // 16 bits: the values rounded to halves (as a cast to float16 rounds them), half the bytes.
    const q16 = tf.quantize(w, { bits: 16, blockSize: 32 });
    const halves = tf.tidy(() => w.cast('float16').cast('float32'));
    const deq16 = q16.dequantize();
    close(await deq16.data(), await halves.data(), 0, 0, '16-bit codes are the halves');
    assert(q16.sizeBytes === 4 * (40 * 3 * 16 + 40 * 3), `16-bit weight of [70, 40] holds ${q16.sizeBytes} bytes`);
    const y16 = tf.quantizedMatMul(x, q16), want16 = tf.matMul(x, halves);
    close(await y16.data(), await want16.data(), 1e-5, 1e-5, 'x times 16-bit codes');
    tf.dispose([q16, halves, deq16, y16, want16]);
(() => tf.quantize(w, { blockSize: 4 }), ['quantize', 'multiple of 32'], 'half-word blocks');
(() => tf.quantize(w, { bitz: 8 }), ['quantize', 'unknown option bitz'], 'a misspelt option');
    // a block of 2^20 codes pads each of 10^5 columns to 512 KiB: refused, not allocated
    const wide = tf.zeros([1, 100000]);
(() => tf.quantize(wide, { bits: 4, blockSize: 1 << 20 }), ['quantize'], 'blocks of 2^20 over 10^5 columns');
    wide.dispose();
    const x3 = x.reshape([3, k, 1]);
(() => tf.quantize(x3), ['quantize', 'float32 matrix'], 'a rank-3 weight');
    x3.dispose();
    const q = tf.quantize(w);
(() => tf.quantizedMatMul(w, q), ['quantized_matmul', '[70, 40]'], 'x of the wrong width');
(() => tf.quantizedMatMul(x, w), ['quantizedMatMul', 'QuantizedTensor'], 'a plain tensor as the weight');
    q.dispose();
    tf.dispose([w, x, c]);
    assert(owned(tf.memory()).tensors === before, 'nothing leaks');
  },

  async 'quantizeLayers: a trained MLP keeps its accuracy at 16, 8 and 4 bits, fine-tunes around its frozen kernels, and saves and loads quantized'(tf) {
    const before = owned(tf.memory()).tensors;
    // Three classes around three centres in 8-D, with a fixed jitter.
    const N = 192, D = 8;
    const xs = [], labels = [];
    for (let i = 0; i < N; i++) {
      const cls = i % 3;
      for (let d = 0; d < D; d++) xs.push((d % 3 === cls ? 1.5 : -0.5) + 0.6 * Math.sin(i * 12.9898 + d * 78.233));
      labels.push(cls);
    }
    const x = tf.tensor(xs, [N, D]);
    const y = tf.tidy(() => tf.oneHot(tf.tensor(labels, [N], 'int32'), 3));
    const model = tf.sequential();
    model.add(tf.layers.dense({ units: 64, activation: 'relu', inputShape: [D], kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }));
    model.add(tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }));
    model.compile({ optimizer: tf.train.adam(0.02), loss: 'categoricalCrossentropy' });
    await model.fit(x, y, { epochs: 25, batchSize: 32, verbose: 0 });
    const predictions = async (m) => {
      const p = m.predict(x);
      const v = await p.data();
      p.dispose();
      return v;
    };
    const accuracy = (p) => labels.filter((cls, i) => [0, 1, 2].every((j) => p[i * 3 + j] <= p[i * 3 + cls])).length / N;
    const p32 = await predictions(model);
    const acc32 = accuracy(p32);
    assert(acc32 > 0.9, `float32 accuracy ${acc32}`);
    const floatArtifacts = await saved(tf, model);

    const r = tf.quantizeLayers(model, { bits: 8, blockSize: 8 });
    assert(r.layers.length === 2 && r.bytesBefore === 4 * (D * 64 + 64 * 3), `quantized ${r.layers}, ${r.bytesBefore} bytes before`);
    assert(r.bytesAfter < r.bytesBefore / 2.5, `8-bit kernels: ${r.bytesAfter} of ${r.bytesBefore} bytes`);
    const p8 = await predictions(model);
    close(p8, p32, 0, 0.03, '8-bit predictions vs float32');
    assert(accuracy(p8) >= acc32 - 0.02, `8-bit accuracy ${accuracy(p8)} vs ${acc32}`);
    assert(model.trainableWeights.length === 2 && model.trainableWeights.every((v) => v.name.endsWith('/bias')), `trainable: ${model.trainableWeights.map((v) => v.name)}`);
    assert(model.weights.some((v) => v.name.endsWith('/kernel_codes') && v.dtype === 'int32'), 'the codes are int32 weights');

    // Fine-tuning around the frozen kernels: a spoilt output bias (past the logits' margins) is
    // trained back; the codes stay.
    const codes = await model.weights.find((v) => v.name.endsWith('/kernel_codes')).data();
    const head = model.layers[1];
    const [bias, ...frozen] = head.getWeights();
    const spoilt = tf.tensor([15, -15, 0]);
    head.setWeights([spoilt, ...frozen]);
    tf.dispose([bias, spoilt, ...frozen]);
    model.compile({ optimizer: tf.train.adam(0.5), loss: 'categoricalCrossentropy' });
    const h = await model.fit(x, y, { epochs: 8, batchSize: 32, verbose: 0 });
    assert(h.history.loss[7] < h.history.loss[0] * 0.5, `fine-tuning loss ${h.history.loss[0]} -> ${h.history.loss[7]}`);
    close(await model.weights.find((v) => v.name.endsWith('/kernel_codes')).data(), codes, 0, 0, 'frozen codes');
    const tuned = await predictions(model);
    assert(accuracy(tuned) >= acc32 - 0.02, `accuracy after fine-tuning ${accuracy(tuned)}`);

    // Saved and loaded, it is the same model: config, int32 codes and all.
    const a = await saved(tf, model);
    assert(a.weightSpecs.some((s) => s.name.endsWith('/kernel_codes') && s.dtype === 'int32'), 'codes saved as int32');
    assert(a.weightData.byteLength < floatArtifacts.weightData.byteLength / 2, `saved ${a.weightData.byteLength} bytes vs ${floatArtifacts.weightData.byteLength}`);
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(a));
    close(await predictions(loaded), tuned, 0, 1e-6, 'loaded quantized model');
    loaded.dispose();

    // 4-bit, from the float32 model as saved before.
    const m4 = await tf.loadLayersModel(tf.io.fromMemory(floatArtifacts));
    const r4 = tf.quantizeLayers(m4, { bits: 4, blockSize: 8, symmetric: false });
    assert(r4.bytesAfter < r4.bytesBefore / 2.5, `4-bit kernels with zero points: ${r4.bytesAfter} of ${r4.bytesBefore} bytes`);
    const p4 = await predictions(m4);
    assert(accuracy(p4) >= acc32 - 0.05, `4-bit accuracy ${accuracy(p4)} vs ${acc32}`);
    const a4 = await saved(tf, m4);
    assert(a4.weightSpecs.filter((s) => s.name.endsWith('/kernel_zero_points')).length === 2, 'zero points saved');
    const loaded4 = await tf.loadLayersModel(tf.io.fromMemory(a4));
    close(await predictions(loaded4), p4, 0, 1e-6, 'loaded 4-bit model');
    loaded4.dispose();
(() => tf.quantizeLayers(m4, { bits: 4, blockSize: 8, minWeights: -1 }), ['quantizeLayers', 'minWeights'], 'negative minWeights');
    m4.dispose();

    // 16-bit (float16) kernels: predictions within half precision of float32's, saved and loaded.
    const m16 = await tf.loadLayersModel(tf.io.fromMemory(floatArtifacts));
    const r16 = tf.quantizeLayers(m16, { bits: 16 });
    assert(r16.bytesAfter < r16.bytesBefore * 0.6, `16-bit kernels: ${r16.bytesAfter} of ${r16.bytesBefore} bytes`);
    const p16 = await predictions(m16);
    close(p16, p32, 0, 2e-3, '16-bit predictions vs float32');
    const loaded16 = await tf.loadLayersModel(tf.io.fromMemory(await saved(tf, m16)));
    close(await predictions(loaded16), p16, 0, 1e-6, 'loaded 16-bit model');
    loaded16.dispose();
    m16.dispose();

    // A Dense built quantized from scratch starts from its initializer, quantized (not zeros).
    const fresh = tf.sequential({ layers: [tf.layers.dense({ units: 4, inputShape: [D], kernelQuantization: { bits: 4, blockSize: 8 } })] });
    const out = await predictions(fresh);
    assert(out.some((v) => Math.abs(v) > 1e-3), 'a freshly built quantized Dense computes');
    fresh.dispose();
    model.dispose();
    tf.dispose([x, y]);
    assert(owned(tf.memory()).tensors === before, 'nothing leaks');
  },

  async 'ONNX generate: a GPT-2 exported with past key/values continues a prompt as torch does, with and without the cache'(tf) {
    const manifest = JSON.parse(new TextDecoder().decode(await fixtureBytes('onnx_models/manifest.json')));
    const ref = manifest.models.find((m) => m.name === 'gpt2_past').generate;
    const cached = await tf.loadOnnxModel(await fixtureBytes('onnx_models/gpt2_past/model.onnx'));
    const plain = await tf.loadOnnxModel(await fixtureBytes('onnx_models/gpt2/model.onnx'));
    assert(cached.inputShape(2).join() === '-1,4,-1,8', `past shape [${cached.inputShape(2)}]`);
    const maxNewTokens = ref.tokens.length - ref.prompt.length;
    const before = owned(tf.memory()).tensors;
    const t0 = performance.now();
    const got = await cached.generate(ref.prompt, { maxNewTokens });
    const ms = performance.now() - t0;
    assert(got.join() === ref.tokens.join(), `with the cache: ${got} vs torch ${ref.tokens}`);
    const again = await plain.generate([ref.prompt, ref.prompt], { maxNewTokens });
    assert(again.every((r) => r.join() === ref.tokens.join()), `without a cache: ${again[0]} vs torch ${ref.tokens}`);
    const sampled = await cached.generate(ref.prompt, { maxNewTokens: 6, temperature: 1, topK: 5, seed: 3 });
    const sampledAgain = await cached.generate(ref.prompt, { maxNewTokens: 6, temperature: 1, topK: 5, seed: 3 });
    assert(sampled.join() === sampledAgain.join() && sampled.length === ref.prompt.length + 6, `seeded sampling ${sampled} / ${sampledAgain}`);
    // Known values that are not the input's own are refused, not trusted.
    const ids = tf.tensor([[1, 2]], [1, 2], 'int32');
(() => plain.runKnown([ids], [Int32Array.of(1, 2, 3)]), ['input 0 has 2 elements', '3 known values'], 'known values of the wrong length');
    ids.dispose();
    assert(owned(tf.memory()).tensors === before, 'generation leaves no tensors behind');
    console.log(`onnx gpt2 generate on ${tf.getBackend()}: ${maxNewTokens} tokens in ${ms.toFixed(1)} ms with the cache`);
    cached.dispose();
    plain.dispose();
  },

  async 'ONNX transformer fine-tuning: an imported GPT-2 learns a sequence, its next-token loss falls'(tf) {
    const model = await tf.loadOnnxModel(await fixtureBytes('onnx_models/gpt2/model.onnx'));
    const weights = model.trainableWeights;
    const seq = [5, 17, 42, 8, 77, 23, 61, 3, 90];
    const ids = tf.tensor([seq.slice(0, -1)], [1, seq.length - 1], 'int32');
    const targets = tf.oneHot(tf.tensor(seq.slice(1), [seq.length - 1], 'int32'), 99);
    const loss = () => {
      const logits = model.execute(ids, { training: true });
      return tf.losses.softmaxCrossEntropy(targets, tf.reshape(logits, [seq.length - 1, 99]));
    };
    const first = (await tf.tidy(loss).data())[0];
    const opt = tf.train.adam(0.01);
    for (let i = 0; i < 30; i++) opt.minimize(loss, false, weights);
    const last = (await tf.tidy(loss).data())[0];
    console.log(`onnx gpt2 fine-tuning on ${tf.getBackend()}: cross-entropy ${first.toFixed(3)} -> ${last.toFixed(3)} in 30 Adam steps`);
    assert(first > 4 && last < first * 0.5, `loss ${first} -> ${last}`);
    tf.dispose([ids, targets]);
    opt.dispose();
    model.dispose();
  },

  async 'ONNX external data: initializers stream from a file beside the model'(tf) {
    const ref = JSON.parse(new TextDecoder().decode(await fixtureBytes('onnx_external/expected.json')));
    const modelBytes = await fixtureBytes('onnx_external/model.onnx');
    await assertRejects(() => tf.loadOnnxModel(modelBytes), ['weights.bin', 'externalData'], 'external data without its file');
    const model = typeof window === 'undefined'
      ? await tf.loadOnnxModel(modelBytes, { externalData: { 'weights.bin': await fixtureBytes('onnx_external/weights.bin') } })
      : await tf.loadOnnxModel('/tests/fixtures/onnx_external/model.onnx'); // fetched beside the model
    const x = tf.tensor(ref.input.values, ref.input.shape);
    const y = model.execute(x);
    close(await y.data(), ref.output.values, 1e-5, 1e-6, 'model with external weights vs numpy');
    tf.dispose([x, y]);
    model.dispose();
  },

  async 'ONNX fine-tuning: imported weights train with an optimizer, the loss falls'(tf) {
    const model = await tf.loadOnnxModel(await fixtureBytes('onnx/pytorch-converted/test_Linear/model.onnx'));
    const weights = model.trainableWeights;
    assert(weights.length === 2 && weights[0].shape.join() === '8,10', `weights ${weights.map((w) => w.shape)}`);
    const x = tf.tensor(seeded(40, 31), [4, 10]);
    const target = tf.tensor(seeded(32, 32), [4, 8]);
    const loss = () => tf.losses.meanSquaredError(target, model.execute(x, { training: true }));
    const first = (await tf.tidy(loss).data())[0];
    const opt = tf.train.adam(0.05);
    const before = owned(tf.memory()).tensors;
    for (let i = 0; i < 150; i++) opt.minimize(loss, false, weights);
    assert(owned(tf.memory()).tensors === before, 'training leaves no tensors behind');
    const last = (await tf.tidy(loss).data())[0];
    console.log(`onnx fine-tuning on ${tf.getBackend()}: MSE ${first.toFixed(4)} -> ${last.toFixed(5)} in 150 Adam steps`);
    assert(last < first * 0.05, `loss ${first} -> ${last}`);
    // inference sees the trained weights
    const y = model.execute(x);
    close(await y.data(), await target.data(), 0, 0.15, 'predictions near the targets');
    tf.dispose([x, target, y]);
    opt.dispose();
    model.dispose();
  },

  async 'Keras 3 .keras files (Sequential CNN, two-input functional, transformer block) predict as Keras did'(tf) {
    for (const name of ['small_cnn', 'two_inputs', 'transformer_block']) {
      const ref = JSON.parse(new TextDecoder().decode(await fixtureBytes(`keras/${name}.json`)));
      const model = await tf.loadKerasModel(await fixtureBytes(`keras/${name}.keras`));
      const inputs = ref.inputs.map((x) => tf.tensor(x.values, x.shape));
      const y = model.predict(inputs.length === 1 ? inputs[0] : inputs);
      assert(y.shape.join() === ref.output.shape.join(), `${name}: output shape [${y.shape}], Keras [${ref.output.shape}]`);
      close(await y.data(), ref.output.values, 1e-4, 1e-5, `${name} vs Keras ${ref.keras}`);
      tf.dispose([y, inputs]);
      model.dispose();
    }
    await assertRejects(() => tf.loadKerasModel(new Uint8Array([1, 2, 3])), ['loadKerasModel'], 'not a zip');
    const noWeights = (await import(/* @vite-ignore */ 'fflate')).zipSync({ 'config.json': new TextEncoder().encode('{"class_name": "Sequential", "config": {"layers": [{"class_name": "InputLayer", "config": {"batch_shape": [null, 2]}}, {"class_name": "Dense", "config": {"name": "d", "units": 1}}]}}') });
    await assertRejects(() => tf.loadKerasModel(noWeights), ['model.weights.h5'], 'weights missing');

    // Hostile archives: each refused before the large allocation it asks for, with a clear message.
    const fflate = await import(/* @vite-ignore */ 'fflate');
    const enc = (o) => new TextEncoder().encode(JSON.stringify(o));
    const denseConfig = (units, inputs) => enc({ class_name: 'Sequential', config: { layers: [{ class_name: 'InputLayer', config: { batch_shape: [null, inputs] } }, { class_name: 'Dense', config: { name: 'd', units } }] } });
    // a 2 MB-class bomb: 256 MiB of zeros deflate to ~260 KB; the config's weights need 12 bytes
    const bomb = fflate.zipSync({ 'config.json': denseConfig(1, 2), 'model.weights.h5': new Uint8Array(256 * 2 ** 20) }, { level: 9 });
    assert(bomb.length < 2 ** 20, `the bomb is ${bomb.length} bytes`);
    await assertRejects(() => tf.loadKerasModel(bomb), ['model.weights.h5', 'declares', 'over the limit'], 'decompression bomb');
    // a config whose weights (10^5 x 10^5 floats: 40 GB) the tiny weights file cannot hold
    const greedy = fflate.zipSync({ 'config.json': denseConfig(1e5, 1e5), 'model.weights.h5': new Uint8Array(100) });
    // owned(): a tensor an earlier case left to the garbage collector may be finalized meanwhile
    const tensorsBefore = owned(tf.memory()).tensors;
    await assertRejects(() => tf.loadKerasModel(greedy), ['d/kernel', '100000', 'model.weights.h5'], 'config larger than its weights');
    assert(owned(tf.memory()).tensors === tensorsBefore, 'the refused model left tensors behind');
    await assertRejects(() => tf.loadKerasModel(fflate.zipSync({ 'config.json': denseConfig(1, 2), 'model.weights.h5': new Uint8Array(100).fill(7) })), ['not a readable HDF5 file'], 'garbage weights');
    // a real archive, damaged: one weight byte changed (the entry is stored, so the byte is the data)
    const good = await fixtureBytes('keras/small_cnn.keras');
    const damaged = good.slice();
    damaged[damaged.length >> 1] ^= 0x5a;
    await assertRejects(() => tf.loadKerasModel(damaged), ['model.weights.h5', 'CRC-32', 'damaged'], 'wrong CRC');
    // the same archive with the encryption flag set on the weights entry (local and central headers)
    const encrypted = good.slice();
    const view = new DataView(encrypted.buffer);
    const name = new TextEncoder().encode('model.weights.h5');
    for (let i = 0; i + 46 < encrypted.length; i++) {
      const sig = view.getUint32(i, true), nameAt = sig === 0x04034b50 ? i + 30 : sig === 0x02014b50 ? i + 46 : -1;
      if (nameAt > 0 && name.every((c, j) => encrypted[nameAt + j] === c)) view.setUint16(i + (sig === 0x04034b50 ? 6 : 8), 1, true);
    }
    await assertRejects(() => tf.loadKerasModel(encrypted), ['model.weights.h5', 'encrypted'], 'encryption flag');
  },

  async 'multiHeadAttention: a tiny causal transformer learns to copy the token two back, generates with a key/value cache, saves and loads'(tf) {
    // Sequences "a b a b ...": the next token is the one two positions back, which only
    // attention with positions can find. Trained with a plain optimizer loop on next-token loss.
    const [vocab, seq, dim, batch] = [6, 8, 16, 32];
    // Seeded initializers: the same model on every run, so what it learns does not vary.
    const init = (seed) => tf.initializers.glorotUniform({ seed });
    const build = () => {
      const ids = tf.input({ shape: [null] });
      const tok = tf.layers.embedding({ inputDim: vocab, outputDim: dim, embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: 1 }) }).apply(ids);
      const pos = tf.layers.positionEmbedding({ sequenceLength: seq, initializer: init(2) }).apply(tok);
      let x = tf.layers.add().apply([tok, pos]);
      const att = tf.layers.multiHeadAttention({ numHeads: 2, keyDim: 8, useCausalMask: true, kernelInitializer: init(3) }).apply([x, x]);
      x = tf.layers.layerNormalization({ epsilon: 1e-5 }).apply(tf.layers.add().apply([x, att]));
      const h = tf.layers.dense({ units: 32, activation: 'gelu', kernelInitializer: init(4) }).apply(x);
      x = tf.layers.add().apply([x, tf.layers.dense({ units: dim, kernelInitializer: init(5) }).apply(h)]);
      return tf.model({ inputs: ids, outputs: tf.layers.dense({ units: vocab, kernelInitializer: init(6) }).apply(x) });
    };
    const model = build();
    let state = 12345;
    const rand = (n) => { state = (state * 1103515245 + 12345) % 2147483648; return state % n; };
    const batchOf = () => {
      const ids = [], next = [];
      for (let b = 0; b < batch; b++) {
        const a = rand(vocab), c = (a + 1 + rand(vocab - 1)) % vocab;
        const row = Array.from({ length: seq + 1 }, (_, i) => (i % 2 ? c : a));
        ids.push(...row.slice(0, seq));
        next.push(...row.slice(1));
      }
      return [tf.tensor(ids, [batch, seq]), tf.oneHot(tf.tensor(next, [batch * seq], 'int32'), vocab)];
    };
    const [testIds, testNext] = batchOf();
    const lossOf = (ids, next) => tf.losses.softmaxCrossEntropy(next, model.apply(ids, { training: true }).reshape([batch * seq, vocab]));
    const first = (await tf.tidy(() => lossOf(testIds, testNext)).data())[0];
    const opt = tf.train.adam(0.01);
    for (let step = 0; step < 250; step++) {
      const [ids, next] = batchOf();
      opt.minimize(() => lossOf(ids, next), false, model.trainableWeights);
      tf.dispose([ids, next]);
    }
    const last = (await tf.tidy(() => lossOf(testIds, testNext)).data())[0];
    assert(last < first * 0.3, `transformer loss ${first} -> ${last}`);
    // Accuracy from the second position on (what follows the first token is random).
    const predicted = await tf.tidy(() => model.predict(testIds).argMax(-1)).data();
    const want = await tf.tidy(() => testNext.argMax(-1)).data();
    let right = 0, counted = 0;
    for (let i = 0; i < predicted.length; i++) if (i % seq >= 1) { counted++; right += predicted[i] === want[i] ? 1 : 0; }
    assert(right / counted >= 0.95, `transformer next-token accuracy ${right}/${counted}`);
    // Generation: the prompt runs once, then one token at a time against the key/value cache. Greedy
    // continues the pattern, equals recomputing the whole sequence each step, and leaks nothing.
    const prompt = [[2, 5], [1, 3]];
    const before = owned(tf.memory()).tensors;
    const generated = await model.generate(prompt, { maxNewTokens: 6 });
    assert(owned(tf.memory()).tensors === before, 'generate leaves no tensors behind');
    // Free generation compounds errors: allow the odd slip of a 95%-accurate model.
    const pattern = prompt.map(([a, c]) => Array.from({ length: seq }, (_, i) => (i % 2 ? c : a)));
    const matching = generated.flat().filter((t, i) => t === pattern.flat()[i]).length - 4;
    assert(matching >= 10, `generated ${JSON.stringify(generated)}: ${matching} of 12 new tokens continue the pattern`);
    const recomputed = prompt.map((r) => [...r]);
    for (let n = 0; n < 6; n++) {
      const len = recomputed[0].length;
      const next = await tf.tidy(() => model.predict(tf.tensor(recomputed.flat(), [2, len])).slice([0, len - 1, 0], [2, 1, vocab]).reshape([2, vocab]).argMax(-1)).data();
      recomputed.forEach((r, b) => r.push(next[b]));
    }
    assert(JSON.stringify(generated) === JSON.stringify(recomputed), `cached ${JSON.stringify(generated)} vs recomputed ${JSON.stringify(recomputed)}`);
    const sampled = await model.generate([2, 5], { maxNewTokens: 6, temperature: 1.5, seed: 7 });
    assert(JSON.stringify(sampled) === JSON.stringify(await model.generate([2, 5], { maxNewTokens: 6, temperature: 1.5, seed: 7 })), 'the same seed samples the same tokens');
    assert(JSON.stringify(await model.generate([2, 5], { maxNewTokens: 6, temperature: 3, topK: 1 })) === JSON.stringify(generated[0]), 'topK 1 is greedy');
    await assertRejects(() => model.generate([2, 5], { maxNewTokens: 8 }), ['sequenceLength'], 'generation past the position table');
    await assertRejects(() => model.generate([2, 5.5]), ['generate', 'token ids'], 'fractional id');
    await assertRejects(() => model.generate([2, 5], { maxNewToken: 3 }), ['generate', 'unknown option maxNewToken'], 'a misspelt option');
    await assertRejects(() => model.generate([2, 5], { eosTokenId: '3' }), ['generate', 'eosTokenId'], 'a string eos id');
    // A TF.js-format save and load (MultiHeadAttention's config and its eight weights) predicts the same.
    let saved;
    await model.save(tf.io.withSaveHandler(async (artifacts) => { saved = artifacts; return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }; }));
    assert(saved.weightSpecs.some((w) => /multi_head_attention.*\/attention_output\/kernel$/.test(w.name)), `weight names ${saved.weightSpecs.map((w) => w.name)}`);
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved));
    close(await tf.tidy(() => loaded.predict(testIds)).data(), await tf.tidy(() => model.predict(testIds)).data(), 1e-5, 1e-6, 'saved and loaded transformer');
(() => tf.layers.multiHeadAttention({ numHeads: 0, keyDim: 4 }), ['MultiHeadAttention', 'numHeads'], 'zero heads');
    // Training with dropout forms the probabilities itself: a causal layer there still honours the
    // caller's mask (the same dropout seed, with and without key 0 masked, must differ).
    const drop = tf.layers.multiHeadAttention({ numHeads: 2, keyDim: 4, dropout: 0.1, seed: 3, useCausalMask: true });
    const xs = tf.tensor(seeded(2 * 4 * 8, 12), [2, 4, 8]);
    const all = tf.ones([2, 4, 4], 'bool');
    const noFirst = tf.tensor(Array.from({ length: 32 }, (_, e) => e % 4 !== 0 || Math.floor(e / 4) % 4 === 0), [2, 4, 4], 'bool');
    const open_ = await drop.apply([xs, xs], { training: true, attentionMask: all }).data();
    const masked = await drop.apply([xs, xs], { training: true, attentionMask: noFirst }).data();
    assert(open_.some((v, i) => Math.abs(v - masked[i]) > 1e-6), 'a causal dropout layer ignored the attention mask');
    tf.dispose([xs, all, noFirst]);
    drop.dispose();
    tf.dispose([testIds, testNext]);
    loaded.dispose();
    model.dispose();
  },

  async 'a transformer classifier learns the 8x8 digits (each pixel row a token) to 95% held-out accuracy'(tf) {
    // scikit-learn's digits (www/data/digits.bin, the demo's data): 1797 images and labels. Rows
    // of 8 pixels are the tokens; one encoder block (2-head self-attention, a GELU MLP, layer
    // norms), then a softmax over the flattened positions. Every sixth image is held out (300);
    // 4 epochs on the other 1497. (Measured: 98.3% held out in Node.)
    const bytes = await repoBytes('www/data/digits.bin');
    const n = 1797;
    const pixels = Float32Array.from(bytes.subarray(0, n * 64), (v) => v / 16);
    const labels = Int32Array.from(bytes.subarray(n * 64, n * 65));
    const split = (held) => [...Array(n).keys()].filter((i) => (i % 6 === 0) === held);
    const images = (idx) => {
      const out = new Float32Array(idx.length * 64);
      idx.forEach((i, j) => out.set(pixels.subarray(i * 64, i * 64 + 64), j * 64));
      return tf.tensor(out, [idx.length, 8, 8]);
    };
    const [trainIdx, testIdx] = [split(false), split(true)];
    const init = (seed) => tf.initializers.glorotUniform({ seed });
    const rows = tf.input({ shape: [8, 8] });
    let h = tf.layers.dense({ units: 32, kernelInitializer: init(1) }).apply(rows);
    h = tf.layers.add().apply([h, tf.layers.positionEmbedding({ sequenceLength: 8, initializer: init(2) }).apply(h)]);
    const att = tf.layers.multiHeadAttention({ numHeads: 2, keyDim: 16, kernelInitializer: init(3) }).apply([h, h]);
    h = tf.layers.layerNormalization({ epsilon: 1e-5 }).apply(tf.layers.add().apply([h, att]));
    const mlp = tf.layers.dense({ units: 32, kernelInitializer: init(5) }).apply(tf.layers.dense({ units: 64, activation: 'gelu', kernelInitializer: init(4) }).apply(h));
    h = tf.layers.layerNormalization({ epsilon: 1e-5 }).apply(tf.layers.add().apply([h, mlp]));
    const probs = tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(6) }).apply(tf.layers.flatten().apply(h));
    const model = tf.model({ inputs: rows, outputs: probs });
    model.compile({ optimizer: tf.train.adam(0.003), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const x = images(trainIdx);
    const y = tf.tidy(() => tf.oneHot(tf.tensor(Int32Array.from(trainIdx, (i) => labels[i]), [trainIdx.length], 'int32'), 10));
    const hist = await model.fit(x, y, { epochs: 4, batchSize: 32, shuffle: false });
    const heldOut = images(testIdx);
    const predicted = await tf.tidy(() => model.predict(heldOut).argMax(-1)).data();
    const right = predicted.filter((p, i) => p === labels[testIdx[i]]).length;
    const [first, last] = [hist.history.loss[0], hist.history.loss.at(-1)];
    assert(last < first * 0.3, `digits transformer loss ${first} -> ${last}`);
    assert(right / testIdx.length >= 0.95, `digits transformer held-out accuracy ${right}/${testIdx.length} (loss ${first} -> ${last})`);
    tf.dispose([x, y, heldOut]);
    model.dispose();
  },

  async 'generation keeps memory flat over 1000 tokens: no tensor, device byte or wasm heap growth per token'(tf) {
    const [vocab, dim, total] = [12, 16, 1004];
    const init = (seed) => tf.initializers.glorotUniform({ seed });
    const ids = tf.input({ shape: [null] });
    const tok = tf.layers.embedding({ inputDim: vocab, outputDim: dim, embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed: 1 }) }).apply(ids);
    let x = tf.layers.add().apply([tok, tf.layers.positionEmbedding({ sequenceLength: total, initializer: init(2) }).apply(tok)]);
    const att = tf.layers.multiHeadAttention({ numHeads: 2, keyDim: 8, useCausalMask: true, kernelInitializer: init(3) }).apply([x, x]);
    x = tf.layers.layerNormalization({ epsilon: 1e-5 }).apply(tf.layers.add().apply([x, att]));
    const model = tf.model({ inputs: ids, outputs: tf.layers.dense({ units: vocab, kernelInitializer: init(4) }).apply(x) });
    const before = owned(tf.memory());
    // Tensors and bytes made and not disposed (owned: the garbage-collection safety net may free
    // an earlier case's leaks meanwhile) must stay equal; what the engine holds (pooled device
    // buffers on WebGPU, the wasm heap on the CPU, which only grows) must never rise above the
    // first sample (the net freeing earlier leaks can only lower it).
    const sample = (m) => ({ ...owned(m), device: m.numBytesInGPU ?? 0, heap: m.wasmHeapBytes });
    const seen = [];
    let streamed = 0;
    const out = await model.generate([1, 2, 3, 4], {
      maxNewTokens: 1000,
      onToken(tokens, step) {
        assert(tokens.length === 1 && step === streamed++, `onToken(${tokens}, ${step}) out of order`);
        if (step % 100 === 99) seen.push(sample(tf.memory()));
      },
    });
    assert(out.length === 1004 && streamed === 1000, `${out.length} tokens, ${streamed} streamed`);
    const flat = seen.every((m) => m.tensors === seen[0].tensors && m.bytes === seen[0].bytes && m.device <= seen[0].device && m.heap <= seen[0].heap);
    assert(seen.length === 10 && flat, `memory after every 100 tokens: ${seen.map((m) => JSON.stringify(m)).join(' | ')}`);
    assert(owned(tf.memory()).tensors === before.tensors, 'generate leaves no tensors behind');
    await assertRejects(() => model.generate([1], { onToken: 3 }), ['generate', 'onToken'], 'a non-function onToken');
    model.dispose();
  },

  async 'tf.profile reports new and peak bytes as TF.js does, each op call, and the device peak'(tf, ref) {
    const f = (lib) => () => {
      const x = lib.tensor1d([1, 2, 3]);
      let x2 = x.square();
      x2.dispose();
      x2 = x.square();
      x2.dispose();
      return x;
    };
    // peakBytes counts every live tensor (as TF.js's does): compare what each adds to its own start.
    const [ourStart, theirStart] = [tf.memory().numBytes, ref.memory().numBytes];
    const [ours, theirs] = [await tf.profile(f(tf)), await ref.profile(f(ref))];
    for (const k of ['newBytes', 'newTensors']) assert(ours[k] === theirs[k], `profile ${k}: ${ours[k]}, TF.js ${theirs[k]}`);
    assert(ours.peakBytes - ourStart === theirs.peakBytes - theirStart, `profile peakBytes: ${ours.peakBytes} from ${ourStart}, TF.js ${theirs.peakBytes} from ${theirStart}`);
    close(await ours.result.data(), [1, 2, 3], 0, 0, 'profile result');
    const squares = ours.kernels.filter((k) => k.name === 'square');
    assert(squares.length === 2 && ours.kernelNames.includes('square'), `kernels ${JSON.stringify(ours.kernelNames)}`);
    assert(squares.every((k) => k.bytesAdded === 12 && k.tensorsAdded === 1 && k.inputShapes.join() === '3' && k.outputShapes.join() === '3'), JSON.stringify(squares));
    assert(typeof squares[0].kernelTimeMs.error === 'string', 'kernel time is an {error} as TF.js gives where it cannot time one kernel');
    // (the squares are elementwise, so they stay lazy expressions and are never computed: the
    // device holds x alone)
    assert(ours.peakDeviceBytes >= 12, `device peak ${ours.peakDeviceBytes}`);
    ours.result.dispose(); theirs.result.dispose();
    // A matmul's [64, 64] product and an async function; the device peak sees the product.
    const a = tf.ones([64, 64]);
    const p = await tf.profile(async () => { const c = tf.matMul(a, a); const s = c.sum(); await s.data(); c.dispose(); return s; });
    assert(p.newTensors === 1 && p.newBytes === 4 && p.peakBytes >= tf.memory().numBytes + 64 * 64 * 4, `matMul profile ${JSON.stringify({ ...p, result: null, kernels: null })}`);
    assert(p.peakDeviceBytes >= 2 * 64 * 64 * 4, `matMul device peak ${p.peakDeviceBytes}`);
    assert(p.kernels.find((k) => k.name === 'matMul')?.inputShapes.join('|') === '64,64', JSON.stringify(p.kernels.map((k) => [k.name, k.inputShapes])));
    tf.dispose([a, p.result]);
    await assertRejects(() => tf.profile(async () => tf.profile(() => 1)), ['profile', 'nest'], 'nested profiles');
    await assertRejects(() => tf.profile(3), ['profile', 'function'], 'not a function');
  },

  async 'differential vs TF.js: quantized weight manifests (uint8, uint16, float16, as the converter writes them) load dequantized as TF.js loads them'(tf, ref) {
    // the converter's affine quantization of a float32 weight: codes of (v - min) / scale
    const affine = (values, bits) => {
      const [min, max] = [Math.min(...values), Math.max(...values)];
      const levels = 2 ** bits - 1;
      const scale = (max - min) / levels || 1;
      const codes = (bits === 8 ? Uint8Array : Uint16Array).from(values, (v) => Math.round((v - min) / scale));
      return { bytes: new Uint8Array(codes.buffer), quantization: { dtype: bits === 8 ? 'uint8' : 'uint16', min, scale } };
    };
    // float32 -> float16 bits, rounding toward zero (weights here are normal numbers or zero)
    const half = (values) => {
      const f = new Float32Array(values), u = new Uint32Array(f.buffer), out = new Uint16Array(f.length);
      u.forEach((b, i) => {
        const e = ((b >>> 23) & 0xff) - 127 + 15;
        out[i] = e <= 0 ? (b >>> 16) & 0x8000 : ((b >>> 16) & 0x8000) | (e << 10) | ((b >>> 13) & 0x3ff);
      });
      return { bytes: new Uint8Array(out.buffer), quantization: { dtype: 'float16' } };
    };
    const quantize = (specs, data, how) => {
      const parts = [];
      let at = 0;
      const out = specs.map((s) => {
        const n = s.shape.reduce((p, d) => p * d, 1);
        const raw = data.slice(at, at + 4 * n);
        at += 4 * n;
        // (the converter leaves int32 weights, shapes and axes, as they are)
        if (s.dtype === 'int32') { parts.push(new Uint8Array(raw)); return s; }
        const values = Array.from(new Float32Array(raw));
        const q = how === 'float16' ? half(values) : affine(values, how === 'uint8' ? 8 : 16);
        parts.push(q.bytes);
        return { ...s, quantization: q.quantization };
      });
      const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      parts.reduce((o, p) => { bytes.set(p, o); return o + p.length; }, 0);
      return [out, bytes.buffer];
    };
    // every float16 bit pattern class (subnormals, negative zero, large values) decodes as TF.js decodes it
    const bits = Uint16Array.from({ length: 64 }, (_, i) => [0x0001, 0x03ff, 0x8000, 0x7bff, 0xfbff, 0x3c00, 0x0400][i % 7] ^ (i * 0x0011 & 0x03ff));
    const specs16 = [{ name: 'h', shape: [64], dtype: 'float32', quantization: { dtype: 'float16' } }, { name: 'q', shape: [3], dtype: 'int32', quantization: { dtype: 'uint8', min: -4, scale: 1.5 } }];
    const data16 = new Uint8Array(128 + 3);
    data16.set(new Uint8Array(bits.buffer), 0);
    data16.set([0, 3, 255], 128);
    const [ours, theirs] = [tf.io.decodeWeights(data16.buffer, specs16), ref.io.decodeWeights(data16.buffer, specs16)];
    for (const k of ['h', 'q']) {
      assert(ours[k].dtype === theirs[k].dtype, `decodeWeights ${k}: dtype ${ours[k].dtype}, TF.js ${theirs[k].dtype}`);
      close(await ours[k].data(), await theirs[k].data(), 0, 0, `decodeWeights of quantized ${k} vs TF.js`);
    }
    tf.dispose(Object.values(ours)); ref.dispose(Object.values(theirs));
    // a converted graph model with its weights quantized each way, given whole and streamed in 7-byte chunks
    const json = JSON.parse(new TextDecoder().decode(await fixtureBytes('tfjs_graph/cnn/model.json')));
    const fixture = JSON.parse(new TextDecoder().decode(await fixtureBytes('tfjs_graph/cnn.json')));
    const shards = await Promise.all(json.weightsManifest.flatMap((g) => g.paths).map((p) => fixtureBytes(`tfjs_graph/cnn/${p}`)));
    const whole = new Uint8Array(shards.reduce((n, s) => n + s.length, 0));
    shards.reduce((at, s) => { whole.set(s, at); return at + s.length; }, 0);
    for (const how of ['uint8', 'uint16', 'float16']) {
      const [weightSpecs, weightData] = quantize(json.weightsManifest.flatMap((g) => g.weights), whole.buffer, how);
      const artifacts = { modelTopology: json.modelTopology, format: json.format, signature: json.signature, weightSpecs };
      const theirsModel = await ref.loadGraphModel(ref.io.fromMemory({ ...artifacts, weightData }));
      const want = await theirsModel.predict(ref.tensor(fixture.inputs[0].values, fixture.inputs[0].shape)).data();
      const streamed = { load: async () => ({ ...artifacts, weightChunks: async function* () { const b = new Uint8Array(weightData); for (let i = 0; i < b.length; i += 7) yield b.slice(i, i + 7); } }) };
      for (const [source, handler] of [['whole', tf.io.fromMemory({ ...artifacts, weightData })], ['streamed', streamed]]) {
        const model = await tf.loadGraphModel(handler);
        const x = tf.tensor(fixture.inputs[0].values, fixture.inputs[0].shape);
        const y = model.predict(x);
        close(await y.data(), want, 1e-4, 1e-5, `cnn graph model with ${how} weights (${source}) vs TF.js`);
        // and near TensorFlow's float32 answer, within what the quantization loses
        close(await y.data(), fixture.output.values, 0, how === 'uint8' ? 0.05 : 0.01, `cnn graph model with ${how} weights (${source}) vs TensorFlow`);
        tf.dispose([x, y]);
        model.dispose();
      }
    }
    // a layers model saved here, its weights quantized: both libraries load it, and predict the same
    const m = tf.sequential({ layers: [tf.layers.dense({ units: 5, inputShape: [4], activation: 'relu' }), tf.layers.dense({ units: 2 })] });
    const art = await saved(tf, m);
    const [qSpecs, qData] = quantize(art.weightSpecs, art.weightData, 'uint16');
    const input = seeded(8, 480);
    const fromTfjs = await (await ref.loadLayersModel(ref.io.fromMemory({ ...art, weightSpecs: qSpecs, weightData: qData }))).predict(ref.tensor(input, [2, 4])).data();
    const streamedLayers = { load: async () => ({ ...art, weightData: undefined, weightSpecs: qSpecs, weightChunks: async function* () { const b = new Uint8Array(qData); for (let i = 0; i < b.length; i += 5) yield b.slice(i, i + 5); } }) };
    for (const [source, handler] of [['whole', tf.io.fromMemory({ ...art, weightSpecs: qSpecs, weightData: qData })], ['streamed', streamedLayers]]) {
      const back = await tf.loadLayersModel(handler);
      close(await back.predict(tf.tensor(input, [2, 4])).data(), fromTfjs, 1e-5, 1e-6, `a layers model with uint16 weights (${source}) vs TF.js`);
      back.dispose();
    }
    m.dispose();
    // refused before anything loads: an unknown quantization, affine codes without a scale
    const one = (quantization) => ({ modelTopology: json.modelTopology, format: json.format, weightSpecs: [{ name: 'w', shape: [2], dtype: 'float32', quantization }], weightData: new ArrayBuffer(2) });
    await assertRejects(() => tf.loadGraphModel(tf.io.fromMemory(one({ dtype: 'int4' }))), ['quantization dtype int4'], 'an unknown quantization');
    await assertRejects(() => tf.loadGraphModel(tf.io.fromMemory(one({ dtype: 'uint8', min: 0 }))), ['scale'], 'uint8 codes without a scale');
  },

  async 'TF.js graph models (from the TF.js converter) predict as TensorFlow did, loaded async and sync'(tf, ref) {
    const before = owned(tf.memory()).tensors;
    for (const name of ['cnn', 'mlp']) {
      const ref = JSON.parse(new TextDecoder().decode(await fixtureBytes(`tfjs_graph/${name}.json`)));
      let model;
      if (typeof window === 'undefined') {
        // Node: from memory (fetch has no file URLs)
        const json = JSON.parse(new TextDecoder().decode(await fixtureBytes(`tfjs_graph/${name}/model.json`)));
        const shards = await Promise.all(json.weightsManifest.flatMap((g) => g.paths).map((p) => fixtureBytes(`tfjs_graph/${name}/${p}`)));
        const data = new Uint8Array(shards.reduce((n, s) => n + s.length, 0));
        shards.reduce((at, s) => { data.set(s, at); return at + s.length; }, 0);
        model = await tf.loadGraphModel(tf.io.fromMemory({ modelTopology: json.modelTopology, format: json.format, signature: json.signature,
          weightSpecs: json.weightsManifest.flatMap((g) => g.weights), weightData: data.buffer }));
      } else {
        model = await tf.loadGraphModel(`/tests/fixtures/tfjs_graph/${name}/model.json`); // weights stream in
      }
      const x = tf.tensor(ref.inputs[0].values, ref.inputs[0].shape);
      const y = model.predict(x);
      assert(y.shape.join() === ref.output.shape.join(), `${name}: output shape [${y.shape}], TensorFlow [${ref.output.shape}]`);
      close(await y.data(), ref.output.values, 1e-4, 1e-5, `${name} vs TensorFlow ${ref.tensorflow}`);
      tf.dispose([x, y]);
      model.dispose();
    }
    assert(owned(tf.memory()).tensors === before, 'graph models release their tensors');
    // loadGraphModelSync, from each form TF.js takes, predicts as TensorFlow and as TF.js's own (the
    // CNN: TF.js's CPU backend cannot run the MLP's fused tanh)
    const json = JSON.parse(new TextDecoder().decode(await fixtureBytes('tfjs_graph/cnn/model.json')));
    const fixture = JSON.parse(new TextDecoder().decode(await fixtureBytes('tfjs_graph/cnn.json')));
    const shards = await Promise.all(json.weightsManifest.flatMap((g) => g.paths).map((p) => fixtureBytes(`tfjs_graph/cnn/${p}`)));
    const whole = new Uint8Array(shards.reduce((n, s) => n + s.length, 0));
    shards.reduce((at, s) => { whole.set(s, at); return at + s.length; }, 0);
    const artifacts = { modelTopology: json.modelTopology, format: json.format, signature: json.signature, weightSpecs: json.weightsManifest.flatMap((g) => g.weights), weightData: whole.buffer };
    const want = await ref.loadGraphModelSync([json, whole.buffer]).predict(ref.tensor(fixture.inputs[0].values, fixture.inputs[0].shape)).data();
    for (const [form, source] of [['artifacts', artifacts], ['[modelJSON, weights]', [json, whole.buffer]], ['a synchronous handler', { load: () => artifacts }]]) {
      const model = tf.loadGraphModelSync(source);
      const y = model.predict(tf.tensor(fixture.inputs[0].values, fixture.inputs[0].shape));
      close(await y.data(), fixture.output.values, 1e-4, 1e-5, `loadGraphModelSync from ${form} vs TensorFlow`);
      close(await y.data(), want, 1e-5, 1e-6, `loadGraphModelSync from ${form} vs TF.js`);
      model.dispose();
    }
(() => tf.loadGraphModelSync({ load: async () => artifacts }), ['asynchronously'], 'loadGraphModelSync of an async handler');
    const bad = { format: 'graph-model', modelTopology: { node: [{ name: 'x', op: 'Placeholder' }, { name: 'y', op: 'Unique', input: ['x'] }] }, weightSpecs: [] };
    await assertRejects(() => tf.loadGraphModel(tf.io.fromMemory(bad)), ['Unique', "'y'"], 'unsupported op');
  },

  async 'leaked tensors are freed by the garbage-collection safety net'(tf) {
    const gc = globalThis.gc;
    if (typeof gc !== 'function') {
      console.log('leak net: not run (this engine gives pages no gc hook)');
      return;
    }
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    const before = tf.memory();
    // 100 tensors (50 inputs, 50 results) dropped without dispose and outside any tidy
    (() => { for (let i = 0; i < 50; i++) tf.tensor(seeded(1000, i + 1)).square(); })();
    assert(tf.memory().numTensors === before.numTensors + 100, 'the leaked tensors are counted while alive');
    const held = tf.tensor([1, 2, 3]);
    for (let i = 0; i < 200 && tf.memory().numTensorsFreedByGC - before.numTensorsFreedByGC < 100; i++) {
      gc();
      await sleep(5);
    }
    const after = tf.memory();
    const freed = after.numTensorsFreedByGC - before.numTensorsFreedByGC;
    console.log(`leak net: ${freed} leaked tensors freed by GC; numTensors ${before.numTensors} -> ${after.numTensors}` +
      (after.numBytesInGPU !== undefined ? `; device bytes in live buffers ${before.numBytesInGPU} -> ${after.numBytesInGPU}` : ''));
    assert(freed >= 100, `only ${freed} of 100 leaked tensors were freed`);
    assert(after.numTensors <= before.numTensors + 1 && after.numBytes <= before.numBytes + 12, 'numTensors/numBytes back down');
    if (after.numBytesInGPU !== undefined) assert(after.numBytesInGPU <= before.numBytesInGPU + 256, 'device buffers released');
    // a tensor still referenced is never collected
    close(await held.data(), [1, 2, 3], 0, 0, 'held tensor survives');
    held.dispose();
  },

  async 'float16 tensors: stored as halves, computed in float32 and stored rounded; dtype rules, gradients, bytes and memory'(tf) {
    const before = owned(tf.memory());
    // Hand-derived halves: 1.0001 -> 1, 65520 overflows, 0.1 -> 0.0999755859375, pi -> 3.140625.
    const x = tf.tensor([1.0001, 65520, 0.1, 3.14159, -2], [5], 'float16');
    assert(x.dtype === 'float16', `dtype ${x.dtype}`);
    const halves = [1, Infinity, 0.0999755859375, 3.140625, -2];
    close(await x.data(), halves, 0, 0, 'float16 values');
    assert((await x.data()) instanceof Float32Array, 'float16 data() is a Float32Array, as TF.js reads halves');
    const bits = tf.tensor(new Uint16Array([0x3c00, 0xc000, 0x7c00]), [3], 'float16');
    close(await bits.data(), [1, -2, Infinity], 0, 0, 'float16 from half bits');
    const pair = tf.tensor([1, 2], [2], 'float16');
    const raw = await pair.bytes();
    assert(raw.length === 4 && raw[1] === 0x3c && raw[3] === 0x40, `bytes() of float16 [1, 2]: ${Array.from(raw)}`);
    // Saved as the TF.js converter writes float16 weights; TF.js-style loading dequantizes them.
    const saved = await tf.io.encodeWeights({ x });
    assert(saved.specs[0].dtype === 'float32' && saved.specs[0].quantization?.dtype === 'float16' && saved.data.byteLength === 10, `encodeWeights of float16: ${JSON.stringify(saved.specs)}, ${saved.data.byteLength} bytes`);
    const loaded = tf.io.decodeWeights(saved.data, saved.specs).x;
    close(await loaded.data(), halves, 0, 0, 'float16 weights saved and loaded');
    loaded.dispose();
    const m = tf.tensor([0.5, 0.25, 1 / 3], [3], 'float16');
    // Arithmetic: float16 op float16 (or a JS number) is float16, rounded once from float32.
    const valuesOf = async (f) => { const t = tf.tidy(f); const v = await t.data(); t.dispose(); return v; };
    const f32 = await valuesOf(() => m.cast('float32'));
    const y = tf.tidy(() => m.add(m).mul(3));
    assert(y.dtype === 'float16', `float16 + float16 then * 3 is ${y.dtype}`);
    const want = await valuesOf(() => tf.tensor(Array.from(f32, (v) => (v + v) * 3)).cast('float16'));
    close(await y.data(), want, 0, 0, 'float16 arithmetic rounded as its float32 value cast to float16');
    tf.tidy(() => {
      assert(m.add(tf.tensor([1, 1, 1])).dtype === 'float32', 'float16 + float32 [3] is float32');
      assert(m.greater(0.3).dtype === 'bool' && m.argMax().dtype === 'int32', 'comparisons and argMax keep their dtypes');
    });
    // Non-elementwise ops read halves widened and give float16.
    const a = tf.tensor([[1, 2, 3], [4, 5, 6]], [2, 3], 'float16');
    const b = tf.tensor([[0.5, 1], [1.5, 2], [2.5, 3]], [3, 2], 'float16');
    // (The widened views the engine reads are freed after each op: device bytes come back.)
    const gpuBefore = tf.memory().numBytesInGPU;
    const p = tf.matMul(a, b);
    assert(p.dtype === 'float16', `matMul of float16 is ${p.dtype}`);
    close(await p.data(), [11, 14, 24.5, 32], 0, 0, 'float16 matMul');
    p.dispose();
    assert(tf.memory().numBytesInGPU === gpuBefore, `device bytes after a float16 matMul: ${tf.memory().numBytesInGPU} vs ${gpuBefore}`);
    const [sm, sum, tr] = tf.tidy(() => [a.softmax(), a.sum(), a.transpose()]);
    assert(sm.dtype === 'float16' && sum.dtype === 'float16' && tr.dtype === 'float16', 'softmax, sum and transpose of float16 are float16');
    const e = [1, 2, 3].map(Math.exp), z = e[0] + e[1] + e[2];
    close(await sm.data(), [...e, ...e].map((v) => v / z), 1e-3, 0, 'float16 softmax');
    close(await sum.data(), [21], 0, 0, 'float16 sum');
    close(await tr.data(), [1, 4, 2, 5, 3, 6], 0, 0, 'float16 transpose');
    assert(tf.tidy(() => a.reshape([6]).dtype) === 'float16', 'reshape keeps float16');
    // Gradients reach float16 inputs as float16.
    const g = tf.tidy(() => tf.grad((t) => t.square().sum())(m));
    assert(g.dtype === 'float16', `gradient of a float16 input is ${g.dtype}`);
    close(await g.data(), await valuesOf(() => m.mul(2)), 0, 0, 'd sum(m^2) / dm');
    // Memory counts two bytes an element (whole words).
    const mem0 = tf.memory().numBytes;
    const big = tf.zeros([1000], 'float16');
    assert(tf.memory().numBytes - mem0 === 2000, `a float16 [1000] holds ${tf.memory().numBytes - mem0} bytes`);
    const bigInt = big.cast('int32');
    close(await bigInt.data(), new Array(1000).fill(0), 0, 0, 'float16 zeros as int32');
    tf.dispose([x, bits, pair, m, y, a, b, sm, sum, tr, g, big, bigInt]);
    const after = owned(tf.memory());
    assert(after.tensors === before.tensors && after.bytes === before.bytes, `float16 case left ${after.tensors - before.tensors} tensors, ${after.bytes - before.bytes} bytes`);
  },

  async 'float16 through every op family: each op on halves equals the float32 op on the same values, rounded once to float16 (per engine call in composites)'(tf) {
    const before = owned(tf.memory());
    const vals = (n, lo, hi, seed) => Float32Array.from({ length: n }, (_, i) => lo + (hi - lo) * (0.5 + 0.5 * Math.sin(i * 12.9898 + seed * 78.233)));
    const h = (v, shape) => tf.tensor(v, shape, 'float16');
    const half = {
      a: h(vals(24, -3, 3, 1), [2, 3, 4]), b: h(vals(24, -3, 3, 2), [2, 3, 4]), pos: h(vals(24, 0.1, 4, 3), [2, 3, 4]), m: h(vals(12, -2, 2, 4), [3, 4]),
      img: h(vals(50, -1, 1, 5), [1, 5, 5, 2]), filt: h(vals(54, -1, 1, 6), [3, 3, 2, 3]), dw: h(vals(18, -1, 1, 7), [3, 3, 2, 1]),
    };
    // The same values as float32: each op's reference input.
    const single = Object.fromEntries(Object.entries(half).map(([k, t]) => [k, t.cast('float32')]));
    const ids = tf.tensor([2, 0, 1], [3], 'int32'), cond = tf.tidy(() => half.a.greater(0));
    const ops = {
      abs: (e) => e.a.abs(), neg: (e) => e.a.neg(), exp: (e) => e.a.exp(), log: (e) => e.pos.log(), sqrt: (e) => e.pos.sqrt(), rsqrt: (e) => e.pos.rsqrt(),
      sigmoid: (e) => e.a.sigmoid(), tanh: (e) => e.a.tanh(), relu: (e) => e.a.relu(), elu: (e) => e.a.elu(), selu: (e) => tf.selu(e.a), softplus: (e) => tf.softplus(e.a),
      sin: (e) => e.a.sin(), cos: (e) => e.a.cos(), floor: (e) => e.a.floor(), round: (e) => e.a.round(), square: (e) => e.a.square(), reciprocal: (e) => e.pos.reciprocal(),
      leakyRelu: (e) => tf.leakyRelu(e.a, 0.1), clipByValue: (e) => e.a.clipByValue(-1, 1), erf: (e) => tf.erf(e.a),
      add: (e) => e.a.add(e.b), sub: (e) => e.a.sub(e.b), mul: (e) => e.a.mul(e.b), div: (e) => e.b.div(e.pos), maximum: (e) => e.a.maximum(e.b), minimum: (e) => e.a.minimum(e.b),
      pow: (e) => e.pos.pow(tf.scalar(1.5)), squaredDifference: (e) => tf.squaredDifference(e.a, e.b), addNumber: (e) => e.a.add(2.5), where: (e) => tf.where(cond, e.a, e.b),
      sum: (e) => e.a.sum(1), mean: (e) => e.a.mean(-1), max: (e) => e.a.max(0), min: (e) => e.a.min(2), prod: (e) => e.a.prod(2), logSumExp: (e) => e.a.logSumExp(-1),
      argMax: (e) => e.a.argMax(2), greater: (e) => e.a.greater(e.b), softmax: (e) => e.a.softmax(), logSoftmax: (e) => e.a.logSoftmax(), cumsum: (e) => e.a.cumsum(2),
      matMul: (e) => e.m.matMul(e.m, false, true), dot: (e) => tf.dot(e.m, e.m.transpose()), conv2d: (e) => tf.conv2d(e.img, e.filt, 1, 'same'),
      depthwiseConv2d: (e) => tf.depthwiseConv2d(e.img, e.dw, 1, 'valid'), maxPool: (e) => tf.maxPool(e.img, 2, 1, 'valid'), avgPool: (e) => tf.avgPool(e.img, 2, 2, 'same'),
      transpose: (e) => e.a.transpose([2, 0, 1]), reshape: (e) => e.a.reshape([4, 6]), slice: (e) => e.a.slice([0, 1, 1], [2, 2, 2]), concat: (e) => tf.concat([e.a, e.b], 1),
      stack: (e) => tf.stack([e.a, e.b]), pad: (e) => e.a.pad([[0, 0], [1, 0], [0, 2]]), tile: (e) => e.m.tile([2, 1]), reverse: (e) => e.a.reverse(1),
      gather: (e) => e.m.gather(ids), layerNorm: (e) => tf.layerNorm(e.a), moments: (e) => tf.moments(e.a, [0, 1]).variance,
      meanSquaredError: (e) => tf.losses.meanSquaredError(e.a, e.b), absoluteDifference: (e) => tf.losses.absoluteDifference(e.a, e.b, e.pos),
      softmaxCrossEntropy: (e) => tf.losses.softmaxCrossEntropy(e.a.softmax(), e.b), metricsMse: (e) => tf.metrics.meanSquaredError(e.a, e.b),
    };
    // Composites of several engine calls round each call's float16 result, as PyTorch rounds per op.
    const composite = new Set(['absoluteDifference', 'softmaxCrossEntropy']);
    for (const [name, f] of Object.entries(ops)) {
      const [y, want] = tf.tidy(() => {
        const y = f(half), r = f(single);
        return [y, r.dtype === 'float32' ? r.cast('float16') : r];
      });
      assert(y.dtype === want.dtype, `${name} of float16: dtype ${y.dtype}, expected ${want.dtype}`);
      assert(y.shape.join() === want.shape.join(), `${name} of float16: shape [${y.shape}], expected [${want.shape}]`);
      const [rtol, atol] = composite.has(name) ? [2e-3, 1e-3] : [0, 0];
      close(await y.data(), await want.data(), rtol, atol, `${name} of float16 vs float32 rounded once`);
      tf.dispose([y, want]);
    }
    tf.dispose([...Object.values(half), ...Object.values(single), ids, cond]);
    const after = owned(tf.memory());
    assert(after.tensors === before.tensors, `left ${after.tensors - before.tensors} tensors`);
  },

  async 'float16 at the shapes ONNX Runtime Web users report overflowing (its issues 31626, 29130, 28976): layer norm over 4096, a mean over 2^20 elements, conv2dTranspose over 2049 channels stay finite and match float32'(tf) {
    const before = owned(tf.memory());
    const valuesOf = async (t) => { const v = await t.data(); t.dispose(); return v; };
    // Squares of these reach 4e4 and their sum 8e7: past float16's 65504, not float32's.
    const xs = Float32Array.from({ length: 4096 }, (_, i) => 200 * Math.sin(i * 0.37));
    const x16 = tf.tensor(xs, [1, 4096], 'float16');
    const ln = await valuesOf(tf.layerNorm(x16, undefined, undefined, 1e-5));
    const ref = await valuesOf(tf.tidy(() => tf.layerNorm(x16.cast('float32'), undefined, undefined, 1e-5).cast('float16')));
    assert(ln.every(Number.isFinite), 'float16 layer norm over 4096 is finite');
    close(ln, ref, 0, 0, 'float16 layer norm: the float32 result rounded once');
    // 2^20 elements of 60000: the sum, 6.3e10, is exact in float32's accumulation.
    const big = tf.fill([1 << 20], 60000, 'float16');
    const mean = await valuesOf(big.mean());
    close(mean, [60000], 0, 0, 'float16 mean over 2^20 elements of 60000');
    big.dispose();
    // 2049 input channels, each product 30: 61470, finite in float16 only when summed wider.
    const x = tf.ones([1, 2, 2, 2049], 'float16');
    const f = tf.fill([1, 1, 3, 2049], 30, 'float16');
    const y = tf.conv2dTranspose(x, f, [1, 2, 2, 3], 1, 'same');
    assert(y.dtype === 'float16', `conv2dTranspose of float16 is ${y.dtype}`);
    close(await valuesOf(y), new Array(12).fill(61472), 0, 0, 'float16 conv2dTranspose over 2049 channels (61470 to the nearest half)');
    tf.dispose([x16, x, f]);
    const after = owned(tf.memory());
    assert(after.tensors === before.tensors && after.bytes === before.bytes, `left ${after.tensors - before.tensors} tensors`);
  },

  async 'over-limit allocation and device loss: clear errors, no hang, tf.ready() recovers (WebGPU; runs last)'(tf) {
    const max = tf.maxTensorBytes();
    assert(max > 0, 'maxTensorBytes');
    const n = Math.floor(max / 4) + 1;
(() => tf.zeros([n]), n < 2 ** 30 ? ['exceeds', 'limit'] : ['too many elements'], 'allocation over the limit');
    if (tf.getBackend() !== 'webgpu') return;
    const before = owned(tf.memory()).tensors;
    const a = tf.tensor([1, 2]);
    const b = a.exp();
    close(await b.data(), [Math.E, Math.exp(2)], 1e-5);
    tf.simulateDeviceLoss();
    assert(tf.isDeviceLost(), 'isDeviceLost after the device is destroyed');
(() => a.exp(), ['exp', 'lost', 'tf.ready()'], 'op on a lost device');
    let err;
    try { await b.data(); } catch (e) { err = e; }
    assert(err instanceof Error && err.message.includes('lost'), `read on a lost device: ${err}`);
    await tf.ready();
    assert(tf.getBackend() === 'webgpu' && !tf.isDeviceLost(), 'a new WebGPU device after tf.ready()');
    const e3 = tf.tidy(() => tf.tensor([3]).exp());
    close(await e3.data(), [Math.exp(3)], 1e-5, 0, 'computes on the new device');
(() => tf.tidy(() => a.add(tf.tensor([1, 1]))), ['different GPU devices'], 'old tensor with a new one');
    const m = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2], kernelInitializer: 'ones' })] });
    const y = tf.tidy(() => m.predict(tf.tensor([[1, 2]])));
    close(await y.data(), [3], 1e-6, 0, 'a model works on the new device');
    tf.dispose([e3, y, a, b]);
    m.dispose();
    assert(owned(tf.memory()).tensors === before, `tensors of the recovery test released (${owned(tf.memory()).tensors} vs ${before})`);
  },
};
