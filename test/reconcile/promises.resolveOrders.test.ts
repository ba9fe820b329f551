import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  guardExternal,
  inferredTradeId,
  resolveInFlightOrders,
  SimulatedExchange,
  type ExternalSystem,
  type GuardedExternal,
  type SimulatedExchangeOptions,
} from '../../src/reconcile/index.js';
import { MemoryEventStore } from '../../src/store/index.js';
import { openTracker, type Tracker } from '../../src/tracker/index.js';

/*
 * The resolution of in-flight orders against the simulated exchange and each order fault: a lost
 * acknowledgement resolved by the next look (never sent twice), an order not found for a while not
 * declared lost before the grace window and the looks, the looks counted in the log (another
 * process continues the count), duplicate fill reports, a fill listed before the status, a partial
 * fill then a cancel, an inferred fill without listFills, and PENDING_CANCEL never lost.
 */

const START = Date.parse('2026-12-02T00:00:00.000Z');
let now = START;
const advance = (seconds: number): void => void (now += seconds * 1000);
const trackers: Tracker[] = [];

beforeEach(() => {
  now = START;
});
afterEach(async () => {
  for (const t of trackers.splice(0)) await t.close();
});

const POLICY = { orderLostAfterSeconds: 60, orderLostAfterLooks: 3 };

function exchange(options: Partial<SimulatedExchangeOptions> = {}): SimulatedExchange {
  return new SimulatedExchange({ seed: 5, clock: () => new Date(now), symbols: { BTC: 60_000 }, notFoundSeconds: 30, ...options });
}
const guard = (x: ExternalSystem): GuardedExternal => guardExternal(x, { sleep: async () => undefined });

async function open(external: GuardedExternal, store: MemoryEventStore | string = 'memory:'): Promise<Tracker> {
  const t = await openTracker({
    store,
    now: () => new Date(now),
    external,
    recovery: { mode: 'restore', maxStateAgeSeconds: 3600 },
    equity: 100_000,
  });
  trackers.push(t);
  return t;
}
const resolve = (t: Tracker, external: GuardedExternal, policy = POLICY) =>
  resolveInFlightOrders({ handler: t.handler, external, policy, now: () => new Date(now), meta: { source: 'reconcile' } });

/** Every submit the venue saw, placed or refused, per client order id. */
function submitCounts(x: SimulatedExchange): number[] {
  const log = x.orderLog();
  const count = new Map<string, number>();
  for (const id of [...log.orders.map((o) => o.clientOrderId), ...log.rejections.map((r) => r.clientOrderId)]) {
    count.set(id, (count.get(id) ?? 0) + 1);
  }
  return [...count.values()];
}

const entry = { positionId: 'BTC-1', symbol: 'BTC', intent: 'entry' as const, quantity: 0.01, referencePrice: 60_000 };

describe('an in-flight order is looked up, never sent again', () => {
  it('a lost acknowledgement: in flight, then the next look records it accepted and filled; the venue saw one submit', async () => {
    const x = exchange();
    const g = guard(x);
    const t = await open(g);
    x.forceOrderFault('lostAck');
    const sent = await t.submitOrder({ ...entry, signalId: 's1' });
    expect(sent.order.status).toBe('PENDING_SUBMIT');
    const report = await resolve(t, g);
    expect(report.orders).toMatchObject([{ clientOrderId: sent.order.clientOrderId, outcome: 'resolved' }]);
    expect(report.orders[0]!.records.map((r) => r.kind)).toEqual(['accepted', ...x.orderLog().fills.map(() => 'fill')]);
    expect(report.inFlight).toEqual([]);
    expect(await t.order(sent.order.clientOrderId)).toMatchObject({ status: 'FILLED', filledQuantity: 0.01, externalOrderId: 'SIM-O-1' });
    expect(await t.get('BTC-1')).toMatchObject({ status: 'IN', quantity: 0.01 });
    expect(submitCounts(x)).toEqual([1]);
    // A second run finds nothing in flight and calls nothing.
    const calls = g.stats.calls;
    expect((await resolve(t, g)).orders).toEqual([]);
    expect(g.stats.calls).toBe(calls);
  });

  it('not found for 30 s: not lost at 3 looks inside the 60 s grace; found at 40 s and resolved as filled', async () => {
    const x = exchange();
    const g = guard(x);
    const t = await open(g);
    x.forceOrderFault('lostAck');
    x.forceOrderFault('notFound');
    const sent = await t.submitOrder({ ...entry, signalId: 's1' });
    for (const [i, at] of [0, 10, 20].entries()) {
      now = START + at * 1000;
      const report = await resolve(t, g);
      expect(report.orders).toMatchObject([{ outcome: 'not_found', looks: i + 1 }]);
    }
    expect(await t.order(sent.order.clientOrderId)).toMatchObject({ status: 'PENDING_SUBMIT', missedLooks: 3 });
    now = START + 40_000;
    const found = await resolve(t, g);
    expect(found.orders).toMatchObject([{ outcome: 'resolved' }]);
    const order = await t.order(sent.order.clientOrderId);
    expect(order).toMatchObject({ status: 'FILLED', filledQuantity: 0.01 });
    expect(order?.missedLooks).toBeUndefined();
    expect(submitCounts(x)).toEqual([1]);
  });

  it('an order that never reached the venue is lost only once it is 60 s old and 3 looks in a row said not found: REJECTED', async () => {
    const x = exchange();
    const g = guard(x);
    const t = await open(g);
    x.setFaults({ error: 1 }); // refused before it is placed: the outcome is unknown to the caller
    const sent = await t.submitOrder({ ...entry, signalId: 's1' });
    x.setFaults({ error: 0 });
    expect(sent).toMatchObject({ outcome: 'unknown', order: { status: 'PENDING_SUBMIT' } });
    expect(x.orderLog().orders).toEqual([]);
    // Old enough, but one look: not lost.
    advance(120);
    expect((await resolve(t, g)).orders).toMatchObject([{ outcome: 'not_found', looks: 1 }]);
    expect((await resolve(t, g)).orders).toMatchObject([{ outcome: 'not_found', looks: 2 }]);
    const third = await resolve(t, g);
    expect(third.orders).toMatchObject([{ outcome: 'lost', looks: 3, records: [{ kind: 'lost', resolution: 'REJECTED' }] }]);
    expect(await t.order(sent.order.clientOrderId)).toMatchObject({ status: 'REJECTED' });
    expect(x.orderLog().orders).toEqual([]); // never sent again
  });

  it('3 looks inside the grace window are not enough: a young order is not lost however often it is looked for', async () => {
    const x = exchange();
    const g = guard(x);
    const t = await open(g);
    x.setFaults({ error: 1 });
    const sent = await t.submitOrder({ ...entry, signalId: 's1' });
    x.setFaults({ error: 0 });
    for (let i = 1; i <= 5; i++) {
      advance(10);
      expect((await resolve(t, g)).orders).toMatchObject([{ outcome: 'not_found', looks: i }]);
    }
    expect(await t.order(sent.order.clientOrderId)).toMatchObject({ status: 'PENDING_SUBMIT', missedLooks: 5 });
    advance(10); // 60 s old now
    expect((await resolve(t, g)).orders).toMatchObject([{ outcome: 'lost', looks: 6 }]);
  });

  it('the looks are counted in the log: a second process on the same log continues the count', async () => {
    const x = exchange();
    const g = guard(x);
    const store = new MemoryEventStore();
    const first = await open(g, store);
    x.setFaults({ error: 1 });
    const sent = await first.submitOrder({ ...entry, signalId: 's1' });
    x.setFaults({ error: 0 });
    advance(61);
    await resolve(first, g);
    await resolve(first, g);
    await first.close();
    const second = await open(g, store);
    expect(await second.order(sent.order.clientOrderId)).toMatchObject({ missedLooks: 2 });
    expect((await resolve(second, g)).orders).toMatchObject([{ outcome: 'lost', looks: 3 }]);
    const looks = (await store.readStream('tradelog-main')).filter((e) => e.type === 'OrderLookedUp').map((e) => e.data);
    expect(looks.map((d) => (d as { looks: number }).looks)).toEqual([1, 2, 3]);
  });
});

describe('what the venue reports, recorded right', () => {
  it('duplicate fill reports: one fill per trade', async () => {
    const x = exchange();
    const g = guard(x);
    const t = await open(g);
    x.forceOrderFault('lostAck');
    x.forceOrderFault('duplicateFill', 3);
    const sent = await t.submitOrder({ ...entry, signalId: 's1' });
    expect((await g.listFills()).length).toBeGreaterThan(x.orderLog().fills.length);
    await resolve(t, g);
    const order = await t.order(sent.order.clientOrderId);
    expect(order?.tradeIds).toEqual(x.orderLog().fills.map((f) => f.tradeId));
    expect(order?.filledQuantity).toBeCloseTo(0.01, 12);
    expect(await t.get('BTC-1')).toMatchObject({ quantity: 0.01 });
  });

  it('a fill listed before the status: the gateway saw it open, the next look records the fills (FILLED)', async () => {
    const x = exchange({ staleSeconds: 300 });
    const g = guard(x);
    const t = await open(g);
    x.forceOrderFault('fillBeforeStatus');
    const sent = await t.submitOrder({ ...entry, signalId: 's1' });
    expect(sent.order).toMatchObject({ status: 'OPEN', filledQuantity: 0 });
    expect(await g.getOrder({ clientOrderId: sent.order.clientOrderId })).toMatchObject({ status: 'open', filledQuantity: 0 });
    const report = await resolve(t, g);
    expect(report.orders).toMatchObject([{ outcome: 'resolved' }]);
    expect(await t.order(sent.order.clientOrderId)).toMatchObject({ status: 'FILLED', filledQuantity: 0.01 });
  });

  it('a partial fill then a cancel, seen only by the look: the fills are kept, the order is CANCELED', async () => {
    const x = exchange();
    const g = guard(x);
    const t = await open(g);
    x.forceOrderFault('lostAck');
    x.forceOrderFault('partialThenCancel');
    const sent = await t.submitOrder({ ...entry, signalId: 's1' });
    await resolve(t, g);
    const venue = x.orderLog().orders[0]!;
    expect(await t.order(sent.order.clientOrderId)).toMatchObject({ status: 'CANCELED', filledQuantity: venue.filledQuantity });
    expect(await t.get('BTC-1')).toMatchObject({ status: 'IN', quantity: venue.filledQuantity });
  });

  it('without listFills one fill is inferred from the filled quantity, with a derived tradeId: a restart infers the same one', async () => {
    const x = exchange();
    const noFills: ExternalSystem = {
      listPositions: (o) => x.listPositions(o),
      closePosition: (id, o) => x.closePosition(id, o),
      submitOrder: (r, o) => x.submitOrder(r, o),
      getOrder: (r, o) => x.getOrder(r, o),
      listOpenOrders: (o) => x.listOpenOrders(o),
      cancelOrder: (r, o) => x.cancelOrder(r, o),
    };
    const g = guard(noFills);
    const store = new MemoryEventStore();
    const t = await open(g, store);
    x.forceOrderFault('lostAck');
    const sent = await t.submitOrder({ ...entry, signalId: 's1' });
    await resolve(t, g);
    const id = sent.order.clientOrderId;
    const order = await t.order(id);
    expect(order).toMatchObject({ status: 'FILLED', filledQuantity: 0.01, tradeIds: [inferredTradeId(id, 0.01)] });
    const filled = (await store.readStream('tradelog-main')).filter((e) => e.type === 'OrderFilled');
    expect(filled.map((e) => e.data)).toMatchObject([{ inferred: true, quantity: 0.01, price: 60_000 }]);
    expect(inferredTradeId(id, 0.01)).toBe(inferredTradeId(id, 0.01));
  });

  it('PENDING_CANCEL the venue still shows open (the cancel was lost on the way): the cancel is sent again, the order CANCELED', async () => {
    const x = exchange();
    const g = guard(x);
    const t = await open(g);
    const placed = await t.submitOrder({ ...entry, orderType: 'limit', limitPrice: 50_000, signalId: 's1' });
    expect(placed.order.status).toBe('OPEN');
    x.setFaults({ error: 1 });
    const cancel = await t.cancelOrder(placed.order.clientOrderId);
    x.setFaults({ error: 0 });
    expect(cancel).toMatchObject({ outcome: 'unknown', order: { status: 'PENDING_CANCEL' } });
    expect(x.orderLog().orders[0]?.status).toBe('open');
    const report = await resolve(t, g);
    expect(report.orders).toMatchObject([{ outcome: 'resolved', records: [{ kind: 'canceled' }] }]);
    expect(await t.order(placed.order.clientOrderId)).toMatchObject({ status: 'CANCELED' });
    expect(x.orderLog().orders[0]?.status).toBe('canceled');
    expect(x.orderLog().orders).toHaveLength(1);
  });

  it('PENDING_CANCEL stays unresolved while the venue does not know it, however old and however many looks', async () => {
    const x = exchange();
    const g = guard(x);
    const t = await open(g);
    x.setFaults({ error: 1 });
    const sent = await t.submitOrder({ ...entry, signalId: 's1' });
    x.setFaults({ error: 0 });
    const cancel = await t.cancelOrder(sent.order.clientOrderId);
    expect(cancel).toMatchObject({ outcome: 'unknown', order: { status: 'PENDING_CANCEL' } });
    for (let i = 1; i <= 5; i++) {
      advance(60);
      expect((await resolve(t, g)).orders).toMatchObject([{ outcome: 'not_found', looks: i }]);
    }
    expect(await t.order(sent.order.clientOrderId)).toMatchObject({ status: 'PENDING_CANCEL' });
  });
});
