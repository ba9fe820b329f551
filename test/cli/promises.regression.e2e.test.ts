import { copyFileSync, existsSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ptrack } from '../helpers/cli.js';
import { runMain } from '../helpers/inProcess.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * #10.4: the commands that move money refuse a log that is behind what this installation has
 * already seen of it (its high-water mark beside the SQLite file), not only the read models.
 */

const ENV: NodeJS.ProcessEnv = { PTRACK_CONFIG: undefined, DEBUG: undefined };

function world(onTestFinished: (fn: () => void) => void) {
  const { dir, cleanup } = tempDir('ptrack-regress-');
  onTestFinished(cleanup);
  const db = join(dir, 'trades.db');
  const config = join(dir, 'ptrack.config.json');
  writeFileSync(config, JSON.stringify({ store: `sqlite:${db}` }));
  const run = (...args: string[]) => runMain(['--config', config, ...args]);
  const ok = async (...args: string[]) => {
    const r = await run(...args);
    expect(r, args.join(' ')).toMatchObject({ code: 0, stderr: '' });
    return r.stdout;
  };
  /** The log's bytes: a refused command must leave them as they were. */
  const bytes = (): Buffer => readFileSync(db);
  const replaceWith = (file: string): void => {
    for (const suffix of ['-wal', '-shm']) rmSync(`${db}${suffix}`, { force: true });
    copyFileSync(file, db);
  };
  return { dir, db, config, run, ok, bytes, replaceWith };
}

describe('#10.4 book commands refuse a regressed log', () => {
  it('#10.4 an older copy of the log put back: track, enter and status exit 4 and change nothing; rebuild --accept-regression accepts it', async ({
    onTestFinished,
  }) => {
    const w = world(onTestFinished);
    await w.ok('track', 'A-1', '--symbol', 'A');
    await w.ok('enter', 'A-1', '--value', '100');
    const backup = join(w.dir, 'backup.db');
    copyFileSync(w.db, backup);
    await w.ok('track', 'B-1', '--symbol', 'B');
    await w.ok('track', 'C-1', '--symbol', 'C');
    w.replaceWith(backup);
    const before = w.bytes();

    for (const args of [['track', 'D-1'], ['enter', 'A-1', '--value', '5'], ['exit', 'A-1', '--value', '100'], ['status']]) {
      const r = await w.run(...args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(4);
      expect(r.stderr).toMatch(
        /^ptrack: the log regressed: it holds 2 events \(last position 2\) but this installation has seen 4 events up to position 4: 2 events are missing \(high-water mark .*trades\.db\.hwm\) \(restore the log, or run ptrack rebuild --accept-regression to accept the log as it is now\)\n$/,
      );
    }
    expect(w.bytes().equals(before)).toBe(true);
    // Through the binary as well: the shell sees 4.
    const bin = await ptrack(['--config', w.config, 'track', 'D-1'], { cwd: w.dir, env: ENV, timeoutMs: 60_000 });
    expect(bin.code, bin.stderr).toBe(4);

    expect((await w.run('rebuild', '--accept-regression')).code).toBe(0);
    await w.ok('track', 'D-1', '--symbol', 'D');
  }, 90_000);

  it('#10.4 another log of the same length put in its place is refused too (the event at the mark differs)', async ({ onTestFinished }) => {
    const w = world(onTestFinished);
    const other = world(onTestFinished);
    await w.ok('track', 'A-1');
    await w.ok('track', 'A-2');
    await other.ok('track', 'Z-1');
    await other.ok('track', 'Z-2');
    w.replaceWith(other.db);
    const r = await w.run('track', 'A-3');
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toMatch(
      /^ptrack: the log regressed: this installation has seen the log up to position 2 .*it was cut and written again/,
    );
  }, 60_000);

  it('#10.4 a deleted log under a surviving high-water mark exits 4 and is not created again; a zeroed one exits 4', async ({
    onTestFinished,
  }) => {
    const w = world(onTestFinished);
    await w.ok('track', 'A-1');
    await w.ok('enter', 'A-1', '--value', '100');
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${w.db}${suffix}`, { force: true });
    const gone = await w.run('track', 'B-1');
    expect(gone.code, gone.stderr).toBe(4);
    expect(gone.stderr).toMatch(
      /^ptrack: the log .*trades\.db is gone, but this installation has seen it hold 2 event\(s\) up to position 2 \(high-water mark .*\)/,
    );
    expect(existsSync(w.db)).toBe(false);
    expect((await w.run('status')).code).toBe(4);

    writeFileSync(w.db, '');
    truncateSync(w.db, 0);
    const zeroed = await w.run('enter', 'A-1', '--value', '100');
    expect(zeroed.code, zeroed.stderr).toBe(4);
    expect(zeroed.stderr).toMatch(/^ptrack: the log regressed: it holds 0 events/);
  }, 60_000);
});
