// tf.profile: the tensors and bytes a function allocates, its peak, and a record of each tf.* op
// it calls, as TF.js reports them; plus the engine's own peak of device bytes (on WebGPU the
// pooled buffers, intermediates and scratch included; on the CPU the tensor storage), which
// TF.js's JS-side count cannot see.
import { assertReady, startPeak, tensorCounts, wasm } from './engine.js';
import { Tensor, watchHandleReads } from './tensor.js';

export interface KernelInfo {
  /** The tf.* op called (a composite op records the call, not the kernels inside it). */
  name: string;
  bytesAdded: number;
  totalBytesSnapshot: number;
  tensorsAdded: number;
  totalTensorsSnapshot: number;
  inputShapes: number[][];
  outputShapes: number[][];
  /** TF.js gives `{error}` where a backend cannot time one kernel; so does webtensor, always: see KERNEL_TIME. */
  kernelTimeMs: { error: string };
  extraInfo: string;
}

export interface ProfileInfo {
  /** Bytes of the tensors f made and did not dispose (as TF.js: live after less live before,
   * except that tensors the garbage-collection net frees meanwhile do not count as disposed). */
  newBytes: number;
  newTensors: number;
  /** The most bytes of live tensors at once while f ran (TF.js's figure: tensors seen by JS). */
  peakBytes: number;
  /** The most bytes the engine held on the device at once while f ran, tensors it made inside fused ops included. */
  peakDeviceBytes: number;
  kernels: KernelInfo[];
  kernelNames: string[];
  result: unknown;
}

const KERNEL_TIME = 'webtensor runs elementwise chains lazily as one fused kernel at the next readback, so one op call has no time of its own: time the whole function with tf.time';

let kernels: KernelInfo[] | null = null;
let depth = 0;

/** @internal Runs `make` (one op call); while a profile is active, records it. */
export function recordOp(op: string, make: () => Tensor): Tensor {
  if (kernels === null || depth > 0) return make();
  const before = tensorCounts();
  const reads = new Set<Tensor>();
  depth++;
  watchHandleReads(reads);
  let out: Tensor;
  try {
    out = make();
  } finally {
    watchHandleReads(null);
    depth--;
  }
  const after = tensorCounts();
  kernels.push({
    name: op,
    bytesAdded: after.ownedBytes - before.ownedBytes,
    totalBytesSnapshot: after.numBytes,
    tensorsAdded: after.ownedTensors - before.ownedTensors,
    totalTensorsSnapshot: after.numTensors,
    inputShapes: [...reads].map((t) => [...t.shape]),
    outputShapes: [[...out.shape]],
    kernelTimeMs: { error: KERNEL_TIME },
    extraInfo: '',
  });
  return out;
}

/** tf.profile(f): runs f (sync or async) and resolves to what it allocated; f's result is kept. */
export async function profile(f: () => unknown): Promise<ProfileInfo> {
  if (typeof f !== 'function') throw new Error(`profile: expected a function, got ${typeof f}`);
  if (kernels !== null) throw new Error('profile: a profile is already running (tf.profile calls do not nest)');
  assertReady('profile');
  const start = tensorCounts();
  startPeak();
  const recorded: KernelInfo[] = [];
  kernels = recorded;
  let result: unknown;
  try {
    result = await f();
  } finally {
    kernels = null;
  }
  const end = tensorCounts();
  // The engine's peak restarts at the bytes live at startPeak, so it never reads below them.
  const device = wasm.memoryInfo() as Record<string, number>;
  return {
    newBytes: end.ownedBytes - start.ownedBytes,
    newTensors: end.ownedTensors - start.ownedTensors,
    peakBytes: end.peakBytes,
    peakDeviceBytes: device.peakBytes,
    kernels: recorded,
    kernelNames: [...new Set(recorded.map((k) => k.name))],
    result,
  };
}
