import { afterEach, describe, expect, it } from 'vitest';
import { bookOrderOf } from '../../src/commands/index.js';
import type { RecordedEvent } from '../../src/events/index.js';
import {
  guardExternal,
  isBookOrder,
  reconcile,
  SimulatedExchange,
  type ExternalSystem,
  type GuardedExternal,
} from '../../src/reconcile/index.js';
import { MemoryEventStore } from '../../src/store/index.js';
import { openTracker, type Tracker } from '../../src/tracker/index.js';

/*
 * Orders are matched with the book's by client order id first, venue order id second (issue 12):
 * an outside order the book issued is the book's order even when the venue lists it without its
 * client order id (some venues drop it from their lists) as long as its venue order id is known
 * here; an order that matches neither is an external order.
 */

const NOW = new Date('2026-12-02T00:00:00.000Z');
const trackers: Tracker[] = [];
afterEach(async () => {
  for (const t of trackers.splice(0)) await t.close();
});

/** The exchange behind a gateway whose open-order list leaves the client order ids out. */
function withoutClientIds(x: SimulatedExchange): ExternalSystem {
  return {
    listPositions: (o) => x.listPositions(o),
    closePosition: (id, o) => x.closePosition(id, o),
    submitOrder: (r, o) => x.submitOrder(r, o),
    getOrder: (r, o) => x.getOrder(r, o),
    cancelOrder: (r, o) => x.cancelOrder(r, o),
    listOpenOrders: async (o) =>
      ((await x.listOpenOrders(o)) as Record<string, unknown>[]).map(({ clientOrderId: _dropped, ...rest }) => rest),
  };
}

async function setup(): Promise<{ t: Tracker; store: MemoryEventStore; x: SimulatedExchange; g: GuardedExternal }> {
  const store = new MemoryEventStore();
  const x = new SimulatedExchange({ seed: 3, clock: () => NOW, symbols: { BTC: 60_000 } });
  const g = guardExternal(withoutClientIds(x), { sleep: async () => undefined });
  const t = await openTracker({ store, now: () => NOW, external: g, equity: 100_000 });
  trackers.push(t);
  return { t, store, x, g };
}

/** A resting limit entry of the book's: accepted by the venue, so the book knows its venue order id. */
async function restingOrder(t: Tracker): Promise<{ clientOrderId: string; externalOrderId: string }> {
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
  const [order] = [...(await t.state()).orders.values()];
  if (order?.externalOrderId === undefined) throw new Error('the order was not accepted');
  return { clientOrderId: order.clientOrderId, externalOrderId: order.externalOrderId };
}

const externalEvents = async (store: MemoryEventStore): Promise<string[]> =>
  (await store.readStream('tradelog-main')).map((e: RecordedEvent) => e.type).filter((ty) => ty.startsWith('ExternalOrder'));

describe('matching outside orders with the book', () => {
  it('by client order id first: the order with that client id, whatever venue id is given', async () => {
    const { t } = await setup();
    const ours = await restingOrder(t);
    const state = await t.state();
    expect(bookOrderOf(state, { clientOrderId: ours.clientOrderId, externalOrderId: 'another-venue-id' })?.clientOrderId).toBe(
      ours.clientOrderId,
    );
    expect(isBookOrder(state, { clientOrderId: ours.clientOrderId, externalOrderId: 'another-venue-id' })).toBe(true);
  });

  it('by venue order id when the client order id is missing (or not one of ours)', async () => {
    const { t } = await setup();
    const ours = await restingOrder(t);
    const state = await t.state();
    expect(bookOrderOf(state, { externalOrderId: ours.externalOrderId })?.clientOrderId).toBe(ours.clientOrderId);
    expect(bookOrderOf(state, { clientOrderId: 'desk-7', externalOrderId: ours.externalOrderId })?.clientOrderId).toBe(ours.clientOrderId);
  });

  it('neither: not the book order', async () => {
    const { t } = await setup();
    await restingOrder(t);
    const state = await t.state();
    expect(bookOrderOf(state, { externalOrderId: 'unknown-venue-id' })).toBeUndefined();
    expect(isBookOrder(state, { clientOrderId: 'desk-7', externalOrderId: 'unknown-venue-id' })).toBe(false);
  });

  it('reconcile: the book order listed without its client order id is matched by venue id, not taken for an external order', async () => {
    const { t, store, x, g } = await setup();
    const ours = await restingOrder(t);
    const listed = await g.listOpenOrders();
    expect(listed.map((o) => [o.externalOrderId, o.clientOrderId])).toStrictEqual([[ours.externalOrderId, undefined]]);
    const report = await reconcile({
      handler: t.handler,
      external: g,
      now: () => NOW,
      policy: { graceSeconds: 0, externalOrders: 'cancel' },
    });
    expect(report.externalOrders).toStrictEqual([]);
    expect(await externalEvents(store)).toStrictEqual([]);
    expect(x.orderLog().orders.map((o) => o.status)).toStrictEqual(['open']);
  });

  it('reconcile: an order placed by hand beside it matches nothing and is an external order', async () => {
    const { t, store, x, g } = await setup();
    const ours = await restingOrder(t);
    const hand = x.placeByHand({ symbol: 'BTC', side: 'buy', quantity: 0.5, limitPrice: 1000 });
    const report = await reconcile({ handler: t.handler, external: g, now: () => NOW, policy: { graceSeconds: 0 } });
    expect(report.externalOrders.map((o) => o.externalOrderId)).toStrictEqual([hand.externalOrderId]);
    expect(report.externalOrders.map((o) => o.externalOrderId)).not.toContain(ours.externalOrderId);
    expect(await externalEvents(store)).toStrictEqual(['ExternalOrderDetected']);
  });
});
