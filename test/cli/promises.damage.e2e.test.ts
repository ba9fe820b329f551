import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ptrack } from '../helpers/cli.js';
import { damagedLog } from '../helpers/damage.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * Issue 10, item 19, through the binary: a physically damaged trade log is exit 4 with one
 * line that names the file and what is damaged, for reading, writing and verify.
 */

const ENV: NodeJS.ProcessEnv = { PTRACK_CONFIG: undefined, DEBUG: undefined };

describe('#10.19 a damaged SQLite file exits 4', () => {
  it('#10.19 head, status, log, track and verify on damaged pages exit 4 naming the damage (not 1 "malformed")', async ({
    onTestFinished,
  }) => {
    const { dir, cleanup } = tempDir('ptrack-damage-');
    onTestFinished(cleanup);
    const file = join(dir, 'trades.db');
    await damagedLog(file, 'pages');
    for (const args of [['head'], ['status'], ['log'], ['track', 'X1', '--symbol', 'AAPL'], ['verify']]) {
      const r = await ptrack(['--store', `sqlite:${file}`, ...args], { cwd: dir, env: ENV, timeoutMs: 30_000 });
      expect(r.code, `${args[0]}: ${r.stderr}`).toBe(4);
      expect(r.stderr.split('\n').filter(Boolean), args[0]).toHaveLength(1);
      expect(r.stderr, args[0]).toMatch(/^ptrack: the (trade )?log .*damaged.*\(events\)/);
    }
  }, 90_000);

  it('#10.19 a damaged header exits 4 too; a file that is no SQLite database at all stays exit 2', async ({ onTestFinished }) => {
    const { dir, cleanup } = tempDir('ptrack-damage-');
    onTestFinished(cleanup);
    const file = join(dir, 'trades.db');
    await damagedLog(file, 'header');
    const r = await ptrack(['--store', `sqlite:${file}`, 'head'], { cwd: dir, env: ENV, timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toMatch(/^ptrack: the trade log .* is damaged \(SQLITE_NOTADB: /);
    const notes = join(dir, 'notes.db');
    writeFileSync(notes, 'these are my notes, not a database\n'.repeat(200));
    const other = await ptrack(['--store', `sqlite:${notes}`, 'head'], { cwd: dir, env: ENV, timeoutMs: 30_000 });
    expect(other.code, other.stderr).toBe(2);
    expect(other.stderr).toMatch(/is not a trade log: it is not an SQLite database/);
  }, 60_000);
});
