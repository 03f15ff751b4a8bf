// Cold start and main-thread blocking of a first predict and a first fit batch, in a fresh page.
// The same CNN as the benchmark (conv8 3x3 relu - maxPool 2 - flatten - dense 10 softmax on 28x28x1)
// through the Keras-style API of either library. Long Tasks (the browser's own record of tasks
// over 50 ms) and a 5 ms heartbeat (the longest gap, which also sees blocking under 50 ms) are
// attributed to the phase they overlap. Results land in window.coldstart (read by bench/coldstart.mjs
// and tests/browser/longtasks.test.mjs).
const params = new URLSearchParams(location.search);
const lib = params.get('lib') ?? 'webtensor';
const backend = params.get('backend') ?? 'webgpu';
const warmup = params.get('warmup') === '1';

const longTasks = [];
try {
  new PerformanceObserver((list) => longTasks.push(...list.getEntries())).observe({ type: 'longtask', buffered: true });
} catch {
  // Firefox has no Long Tasks API: the heartbeat still measures.
}
const gaps = [];
let lastBeat = performance.now();
let beating = true;
(function beat() {
  const now = performance.now();
  gaps.push([lastBeat, now]);
  lastBeat = now;
  if (beating) setTimeout(beat, 5);
})();

const phases = [];
async function phase(name, fn) {
  // Start each phase in a task of its own, so that a long task belongs to one phase only.
  await new Promise((r) => setTimeout(r, 0));
  const start = performance.now();
  const value = await fn();
  phases.push({ name, start, end: performance.now() });
  return value;
}

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = resolve;
    s.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.append(s);
  });
}

function seeded(n, seed) {
  let x = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x / 4294967296 - 0.5;
  });
}

async function run() {
  const tf = await phase('load', async () => {
    if (lib === 'webtensor') {
      const wt = await import('../dist/js/index.js');
      if (!(await wt.setBackend(backend))) throw new Error(`webtensor backend ${backend} did not start`);
      return wt;
    }
    await loadScript('../node_modules/@tensorflow/tfjs/dist/tf.min.js');
    if (backend === 'webgpu') await loadScript('../node_modules/@tensorflow/tfjs-backend-webgpu/dist/tf-backend-webgpu.min.js');
    if (backend === 'wasm') {
      await loadScript('../node_modules/@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js');
      window.tf.wasm.setWasmPaths('../node_modules/@tensorflow/tfjs-backend-wasm/dist/');
    }
    if (!(await window.tf.setBackend(backend))) throw new Error(`TF.js backend ${backend} did not start`);
    await window.tf.ready();
    return window.tf;
  });
  const { model, x1, x64, y64 } = await phase('build model', () => {
    const model = tf.sequential({ layers: [
      tf.layers.conv2d({ filters: 8, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1] }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10, activation: 'softmax' }),
    ] });
    model.compile({ optimizer: tf.train.adam(0.001), loss: 'categoricalCrossentropy' });
    const x1 = tf.tensor(seeded(28 * 28, 1), [1, 28, 28, 1]);
    const x64 = tf.tensor(seeded(64 * 28 * 28, 2), [64, 28, 28, 1]);
    const y64 = tf.oneHot(tf.tensor1d(Int32Array.from({ length: 64 }, (_, i) => i % 10), 'int32'), 10);
    return { model, x1, x64, y64 };
  });
  let kernels = null;
  if (warmup) {
    await phase('warmup', async () => {
      if (lib === 'webtensor') {
        kernels = await model.warmup({ training: true, batchSize: 64 });
      } else {
        // What TF.js users do today: predict on zeros (and here, a fit step's worth too is not
        // possible without training, so only predict).
        const z = tf.zeros([1, 28, 28, 1]);
        const y = model.predict(z);
        await y.data();
        tf.dispose([z, y]);
      }
    });
  }
  const probs = await phase('first predict', async () => {
    const y = model.predict(x1);
    const v = await y.data();
    y.dispose();
    return Array.from(v);
  });
  const loss = await phase('first fit batch', async () => {
    const h = await model.fit(x64, y64, { epochs: 1, batchSize: 64, shuffle: false });
    return h.history.loss[0];
  });
  beating = false;
  // let the observer deliver the last entries
  await new Promise((r) => setTimeout(r, 50));
  const overlap = (a0, a1, b0, b1) => Math.min(a1, b1) > Math.max(a0, b0);
  const byPhase = phases.map((p) => {
    const tasks = longTasks.filter((t) => overlap(t.startTime, t.startTime + t.duration, p.start, p.end));
    const phaseGaps = gaps.filter(([a, b]) => overlap(a, b, p.start, p.end)).map(([a, b]) => b - a);
    return {
      phase: p.name,
      ms: p.end - p.start,
      longestTaskMs: tasks.length ? Math.max(...tasks.map((t) => t.duration)) : 0,
      longTasks: tasks.length,
      longTaskMs: tasks.reduce((s, t) => s + t.duration, 0),
      longestGapMs: phaseGaps.length ? Math.max(...phaseGaps) : 0,
    };
  });
  return {
    lib, backend, warmup, kernels,
    device: lib === 'webtensor' ? tf.backendInfo() : tf.getBackend(),
    firstResultMs: phases.find((p) => p.name === 'first predict').end,
    longTasksApi: PerformanceObserver.supportedEntryTypes?.includes('longtask') ?? false,
    phases: byPhase,
    probsSum: probs.reduce((a, b) => a + b, 0),
    loss,
  };
}

run().then(
  (r) => { window.coldstart = r; document.getElementById('status').textContent = JSON.stringify(r, null, 1); },
  (e) => { window.coldstart = { error: String(e && e.stack || e) }; },
);
