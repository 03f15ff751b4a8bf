// `npm run bench`: serves the repo, opens bench/ in headless Chromium (WebGPU on), runs every
// contender side by side, and writes bench/results/latest.json and docs/BENCHMARKS.md.
// Options: --sizes 256,512,1024,2048 (matmul)  --reps 5  --budget 30 (seconds per matmul sample
// before a contender skips larger sizes)  --only "train,conv2d" (workload name prefixes)
// --contenders "webtensor-webgpu,tfjs-webgl" (names as in the table)  --browser chromium|firefox (Firefox ESR over WebDriver; writes the *-firefox files)
// --tag onnx (writes *-onnx files: `npm run bench -- --only onnx --tag onnx` for the ONNX Runtime Web table).
// --threads N (default 1): every wasm contender on N threads (ours: the threaded build; TF.js-wasm
// and ONNX Runtime Web: their threaded builds), the page served cross-origin isolated, which
// shared memory needs. At 1 the page is not isolated and everything runs on one thread.
import fs from 'node:fs';
import os from 'node:os';
import { execSync } from 'node:child_process';
import { startServer } from '../scripts/serve.mjs';
import { launchChromium } from '../tests/browser/chromium.mjs';
import { launchFirefox, evaluate } from '../tests/browser/firefox.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const config = {
  sizes: arg('sizes', '256,512,1024,2048').split(',').map(Number),
  reps: Number(arg('reps', 5)),
  maxSecondsPerSample: Number(arg('budget', 30)),
  workloads: arg('only', null)?.split(','),
  contenders: arg('contenders', null)?.split(','),
  threads: Number(arg('threads', 1)),
};

const browserName = arg('browser', 'chromium');
// --tag onnx writes latest-onnx.json / BENCHMARKS-onnx.md, so a partial run keeps the full tables.
const tag = arg('tag', null);
const suffix = (tag ? `-${tag}` : '') + (browserName === 'firefox' ? '-firefox' : '');
const { server, url } = await startServer(0, { isolated: config.threads > 1 });
let result, version, close;
if (browserName === 'firefox') {
  const driver = await launchFirefox();
  close = () => driver.quit();
  await driver.get(`${url}/bench/`);
  await driver.wait(async () => driver.executeScript('return window.benchReady === true'), 60_000);
  result = await evaluate(driver, (cfg) => window.runBench(cfg, (l) => console.log(l)), config);
  if (result.__error) throw new Error(result.__error);
  version = (await driver.getCapabilities()).get('browserVersion');
  for (const r of result.results) console.log(`${r.workload} | ${r.contender}: ${r.medianMs?.toFixed(1) ?? r.error ?? r.skipped}`);
} else {
  const browser = await launchChromium();
  close = () => browser.close();
  const page = await browser.context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') console.error(`[page] ${m.text()}`); });
  await page.exposeFunction('benchLog', (line) => console.log(line));
  await page.goto(`${url}/bench/`);
  await page.waitForFunction(() => window.benchReady === true, null, { timeout: 60_000 });
  result = await page.evaluate((cfg) => window.runBench(cfg, window.benchLog), config);
  version = browser.context.browser()?.version?.() ?? 'unknown';
}
try {
  // The build the page loaded (the relaxed-SIMD one where the browser has relaxed SIMD): the
  // bytes it downloads.
  const loaded = result.threads > 1 ? 'pkg/webtensor_threads_bg.wasm' : result.relaxedSimd ? 'pkg/webtensor_relaxed_bg.wasm' : 'pkg/webtensor_bg.wasm';
  const wasmBytes = fs.readFileSync(loaded);
  const gz = execSync(`gzip -9 -c ${loaded} | wc -c`).toString().trim();
  const meta = {
    date: new Date().toISOString(),
    machine: `${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    browser: browserName === 'firefox' ? `Firefox ${version} (headless, dom.webgpu.enabled)` : `Chromium ${version} (headless, --enable-unsafe-webgpu)`,
    config,
    wasmFile: loaded.replace('pkg/', ''),
    wasmBytes: wasmBytes.length,
    wasmGzipBytes: Number(gz),
    threads: result.threads,
  };
  fs.mkdirSync('bench/results', { recursive: true });
  fs.writeFileSync(`bench/results/latest${suffix}.json`, JSON.stringify({ meta, ...result }, null, 2));
  fs.writeFileSync(`docs/BENCHMARKS${suffix}.md`, markdown(meta, result));
  console.log(`wrote bench/results/latest${suffix}.json and docs/BENCHMARKS${suffix}.md`);
} finally {
  await close();
  server.close();
}

function markdown(meta, { devices, results }) {
  const contenders = [...new Set(results.map((r) => r.contender))];
  const workloads = [...new Set(results.map((r) => r.workload))];
  const row = (w, c) => results.find((x) => x.workload === w && x.contender === c);
  const cell = (w, c) => {
    const r = row(w, c);
    if (!r) return '-';
    if (r.skipped) return 'skipped';
    if (r.error) return `fails: ${r.error.replace(/\|/g, '/').slice(0, 60)}`;
    return `${r.medianMs.toFixed(1)} ms${r.gflops ? ` (${r.gflops.toFixed(2)} GFLOP/s)` : ''}`;
  };
  const ratio = (w, ours, theirs) => {
    const [a, b] = [row(w, ours), row(w, theirs)];
    if (!a?.medianMs || !b?.medianMs) return '-';
    return `${(b.medianMs / a.medianMs).toFixed(2)}x`;
  };
  const tf = contenders.filter((c) => c.startsWith('tfjs-'));
  let md = `# Benchmarks\n\nGenerated by \`npm run bench\` (bench/run.mjs) on ${meta.date}.\n\n`;
  md += `- Machine: ${meta.machine}, no GPU\n- Browser: ${meta.browser}\n`;
  md += `- Devices: ${Object.entries(devices).map(([k, v]) => `${k}: ${v}`).join('; ')}\n`;
  md += `- Method: all contenders in one page, interleaved per repetition, ${meta.config.reps} repetitions after a warm-up of 300 ms (at least one run; so wasm code is past the JIT's baseline tier); `;
  md += `each sample is the op plus the readback of its result; figures are medians.\n`;
  md += `- webtensor wasm (${meta.wasmFile}, the build this browser loads): ${meta.wasmBytes} bytes raw, ${meta.wasmGzipBytes} gzipped\n`;
  md += `- CPU threads of the wasm contenders: ${meta.config.threads}${meta.config.threads > 1 ? ' (page cross-origin isolated; webtensor ran on ' + meta.threads + ')' : ''}\n\n`;
  md += `## Times (median)\n\n| workload | ${contenders.join(' | ')} |\n|${' --- |'.repeat(contenders.length + 1)}\n`;
  for (const w of workloads) md += `| ${w} | ${contenders.map((c) => cell(w, c)).join(' | ')} |\n`;
  md += `\n## Speed-up of webtensor (their time / our time; > 1 means we are faster)\n\n`;
  md += `| workload | ${tf.map((t) => `webgpu vs ${t}`).join(' | ')} | cpu vs tfjs-wasm | webgpu default vs naive kernel | fused vs composed attention (webgpu, cpu) |\n`;
  md += `|${' --- |'.repeat(tf.length + 4)}\n`;
  for (const w of workloads) {
    md += `| ${w} | ${tf.map((t) => ratio(w, 'webtensor-webgpu', t)).join(' | ')} | ${ratio(w, 'webtensor-cpu', 'tfjs-wasm')} | ${ratio(w, 'webtensor-webgpu', 'webtensor-webgpu-naive')} | ${ratio(w, 'webtensor-webgpu', 'webtensor-webgpu-composed')}, ${ratio(w, 'webtensor-cpu', 'webtensor-cpu-composed')} |\n`;
  }
  const peaked = workloads.filter((w) => results.some((r) => r.workload === w && r.peakBytes !== undefined));
  if (peaked.length) {
    const withPeak = contenders.filter((c) => results.some((r) => r.contender === c && r.peakBytes !== undefined));
    const mib = (w, c) => (row(w, c)?.peakBytes === undefined ? '-' : `${(row(w, c).peakBytes / 2 ** 20).toFixed(2)}`);
    md += `\n## Peak memory (MiB) above what was live before one run\n\n`;
    md += `webtensor: the engine's own count (WebGPU: pooled device buffers handed out, scratch and uniforms included; CPU: tensor storage). TF.js: \`tf.profile\`'s peakBytes (its tensors).\n\n`;
    md += `| workload | ${withPeak.join(' | ')} |\n|${' --- |'.repeat(withPeak.length + 1)}\n`;
    for (const w of peaked) md += `| ${w} | ${withPeak.map((c) => mib(w, c)).join(' | ')} |\n`;
  }
  const held = workloads.filter((w) => results.some((r) => r.workload === w && r.modelBytes !== undefined));
  if (held.length) {
    const withModel = contenders.filter((c) => results.some((r) => r.contender === c && r.modelBytes !== undefined));
    const mib = (w, c) => (row(w, c)?.modelBytes === undefined ? '-' : `${(row(w, c).modelBytes / 2 ** 20).toFixed(2)}${row(w, c).packedBytes ? ` + ${(row(w, c).packedBytes / 2 ** 20).toFixed(2)} packed` : ''}`);
    md += `\n## Loaded model (MiB): what the engine holds for it on its device after loading\n\n`;
    md += `"+ N packed": the CPU backend's packed copies of the weights, made by the runs (tf.setCpuWeightPacking).\n\n`;
    md += `| workload | ${withModel.join(' | ')} |\n|${' --- |'.repeat(withModel.length + 1)}\n`;
    for (const w of held) md += `| ${w} | ${withModel.map((c) => mib(w, c)).join(' | ')} |\n`;
  }
  const onnx = workloads.filter((w) => w.startsWith('onnx'));
  if (onnx.length) {
    const first = (w, c) => row(w, c)?.firstRunMs;
    const ms = (v) => (v === undefined ? '-' : `${v.toFixed(1)}`);
    md += `\n## ONNX models: webtensor vs ONNX Runtime Web 1.30 (wasm EP with 1 thread, WebGPU EP)\n\n`;
    md += `Warm latency (median, outputs read back) and the ratio ORT time / our time (> 1: we are faster); first run = loading the model (session) + the first inference.\n\n`;
    md += `| model | webtensor-cpu | ort-wasm | cpu ratio | webtensor-webgpu | ort-webgpu | webgpu ratio | first run ms (ours cpu / ort-wasm / ours webgpu / ort-webgpu) |\n|${' --- |'.repeat(8)}\n`;
    for (const w of onnx) {
      md += `| ${w} | ${cell(w, 'webtensor-cpu')} | ${cell(w, 'ort-wasm')} | ${ratio(w, 'webtensor-cpu', 'ort-wasm')} | ${cell(w, 'webtensor-webgpu')} | ${cell(w, 'ort-webgpu')} | ${ratio(w, 'webtensor-webgpu', 'ort-webgpu')} | `;
      md += `${['webtensor-cpu', 'ort-wasm', 'webtensor-webgpu', 'ort-webgpu'].map((c) => ms(first(w, c))).join(' / ')} |\n`;
    }
  }
  return md;
}
