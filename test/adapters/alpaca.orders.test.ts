import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alpacaAdapter, reconcile, type AlpacaAdapter } from '../../src/index.js';
import { MemoryEventStore } from '../../src/store/index.js';
import { openTracker, type Tracker } from '../../src/tracker/index.js';
import { FakeAlpaca } from '../helpers/fakeAlpaca.js';
import { LOOSE_BOOK } from '../helpers/reconcileWorld.js';

/*
 * Issue 12: the book's orders through the Alpaca adapter (the real SDK, a local Alpaca): placed
 * under the book's client order id, filled from Alpaca's FILL activities, refused for certain on
 * a 403, and, when Alpaca's answer was a 5xx, left in flight and resolved by reconciliation
 * through a look-up by client order id (never sent again).
 */

let venue: FakeAlpaca;
let adapter: AlpacaAdapter;
let tracker: Tracker;
const clock = { now: Date.parse('2026-12-02T15:00:00Z') };
const now = (): Date => new Date(clock.now);

beforeEach(async () => {
  venue = new FakeAlpaca();
  adapter = await alpacaAdapter({ keyId: 'PKORDERS000000000001', secret: 'orders-secret', baseUrl: await venue.start(), env: {} });
  tracker = await openTracker({
    ...LOOSE_BOOK,
    store: new MemoryEventStore({ now }),
    now,
    external: adapter,
    recovery: { mode: 'restore' },
  });
});
afterEach(async () => {
  await tracker.close();
  await venue.stop();
});

const entry = (signalId: string) =>
  ({ signalId, positionId: 'AAPL', symbol: 'AAPL', side: 'long', intent: 'entry', quantity: 4, referencePrice: 150 }) as const;

describe('the book’s orders at Alpaca', () => {
  it('an entry is placed under the book’s client order id; reconciliation records its fill from the FILL activities; the book matches Alpaca', async () => {
    const r = await tracker.submitOrder(entry('sig-1'));
    expect(r.outcome).toBe('accepted');
    const posted = venue.requests.find((q) => q.method === 'POST');
    expect(posted?.body).toMatchObject({ client_order_id: r.order.clientOrderId, symbol: 'AAPL', side: 'buy', qty: '4', type: 'market' });
    // Alpaca answers a market order `accepted`, nothing filled yet: the book holds it OPEN.
    expect(r.order).toMatchObject({ status: 'OPEN', externalOrderId: expect.any(String) });
    expect(venue.positions.get('AAPL')?.qty).toBe(4);
    clock.now += 120_000;
    const report = await reconcile({
      handler: tracker.handler,
      external: adapter,
      policy: { orphans: 'adopt' },
      now,
      guard: { sleep: async () => {} },
    });
    expect(report.errors).toEqual([]);
    expect(venue.requests.some((q) => q.path === '/v2/account/activities/FILL')).toBe(true);
    const state = await tracker.state();
    expect(state.orders.get(r.order.clientOrderId)).toMatchObject({ status: 'FILLED', filledQuantity: 4 });
    expect(state.positions.get('AAPL')).toMatchObject({ status: 'IN', quantity: 4 });
    expect(report.orphans).toEqual([]);
  });

  it('a 403 (insufficient buying power) is a certain refusal: OrderRejected, nothing at Alpaca', async () => {
    venue.fail('POST /v2/orders', { status: 403, message: 'insufficient buying power' });
    const r = await tracker.submitOrder(entry('sig-2'));
    expect(r.outcome).toBe('rejected');
    expect(r.order.status).toBe('REJECTED');
    expect(venue.orders.size).toBe(0);
  });

  it('a 5xx leaves the order in flight; reconciliation looks it up by client order id and records what Alpaca did, never sending it again', async () => {
    // Alpaca placed (and filled) the order, but the answer was lost as a 500.
    venue.fail('POST /v2/orders', { status: 500, message: 'internal server error' });
    const r = await tracker.submitOrder(entry('sig-3'));
    expect(r.outcome).toBe('unknown');
    expect(r.order.status).toBe('PENDING_SUBMIT');
    const o = venue.placeByHand({
      symbol: 'AAPL',
      side: 'buy',
      qty: 4,
      limitPrice: 150,
      clientOrderId: r.order.clientOrderId,
      status: 'new',
    });
    clock.now += 120_000;
    const report = await reconcile({ handler: tracker.handler, external: adapter, now, guard: { sleep: async () => {} } });
    expect(report.errors).toEqual([]);
    expect(venue.requests.filter((q) => q.method === 'POST')).toHaveLength(1);
    expect(
      venue.requests.some((q) => q.path === '/v2/orders:by_client_order_id' && q.query.get('client_order_id') === r.order.clientOrderId),
    ).toBe(true);
    const order = (await tracker.state()).orders.get(r.order.clientOrderId);
    expect(order).toMatchObject({ status: 'OPEN', externalOrderId: o.id });
  });
});
