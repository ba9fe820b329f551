import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ptrack } from '../helpers/cli.js';
import { runMain } from '../helpers/inProcess.js';
import { tempDir } from '../helpers/tmp.js';

const ENV: NodeJS.ProcessEnv = { PTRACK_CONFIG: undefined, DEBUG: undefined };

/** A temp dir with a store and two adapters: one whose outside system is down, one that answers garbage. */
function world(onTestFinished: (fn: () => void) => void) {
  const { dir, cleanup } = tempDir('ptrack-exit-');
  onTestFinished(cleanup);
  const failing = join(dir, 'failing.mjs');
  writeFileSync(
    failing,
    `export default { async listPositions() { throw new Error('connect ECONNREFUSED 127.0.0.1:9'); }, async closePosition() {} };\n`,
  );
  const garbage = join(dir, 'garbage.mjs');
  writeFileSync(garbage, `export default { async listPositions() { return [{ id: 42, value: 'lots' }]; }, async closePosition() {} };\n`);
  const healthy = join(dir, 'healthy.mjs');
  writeFileSync(healthy, `export default { async listPositions() { return []; }, async closePosition() {} };\n`);
  return { dir, store: `sqlite:${join(dir, 'trades.db')}`, failing, garbage, healthy };
}

describe('#10.1 exit codes come from one place', () => {
  it('#10.1 reconcile against a failing or garbage outside system exits 5 (in process and through the binary)', async ({
    onTestFinished,
  }) => {
    const w = world(onTestFinished);
    expect((await runMain(['--store', w.store, 'init', '--config', join(w.dir, 'c.json')])).code).toBe(0);
    const ok = await runMain(['--store', w.store, 'reconcile', '--adapter', w.healthy]);
    expect(ok.code, ok.stderr).toBe(0);

    // A failed run leaves the log exactly as it was (no heartbeat of its start either).
    const log = async (): Promise<string> => (await runMain(['--store', w.store, 'log', '--json'])).stdout;
    const before = await log();
    for (const adapter of [w.failing, w.garbage]) {
      const r = await runMain(['--store', w.store, 'reconcile', '--adapter', adapter]);
      expect(r.code, r.stderr).toBe(5);
      expect(r.stdout).toMatch(/ERROR listPositions/);
      expect(r.stderr).toMatch(/^ptrack: reconcile .*the outside system failed/);
      const json = await runMain(['--store', w.store, 'reconcile', '--adapter', adapter, '--json']);
      expect(json.code).toBe(5);
    }
    const scheduled = await runMain(['--store', w.store, 'reconcile', '--adapter', w.failing, '--every', '1s', '--times', '1']);
    expect(scheduled.code, scheduled.stderr).toBe(5);

    const bin = await ptrack(['--store', w.store, 'reconcile', '--adapter', w.failing], { cwd: w.dir, env: ENV, timeoutMs: 60_000 });
    expect(bin.code, bin.stderr).toBe(5);
    expect(await log()).toBe(before);
  }, 90_000);

  it('#10.1 no command sets process.exitCode: main() returns every exit code', () => {
    const root = fileURLToPath(new URL('../../src', import.meta.url));
    const files: string[] = [];
    const walk = (d: string): void => {
      for (const name of readdirSync(d)) {
        const p = join(d, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith('.ts')) files.push(p);
      }
    };
    walk(root);
    const offenders = files.filter((f) => /process\.exitCode\s*=/.test(readFileSync(f, 'utf8')));
    expect(offenders).toEqual([]);
  });
});
