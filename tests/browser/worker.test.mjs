// The package inside a Web Worker (module worker) in headless Chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../../scripts/serve.mjs';
import { launchChromium } from './chromium.mjs';

test('the package runs in a Web Worker, on WebGPU', async () => {
  const { server, url } = await startServer(0);
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    await page.goto(`${url}/tests/browser/api.html`);
    const out = await page.evaluate(() => new Promise((resolve) => {
      const w = new Worker('/tests/browser/worker.js', { type: 'module' });
      w.onmessage = (e) => resolve(e.data);
      w.onerror = (e) => resolve({ error: e.message });
      w.postMessage('go');
    }));
    assert.equal(out.error, undefined, out.error);
    console.log(`worker: tf.ready() chose ${out.chosen}; ${out.backend} on ${out.device}`);
    // This machine's only adapter is SwiftShader, a GPU emulated on the CPU: tf.ready() prefers
    // the CPU backend there, and an explicit setBackend('webgpu') still gets the adapter.
    assert.match(out.device, /swiftshader/i);
    assert.equal(out.chosen, 'cpu');
    assert.equal(out.backend, 'webgpu');
    assert.deepEqual(out.values, [7, 10, 15, 22]);
  } finally {
    await browser.close();
    server.close();
  }
});
