import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/events/index.js';
import { SqliteEventStore, readWholeStream } from '../../src/store/index.js';
import { runChild } from '../helpers/children.js';
import { tempDir } from '../helpers/tmp.js';

describe('several processes appending to one stream with expected revisions', () => {
  it('loses no update, and every loser gets ConcurrencyError', async () => {
    const { dir, cleanup } = tempDir();
    const file = join(dir, 'trades.db');
    await SqliteEventStore.open(file).close();
    const PROCS = 4;
    const EACH = 25;
    const barrier = join(dir, 'barrier');
    mkdirSync(barrier);
    try {
      const results = (
        await Promise.all(
          Array.from({ length: PROCS }, (_, i) =>
            runChild('racer.mjs', [file, `r${i}`, String(EACH), barrier, String(PROCS)], { timeoutMs: 30_000 }),
          ),
        )
      ).map((r) => {
        expect(r.code, r.stderr).toBe(0);
        return JSON.parse(r.stdout) as { name: string; won: number[]; lost: number; otherErrors: string[] };
      });
      for (const r of results) {
        expect(r.otherErrors).toEqual([]);
        expect(r.won).toHaveLength(EACH);
      }
      // Contention really happened, and every lost race surfaced as ConcurrencyError.
      expect(results.reduce((n, r) => n + r.lost, 0)).toBeGreaterThan(0);

      const store = SqliteEventStore.open(file);
      const events: RecordedEvent[] = [];
      for await (const e of readWholeStream(store, 'tradelog-race')) events.push(e);
      await store.close();
      expect(events.map((e) => e.revision)).toEqual(Array.from({ length: PROCS * EACH }, (_, i) => i));
      // Each win the writer was told about is exactly the event at that revision.
      for (const r of results) {
        r.won.forEach((revision, k) => {
          const e = events[revision]!;
          expect(e.type === 'Heartbeat' && e.data.process).toBe(`${r.name}/${k}`);
        });
      }
    } finally {
      cleanup();
    }
  });
});
