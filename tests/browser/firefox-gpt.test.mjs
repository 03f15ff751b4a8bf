// The GPT demo in headless Firefox ESR (WebGPU and CPU), over WebDriver: a small run's loss must
// fall well below a uniform guess and the model must write.
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

for (const backend of ['webgpu', 'cpu']) {
  test(`GPT demo in Firefox on ${backend}`, async () => {
    await driver.get(`${url}/www/gpt.html`);
    await waitFor(`document.getElementById('status').textContent === 'ready'`, 60_000);
    await driver.executeScript(`const b = document.getElementById('backend'); b.value = '${backend}'; b.dispatchEvent(new Event('change'));`);
    await waitFor(`document.getElementById('status').textContent === 'ready' && document.getElementById('device').textContent.startsWith('${backend}')`, 60_000);
    await driver.executeScript(`Object.entries({ layers: 1, width: 32, context: 32, steps: 100, lr: 0.01 }).forEach(([k, v]) => { document.getElementById(k).value = String(v); });`);
    await driver.findElement(By.id('train')).click();
    await waitFor(`/trained|failed/.test(document.getElementById('status').textContent)`, 600_000);
    assert.equal(await text('status'), 'trained');
    const st = await driver.executeScript('return window.gptState');
    const [first, last] = [st.losses[0], st.losses.slice(-10).reduce((a, b) => a + b, 0) / 10];
    console.log(`firefox ${backend}: loss ${first.toFixed(3)} -> ${last.toFixed(3)} in ${st.trainSeconds.toFixed(1)} s (${await text('device')}); sample: ${JSON.stringify(st.samples.at(-1))}`);
    assert.equal(st.losses.length, 100);
    assert.ok(first > 3.5 && last < 3.0, `loss ${first} -> ${last}`);
    assert.equal(st.samples.at(-1).length, 31);
  });
}
