import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAdapter } from '../../src/cli/commands/reconcile.js';
import { TrackerConfig } from '../../src/config/index.js';
import { ptrack } from '../helpers/cli.js';
import { runMain } from '../helpers/inProcess.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * Issue 10, item 18: loading an adapter is bounded in time and classified. A module that does
 * not import or exports no adapter is bad input (exit 2); a factory that throws or does not
 * answer in time is a failure of the outside system (exit 5), with a message.
 */

const ENV: NodeJS.ProcessEnv = { PTRACK_CONFIG: undefined, DEBUG: undefined };
const ADAPTER = `{ async listPositions() { return []; }, async closePosition() {} }`;

async function world(onTestFinished: (fn: () => void) => void) {
  const { dir, cleanup } = tempDir('ptrack-adapter-');
  onTestFinished(cleanup);
  const db = join(dir, 'trades.db');
  const store = `sqlite:${db}`;
  const init = await runMain(['--store', store, 'init', '--config', join(dir, 'c.json')]);
  expect(init.code, init.stderr).toBe(0);
  const module = (name: string, text: string): string => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  return { dir, db, store, module };
}

describe('#10.18 adapter loading is bounded and classified', () => {
  it('#10.18 a factory that throws (sync or async) exits 5 with its message, and changes nothing', async ({ onTestFinished }) => {
    const w = await world(onTestFinished);
    const cases = [
      w.module('throws.mjs', `export default function () { throw new Error('cannot reach broker.example: ECONNREFUSED'); }\n`),
      w.module('rejects.mjs', `export default async function () { throw new Error('cannot reach broker.example: ECONNREFUSED'); }\n`),
    ];
    for (const file of cases) {
      const before = readFileSync(w.db);
      const r = await runMain(['--store', w.store, 'reconcile', '--adapter', file]);
      expect(r.code, r.stderr).toBe(5);
      expect(r.stderr).toBe(`ptrack: --adapter: the adapter factory of ${file} failed: cannot reach broker.example: ECONNREFUSED\n`);
      expect(readFileSync(w.db).equals(before)).toBe(true);
    }
  });

  it('#10.18 a factory that never answers is a timeout: its signal is aborted and the failure is an ExternalError', async ({
    onTestFinished,
  }) => {
    const w = await world(onTestFinished);
    const file = w.module(
      'hangs-lib.mjs',
      `export let seen;\nexport default function (_config, options) { seen = options.signal; return new Promise(() => {}); }\n`,
    );
    const config = TrackerConfig.parse({ store: w.store });
    await expect(loadAdapter(file, config, { timeoutMs: 50 })).rejects.toMatchObject({
      code: 'EXTERNAL',
      failure: 'timeout',
      message: `--adapter: the adapter factory of ${file} did not finish within 50 ms`,
    });
    const mod = (await import(file)) as { seen: AbortSignal };
    expect(mod.seen.aborted).toBe(true);
  });

  it('#10.18 through the binary: a factory that never resolves exits 5 with a message (not 13 and silence)', async ({ onTestFinished }) => {
    const w = await world(onTestFinished);
    const file = w.module('hangs.mjs', `export default function () { return new Promise(() => {}); }\n`);
    const started = Date.now();
    const r = await ptrack(['--store', w.store, 'reconcile', '--adapter', file], { cwd: w.dir, env: ENV, timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(5);
    expect(r.stderr).toBe(`ptrack: --adapter: the adapter factory of ${file} did not finish within 5000 ms\n`);
    expect(Date.now() - started).toBeLessThan(20_000);
  }, 40_000);

  it('a module that does not import, or exports no adapter, stays bad input (exit 2)', async ({ onTestFinished }) => {
    const w = await world(onTestFinished);
    const broken = w.module('broken.mjs', `export default {;\n`);
    const empty = w.module('empty.mjs', `export const nothing = 1;\n`);
    const wrong = w.module('wrong.mjs', `export default async () => ({ listPositions: 1 });\n`);
    const good = w.module('good.mjs', `export default async () => (${ADAPTER});\n`);
    for (const file of [broken, empty, wrong]) {
      const r = await runMain(['--store', w.store, 'reconcile', '--adapter', file]);
      expect(r.code, `${file}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/^ptrack: --adapter: /);
    }
    const ok = await runMain(['--store', w.store, 'reconcile', '--adapter', good]);
    expect(ok.code, ok.stderr).toBe(0);
  });
});
