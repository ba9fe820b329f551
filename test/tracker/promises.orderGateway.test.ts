import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors/index.js';
import { guardExternal, SimulatedExchange, type ExternalSystem, type SimulatedExchangeOptions } from '../../src/reconcile/index.js';
import { openTracker, type Tracker } from '../../src/tracker/index.js';

/*
 * The order gateway against the simulated exchange: the order is in the log before the venue
 * hears of it, the venue's answer is recorded after, an unknown outcome leaves it in flight and is
 * never sent again, a repeated signal or command id sends nothing, a refusal is a rejection, a
 * cancel is recorded once the venue confirms it, and the venue's faults (duplicate fills, partial
 * then cancel) leave the book right.
 */

const START = Date.parse('2026-12-02T00:00:00.000Z');
let now = START;
let tracker: Tracker | undefined;

beforeEach(() => {
  now = START;
});
afterEach(async () => {
  await tracker?.close();
  tracker = undefined;
});

function exchange(options: Partial<SimulatedExchangeOptions> = {}): SimulatedExchange {
  return new SimulatedExchange({ seed: 3, clock: () => new Date(now), symbols: { BTC: 60_000, ETH: 3_000 }, ...options });
}

async function open(external: ExternalSystem | ReturnType<typeof guardExternal>): Promise<Tracker> {
  tracker = await openTracker({
    store: 'memory:',
    now: () => new Date(now),
    external,
    recovery: { mode: 'restore', maxStateAgeSeconds: 3600 },
    maxPositions: 5,
    equity: 100_000,
  });
  return tracker;
}

/** Every submit the venue saw, placed or refused, per client order id. */
function submits(x: SimulatedExchange): Map<string, number> {
  const log = x.orderLog();
  const count = new Map<string, number>();
  for (const id of [...log.orders.map((o) => o.clientOrderId), ...log.rejections.map((r) => r.clientOrderId)]) {
    count.set(id, (count.get(id) ?? 0) + 1);
  }
  return count;
}

const entry = { positionId: 'BTC-1', symbol: 'BTC', intent: 'entry' as const, quantity: 0.01, referencePrice: 60_000 };

describe('submitOrder: appended first, then sent, then the answer recorded', () => {
  it('a market entry is requested, accepted and filled: the position is IN with the fills, the venue saw one submit', async () => {
    const x = exchange();
    const t = await open(x);
    const result = await t.submitOrder({ ...entry, signalId: 'sig-1' });
    expect(result).toMatchObject({
      outcome: 'accepted',
      sent: true,
      order: { status: 'FILLED', filledQuantity: 0.01, externalOrderId: 'SIM-O-1' },
    });
    const types = (await t.store.readStream('tradelog-main')).map((e) => e.type);
    // OrderRequested precedes everything the venue said.
    expect(types.indexOf('OrderRequested')).toBeLessThan(types.indexOf('OrderAccepted'));
    expect(types.indexOf('OrderAccepted')).toBeLessThan(types.indexOf('OrderFilled'));
    expect(await t.get('BTC-1')).toMatchObject({ status: 'IN', quantity: 0.01 });
    const fills = x.orderLog().fills;
    expect(result.order.tradeIds).toEqual(fills.map((f) => f.tradeId));
    expect(result.order.fees).toBeCloseTo(
      fills.reduce((s, f) => s + f.fee, 0),
      9,
    );
    expect([...submits(x).values()]).toEqual([1]);
    expect(await t.isSignalProcessed('sig-1')).toBe(true);
    expect(await t.isSignalProcessed('sig-2')).toBe(false);
    expect(await t.processedSignal('sig-1')).toEqual({ at: new Date(START).toISOString(), clientOrderId: result.order.clientOrderId });
    expect(await t.order(result.order.clientOrderId)).toEqual(result.order);
    expect(await t.orders({ live: true })).toEqual([]);
  });

  it('a repeated call with the same signalId (another command id) returns the first order and sends nothing', async () => {
    const x = exchange();
    const t = await open(x);
    const first = await t.submitOrder({ ...entry, signalId: 'sig-1', commandId: 'c-1' });
    const again = await t.submitOrder({ ...entry, signalId: 'sig-1', commandId: 'c-2' });
    expect(again).toMatchObject({ outcome: 'duplicate', sent: false });
    expect(again.order).toEqual(first.order);
    expect([...submits(x).values()]).toEqual([1]);
  });

  it('a repeated call with the same commandId returns the first order and sends nothing, even while it is in flight', async () => {
    const x = exchange();
    const t = await open(x);
    x.forceOrderFault('lostAck');
    const first = await t.submitOrder({ ...entry, commandId: 'cmd-1' });
    expect(first).toMatchObject({ outcome: 'unknown', sent: true, order: { status: 'PENDING_SUBMIT' } });
    expect(first.error?.failure).toMatch(/timeout|unreachable/);
    const again = await t.submitOrder({ ...entry, commandId: 'cmd-1' });
    expect(again).toMatchObject({
      outcome: 'duplicate',
      sent: false,
      order: { clientOrderId: first.order.clientOrderId, status: 'PENDING_SUBMIT' },
    });
    expect([...submits(x).values()]).toEqual([1]);
    // The venue has it: in flight here, placed there.
    expect(x.orderLog().orders.map((o) => o.clientOrderId)).toEqual([first.order.clientOrderId]);
  });

  it('without a signalId or commandId a command id is generated: the order is placed once', async () => {
    const x = exchange();
    const t = await open(x);
    const result = await t.submitOrder(entry);
    expect(result).toMatchObject({ outcome: 'accepted', sent: true });
    expect(result.order.orderKey).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('a definitive refusal (4xx) is recorded as OrderRejected; the order is REJECTED and the position not entered', async () => {
    const x = exchange();
    const t = await open(x);
    const result = await t.submitOrder({
      ...entry,
      positionId: 'DOGE-1',
      symbol: 'DOGE',
      referencePrice: 0.1,
      quantity: 100,
      signalId: 's',
    });
    expect(result).toMatchObject({ outcome: 'rejected', sent: true, order: { status: 'REJECTED' } });
    expect(result.error?.failure).toBe('rejected');
    expect(result.order.reason).toContain('unknown symbol DOGE');
    expect((await t.get('DOGE-1'))?.status).toBe('WATCHING');
  });

  it('a malformed answer or a timeout leaves the order in flight, with the error, and records nothing of the venue', async () => {
    const x = exchange({ latencyMs: 200 });
    const t = await open(guardExternal(x, { timeoutMs: 20, sleep: async () => undefined }));
    const timedOut = await t.submitOrder({ ...entry, signalId: 'slow' });
    expect(timedOut).toMatchObject({ outcome: 'unknown', sent: true, order: { status: 'PENDING_SUBMIT', filledQuantity: 0 } });
    expect(timedOut.error?.failure).toBe('timeout');
    expect(await t.orders({ live: true })).toEqual([timedOut.order]);

    const y = exchange();
    await tracker?.close();
    const u = await open(y);
    y.setFaults({ malformed: 1 });
    const garbled = await u.submitOrder({ ...entry, signalId: 'garbled' });
    expect(garbled).toMatchObject({ outcome: 'unknown', order: { status: 'PENDING_SUBMIT' } });
    expect(garbled.error?.failure).toBe('malformed');
    expect(y.orderLog().orders).toHaveLength(1); // placed, though the answer did not parse
  });

  it('a fill reported twice is recorded once', async () => {
    const x = exchange();
    const t = await open(x);
    x.forceOrderFault('duplicateFill', 3);
    const result = await t.submitOrder({ ...entry, signalId: 'dup' });
    const venueFills = x.orderLog().fills;
    expect(result.order.tradeIds).toEqual(venueFills.map((f) => f.tradeId));
    expect(result.order.filledQuantity).toBeCloseTo(0.01, 12);
    expect(await t.get('BTC-1')).toMatchObject({ status: 'IN', quantity: 0.01 });
  });

  it('a partial fill then a cancel at the venue: the fills are kept and the order is CANCELED', async () => {
    const x = exchange();
    const t = await open(x);
    x.forceOrderFault('partialThenCancel');
    const result = await t.submitOrder({ ...entry, signalId: 'part' });
    const venue = x.orderLog().orders[0]!;
    expect(venue.status).toBe('canceled');
    expect(result.order).toMatchObject({ status: 'CANCELED', filledQuantity: venue.filledQuantity });
    expect(venue.filledQuantity).toBeLessThan(0.01);
    expect(await t.get('BTC-1')).toMatchObject({ status: 'IN', quantity: venue.filledQuantity });
  });
});

describe('cancelOrder', () => {
  it('a resting limit order is canceled: PENDING_CANCEL first, CANCELED once the venue confirms', async () => {
    const x = exchange();
    const t = await open(x);
    const placed = await t.submitOrder({ ...entry, orderType: 'limit', limitPrice: 50_000, signalId: 'lim' });
    expect(placed.order.status).toBe('OPEN');
    const canceled = await t.cancelOrder(placed.order.clientOrderId, { reason: 'changed my mind' });
    expect(canceled).toMatchObject({ outcome: 'canceled', sent: true, order: { status: 'CANCELED', filledQuantity: 0 } });
    const types = (await t.store.readStream('tradelog-main')).map((e) => e.type);
    expect(types.slice(-2)).toEqual(['OrderCancelRequested', 'OrderCanceled']);
    expect(x.orderLog().orders[0]?.status).toBe('canceled');
  });

  it('a cancel the venue refuses because the order filled meanwhile records the fills instead', async () => {
    const x = exchange();
    const t = await open(x);
    const placed = await t.submitOrder({ ...entry, orderType: 'limit', limitPrice: 59_000, signalId: 'lim' });
    x.setPrice('BTC', 58_000); // it crosses and fills at its limit
    const result = await t.cancelOrder(placed.order.clientOrderId);
    expect(result).toMatchObject({ outcome: 'unknown', order: { status: 'FILLED', filledQuantity: 0.01 } });
    expect(result.error?.failure).toBe('rejected');
  });
});

describe('submitOrder: refused before anything is appended', () => {
  it('without an outside system, or with one that cannot trade, it is a ValidationError and the log is unchanged', async () => {
    const t = await openTracker({ store: 'memory:', now: () => new Date(now) });
    tracker = t;
    await expect(t.submitOrder(entry)).rejects.toThrow(ValidationError);
    await t.close();
    const positionsOnly: ExternalSystem = { listPositions: async () => [], closePosition: async () => undefined };
    const u = await open(positionsOnly);
    await expect(u.submitOrder(entry)).rejects.toThrow(/lacks submitOrder, getOrder, listOpenOrders, cancelOrder/);
    expect((await u.store.readStream('tradelog-main')).filter((e) => e.type === 'OrderRequested')).toEqual([]);
  });

  it('a bad request names the field and the value', async () => {
    const t = await open(exchange());
    await expect(t.submitOrder({ ...entry, quantity: -1 })).rejects.toThrow(/quantity/);
    await expect(t.submitOrder({ ...entry, bogus: 1 } as never)).rejects.toThrow(/bogus/);
  });
});
