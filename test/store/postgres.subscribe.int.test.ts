import pg from 'pg';
import type { Subscription } from 'rxjs';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/events/index.js';
import { PostgresEventStore } from '../../src/store/index.js';
import { tracked } from '../helpers/events.js';
import { describePostgres, postgresForSuite } from '../helpers/postgres.js';
import { eventually } from './contract.js';

/**
 * #13 Subscriptions on PostgreSQL: another host's appends arrive through LISTEN/NOTIFY (the poll
 * is set to a minute here, so nothing else could deliver them in time); a notification is only a
 * wake-up; a dropped listener or a server restarted mid-stream skips and repeats nothing.
 */
describePostgres('postgres: subscriptions', () => {
  let server: Awaited<ReturnType<typeof postgresForSuite>>;
  const open: PostgresEventStore[] = [];
  const subs: Subscription[] = [];
  const store = async (
    schema: string,
    options: { pollIntervalMs?: number; maxRetryDelayMs?: number } = {},
  ): Promise<PostgresEventStore> => {
    const s = await PostgresEventStore.open(server.url, { schema, poolSize: 2, ...options });
    open.push(s);
    return s;
  };
  const admin = async (sql: string, values: unknown[] = []): Promise<pg.QueryResult> => {
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      return await client.query(sql, values);
    } finally {
      await client.end();
    }
  };
  /** Waits until the store's listening connection has run its LISTEN. */
  const listening = async (): Promise<void> => {
    const until = Date.now() + 5000;
    for (;;) {
      const r = await admin("SELECT 1 FROM pg_stat_activity WHERE application_name = 'ptrack-listen' AND query LIKE 'LISTEN%'");
      if (r.rowCount === 1) return;
      if (Date.now() > until) throw new Error('the store never listened');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  beforeAll(async () => {
    server = await postgresForSuite();
  });
  afterEach(async () => {
    subs.splice(0).forEach((s) => s.unsubscribe());
    await Promise.all(open.splice(0).map((s) => s.close()));
  });
  afterAll(async () => {
    await server?.destroy();
  });

  it("another host's append arrives through NOTIFY, not the poll", async () => {
    const schema = server.schemaName();
    const reader = await store(schema, { pollIntervalMs: 60_000 });
    const writer = await store(schema);
    const got: RecordedEvent[] = [];
    subs.push(reader.subscribe().subscribe((e) => got.push(e)));
    await listening();
    await writer.append('tradelog-a', [tracked(1)]);
    await eventually(() => got.length === 1, 5000, 'the first event');
    await writer.append('tradelog-a', [tracked(2), tracked(3)]);
    await eventually(() => got.length === 3, 5000, 'the notified batch');
    expect(got.map((e) => e.position)).toEqual([1, 2, 3]);
  });

  it('a dropped listener reconnects and reads what it missed, then is notified again', async () => {
    const schema = server.schemaName();
    const reader = await store(schema, { pollIntervalMs: 60_000, maxRetryDelayMs: 200 });
    const writer = await store(schema);
    const got: RecordedEvent[] = [];
    subs.push(reader.subscribe().subscribe((e) => got.push(e)));
    await writer.append('tradelog-a', [tracked(1)]);
    await eventually(() => got.length === 1, 5000, 'the first event');
    const killed = await admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'ptrack-listen'");
    expect(killed.rowCount).toBe(1);
    await writer.append('tradelog-a', [tracked(2)]); // may be notified to nobody: the reconnect reads it
    await eventually(() => got.length === 2, 5000, 'the event appended while the listener was down');
    await listening();
    await writer.append('tradelog-a', [tracked(3)]);
    await eventually(() => got.length === 3, 5000, 'a notified event after the reconnect');
    expect(got.map((e) => e.position)).toEqual([1, 2, 3]);
  });

  it.skipIf(process.env.PTRACK_POSTGRES_URL !== undefined)(
    'the server stopped (immediate) and restarted mid-stream: every committed event once, in order',
    async () => {
      const cluster = server.cluster!;
      const schema = server.schemaName();
      const reader = await store(schema, { pollIntervalMs: 200, maxRetryDelayMs: 200 });
      const writer = await store(schema, { maxRetryDelayMs: 200 });
      const got: number[] = [];
      let failed: unknown;
      subs.push(reader.subscribe().subscribe({ next: (e) => got.push(e.position), error: (e: unknown) => (failed = e) }));
      const acknowledged: number[] = [];
      let writing = true;
      const writes = (async () => {
        for (let k = 0; writing && k < 2000; k++) {
          try {
            acknowledged.push(...(await writer.append('tradelog-a', [tracked(k), tracked(k + 1)])).events.map((e) => e.position));
          } catch {
            await new Promise((r) => setTimeout(r, 50)); // the server is away: try again
          }
        }
      })();
      try {
        // Bounds that stop a stuck run, not time a slow machine.
        await eventually(() => acknowledged.length >= 40, 30_000, 'appends before the stop');
        await cluster.stop('immediate');
        await new Promise((r) => setTimeout(r, 300));
        await cluster.start();
        const after = acknowledged.length;
        await eventually(() => acknowledged.length >= after + 40, 30_000, 'appends after the restart');
      } finally {
        // Also when a wait above fails: a writer left looping would outlive the test and hold its store open.
        writing = false;
        await writes;
      }
      const all = await writer.readAll({ limit: 10_000 });
      await eventually(() => got.length === all.length, 30_000, 'the subscriber to catch up');
      expect(failed).toBeUndefined();
      expect(got).toEqual(all.map((e) => e.position));
      expect(got).toEqual(Array.from({ length: got.length }, (_, i) => i + 1));
      expect(got).toEqual(expect.arrayContaining(acknowledged));
    },
    150_000,
  );
});
