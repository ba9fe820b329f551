import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { escapeControls, table } from '../../src/cli/format.js';
import { CONTROL_CHARACTERS } from '../../src/events/primitives.js';
import { ptrack } from '../helpers/cli.js';
import { runMain } from '../helpers/inProcess.js';
import { tempDir } from '../helpers/tmp.js';

const HOSTILE_SYMBOL = 'EVIL\u001b[2J\u202e';
const HOSTILE_REASON = 'ring\u0007\u0000 back\r\u009b';
/** Any control character or direction mark, line feed aside (outputs are lines). */
const RAW = new RegExp(`(?!\\n)${CONTROL_CHARACTERS.source}`);

/**
 * A log holding events with control characters, as an older version could store them (the
 * boundary now refuses them, so they are written under the schema, straight into SQLite).
 */
async function hostileLog(onTestFinished: (fn: () => void) => void) {
  const { dir, cleanup } = tempDir('ptrack-esc-');
  onTestFinished(cleanup);
  const file = join(dir, 'trades.db');
  const store = `sqlite:${file}`;
  for (const args of [
    ['track', 'A1', '--symbol', 'SAFE'],
    ['enter', 'A1', '--value', '100'],
    ['exit', 'A1', '--value', '110', '--fraction', '0.5', '--reason', 'plain'],
  ]) {
    const r = await runMain(['--store', store, ...args]);
    expect(r.code, r.stderr).toBe(0);
  }
  const db = new Database(file);
  db.prepare(`UPDATE events SET data = json_set(data, '$.symbol', ?) WHERE json_extract(data, '$.symbol') IS NOT NULL`).run(HOSTILE_SYMBOL);
  db.prepare(`UPDATE events SET data = json_set(data, '$.reason', ?) WHERE type = 'PositionExited'`).run(HOSTILE_REASON);
  db.close();
  return { dir, store };
}

describe('#10.25 every printer escapes what came from outside', () => {
  it('#10.25 escapeControls makes every control and direction mark visible; tables align on what they print', () => {
    expect(escapeControls(HOSTILE_SYMBOL)).toBe('EVIL\\u001b[2J\\u202e');
    expect(escapeControls('a\nb\tc', { lines: true })).toBe('a\nb\tc');
    expect(escapeControls('a\nb')).toBe('a\\u000ab');
    const t = table(
      ['id', 'n'],
      [
        [HOSTILE_SYMBOL, 1],
        ['x', 22],
      ],
    );
    expect(t).not.toMatch(RAW);
    const rows = t.split('\n');
    expect(new Set(rows.map((r) => r.length)).size, t).toBe(1);
  });

  it('#10.25 status, log and log --json print stored control characters escaped, and JSON keeps the data', async ({ onTestFinished }) => {
    const { store } = await hostileLog(onTestFinished);
    for (const args of [['status'], ['log'], ['log', '--json'], ['status', '--json'], ['replay', '--until', '3']]) {
      const r = await runMain(['--store', store, ...args]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.stdout, args.join(' ')).not.toMatch(RAW);
      expect(r.stdout, args.join(' ')).toContain('\\u001b[2J');
    }
    const json = await runMain(['--store', store, 'status', '--json']);
    const status = JSON.parse(json.stdout) as { positions: { symbol?: string }[] };
    expect(status.positions[0]?.symbol).toBe(HOSTILE_SYMBOL);
    const log = await runMain(['--store', store, 'log']);
    expect(log.stdout).toContain('reason=ring\\u0007\\u0000 back\\u000d\\u009b');
  });

  it("#10.25 an outside system's error message and main()'s error line are escaped (reconcile, and through the binary)", async ({
    onTestFinished,
  }) => {
    const { dir, store } = await hostileLog(onTestFinished);
    const adapter = join(dir, 'hostile.mjs');
    writeFileSync(
      adapter,
      `export default { async listPositions() { throw new Error('down\\u001b]0;pwned\\u0007 \\u202eetis'); }, async closePosition() {} };\n`,
    );
    const r = await runMain(['--store', store, 'reconcile', '--adapter', adapter]);
    expect(r.code).toBe(5);
    expect(r.stdout).not.toMatch(RAW);
    expect(r.stderr).not.toMatch(RAW);
    expect(r.stdout).toContain('down\\u001b]0;pwned\\u0007 \\u202eetis');
    expect(r.stderr).toContain('down\\u001b]0;pwned');

    const bad = await runMain(['--store', store, 'track', 'B\u001b[31m1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).not.toMatch(RAW);

    const bin = await ptrack(['--store', store, 'status'], { cwd: dir, env: { PTRACK_CONFIG: undefined } });
    expect(bin.code, bin.stderr).toBe(0);
    expect(bin.stdout).not.toMatch(RAW);
    expect(bin.stdout).toContain('EVIL\\u001b[2J\\u202e');
    const usage = await ptrack(['--store', store, 'frobnicate\u001b[2J'], { cwd: dir, env: { PTRACK_CONFIG: undefined } });
    expect(usage.code).toBe(2);
    expect(usage.stderr).not.toMatch(RAW);
  }, 60_000);
});
