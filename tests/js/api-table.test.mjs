// docs/API.md, the TF.js API coverage table, must equal what the code generates (it cannot drift),
// and coverage may only grow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import * as ref from '@tensorflow/tfjs';
import * as tf from '../../dist/js/index.js';
import { apiRows, apiTableMarkdown, API_DOC } from '../../scripts/api-table.mjs';

test('docs/API.md matches the package and TF.js 4.22', () => {
  const rows = apiRows(ref, tf);
  assert.equal(fs.readFileSync(API_DOC, 'utf8'), apiTableMarkdown(rows), 'run `node scripts/api-table.mjs` to regenerate');
  const implemented = rows.filter((r) => r.status === 'yes').length;
  assert.ok(implemented >= 610, `${implemented} TF.js names implemented`);
  // spot checks of the classification
  const row = (place, name) => rows.find((r) => r.place === place && r.name === name);
  assert.equal(row('tf', 'tile').status, 'yes');
  assert.equal(row('tf', 'Abs').status, 'kernel name constant (for registering kernels)');
  assert.equal(row('tf', 'registerKernel').status.startsWith('backend and kernel registration'), true);
  assert.equal(row('Tensor', 'cumsum').status, 'yes');
});
