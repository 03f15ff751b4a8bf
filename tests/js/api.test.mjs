// The JS API suite in Node 20 on the CPU backend (Node has no WebGPU), with TF.js 4.22's CPU
// backend as the reference of the differential cases.
import { test, before } from 'node:test';
import * as tf from '../../dist/js/index.js';
import * as ref from '@tensorflow/tfjs';
import { cases } from './cases.mjs';
import v8 from 'node:v8';
import vm from 'node:vm';

// The safety-net case needs to force a collection.
if (typeof globalThis.gc !== 'function') {
  v8.setFlagsFromString('--expose-gc');
  globalThis.gc = vm.runInNewContext('gc');
}

before(async () => {
  await tf.ready();
  await ref.setBackend('cpu');
});

test('Node runs on the CPU backend', () => {
  if (tf.getBackend() !== 'cpu') throw new Error(`backend ${tf.getBackend()}`);
});

for (const [name, fn] of Object.entries(cases)) {
  test(name, () => fn(tf, ref));
}
