// The op table: generated from the registry, exposed at run time, and the committed docs/OPS.md
// must equal what the code generates (so it can never drift).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import * as tf from '../../dist/js/index.js';
import { opTableMarkdown, OPS_DOC } from '../../scripts/op-table.mjs';

before(() => tf.ready());

test('docs/OPS.md matches the engine registry', () => {
  assert.equal(fs.readFileSync(OPS_DOC, 'utf8'), opTableMarkdown(tf.opTable()), 'run `node scripts/op-table.mjs` to regenerate');
});

test('the table at run time covers the engine and the wrapper', () => {
  const rows = tf.opTable();
  assert.ok(rows.length >= 80, `${rows.length} ops`);
  assert.ok(rows.every((r) => r.backends.includes('cpu') && r.backends.includes('webgpu')));
  const names = new Set(rows.map((r) => r.name));
  // spot checks against the JS API: ops the wrapper exposes exist in the engine table
  for (const [js, engine] of [['matMul', 'matmul'], ['conv2d', 'conv2d'], ['logSoftmax', 'log_softmax'], ['maxPool', 'max_pool'], ['squaredDifference', 'squared_difference'], ['oneHot', 'one_hot']]) {
    assert.equal(typeof tf[js], 'function', `tf.${js}`);
    assert.ok(names.has(engine), `engine op ${engine}`);
  }
  assert.deepEqual(rows.find((r) => r.name === 'add').dtypes, ['float32', 'int32', 'bool']);
  assert.equal(rows.find((r) => r.name === 'argmax').gradient, false);
});
