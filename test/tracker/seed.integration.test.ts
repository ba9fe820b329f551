import { describe, expect, it } from 'vitest';
import {
  compat,
  ExternalError,
  MemoryAdapter,
  openLegacyTracker,
  openTracker,
  RecoveryPendingError,
  ValidationError,
  type Tracker,
} from '../../src/index.js';
import { MemoryEventStore } from '../../src/store/index.js';

/*
 * The seed's API over the real reconciler. First the seed README's "Integration Test (Mock API)",
 * translated to TypeScript: a mock adapter holding positions in memory, some positions tracked,
 * an untracked one added on the mock and a tracked one removed from it, then detect, cleanup and
 * reconcile, and the counts. Then a specification per method.
 */

const START = Date.parse('2026-03-02T10:00:00.000Z');

/** A clock the test moves: the reconciler's grace (30 s) is measured on it. */
function clock(): { now: () => Date; advance: (seconds: number) => void } {
  let t = START;
  return { now: () => new Date(t), advance: (seconds) => (t += seconds * 1000) };
}

async function eventsOf(tracker: Tracker): Promise<string[]> {
  return (await tracker.store.readAll()).map((e) => `${e.type}:${JSON.stringify(e.data)}`);
}

describe('the seed README\'s "Integration Test (Mock API)", in TypeScript', () => {
  it('detects the untracked position, adopts it, cleans the removed one, and counts match', async () => {
    const time = clock();
    // mock_api = MockAPIAdapter(); tracker = PositionTracker(api_adapter=mock_api)
    const mockApi = new MemoryAdapter();
    const tracker = await openLegacyTracker({ apiAdapter: mockApi, store: new MemoryEventStore(), now: time.now });

    // Track a few positions, entered here and open on the mock.
    for (const [id, value] of [
      ['AAPL-1', 1000],
      ['MSFT-1', 800],
      ['NVDA-1', 600],
    ] as const) {
      await tracker.track(id, { symbol: id.split('-')[0], setup: 'breakout' });
      await tracker.update(id, 'ENTER', value);
      mockApi.set({ id, symbol: id.split('-')[0], value });
    }
    // An untracked position appears on the mock; a tracked one is removed from it.
    mockApi.set({ id: 'TSLA-9', symbol: 'TSLA', value: 450, metadata: { source: 'manual' } });
    mockApi.remove('NVDA-1');
    time.advance(60);

    // orphans = tracker.detect_orphans(); assert len(orphans) == 1
    const orphans = await tracker.detectOrphans();
    expect(orphans).toEqual([{ id: 'TSLA-9', value: 450, symbol: 'TSLA', metadata: { source: 'manual' } }]);

    // tracker.cleanup_orphans(orphans, auto_close=False): adopted into local state
    const cleaned = await tracker.cleanupOrphans(orphans, { autoClose: false });
    expect(cleaned.adopted).toEqual(['TSLA-9']);
    expect(await tracker.get('TSLA-9')).toMatchObject({ status: 'IN', value: 450, symbol: 'TSLA' });
    expect(mockApi.closes).toEqual([]);

    // result = tracker.reconcile(): no orphans left, the removed position cleaned, no errors
    const result = await tracker.reconcile();
    expect(result.orphans).toHaveLength(0);
    expect(result.phantoms).toEqual(['NVDA-1']);
    expect(result.corrected).toHaveLength(0);
    expect(result.errors).toEqual([]);
    expect((await tracker.get('NVDA-1'))?.status).toBe('EXITED');

    // Local equals outside now: a second run finds nothing.
    const again = await tracker.reconcile();
    expect([again.orphans.length, again.phantoms.length, again.corrected.length, again.errors.length]).toEqual([0, 0, 0, 0]);
    const open = (await tracker.tracker.list({ status: 'IN' })).map((p) => p.id).sort();
    expect(open).toEqual(
      mockApi
        .positions()
        .map((p) => p.id)
        .sort(),
    );
    await tracker.close();
  });
});

/** A compat layer over a fresh tracker, with AAPL-1 entered here and open outside, judged a minute later. */
async function world(options: { directLook?: boolean; minPositionValue?: number } = {}) {
  const time = clock();
  const venue = new MemoryAdapter({ directLook: options.directLook ?? true });
  const tracker = await openTracker({
    store: new MemoryEventStore(),
    book: 'seed',
    now: time.now,
    minPositionValue: options.minPositionValue ?? 5,
  });
  const legacy = compat(tracker, { adapter: venue, now: time.now });
  await legacy.track('AAPL-1', { symbol: 'AAPL' });
  await legacy.update('AAPL-1', 'ENTER', 1000);
  venue.set({ id: 'AAPL-1', symbol: 'AAPL', value: 1000 });
  time.advance(60);
  return { time, venue, tracker, legacy };
}

describe('detectOrphans()', () => {
  it('lists the outside positions not IN here at or above the dust threshold, and appends nothing (a dry run)', async () => {
    const { venue, tracker, legacy } = await world({ minPositionValue: 5 });
    venue.set({ id: 'BIG', symbol: 'MSFT', value: 5, side: 'short', quantity: 2 });
    venue.set({ id: 'DUST', symbol: 'DOGE', value: 4.99 });
    const before = await eventsOf(tracker);
    expect(await legacy.detectOrphans()).toEqual([{ id: 'BIG', value: 5, symbol: 'MSFT', side: 'short', quantity: 2 }]);
    expect(await eventsOf(tracker)).toEqual(before);
    expect(await legacy.get('BIG')).toBeNull();
  });

  it('leaves out what changed here within the grace window (the planner defers it)', async () => {
    const { venue, legacy } = await world();
    await legacy.track('MSFT-1', { symbol: 'MSFT' }); // WATCHING here, just now
    venue.set({ id: 'MSFT-1', symbol: 'MSFT', value: 300 });
    expect(await legacy.detectOrphans()).toEqual([]);
  });

  it('throws the ExternalError when the adapter fails, and appends nothing', async () => {
    const { venue, tracker, legacy } = await world();
    const before = await eventsOf(tracker);
    venue.failWith('rate_limited');
    const error = await legacy.detectOrphans().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExternalError);
    expect((error as ExternalError).failure).toBe('rate_limited');
    expect(await eventsOf(tracker)).toEqual(before);
  });

  it('needs an adapter: compat(tracker) alone refuses, naming what to pass', async () => {
    const tracker = await openTracker({ store: new MemoryEventStore() });
    const error = await compat(tracker)
      .detectOrphans()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toBe('detectOrphans: no adapter; pass compat(tracker, { adapter })');
  });
});

describe('cleanupOrphans(orphans, { autoClose })', () => {
  it('adopts exactly the orphans given (AdoptOrphan), and no other', async () => {
    const { venue, tracker, legacy } = await world();
    venue.set({ id: 'X', symbol: 'MSFT', value: 300 });
    venue.set({ id: 'Y', symbol: 'NVDA', value: 200 });
    venue.remove('AAPL-1'); // a phantom: cleanup does not touch it
    const result = await legacy.cleanupOrphans([{ id: 'X', value: 300 }]);
    expect(result).toMatchObject({ adopted: ['X'], closed: [], notOrphans: [], errors: [] });
    expect(await legacy.get('X')).toMatchObject({ status: 'IN', value: 300, symbol: 'MSFT' });
    expect(await legacy.get('Y')).toBeNull();
    const types = (await tracker.store.readAll()).slice(-2).map((e) => e.type);
    expect(types).toEqual(['OrphanDetected', 'OrphanAdopted']);
    expect((await legacy.get('AAPL-1'))?.status).toBe('IN');
    expect((await tracker.state()).positions.get('AAPL-1')).toMatchObject({ missedLooks: 0 });
  });

  it('with autoClose closes them outside after a second look and records it (CloseOrphan), adopting nothing', async () => {
    const { venue, tracker, legacy } = await world();
    venue.set({ id: 'X', symbol: 'MSFT', value: 300 });
    const result = await legacy.cleanupOrphans(['X'], { autoClose: true });
    expect(result).toMatchObject({ adopted: [], closed: ['X'], errors: [] });
    expect(venue.closes).toEqual([{ id: 'X' }]);
    expect(venue.positions().map((p) => p.id)).toEqual(['AAPL-1']);
    expect(await legacy.get('X')).toBeNull();
    const recorded = (await tracker.store.readAll()).filter((e) => e.type === 'OrphanClosed');
    expect(recorded.map((e) => (e.data as { positionId: string }).positionId)).toEqual(['X']);
  });

  it('does nothing for an id that is no orphan now (gone, dust, or IN here), and says so', async () => {
    const { venue, tracker, legacy } = await world();
    venue.set({ id: 'DUST', symbol: 'DOGE', value: 1 });
    const before = await eventsOf(tracker);
    const result = await legacy.cleanupOrphans(['GONE', 'DUST', 'AAPL-1'], { autoClose: true });
    expect(result).toMatchObject({ adopted: [], closed: [], notOrphans: ['GONE', 'DUST', 'AAPL-1'], errors: [] });
    expect(venue.closes).toEqual([]);
    expect(await eventsOf(tracker)).toEqual(before);
  });

  it('on a netting account, adopts the surplus quantity the venue holds beyond the book, as the planner names it', async () => {
    const time = clock();
    const venue = new MemoryAdapter({ positionMode: 'netting' });
    const tracker = await openTracker({ store: new MemoryEventStore(), now: time.now });
    const legacy = compat(tracker, { adapter: venue, now: time.now });
    await tracker.track('AAPL-1', { symbol: 'AAPL' });
    await tracker.enter('AAPL-1', { value: 1000, quantity: 5, price: 200 });
    venue.set({ id: 'AAPL', symbol: 'AAPL', side: 'long', quantity: 8, value: 1600 });
    time.advance(60);
    const orphans = await legacy.detectOrphans();
    expect(orphans).toEqual([{ id: 'AAPL', value: 600, symbol: 'AAPL', side: 'long', quantity: 3 }]);
    expect((await legacy.cleanupOrphans(orphans)).adopted).toEqual(['AAPL']);
    expect(await legacy.get('AAPL')).toMatchObject({ status: 'IN', quantity: 3, value: 600 });
    const after = await legacy.reconcile();
    expect([after.orphans.length, after.phantoms.length, after.corrected.length, after.errors]).toEqual([0, 0, 0, []]);
  });

  it('a failing adapter lands in errors and changes nothing', async () => {
    const { venue, tracker, legacy } = await world();
    venue.set({ id: 'X', symbol: 'MSFT', value: 300 });
    const before = await eventsOf(tracker);
    venue.failWith('unreachable');
    const result = await legacy.cleanupOrphans(['X'], { autoClose: true });
    expect(result.adopted).toEqual([]);
    expect(result.closed).toEqual([]);
    expect(result.errors).toEqual([expect.stringMatching(/^listPositions: listPositions: unreachable/)]);
    expect(await eventsOf(tracker)).toEqual(before);
  });
});

describe('reconcile() → { orphans, phantoms, corrected, errors }', () => {
  it('adopts orphans and corrects drift in one real run, recorded as ReconciliationCompleted', async () => {
    const { venue, tracker, legacy } = await world();
    venue.set({ id: 'AAPL-1', symbol: 'AAPL', value: 1100 }); // drift beyond 1 %
    venue.set({ id: 'X', symbol: 'MSFT', value: 300 });
    const result = await legacy.reconcile();
    expect(result.orphans).toEqual([{ id: 'X', value: 300, symbol: 'MSFT' }]);
    expect(result.corrected).toEqual(['AAPL-1']);
    expect(result.phantoms).toEqual([]);
    expect(result.errors).toEqual([]);
    expect(await legacy.get('X')).toMatchObject({ status: 'IN', value: 300 });
    expect(await legacy.get('AAPL-1')).toMatchObject({ status: 'IN', value: 1100 });
    expect((await tracker.store.readAll()).at(-1)?.type).toBe('ReconciliationCompleted');
  });

  it('without a direct look, a phantom needs two looks, as the reconciler wants', async () => {
    const { venue, time, legacy } = await world({ directLook: false });
    venue.remove('AAPL-1');
    const first = await legacy.reconcile();
    expect(first.phantoms).toEqual([]);
    expect(first.report?.phantoms.map((p) => [p.positionId, p.outcome])).toEqual([['AAPL-1', 'suspected']]);
    expect((await legacy.get('AAPL-1'))?.status).toBe('IN');
    time.advance(60);
    const second = await legacy.reconcile();
    expect(second.phantoms).toEqual(['AAPL-1']);
    expect((await legacy.get('AAPL-1'))?.status).toBe('EXITED');
  });

  it('with a direct look, one run confirms and cleans the phantom', async () => {
    const { venue, legacy } = await world({ directLook: true });
    venue.remove('AAPL-1');
    expect((await legacy.reconcile()).phantoms).toEqual(['AAPL-1']);
    expect((await legacy.get('AAPL-1'))?.status).toBe('EXITED');
  });

  it('a failing adapter lands in errors, never throws, and leaves the log exactly as it was', async () => {
    const { venue, tracker, legacy } = await world();
    venue.set({ id: 'X', symbol: 'MSFT', value: 300 });
    venue.remove('AAPL-1');
    const before = await eventsOf(tracker);
    const head = await tracker.store.head();
    venue.failWith('timeout');
    const result = await legacy.reconcile();
    expect(result).toMatchObject({ orphans: [], phantoms: [], corrected: [] });
    expect(result.errors).toEqual([expect.stringMatching(/^listPositions: listPositions: timeout/)]);
    expect(await eventsOf(tracker)).toEqual(before);
    expect(await tracker.store.head()).toEqual(head);
  });

  it('a direct look that fails after the list changes nothing either', async () => {
    const { venue, tracker, legacy } = await world({ directLook: true });
    venue.remove('AAPL-1'); // a phantom to verify by a direct look
    venue.set({ id: 'X', symbol: 'MSFT', value: 300 }); // and an orphan that would be adopted
    const before = await eventsOf(tracker);
    expect(venue.getPosition).toBeDefined();
    // The list answers; the direct look fails.
    Object.defineProperty(venue, 'getPosition', { value: () => Promise.reject(new ExternalError('down', 'unreachable')) });
    const result = await legacy.reconcile();
    expect(result.errors).toEqual(['getPosition AAPL-1: down']);
    // Found, not adopted: nothing is done before every read has answered.
    expect(result.orphans).toEqual([{ id: 'X', value: 300, symbol: 'MSFT' }]);
    expect(result.report?.orphans.map((o) => o.outcome)).toEqual(['planned']);
    expect(await legacy.get('X')).toBeNull();
    expect(await eventsOf(tracker)).toEqual(before);
  });

  it('while a recovery is pending, answers an error instead of throwing, and appends nothing', async () => {
    const { venue, tracker, legacy } = await world();
    venue.set({ id: 'X', symbol: 'MSFT', value: 300 });
    await tracker.execute({ type: 'RequireRecovery', commandId: 'gate-1', mode: 'manual', reason: 'test' });
    expect((await tracker.state()).recovery.status).toBe('REQUIRED');
    const before = await eventsOf(tracker);
    const result = await legacy.reconcile();
    expect(result.report).toBeNull();
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatch(/^reconcile: /);
    expect(await eventsOf(tracker)).toEqual(before);
    // detectOrphans is a dry run (allowed); cleanupOrphans acts, and is refused like a reconciliation.
    await expect(legacy.cleanupOrphans(['X'])).rejects.toBeInstanceOf(RecoveryPendingError);
    expect(await eventsOf(tracker)).toEqual(before);
  });
});

describe('MemoryAdapter', () => {
  it('parses what it is given (a bad position is a ValidationError naming the field)', () => {
    expect(() => new MemoryAdapter().set({ id: 'A', value: Number.NaN })).toThrow(/value/);
  });

  it('closes part of a position by quantity, and refuses to close what is not open', async () => {
    const venue = new MemoryAdapter({ positions: [{ id: 'BTC', symbol: 'BTC', quantity: 2, value: 100 }], positionMode: 'netting' });
    await venue.closePosition('BTC', { quantity: 0.5 });
    expect(venue.positions()).toEqual([{ id: 'BTC', symbol: 'BTC', quantity: 1.5, value: 75 }]);
    await expect(venue.closePosition('ETH')).rejects.toMatchObject({ failure: 'rejected' });
    expect(venue.closes).toEqual([{ id: 'BTC', quantity: 0.5 }]);
  });

  it('hands out copies: what a caller holds never changes under it', async () => {
    const venue = new MemoryAdapter({ positions: [{ id: 'A', value: 10, metadata: { n: 1 } }] });
    const listed = await venue.listPositions();
    venue.set({ id: 'A', value: 20 });
    (listed[0]?.metadata as { n: number }).n = 2;
    expect(listed[0]?.value).toBe(10);
    expect(venue.positions()[0]).toEqual({ id: 'A', value: 20 });
  });
});
