// Bundles the CLI so `ptrack` starts fast: loading zod, rxjs and commander as hundreds of
// separate modules cost ~300 ms per command. Native and lazily loaded packages stay external.
// The entry is dist/cli/ptrack.mjs; what a command loads only when it runs (the daemon: `ptrack
// serve` and prom-client) is split into dist/cli/chunks/, so a write command never parses it.
// zod is imported as a namespace (`import * as z`) so only the parts used are bundled (not its
// 64 locales), rxjs from its ES module build (tree-shaken), and the whole is minified.
import { readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { build } from 'esbuild';

const require = createRequire(import.meta.url);
const zodClassic = require.resolve('zod').replace(/index\.c?js$/, 'v4/classic/external.js');
const rxjsEsm = require.resolve('rxjs').replace(/dist[\\/]cjs[\\/]index\.js$/, 'dist/esm/index.js');

const lean = {
  name: 'lean-imports',
  setup(b) {
    // `import { z } from 'zod'` is a namespace object holding everything (locales included): the
    // same module imported as a namespace lets esbuild keep only the members the code reads.
    b.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      return { contents: text.replace(/^import \{ z \} from 'zod';$/m, `import * as z from ${JSON.stringify(zodClassic)};`), loader: 'ts' };
    });
    b.onResolve({ filter: /^rxjs$/ }, () => ({ path: rxjsEsm }));
  },
};

await rm('dist/cli/chunks', { recursive: true, force: true });
const result = await build({
  metafile: Boolean(process.env.PTRACK_BUNDLE_META),
  entryPoints: { ptrack: 'src/cli/main.ts' },
  outdir: 'dist/cli',
  entryNames: '[name]',
  chunkNames: 'chunks/[name]-[hash]',
  outExtension: { '.js': '.mjs' },
  splitting: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: true,
  // Class and function names stay (error names, messages that name a type).
  keepNames: true,
  sourcemap: true,
  plugins: [lean],
  external: ['better-sqlite3', 'prom-client', 'pino', 'pino-pretty', '@eventstore/db-client', 'pg', 'ccxt', '@alpacahq/alpaca-trade-api'],
  // CommonJS dependencies (commander) call require() for Node built-ins.
  banner: {
    js: "import { createRequire as __ptrackCreateRequire } from 'node:module'; const require = __ptrackCreateRequire(import.meta.url);",
  },
  mainFields: ['module', 'main'],
  logLevel: 'warning',
});
if (process.env.PTRACK_BUNDLE_META) {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(process.env.PTRACK_BUNDLE_META, JSON.stringify(result.metafile));
}
