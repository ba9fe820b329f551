// npm run bench [-- --quick]: bundles bench/main.ts with esbuild and runs it with --expose-gc.
// Figures only: nothing here passes or fails on time.
import { spawnSync } from 'node:child_process';
import { build } from 'esbuild';

await build({
  entryPoints: ['bench/main.ts'],
  outfile: 'dist/bench/main.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['better-sqlite3', 'pino', 'pino-pretty', '@eventstore/db-client', '@event-driven-io/*', 'sqlite3', 'pg'],
  banner: { js: "import { createRequire as __benchRequire } from 'node:module'; const require = __benchRequire(import.meta.url);" },
  mainFields: ['module', 'main'],
  logLevel: 'warning',
});
const run = spawnSync(process.execPath, ['--expose-gc', 'dist/bench/main.mjs', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(run.status ?? 1);
