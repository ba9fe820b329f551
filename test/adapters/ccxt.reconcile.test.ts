import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ccxtAdapter, reconcile, type CcxtAdapter } from '../../src/index.js';
import { venueKeyOf, type InPosition } from '../../src/commands/index.js';
import { MemoryEventStore } from '../../src/store/index.js';
import { openTracker, type Tracker } from '../../src/tracker/index.js';
import { BinanceVenue } from '../helpers/binanceVenue.js';
import { LOOSE_BOOK } from '../helpers/reconcileWorld.js';

/*
 * Issue 12: reconciliation end to end through the ccxt adapter (real ccxt, binanceusdm) against
 * a Binance USDⓈ-M on 127.0.0.1: an orphan adopted or closed at the venue (a reduce-only order),
 * a phantom cleared after a direct look, drift corrected, a short matched; the book ends equal to
 * the venue. Book positions are named by the venue's key (the ccxt symbol). And netting: three book
 * positions on one symbol against one venue position (equal, more, less), and a hedge-mode account's
 * long and short on one symbol; each time the book summed by venue key ends equal to the venue.
 */

let venue: BinanceVenue;
let base: string;
let adapter: CcxtAdapter;
let tracker: Tracker;
const clock = { now: Date.parse('2026-12-02T14:00:00Z') };
const now = (): Date => new Date(clock.now);
const GUARD = { sleep: () => Promise.resolve() };

beforeAll(async () => {
  venue = new BinanceVenue('usdm');
  base = await venue.listen();
  // ccxt's throttle off: it spaces requests by Binance's weights, no part of what is tested here.
  adapter = await ccxtAdapter({ exchangeId: 'binanceusdm', credentials: { apiKey: 'rk', secret: 'rs' }, baseUrl: base, rateLimit: false });
});
afterAll(() => venue.close());
beforeEach(async () => {
  venue.positions.length = 0;
  venue.orders.length = 0;
  venue.requests.length = 0;
  venue.clearFaults();
  venue.prices.set('SOLUSDT', 150);
  tracker = await openTracker({ ...LOOSE_BOOK, store: new MemoryEventStore({ now }), now });
});
afterEach(() => tracker.close());

/** The book's open positions as (id, side, quantity, value), sorted. */
async function bookIn(): Promise<[string, string, number | undefined, number][]> {
  const state = await tracker.state();
  return [...state.positions.values()]
    .filter((p): p is InPosition => p.status === 'IN')
    .map((p): [string, string, number | undefined, number] => [p.id, p.side, p.quantity, p.value])
    .sort((a, b) => a[0].localeCompare(b[0]));
}

/** The venue's positions in the same terms (ccxt's symbol for Binance's). */
function venueIn(): [string, string, number, number][] {
  return venue.positions
    .map((p): [string, string, number, number] => [
      `${p.symbol.replace(/USDT$/, '')}/USDT:USDT`,
      p.amount < 0 ? 'short' : 'long',
      Math.abs(p.amount),
      Math.abs(p.amount * (venue.prices.get(p.symbol) ?? 0)),
    ])
    .sort((a, b) => a[0].localeCompare(b[0]));
}

describe('#12 reconciliation through the ccxt adapter (binanceusdm)', () => {
  it('adopts an orphan, clears a phantom, corrects drift, matches a short: the book ends equal to the venue', async () => {
    // The book: ETH long (gone at the venue), SOL long (worth more there), BTC short (as the venue has it).
    for (const [id, side, quantity, price] of [
      ['ETH/USDT:USDT', 'long', 2, 3000],
      ['SOL/USDT:USDT', 'long', 10, 150],
      ['BTC/USDT:USDT', 'short', 0.5, 60000],
    ] as const) {
      await tracker.track(id, { symbol: id, side });
      await tracker.enter(id, { value: quantity * price, quantity, price });
    }
    venue.positions.push(
      { symbol: 'SOLUSDT', positionSide: 'BOTH', amount: 10, entryPrice: 150 },
      { symbol: 'BTCUSDT', positionSide: 'BOTH', amount: -0.5, entryPrice: 60000 },
      { symbol: 'LTCUSDT', positionSide: 'BOTH', amount: 4, entryPrice: 80 }, // opened by hand: an orphan
    );
    venue.prices.set('SOLUSDT', 180);
    clock.now += 120_000; // past the grace window

    const report = await reconcile({
      handler: tracker.handler,
      external: adapter,
      policy: { orphans: 'adopt', phantoms: 'clear', drift: 'correct' },
      now,
      guard: GUARD,
    });
    expect(report.errors).toEqual([]);
    expect(report.orphans.map((o) => [o.positionId, o.outcome])).toEqual([['LTC/USDT:USDT', 'adopted']]);
    // binanceusdm nets by symbol: a book position missing there is confirmed by looks (two by default).
    expect(report.phantoms.map((p) => [p.positionId, p.outcome])).toEqual([['ETH/USDT:USDT', 'suspected']]);
    expect(report.drift.map((d) => [d.positionId, d.localValue, d.externalValue, d.outcome])).toEqual([
      ['SOL/USDT:USDT', 1500, 1800, 'corrected'],
    ]);
    clock.now += 60_000;
    const second = await reconcile({ handler: tracker.handler, external: adapter, policy: { phantoms: 'clear' }, now, guard: GUARD });
    expect(second.errors).toEqual([]);
    expect(second.phantoms.map((p) => [p.positionId, p.looks, p.outcome])).toEqual([['ETH/USDT:USDT', 2, 'cleared']]);
    expect(await bookIn()).toEqual(venueIn());
    expect(venueIn()).toEqual([
      ['BTC/USDT:USDT', 'short', 0.5, 30000],
      ['LTC/USDT:USDT', 'long', 4, 320],
      ['SOL/USDT:USDT', 'long', 10, 1800],
    ]);

    // A second run finds nothing to do.
    clock.now += 60_000;
    const again = await reconcile({ handler: tracker.handler, external: adapter, policy: { orphans: 'adopt' }, now, guard: GUARD });
    expect([again.orphans.length, again.phantoms.length, again.drift.length, again.errors.length]).toEqual([0, 0, 0, 0]);
  });

  it('closes an orphan short at the venue (policy close) with a reduce-only market buy after a second look; the venue ends equal to the book', async () => {
    venue.positions.push({ symbol: 'ETHUSDT', positionSide: 'BOTH', amount: -3, entryPrice: 3000 });
    clock.now += 120_000;
    const report = await reconcile({ handler: tracker.handler, external: adapter, policy: { orphans: 'close' }, now, guard: GUARD });
    expect(report.errors).toEqual([]);
    expect(report.orphans.map((o) => [o.positionId, o.outcome])).toEqual([['ETH/USDT:USDT', 'closed']]);
    const orders = venue
      .calls('POST /fapi/v1/order')
      .map((r) => [r.params.get('symbol'), r.params.get('side'), r.params.get('quantity'), r.params.get('reduceOnly')]);
    expect(orders).toEqual([['ETHUSDT', 'BUY', '3', 'true']]);
    expect(venueIn()).toEqual([]);
    expect(await bookIn()).toEqual([]);
  });

  it('a failing venue (a 5xx on every try) changes nothing in the book', async () => {
    await tracker.track('SOL/USDT:USDT', { symbol: 'SOL/USDT:USDT', side: 'long' });
    await tracker.enter('SOL/USDT:USDT', { value: 1500, quantity: 10, price: 150 });
    venue.positions.push({ symbol: 'LTCUSDT', positionSide: 'BOTH', amount: 4, entryPrice: 80 });
    clock.now += 120_000;
    const before = await bookIn();
    const head = (await tracker.state()).revision;
    for (let i = 0; i < 5; i++) venue.fail('GET /fapi/v3/positionRisk', { status: 503, body: 'Service Unavailable' });
    const report = await reconcile({
      handler: tracker.handler,
      external: adapter,
      policy: { orphans: 'adopt', phantoms: 'clear' },
      now,
      guard: GUARD,
    });
    expect(report.errors.map((e) => [e.stage, e.failure])).toEqual([['listPositions', 'unreachable']]);
    expect(await bookIn()).toEqual(before);
    expect((await tracker.state()).revision).toBe(head);
  });
});

describe('#12 reconciliation through the ccxt adapter (binance spot)', () => {
  it('adopts a holding worth more than minPositionValue and leaves dust (judged on value) and the quote currency alone', async () => {
    const spot = new BinanceVenue('spot');
    const spotBase = await spot.listen();
    try {
      const spotAdapter = await ccxtAdapter({
        exchangeId: 'binance',
        credentials: { apiKey: 'sk', secret: 'ss' },
        baseUrl: spotBase,
        rateLimit: false,
      });
      spot.balances.set('BTC', 0.01); // 600 USDT
      spot.balances.set('ETH', 0.001); // 3 USDT: below minPositionValue (5), dust
      spot.balances.set('USDT', 2500); // cash
      clock.now += 120_000;
      const report = await reconcile({ handler: tracker.handler, external: spotAdapter, policy: { orphans: 'adopt' }, now, guard: GUARD });
      expect(report.errors).toEqual([]);
      expect(report.orphans.map((o) => [o.positionId, o.outcome])).toEqual([['BTC/USDT', 'adopted']]);
      expect(report.dust.map((d) => d.positionId)).toEqual(['ETH/USDT']);
      expect(await bookIn()).toEqual([['BTC/USDT', 'long', 0.01, 600]]);
    } finally {
      await spot.close();
    }
  });
});

/** The book's IN positions summed by venue key and side: [venue key, side, quantity]. */
async function bookByKey(): Promise<[string, string, number][]> {
  const sums = new Map<string, [string, string, number]>();
  for (const p of (await tracker.state()).positions.values()) {
    if (p.status !== 'IN') continue;
    const key = `${venueKeyOf(p)} ${p.side}`;
    const sum = sums.get(key) ?? [venueKeyOf(p)!, p.side, 0];
    sum[2] = Math.round((sum[2] + (p.quantity ?? 0)) * 1e9) / 1e9;
    sums.set(key, sum);
  }
  return [...sums.values()].sort((a, b) => `${a[0]} ${a[1]}`.localeCompare(`${b[0]} ${b[1]}`));
}

/** The venue's positions as (ccxt symbol, side, quantity), sorted. */
const venueByKey = (): [string, string, number][] => venueIn().map(([s, side, q]): [string, string, number] => [s, side, q]);

const SOL = 'SOL/USDT:USDT';

/** Three SOL longs (2 + 3 + 5 at 150), entered in that order: one venue position of 10 on a one-way account. */
async function threeOnSol(): Promise<void> {
  for (const [id, quantity] of [
    ['SOL-1', 2],
    ['SOL-2', 3],
    ['SOL-3', 5],
  ] as const) {
    await tracker.track(id, { symbol: SOL, side: 'long' });
    await tracker.enter(id, { value: quantity * 150, quantity, price: 150 });
    clock.now += 1000;
  }
}

const inOn = async (symbol: string): Promise<[string, string, number | undefined][]> =>
  [...(await tracker.state()).positions.values()]
    .filter((p): p is InPosition => p.status === 'IN' && p.symbol === symbol)
    .map((p): [string, string, number | undefined] => [p.id, p.side, p.quantity]);

const runOn = async (external: CcxtAdapter, policy: Parameters<typeof reconcile>[0]['policy']) => {
  clock.now += 120_000; // past the grace window
  return reconcile({ handler: tracker.handler, external, policy, now, guard: GUARD });
};

describe('#12 netting through the ccxt adapter (binanceusdm, one-way and hedge mode)', () => {
  it('three book positions on one symbol against one venue position of their sum: nothing to heal', async () => {
    await threeOnSol();
    venue.positions.push({ symbol: 'SOLUSDT', positionSide: 'BOTH', amount: 10, entryPrice: 150 });
    const report = await runOn(adapter, { orphans: 'adopt', phantoms: 'clear', drift: 'correct' });
    expect(report.errors).toEqual([]);
    expect([report.orphans, report.phantoms, report.drift]).toEqual([[], [], []]);
    expect(await bookByKey()).toEqual(venueByKey());
    expect(await inOn(SOL)).toHaveLength(3);
  });

  it('the venue holds more (orphan quantity): the surplus is adopted as one position on the symbol’s venue key', async () => {
    await threeOnSol();
    venue.positions.push({ symbol: 'SOLUSDT', positionSide: 'BOTH', amount: 12.5, entryPrice: 150 });
    const report = await runOn(adapter, { orphans: 'adopt' });
    expect(report.errors).toEqual([]);
    expect(report.orphans.map((o) => o.outcome)).toEqual(['adopted']);
    expect(await bookByKey()).toEqual(venueByKey());
    const adopted = (await tracker.state()).positions.get(report.orphans[0]!.positionId) as InPosition;
    expect([adopted.quantity, venueKeyOf(adopted)]).toEqual([2.5, SOL]);
    const again = await runOn(adapter, { orphans: 'adopt', phantoms: 'clear', drift: 'correct' });
    expect([again.orphans, again.phantoms, again.drift, again.errors]).toEqual([[], [], [], []]);
  });

  it('the book holds more (phantom quantity): the shortfall comes off the most recent positions first, partly', async () => {
    await threeOnSol();
    venue.positions.push({ symbol: 'SOLUSDT', positionSide: 'BOTH', amount: 4, entryPrice: 150 });
    // The venue still holds the symbol: looks confirm the shortfall (suspected first, cleared on the second).
    const first = await runOn(adapter, { phantoms: 'clear' });
    expect(first.errors).toEqual([]);
    expect(first.phantoms.map((p) => p.outcome)).toEqual(expect.arrayContaining(['suspected']));
    expect((await inOn(SOL)).map(([, , q]) => q)).toEqual([2, 3, 5]);
    const second = await runOn(adapter, { phantoms: 'clear' });
    expect(second.errors).toEqual([]);
    // 10 - 4 = 6 taken off: SOL-3 (5) whole and 1 of SOL-2; SOL-1 untouched.
    expect(await inOn(SOL)).toEqual([
      ['SOL-1', 'long', 2],
      ['SOL-2', 'long', 2],
    ]);
    expect(await bookByKey()).toEqual(venueByKey());
    // Nothing was sent to the venue: a phantom is the book's to clear.
    expect(venue.calls('POST /fapi/v1/order')).toEqual([]);
  });

  it('a hedge-mode account (dualSidePosition): a long and a short on one symbol are two venue positions, each matched to its side', async () => {
    venue.dualSidePosition = true;
    const hedged = await ccxtAdapter({
      exchangeId: 'binanceusdm',
      credentials: { apiKey: 'rk', secret: 'rs' },
      baseUrl: base,
      rateLimit: false,
    });
    try {
      expect(hedged.positionMode).toBe('hedge');
      for (const [id, side, quantity] of [
        ['SOL-L1', 'long', 4],
        ['SOL-L2', 'long', 6],
        ['SOL-S1', 'short', 3],
      ] as const) {
        await tracker.track(id, { symbol: SOL, side });
        await tracker.enter(id, { value: quantity * 150, quantity, price: 150 });
        clock.now += 1000;
      }
      venue.positions.push(
        { symbol: 'SOLUSDT', positionSide: 'LONG', amount: 10, entryPrice: 150 },
        { symbol: 'SOLUSDT', positionSide: 'SHORT', amount: -5, entryPrice: 150 },
      );
      // The longs match their sum; the short side holds 2 more at the venue: adopted as a short.
      const report = await runOn(hedged, { orphans: 'adopt', phantoms: 'clear', drift: 'correct' });
      expect(report.errors).toEqual([]);
      expect([report.phantoms, report.drift]).toEqual([[], []]);
      expect(report.orphans.map((o) => o.outcome)).toEqual(['adopted']);
      const adopted = (await tracker.state()).positions.get(report.orphans[0]!.positionId) as InPosition;
      expect([adopted.side, adopted.quantity]).toEqual(['short', 2]);
      expect(await bookByKey()).toEqual([
        [SOL, 'long', 10],
        [SOL, 'short', 5],
      ]);
      expect(await bookByKey()).toEqual(venueByKey());
      const again = await runOn(hedged, { orphans: 'adopt', phantoms: 'clear', drift: 'correct' });
      expect([again.orphans, again.phantoms, again.drift, again.errors]).toEqual([[], [], [], []]);
    } finally {
      venue.dualSidePosition = false;
    }
  });
});
