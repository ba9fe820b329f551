import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors/index.js';
import {
  guardExternal,
  reconcile,
  type ClosePositionOptions,
  type ExternalCallOptions,
  type ExternalSystem,
  type PositionMode,
} from '../../src/reconcile/index.js';
import { allEvents, openWorld, type World } from '../helpers/reconcileWorld.js';

/*
 * Netting and hedge accounts through a whole run: the adapter's positionMode (or the policy's)
 * decides how positions are matched, the port normalises shorts, a list that does not fit the
 * mode changes nothing, and a surplus is closed by quantity through the adapter.
 */

const NO_SLEEP = { sleep: async () => undefined };
const PRICE = 100;

/** A netting venue in memory: one position per symbol (a signed quantity: negative is short), listed the way brokers list them. */
function nettingVenue(mode: PositionMode | null = 'netting') {
  const held = new Map<string, number>();
  const closes: { id: string; quantity?: number; side?: string }[] = [];
  const venue: ExternalSystem = {
    ...(mode === null ? {} : { positionMode: mode }),
    listPositions: async () => [...held].map(([symbol, q]) => ({ id: symbol, symbol, quantity: q, value: q * PRICE })),
    closePosition: async (id: string, o: ExternalCallOptions & ClosePositionOptions) => {
      closes.push({ id, ...(o.quantity === undefined ? {} : { quantity: o.quantity }), ...(o.side === undefined ? {} : { side: o.side }) });
      const q = held.get(id) ?? 0;
      const take = o.quantity ?? Math.abs(q);
      const left = q > 0 ? q - take : q + take;
      if (Math.abs(left) < 1e-9) held.delete(id);
      else held.set(id, left);
    },
  };
  return { venue, held, closes };
}

async function bookWithThree(w: World): Promise<void> {
  for (const [id, q] of [
    ['A', 1],
    ['B', 2],
    ['C', 3],
  ] as const) {
    await w.tracker.track(id, { symbol: 'BTC', side: 'long' });
    await w.tracker.enter(id, { value: q * PRICE, quantity: q, price: PRICE });
    w.advance(60);
  }
  w.advance(300);
}

const inBook = async (w: World) =>
  (await w.tracker.list({ status: 'IN' })).map((p) => (p.status === 'IN' ? [p.id, p.quantity] : [])).sort();

describe('reconcile on a netting account (adapter positionMode netting)', () => {
  it('adopts the surplus of one venue position over three book positions as one position; the next run finds nothing', async () => {
    const w = await openWorld();
    await bookWithThree(w);
    const { venue, held } = nettingVenue();
    held.set('BTC', 7);
    const report = await reconcile({
      handler: w.tracker.handler,
      external: venue,
      now: w.now,
      guard: NO_SLEEP,
      policy: { orphans: 'adopt' },
    });
    expect(report.errors).toEqual([]);
    expect(report.orphans).toMatchObject([{ positionId: 'BTC', quantity: 1, value: 100, outcome: 'adopted', venueKey: 'BTC' }]);
    expect(await inBook(w)).toEqual([
      ['A', 1],
      ['B', 2],
      ['BTC', 1],
      ['C', 3],
    ]);
    w.advance(300);
    const again = await reconcile({
      handler: w.tracker.handler,
      external: venue,
      now: w.now,
      guard: NO_SLEEP,
      policy: { orphans: 'adopt' },
    });
    expect(again).toMatchObject({ orphans: [], phantoms: [], drift: [], corrected: 0 });
  });

  it('closes only the surplus outside: closePosition receives the quantity and side', async () => {
    const w = await openWorld();
    await bookWithThree(w);
    const { venue, held, closes } = nettingVenue();
    held.set('BTC', 7.5);
    const report = await reconcile({
      handler: w.tracker.handler,
      external: venue,
      now: w.now,
      guard: NO_SLEEP,
      policy: { orphans: 'close' },
    });
    expect(report.orphans).toMatchObject([{ positionId: 'BTC', quantity: 1.5, outcome: 'closed' }]);
    expect(closes).toEqual([{ id: 'BTC', quantity: 1.5, side: 'long' }]);
    expect(held.get('BTC')).toBe(6);
    const types = (await allEvents(w.store)).map((e) => e.type);
    expect(types).toContain('OrphanClosed');
    expect(await inBook(w)).toEqual([
      ['A', 1],
      ['B', 2],
      ['C', 3],
    ]);
  });

  it('clears a shortfall from the most recent position, partly, after two looks; the book then sums to the venue', async () => {
    const w = await openWorld();
    await bookWithThree(w);
    const { venue, held } = nettingVenue();
    held.set('BTC', 4.5);
    const first = await reconcile({ handler: w.tracker.handler, external: venue, now: w.now, guard: NO_SLEEP });
    expect(first.phantoms).toMatchObject([{ positionId: 'C', quantity: 1.5, outcome: 'suspected' }]);
    expect(await inBook(w)).toEqual([
      ['A', 1],
      ['B', 2],
      ['C', 3],
    ]);
    w.advance(60);
    const second = await reconcile({ handler: w.tracker.handler, external: venue, now: w.now, guard: NO_SLEEP });
    expect(second.phantoms).toMatchObject([{ positionId: 'C', quantity: 1.5, verdict: 'confirmed', outcome: 'cleared' }]);
    const rows = await inBook(w);
    expect(rows.map((r) => r[0])).toEqual(['A', 'B', 'C']);
    expect(rows[2]?.[1]).toBeCloseTo(1.5, 9);
    w.advance(60);
    expect(await reconcile({ handler: w.tracker.handler, external: venue, now: w.now, guard: NO_SLEEP })).toMatchObject({
      orphans: [],
      phantoms: [],
      drift: [],
    });
  });

  it('a short listed with negative numbers matches the book short', async () => {
    const w = await openWorld();
    await w.tracker.track('S', { symbol: 'ETH', side: 'short' });
    await w.tracker.enter('S', { value: 200, quantity: 2, price: PRICE });
    w.advance(300);
    const { venue, held } = nettingVenue();
    held.set('ETH', -2);
    const report = await reconcile({ handler: w.tracker.handler, external: venue, now: w.now, guard: NO_SLEEP });
    expect(report).toMatchObject({ errors: [], orphans: [], phantoms: [], drift: [] });
  });

  it.each([
    ['netting', [{ id: 'x', value: 10 }], /\[0\]\.symbol: is required on a netting account/],
    [
      'netting',
      [
        { id: 'x', symbol: 'BTC', value: 10 },
        { id: 'y', symbol: 'BTC', value: 20 },
      ],
      /\[1\]\.symbol: "BTC" is listed twice \(also at \[0\]\); a netting account holds one per symbol/,
    ],
    ['hedge', [{ id: 'x', symbol: 'BTC', value: 10 }], /\[0\]\.side: is required on a hedge account/],
    [
      'hedge',
      [
        { id: 'x', symbol: 'BTC', side: 'short', value: 10 },
        { id: 'y', symbol: 'BTC', quantity: -1, value: -20 },
      ],
      /"BTC" short is listed twice/,
    ],
  ] as const)('a %s list that does not fit the mode is malformed and changes nothing (%j)', async (mode, answer, message) => {
    const w = await openWorld();
    await bookWithThree(w);
    const before = await allEvents(w.store);
    const venue: ExternalSystem = {
      positionMode: mode,
      listPositions: async () => answer,
      closePosition: async () => {
        throw new Error('must not be called');
      },
    };
    const report = await reconcile({ handler: w.tracker.handler, external: venue, now: w.now, guard: NO_SLEEP });
    expect(report.errors).toEqual([{ stage: 'listPositions', failure: 'malformed', message: expect.stringMatching(message) }]);
    expect(await allEvents(w.store)).toEqual(before);
  });
});

describe('reconcile.positionMode', () => {
  it('overrides the adapter: per-id matches by id even when the adapter says netting', async () => {
    const w = await openWorld();
    await bookWithThree(w);
    const { venue, held } = nettingVenue('netting');
    held.set('BTC', 6);
    const report = await reconcile({
      handler: w.tracker.handler,
      external: venue,
      now: w.now,
      guard: NO_SLEEP,
      policy: { positionMode: 'per-id', orphans: 'manual', phantoms: 'manual' },
      dryRun: true,
    });
    // By id, the venue's "BTC" is unknown here and A, B, C are missing outside.
    expect(report.orphans.map((o) => o.positionId)).toEqual(['BTC']);
    expect(report.phantoms.map((p) => p.positionId).sort()).toEqual(['A', 'B', 'C']);
  });

  it('netting applies to an adapter that names no mode, and auto with none is per-id', async () => {
    const w = await openWorld();
    await bookWithThree(w);
    const { venue, held } = nettingVenue(null);
    held.set('BTC', 6);
    const netted = await reconcile({
      handler: w.tracker.handler,
      external: venue,
      now: w.now,
      guard: NO_SLEEP,
      policy: { positionMode: 'netting' },
      dryRun: true,
    });
    expect(netted).toMatchObject({ orphans: [], phantoms: [], drift: [] });
    const byId = await reconcile({ handler: w.tracker.handler, external: venue, now: w.now, guard: NO_SLEEP, dryRun: true });
    expect(byId.orphans.map((o) => o.positionId)).toEqual(['BTC']);
  });

  it('an adapter with an unknown positionMode is bad input, named', () => {
    const venue = {
      positionMode: 'sideways',
      listPositions: async () => [],
      closePosition: async () => undefined,
    } as unknown as ExternalSystem;
    expect(() => guardExternal(venue)).toThrow(ValidationError);
    expect(() => guardExternal(venue)).toThrow(/positionMode.*sideways|sideways.*positionMode/s);
  });

  it('an unknown reconcile.positionMode is refused before anything is read', async () => {
    const w = await openWorld();
    const { venue } = nettingVenue();
    await expect(
      reconcile({ handler: w.tracker.handler, external: venue, now: w.now, policy: { positionMode: 'both' as 'netting' } }),
    ).rejects.toThrow(/positionMode/);
  });
});

describe('the port normalises shorts', () => {
  const listing = (answer: unknown) => guardExternal({ listPositions: async () => answer, closePosition: async () => undefined });

  it('a negative quantity and value read as side short with the absolute numbers', async () => {
    expect(await listing([{ id: 'AAPL', symbol: 'AAPL', quantity: -10, value: -1500 }]).listPositions()).toEqual([
      { id: 'AAPL', symbol: 'AAPL', side: 'short', quantity: 10, value: 1500 },
    ]);
  });

  it('a negative value alone (a positive quantity) is a short too; a positive one stays as given', async () => {
    expect(
      await listing([
        { id: 'X', quantity: 2, value: -50 },
        { id: 'Y', quantity: 2, value: 50 },
      ]).listPositions(),
    ).toEqual([
      { id: 'X', side: 'short', quantity: 2, value: 50 },
      { id: 'Y', quantity: 2, value: 50 },
    ]);
  });

  it('an explicit side short with negative numbers stays short', async () => {
    expect(await listing([{ id: 'X', side: 'short', quantity: -2, value: -50 }]).listPositions()).toEqual([
      { id: 'X', side: 'short', quantity: 2, value: 50 },
    ]);
  });
});

describe('a venue key with an order in flight', () => {
  it('is not judged: its book positions and the venue position are held, whatever the venue shows', async () => {
    const w = await openWorld();
    for (const id of ['A', 'B']) {
      await w.tracker.track(id, { symbol: 'BTC', venueKey: 'BTCUSDT', side: 'long' });
      await w.tracker.enter(id, { value: PRICE, quantity: 1, price: PRICE });
    }
    await w.tracker.handler.handle({
      type: 'RequestOrder',
      signalId: 'sig-1',
      positionId: 'A',
      intent: 'reduce',
      quantity: 0.5,
      referencePrice: PRICE,
    });
    w.advance(300);
    const venue: ExternalSystem = {
      positionMode: 'netting',
      listPositions: async () => [{ id: 'x-1', symbol: 'BTCUSDT', quantity: 5, value: 500 }],
      closePosition: async () => undefined,
    };
    const report = await reconcile({ handler: w.tracker.handler, external: venue, now: w.now, guard: NO_SLEEP, dryRun: true });
    expect(report).toMatchObject({ orphans: [], phantoms: [], drift: [] });
    expect(report.heldByOrders.map((h) => h.positionId)).toEqual(['A', 'B', 'x-1']);
  });
});
