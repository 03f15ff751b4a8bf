// Writes docs/OPS.md, the op x backend x dtype table, from the engine's registry (tf.opTable()).
// `node scripts/op-table.mjs --check` fails if the committed table differs (run by the tests).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const OPS_DOC = path.join(root, 'docs', 'OPS.md');

export function opTableMarkdown(rows) {
  const backends = [...new Set(rows.flatMap((r) => r.backends))].sort();
  const dtypes = ['float32', 'int32', 'bool'];
  let md = '# Ops\n\nGenerated from the engine by `node scripts/op-table.mjs` (checked by the tests: this file cannot\n';
  md += 'drift from the code). Also at run time: `tf.opTable()`. Read from the code, not typed by hand\n';
  md += '(src/ops/table.rs): elementwise ops from their definitions, the others by running each on tiny\n';
  md += 'tensors of each dtype and seeing whether a gradient is recorded.\n\n';
  md += `${rows.length} ops; each runs on every backend (${backends.join(', ')}). "grad": a gradient rule exists (piecewise-constant\nops have a zero gradient, as in TF.js). int32/bool inputs of float-only ops are computed in float32.\n\n`;
  md += `| op | ${backends.join(' | ')} | ${dtypes.join(' | ')} | grad |\n|${' --- |'.repeat(backends.length + dtypes.length + 2)}\n`;
  for (const r of rows) {
    md += `| ${r.name} | ${backends.map((b) => (r.backends.includes(b) ? 'yes' : '-')).join(' | ')} | ${dtypes.map((d) => (r.dtypes.includes(d) ? 'yes' : '-')).join(' | ')} | ${r.gradient ? 'yes' : '-'} |\n`;
  }
  return md;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const tf = await import('../dist/js/index.js');
  await tf.ready();
  const md = opTableMarkdown(tf.opTable());
  if (process.argv.includes('--check')) {
    const current = fs.existsSync(OPS_DOC) ? fs.readFileSync(OPS_DOC, 'utf8') : '';
    if (current !== md) {
      console.error('docs/OPS.md is out of date: run `node scripts/op-table.mjs`');
      process.exit(1);
    }
    console.log('docs/OPS.md matches the registry');
  } else {
    fs.writeFileSync(OPS_DOC, md);
    console.log(`wrote ${OPS_DOC}`);
  }
}
