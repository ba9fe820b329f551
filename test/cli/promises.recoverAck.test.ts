import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMain } from '../helpers/inProcess.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * `ptrack recover --ack` writes only to a log that exists: on a missing one it is refused (exit 2,
 * naming the path) and creates nothing; on a log with no recovery pending it is refused (exit 3)
 * and the log stays as it was.
 */
describe('ptrack recover --ack refuses without creating or changing anything', () => {
  it('on a missing SQLite log: exit 2 naming the path, and no file appears', async ({ onTestFinished }) => {
    const { dir, cleanup } = tempDir('ptrack-ack-');
    onTestFinished(cleanup);
    const file = join(dir, 'state', 'trades.db');
    const r = await runMain(['--store', `sqlite:${file}`, 'recover', '--ack']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`no trade log at ${file}`);
    expect(existsSync(file)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('on a log with no recovery pending: exit 3, the log byte for byte as it was', async ({ onTestFinished }) => {
    const { dir, cleanup } = tempDir('ptrack-ack-');
    onTestFinished(cleanup);
    const file = join(dir, 'trades.db');
    const store = `sqlite:${file}`;
    expect((await runMain(['--store', store, 'track', 'AAPL-1', '--symbol', 'AAPL'])).code).toBe(0);
    const head = await runMain(['--store', store, 'head', '--json']);
    const before = readFileSync(file);
    const r = await runMain(['--store', store, 'recover', '--ack']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/cannot acknowledge a recovery: none is pending/);
    expect((await runMain(['--store', store, 'head', '--json'])).stdout).toBe(head.stdout);
    expect(readFileSync(file).equals(before)).toBe(true);
  });
});
