import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ptrack } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * Issue 10, item 17, through the binary: `audit` and `replay` for books named after
 * Object.prototype members, with and without events of their own.
 */

const ENV: NodeJS.ProcessEnv = { PTRACK_CONFIG: undefined, DEBUG: undefined };

describe('#10.17 audit and replay on books named like Object.prototype members', () => {
  it('#10.17 audit and replay answer for books constructor, toString, hasOwnProperty and valueOf (exit 0, never "unexpected error")', async ({
    onTestFinished,
  }) => {
    const { dir, cleanup } = tempDir('ptrack-proto-');
    onTestFinished(cleanup);
    const run = (args: string[]) =>
      ptrack(['--store', `sqlite:${join(dir, 'trades.db')}`, ...args], { cwd: dir, env: ENV, timeoutMs: 30_000 });
    for (const args of [
      ['track', 'A1', '--symbol', 'AAPL'],
      ['enter', 'A1', '--value', '100'],
      ['--book', 'constructor', 'track', 'C1', '--symbol', 'MSFT'],
    ]) {
      const r = await run(args);
      expect(r.code, r.stderr).toBe(0);
    }
    for (const book of ['constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
      const audit = await run(['--book', book, 'audit']);
      expect(audit.code, `audit ${book}: ${audit.stderr}`).toBe(0);
      expect(audit.stdout).toMatch(
        book === 'constructor' ? /^audit of book constructor / : new RegExp(`^book ${book}: no events, nothing to audit`),
      );
      if (book === 'hasOwnProperty') {
        const json = await run(['--book', book, 'audit', '--json']);
        expect(json.code, json.stderr).toBe(0);
        expect(JSON.parse(json.stdout)).toMatchObject({ book, orphans: [], phantoms: [] });
      }
      const replay = await run(['--book', book, 'replay', '--until', '100']);
      expect(replay.code, `replay ${book}: ${replay.stderr}`).toBe(0);
      expect(replay.stdout).toMatch(book === 'constructor' ? /C1: WATCHING MSFT/ : /no positions/);
    }
  }, 120_000);
});
