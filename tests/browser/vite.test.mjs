// The package in a Vite app: `import * as tf from 'webtensor'`, built by Vite (which must find
// and emit the .wasm), then opened in headless Chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { startServer } from '../../scripts/serve.mjs';
import { launchChromium } from './chromium.mjs';

test('a Vite-built app imports the package, loads the relaxed-SIMD build (or, cross-origin isolated, the threaded one), runs on the CPU and on WebGPU', async () => {
  execFileSync('node_modules/.bin/vite', ['build', '--config', 'tests/vite-app/vite.config.mjs'], { stdio: 'inherit' });
  const browser = await launchChromium();
  try {
    for (const isolated of [false, true]) {
      const { server, url } = await startServer(0, { isolated });
      try {
        const page = await browser.context.newPage();
        await page.goto(`${url}/target/vite-app/index.html`);
        await page.waitForFunction(() => document.getElementById('out').textContent !== 'loading…', null, { timeout: 60_000 });
        const text = await page.textContent('#out');
        console.log(`vite app (${isolated ? 'isolated' : 'not isolated'}): ${text}`);
        // tf.ready() chooses the CPU over SwiftShader (an emulated GPU); Chromium has relaxed
        // SIMD, so without isolation the relaxed build must have been emitted and loaded; on an
        // isolated page the threaded build and its worker, a thread per core. The model also runs
        // on WebGPU.
        const build = isolated ? `threads-${Math.min(8, os.availableParallelism())}` : 'relaxed-simd';
        assert.equal(text, `ok cpu ${build} 3 webgpu 3`);
      } finally {
        server.close();
      }
    }
  } finally {
    await browser.close();
  }
});
