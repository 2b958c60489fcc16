// Prints the JavaScript a browser downloads on the first load of any page (the scripts
// and module preloads index.html names), gzip-compressed as web-api serves it, and
// fails the build above the budget of issue 15 (300 KB), so growth is seen when it
// happens, not in a slow office.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const kBudgetBytes = 300 * 1024;
const out = process.env.FAXBRIDGE_WEB_OUT ?? 'dist';
const html = readFileSync(join(out, 'index.html'), 'utf8');
const names = new Set();
for (const m of html.matchAll(/<(?:script[^>]*\bsrc|link[^>]*rel="modulepreload"[^>]*\bhref)="\/([^"]+\.js)"/g)) names.add(m[1]);
if (names.size === 0) throw new Error(`bundle-size: no script found in ${out}/index.html`);
let raw = 0;
let gz = 0;
for (const name of names) {
  const bytes = readFileSync(join(out, name));
  raw += bytes.length;
  gz += gzipSync(bytes, { level: 9 }).length;
}
const kb = (n) => (n / 1024).toFixed(1) + ' KB';
console.log(`web UI first load: ${names.size} script(s), ${kb(raw)} JavaScript, ${kb(gz)} gzip (budget ${kb(kBudgetBytes)})`);
if (gz > kBudgetBytes) {
  console.error('bundle-size: the first load is over budget');
  process.exit(1);
}
