// The benchmark, run inside one page so every contender shares the browser, the machine and the
// run. For each workload, contenders are interleaved repetition by repetition after a warm-up;
// each sample is a complete user-visible operation ending in a readback (what a user awaits);
// the reported figure is the median.
// The npm package's TF.js-style API, for the workloads that run the same user code on both
// libraries (model.fit).
import * as wtf from '../dist/js/index.js';
// The engine's raw exports (`engine.wasm`, a live binding: the glue of whichever build the
// package's loader picked), for the workloads written against the engine itself.
import * as engine from '../dist/js/engine.js';
const { loadWasm, hasRelaxedSimd } = engine;

const tf = window.tf;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function randomData(n, seed, scale = 1) {
  let x = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    out[i] = (x / 4294967296 - 0.5) * 2 * scale;
  }
  return out;
}
const labelsData = (n, classes) => Int32Array.from({ length: n }, (_, i) => (i * 7) % classes);
const u32 = (a) => new Uint32Array(a);

// ---- our side (the wasm facade) ---------------------------------------------------------------
const ours = {
  tensor: (data, shape) => engine.wasm.Tensor.fromArray(data, u32(shape), 'float32'),
  ints: (data, shape) => engine.wasm.Tensor.fromArray(data, u32(shape), 'int32'),
  free: (...ts) => ts.forEach((t) => t.free()),
};

function oursDense(x, w, b, act) {
  const y0 = x.matMul(w, false, false);
  const y = y0.binary(engine.wasm.BinaryOp.Add, b);
  y0.free();
  if (act === null) return y;
  const a = y.unary(act);
  y.free();
  return a;
}

// ---- workloads --------------------------------------------------------------------------------
// Each returns { flops?, ours(backend) -> {run, dispose}, tfjs(backend) -> {run, dispose} }.
function matmulWorkload(n) {
  const a = randomData(n * n, 1), b = randomData(n * n, 2);
  return {
    name: `matmul ${n}`,
    flops: 2 * n ** 3,
    ours(variant) {
      const ta = ours.tensor(a, [n, n]), tb = ours.tensor(b, [n, n]);
      return {
        async run() {
          const c = variant === 'naive' ? ta.matMulNaive(tb) : ta.matMul(tb, false, false);
          const v = await c.data();
          c.free();
          return v;
        },
        dispose() { ours.free(ta, tb); },
      };
    },
    tfjs() {
      const ta = tf.tensor2d(a, [n, n]), tb = tf.tensor2d(b, [n, n]);
      return {
        async run() { const c = tf.matMul(ta, tb); const v = await c.data(); c.dispose(); return v; },
        dispose() { ta.dispose(); tb.dispose(); },
      };
    },
  };
}

function conv2dWorkload() {
  const xs = [8, 32, 32, 16], fs = [3, 3, 16, 32];
  const x = randomData(xs.reduce((p, v) => p * v), 3), f = randomData(fs.reduce((p, v) => p * v), 4, 0.2);
  return {
    name: 'conv2d 8x32x32x16 * 3x3x16x32 same',
    flops: 2 * 8 * 32 * 32 * 32 * 3 * 3 * 16,
    ours() {
      const tx = ours.tensor(x, xs), tfl = ours.tensor(f, fs);
      return {
        async run() { const y = tx.conv2d(tfl, u32([1]), 'same', u32([]), u32([1])); const v = await y.data(); y.free(); return v; },
        dispose() { ours.free(tx, tfl); },
      };
    },
    tfjs() {
      const tx = tf.tensor4d(x, xs), tfl = tf.tensor4d(f, fs);
      return {
        async run() { const y = tf.conv2d(tx, tfl, 1, 'same'); const v = await y.data(); y.dispose(); return v; },
        dispose() { tx.dispose(); tfl.dispose(); },
      };
    },
  };
}

// One op over a 512x512 float32 matrix through the tf.* API of each library (reductions and
// softmax: the CPU backend's vector loops).
function matrixOpWorkload(name, f) {
  const shape = [512, 512], x = randomData(512 * 512, 13);
  const prepare = (lib) => {
    const t = lib.tensor(x, shape);
    return {
      async run() { const y = f(lib, t); const v = await y.data(); y.dispose(); return v; },
      dispose() { t.dispose(); },
    };
  };
  return { name, ours: () => prepare(wtf), tfjs: () => prepare(tf) };
}

const MATRIX_OPS = [
  matrixOpWorkload('reduce max 512x512 along rows', (lib, t) => lib.max(t, 1)),
  matrixOpWorkload('reduce max 512x512 down columns', (lib, t) => lib.max(t, 0)),
  matrixOpWorkload('reduce sum 512x512 along rows', (lib, t) => lib.sum(t, 1)),
  matrixOpWorkload('softmax 512x512 along rows', (lib, t) => lib.softmax(t)),
];

// A training step: forward, loss, backward, Adam update, then a readback of the loss.
function mlpTrainWorkload() {
  const batch = 128;
  const x = randomData(batch * 784, 5), labels = labelsData(batch, 10);
  const init = { w1: randomData(784 * 128, 6, 0.05), w2: randomData(128 * 10, 7, 0.1) };
  return {
    name: 'train step MLP 784-128-10, batch 128, Adam',
    ours() {
      const tx = ours.tensor(x, [batch, 784]), ty = ours.ints(labels, [batch]);
      const params = [ours.tensor(init.w1, [784, 128]), ours.tensor(new Float32Array(128), [128]),
        ours.tensor(init.w2, [128, 10]), ours.tensor(new Float32Array(10), [10])];
      const opt = new engine.wasm.Optimizer('adam', 0.001, {});
      params.forEach((p) => opt.addParam(p));
      return {
        async run() {
          const h = oursDense(tx, params[0], params[1], engine.wasm.UnaryOp.Relu);
          const logits = oursDense(h, params[2], params[3], null);
          const loss = engine.wasm.Tensor.loss(engine.wasm.Loss.SparseSoftmaxCrossEntropy, ty, logits);
          engine.wasm.backward(loss);
          opt.step();
          const v = await loss.data();
          ours.free(h, logits, loss);
          return v;
        },
        dispose() { ours.free(tx, ty, ...params); opt.free(); },
      };
    },
    tfjs() {
      const tx = tf.tensor2d(x, [batch, 784]), ty = tf.oneHot(tf.tensor1d(labels, 'int32'), 10);
      const w1 = tf.variable(tf.tensor2d(init.w1, [784, 128])), b1 = tf.variable(tf.zeros([128]));
      const w2 = tf.variable(tf.tensor2d(init.w2, [128, 10])), b2 = tf.variable(tf.zeros([10]));
      const opt = tf.train.adam(0.001);
      return {
        async run() {
          const loss = opt.minimize(() => {
            const h = tf.relu(tf.add(tf.matMul(tx, w1), b1));
            return tf.losses.softmaxCrossEntropy(ty, tf.add(tf.matMul(h, w2), b2));
          }, true);
          const v = await loss.data();
          loss.dispose();
          return v;
        },
        dispose() { tf.dispose([tx, ty, w1, b1, w2, b2]); opt.dispose(); },
      };
    },
  };
}

// conv2d(8, 3x3, relu) - maxPool 2 - flatten - dense 10 on 28x28x1.
function cnnParams(seed) {
  return { k: randomData(3 * 3 * 1 * 8, seed, 0.3), w: randomData(13 * 13 * 8 * 10, seed + 1, 0.05) };
}

function cnnTrainWorkload() {
  const batch = 64;
  const x = randomData(batch * 28 * 28, 8), labels = labelsData(batch, 10), init = cnnParams(9);
  return {
    name: 'train step CNN conv8-pool-dense10, 28x28x1, batch 64, Adam',
    ours() {
      const tx = ours.tensor(x, [batch, 28, 28, 1]), ty = ours.ints(labels, [batch]);
      const params = [ours.tensor(init.k, [3, 3, 1, 8]), ours.tensor(new Float32Array(8), [8]),
        ours.tensor(init.w, [13 * 13 * 8, 10]), ours.tensor(new Float32Array(10), [10])];
      const opt = new engine.wasm.Optimizer('adam', 0.001, {});
      params.forEach((p) => opt.addParam(p));
      return {
        async run() {
          const c = tx.conv2d(params[0], u32([1]), 'valid', u32([]), u32([1]));
          const cb = c.binary(engine.wasm.BinaryOp.Add, params[1]);
          const r = cb.unary(engine.wasm.UnaryOp.Relu);
          const p = r.maxPool(u32([2]), u32([2]), 'valid', u32([]));
          const flat = p.reshape(new Int32Array([batch, -1]));
          const logits = oursDense(flat, params[2], params[3], null);
          const loss = engine.wasm.Tensor.loss(engine.wasm.Loss.SparseSoftmaxCrossEntropy, ty, logits);
          engine.wasm.backward(loss);
          opt.step();
          const v = await loss.data();
          ours.free(c, cb, r, p, flat, logits, loss);
          return v;
        },
        dispose() { ours.free(tx, ty, ...params); opt.free(); },
      };
    },
    tfjs() {
      const tx = tf.tensor4d(x, [batch, 28, 28, 1]), ty = tf.oneHot(tf.tensor1d(labels, 'int32'), 10);
      const k = tf.variable(tf.tensor4d(init.k, [3, 3, 1, 8])), kb = tf.variable(tf.zeros([8]));
      const w = tf.variable(tf.tensor2d(init.w, [13 * 13 * 8, 10])), b = tf.variable(tf.zeros([10]));
      const opt = tf.train.adam(0.001);
      return {
        async run() {
          const loss = opt.minimize(() => {
            const h = tf.maxPool(tf.relu(tf.add(tf.conv2d(tx, k, 1, 'valid'), kb)), 2, 2, 'valid');
            return tf.losses.softmaxCrossEntropy(ty, tf.add(tf.matMul(tf.reshape(h, [batch, -1]), w), b));
          }, true);
          const v = await loss.data();
          loss.dispose();
          return v;
        },
        dispose() { tf.dispose([tx, ty, k, kb, w, b]); opt.dispose(); },
      };
    },
  };
}

function cnnInferWorkload() {
  const x = randomData(28 * 28, 10), init = cnnParams(11);
  return {
    name: 'inference CNN, batch 1 (latency)',
    ours() {
      const tx = ours.tensor(x, [1, 28, 28, 1]);
      const k = ours.tensor(init.k, [3, 3, 1, 8]), w = ours.tensor(init.w, [13 * 13 * 8, 10]);
      return {
        async run() {
          const c = tx.conv2d(k, u32([1]), 'valid', u32([]), u32([1]));
          const r = c.unary(engine.wasm.UnaryOp.Relu);
          const p = r.maxPool(u32([2]), u32([2]), 'valid', u32([]));
          const flat = p.reshape(new Int32Array([1, -1]));
          const logits = flat.matMul(w, false, false);
          const probs = logits.softmax(-1);
          const v = await probs.data();
          ours.free(c, r, p, flat, logits, probs);
          return v;
        },
        dispose() { ours.free(tx, k, w); },
      };
    },
    tfjs() {
      const tx = tf.tensor4d(x, [1, 28, 28, 1]), k = tf.tensor4d(init.k, [3, 3, 1, 8]), w = tf.tensor2d(init.w, [13 * 13 * 8, 10]);
      return {
        async run() {
          const probs = tf.tidy(() => tf.softmax(tf.matMul(tf.reshape(tf.maxPool(tf.relu(tf.conv2d(tx, k, 1, 'valid')), 2, 2, 'valid'), [1, -1]), w)));
          const v = await probs.data();
          probs.dispose();
          return v;
        },
        dispose() { tf.dispose([tx, k, w]); },
      };
    },
  };
}


// The demo's model and data (www/digits.js): the CNN on scikit-learn's 8x8 digits, trained with
// model.fit for 10 epochs at batch 32 with Adam 0.01, the same code on both libraries.
let digitsData;
async function loadDigits() {
  if (digitsData) return digitsData;
  const buf = new Uint8Array(await (await fetch('../www/data/digits.bin')).arrayBuffer());
  const n = 1797, nTrain = 1438;
  digitsData = {
    x: Float32Array.from(buf.subarray(0, nTrain * 64), (v) => v / 16),
    y: Int32Array.from(buf.subarray(n * 64, n * 64 + nTrain)),
    n: nTrain,
  };
  return digitsData;
}

function digitsFitWorkload() {
  const fit = (lib) => {
    let x, y;
    return {
      async run() {
        const d = await loadDigits();
        x ??= lib.tensor(d.x, [d.n, 8, 8, 1]);
        y ??= lib.oneHot(lib.tensor(d.y, [d.n], 'int32'), 10);
        const m = lib.sequential();
        m.add(lib.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [8, 8, 1], kernelInitializer: lib.initializers.glorotUniform({ seed: 1 }) }));
        m.add(lib.layers.maxPooling2d({ poolSize: 2 }));
        m.add(lib.layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: lib.initializers.glorotUniform({ seed: 2 }) }));
        m.add(lib.layers.maxPooling2d({ poolSize: 2 }));
        m.add(lib.layers.flatten());
        m.add(lib.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: lib.initializers.glorotUniform({ seed: 3 }) }));
        m.compile({ optimizer: lib.train.adam(0.01), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
        const counted = lib === wtf && wtf.getBackend() === 'webgpu';
        const before = counted ? engine.wasm.memoryInfo().dispatches : 0;
        const h = await m.fit(x, y, { epochs: 10, batchSize: 32, shuffle: false });
        // GPU dispatches per training step (45 steps an epoch), for the op IR's goal
        if (counted) this.dispatchesPerStep = (engine.wasm.memoryInfo().dispatches - before) / (10 * Math.ceil(d.n / 32));
        m.dispose();
        return Float32Array.of(h.history.loss[9], h.history.acc[9]);
      },
      dispose() { lib.dispose([x, y]); },
    };
  };
  return {
    name: 'train digits CNN, 10 epochs of model.fit, batch 32, Adam 0.01',
    // TF.js-webgpu takes minutes a run here (its CNN step alone is ~1.3 s on SwiftShader)
    skip: { 'tfjs-webgpu': 'takes minutes per run on this adapter (see its CNN step)' },
    ours() { return fit(wtf); },
    tfjs() { return fit(tf); },
  };
}

// Causal self-attention, [batch, heads, seq, head size 64]: webtensor's fused op
// (tf.scaledDotProductAttention) against the materialised composition softmax(q k^T / 8 + causal
// bias) v, which is what TF.js runs and what the webtensor-*-composed contenders run through the
// same npm API. Forward alone, or forward and the gradients of q, k and v. The runner also records
// each contender's peak bytes (the fused op never stores the seq x seq scores).
function attentionWorkload([b, h, seq], backward) {
  const d = 64;
  const shape = [b, h, seq, d];
  const inputs = [1, 2, 3].map((s) => randomData(b * h * seq * d, s, 0.5));
  const biasData = Float32Array.from({ length: seq * seq }, (_, e) => ((e % seq) > Math.floor(e / seq) ? -1e9 : 0));
  const make = (lib, fused) => {
    let qkv, bias;
    const attend = (q, k, v) => (fused
      ? lib.scaledDotProductAttention(q, k, v, { causal: true })
      : lib.matMul(lib.softmax(lib.add(lib.mul(lib.matMul(q, k, false, true), 1 / Math.sqrt(d)), bias)), v));
    return {
      async run() {
        qkv ??= inputs.map((x) => lib.tensor(x, shape));
        bias ??= lib.tensor(biasData, [seq, seq]);
        if (!backward) {
          const y = attend(...qkv);
          const out = await y.data();
          y.dispose();
          return out;
        }
        const grads = lib.grads((q, k, v) => lib.sum(attend(q, k, v)))(qkv);
        const out = await grads[0].data();
        lib.dispose(grads);
        return out;
      },
      dispose() { lib.dispose([...(qkv ?? []), bias]); },
    };
  };
  return {
    name: `attention ${backward ? 'forward+backward' : 'forward'} causal, ${b}x${h} heads x seq ${seq} x 64`,
    flops: (backward ? 3 : 1) * 2 * 2 * b * h * seq * seq * d / 2,
    ours(variant) { return make(wtf, variant !== 'composed'); },
    tfjs() { return make(tf, false); },
  };
}

/** The attention shapes the bench runs: [batch, heads, seq]. */
const ATTENTION_SHAPES = [[1, 4, 128], [1, 4, 256], [1, 4, 1024], [8, 12, 128]];

// A GPT-2-small-shaped transformer block (d 768, 12 heads, MLP 3072, causal, pre-norm), one
// Adam step on a regression loss over 128 positions, written once with each library's ops: ours
// uses its fused layerNorm and scaledDotProductAttention, TF.js (which has neither) the usual
// composition. relu in the MLP, as TF.js has no gelu op.
function gptBlockTrainWorkload() {
  const [seq, dim, heads, hidden] = [128, 768, 12, 3072];
  const hd = dim / heads;
  const x = randomData(seq * dim, 21), target = randomData(seq * dim, 22, 0.1);
  const shapes = { wq: [dim, dim], wk: [dim, dim], wv: [dim, dim], wo: [dim, dim], w1: [dim, hidden], w2: [hidden, dim] };
  const causal = Float32Array.from({ length: seq * seq }, (_, e) => ((e % seq) > Math.floor(e / seq) ? -1e9 : 0));
  const make = (lib, composed) => {
    const fused = lib === wtf;
    const fusedAttention = fused && !composed;
    const p = {};
    Object.entries(shapes).forEach(([k, s], i) => { p[k] = lib.variable(lib.tensor(randomData(s[0] * s[1], 30 + i, 0.03), s)); });
    for (const k of ['g1', 'g2']) p[k] = lib.variable(lib.ones([dim]));
    for (const k of ['b1', 'b2']) p[k] = lib.variable(lib.zeros([dim]));
    const tx = lib.tensor(x, [seq, dim]), ty = lib.tensor(target, [seq, dim]), bias = lib.tensor(causal, [seq, seq]);
    const norm = (h, g, b) => {
      if (fused) return wtf.layerNorm(h, g, b, 1e-5);
      const { mean, variance } = lib.moments(h, -1, true);
      return h.sub(mean).mul(lib.rsqrt(variance.add(1e-5))).mul(g).add(b);
    };
    const heads4 = (t) => t.reshape([1, seq, heads, hd]).transpose([0, 2, 1, 3]);
    const attend = (q, k, v) => (fusedAttention
      ? wtf.scaledDotProductAttention(q, k, v, { causal: true })
      : lib.matMul(lib.softmax(lib.matMul(q, k, false, true).mul(1 / Math.sqrt(hd)).add(bias)), v));
    const block = () => {
      const h = norm(tx, p.g1, p.b1);
      const a = attend(heads4(h.matMul(p.wq)), heads4(h.matMul(p.wk)), heads4(h.matMul(p.wv)));
      const x2 = tx.add(a.transpose([0, 2, 1, 3]).reshape([seq, dim]).matMul(p.wo));
      return x2.add(lib.relu(norm(x2, p.g2, p.b2).matMul(p.w1)).matMul(p.w2));
    };
    const opt = lib.train.adam(1e-4);
    return {
      async run() {
        const loss = opt.minimize(() => lib.mean(lib.square(block().sub(ty))), true, Object.values(p));
        const v = await loss.data();
        loss.dispose();
        return v;
      },
      dispose() { lib.dispose([...Object.values(p), tx, ty, bias]); opt.dispose(); },
    };
  };
  return {
    name: 'train step transformer block d768 h12 seq128 (GPT-2-small shaped), Adam',
    skip: { 'tfjs-webgpu': 'takes minutes per step on this adapter (see its CNN step)' },
    ours(variant) { return make(wtf, variant === 'composed'); },
    tfjs() { return make(tf, true); },
  };
}

// Generation with the key/value cache: a 2-layer GPT (vocab 256, d 64, 4 heads, MLP 256, random
// weights) extends a 16-token prompt by 32 tokens, greedy. TF.js has no generation.
function generateWorkload() {
  const [vocab, dim, layers, newTokens] = [256, 64, 2, 32];
  const prompt = Array.from({ length: 16 }, (_, i) => (i * 37) % vocab);
  const build = () => {
    const L = wtf.layers;
    const init = (seed) => wtf.initializers.glorotUniform({ seed });
    const ids = wtf.input({ shape: [null] });
    const tok = L.embedding({ inputDim: vocab, outputDim: dim, embeddingsInitializer: wtf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed: 1 }) }).apply(ids);
    let x = L.add().apply([tok, L.positionEmbedding({ sequenceLength: 64, initializer: init(2) }).apply(tok)]);
    for (let l = 0; l < layers; l++) {
      const att = L.multiHeadAttention({ numHeads: 4, keyDim: 16, useCausalMask: true, kernelInitializer: init(10 + l) }).apply([x, x]);
      x = L.layerNormalization({ epsilon: 1e-5 }).apply(L.add().apply([x, att]));
      const h = L.dense({ units: 4 * dim, activation: 'gelu', kernelInitializer: init(20 + l) }).apply(x);
      x = L.layerNormalization({ epsilon: 1e-5 }).apply(L.add().apply([x, L.dense({ units: dim, kernelInitializer: init(30 + l) }).apply(h)]));
    }
    return wtf.model({ inputs: ids, outputs: L.dense({ units: vocab, kernelInitializer: init(40) }).apply(x) });
  };
  const none = 'TF.js has no generation';
  return {
    name: `generate ${newTokens} tokens after a 16-token prompt, 2-layer GPT d64 (key/value cache)`,
    skip: { 'tfjs-webgpu': none, 'tfjs-webgl': none, 'tfjs-wasm': none },
    ours() {
      const model = build();
      return {
        async run() { return Float32Array.from(await model.generate(prompt, { maxNewTokens: newTokens })); },
        dispose() { model.dispose(); },
      };
    },
  };
}

// ---- ONNX models: webtensor's importer vs ONNX Runtime Web ------------------------------------
// The transformer fixtures (tests/fixtures/onnx_models, exported by torch) and, when
// `python3 scripts/transformer_fixtures.py --bench` has written them, bench/models/ (BERT-mini
// sized). Each sample is one inference with every output read back to JS.
const ORT_ONLY = 'TF.js cannot run ONNX models';
const tfjsSkip = { 'tfjs-webgpu': ORT_ONLY, 'tfjs-webgl': ORT_ONLY, 'tfjs-wasm': ORT_ONLY };

async function fetchBytes(path) {
  const r = await fetch(path);
  if (!r.ok) throw new Error(`${path}: ${r.status} (bench/models/ is written by python3 scripts/transformer_fixtures.py --bench, scripts/quantized_fixtures.py --bench and scripts/convnet_fixtures.py)`);
  return new Uint8Array(await r.arrayBuffer());
}

/// feeds: { name: { type: 'int64' | 'float32', data: number[] | Float32Array, dims } }
function onnxWorkload(name, path, feeds) {
  const ortFeeds = () => Object.fromEntries(Object.entries(feeds).map(([k, f]) => [k,
    new window.ort.Tensor(f.type, f.type === 'int64' ? BigInt64Array.from(f.data, (v) => BigInt(v)) : Float32Array.from(f.data), f.dims)]));
  return {
    name,
    skip: tfjsSkip,
    async ours() {
      const bytes = await fetchBytes(path);
      const live = engine.wasm.memoryInfo().liveBytes;
      const model = await wtf.loadOnnxModel(bytes);
      // What the loaded model holds on its device (weights, packed or not).
      const modelBytes = engine.wasm.memoryInfo().liveBytes - live;
      // The CPU backend's packed copies of the weights, made by the runs (src/ops/packed_weights.rs).
      const packed = () => engine.wasm.memoryInfo().packedWeightBytes ?? 0;
      const packedAtLoad = packed();
      const inputs = model.inputNames.map((n) => {
        const f = feeds[n];
        return wtf.tensor(f.type === 'int64' ? Int32Array.from(f.data) : Float32Array.from(f.data), f.dims, f.type === 'int64' ? 'int32' : 'float32');
      });
      return {
        modelBytes,
        packedBytes: () => packed() - packedAtLoad,
        async run() {
          let outs = model.execute(inputs);
          outs = Array.isArray(outs) ? outs : [outs];
          const values = await Promise.all(outs.map((t) => t.data()));
          wtf.dispose(outs);
          return values[0];
        },
        dispose() { wtf.dispose(inputs); model.dispose(); },
      };
    },
    async ort(ep) {
      const session = await window.ort.InferenceSession.create(await fetchBytes(path), { executionProviders: [ep] });
      const f = ortFeeds();
      return {
        async run() {
          const out = await session.run(f);
          const first = out[session.outputNames[0]].data;
          for (const t of Object.values(out)) t.dispose?.();
          return Float32Array.from(first);
        },
        dispose() { session.release(); },
      };
    },
  };
}

function tokenFeeds(batch, seq, withTypes) {
  const ids = Array.from({ length: batch * seq }, (_, i) => 1 + ((i * 37) % 98));
  const feeds = { input_ids: { type: 'int64', data: ids, dims: [batch, seq] } };
  if (withTypes) {
    feeds.attention_mask = { type: 'int64', data: ids.map(() => 1), dims: [batch, seq] };
    feeds.token_type_ids = { type: 'int64', data: ids.map(() => 0), dims: [batch, seq] };
  }
  return feeds;
}

const FIXTURES = '../tests/fixtures/onnx_models';
function onnxWorkloads() {
  return [
    onnxWorkload('onnx bert tiny (2 layers, d32), seq 64', `${FIXTURES}/bert/model.onnx`, tokenFeeds(1, 64, true)),
    onnxWorkload('onnx bert tiny, ORT-optimized (com.microsoft ops), seq 64', `${FIXTURES}/bert_fused/model.onnx`, tokenFeeds(1, 64, true)),
    onnxWorkload('onnx gpt2 tiny (2 layers, d32), seq 64', `${FIXTURES}/gpt2/model.onnx`, tokenFeeds(1, 64, false)),
    onnxWorkload('onnx llama tiny (GQA, RoPE, d32), seq 64', `${FIXTURES}/llama/model.onnx`, tokenFeeds(1, 64, false)),
    onnxWorkload('onnx vit tiny (16x16, d32), batch 8', `${FIXTURES}/vit/model.onnx`, { pixel_values: { type: 'float32', data: randomData(8 * 3 * 16 * 16, 9), dims: [8, 3, 16, 16] } }),
    onnxWorkload('onnx bert mini (4 layers, d256), seq 128', 'models/bert_mini/model.onnx', tokenFeeds(1, 128, true)),
    onnxWorkload('onnx gpt2 mini (4 layers, d256), seq 128', 'models/gpt2_mini/model.onnx', tokenFeeds(1, 128, false)),
    onnxGenerateWorkload('onnx gpt2 mini generate 32 tokens after 16 (past key/values)', 'models/gpt2_mini_past/model.onnx', 16, 32),
    // torchvision conv nets with seeded weights (python3 scripts/convnet_fixtures.py), one image.
    ...['mobilenet_v2', 'resnet18', 'efficientnet_b0', 'squeezenet1_1'].map((m) => onnxWorkload(`onnx ${m} (torchvision), 1x3x224x224`, `models/${m}/model.onnx`,
      { input: { type: 'float32', data: randomData(3 * 224 * 224, 12), dims: [1, 3, 224, 224] } })),
    // Decoder-shaped feed-forward stack (2 blocks, d1024, hidden 4096: 16.8 M weights) as float32,
    // float16 (onnxruntime's converter, keep_io_types), 4-bit MatMulNBits and int8 quantize_dynamic (python3 scripts/quantized_fixtures.py --bench):
    // seq 1 is a decoding step (matrix-vector), seq 64 a prompt.
    ...['f32', 'f16', 'q4', 'q8'].flatMap((q) => [1, 64].map((seq) => onnxWorkload(`onnx ffn ${q} (2 blocks d1024 x4096), seq ${seq}`, `models/ffn_${q}/model.onnx`,
      { x: { type: 'float32', data: randomData(seq * 1024, 11), dims: [1, seq, 1024] } }))),
  ];
}

/// Greedy generation over the exported cache: ours through model.generate, ORT through the same
/// loop written against its API (empty past, then one token a step feeding the presents back).
function onnxGenerateWorkload(name, path, promptLen, newTokens) {
  const prompt = Array.from({ length: promptLen }, (_, i) => 1 + ((i * 37) % 98));
  return {
    name,
    skip: tfjsSkip,
    async ours() {
      const model = await wtf.loadOnnxModel(await fetchBytes(path));
      return {
        async run() { return Float32Array.from(await model.generate(prompt, { maxNewTokens: newTokens })); },
        dispose() { model.dispose(); },
      };
    },
    async ort(ep) {
      const ort = window.ort;
      const session = await ort.InferenceSession.create(await fetchBytes(path), { executionProviders: [ep] });
      const pastNames = session.inputNames.filter((n) => n.startsWith('past_key_values.'));
      const meta = session.inputMetadata?.find?.((m) => m.name === pastNames[0]);
      const [heads, dim] = meta?.shape ? [meta.shape[1], meta.shape[3]] : [4, 64];
      return {
        async run() {
          const tokens = [...prompt];
          let past = Object.fromEntries(pastNames.map((n) => [n, new ort.Tensor('float32', new Float32Array(0), [1, heads, 0, dim])]));
          let seen = 0;
          for (let n = 0; n < newTokens; n++) {
            const step = tokens.slice(seen);
            const total = seen + step.length;
            const out = await session.run({
              input_ids: new ort.Tensor('int64', BigInt64Array.from(step, BigInt), [1, step.length]),
              attention_mask: new ort.Tensor('int64', new BigInt64Array(total).fill(1n), [1, total]),
              ...past,
            });
            const logits = out.logits.data, vocab = out.logits.dims[2], at = (step.length - 1) * vocab;
            let best = 0;
            for (let v = 1; v < vocab; v++) if (logits[at + v] > logits[at + best]) best = v;
            for (const t of Object.values(past)) t.dispose?.();
            past = Object.fromEntries(pastNames.map((p) => [p, out[p.replace('past_key_values.', 'present.')]]));
            out.logits.dispose?.();
            seen = total;
            tokens.push(best);
          }
          for (const t of Object.values(past)) t.dispose?.();
          return Float32Array.from(tokens);
        },
        dispose() { session.release(); },
      };
    },
  };
}

// ---- contenders -------------------------------------------------------------------------------
/** Threads for every wasm contender (run.mjs --threads). */
let wasmThreads = 1;

const CONTENDERS = [
  { name: 'webtensor-webgpu', lib: 'ours', backend: 'webgpu' },
  { name: 'webtensor-webgpu-naive', lib: 'ours', backend: 'webgpu', variant: 'naive', only: /^matmul/ },
  { name: 'webtensor-cpu', lib: 'ours', backend: 'cpu' },
  { name: 'webtensor-webgpu-composed', lib: 'ours', backend: 'webgpu', variant: 'composed', only: /^attention|^train step transformer/ },
  { name: 'webtensor-cpu-composed', lib: 'ours', backend: 'cpu', variant: 'composed', only: /^attention|^train step transformer/ },
  { name: 'tfjs-webgpu', lib: 'tfjs', backend: 'webgpu' },
  { name: 'tfjs-webgl', lib: 'tfjs', backend: 'webgl' },
  { name: 'tfjs-wasm', lib: 'tfjs', backend: 'wasm' },
  // ONNX Runtime Web 1.30: its wasm EP (single-threaded unless run.mjs --threads), and WebGPU.
  { name: 'ort-wasm', lib: 'ort', backend: 'wasm', only: /^onnx/ },
  { name: 'ort-webgpu', lib: 'ort', backend: 'webgpu', only: /^onnx/ },
];

async function activate(c) {
  if (c.lib === 'ours') {
    // the TF.js-style layer keeps its own note of the backend: switch both
    if (!(await wtf.setBackend(c.backend))) throw new Error(`webtensor backend ${c.backend} failed to start`);
    return engine.wasm.deviceDescription();
  }
  if (c.lib === 'ort') {
    if (!window.ort) throw new Error('onnxruntime-web is not loaded');
    window.ort.env.wasm.numThreads = wasmThreads;
    window.ort.env.wasm.wasmPaths = new URL('../node_modules/onnxruntime-web/dist/', location.href).href;
    if (c.backend === 'webgpu' && !navigator.gpu) throw new Error('no WebGPU');
    return `onnxruntime-web ${window.ort.env.versions?.web ?? ''} ${c.backend}`;
  }
  if (c.backend === 'wasm') {
    tf.wasm.setWasmPaths('../node_modules/@tensorflow/tfjs-backend-wasm/dist/');
    tf.wasm.setThreadsCount(wasmThreads);
  }
  if (!(await tf.setBackend(c.backend))) throw new Error(`TF.js backend ${c.backend} failed to start`);
  await tf.ready();
  return c.backend;
}

function maxAbsDiff(x, y) {
  let m = 0;
  for (let i = 0; i < Math.min(x.length, y.length); i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

/// config: { workloads: [names or prefixes], contenders: [names] (all if absent), sizes: [matmul
/// sizes], reps, maxSecondsPerSample }
export async function runBench(config, log = () => {}) {
  // The package's loader: the relaxed-SIMD build where the browser has it, as a page gets, or
  // the threaded build when more than one thread is asked for (the page is then isolated).
  wasmThreads = config.threads ?? 1;
  wtf.setThreadsCount(wasmThreads);
  await loadWasm();
  const devices = {};
  const live = [];
  for (const c of CONTENDERS.filter((c) => !config.contenders || config.contenders.includes(c.name))) {
    try { devices[c.name] = await activate(c); live.push(c); }
    catch (e) { devices[c.name] = `unavailable: ${e.message}`; log(`${c.name}: ${e.message}`); }
  }
  const all = [...config.sizes.map(matmulWorkload), conv2dWorkload(), ...MATRIX_OPS, mlpTrainWorkload(), cnnTrainWorkload(), cnnInferWorkload(), digitsFitWorkload(), ...ATTENTION_SHAPES.flatMap((shape) => [attentionWorkload(shape, false), attentionWorkload(shape, true)]), gptBlockTrainWorkload(), generateWorkload(), ...onnxWorkloads()];
  const workloads = all.filter((w) => !config.workloads || config.workloads.some((p) => w.name.startsWith(p)));
  const results = [];
  const tooSlow = new Set();
  for (const w of workloads) {
    const prepared = [];
    for (const c of live) {
      if (c.only && !c.only.test(w.name)) continue;
      const base = { workload: w.name, contender: c.name };
      if (w.name.startsWith('matmul') && tooSlow.has(c.name)) { results.push({ ...base, skipped: 'smaller size exceeded the time budget' }); continue; }
      if (w.skip?.[c.name]) { results.push({ ...base, skipped: w.skip[c.name] }); continue; }
      try {
        await activate(c);
        // First-run latency: making the contender's model or session, plus the first run.
        const tPrep = performance.now();
        const p = await (c.lib === 'ours' ? w.ours(c.variant) : c.lib === 'ort' ? w.ort(c.backend) : w.tfjs());
        const prepMs = performance.now() - tPrep;
        const t0 = performance.now();
        // Warm-up: compiles kernels and fills pools, and runs for 300 ms (at least once) so the
        // browser's wasm JIT has tiered hot code up from its baseline compiler (V8: Liftoff ->
        // TurboFan), which takes a few calls.
        const first = await p.run();
        const warmMs = performance.now() - t0;
        for (let i = 1; performance.now() - t0 < 300 && i < 100; i++) await p.run();
        prepared.push({ c, p, samples: [], first, warmMs, firstRunMs: prepMs + warmMs, base });
      } catch (e) {
        results.push({ ...base, error: String(e.message ?? e).slice(0, 200) });
        log(`${w.name} ${c.name}: ${e.message ?? e}`);
      }
    }
    for (let rep = 0; rep < config.reps; rep++) {
      const order = rep % 2 ? [...prepared].reverse() : prepared;
      for (const e of order) {
        if (e.error) continue;
        try {
          await activate(e.c);
          const t0 = performance.now();
          await e.p.run();
          e.samples.push(performance.now() - t0);
        } catch (err) { e.error = String(err.message ?? err).slice(0, 200); }
      }
    }
    // One more untimed run for the peak bytes: the engine's device peak for ours (WebGPU: pooled
    // buffers including scratch; CPU: tensor storage), TF.js's tf.profile peak (its tensors).
    // ONNX Runtime Web exposes no such counter.
    for (const e of prepared) {
      if (e.error || !/^attention|^train step|^onnx/.test(w.name)) continue;
      try {
        await activate(e.c);
        if (e.c.lib === 'ours') {
          engine.wasm.resetPeakBytes();
          const live = engine.wasm.memoryInfo().liveBytes;
          await e.p.run();
          e.peakBytes = engine.wasm.memoryInfo().peakBytes - live;
        } else if (e.c.lib === 'tfjs') {
          const live = tf.memory().numBytes;
          e.peakBytes = (await tf.profile(() => e.p.run())).peakBytes - live;
        }
      } catch (err) { e.error = String(err.message ?? err).slice(0, 200); }
    }
    const ref = prepared.find((e) => !e.error)?.first;
    for (const e of prepared) {
      await activate(e.c);
      const packedBytes = e.error ? undefined : e.p.packedBytes?.();
      e.p.dispose();
      if (e.error) { results.push({ ...e.base, error: e.error }); log(`${w.name} ${e.c.name}: ${e.error}`); continue; }
      const ms = median(e.samples);
      if (ms / 1000 > config.maxSecondsPerSample) tooSlow.add(e.c.name);
      const r = { ...e.base, medianMs: ms, samplesMs: e.samples, warmupMs: e.warmMs, firstRunMs: e.firstRunMs, maxAbsDiffVsFirst: ref ? maxAbsDiff(e.first, ref) : 0 };
      if (e.p.dispatchesPerStep) r.dispatchesPerStep = e.p.dispatchesPerStep;
      if (e.peakBytes !== undefined) r.peakBytes = e.peakBytes;
      if (e.p.modelBytes !== undefined) r.modelBytes = e.p.modelBytes;
      if (packedBytes) r.packedBytes = packedBytes;
      if (w.flops) r.gflops = w.flops / (ms * 1e6);
      results.push(r);
      log(`${w.name} | ${e.c.name}: ${ms.toFixed(1)} ms${r.gflops ? `, ${r.gflops.toFixed(2)} GFLOP/s` : ''}${r.dispatchesPerStep ? `, ${r.dispatchesPerStep.toFixed(1)} dispatches/step` : ''}${r.peakBytes !== undefined ? `, peak ${(r.peakBytes / 2 ** 20).toFixed(2)} MiB` : ''}${r.modelBytes !== undefined ? `, model ${(r.modelBytes / 2 ** 20).toFixed(2)} MiB` : ''}${r.packedBytes ? ` + packed ${(r.packedBytes / 2 ** 20).toFixed(2)} MiB` : ''}`);
    }
  }
  return { userAgent: navigator.userAgent, devices, results, relaxedSimd: hasRelaxedSimd(), threads: engine.getThreadsCount() };
}

window.runBench = runBench;
window.benchReady = true;
