import { describe, expect, it } from 'vitest';
import { BookPolicy, CommandHandler } from '../../src/commands/index.js';
import { StoreError } from '../../src/errors/index.js';
import { MemoryEventStore, type EventStore } from '../../src/store/index.js';
import { openTracker } from '../../src/tracker/index.js';

/*
 * Issue 10 item 10: what a caller holds is a value. The book handed out (a command's result,
 * handler.load(), tracker.state()) never shows events whose append failed, and never changes
 * under the caller when later commands run.
 */

const policy = BookPolicy.parse({ maxGroupRiskPct: null, dailyLossLimitPct: null });

/** A store whose next append fails (once armed), as a full disk would. */
function failingOnce(inner: MemoryEventStore): { store: EventStore; failNext: () => void } {
  let fail = false;
  const store: EventStore = Object.create(inner) as EventStore;
  store.append = async (stream, events, options) => {
    if (fail) {
      fail = false;
      throw new StoreError('disk full (test)');
    }
    return inner.append(stream, events, options);
  };
  return { store, failNext: () => (fail = true) };
}

describe('#10.10 handed-out state', () => {
  it('#10.10 a state held across a failed append shows no ghost of the events that were not stored', async () => {
    const inner = new MemoryEventStore();
    const { store, failNext } = failingOnce(inner);
    const handler = new CommandHandler({ store, bookId: 'b', policy });
    const tracked = await handler.handle({ type: 'Track', positionId: 'A' });
    const loaded = await handler.load();
    failNext();
    const results = await Promise.allSettled([
      handler.handle({ type: 'Track', positionId: 'B' }),
      handler.handle({ type: 'Enter', positionId: 'A', value: 100 }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    for (const held of [tracked.state, loaded]) {
      expect([...held.positions.keys()]).toEqual(['A']);
      expect(held.positions.get('A')?.status).toBe('WATCHING');
      expect(held.open).toBe(0);
      expect(held.revision).toBe(0);
    }
    const after = await handler.load();
    expect([...after.positions.keys()]).toEqual(['A']);
    expect(after.revision).toBe(0);
  });

  it('#10.10 a state held across later commands keeps showing the book as it was then', async () => {
    const handler = new CommandHandler({ store: new MemoryEventStore(), bookId: 'b', policy });
    const first = await handler.handle({ type: 'Track', positionId: 'A', symbol: 'AAPL' });
    const second = await handler.handle({ type: 'Enter', positionId: 'A', value: 100 });
    await handler.handle({ type: 'Exit', positionId: 'A', value: 120 });
    await handler.handle({ type: 'Archive', positionId: 'A' });
    expect(first.state.positions.get('A')?.status).toBe('WATCHING');
    expect(first.state.revision).toBe(0);
    expect(second.state.positions.get('A')?.status).toBe('IN');
    expect(second.state.open).toBe(1);
    expect(second.state.openBySymbol.get('AAPL')).toBe(1);
    expect(second.state.realizedPnl).toBe(0);
    expect((await handler.load()).positions.has('A')).toBe(false);
  });

  it('#10.10 the state and its positions are frozen: a caller cannot change the book through them', async () => {
    const handler = new CommandHandler({ store: new MemoryEventStore(), bookId: 'b', policy });
    const { state } = await handler.handle({ type: 'Track', positionId: 'A' });
    const position = state.positions.get('A')!;
    expect(Object.isFrozen(state)).toBe(true);
    expect(Object.isFrozen(position)).toBe(true);
    expect(() => state.positions.delete('A')).toThrow(TypeError);
    expect(() => {
      (position as { side: string }).side = 'short';
    }).toThrow(TypeError);
    expect((await handler.load()).positions.get('A')?.side).toBe('long');
  });

  it('#10.10 tracker.state() and tracker.get() hand out values that later commands do not change', async () => {
    const tracker = await openTracker({ store: new MemoryEventStore(), book: 'main', maxGroupRiskPct: null });
    try {
      await tracker.track('A');
      const state = await tracker.state();
      const position = await tracker.get('A');
      await tracker.enter('A', { value: 100 });
      expect(state.positions.get('A')?.status).toBe('WATCHING');
      expect(position?.status).toBe('WATCHING');
      expect((await tracker.get('A'))?.status).toBe('IN');
    } finally {
      await tracker.close();
    }
  });
});
