import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { BookPolicy, CommandHandler, type BookPolicyInput } from '../../src/commands/index.js';
import { RiskLimitError } from '../../src/errors/index.js';
import { bookStream } from '../../src/events/index.js';
import { PostgresEventStore, type EventStore } from '../../src/store/index.js';
import { describePostgres, postgresForSuite } from '../helpers/postgres.js';

const policy = (over: BookPolicyInput = {}) =>
  BookPolicy.parse({ maxGroupRiskPct: null, dailyLossLimitPct: null, rejectDuplicateSymbol: false, ...over });

/** Counts the appends that reach the store. */
function counted(store: EventStore): { store: EventStore; appends: number[] } {
  const appends: number[] = [];
  const wrapped: EventStore = Object.create(store) as EventStore;
  wrapped.append = (stream, events, options) => {
    appends.push(events.length);
    return store.append(stream, events, options);
  };
  return { store: wrapped, appends };
}

/** #13 Group commit in the command handler on PostgreSQL, as on SQLite; and two hosts racing past a cap. */
describePostgres('postgres: the command handler', () => {
  let server: Awaited<ReturnType<typeof postgresForSuite>>;
  beforeAll(async () => {
    server = await postgresForSuite();
  });
  afterAll(async () => {
    await server?.destroy();
  });

  it('64 concurrent callers are decided in a few appends; maxPositions holds exactly', async () => {
    const schema = server.schemaName();
    const inner = await PostgresEventStore.open(server.url, { schema });
    try {
      const { store, appends } = counted(inner);
      const handler = new CommandHandler({ store, bookId: 'b', policy: policy({ maxPositions: 10 }) });
      await Promise.all(Array.from({ length: 64 }, (_, i) => handler.handle({ type: 'Track', positionId: `P-${i}` })));
      const results = await Promise.allSettled(
        Array.from({ length: 64 }, (_, i) => handler.handle({ type: 'Enter', positionId: `P-${i}`, value: 100 })),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(refused.every((r) => r.reason instanceof RiskLimitError && r.reason.rule === 'maxPositions')).toBe(true);
      expect(appends.reduce((a, b) => a + b, 0)).toBe(74);
      expect(appends.length).toBeLessThan(74 / 4);
      const entered = (await inner.readStream(bookStream('b'), { limit: 1000 })).filter((e) => e.type === 'PositionEntered');
      expect(entered).toHaveLength(10);
    } finally {
      await inner.close();
      await server.dropSchema(schema);
    }
  });

  it('#18.2 no catch-up read before a command that appends; events of a second store are caught by the conflict and decided on', async () => {
    const schema = server.schemaName();
    const mine = await PostgresEventStore.open(server.url, { schema });
    const other = await PostgresEventStore.open(server.url, { schema });
    try {
      const reads = vi.spyOn(mine, 'readStream');
      const handler = new CommandHandler({ store: mine, bookId: 'b', policy: policy(), snapshotEvery: 0, maxRetries: 0 });
      await handler.handle({ type: 'Track', positionId: 'P-1', symbol: 'BTC' });
      reads.mockClear();
      await handler.handle({ type: 'Enter', positionId: 'P-1', value: 100 });
      await handler.handle({ type: 'Hold', positionId: 'P-1', value: 101 });
      expect(reads).not.toHaveBeenCalled();
      // Another store tracks P-2: this handler's book is behind; its Track of P-2 is refused by the log, not appended twice.
      await new CommandHandler({ store: other, bookId: 'b', policy: policy(), snapshotEvery: 0 }).handle({
        type: 'Track',
        positionId: 'P-2',
      });
      await expect(handler.handle({ type: 'Track', positionId: 'P-2' })).rejects.toThrow(/P-2/);
      expect(reads).toHaveBeenCalled();
      const tracked = (await mine.readStream(bookStream('b'), { limit: 100 })).filter((e) => e.type === 'PositionTracked');
      expect(tracked).toHaveLength(2);
      // A refusal appends nothing: with no change token to ask, it is decided on a fresh read.
      reads.mockClear();
      await expect(handler.handle({ type: 'Exit', positionId: 'P-9', value: 1 })).rejects.toThrow();
      expect(reads).toHaveBeenCalled();
    } finally {
      await mine.close();
      await other.close();
      await server.dropSchema(schema);
    }
  });

  it('four stores on their own pools (in one process) entering 40 positions at once past maxPositions 7: exactly 7 get in', async () => {
    const schema = server.schemaName();
    const stores = await Promise.all(Array.from({ length: 4 }, () => PostgresEventStore.open(server.url, { schema, poolSize: 2 })));
    try {
      const handlers = stores.map((store) => new CommandHandler({ store, bookId: 'b', policy: policy({ maxPositions: 7 }) }));
      await Promise.all(Array.from({ length: 40 }, (_, i) => handlers[i % 4]!.handle({ type: 'Track', positionId: `P-${i}` })));
      const results = await Promise.allSettled(
        Array.from({ length: 40 }, (_, i) => handlers[i % 4]!.handle({ type: 'Enter', positionId: `P-${i}`, value: 100 })),
      );
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(7);
      expect(refused.every((r) => r.reason instanceof RiskLimitError && r.reason.rule === 'maxPositions')).toBe(true);
      const events = await stores[0]!.readStream(bookStream('b'), { limit: 1000 });
      expect(events.filter((e) => e.type === 'PositionEntered')).toHaveLength(7);
      expect(events.map((e) => e.revision)).toEqual(events.map((_, i) => i));
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      await server.dropSchema(schema);
    }
  });
});
