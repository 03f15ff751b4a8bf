// The JS API suite (tests/js/cases.mjs) in headless Chromium, on WebGPU and on the CPU backend,
// with TF.js 4.22 loaded in the same page as the differential reference.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../../scripts/serve.mjs';
import { launchChromium, openApiPage } from './chromium.mjs';
import { cases } from '../js/cases.mjs';

let server, url, browser, page;
const pageErrors = [];

before(async () => {
  ({ server, url } = await startServer(0));
  browser = await launchChromium();
  page = await openApiPage(browser, url, pageErrors);
});

after(async () => {
  await browser?.close();
  server?.close();
});

for (const backend of ['webgpu', 'cpu']) {
  test(`JS API suite on ${backend} in Chromium`, async (t) => {
    const run = await page.evaluate((b) => window.runCases(b), backend);
    console.log(`${backend}: ${run.device}`);
    for (const l of run.lines ?? []) console.log(`  ${l}`);
    assert.equal(run.backend, backend);
    if (backend === 'webgpu') assert.match(run.device, /BrowserWebGpu/);
    assert.equal(run.results.length, Object.keys(cases).length);
    for (const r of run.results) {
      await t.test(r.name, () => assert.ok(r.ok, r.error));
    }
  });
}

test('no uncaught page errors', () => assert.deepEqual(pageErrors, []));
