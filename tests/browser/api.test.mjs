// The JS API suite (tests/js/cases.mjs) in headless Chromium, on WebGPU and on the CPU backend of
// the single-threaded build (a page that is not cross-origin isolated), and on the CPU backend of
// the threaded build (an isolated page), with TF.js 4.22 loaded in the same page as the
// differential reference.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../../scripts/serve.mjs';
import { launchChromium, openApiPage } from './chromium.mjs';
import os from 'node:os';
import { cases } from '../js/cases.mjs';

let server, url, browser, page, isolatedServer, threadedPage;
const pageErrors = [];

before(async () => {
  ({ server, url } = await startServer(0, { isolated: false }));
  browser = await launchChromium();
  page = await openApiPage(browser, url, pageErrors);
  const isolated = await startServer(0, { isolated: true });
  isolatedServer = isolated.server;
  threadedPage = await openApiPage(browser, isolated.url, pageErrors);
});

after(async () => {
  await browser?.close();
  server?.close();
  isolatedServer?.close();
});

for (const backend of ['webgpu', 'cpu']) {
  test(`JS API suite on ${backend} in Chromium`, async (t) => {
    const run = await page.evaluate((b) => window.runCases(b), backend);
    console.log(`${backend}: ${run.device}`);
    for (const l of run.lines ?? []) console.log(`  ${l}`);
    assert.equal(run.backend, backend);
    assert.equal(run.threads, 1, 'a page that is not cross-origin isolated runs one thread');
    if (backend === 'webgpu') assert.match(run.device, /BrowserWebGpu/);
    assert.equal(run.results.length, Object.keys(cases).length);
    for (const r of run.results) {
      await t.test(r.name, () => assert.ok(r.ok, r.error));
    }
  });
}

test('JS API suite on the CPU backend of the threaded build in Chromium (isolated page)', async (t) => {
  const run = await threadedPage.evaluate(() => window.runCases('cpu'));
  console.log(`cpu: ${run.device}, ${run.threads} threads`);
  assert.equal(run.backend, 'cpu');
  // The default: a thread per logical core, at most 8 (Chromium reports the machine's cores).
  assert.equal(run.threads, Math.min(8, os.availableParallelism()));
  assert.equal(run.results.length, Object.keys(cases).length);
  for (const r of run.results) {
    await t.test(r.name, () => assert.ok(r.ok, r.error));
  }
});

test('no uncaught page errors', () => assert.deepEqual(pageErrors, []));
