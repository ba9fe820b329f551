import { describe, expect, it } from 'vitest';
import { BookPolicy, CommandHandler, type BookPolicyInput } from '../../src/commands/index.js';
import { ConcurrencyError, RiskLimitError, StoreError } from '../../src/errors/index.js';
import { bookStream } from '../../src/events/index.js';
import { MemoryEventStore, type EventStore } from '../../src/store/index.js';

const policy = (over: BookPolicyInput = {}) =>
  BookPolicy.parse({ maxGroupRiskPct: null, dailyLossLimitPct: null, rejectDuplicateSymbol: false, ...over });

/** Counts appends, and can fail or interfere with the next one. */
function instrumented(store: MemoryEventStore) {
  const calls: number[] = [];
  let beforeNext: (() => Promise<void>) | null = null;
  const wrapped: EventStore = Object.create(store) as EventStore;
  wrapped.append = async (stream, events, options) => {
    calls.push(events.length);
    const hook = beforeNext;
    beforeNext = null;
    if (hook) await hook();
    return store.append(stream, events, options);
  };
  return { store: wrapped, calls, beforeNextAppend: (f: () => Promise<void>) => (beforeNext = f) };
}

describe('CommandHandler group commit', () => {
  it('decides concurrent commands in order in one transaction; each caller gets its own result or its own rule error', async () => {
    const inner = new MemoryEventStore();
    const { store, calls } = instrumented(inner);
    const handler = new CommandHandler({ store, bookId: 'b', policy: policy({ maxPositions: 10 }) });
    await Promise.all(Array.from({ length: 64 }, (_, i) => handler.handle({ type: 'Track', positionId: `P-${i}` })));
    const results = await Promise.allSettled(
      Array.from({ length: 64 }, (_, i) => handler.handle({ type: 'Enter', positionId: `P-${i}`, value: 100 })),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(10);
    // Call order decides: the first ten callers got in.
    expect(results.slice(0, 10).every((r) => r.status === 'fulfilled')).toBe(true);
    expect(refused.every((r) => r.reason instanceof RiskLimitError && r.reason.rule === 'maxPositions')).toBe(true);
    // Each caller got exactly its own event.
    results.slice(0, 10).forEach((r, i) => {
      const events = (r as PromiseFulfilledResult<Awaited<ReturnType<CommandHandler['handle']>>>).value.events;
      expect(events.map((e) => [e.type, e.type === 'PositionEntered' ? e.data.positionId : null])).toEqual([['PositionEntered', `P-${i}`]]);
    });
    // 64 tracks and 10 entries in far fewer transactions than commands.
    expect(calls.reduce((a, b) => a + b, 0)).toBe(74);
    expect(calls.length).toBeLessThanOrEqual(4);
    const entered = (await inner.readStream(bookStream('b'), { limit: 1000 })).filter((e) => e.type === 'PositionEntered');
    expect(entered).toHaveLength(10);
  });

  it('answers a commandId repeated within one batch with the first run, appending once', async () => {
    const inner = new MemoryEventStore();
    const handler = new CommandHandler({ store: inner, bookId: 'b', policy: policy() });
    const [a, b] = await Promise.all([
      handler.handle({ type: 'Track', positionId: 'A', commandId: 'c-1' }),
      handler.handle({ type: 'Track', positionId: 'A', commandId: 'c-1' }),
    ]);
    expect(a.duplicate).toBe(false);
    expect(b.duplicate).toBe(true);
    expect(b.events).toEqual(a.events);
    expect((await inner.head()).count).toBe(1);
  });

  it('rejects every caller of a batch whose append failed, and keeps none of its events in the book', async () => {
    const inner = new MemoryEventStore();
    const { store, beforeNextAppend } = instrumented(inner);
    const handler = new CommandHandler({ store, bookId: 'b', policy: policy() });
    beforeNextAppend(async () => {
      throw new StoreError('disk full (test)');
    });
    const results = await Promise.allSettled([
      handler.handle({ type: 'Track', positionId: 'A' }),
      handler.handle({ type: 'Track', positionId: 'B' }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason).toBeInstanceOf(StoreError);
    // Not acknowledged, not stored, and not in the cached book either.
    expect((await inner.head()).count).toBe(0);
    expect((await handler.load()).positions.size).toBe(0);
    await handler.handle({ type: 'Track', positionId: 'A' });
    expect([...(await handler.load()).positions.keys()]).toEqual(['A']);
  });

  it('reloads and decides the batch again when another writer got in first', async () => {
    const inner = new MemoryEventStore();
    const { store, beforeNextAppend } = instrumented(inner);
    const handler = new CommandHandler({ store, bookId: 'b', policy: policy({ maxPositions: 1 }), random: () => 0 });
    await handler.handle({ type: 'Track', positionId: 'A' });
    await handler.handle({ type: 'Track', positionId: 'B' });
    // Another process enters B between this handler's decision and its append.
    const other = new CommandHandler({ store: inner, bookId: 'b', policy: policy({ maxPositions: 1 }) });
    beforeNextAppend(async () => {
      await other.handle({ type: 'Enter', positionId: 'B', value: 10 });
    });
    const err = await handler.handle({ type: 'Enter', positionId: 'A', value: 10 }).catch((e: unknown) => e);
    // Decided again against the book with B in it: the cap now refuses A.
    expect(err).toBeInstanceOf(RiskLimitError);
    expect((err as RiskLimitError).rule).toBe('maxPositions');
    const state = await handler.load();
    expect(state.positions.get('B')?.status).toBe('IN');
    expect(state.positions.get('A')?.status).toBe('WATCHING');
  });

  it('gives up with ConcurrencyError after maxRetries conflicts', async () => {
    const inner = new MemoryEventStore();
    const store: EventStore = Object.create(inner) as EventStore;
    store.append = async () => {
      throw new ConcurrencyError('tradelog-b', 0, 3);
    };
    const handler = new CommandHandler({ store, bookId: 'b', policy: policy(), maxRetries: 2, backoffMs: 0 });
    await expect(handler.handle({ type: 'Track', positionId: 'A' })).rejects.toBeInstanceOf(ConcurrencyError);
  });

  it('opens from the latest snapshot and reads only the tail', async () => {
    const inner = new MemoryEventStore();
    const first = new CommandHandler({ store: inner, bookId: 'b', policy: policy(), snapshotEvery: 10 });
    for (let i = 0; i < 25; i++) await first.handle({ type: 'Track', positionId: `P-${i}` });
    const snapshot = await inner.readSnapshot(bookStream('b'));
    // Every max(snapshotEvery, live positions) events: the first at revision 9.
    expect(snapshot?.revision).toBe(9);
    const reads: number[] = [];
    const spy: EventStore = Object.create(inner) as EventStore;
    spy.readStream = (stream, options) => {
      reads.push(options?.fromRevision ?? 0);
      return inner.readStream(stream, options);
    };
    const second = new CommandHandler({ store: spy, bookId: 'b', policy: policy(), snapshotEvery: 10 });
    const state = await second.load();
    expect(state.positions.size).toBe(25);
    expect(reads[0]).toBe(snapshot!.revision + 1);
  });

  it('appends nothing for a batch whose commands were all refused', async () => {
    const inner = new MemoryEventStore();
    const handler = new CommandHandler({ store: inner, bookId: 'b', policy: policy() });
    const results = await Promise.allSettled([
      handler.handle({ type: 'Exit', positionId: 'X', value: 1 }),
      handler.handle({ type: 'Skip', positionId: 'Y' }),
    ]);
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect((await inner.head()).count).toBe(0);
  });
});
