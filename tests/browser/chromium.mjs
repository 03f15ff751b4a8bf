// Launches Debian's Chromium headless with WebGPU on (SwiftShader on GPU-less machines). Never
// lets playwright download a browser of its own.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchChromium() {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'webtensor-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--enable-unsafe-webgpu',
      '--enable-webgpu-developer-features',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
      // WebGL on SwiftShader (TF.js's webgl backend in the benchmark) needs this since Chromium 137.
      '--enable-unsafe-swiftshader',
      // tests of the garbage-collection safety net call window.gc()
      '--js-flags=--expose-gc',
    ],
  });
  const close = async () => {
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  };
  return { context, close };
}

/** Opens the JS API test page (tests/browser/api.html) served at `url` and waits until it is
 * ready; uncaught page errors are collected into `pageErrors`. */
export async function openApiPage(browser, url, pageErrors) {
  const page = await browser.context.newPage();
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  await page.goto(`${url}/tests/browser/api.html`);
  await page.waitForFunction(() => window.apiReady === true, null, { timeout: 60_000 });
  return page;
}
