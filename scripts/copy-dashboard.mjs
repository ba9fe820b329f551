// Copies the dashboard's static files (src/serve/dashboard/) and the one charting library it loads
// (uPlot's ES module and stylesheet) to dist/dashboard/, where `ptrack serve` serves them: the page
// needs no bundler and no network at run time, only these files, shipped in the package.
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const from = join(root, 'src/serve/dashboard');
const to = join(root, 'dist/dashboard');
const uplotDist = join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist');

rmSync(to, { recursive: true, force: true });
mkdirSync(to, { recursive: true });
for (const name of readdirSync(from)) copyFileSync(join(from, name), join(to, name));
for (const name of ['uPlot.esm.js', 'uPlot.min.css']) copyFileSync(join(uplotDist, name), join(to, name));
