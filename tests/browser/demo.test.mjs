// Layer 3: the demo page in headless Chromium, as a person would use it: it must start on the
// automatic choice, name the adapter, multiply correctly on WebGPU and on the CPU backend, and show no error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import fs from 'node:fs';
import { startServer } from '../../scripts/serve.mjs';
import { launchChromium } from './chromium.mjs';

let server, url, browser, page;
const errors = [];

before(async () => {
  ({ server, url } = await startServer(0));
  browser = await launchChromium();
  page = await browser.context.newPage();
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(`${url}/www/matmul.html`);
});

after(async () => {
  await browser?.close();
  server?.close();
});

test('the demo starts on the automatic choice (the CPU: this machine has only an emulated GPU) and names it', async () => {
  await page.waitForFunction(() => document.getElementById('status').textContent === 'ready', null, { timeout: 60_000 });
  assert.equal(await page.textContent('#backend-name'), 'cpu');
  const device = await page.textContent('#adapter');
  console.log(`demo device: ${device}`);
  // The demo's server makes the page cross-origin isolated: the threaded build, a thread per core.
  assert.match(device, new RegExp(`^CPU \\(wasm SIMD128, ${Math.min(8, os.availableParallelism())} threads\\)$`));
  assert.equal(await page.textContent('#small'), '[[19, 22], [43, 50]]');
});

for (const backend of ['webgpu', 'cpu']) {
  test(`a 200x200 matmul on ${backend} matches plain JS`, async () => {
    await page.selectOption('#backend', backend);
    await page.waitForFunction((b) => document.getElementById('backend-name').textContent === b
      && document.getElementById('status').textContent === 'ready', backend, { timeout: 60_000 });
    if (backend === 'webgpu') {
      const adapter = await page.textContent('#adapter');
      console.log(`demo adapter: ${adapter}`);
      assert.match(adapter, /SwiftShader.*BrowserWebGpu/);
    }
    await page.fill('#size', '200');
    await page.click('#run');
    await page.waitForFunction(() => document.getElementById('status').textContent === 'done', null, { timeout: 120_000 });
    const result = await page.textContent('#result');
    console.log(`${backend}: ${result.split('\n').pop()}`);
    assert.match(result, /\(matches\)/);
    assert.ok(Number(await page.getAttribute('#result', 'data-max-err')) < 1e-3);
  });
}

test('the page logged no errors', async () => {
  fs.mkdirSync('test-artifacts', { recursive: true });
  await page.screenshot({ path: 'test-artifacts/demo.png', fullPage: true });
  assert.deepEqual(errors, []);
});
