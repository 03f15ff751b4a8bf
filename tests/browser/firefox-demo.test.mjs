// The demo end to end in headless Firefox ESR (WebGPU and CPU), over WebDriver: train the CNN,
// reach >= 95% test accuracy, draw a digit, save, reload, load, same prediction.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { By } from 'selenium-webdriver';
import { startServer } from '../../scripts/serve.mjs';
import { launchFirefox } from './firefox.mjs';

let server, url, driver;
before(async () => {
  ({ server, url } = await startServer(0));
  driver = await launchFirefox();
});
after(async () => {
  await driver?.quit();
  server?.close();
});

const text = (id) => driver.executeScript(`return document.getElementById('${id}').textContent`);
const waitFor = (cond, ms) => driver.wait(async () => driver.executeScript(`return ${cond}`), ms);

async function drawOne() {
  await driver.findElement(By.id('clear')).click();
  const pad = await driver.findElement(By.id('pad'));
  await driver.executeScript(`arguments[0].scrollIntoView({ block: 'center' })`, pad);
  // offsets are from the pad's centre (80, 80)
  await driver.actions().move({ origin: pad, x: -10, y: -40 }).press().move({ origin: pad, x: 5, y: -55 })
    .move({ origin: pad, x: 5, y: 0 }).move({ origin: pad, x: 5, y: 60 }).release().perform();
  await waitFor(`document.getElementById('prediction').textContent !== '–'`, 30_000);
  return { digit: await text('prediction'), probs: JSON.parse(await driver.executeScript(`return document.getElementById('prediction').dataset.probs`)) };
}

for (const backend of ['webgpu', 'cpu']) {
  test(`digits demo in Firefox on ${backend}`, async () => {
    await driver.get(`${url}/www/`);
    await waitFor(`document.getElementById('status').textContent === 'ready'`, 60_000);
    await driver.executeScript(`document.getElementById('backend').value = '${backend}'; document.getElementById('model').value = 'cnn'; document.getElementById('epochs').value = '10';`);
    await driver.findElement(By.id('train')).click();
    await waitFor(`/trained|rror|failed/.test(document.getElementById('status').textContent)`, 600_000);
    assert.equal(await text('status'), 'trained: draw a digit');
    const st = await driver.executeScript('return window.demoState');
    console.log(`firefox ${backend}: test accuracy ${(st.testAccuracy * 100).toFixed(1)}% in ${st.trainSeconds.toFixed(1)} s (${await text('device')})`);
    assert.ok(st.testAccuracy >= 0.95, `test accuracy ${st.testAccuracy}`);
    assert.ok(st.batchPoints >= 450 && st.epochPoints === 10, 'chart points');
    const before = await drawOne();
    const probe = Array.from({ length: 64 }, (_, i) => ((i * 37) % 17) / 16);
    const predict = (p) => driver.executeAsyncScript('const done = arguments[1]; window.demoState.predictPixels(arguments[0]).then(done);', p);
    const probeBefore = await predict(probe);
    await driver.findElement(By.id('save')).click();
    await waitFor(`/saved/.test(document.getElementById('status').textContent)`, 30_000);
    await driver.navigate().refresh();
    await waitFor(`document.getElementById('status').textContent === 'ready'`, 60_000);
    await driver.executeScript(`document.getElementById('backend').value = '${backend}'`);
    await driver.findElement(By.id('load')).click();
    await waitFor(`/loaded|failed/.test(document.getElementById('status').textContent)`, 30_000);
    assert.match(await text('status'), /loaded/);
    const after = await drawOne();
    console.log(`firefox ${backend}: drew a stroke, predicted ${before.digit} before and ${after.digit} after reload`);
    assert.equal(after.digit, before.digit);
    // the same model: identical probabilities on the same pixels (a redrawn stroke may rasterise
    // a little differently, so it is compared by class only)
    const probeAfter = await predict(probe);
    probeBefore.forEach((p, i) => assert.ok(Math.abs(p - probeAfter[i]) < 1e-6, `probability ${i}: ${p} vs ${probeAfter[i]}`));
  });
}
