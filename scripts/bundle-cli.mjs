// Bundles the CLI into one ESM file so `ptrack` starts fast: loading zod, rxjs and commander
// as hundreds of separate modules cost ~300 ms per command; one file costs a fraction of that.
// Native and lazily loaded packages stay external.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/cli/ptrack.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  external: ['better-sqlite3', 'prom-client', 'pino', 'pino-pretty', '@eventstore/db-client', 'pg', 'ccxt', '@alpacahq/alpaca-trade-api'],
  // CommonJS dependencies (commander) call require() for Node built-ins.
  banner: {
    js: "import { createRequire as __ptrackCreateRequire } from 'node:module'; const require = __ptrackCreateRequire(import.meta.url);",
  },
  mainFields: ['module', 'main'],
  logLevel: 'warning',
});
