// The demo page: starts a backend, runs a matmul, checks it against plain JS, shows the timing.
// The package's loader picks the build (threaded, relaxed-SIMD or SIMD128) and `wasm` is its
// exports (read at each call: it is a live binding set by the loader).
import { loadWasm, wasm } from '../dist/js/engine.js';

const $ = (id) => document.getElementById(id);

function status(text, isError = false) {
  $('status').textContent = text;
  $('status').className = isError ? 'error' : '';
}

async function startBackend() {
  const choice = $('backend').value;
  $('run').disabled = true;
  try {
    const name = await wasm.init(choice === 'auto' ? undefined : choice);
    $('backend-name').textContent = name;
    $('adapter').textContent = wasm.deviceDescription();
    await showSmallExample();
    $('run').disabled = false;
    status('ready');
  } catch (err) {
    $('backend-name').textContent = 'unavailable';
    status(String(err.message ?? err), true);
  }
}

async function showSmallExample() {
  const a = wasm.Tensor.fromArray(new Float32Array([1, 2, 3, 4]), new Uint32Array([2, 2]), 'float32');
  const b = wasm.Tensor.fromArray(new Float32Array([5, 6, 7, 8]), new Uint32Array([2, 2]), 'float32');
  const c = a.matMul(b, false, false);
  const v = await c.data();
  $('small').textContent = `[[${v[0]}, ${v[1]}], [${v[2]}, ${v[3]}]]`;
  a.free(); b.free(); c.free();
}

function matmulJs(a, b, n) {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < n; k++) {
      const av = a[i * n + k];
      for (let j = 0; j < n; j++) c[i * n + j] += av * b[k * n + j];
    }
  return c;
}

async function runMatmul() {
  const n = Math.max(1, Math.min(2048, Number($('size').value) | 0));
  $('run').disabled = true;
  status(`multiplying ${n}×${n}…`);
  try {
    const shape = new Uint32Array([n, n]);
    const a = wasm.Tensor.randomUniform(shape, -1, 1, 1);
    const b = wasm.Tensor.randomUniform(shape, -1, 1, 2);
    const [av, bv] = [await a.data(), await b.data()];
    await a.matMul(b, false, false).data(); // warm-up: compiles the kernel
    const t0 = performance.now();
    const c = a.matMul(b, false, false);
    const cv = await c.data();
    const ms = performance.now() - t0;
    const ref = matmulJs(av, bv, n);
    let maxErr = 0;
    for (let i = 0; i < ref.length; i++) maxErr = Math.max(maxErr, Math.abs(cv[i] - ref[i]));
    const gflops = (2 * n ** 3) / (ms * 1e6);
    $('result').textContent =
      `C[0][0..4] = ${Array.from(cv.slice(0, Math.min(4, n)), (x) => x.toFixed(4)).join(', ')}\n` +
      `max |C - C_js| = ${maxErr.toExponential(2)} ${maxErr < 1e-3 * n ? '(matches)' : '(MISMATCH)'}\n` +
      `${ms.toFixed(1)} ms including readback, ${gflops.toFixed(2)} GFLOP/s`;
    $('result').dataset.maxErr = String(maxErr);
    a.free(); b.free(); c.free();
    status('done');
  } catch (err) {
    status(String(err.message ?? err), true);
  } finally {
    $('run').disabled = false;
  }
}

await loadWasm();
$('backend').addEventListener('change', startBackend);
$('run').addEventListener('click', runMatmul);
await startBackend();
