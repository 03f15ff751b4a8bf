// The GPT demo end to end, as a person would use it: train the character-level transformer on
// the sonnets on WebGPU and on the CPU; the loss must fall well below a uniform guess and the
// model must write text from the sonnets' alphabet as it learns. Screenshots go to test-artifacts/.
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

for (const backend of ['webgpu', 'cpu']) {
  test(`GPT demo on ${backend}: the loss falls and it writes`, async () => {
    const page = await browser.context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${url}/www/gpt.html`);
    await page.waitForFunction(() => document.getElementById('status').textContent === 'ready', null, { timeout: 60_000 });
    await page.selectOption('#backend', backend);
    await page.waitForFunction((b) => document.getElementById('status').textContent === 'ready' && document.getElementById('device').textContent.startsWith(b), backend, { timeout: 60_000 });
    // a small run: 1 layer of width 32 over 32 characters, 100 steps
    await page.fill('#layers', '1');
    await page.fill('#width', '32');
    await page.fill('#context', '32');
    await page.fill('#steps', '100');
    await page.fill('#lr', '0.01');
    await page.click('#train');
    await page.waitForFunction(() => /trained|failed/.test(document.getElementById('status').textContent), null, { timeout: 600_000 });
    assert.equal(await page.textContent('#status'), 'trained');
    const st = await page.evaluate(() => ({ losses: window.gptState.losses, samples: window.gptState.samples, seconds: window.gptState.trainSeconds, alphabet: document.getElementById('data-info').textContent }));
    const [first, last] = [st.losses[0], st.losses.slice(-10).reduce((a, b) => a + b, 0) / 10];
    console.log(`${backend}: loss ${first.toFixed(3)} -> ${last.toFixed(3)} in ${st.seconds.toFixed(1)} s; sample: ${JSON.stringify(st.samples.at(-1))}`);
    assert.equal(st.losses.length, 100);
    // a uniform guess over 61 characters costs ln 61 = 4.1; character frequencies alone reach ~3.3
    assert.ok(first > 3.5 && last < 3.0, `loss ${first} -> ${last}`);
    assert.equal(st.samples.length, 2);
    assert.equal(st.samples.at(-1).length, 31);
    await page.screenshot({ path: `test-artifacts/gpt-${backend}.png`, fullPage: true });
    assert.deepEqual(errors, []);
    await page.close();
  });
}
