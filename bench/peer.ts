import { join } from 'node:path';
import type { NewEvent } from '../src/events/index.js';
import { SqliteEventStore } from '../src/store/index.js';
import { tempDir, type Row } from './lib.js';
import { paired } from './paired.js';

interface EmmettSqlite {
  getSQLiteEventStore(options: { fileName: string }): {
    appendToStream(stream: string, events: { type: string; data: Record<string, unknown> }[]): Promise<unknown>;
  };
  sqliteConnection(options: { fileName: string }): { close(): void };
  readMessagesBatch(
    connection: unknown,
    options: { after: bigint; batchSize: number },
  ): Promise<{ messages: unknown[]; currentGlobalPosition: bigint; areEventsLeft: boolean }>;
}

const event = (n: number): NewEvent => ({
  type: 'Heartbeat',
  data: { at: new Date(Date.UTC(2026, 0, 5, 0, 0, 0, n)).toISOString(), process: `p-${n}`, source: 'local' },
  metadata: { recordedAt: '2026-01-05T00:00:00.000Z' },
});

/**
 * 8: the same single-event appends (interleaved with ours, in paired rounds) and the same global
 * read on Emmett's SQLite event store.
 */
export async function peer(appends: number, readEvents: number): Promise<Row[]> {
  let emmett: EmmettSqlite;
  try {
    emmett = (await import('@event-driven-io/emmett-sqlite')) as unknown as EmmettSqlite;
  } catch (error) {
    throw new Error(`the peer (@event-driven-io/emmett-sqlite) is not installed: ${(error as Error).message}`);
  }
  const rows: Row[] = [];
  const { dir, cleanup } = tempDir();
  try {
    // Single-event appends, each its own durable transaction on both sides (ours: synchronous=FULL;
    // theirs: Emmett's SQLite event store on node-sqlite3, WAL), in alternating paired rounds.
    const ours = SqliteEventStore.open(join(dir, 'ours.db'));
    const theirsFile = join(dir, 'theirs.db');
    const theirs = emmett.getSQLiteEventStore({ fileName: theirsFile });
    const rounds = 6;
    const perRound = Math.max(10, Math.floor(appends / rounds));
    const appendsPaired = await paired(
      rounds,
      perRound,
      async (r) => {
        for (let k = 0; k < perRound; k++) {
          const n = r * perRound + k;
          await ours.append(`tradelog-s${n % 100}`, [event(n)]);
        }
      },
      async (r) => {
        for (let k = 0; k < perRound; k++) {
          const n = r * perRound + k;
          const e = event(n);
          await theirs.appendToStream(`tradelog-s${n % 100}`, [{ type: e.type, data: e.data as Record<string, unknown> }]);
        }
      },
    );
    const written = rounds * perRound;

    // Fill both to `readEvents` with big batches, then read the whole log in global order, 1,000 at a time.
    const bulk = Array.from({ length: 1000 }, (_, k) => event(k));
    for (let filled = written; filled < readEvents; filled += 1000) {
      ours.appendSync(`tradelog-bulk${filled % 10}`, bulk);
      await theirs.appendToStream(
        `tradelog-bulk${filled % 10}`,
        bulk.map((e) => ({ type: e.type, data: e.data as Record<string, unknown> })),
      );
    }
    let t = performance.now();
    let read = 0;
    let after = 0;
    for (;;) {
      const page = await ours.readAll({ fromPosition: after, limit: 1000 });
      read += page.length;
      if (page.length < 1000) break;
      after = page[page.length - 1]!.position;
    }
    const oursRead = read / ((performance.now() - t) / 1000);
    await ours.close();

    const connection = emmett.sqliteConnection({ fileName: theirsFile });
    t = performance.now();
    let theirsCount = 0;
    let position = 0n;
    for (;;) {
      const batch = await emmett.readMessagesBatch(connection, { after: position, batchSize: 1000 });
      theirsCount += batch.messages.length;
      position = batch.currentGlobalPosition;
      if (!batch.areEventsLeft || batch.messages.length === 0) break;
    }
    const theirsRead = theirsCount / ((performance.now() - t) / 1000);
    connection.close();

    rows.push(
      { scenario: '8 peer: ours', metric: 'single-event appends', value: appendsPaired.ours, unit: 'events/s' },
      { scenario: '8 peer: Emmett sqlite', metric: 'single-event appends', value: appendsPaired.theirs, unit: 'events/s' },
      {
        scenario: '8 peer: ratio',
        metric: `appends ours / theirs, median of ${appendsPaired.rounds} paired rounds`,
        value: appendsPaired.ratio,
        unit: 'x',
        goal: { op: '>=', value: 15 },
      },
      { scenario: '8 peer: ours', metric: `global read of ${read.toLocaleString('en-US')}`, value: oursRead, unit: 'events/s' },
      {
        scenario: '8 peer: Emmett sqlite',
        metric: `global read of ${theirsCount.toLocaleString('en-US')}`,
        value: theirsRead,
        unit: 'events/s',
      },
      { scenario: '8 peer: ratio', metric: 'global read ours / theirs', value: oursRead / theirsRead, unit: 'x' },
    );
    return rows;
  } finally {
    cleanup();
  }
}
