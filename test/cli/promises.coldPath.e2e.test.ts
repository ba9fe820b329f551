import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTracker } from '../../src/tracker/index.js';
import { cliBundleSources, ptrack } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * No schema is compiled at run time: a cold command and a cold open that reads a tail of 1,200
 * events (more than the 200 uses after which a validator used to be compiled by Ajv in the process)
 * load no Ajv module; the event validators were compiled by `npm run build`.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENV: NodeJS.ProcessEnv = { PTRACK_CONFIG: undefined, DEBUG: undefined, NODE_DEBUG: 'module' };

/** A book whose open folds 1,200 events from the log (snapshots off, so all of it is the tail). */
async function writeBook(dir: string): Promise<void> {
  const store = `sqlite:${join(dir, 'trades.db')}`;
  const tracker = await openTracker({ store, snapshotEvery: 0, maxPositions: 1000 });
  try {
    for (let i = 0; i < 400; i++) {
      await tracker.handler.handle({ type: 'Track', positionId: `P${i}`, symbol: `S${i}` });
      await tracker.handler.handle({ type: 'Enter', positionId: `P${i}`, value: 100 });
      await tracker.handler.handle({ type: 'Exit', positionId: `P${i}`, value: 101 });
    }
  } finally {
    await tracker.close();
  }
}

const source = tempDir('ptrack-cold-book-');
beforeAll(() => writeBook(source.dir), 120_000);
afterAll(() => source.cleanup());

/** A copy of the book in a fresh directory, with a config naming it. */
function bookWithTail(dir: string): void {
  for (const file of ['trades.db', 'trades.db-wal']) {
    if (existsSync(join(source.dir, file))) copyFileSync(join(source.dir, file), join(dir, file));
  }
  const store = `sqlite:${join(dir, 'trades.db')}`;
  writeFileSync(join(dir, 'ptrack.config.json'), JSON.stringify({ store, snapshotEvery: 0, maxPositions: 1000 }));
}

const ajvLoads = (stderr: string): string[] => stderr.split('\n').filter((l) => /[\\/]ajv[\\/]/.test(l));

describe('validators compiled at build time: nothing compiles a schema on a cold path', () => {
  it('a cold write command and a cold status over a 1,200-event tail load no Ajv (the CLI)', async ({ onTestFinished }) => {
    const { dir, cleanup } = tempDir('ptrack-cold-');
    onTestFinished(cleanup);
    bookWithTail(dir);
    const status = await ptrack(['status', '--json'], { cwd: dir, env: ENV, timeoutMs: 60_000 });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stderr).toMatch(/MODULE/); // the trace is on: a silent stderr would prove nothing
    expect(ajvLoads(status.stderr)).toEqual([]);
    expect((JSON.parse(status.stdout) as { positions: unknown[] }).positions).toHaveLength(400);
    const write = await ptrack(['track', 'NEW', '--symbol', 'NEW'], { cwd: dir, env: ENV, timeoutMs: 60_000 });
    expect(write.code, write.stderr).toBe(0);
    expect(ajvLoads(write.stderr)).toEqual([]);
  });

  it('a cold open of the library over a 1,200-event tail loads no Ajv (dist/index.js)', async ({ onTestFinished }) => {
    const { dir, cleanup } = tempDir('ptrack-cold-');
    onTestFinished(cleanup);
    bookWithTail(dir);
    const script = `
      const { openTracker } = await import(${JSON.stringify(join(ROOT, 'dist/index.js'))});
      const t = await openTracker({ store: ${JSON.stringify(`sqlite:${join(dir, 'trades.db')}`)}, snapshotEvery: 0, maxPositions: 1000 });
      const r = await t.handler.handle({ type: 'Track', positionId: 'LIB', symbol: 'LIB' });
      console.log(JSON.stringify({ positions: r.state.positions.size }));
      await t.close();`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, NODE_DEBUG: 'module', LOG_LEVEL: 'silent' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ positions: 401 });
    expect(r.stderr).toMatch(/MODULE/);
    expect(ajvLoads(r.stderr)).toEqual([]);
  });

  it('the CLI bundle contains no Ajv', () => {
    const sources = cliBundleSources();
    expect(sources.filter((s) => /node_modules[\\/]ajv[\\/]/.test(s))).toEqual([]);
    expect(sources.some((s) => s.endsWith('validators.generated.ts'))).toBe(true);
  });
});
