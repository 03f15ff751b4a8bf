// A Vite app that imports the package by name, as a user's app would.
import * as tf from 'webtensor';

const out = document.getElementById('out');
try {
  await tf.ready();
  const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2], kernelInitializer: 'ones' })] });
  const y = await model.predict(tf.tensor([[1, 2]])).data();
  out.textContent = `ok ${tf.getBackend()} ${y[0]}`;
} catch (e) {
  out.textContent = `error ${e.message}`;
}
