// A worker of the CPU backend's thread pool (src/threads.rs), in a browser's Web Worker or a Node
// worker thread: it instantiates the threaded engine on the main thread's shared memory, says it
// has joined, then helps with kernels' tasks until the page (or process) ends.
import initThreaded, { threadWorkerJoin, threadWorkerLoop } from '../../pkg/webtensor_threads.js';

interface Start {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
}

async function run(start: Start, reply: (message: unknown) => void): Promise<void> {
  try {
    await initThreaded({ module_or_path: start.module, memory: start.memory });
  } catch (error) {
    reply(`failed: ${String(error)}`);
    return;
  }
  threadWorkerJoin();
  reply('ready');
  // Blocks this worker for good (it sleeps on an atomic wait between jobs).
  threadWorkerLoop();
}

interface Port {
  once(event: 'message', f: (start: Start) => void): void;
  postMessage(m: unknown): void;
}

const workerScope = globalThis as unknown as { WorkerGlobalScope?: unknown; onmessage: ((e: { data: Start }) => void) | null; postMessage(m: unknown): void };
if (workerScope.WorkerGlobalScope !== undefined) {
  workerScope.onmessage = (e) => void run(e.data, (m) => workerScope.postMessage(m));
} else {
  // No top-level await: bundlers emit workers as classic scripts (Vite's default 'iife').
  const threadsModule = 'node:worker_threads';
  void (import(/* @vite-ignore */ threadsModule) as Promise<{ parentPort: Port }>).then(({ parentPort }) => {
    parentPort.once('message', (start) => void run(start, (m) => parentPort.postMessage(m)));
  });
}
