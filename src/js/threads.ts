// The CPU backend's threads, JS side: how many to run, and the workers that share the engine's
// memory (the pool itself is src/threads.rs; each worker runs thread_worker.ts).
import { describe } from './args.js';

let requested: number | null = null;
let loadedWith: number | null = null;

/**
 * Whether this context can give workers the engine's memory: a SharedArrayBuffer-backed
 * WebAssembly.Memory, which browsers allow only on cross-origin isolated pages (served with
 * `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`),
 * and Node always.
 */
function canShareMemory(isNode: boolean): boolean {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  if (isNode) return true;
  return (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true && typeof Worker !== 'undefined';
}

async function logicalCores(isNode: boolean): Promise<number> {
  if (isNode) {
    const osModule = 'node:os';
    const os = (await import(/* @vite-ignore */ osModule)) as { availableParallelism?(): number; cpus(): unknown[] };
    return os.availableParallelism?.() ?? os.cpus().length;
  }
  return (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
}

/**
 * Threads the engine will start with: `setThreadsCount`'s if given, else the logical cores (at
 * most 8); 1 where memory cannot be shared (then the single-threaded build loads).
 */
export async function threadsToStart(isNode: boolean): Promise<number> {
  const wanted = requested ?? Math.min(8, await logicalCores(isNode));
  const shareable = canShareMemory(isNode);
  if (requested !== null && requested > 1 && !shareable) {
    console.warn(`webtensor: setThreadsCount(${requested}) needs memory shared with workers, which this page cannot have (it is not cross-origin isolated: serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp); running on 1 thread`);
  }
  loadedWith = shareable ? Math.max(1, wanted) : 1;
  return loadedWith;
}

/** The threaded build could not start (see engine.ts): the engine runs on one thread. */
export function fellBackToOneThread(): void {
  loadedWith = 1;
}

/**
 * Sets how many threads the CPU backend's kernels run on (as TF.js-wasm's `setThreadsCount`):
 * call it before `tf.ready()` or `tf.setBackend`. 1 loads the single-threaded build. The default
 * is the logical cores, at most 8, on cross-origin isolated pages and in Node, else 1.
 */
export function setThreadsCount(count: number): void {
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 64) {
    throw new Error(`setThreadsCount: the count must be an integer from 1 to 64, got ${describe(count)}`);
  }
  if (loadedWith !== null && count !== loadedWith) {
    throw new Error(`setThreadsCount: the engine already started with ${loadedWith} thread(s); call setThreadsCount(${count}) before tf.ready() or tf.setBackend`);
  }
  requested = count;
}

interface NodeWorker {
  unref(): void;
  once(event: string, f: (v: unknown) => void): void;
  postMessage(m: unknown): void;
}

/**
 * Starts `count` workers on the engine's [module, memory] and resolves once each has joined the
 * pool (or failed to: the pool then runs on fewer threads, which only costs speed).
 */
export async function startWorkers(count: number, startData: unknown[], isNode: boolean): Promise<void> {
  const [module, memory] = startData;
  const message = { module, memory };
  let failures = 0;
  const joined = (reply: unknown) => {
    if (reply !== 'ready') failures++;
  };
  if (isNode) {
    const threadsModule = 'node:worker_threads';
    const { Worker: Thread } = (await import(/* @vite-ignore */ threadsModule)) as { Worker: new (url: URL) => NodeWorker };
    await Promise.all(Array.from({ length: count }, () => new Promise<void>((resolve) => {
      try {
        const w = new Thread(new URL('./thread_worker.js', import.meta.url));
        // Workers never finish (they wait for work): they must not keep the process alive.
        w.unref();
        w.once('message', (m) => { joined(m); resolve(); });
        w.once('error', (e) => { joined(e); resolve(); });
        w.postMessage(message);
      } catch (e) {
        joined(e);
        resolve();
      }
    })));
  } else {
    await Promise.all(Array.from({ length: count }, () => new Promise<void>((resolve) => {
      try {
        // The literal `new Worker(new URL(...), { type: 'module' })` is what bundlers (Vite) ship.
        const w = new Worker(new URL('./thread_worker.js', import.meta.url), { type: 'module' });
        w.onmessage = (e) => { joined(e.data); resolve(); };
        w.onerror = (e) => { joined(e); resolve(); };
        w.postMessage(message);
      } catch (e) {
        // A page whose policy forbids workers: the pool runs with fewer (the caller does all).
        joined(e);
        resolve();
      }
    })));
  }
  if (failures > 0) console.warn(`webtensor: ${failures} of ${count} CPU worker threads failed to start; running on fewer threads`);
}
