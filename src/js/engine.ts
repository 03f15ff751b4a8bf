// Start-up, backends, and tensor bookkeeping (tidy scopes, keep, memory figures).
import { describe } from './args.js';
import initWasm, * as singleThreaded from '../../pkg/webtensor.js';
import type { Tensor } from './tensor.js';
import { fellBackToOneThread, startWorkers, threadsToStart } from './threads.js';

/**
 * The engine's exports: the single-threaded build's glue until `loadWasm` picks the threaded one.
 * A live binding: modules that import it see the switch. Both glues come from the same Rust
 * exports, so their enums (plain numbers, read at module load) are the same.
 */
export let wasm: typeof singleThreaded = singleThreaded;

let wasmLoaded: Promise<unknown> | null = null;
let backend: string | null = null;

const isNode = !!(globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node;

/**
 * A module of one function using f32x4.relaxed_madd (opcode 0xfd 0x105): it validates exactly
 * where the engine has relaxed SIMD.
 */
const RELAXED_SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type section: () -> ()
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x0a, 0x3e, 0x01, 0x3c, 0x00, // code section: one body of 60 bytes, no locals
  ...[0, 1, 2].flatMap(() => [0xfd, 0x0c, ...new Array<number>(16).fill(0)]), // three v128.const 0
  0xfd, 0x85, 0x02, // f32x4.relaxed_madd
  0x1a, 0x0b, // drop, end
]);

/** Whether this engine runs relaxed SIMD (then the build with fused multiply-add GEMM loads). */
export function hasRelaxedSimd(): boolean {
  try {
    return WebAssembly.validate(RELAXED_SIMD_PROBE);
  } catch {
    return false;
  }
}

/** The wasm file at `url`: its bytes in Node (which has no fetch for file: URLs), else the URL. */
async function wasmSource(url: URL): Promise<URL | Uint8Array> {
  if (!isNode) return url;
  // A variable keeps bundlers from trying to resolve a Node module for the browser build.
  const fsModule = 'node:fs/promises';
  const fs = (await import(/* @vite-ignore */ fsModule)) as { readFile(u: URL): Promise<Uint8Array> };
  return fs.readFile(url);
}

/**
 * Loads and instantiates the wasm module once, one of three builds of the same source
 * (scripts/build_wasm.sh); a page downloads only one:
 * - where workers can share its memory (cross-origin isolated pages, Node) and more than one
 *   thread is wanted (`setThreadsCount`, default the logical cores): the threaded SIMD128 build,
 *   whose CPU kernels split large products across worker threads started here;
 * - else the relaxed-SIMD build where the engine has relaxed SIMD (its GEMM's fused
 *   multiply-add), else the SIMD128 one. These two share one JS glue.
 */
export function loadWasm(): Promise<unknown> {
  if (!wasmLoaded) {
    wasmLoaded = (async () => {
      const threads = await threadsToStart(isNode);
      if (threads > 1) {
        try {
          const glue = await import('../../pkg/webtensor_threads.js');
          await glue.default({ module_or_path: await wasmSource(new URL('../../pkg/webtensor_threads_bg.wasm', import.meta.url)) });
          wasm = glue as unknown as typeof singleThreaded;
          await startWorkers(threads - 1, glue.threadStartData(), isNode);
          return;
        } catch (error) {
          // E.g. a device that cannot reserve a shared memory of the build's 4 GiB maximum: the
          // single-threaded build still runs.
          console.warn(`webtensor: the threaded build did not start (${String(error)}); running on 1 thread`);
          wasm = singleThreaded;
          fellBackToOneThread();
        }
      }
      // Two literal URLs, so that bundlers (Vite) see and ship both files.
      const url = hasRelaxedSimd() ? new URL('../../pkg/webtensor_relaxed_bg.wasm', import.meta.url) : new URL('../../pkg/webtensor_bg.wasm', import.meta.url);
      return initWasm({ module_or_path: await wasmSource(url) });
    })();
  }
  return wasmLoaded;
}

/** Threads the CPU backend's kernels run on (TF.js-wasm's `getThreadsCount`): 1 until loaded. */
export function getThreadsCount(): number {
  return backend === null ? 1 : wasm.cpuThreads();
}

/**
 * Resolves once a backend is running: WebGPU when the browser has a real GPU adapter, else the
 * CPU (also where the only adapter is a GPU emulated on the CPU, such as SwiftShader: the CPU
 * backend is faster there; `tf.setBackend('webgpu')` still selects it).
 * After the GPU device is lost (driver reset, tab in the background too long, `destroy()`), it
 * brings up a new device, or falls back to the CPU when none can be had. Tensors made on the lost
 * device cannot be recovered: using them throws an Error saying so; make them again.
 */
export async function ready(): Promise<void> {
  await loadWasm();
  wasm.setWeightPacking(weightPacking);
  if (backend === null) {
    // WebGPU on a real GPU; the CPU backend where there is none, or where the adapter is a GPU
    // emulated on the CPU (SwiftShader, lavapipe, llvmpipe), which is slower than the CPU
    // backend. tf.setBackend('webgpu') still gets such an adapter.
    backend = await wasm.init(undefined);
  } else if (isDeviceLost()) {
    // The backend that was running, on a new device; the CPU if no device can be had.
    backend = await wasm.init(backend).catch(() => wasm.init('cpu'));
  }
}

let weightPacking = true;

/**
 * Whether the CPU backend keeps a packed copy of each weight (a loaded model's, a variable's)
 * that its matrix products read again and again, made on the second product and dropped when
 * the weight is written: it saves a pass over the weight per product (2-6 % of a torchvision
 * conv net's inference, 17 % of a d1024 feed-forward block's on 64 tokens) at the cost of the weight's bytes again (`tf.memory().numBytesInPackedWeights`). On by
 * default; turn it off before loading a model where memory matters more. Packs made earlier stay
 * until their weights are written or disposed. Not a TF.js function.
 */
export function setCpuWeightPacking(on: boolean): void {
  if (typeof on !== 'boolean') throw new Error(`setCpuWeightPacking: expected true or false, got ${String(on)}`);
  weightPacking = on;
  if (backend !== null) wasm.setWeightPacking(on);
}

export function getCpuWeightPacking(): boolean {
  return weightPacking;
}

/**
 * Compiles, ahead of time and without blocking the page, every GPU kernel that `fn` needs. `fn`
 * runs as a trace: shapes are worked out but nothing is computed (do not read its results; they
 * are disposed), then all its kernels compile with `createComputePipelineAsync`, which browsers
 * run off the main thread. Later real runs find them compiled. Resolves to the number of kernels
 * compiled (0 on the CPU backend, which has nothing to compile). `model.warmup()` uses it.
 */
export async function compileAhead(fn: () => unknown): Promise<number> {
  assertReady('compileAhead');
  // The CPU backend has no trace mode: running fn there would compute (and update state) for real.
  if (backend !== 'webgpu') return 0;
  wasm.startKernelTrace();
  let failure: { error: unknown } | null = null;
  try {
    // Elementwise results wait until read: run what fn left pending, so its kernels are noted too.
    tidy(() => { fn(); wasm.realizePending(); });
  } catch (error) {
    failure = { error };
  }
  // Always end the trace (it also compiles what was noted before a failure).
  const compiled = await wasm.compileTraced();
  if (failure) throw failure.error;
  return compiled;
}

/** GPU kernels compiled so far (0 on the CPU backend). */
export function compiledKernels(): number {
  assertReady('compiledKernels');
  return wasm.compiledKernels();
}

/** The largest tensor, in bytes, the current backend can hold (on WebGPU: the adapter's buffer limits). */
export function maxTensorBytes(): number {
  assertReady('maxTensorBytes');
  return wasm.maxTensorBytes();
}

/** True when the WebGPU device has been lost; `await tf.ready()` then brings up a new one. */
export function isDeviceLost(): boolean {
  return backend === 'webgpu' && wasm.deviceLost();
}

/**
 * Destroys the current WebGPU device, exactly as a driver reset would, so that an application can
 * test its recovery path (`await tf.ready()`, then remake its tensors or reload its model).
 */
export function simulateDeviceLoss(): void {
  assertReady('simulateDeviceLoss');
  wasm.destroyDevice();
}

/** 'webgpu' or 'cpu'. Resolves false (like TF.js) when the backend cannot start. */
export async function setBackend(name: string): Promise<boolean> {
  // Checked before the string reaches wasm (see args.ts); unknown names resolve false, as TF.js.
  if (typeof name !== 'string') throw new Error(`setBackend: the backend name must be a string ('webgpu' or 'cpu'), got ${describe(name)}`);
  await loadWasm();
  wasm.setWeightPacking(weightPacking);
  try {
    backend = await wasm.init(name);
    return true;
  } catch {
    return false;
  }
}

export function getBackend(): string {
  return backend ?? 'uninitialized';
}

/** The adapter or device running the kernels, e.g. "SwiftShader Device (Subzero) (BrowserWebGpu)". */
export function backendInfo(): string {
  assertReady('backendInfo');
  return wasm.deviceDescription();
}

export interface OpRow {
  name: string;
  backends: string[];
  dtypes: string[];
  gradient: boolean;
}

/** The engine's op table (from its registry): every op, its backends, dtypes and gradient. */
export function opTable(): OpRow[] {
  assertReady('opTable');
  return wasm.opTable() as OpRow[];
}

export function assertReady(op: string): void {
  if (backend === null) throw new Error(`${op}: no backend yet; call \`await tf.ready()\` (or tf.setBackend) first`);
}

// ---- tensor bookkeeping ---------------------------------------------------------------------

// Live tensors are counted, not held: a tensor the program drops without disposing it can still be
// garbage-collected, and the safety net below then frees its engine memory.
let numTensors = 0;
let numBytes = 0;
/** The most bytes of live tensors since `startPeak` (tf.profile's peakBytes). */
let peakBytes = 0;
let freedByGC = 0;
let bytesFreedByGC = 0;
const scopes: Set<Tensor>[] = [];
const kept = new WeakSet<Tensor>();

/** The async scope whose code is running right now (set around each synchronous slice). */
let currentAsyncScope: Set<Tensor> | null = null;

interface Leaked {
  handle: { free(): void };
  bytes: number;
}

/**
 * The safety net for leaks: when user code drops a tensor without `dispose()` (and outside any
 * tidy), the garbage collector eventually reclaims the JS object and this frees its engine memory
 * (GPU buffer or wasm heap) and its place in `tf.memory()`. It is a net, not a plan: collection
 * happens late or never under low pressure, so tidy/dispose remain the way to free promptly.
 */
const leakNet = typeof FinalizationRegistry === 'undefined'
  ? null
  : new FinalizationRegistry<Leaked>((leaked) => {
    leaked.handle.free();
    numTensors--;
    numBytes -= leaked.bytes;
    freedByGC++;
    bytesFreedByGC += leaked.bytes;
  });

export function track(t: Tensor, handle: { free(): void }): void {
  numTensors++;
  numBytes += t.sizeBytes;
  if (numBytes > peakBytes) peakBytes = numBytes;
  // The held value must not reference `t` (it would keep it alive): the handle alone.
  leakNet?.register(t, { handle, bytes: t.sizeBytes }, t);
  const top = scopes[scopes.length - 1];
  if (top) top.add(t);
  else currentAsyncScope?.add(t);
}

export function untrack(t: Tensor): void {
  numTensors--;
  numBytes -= t.sizeBytes;
  leakNet?.unregister(t);
  for (const s of scopes) s.delete(t);
}

/** Live tensors and bytes; those made and not disposed (live plus what the garbage-collection net
 * freed: tf.profile's deltas, which the net freeing some earlier code's leaks must not move); and
 * the most live bytes since `startPeak`. */
export function tensorCounts(): { numTensors: number; numBytes: number; ownedTensors: number; ownedBytes: number; peakBytes: number } {
  return { numTensors, numBytes, ownedTensors: numTensors + freedByGC, ownedBytes: numBytes + bytesFreedByGC, peakBytes };
}

/** Starts new peaks at what is live now: tensor bytes here and device bytes in the engine. */
export function startPeak(): void {
  peakBytes = numBytes;
  if (backend !== null) wasm.resetPeakBytes();
}

/** Keeps `t` alive past the enclosing tidy (TF.js `tf.keep`). */
export function keep<T extends Tensor>(t: T): T {
  kept.add(t);
  return t;
}

/** Every tensor inside `result` (arrays and plain objects, walked without recursion: a cycle or a
 * container nested 10^4 deep is fine). */
function collect(result: unknown, into: Set<Tensor>, isTensor: (x: unknown) => x is Tensor): void {
  const seen = new Set<object>();
  const stack: unknown[] = [result];
  while (stack.length) {
    const v = stack.pop();
    if (isTensor(v)) into.add(v);
    else if (v && typeof v === 'object' && !ArrayBuffer.isView(v) && !seen.has(v)) {
      seen.add(v);
      if (Array.isArray(v)) stack.push(...v);
      else stack.push(...Object.values(v));
    }
  }
}

let tensorCheck: (x: unknown) => x is Tensor = (x): x is Tensor => false;
export function setTensorCheck(f: (x: unknown) => x is Tensor): void {
  tensorCheck = f;
}

// How many functions are being differentiated right now (tf.grad's f, variableGrads' f, a
// minimize's loss): a gradient taken inside one records its own backward pass, so the outer
// gradient flows through it (a gradient of a gradient).
let differentiating = 0;

/** Runs `f`, a function about to be differentiated. */
export function whileDifferentiating<T>(f: () => T): T {
  differentiating++;
  try {
    return f();
  } finally {
    differentiating--;
  }
}

/** Whether a function being differentiated is running (see whileDifferentiating). */
export function isDifferentiating(): boolean {
  return differentiating > 0;
}

/**
 * Runs `fn` and disposes every tensor it created except those it returns (anywhere inside an
 * array or object) and those passed to `keep`. `fn` must be synchronous, as in TF.js.
 */
export function tidy<T>(nameOrFn: string | (() => T), maybeFn?: () => T): T {
  const fn = (typeof nameOrFn === 'function' ? nameOrFn : maybeFn) as () => T;
  if (typeof fn !== 'function') throw new Error(`tidy: expected a function (or a name and a function), got ${describe(fn)}`);
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
    if (result instanceof Promise) throw new Error('tidy: the function must not be async (it returned a Promise)');
  } catch (e) {
    // A failed computation leaves nothing behind: its intermediates are freed too.
    scopes.pop();
    for (const t of scope) if (!kept.has(t)) t.dispose();
    throw e;
  }
  scopes.pop();
  const survivors = new Set<Tensor>();
  collect(result, survivors, tensorCheck);
  for (const t of scope) {
    if (survivors.has(t) || kept.has(t)) {
      scopes[scopes.length - 1]?.add(t);
    } else {
      t.dispose();
    }
  }
  return result;
}

/**
 * An async-safe tidy. `tf.tidy` cannot span an `await`; this can: pass a generator function and
 * write `yield` where you would write `await` (`const v = yield t.data()`). Every tensor made
 * while the generator runs belongs to this scope and is disposed when it finishes (or throws),
 * except what it returns and what it `keep`s. Scopes running interleaved never free each other's
 * tensors: each resumption runs with its own scope as the current one.
 *
 *   const probs = await tf.tidyAsync(function* () {
 *     const x = tf.tensor(yield fetchPixels());
 *     return model.predict(x);          // x is freed, the prediction survives
 *   });
 */
export async function tidyAsync<T>(gen: () => Generator<unknown, T, unknown>): Promise<T> {
  const scope = new Set<Tensor>();
  const outer = currentAsyncScope;
  const it = (() => {
    currentAsyncScope = scope;
    try {
      return gen();
    } finally {
      currentAsyncScope = outer;
    }
  })();
  let input: unknown;
  let thrown: { error: unknown } | null = null;
  let result: T;
  try {
    for (;;) {
      let step: IteratorResult<unknown, T>;
      const saved = currentAsyncScope;
      currentAsyncScope = scope;
      try {
        step = thrown ? it.throw(thrown.error) : it.next(input);
      } finally {
        currentAsyncScope = saved;
      }
      thrown = null;
      if (step.done) {
        result = step.value;
        break;
      }
      try {
        input = await step.value;
      } catch (error) {
        thrown = { error };
      }
    }
  } catch (e) {
    for (const t of scope) if (!kept.has(t)) t.dispose();
    throw e;
  }
  const survivors = new Set<Tensor>();
  collect(result, survivors, tensorCheck);
  for (const t of scope) {
    if (survivors.has(t) || kept.has(t)) {
      // survivors belong to whatever scope awaited us
      (scopes[scopes.length - 1] ?? currentAsyncScope)?.add(t);
    } else {
      t.dispose();
    }
  }
  return result;
}

export interface MemoryInfo {
  numTensors: number;
  numBytes: number;
  unreliable: boolean;
  /** Device-side figures on WebGPU: bytes in live pooled buffers, in free ones, the peak. */
  numBytesInGPU?: number;
  numBytesInGPUFree?: number;
  gpuHighWaterBytes?: number;
  /**
   * On the CPU backend: bytes of the packed copies its matrix products keep of weights that
   * they read again and again (a loaded model's, variables), beside the weights themselves.
   */
  numBytesInPackedWeights?: number;
  /** Tensors the program dropped without disposing, freed by the garbage-collection safety net. */
  numTensorsFreedByGC: number;
  numBytesFreedByGC: number;
  /** Bytes of wasm linear memory (the wasm heap, which only grows: its high-water mark). */
  wasmHeapBytes: number;
}

export function memory(): MemoryInfo {
  const info: MemoryInfo = { numTensors, numBytes, unreliable: false, numTensorsFreedByGC: freedByGC, numBytesFreedByGC: bytesFreedByGC, wasmHeapBytes: backend === null ? 0 : wasm.wasmMemoryBytes() };
  if (backend === 'webgpu') {
    const m = wasm.memoryInfo() as Record<string, number>;
    info.numBytesInGPU = m.poolLiveBytes;
    info.numBytesInGPUFree = m.poolFreeBytes;
    info.gpuHighWaterBytes = m.poolHighWaterBytes;
  } else if (backend === 'cpu') {
    info.numBytesInPackedWeights = (wasm.memoryInfo() as Record<string, number>).packedWeightBytes;
  }
  return info;
}

/** Disposes a tensor, or every tensor in an array or object. */
export function dispose(x: unknown): void {
  const all = new Set<Tensor>();
  collect(x, all, tensorCheck);
  all.forEach((t) => t.dispose());
}
