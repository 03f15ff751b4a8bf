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
