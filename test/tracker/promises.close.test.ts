import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors/index.js';
import { bookStream } from '../../src/events/index.js';
import { SqliteEventStore } from '../../src/store/index.js';
import { openTracker } from '../../src/tracker/index.js';
import { tempDir } from '../helpers/tmp.js';

/* Issue 10 item 22: a graceful close finishes what was accepted and refuses what comes after. */

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function freshTracker() {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  const file = join(dir, 'trades.db');
  const tracker = await openTracker({ store: `sqlite:${file}`, book: 'main', maxPositions: 1000, maxGroupRiskPct: null });
  return { tracker, file };
}

describe('#10.22 tracker.close()', () => {
  it('#10.22 finishes the 200 commands queued before it and writes them all', async () => {
    const { tracker, file } = await freshTracker();
    const queued = Array.from({ length: 200 }, (_, i) => tracker.track(`P-${i}`, { symbol: `S${i}` }));
    await tracker.close();
    const results = await Promise.allSettled(queued);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const store = SqliteEventStore.open(file);
    try {
      expect(await store.streamRevision(bookStream('main'))).toBe(199);
    } finally {
      await store.close();
    }
  });

  it('#10.22 refuses a command given after close() with a StoreError that says the book is closing, and writes nothing for it', async () => {
    const { tracker, file } = await freshTracker();
    const first = tracker.track('A');
    const closed = tracker.close();
    const late = tracker.track('B').catch((e: unknown) => e);
    await closed;
    await first;
    const error = await late;
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toMatch(/^the handler of tradelog-main is closing: Track was not run/);
    await tracker.close(); // a second close is the same close
    const store = SqliteEventStore.open(file);
    try {
      expect((await store.readStream(bookStream('main'))).map((e) => e.type === 'PositionTracked' && e.data.positionId)).toEqual(['A']);
    } finally {
      await store.close();
    }
  });
});
