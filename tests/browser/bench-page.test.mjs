// The benchmark page opens with TF.js and webtensor loaded, and charts the recorded speed-ups.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../../scripts/serve.mjs';
import { launchChromium } from './chromium.mjs';

test('the benchmark page charts speed-ups against TF.js', async () => {
  const { server, url } = await startServer(0);
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${url}/bench/`);
    await page.waitForFunction(() => Array.isArray(window.benchChartSeries), null, { timeout: 60_000 });
    const series = await page.evaluate(() => window.benchChartSeries);
    assert.equal(series.length, 3);
    assert.ok(series[0].some((v) => v > 0), 'webgpu vs tfjs-webgpu has bars');
    assert.ok(await page.evaluate(() => typeof window.tf?.matMul === 'function'), 'TF.js is loaded in the page');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    server.close();
  }
});
