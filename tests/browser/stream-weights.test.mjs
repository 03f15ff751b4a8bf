// Weights streamed to the GPU: a synthetic layers model whose weights (about 1.5 GB) are many
// times the wasm heap loads through tf.loadLayersModel(url) in headless Chromium on WebGPU. Shards
// are generated on the fly by this test's server (deterministic values), the page checks sampled
// weights against the same generator, and reports device bytes against the wasm heap's size.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startServer } from '../../scripts/serve.mjs';
import { launchChromium, openApiPage } from './chromium.mjs';

const TOTAL_BYTES = 1.5 * 2 ** 30;
// value of float number k of the whole weight stream
const valueAt = (k) => ((Math.imul(k, 0x9e3779b1) >>> 0) / 2 ** 32 - 0.5) * 1e-2;

let server, url, browser, page;
const pageErrors = [];

/** /synthetic/model.json?d=D&layers=L and the shards it names (one per layer: kernel, then bias). */
function synthetic(req, res) {
  const u = new URL(req.url, 'http://x');
  const d = Number(u.searchParams.get('d')), layers = Number(u.searchParams.get('layers'));
  const q = `d=${d}&layers=${layers}`;
  if (u.pathname === '/synthetic/model.json') {
    const names = Array.from({ length: layers }, (_, i) => `dense_${i}`);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({
      format: 'layers-model',
      modelTopology: { class_name: 'Sequential', config: { name: 'big', layers: names.map((name, i) => ({
        class_name: 'Dense', config: { name, units: d, use_bias: true, activation: 'linear', ...(i === 0 ? { batch_input_shape: [null, d] } : {}) },
      })) } },
      weightsManifest: [{
        paths: names.map((_, i) => `shard.bin?${q}&part=${i}`),
        weights: names.flatMap((name) => [{ name: `${name}/kernel`, shape: [d, d], dtype: 'float32' }, { name: `${name}/bias`, shape: [d], dtype: 'float32' }]),
      }],
    }));
    return true;
  }
  if (u.pathname === '/synthetic/shard.bin') {
    const part = Number(u.searchParams.get('part'));
    const floats = d * d + d;
    const first = part * floats;
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': floats * 4 });
    const chunk = 1 << 18; // floats per write (1 MiB)
    let at = 0;
    const pump = () => {
      while (at < floats) {
        const n = Math.min(chunk, floats - at);
        const buf = new Float32Array(n);
        for (let i = 0; i < n; i++) buf[i] = valueAt(first + at + i);
        at += n;
        if (!res.write(Buffer.from(buf.buffer))) return res.once('drain', pump);
      }
      res.end();
    };
    pump();
    return true;
  }
  return false;
}

before(async () => {
  const repo = await startServer(0);
  // the repo's own server for everything else
  server = http.createServer((req, res) => {
    if (synthetic(req, res)) return;
    const proxy = http.request(`${repo.url}${req.url}`, { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    req.pipe(proxy);
  });
  server.repo = repo.server;
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${server.address().port}`;
  browser = await launchChromium();
  page = await openApiPage(browser, url, pageErrors);
});

after(async () => {
  await browser?.close();
  server?.repo?.close();
  server?.close();
});

test('1.5 GB of weights stream to the GPU with the wasm heap staying small', async () => {
  const maxBytes = await page.evaluate(async () => {
    const tf = await import('/dist/js/index.js');
    if (!(await tf.setBackend('webgpu'))) throw new Error('no WebGPU');
    return tf.maxTensorBytes();
  });
  // the largest power-of-two layer width whose kernel fits one buffer (and at most 8192)
  let d = 8192;
  while (d * d * 4 > maxBytes) d /= 2;
  const layers = Math.ceil(TOTAL_BYTES / ((d * d + d) * 4));
  const r = await page.evaluate(async ({ d, layers, valueSrc }) => {
    const tf = await import('/dist/js/index.js');
    const valueAt = eval(valueSrc);
    const heapBefore = tf.memory().wasmHeapBytes;
    const t0 = performance.now();
    const model = await tf.loadLayersModel(`/synthetic/model.json?d=${d}&layers=${layers}`);
    const loadMs = performance.now() - t0;
    const mem = tf.memory();
    // sampled weights against the generator: first, middle and last values of each kernel and bias
    let checked = 0;
    const floatsPerLayer = d * d + d;
    for (let i = 0; i < layers; i++) {
      const [kernel, bias] = [model.layers[i].weights[0], model.layers[i].weights[1]];
      for (const [t, base, n] of [[kernel, i * floatsPerLayer, d * d], [bias, i * floatsPerLayer + d * d, d]]) {
        for (const k of [0, 1, Math.floor(n / 2), n - 1]) {
          const v = tf.tidy(() => t.reshape([n]).slice([k], [1]));
          const got = (await v.data())[0];
          v.dispose();
          const want = Math.fround(valueAt(base + k));
          if (got !== want) throw new Error(`layer ${i} weight ${k}: ${got}, expected ${want}`);
          checked++;
        }
      }
    }
    const y = tf.tidy(() => model.predict(tf.ones([1, d])));
    const out = await y.data();
    y.dispose();
    model.dispose();
    return { device: tf.backendInfo(), heapBefore, heapAfter: tf.memory().wasmHeapBytes, deviceBytes: mem.numBytesInGPU, weightBytes: layers * floatsPerLayer * 4, loadMs, checked, finite: out.every(Number.isFinite) };
  }, { d, layers, valueSrc: valueAt.toString() });
  console.log(`streamed ${(r.weightBytes / 2 ** 30).toFixed(2)} GiB of weights (${layers} Dense layers of ${d}x${d}) in ${(r.loadMs / 1000).toFixed(1)} s on ${r.device}; ` +
    `device bytes in live buffers ${(r.deviceBytes / 2 ** 20).toFixed(0)} MiB; wasm heap ${(r.heapBefore / 2 ** 20).toFixed(1)} -> ${(r.heapAfter / 2 ** 20).toFixed(1)} MiB; ${r.checked} sampled weights exact`);
  assert.match(r.device, /BrowserWebGpu/);
  assert.ok(r.deviceBytes >= r.weightBytes, 'the weights are on the device');
  assert.ok(r.weightBytes >= 1.5 * 2 ** 30 - 1);
  assert.ok(r.heapAfter < 100 * 2 ** 20, `the wasm heap grew to ${r.heapAfter} bytes`);
  assert.ok(r.finite, 'the model predicts finite values');
  assert.deepEqual(pageErrors, []);
});
