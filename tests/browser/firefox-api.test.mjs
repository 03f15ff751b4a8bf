// The JS API suite (tests/js/cases.mjs) in headless Firefox ESR on its WebGPU and on the CPU
// backend, driven over WebDriver; TF.js 4.22 in the page is the differential reference. The page
// is cross-origin isolated, so Firefox loads the threaded build (api.test.mjs covers the
// single-threaded one in Chromium).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../../scripts/serve.mjs';
import { launchFirefox, evaluate } from './firefox.mjs';
import os from 'node:os';
import { cases } from '../js/cases.mjs';

let server, url, driver;
before(async () => {
  ({ server, url } = await startServer(0));
  driver = await launchFirefox();
  await driver.get(`${url}/tests/browser/api.html`);
  await driver.wait(async () => driver.executeScript('return window.apiReady === true'), 60_000);
});
after(async () => {
  await driver?.quit();
  server?.close();
});

for (const backend of ['webgpu', 'cpu']) {
  test(`JS API suite on ${backend} in Firefox`, async (t) => {
    const run = await evaluate(driver, (b) => window.runCases(b), backend);
    assert.equal(run.__error, undefined, run.__error);
    console.log(`firefox ${backend}: ${run.device}, ${run.threads} threads`);
    for (const l of run.lines ?? []) console.log(`  ${l}`);
    assert.equal(run.backend, backend);
    assert.equal(run.threads, Math.min(8, os.availableParallelism()));
    assert.equal(run.results.length, Object.keys(cases).length);
    for (const r of run.results) await t.test(r.name, () => assert.ok(r.ok, r.error));
  });
}
