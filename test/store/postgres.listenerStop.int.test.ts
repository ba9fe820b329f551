import pg from 'pg';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { PostgresEventStore } from '../../src/store/index.js';
import { describePostgres, postgresForSuite } from '../helpers/postgres.js';

/**
 * The last subscriber leaving while the listening connection's LISTEN is still on its way (a
 * loaded machine: the contract's catch-up finished first) must not leave that connection open:
 * close() waited for it forever (the contract's afterEach timed out about one run in four with
 * four runs side by side). The LISTEN is held back here so the window is certain.
 */
describePostgres('postgres: the listener stops while its LISTEN is on its way', () => {
  let server: Awaited<ReturnType<typeof postgresForSuite>>;
  beforeAll(async () => {
    server = await postgresForSuite();
  });
  afterAll(async () => {
    await server?.destroy();
  });

  it('unsubscribing during the LISTEN, then close() resolves', async () => {
    const schema = server.schemaName();
    const store = await PostgresEventStore.open(server.url, { schema, poolSize: 2 });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let listenSent!: () => void;
    const sent = new Promise<void>((resolve) => (listenSent = resolve));
    const original = pg.Client.prototype.query;
    const spy = vi.spyOn(pg.Client.prototype, 'query').mockImplementation(function (this: pg.Client, ...args: unknown[]) {
      const result = (original as (...a: unknown[]) => unknown).apply(this, args);
      if (typeof args[0] === 'string' && args[0].startsWith('LISTEN')) {
        listenSent();
        return (result as Promise<unknown>).then(async (r) => (await held, r));
      }
      return result;
    } as typeof original);
    try {
      const sub = store.subscribe().subscribe();
      await Promise.race([sent, new Promise((_, reject) => setTimeout(() => reject(new Error('no LISTEN within 10 s')), 10_000))]);
      sub.unsubscribe(); // the listener has no client to end yet
      release();
      const closed = await Promise.race([
        store.close().then(() => 'closed'),
        new Promise((resolve) => setTimeout(() => resolve('still open after 5 s'), 5000)),
      ]);
      expect(closed).toBe('closed');
    } finally {
      spy.mockRestore();
      release();
      await server.dropSchema(schema);
    }
  });
});
