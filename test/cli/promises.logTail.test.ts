import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { bookStream, type NewEvent, type RecordedEvent } from '../../src/events/index.js';
import { SqliteEventStore } from '../../src/store/index.js';
import { runMain } from '../helpers/inProcess.js';
import { tempDir } from '../helpers/tmp.js';

const EVENTS = 3000;

/** A book of EVENTS events written straight to the store (the log is not folded by `log`): every 7th is about position S. */
function bigBook(onTestFinished: (fn: () => void) => void): string {
  const { dir, cleanup } = tempDir('ptrack-tail-');
  onTestFinished(cleanup);
  const file = join(dir, 'trades.db');
  const store = SqliteEventStore.open(file);
  const batch: NewEvent[] = [];
  for (let n = 0; n < EVENTS; n++) {
    batch.push({
      type: 'PositionTracked',
      data: { positionId: n % 7 === 0 ? 'S' : `P-${n}`, side: 'long', source: 'local' },
      metadata: { recordedAt: '2026-01-01T00:00:00.000Z' },
    });
  }
  store.appendSync(bookStream('main'), batch);
  void store.close();
  return `sqlite:${file}`;
}

afterEach(() => vi.restoreAllMocks());

describe('#10.20 ptrack log --limit reads the tail, not the whole log', () => {
  it('#10.20 log --limit 5 reads about 5 events of a 3000-event book and prints the last 5', async ({ onTestFinished }) => {
    const store = bigBook(onTestFinished);
    let read = 0;
    const original = SqliteEventStore.prototype.readStream;
    vi.spyOn(SqliteEventStore.prototype, 'readStream').mockImplementation(async function (this: SqliteEventStore, ...args) {
      const page = await original.apply(this, args);
      read += page.length;
      return page;
    });
    const r = await runMain(['--store', store, 'log', '--limit', '5', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const revisions = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => (JSON.parse(l) as RecordedEvent).revision);
    expect(revisions).toEqual([2995, 2996, 2997, 2998, 2999]);
    expect(read).toBeLessThanOrEqual(5);

    // A limit past the log's length prints it all.
    const all = await runMain(['--store', store, 'log', '--limit', '50000', '--json']);
    expect(all.stdout.trimEnd().split('\n')).toHaveLength(EVENTS);
  });

  it('#10.20 with --position the limit still keeps the last matching events', async ({ onTestFinished }) => {
    const store = bigBook(onTestFinished);
    const s = await runMain(['--store', store, 'log', '--position', 'S', '--limit', '3', '--json']);
    expect(
      s.stdout
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as RecordedEvent).revision),
    ).toEqual([2982, 2989, 2996]);
    const many = await runMain(['--store', store, 'log', '--position', 'S', '--limit', '100', '--json']);
    const revisions = many.stdout
      .trimEnd()
      .split('\n')
      .map((l) => (JSON.parse(l) as RecordedEvent).revision);
    expect(revisions).toHaveLength(100);
    expect(revisions[0]).toBe(2996 - 99 * 7);
    expect(revisions.every((r, i) => i === 0 || r === revisions[i - 1]! + 7)).toBe(true);
    const none = await runMain(['--store', store, 'log', '--position', 'nope', '--limit', '3']);
    expect(none.stdout).toBe('no events for nope in book main\n');
  });
});
