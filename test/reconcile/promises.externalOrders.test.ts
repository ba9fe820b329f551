import { afterEach, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/events/index.js';
import { guardExternal, reconcile, SimulatedExchange, type GuardedExternal, type ReconcilePolicyInput } from '../../src/reconcile/index.js';
import { MemoryEventStore } from '../../src/store/index.js';
import { openTracker, type Tracker } from '../../src/tracker/index.js';

/*
 * reconcile.externalOrders: an open order at the venue that the book never issued (placed by hand
 * on the simulated exchange) is recorded once (ExternalOrderDetected) and, by the policy, left to
 * a person with an alert (`manual`, the default) or canceled at the venue (`cancel`, recorded as
 * ExternalOrderCanceled; a cancel that fails leaves it detected). A dry run only reports; a list
 * that fails is an error and changes nothing; the book's own open orders are not strangers.
 */

const NOW = new Date('2026-12-02T00:00:00.000Z');
const trackers: Tracker[] = [];
afterEach(async () => {
  for (const t of trackers.splice(0)) await t.close();
});

function exchange(): SimulatedExchange {
  return new SimulatedExchange({ seed: 3, clock: () => NOW, symbols: { BTC: 60_000 } });
}
const guard = (x: SimulatedExchange): GuardedExternal => guardExternal(x, { sleep: async () => undefined });

async function setup(): Promise<{ t: Tracker; store: MemoryEventStore; x: SimulatedExchange; g: GuardedExternal }> {
  const store = new MemoryEventStore();
  const x = exchange();
  const g = guard(x);
  const t = await openTracker({ store, now: () => NOW, external: g, equity: 100_000 });
  trackers.push(t);
  return { t, store, x, g };
}
const run = (t: Tracker, g: GuardedExternal, policy: ReconcilePolicyInput = {}, dryRun = false) =>
  reconcile({ handler: t.handler, external: g, now: () => NOW, policy: { graceSeconds: 0, ...policy }, dryRun });
const types = async (store: MemoryEventStore): Promise<string[]> =>
  (await store.readStream('tradelog-main')).map((e: RecordedEvent) => e.type).filter((ty) => ty.startsWith('ExternalOrder'));

describe('the simulated exchange takes an order by hand', () => {
  it('rests a limit order the market does not cross, listed without a client order id', async () => {
    const x = exchange();
    const o = x.placeByHand({ symbol: 'BTC', side: 'buy', quantity: 0.5, limitPrice: 1000 });
    expect(o.status).toBe('open');
    const listed = (await x.listOpenOrders()) as Record<string, unknown>[];
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ externalOrderId: o.externalOrderId, symbol: 'BTC', side: 'buy', quantity: 0.5, status: 'open' });
    expect(listed[0]).not.toHaveProperty('clientOrderId');
  });

  it('keeps the client order id the person gave, and refuses an unknown symbol', () => {
    const x = exchange();
    expect(x.placeByHand({ symbol: 'BTC', side: 'sell', quantity: 1, limitPrice: 90_000, clientOrderId: 'desk-7' }).clientOrderId).toBe(
      'desk-7',
    );
    expect(() => x.placeByHand({ symbol: 'DOGE', side: 'buy', quantity: 1, limitPrice: 1 })).toThrow(/unknown symbol DOGE/);
  });
});

describe('reconcile.externalOrders', () => {
  it('manual (the default): records it once, alerts, leaves it open at the venue', async () => {
    const { t, store, x, g } = await setup();
    const o = x.placeByHand({ symbol: 'BTC', side: 'buy', quantity: 0.5, limitPrice: 1000 });
    const report = await run(t, g);
    expect(report.externalOrders).toEqual([
      expect.objectContaining({
        externalOrderId: o.externalOrderId,
        symbol: 'BTC',
        side: 'buy',
        quantity: 0.5,
        policy: 'manual',
        outcome: 'detected',
      }),
    ]);
    expect(report.alerts.some((a) => a.kind === 'externalOrder' && a.message.includes(o.externalOrderId))).toBe(true);
    expect((await x.listOpenOrders()) as unknown[]).toHaveLength(1);
    await run(t, g);
    expect(await types(store)).toEqual(['ExternalOrderDetected']);
    const completed = (await store.readStream('tradelog-main')).filter((e) => e.type === 'ReconciliationCompleted').at(-1);
    expect((completed?.data as unknown as { report: { externalOrders: unknown } }).report.externalOrders).toEqual({
      items: [{ id: o.externalOrderId, outcome: 'detected' }],
      total: 1,
    });
  });

  it('cancel: cancels it at the venue (by venue id when it has no client order id) and records the cancel', async () => {
    const { t, store, x, g } = await setup();
    const o = x.placeByHand({ symbol: 'BTC', side: 'buy', quantity: 0.5, limitPrice: 1000 });
    const report = await run(t, g, { externalOrders: 'cancel' });
    expect(report.externalOrders.map((f) => [f.externalOrderId, f.outcome])).toEqual([[o.externalOrderId, 'canceled']]);
    expect((await x.listOpenOrders()) as unknown[]).toHaveLength(0);
    expect(x.orderLog().orders.find((v) => v.externalOrderId === o.externalOrderId)?.status).toBe('canceled');
    expect(await types(store)).toEqual(['ExternalOrderDetected', 'ExternalOrderCanceled']);
    expect((await t.handler.load()).externalOrders.size).toBe(0);
  });

  it('cancel: a cancel that fails is an error and leaves it detected', async () => {
    const { t, store, x } = await setup();
    x.placeByHand({ symbol: 'BTC', side: 'buy', quantity: 0.5, limitPrice: 1000, clientOrderId: 'desk-1' });
    const refusing = guardExternal(
      Object.assign(Object.create(x) as SimulatedExchange, {
        cancelOrder: () => Promise.reject(Object.assign(new Error('venue says no'), { status: 400 })),
      }),
      { sleep: async () => undefined },
    );
    const report = await run(t, refusing, { externalOrders: 'cancel' });
    expect(report.externalOrders.map((f) => f.outcome)).toEqual(['detected']);
    expect(report.errors.some((e) => e.stage === 'cancelOrder')).toBe(true);
    expect(await types(store)).toEqual(['ExternalOrderDetected']);
    expect((await x.listOpenOrders()) as unknown[]).toHaveLength(1);
  });

  it('a dry run only reports it', async () => {
    const { t, store, x, g } = await setup();
    x.placeByHand({ symbol: 'BTC', side: 'buy', quantity: 0.5, limitPrice: 1000 });
    const report = await run(t, g, { externalOrders: 'cancel' }, true);
    expect(report.externalOrders.map((f) => f.outcome)).toEqual(['planned']);
    expect(await types(store)).toEqual([]);
    expect((await x.listOpenOrders()) as unknown[]).toHaveLength(1);
  });

  it('a list of open orders that fails is an error and changes nothing', async () => {
    const { t, store, x } = await setup();
    x.placeByHand({ symbol: 'BTC', side: 'buy', quantity: 0.5, limitPrice: 1000 });
    const failing = guardExternal(
      Object.assign(Object.create(x) as SimulatedExchange, { listOpenOrders: () => Promise.resolve({ orders: 'soon' }) }),
      { sleep: async () => undefined },
    );
    const report = await run(t, failing, { externalOrders: 'cancel' });
    expect(report.errors.some((e) => e.stage === 'listOpenOrders')).toBe(true);
    expect(report.externalOrders).toEqual([]);
    expect(await types(store)).toEqual([]);
    expect((await x.listOpenOrders()) as unknown[]).toHaveLength(1);
  });

  it("the book's own open order is not a stranger", async () => {
    const { t, store, x, g } = await setup();
    await t.submitOrder({
      commandId: 'c1',
      positionId: 'BTC-1',
      symbol: 'BTC',
      side: 'long',
      intent: 'entry',
      quantity: 0.1,
      orderType: 'limit',
      limitPrice: 1000,
      referencePrice: 1000,
      stop: 900,
    } as never);
    expect((await x.listOpenOrders()) as unknown[]).toHaveLength(1); // it rests at the venue, ours
    const report = await run(t, g, { externalOrders: 'cancel' });
    expect(report.externalOrders).toEqual([]);
    expect(await types(store)).toEqual([]);
    expect((await x.listOpenOrders()) as unknown[]).toHaveLength(1);
  });
});
