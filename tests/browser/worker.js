// A module worker using the package inside a Web Worker: the backend tf.ready() chooses, then WebGPU.
import * as tf from '/dist/js/index.js';

self.onmessage = async () => {
  try {
    await tf.ready();
    const chosen = tf.getBackend();
    if (!(await tf.setBackend('webgpu'))) throw new Error('no WebGPU in the worker');
    const a = tf.tensor([[1, 2], [3, 4]]);
    const c = a.matMul(a);
    self.postMessage({ chosen, backend: tf.getBackend(), device: tf.backendInfo(), values: Array.from(await c.data()) });
  } catch (e) {
    self.postMessage({ error: String(e && e.stack || e) });
  }
};
