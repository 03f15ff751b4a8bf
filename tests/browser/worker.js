// A module worker using the package: WebGPU (or CPU) inside a Web Worker.
import * as tf from '/dist/js/index.js';

self.onmessage = async () => {
  try {
    await tf.ready();
    const a = tf.tensor([[1, 2], [3, 4]]);
    const c = a.matMul(a);
    self.postMessage({ backend: tf.getBackend(), device: tf.backendInfo(), values: Array.from(await c.data()) });
  } catch (e) {
    self.postMessage({ error: String(e && e.stack || e) });
  }
};
