// The benchmark, run inside one page so every contender shares the browser, the machine and the
// run. Contenders are interleaved repetition by repetition; each sample is a full op including
// the readback of its result (what a user awaits); the reported figure is the median.
import initWasm, { init, deviceDescription, Tensor } from '../pkg/webtensor.js';

const tf = window.tf;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function randomData(n, seed) {
  let x = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    out[i] = x / 4294967296 - 0.5;
  }
  return out;
}

// Each contender: prepare(n) -> { run: async () => Float32Array, dispose() }.
function oursContender(backend, naive) {
  return {
    name: `webtensor-${backend}${naive ? '-naive' : ''}`,
    async setup() { await init(backend); return deviceDescription(); },
    async prepare(n, a, b) {
      await init(backend);
      const shape = new Uint32Array([n, n]);
      const ta = Tensor.fromF32(a, shape), tb = Tensor.fromF32(b, shape);
      return {
        async run() {
          await init(backend);
          const c = naive ? ta.matMulNaive(tb) : ta.matMul(tb, false, false);
          const v = await c.data();
          c.free();
          return v;
        },
        dispose() { ta.free(); tb.free(); },
      };
    },
  };
}

function tfContender(backend) {
  return {
    name: `tfjs-${backend}`,
    async setup() {
      if (backend === 'wasm') tf.wasm.setWasmPaths('../node_modules/@tensorflow/tfjs-backend-wasm/dist/');
      const ok = await tf.setBackend(backend);
      if (!ok) throw new Error(`TF.js backend ${backend} failed to start`);
      await tf.ready();
      return backend;
    },
    async prepare(n, a, b) {
      await tf.setBackend(backend);
      const ta = tf.tensor2d(a, [n, n]), tb = tf.tensor2d(b, [n, n]);
      return {
        async run() {
          await tf.setBackend(backend);
          const c = tf.matMul(ta, tb);
          const v = await c.data();
          c.dispose();
          return v;
        },
        dispose() { ta.dispose(); tb.dispose(); },
      };
    },
  };
}

function maxAbsDiff(x, y) {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

/// config: { sizes: [..], reps: n, maxSecondsPerSample: s, contenders: [names] }
export async function runMatmulBench(config, log = () => {}) {
  await initWasm();
  const all = [
    oursContender('webgpu', false), oursContender('webgpu', true), oursContender('cpu', false),
    tfContender('webgpu'), tfContender('webgl'), tfContender('wasm'),
  ];
  const contenders = all.filter((c) => !config.contenders || config.contenders.includes(c.name));
  const devices = {};
  const live = [];
  for (const c of contenders) {
    try { devices[c.name] = await c.setup(); live.push(c); }
    catch (e) { devices[c.name] = `unavailable: ${e.message}`; log(`${c.name}: ${e.message}`); }
  }
  const results = [];
  const tooSlow = new Set();
  for (const n of config.sizes) {
    const a = randomData(n * n, 1), b = randomData(n * n, 2);
    const flops = 2 * n ** 3;
    const prepared = [];
    for (const c of live) {
      if (tooSlow.has(c.name)) { results.push({ workload: `matmul ${n}`, contender: c.name, skipped: 'previous size exceeded the time budget' }); continue; }
      const p = await c.prepare(n, a, b);
      const t0 = performance.now();
      const first = await p.run(); // warm-up: compiles kernels, fills pools
      const warmMs = performance.now() - t0;
      prepared.push({ c, p, samples: [], first, warmMs });
    }
    // Agreement check against the first contender (values, not timing).
    const ref = prepared[0]?.first;
    for (let rep = 0; rep < config.reps; rep++) {
      const order = rep % 2 ? [...prepared].reverse() : prepared;
      for (const e of order) {
        const t0 = performance.now();
        await e.p.run();
        e.samples.push(performance.now() - t0);
      }
    }
    for (const e of prepared) {
      const ms = median(e.samples);
      if (ms / 1000 > config.maxSecondsPerSample) tooSlow.add(e.c.name);
      const r = {
        workload: `matmul ${n}`, contender: e.c.name, medianMs: ms, samplesMs: e.samples,
        gflops: flops / (ms * 1e6), warmupMs: e.warmMs, maxAbsDiffVsFirst: ref ? maxAbsDiff(e.first, ref) : 0,
      };
      results.push(r);
      log(`${r.workload} ${r.contender}: ${ms.toFixed(1)} ms, ${r.gflops.toFixed(2)} GFLOP/s`);
      e.p.dispose();
    }
  }
  return { userAgent: navigator.userAgent, devices, results };
}

window.runMatmulBench = runMatmulBench;
document.getElementById('go')?.addEventListener('click', async () => {
  const out = document.getElementById('out');
  const res = await runMatmulBench({ sizes: [256, 512], reps: 3, maxSecondsPerSample: 10 }, (l) => { out.textContent += l + '\n'; });
  out.textContent += JSON.stringify(res.devices, null, 2);
});
window.benchReady = true;
