// Writes src/events/validators.generated.ts: the event validators compiled by Ajv at build time
// (scripts/validators/generate.ts), so no process compiles a schema at run time. Run by `npm run build`
// before tsc; `--check` only says whether the file is current (exit 1 when not).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const dir = mkdtempSync(join('node_modules', '.ptrack-gen-'));
try {
  const outfile = join(dir, 'generate.mjs');
  await build({
    entryPoints: ['scripts/validators/generate.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
  const { generateValidatorsSource, GENERATED_PATH } = await import(pathToFileURL(outfile).href);
  const text = generateValidatorsSource();
  let current = '';
  try {
    current = readFileSync(GENERATED_PATH, 'utf8');
  } catch {
    // not there yet
  }
  if (process.argv.includes('--check')) {
    if (current !== text) {
      console.error(`${GENERATED_PATH} is not current: run npm run build`);
      process.exitCode = 1;
    }
  } else if (current !== text) {
    writeFileSync(GENERATED_PATH, text);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
