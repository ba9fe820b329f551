import { afterEach, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/events/index.js';
import {
  guardExternal,
  reconcile,
  SimulatedExchange,
  type ExternalSystem,
  type GuardedExternal,
  type ReconcilePolicyInput,
} from '../../src/reconcile/index.js';
import { MemoryEventStore } from '../../src/store/index.js';
import { openTracker, type Tracker } from '../../src/tracker/index.js';

/*
 * reconcile.externalOrders = adopt: an open order at the venue that the book never issued (placed
 * by hand on the simulated exchange) becomes the book's order, OPEN with the venue's ids, for a
 * position of its own; its fills so far move that position; a later fill is found by the in-flight
 * resolution (looked up by venue id) and the book then equals the venue; a second run adopts
 * nothing twice; a dry run changes nothing; perSymbol overrides the policy for one symbol.
 */

const NOW = new Date('2026-12-02T00:00:00.000Z');
const trackers: Tracker[] = [];
afterEach(async () => {
  for (const t of trackers.splice(0)) await t.close();
});

const NO_SLEEP = { sleep: async () => undefined };
const guard = (x: ExternalSystem): GuardedExternal => guardExternal(x, NO_SLEEP);

async function setup(
  external?: ExternalSystem,
): Promise<{ t: Tracker; store: MemoryEventStore; x: SimulatedExchange; g: GuardedExternal }> {
  const store = new MemoryEventStore();
  const x = new SimulatedExchange({ seed: 3, clock: () => NOW, symbols: { BTC: 60_000, ETH: 3_000 } });
  const g = guard(external ?? x);
  // Opened without the venue: no startup recovery (its sync would run a reconciliation with the default policies first).
  const t = await openTracker({ store, now: () => NOW, equity: 100_000 });
  trackers.push(t);
  return { t, store, x, g };
}
const run = (t: Tracker, g: GuardedExternal, policy: ReconcilePolicyInput = {}, dryRun = false) =>
  reconcile({ handler: t.handler, external: g, now: () => NOW, policy: { graceSeconds: 0, externalOrders: 'adopt', ...policy }, dryRun });
const log = async (store: MemoryEventStore): Promise<RecordedEvent[]> => store.readStream('tradelog-main');
const typesOf = async (store: MemoryEventStore, kinds: RegExp): Promise<string[]> =>
  (await log(store)).map((e) => e.type).filter((ty) => kinds.test(ty));

describe('reconcile.externalOrders: adopt', () => {
  it('adopts a resting order placed by hand: OPEN in the book with the venue ids, for the position the venue names', async () => {
    const { t, store, x, g } = await setup();
    const hand = x.placeByHand({ symbol: 'BTC', side: 'buy', quantity: 0.5, limitPrice: 50_000 });
    const report = await run(t, g);
    expect(report.externalOrders).toEqual([
      expect.objectContaining({
        externalOrderId: hand.externalOrderId,
        policy: 'adopt',
        outcome: 'adopted',
        adoptedAs: { clientOrderId: `ext-${hand.externalOrderId}`, positionId: hand.positionId },
        records: [],
      }),
    ]);
    expect(report.alerts.filter((a) => a.kind === 'externalOrder')).toEqual([]);
    const state = await t.handler.load();
    expect(state.orders.get(`ext-${hand.externalOrderId}`)).toMatchObject({
      origin: 'adopted',
      status: 'OPEN',
      externalOrderId: hand.externalOrderId,
      positionId: hand.positionId,
      symbol: 'BTC',
      side: 'buy',
      intent: 'entry',
      orderType: 'limit',
      limitPrice: 50_000,
      quantity: 0.5,
      filledQuantity: 0,
    });
    expect(state.positions.get(hand.positionId)).toMatchObject({ status: 'WATCHING', symbol: 'BTC', side: 'long' });
    expect(await typesOf(store, /^(ExternalOrder|PositionTracked)/)).toEqual([
      'ExternalOrderDetected',
      'PositionTracked',
      'ExternalOrderAdopted',
    ]);
    // Left open at the venue: adopting changes nothing there.
    expect((await x.listOpenOrders()) as unknown[]).toHaveLength(1);
    const completed = (await log(store)).filter((e) => e.type === 'ReconciliationCompleted').at(-1);
    expect((completed?.data as unknown as { report: { externalOrders: unknown } }).report.externalOrders).toEqual({
      items: [{ id: hand.externalOrderId, outcome: 'adopted' }],
      total: 1,
    });
  });

  it('a later fill is resolved as any order of the book: looked up by venue id, the position enters, the book equals the venue', async () => {
    const { t, store, x, g } = await setup();
    const hand = x.placeByHand({ symbol: 'BTC', side: 'buy', quantity: 0.5, limitPrice: 50_000 });
    await run(t, g);
    x.setPrice('BTC', 50_000);
    expect(x.orderLog().orders.find((o) => o.externalOrderId === hand.externalOrderId)?.status).toBe('filled');

    const second = await run(t, g);
    const id = `ext-${hand.externalOrderId}`;
    expect(second.orders.orders).toEqual([
      expect.objectContaining({ clientOrderId: id, positionId: hand.positionId, outcome: 'resolved' }),
    ]);
    const state = await t.handler.load();
    const order = state.orders.get(id);
    expect(order).toMatchObject({ status: 'FILLED', filledQuantity: 0.5 });
    const venueFills = x.orderLog().fills.filter((f) => f.externalOrderId === hand.externalOrderId);
    expect([...(order?.tradeIds ?? [])].sort()).toEqual(venueFills.map((f) => f.tradeId).sort());
    const p = state.positions.get(hand.positionId);
    expect(p).toMatchObject({ status: 'IN', symbol: 'BTC', side: 'long' });
    expect(p?.status === 'IN' ? p.quantity : undefined).toBeCloseTo(0.5, 12);

    // A third run: the position is matched (no orphan, no phantom), and nothing is adopted twice.
    const third = await run(t, g, { orphans: 'adopt' });
    expect(third.orphans).toEqual([]);
    expect(third.phantoms).toEqual([]);
    expect(third.externalOrders).toEqual([]);
    expect(third.errors).toEqual([]);
    expect(await typesOf(store, /^ExternalOrder/)).toEqual(['ExternalOrderDetected', 'ExternalOrderAdopted']);
    expect(await typesOf(store, /^Orphan/)).toEqual([]);
  });

  it('a second run while it rests adopts nothing twice and records nothing new about it', async () => {
    const { t, store, x, g } = await setup();
    x.placeByHand({ symbol: 'BTC', side: 'buy', quantity: 0.5, limitPrice: 50_000, clientOrderId: 'desk-7' });
    await run(t, g);
    const before = (await log(store)).filter((e) => e.type !== 'ReconciliationCompleted').length;
    const again = await run(t, g);
    expect(again.externalOrders).toEqual([]);
    expect(again.orders.orders.map((o) => [o.clientOrderId, o.outcome])).toEqual([['desk-7', 'open']]);
    expect((await log(store)).filter((e) => e.type !== 'ReconciliationCompleted').length).toBe(before);
    expect((await t.handler.load()).orders.get('desk-7')).toMatchObject({ origin: 'adopted', venueClientOrderId: 'desk-7' });
  });

  it('a dry run reports it as planned and changes nothing', async () => {
    const { t, store, x, g } = await setup();
    x.placeByHand({ symbol: 'BTC', side: 'buy', quantity: 0.5, limitPrice: 50_000 });
    const report = await run(t, g, {}, true);
    expect(report.externalOrders.map((f) => [f.policy, f.outcome])).toEqual([['adopt', 'planned']]);
    expect(await log(store)).toEqual([]);
    expect((await x.listOpenOrders()) as unknown[]).toHaveLength(1);
    expect((await t.handler.load()).orders.size).toBe(0);
  });

  it('perSymbol overrides the policy for one symbol', async () => {
    const { t, x, g } = await setup();
    const btc = x.placeByHand({ symbol: 'BTC', side: 'buy', quantity: 0.5, limitPrice: 50_000 });
    const eth = x.placeByHand({ symbol: 'ETH', side: 'buy', quantity: 1, limitPrice: 2_000 });
    const report = await run(t, g, { externalOrders: 'manual', perSymbol: { BTC: { externalOrders: 'adopt' } } });
    expect(report.externalOrders.map((f) => [f.externalOrderId, f.policy, f.outcome])).toEqual([
      [btc.externalOrderId, 'adopt', 'adopted'],
      [eth.externalOrderId, 'manual', 'detected'],
    ]);
    expect([...(await t.handler.load()).externalOrders.keys()]).toEqual([eth.externalOrderId]);
  });

  it('an adoption the book refuses (a reduce-only order with no position to close) leaves it detected, with an alert', async () => {
    const { t, store, x } = await setup();
    const hand = x.placeByHand({ symbol: 'BTC', side: 'sell', quantity: 0.5, limitPrice: 90_000 });
    const reduceOnly = guard(
      Object.assign(Object.create(x) as SimulatedExchange, {
        listOpenOrders: async () => ((await x.listOpenOrders()) as Record<string, unknown>[]).map((o) => ({ ...o, reduceOnly: true })),
      }),
    );
    const report = await run(t, reduceOnly);
    expect(report.externalOrders.map((f) => f.outcome)).toEqual(['detected']);
    expect(report.alerts).toEqual([
      expect.objectContaining({ kind: 'externalOrder', message: expect.stringMatching(/not adopted .*the book has none/) as unknown }),
    ]);
    expect(await typesOf(store, /^(ExternalOrder|Position)/)).toEqual(['ExternalOrderDetected']);
    expect([...(await t.handler.load()).externalOrders.keys()]).toEqual([hand.externalOrderId]);
  });
});

describe('an order that filled in part before it was adopted', () => {
  /** A venue with one open, partly filled order placed by hand; `trades` says whether it lists its fills. */
  function venue(trades: boolean): ExternalSystem {
    const order = {
      externalOrderId: 'V-1',
      symbol: 'ETH',
      side: 'buy',
      type: 'limit',
      limitPrice: 3_000,
      quantity: 2,
      filledQuantity: 0.5,
      averagePrice: 2_990,
      status: 'partially_filled',
    };
    const fills = [
      { tradeId: 'T-1', externalOrderId: 'V-1', quantity: 0.2, price: 2_980, fee: 0.5 },
      { tradeId: 'T-2', externalOrderId: 'V-1', quantity: 0.3, price: 2_996.67, fee: 0.7 },
    ];
    return {
      listPositions: async () => [{ id: 'ext-V-1', symbol: 'ETH', quantity: 0.5, value: 1_500 }],
      closePosition: async () => undefined,
      submitOrder: async () => {
        throw new Error('not used');
      },
      getOrder: async (ref) => ('externalOrderId' in ref && ref.externalOrderId === 'V-1' ? order : null),
      listOpenOrders: async () => [order],
      cancelOrder: async () => undefined,
      ...(trades ? { listFills: async () => fills } : {}),
    };
  }

  it("records the venue's trades as its fills, and the position enters by them", async () => {
    const { t } = await setup(venue(true));
    const g = guard(venue(true));
    const report = await run(t, g);
    expect(report.externalOrders[0]?.records?.map((r) => (r.kind === 'fill' ? r.tradeId : r.kind))).toEqual(['T-1', 'T-2']);
    const state = await t.handler.load();
    expect(state.orders.get('ext-V-1')).toMatchObject({ status: 'PARTIALLY_FILLED', filledQuantity: 0.5, tradeIds: ['T-1', 'T-2'] });
    const p = state.positions.get('ext-V-1');
    expect(p?.status).toBe('IN');
    expect(p?.status === 'IN' ? [p.quantity, p.costBasis] : []).toEqual([0.5, 0.2 * 2_980 + 0.3 * 2_996.67]);
    // Held while it can still fill: the position the venue shows is not judged an orphan.
    expect(report.orphans).toEqual([]);
    expect(report.heldByOrders.map((h) => h.positionId)).toContain('ext-V-1');
    // The next run's resolution finds the same trades: nothing is counted twice.
    await run(t, g);
    expect((await t.handler.load()).orders.get('ext-V-1')?.filledQuantity).toBe(0.5);
  });

  it('infers one fill from its filled quantity when the venue lists no trades', async () => {
    const { t } = await setup(venue(false));
    const g = guard(venue(false));
    await run(t, g);
    await run(t, g);
    const state = await t.handler.load();
    expect(state.orders.get('ext-V-1')).toMatchObject({ filledQuantity: 0.5, tradeIds: ['inferred:ext-V-1:0.5'], averagePrice: 2_990 });
    const p = state.positions.get('ext-V-1');
    expect(p?.status === 'IN' ? p.quantity : undefined).toBe(0.5);
  });
});
