import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alpacaAdapter, reconcile, type AlpacaAdapter } from '../../src/index.js';
import type { InPosition } from '../../src/commands/index.js';
import { MemoryEventStore } from '../../src/store/index.js';
import { openTracker, type Tracker } from '../../src/tracker/index.js';
import { FakeAlpaca } from '../helpers/fakeAlpaca.js';
import { LOOSE_BOOK } from '../helpers/reconcileWorld.js';

/*
 * Issue 12: reconciliation end to end through the Alpaca adapter (the real SDK) against a local
 * Alpaca on 127.0.0.1: an orphan adopted, a phantom cleared after a direct look (404), drift
 * corrected, a short matched; the book ends equal to the account.
 */

let venue: FakeAlpaca;
let adapter: AlpacaAdapter;
let tracker: Tracker;
const clock = { now: Date.parse('2026-12-02T14:00:00Z') };
const now = (): Date => new Date(clock.now);

beforeEach(async () => {
  venue = new FakeAlpaca();
  adapter = await alpacaAdapter({ keyId: 'PKRECONCILE0000000001', secret: 'reconcile-secret', baseUrl: await venue.start(), env: {} });
  tracker = await openTracker({ ...LOOSE_BOOK, store: new MemoryEventStore({ now }), now });
});
afterEach(async () => {
  await tracker.close();
  await venue.stop();
});

const GUARD = { sleep: () => Promise.resolve() };

/** The book's open positions as (id, side, quantity, value), sorted. */
async function bookIn(): Promise<[string, string, number | undefined, number][]> {
  const state = await tracker.state();
  return [...state.positions.values()]
    .filter((p): p is InPosition => p.status === 'IN')
    .map((p): [string, string, number | undefined, number] => [p.id, p.side, p.quantity, p.value])
    .sort((a, b) => a[0].localeCompare(b[0]));
}

/** The account's positions in the same terms. */
function venueIn(): [string, string, number, number][] {
  return [...venue.positions.entries()]
    .map(([symbol, p]): [string, string, number, number] => [
      symbol,
      p.qty < 0 ? 'short' : 'long',
      Math.abs(p.qty),
      Math.abs(p.qty * p.price),
    ])
    .sort((a, b) => a[0].localeCompare(b[0]));
}

describe('reconciliation through the Alpaca adapter', () => {
  it('adopts an orphan, clears a phantom, corrects drift, matches a short: the book ends equal to the account', async () => {
    // The book: MSFT long (gone at Alpaca), NVDA long (worth more there), TSLA short (as Alpaca has it).
    for (const [id, side, quantity, price] of [
      ['MSFT', 'long', 2, 400],
      ['NVDA', 'long', 10, 100],
      ['TSLA', 'short', 4, 250],
    ] as const) {
      await tracker.track(id, { symbol: id, side });
      await tracker.enter(id, { value: quantity * price, quantity, price });
    }
    venue.setPosition('NVDA', 10, 120);
    venue.setPosition('TSLA', -4, 250);
    venue.setPosition('AAPL', 3, 150); // opened by hand: an orphan
    clock.now += 120_000; // past the grace window

    const report = await reconcile({
      handler: tracker.handler,
      external: adapter,
      policy: { orphans: 'adopt', phantoms: 'clear', drift: 'correct' },
      now,
      guard: GUARD,
    });
    expect(report.errors).toEqual([]);
    expect(report.orphans.map((o) => [o.positionId, o.outcome])).toEqual([['AAPL', 'adopted']]);
    // Alpaca nets by symbol: a book position missing there is confirmed by looks (two by default), not by one direct look.
    expect(report.phantoms.map((p) => [p.positionId, p.outcome])).toEqual([['MSFT', 'suspected']]);
    expect(report.drift.map((d) => [d.positionId, d.localValue, d.externalValue, d.outcome])).toEqual([['NVDA', 1000, 1200, 'corrected']]);
    clock.now += 60_000;
    const second = await reconcile({ handler: tracker.handler, external: adapter, policy: { phantoms: 'clear' }, now, guard: GUARD });
    expect(second.errors).toEqual([]);
    expect(second.phantoms.map((p) => [p.positionId, p.looks, p.outcome])).toEqual([['MSFT', 2, 'cleared']]);

    expect(await bookIn()).toEqual(venueIn());
    expect(venueIn()).toEqual([
      ['AAPL', 'long', 3, 450],
      ['NVDA', 'long', 10, 1200],
      ['TSLA', 'short', 4, 1000],
    ]);

    // A second run finds nothing to do.
    clock.now += 60_000;
    const again = await reconcile({ handler: tracker.handler, external: adapter, policy: { orphans: 'adopt' }, now, guard: GUARD });
    expect([again.orphans.length, again.phantoms.length, again.drift.length, again.errors.length]).toEqual([0, 0, 0, 0]);
  });

  it('closes an orphan at Alpaca (policy close): DELETE /v2/positions/{symbol} after a second look; the account ends equal to the book', async () => {
    venue.setPosition('AMD', 5, 100);
    clock.now += 120_000;
    const report = await reconcile({ handler: tracker.handler, external: adapter, policy: { orphans: 'close' }, now, guard: GUARD });
    expect(report.errors).toEqual([]);
    expect(report.orphans.map((o) => [o.positionId, o.outcome])).toEqual([['AMD', 'closed']]);
    expect(venue.requests.filter((r) => r.method === 'DELETE').map((r) => r.path)).toEqual(['/v2/positions/AMD']);
    expect(venueIn()).toEqual([]);
    expect(await bookIn()).toEqual([]);
  });

  it('a failing Alpaca changes nothing in the book', async () => {
    await tracker.track('NVDA', { symbol: 'NVDA', side: 'long' });
    await tracker.enter('NVDA', { value: 1000, quantity: 10, price: 100 });
    venue.setPosition('AAPL', 3, 150);
    clock.now += 120_000;
    const before = await bookIn();
    const head = (await tracker.state()).revision;
    venue.fail('GET /v2/positions', { status: 503, message: 'service unavailable' }, 10);
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
