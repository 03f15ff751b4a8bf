// A Vite app that imports the package by name, as a user's app would.
import * as tf from 'webtensor';

const out = document.getElementById('out');
try {
  await tf.ready();
  const chosen = tf.getBackend();
  // Which of the package's three wasm builds the bundle loaded (all must have been emitted; the
  // threaded one also needs its bundled worker script).
  const info = tf.backendInfo();
  const build = /threads/.test(info) ? `threads-${tf.getThreadsCount()}` : /relaxed/.test(info) ? 'relaxed-simd' : 'simd128';
  const predict = () => tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2], kernelInitializer: 'ones' })] }).predict(tf.tensor([[1, 2]])).data();
  const y = await predict();
  if (!(await tf.setBackend('webgpu'))) throw new Error('no WebGPU');
  const yGpu = await predict();
  out.textContent = `ok ${chosen} ${build} ${y[0]} webgpu ${yGpu[0]}`;
} catch (e) {
  out.textContent = `error ${e.message}`;
}
