import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { defaultCodec } from '../../src/events/index.js';
import { PostgresEventStore } from '../../src/store/index.js';
import { tracked } from '../helpers/events.js';
import { describePostgres, postgresForSuite } from '../helpers/postgres.js';

/**
 * #13 Global positions gap-free in commit order. A `bigserial` hands out positions when rows are
 * inserted, not when they commit: with the transaction holding 1 still open, 2 commits, a reader
 * checkpoints at 2 and never sees 1. The store's positions come from one counter row whose lock
 * is held to commit (src/store/postgres/schema.ts): the same interleaving cannot happen.
 */
describePostgres('postgres: global positions in commit order', () => {
  let server: Awaited<ReturnType<typeof postgresForSuite>>;
  const clients: pg.Client[] = [];
  const connect = async (): Promise<pg.Client> => {
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    clients.push(client);
    return client;
  };
  beforeAll(async () => {
    server = await postgresForSuite();
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.end().catch(() => {})));
    await server?.destroy();
  });

  it('a naive bigserial reader skips an event forever (the bug the scheme prevents)', async () => {
    const schema = server.schemaName();
    const [slow, fast, reader] = [await connect(), await connect(), await connect()];
    await reader.query(`CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.naive (position bigserial PRIMARY KEY, v text)`);
    await slow.query('BEGIN');
    await slow.query(`INSERT INTO ${schema}.naive (v) VALUES ('first')`); // takes position 1, not committed
    await fast.query(`INSERT INTO ${schema}.naive (v) VALUES ('second')`); // takes 2, commits at once
    const read = async (after: number): Promise<number[]> =>
      (
        await reader.query<{ position: string }>(`SELECT position FROM ${schema}.naive WHERE position > $1 ORDER BY position`, [after])
      ).rows.map((r) => Number(r.position));
    const firstPage = await read(0);
    expect(firstPage).toEqual([2]);
    const checkpoint = firstPage[firstPage.length - 1]!;
    await slow.query('COMMIT');
    expect(await read(checkpoint)).toEqual([]); // 1 is behind the checkpoint: skipped forever
    expect(await read(0)).toEqual([1, 2]); // though it is in the table
    await server.dropSchema(schema);
  });

  it('the same interleaving on the store: the later append waits for the open one, and the reader sees 1 then 2', async () => {
    const schema = server.schemaName();
    const store = await PostgresEventStore.open(server.url, { schema });
    try {
      const slow = await connect();
      const [encoded] = defaultCodec.encodeAll([tracked(1)], new Date().toISOString());
      await slow.query('BEGIN');
      await slow.query(`SELECT * FROM ${schema}.append_events($1, 'any', NULL, $2, $3, $4)`, [
        'tradelog-a',
        [encoded!.type],
        [encoded!.data],
        [encoded!.metadata],
      ]);
      let settled = false;
      const fast = store.append('tradelog-b', [tracked(2)]).finally(() => {
        settled = true;
      });
      await new Promise((r) => setTimeout(r, 300));
      expect(settled).toBe(false); // it waits on the counter row's lock
      expect(await store.readAll()).toEqual([]); // nothing committed, nothing to skip
      await slow.query('COMMIT');
      expect((await fast).position).toBe(2);
      expect((await store.readAll()).map((e) => [e.position, e.stream])).toEqual([
        [1, 'tradelog-a'],
        [2, 'tradelog-b'],
      ]);
    } finally {
      await store.close();
      await server.dropSchema(schema);
    }
  });

  it('a rolled-back append leaves no gap', async () => {
    const schema = server.schemaName();
    const store = await PostgresEventStore.open(server.url, { schema });
    try {
      const slow = await connect();
      const [encoded] = defaultCodec.encodeAll([tracked(1)], new Date().toISOString());
      await slow.query('BEGIN');
      await slow.query(`SELECT * FROM ${schema}.append_events($1, 'any', NULL, $2, $3, $4)`, [
        'tradelog-a',
        [encoded!.type],
        [encoded!.data],
        [encoded!.metadata],
      ]);
      const fast = store.append('tradelog-b', [tracked(2)]);
      await slow.query('ROLLBACK');
      expect((await fast).position).toBe(1);
      await expect(store.append('tradelog-b', [tracked(3)], { expectedRevision: 5 })).rejects.toThrow(/revision 5/);
      expect((await store.append('tradelog-b', [tracked(4)])).position).toBe(2);
      expect(await store.head()).toEqual({ position: 2, count: 2 });
    } finally {
      await store.close();
      await server.dropSchema(schema);
    }
  });

  it('eight writers on their own pools and a tailing reader: the reader sees 1..N, each once, in order', async () => {
    const schema = server.schemaName();
    const writers = await Promise.all(Array.from({ length: 8 }, () => PostgresEventStore.open(server.url, { schema, poolSize: 2 })));
    const reader = await PostgresEventStore.open(server.url, { schema, poolSize: 1 });
    try {
      const seen: number[] = [];
      let done = false;
      const tail = (async () => {
        let checkpoint = 0;
        const until = Date.now() + 20_000;
        while (Date.now() < until) {
          const page = await reader.readAll({ fromPosition: checkpoint, limit: 50 });
          for (const e of page) seen.push(e.position);
          if (page.length > 0) checkpoint = page[page.length - 1]!.position;
          else if (done) return;
        }
      })();
      await Promise.all(
        writers.map(async (w, i) => {
          for (let k = 0; k < 25; k++) await w.append(`tradelog-w${i}`, [tracked(k), tracked(k + 1)].slice(0, 1 + (k % 2)));
        }),
      );
      done = true;
      await tail;
      const total = 8 * (13 * 1 + 12 * 2);
      expect(seen).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      for (let i = 0; i < 8; i++) {
        const revisions = (await reader.readStream(`tradelog-w${i}`)).map((e) => e.revision);
        expect(revisions).toEqual(Array.from({ length: revisions.length }, (_, r) => r));
      }
    } finally {
      await Promise.all([...writers, reader].map((s) => s.close()));
      await server.dropSchema(schema);
    }
  });

  it('the log is append-only (delete, truncate, move refused), so head() reads the counter row: the last position and the count', async () => {
    const schema = server.schemaName();
    const store = await PostgresEventStore.open(server.url, { schema });
    const admin = await connect();
    try {
      await store.append('tradelog-a', [tracked(1), tracked(2)]);
      await store.append('tradelog-b', [tracked(3)]);
      expect(await store.head()).toEqual({ position: 3, count: 3 });
      await expect(admin.query(`DELETE FROM ${schema}.events WHERE position = 2`)).rejects.toThrow(/append-only/);
      await expect(admin.query(`TRUNCATE ${schema}.events`)).rejects.toThrow(/append-only/);
      await expect(admin.query(`UPDATE ${schema}.events SET position = 10 WHERE position = 3`)).rejects.toThrow(/append-only/);
      expect((await admin.query(`SELECT COUNT(*)::int AS n FROM ${schema}.events`)).rows).toEqual([{ n: 3 }]);
      // A failed append (wrong expected revision) rolls its counter update back: no gap, no count drift.
      await expect(store.append('tradelog-a', [tracked(4)], { expectedRevision: 7 })).rejects.toThrow();
      await store.append('tradelog-a', [tracked(4)]);
      expect(await store.head()).toEqual({ position: 4, count: 4 });
    } finally {
      await store.close();
      await server.dropSchema(schema);
    }
  });
});
