// The Long Tasks measurement of bench/coldstart.html in the test suite, as a recorded figure (not a
// timed assertion): a CNN's first predict and first fit batch on WebGPU, cold and after
// model.warmup(), each in a freshly launched Chromium. What is asserted is that both runs compute
// the same, that the warm-up compiled kernels, and that no page error occurred.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../../scripts/serve.mjs';
import { coldstartSample } from '../../bench/coldstart.mjs';

let server, url;
before(async () => ({ server, url } = await startServer(0)));
after(() => server?.close());

test('first predict and fit on WebGPU, cold and after model.warmup(): Long Tasks recorded', async () => {
  const cold = await coldstartSample(url, { lib: 'webtensor', backend: 'webgpu', warmup: false });
  const warm = await coldstartSample(url, { lib: 'webtensor', backend: 'webgpu', warmup: true });
  for (const r of [cold, warm]) {
    assert.equal(r.error, undefined, r.error);
    assert.deepEqual(r.pageErrors, []);
    assert.match(r.device, /BrowserWebGpu/);
    assert.ok(r.longTasksApi, 'Chromium has the Long Tasks API');
    console.log(`${r.warmup ? 'after warmup' : 'cold'}: first result at ${r.firstResultMs.toFixed(0)} ms; ` +
      r.phases.map((p) => `${p.phase} ${p.ms.toFixed(0)} ms (longest task ${p.longestTaskMs.toFixed(0)} ms, longest gap ${p.longestGapMs.toFixed(0)} ms)`).join('; '));
  }
  assert.ok(warm.kernels > 5, `warmup compiled ${warm.kernels} kernels`);
  // same weights (seeded initialisers are not used here, so compare what does not depend on them)
  assert.ok(Math.abs(cold.probsSum - 1) < 1e-4 && Math.abs(warm.probsSum - 1) < 1e-4, 'softmax outputs sum to 1');
  assert.ok(Number.isFinite(cold.loss) && Number.isFinite(warm.loss), 'finite losses');
});
