import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BOOK_SNAPSHOT_VERSION } from '../../src/commands/index.js';
import { openTracker } from '../../src/tracker/index.js';
import { ptrack } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/* Issue 10 item 16 through the CLI: a snapshot of the wrong shape on disk. */

let dir: string;
let cleanup: () => void;
let file: string;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  file = join(dir, 'trades.db');
});
afterEach(() => cleanup());

/** Overwrites the book's stored snapshot in place, as a damaged or foreign write would. */
function putSnapshot(version: number, state: unknown): void {
  const raw = new Database(file);
  try {
    raw.prepare('UPDATE snapshots SET version = ?, state = ? WHERE stream = ?').run(version, JSON.stringify(state), 'tradelog-main');
  } finally {
    raw.close();
  }
}

describe('#10.16 ptrack and a book snapshot of the wrong shape', () => {
  it('#10.16 commands still run, verify finds it (exit 4), and rebuild --accept-regression repairs it', async () => {
    const tracker = await openTracker({ store: `sqlite:${file}`, snapshotEvery: 1 });
    await tracker.track('A', { symbol: 'AAA' });
    await tracker.enter('A', { value: 100 });
    await tracker.track('B', { symbol: 'BBB' });
    await tracker.close();
    const store = ['--store', `sqlite:${file}`];

    // The shape found on disk in the issue: the bare book of an older version (2), positions not a list.
    putSnapshot(2, { revision: 1, limits: { idempotencyWindow: 1000, timeZone: 'UTC' }, positions: 5 });
    const status = await ptrack(['status', ...store, '--json'], { cwd: dir });
    expect(status.code, status.stderr).toBe(0);
    expect((JSON.parse(status.stdout) as { positions: { id: string }[] }).positions.map((p) => p.id).sort()).toEqual(['A', 'B']);

    // The current version, wrong inside.
    putSnapshot(BOOK_SNAPSHOT_VERSION, { checksum: 'fnv64:0000000000000000', book: { revision: 1, positions: 5 } });
    const exit = await ptrack(['exit', 'A', '--value', '110', ...store], { cwd: dir });
    expect(exit.code, exit.stderr).toBe(0);
    putSnapshot(BOOK_SNAPSHOT_VERSION, { checksum: 'fnv64:0000000000000000', book: { revision: 1, positions: 5 } });
    const verify = await ptrack(['verify', ...store], { cwd: dir });
    expect(verify.code).toBe(4);
    expect(verify.stderr).toMatch(
      /^ptrack: the book snapshot of tradelog-main \(revision \d+\) cannot be trusted: its checksum does not match/,
    );

    const rebuild = await ptrack(['rebuild', '--accept-regression', ...store], { cwd: dir });
    expect(rebuild.code, rebuild.stderr).toBe(0);
    expect(rebuild.stdout).toMatch(
      /repaired the book snapshot of tradelog-main: it was at revision \d+, the log ends at 3 \(its checksum does not match/,
    );
    const again = await ptrack(['verify', ...store], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
  }, 60_000);
});
