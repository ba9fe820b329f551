import { describe, expect, it } from 'vitest';
import { InvalidTransitionError, ValidationError } from '../../src/errors/index.js';
import { MemoryEventStore } from '../../src/store/index.js';
import { compat, openTracker } from '../../src/tracker/index.js';

async function legacy() {
  const tracker = await openTracker({ store: new MemoryEventStore(), book: 'seed' });
  return { tracker, api: compat(tracker) };
}

describe('compat: the seed systems API', () => {
  it('track(id, metadata) keeps symbol, side, setup and group, and the rest as attributes', async () => {
    const { api } = await legacy();
    await api.track('AAPL-1', { symbol: 'AAPL', side: 'short', setup: 'breakout', group: 'tech', note: 'from scanner', score: 7 });
    expect(await api.get('AAPL-1')).toMatchObject({
      id: 'AAPL-1',
      status: 'WATCHING',
      symbol: 'AAPL',
      side: 'short',
      setup: 'breakout',
      group: 'tech',
      attributes: { note: 'from scanner', score: 7 },
    });
  });

  it('update(id, action, value) drives MONITOR, ENTER, HOLD, EXIT', async () => {
    const { api } = await legacy();
    await api.track('A', { symbol: 'A' });
    await api.update('A', 'MONITOR', 95);
    expect(await api.get('A')).toMatchObject({ status: 'WATCHING', value: 95 });
    await api.update('A', 'ENTER', 100);
    await api.update('A', 'HOLD', 120);
    expect(await api.get('A')).toMatchObject({ status: 'IN', value: 120, costBasis: 100 });
    await api.update('A', 'EXIT', 130);
    expect(await api.get('A')).toMatchObject({ status: 'EXITED', realizedPnl: 30 });
  });

  it('update(id, "SKIP") skips a watched position', async () => {
    const { api } = await legacy();
    await api.track('B');
    await api.update('B', 'SKIP');
    expect((await api.get('B'))?.status).toBe('SKIPPED');
  });

  it('get(id) returns null for an unknown id', async () => {
    const { api } = await legacy();
    expect(await api.get('nobody')).toBeNull();
  });

  it('refuses an unknown action instead of accepting it silently, and writes nothing', async () => {
    const { api, tracker } = await legacy();
    await api.track('C');
    const before = await tracker.store.head();
    const err = await api.update('C', 'BUY', 10).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as Error).message).toBe('update "C": unknown action "BUY"; expected one of ENTER, EXIT, HOLD, MONITOR, SKIP');
    expect(await tracker.store.head()).toEqual(before);
  });

  it('refuses a transition the state does not allow (the seed accepted any)', async () => {
    const { api } = await legacy();
    await api.track('D');
    await expect(api.update('D', 'EXIT', 10)).rejects.toBeInstanceOf(InvalidTransitionError);
    await expect(api.update('D', 'ENTER')).rejects.toThrow(/ENTER: value must be a number, got nothing/);
  });

  it('refuses metadata that is not a scalar', async () => {
    const { api } = await legacy();
    await expect(api.track('E', { nested: { a: 1 } })).rejects.toThrow(/metadata "nested" must be strings, numbers, booleans or null/);
  });
});

describe('openTracker', () => {
  it('lists by status, reports risk, archives, trips and resets the breaker', async () => {
    let now = Date.parse('2026-01-05T10:00:00Z');
    const tracker = await openTracker({
      store: new MemoryEventStore(),
      book: 'lib',
      now: () => new Date(now),
      correlationGroups: { tech: ['AAPL', 'MSFT'] },
      exitedCleanupSeconds: 60,
    });
    await tracker.track('A', { symbol: 'AAPL' });
    await tracker.enter('A', { value: 1000, quantity: 10, price: 100, stop: 95 });
    await tracker.track('B', { symbol: 'BTC' });
    expect((await tracker.list({ status: 'IN' })).map((p) => p.id)).toEqual(['A']);
    expect((await tracker.list({ status: ['IN', 'WATCHING'] })).map((p) => p.id).sort()).toEqual(['A', 'B']);
    const risk = await tracker.risk();
    expect(risk).toMatchObject({ open: 1, maxPositions: 10, equity: 10_000, breaker: { status: 'OK' } });
    expect(risk.groupRisk).toEqual([{ group: 'tech', risk: 50, pct: 0.5 }]);
    await tracker.exit('A', { value: 1100 });
    now += 61_000;
    const archived = await tracker.archive();
    expect(archived.flatMap((r) => r.events.map((e) => e.type))).toEqual(['PositionArchived']);
    expect(await tracker.get('A')).toBeNull();
    await tracker.tripCircuitBreaker('manual stop', { seconds: 3600 });
    expect((await tracker.risk()).breaker).toMatchObject({ status: 'TRIPPED', trigger: 'manual', until: '2026-01-05T11:01:01.000Z' });
    await tracker.resetCircuitBreaker({ reason: 'ok again' });
    expect((await tracker.risk()).breaker).toEqual({ status: 'OK', active: false });
    await tracker.close();
  });

  it('refuses bad options with a message naming the key', async () => {
    await expect(openTracker({ store: 'memory:', maxPositions: -1 })).rejects.toThrow(/openTracker: maxPositions: .*got -1/);
    await expect(openTracker({ store: 'memory:', book: 'has space' })).rejects.toThrow(/openTracker: book: /);
  });
});
