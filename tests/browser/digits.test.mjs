// The demo end to end, as a person would use it: train the CNN on WebGPU and on the CPU, reach
// >= 95% test accuracy with a live chart, draw a digit and get a prediction, save to IndexedDB,
// reload the page, load, and get the same prediction. Screenshots go to test-artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startServer } from '../../scripts/serve.mjs';
import { launchChromium } from './chromium.mjs';

let server, url, browser;
before(async () => {
  ({ server, url } = await startServer(0));
  browser = await launchChromium();
  fs.mkdirSync('test-artifacts', { recursive: true });
});
after(async () => {
  await browser?.close();
  server?.close();
});

async function drawOne(page) {
  await page.click('#clear');
  const box = await page.locator('#pad').boundingBox();
  // a "1": a short lead-in stroke and a vertical bar
  await page.mouse.move(box.x + 70, box.y + 40);
  await page.mouse.down();
  await page.mouse.move(box.x + 85, box.y + 25, { steps: 5 });
  await page.mouse.move(box.x + 85, box.y + 140, { steps: 20 });
  await page.mouse.up();
  await page.waitForFunction(() => document.getElementById('prediction').textContent !== '–', null, { timeout: 30_000 });
  return {
    digit: await page.textContent('#prediction'),
    probs: JSON.parse(await page.getAttribute('#prediction', 'data-probs')),
  };
}

for (const backend of ['webgpu', 'cpu']) {
  test(`digits demo on ${backend}: train, draw, save, reload, load`, async () => {
    const page = await browser.context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${url}/www/`);
    await page.waitForFunction(() => document.getElementById('status').textContent === 'ready', null, { timeout: 60_000 });
    await page.selectOption('#backend', backend);
    await page.selectOption('#model', 'cnn');
    await page.fill('#epochs', '10');
    await page.click('#train');
    await page.waitForFunction(() => /trained|rror|failed/.test(document.getElementById('status').textContent), null, { timeout: 600_000 });
    assert.equal(await page.textContent('#status'), 'trained: draw a digit');
    const st = await page.evaluate(() => ({ acc: window.demoState.testAccuracy, b: window.demoState.batchPoints, e: window.demoState.epochPoints, s: window.demoState.trainSeconds }));
    console.log(`${backend}: test accuracy ${(st.acc * 100).toFixed(1)}% after 10 epochs in ${st.s.toFixed(1)} s (${await page.textContent('#device')})`);
    assert.ok(st.acc >= 0.95, `test accuracy ${st.acc}`);
    assert.ok(st.b >= 10 * 45 && st.e === 10, `chart points: ${st.b} batches, ${st.e} epochs`);
    assert.ok(await page.locator('#chart-batch canvas').count() > 0, 'the chart is drawn');
    const before = await drawOne(page);
    console.log(`${backend}: drew a 1, the model says ${before.digit}`);
    const probe = Array.from({ length: 64 }, (_, i) => ((i * 37) % 17) / 16);
    const probeBefore = await page.evaluate((p) => window.demoState.predictPixels(p), probe);
    await page.screenshot({ path: `test-artifacts/digits-${backend}.png`, fullPage: true });
    await page.click('#save');
    await page.waitForFunction(() => /saved/.test(document.getElementById('status').textContent));
    await page.reload();
    await page.waitForFunction(() => document.getElementById('status').textContent === 'ready', null, { timeout: 60_000 });
    await page.selectOption('#backend', backend);
    await page.click('#load');
    await page.waitForFunction(() => /loaded|failed/.test(document.getElementById('status').textContent));
    assert.match(await page.textContent('#status'), /loaded/);
    const after = await drawOne(page);
    assert.equal(after.digit, before.digit);
    // the same model: identical probabilities on the same pixels
    const probeAfter = await page.evaluate((p) => window.demoState.predictPixels(p), probe);
    probeBefore.forEach((p, i) => assert.ok(Math.abs(p - probeAfter[i]) < 1e-6, `probability ${i}: ${p} vs ${probeAfter[i]}`));
    assert.deepEqual(errors, []);
    await page.close();
  });
}
