import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/events/index.js';
import {
  guardExternal,
  reconcile,
  SimulatedExchange,
  type GuardedExternal,
  type ReconcilePolicyInput,
  type SimulatedExchangeOptions,
} from '../../src/reconcile/index.js';
import { MemoryEventStore } from '../../src/store/index.js';
import { openTracker, type Tracker } from '../../src/tracker/index.js';

/*
 * Reconciliation and startup recovery resolve in-flight orders before judging positions: the
 * fill of an order whose answer was lost is a late fill of that order, not an orphan adopted;
 * while an order is still in flight its position (and symbol) is neither orphan nor phantom;
 * a dry run resolves nothing; the loss keys of the reconcile policy are the ones applied.
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

function exchange(options: Partial<SimulatedExchangeOptions> = {}): SimulatedExchange {
  return new SimulatedExchange({
    seed: 9,
    clock: () => new Date(now),
    symbols: { BTC: 60_000, ETH: 3_000 },
    notFoundSeconds: 30,
    ...options,
  });
}
const guard = (x: SimulatedExchange): GuardedExternal => guardExternal(x, { sleep: async () => undefined });

async function open(external: GuardedExternal, store: MemoryEventStore, mode: 'sync' | 'restore' = 'restore'): Promise<Tracker> {
  const t = await openTracker({
    store,
    now: () => new Date(now),
    external,
    recovery: { mode, maxStateAgeSeconds: 3600 },
    reconcile: { orphans: 'adopt', graceSeconds: 0 },
    equity: 100_000,
  });
  trackers.push(t);
  return t;
}
const run = (t: Tracker, external: GuardedExternal, policy: ReconcilePolicyInput = {}, dryRun = false) =>
  reconcile({ handler: t.handler, external, now: () => new Date(now), policy: { orphans: 'adopt', graceSeconds: 0, ...policy }, dryRun });
const log = (store: MemoryEventStore): Promise<RecordedEvent[]> => store.readStream('tradelog-main');
const typesFrom = (events: RecordedEvent[], source: string): string[] =>
  events.filter((e) => (e.data as { source?: string }).source === source).map((e) => e.type);

const entry = { positionId: 'BTC-1', symbol: 'BTC', intent: 'entry' as const, quantity: 0.01, referencePrice: 60_000 };

describe('reconcile resolves in-flight orders before it judges positions', () => {
  it('a lost acknowledgement whose order filled: a late fill of that order, not an orphan adopted', async () => {
    const x = exchange();
    const g = guard(x);
    const store = new MemoryEventStore();
    const t = await open(g, store);
    x.forceOrderFault('lostAck');
    const sent = await t.submitOrder({ ...entry, signalId: 's1' });
    expect(sent.order.status).toBe('PENDING_SUBMIT');
    advance(5);
    const report = await run(t, g);
    expect(report.orphans).toEqual([]);
    expect(report.orders.orders).toMatchObject([{ clientOrderId: sent.order.clientOrderId, outcome: 'resolved' }]);
    expect(await t.get('BTC-1')).toMatchObject({ status: 'IN', quantity: 0.01 });
    const reconciled = typesFrom(await log(store), 'reconcile');
    expect(reconciled).not.toContain('OrphanAdopted');
    expect(reconciled).toEqual(expect.arrayContaining(['OrderAccepted', 'OrderFilled', 'PositionEntered', 'ReconciliationCompleted']));
    const completed = (await log(store)).filter((e) => e.type === 'ReconciliationCompleted').at(-1);
    expect((completed?.data as { report: Record<string, unknown> } | undefined)?.report.orders).toEqual({
      items: [{ id: sent.order.clientOrderId, outcome: 'resolved' }],
      total: 1,
    });
    expect(x.orderLog().orders).toHaveLength(1);
  });

  it('while the order is not found, its position and its symbol are not judged: no orphan; it resolves later', async () => {
    const x = exchange();
    const g = guard(x);
    const store = new MemoryEventStore();
    const t = await open(g, store);
    x.fill('ETH-9', { symbol: 'ETH', side: 'long', quantity: 1 }); // an orphan of another symbol: judged as usual
    x.forceOrderFault('lostAck');
    x.forceOrderFault('notFound');
    const sent = await t.submitOrder({ ...entry, signalId: 's1' });
    advance(5);
    const first = await run(t, g);
    expect(first.orders.orders).toMatchObject([{ outcome: 'not_found', looks: 1 }]);
    expect(first.heldByOrders).toEqual([{ positionId: 'BTC-1', clientOrderIds: [sent.order.clientOrderId] }]);
    expect(first.orphans.map((o) => o.positionId)).toEqual(['ETH-9']);
    advance(30);
    const second = await run(t, g);
    expect(second.orders.orders).toMatchObject([{ outcome: 'resolved' }]);
    expect(second.heldByOrders).toEqual([]);
    expect(second.orphans).toEqual([]);
    expect(await t.get('BTC-1')).toMatchObject({ status: 'IN', quantity: 0.01, origin: expect.not.stringMatching('adopted') });
    expect(typesFrom(await log(store), 'reconcile').filter((type) => type === 'OrphanAdopted')).toHaveLength(1); // ETH-9 only
  });

  it('an IN position with a reduce order in flight is not a phantom while the venue does not show the order', async () => {
    const x = exchange();
    const g = guard(x);
    const store = new MemoryEventStore();
    const t = await open(g, store);
    await t.submitOrder({ ...entry, signalId: 'in' });
    x.forceOrderFault('lostAck');
    x.forceOrderFault('notFound');
    const reduce = await t.submitOrder({ positionId: 'BTC-1', intent: 'reduce', quantity: 0.01, signalId: 'out' });
    expect(reduce.order.status).toBe('PENDING_SUBMIT');
    expect(x.snapshot().positions).toEqual([]); // closed at the venue
    advance(5);
    const held = await run(t, g);
    expect(held.phantoms).toEqual([]);
    expect(held.heldByOrders.map((h) => h.positionId)).toEqual(['BTC-1']);
    advance(30);
    const resolved = await run(t, g);
    expect(resolved.phantoms).toEqual([]);
    expect((await t.get('BTC-1'))?.status).toBe('EXITED');
    expect(typesFrom(await log(store), 'reconcile')).not.toContain('PhantomSuspected');
  });

  it('a dry run resolves nothing and appends nothing, and still holds the position of an in-flight order', async () => {
    const x = exchange();
    const g = guard(x);
    const store = new MemoryEventStore();
    const t = await open(g, store);
    x.forceOrderFault('lostAck');
    await t.submitOrder({ ...entry, signalId: 's1' });
    const before = (await log(store)).length;
    const report = await run(t, g, {}, true);
    expect(report.orders.orders).toEqual([]);
    expect(report.orphans).toEqual([]);
    expect(report.heldByOrders.map((h) => h.positionId)).toEqual(['BTC-1']);
    expect((await log(store)).length).toBe(before);
  });

  it("the reconcile policy's orderLostAfterSeconds and orderLostAfterLooks are the ones applied", async () => {
    const x = exchange();
    const g = guard(x);
    const store = new MemoryEventStore();
    const t = await open(g, store);
    x.setFaults({ error: 1 });
    const sent = await t.submitOrder({ ...entry, signalId: 's1' });
    x.setFaults({ error: 0 });
    advance(1);
    const defaults = await run(t, g);
    expect(defaults.orders.orders).toMatchObject([{ outcome: 'not_found', looks: 1 }]);
    const strict = await run(t, g, { orderLostAfterSeconds: 1, orderLostAfterLooks: 2 });
    expect(strict.orders.orders).toMatchObject([{ outcome: 'lost', looks: 2 }]);
    expect(await t.order(sent.order.clientOrderId)).toMatchObject({ status: 'REJECTED' });
  });
});

describe('startup recovery (sync) resolves in-flight orders before the tracker accepts commands', () => {
  it('a restart after a lost acknowledgement: the new process finds the order filled, records it, and sends nothing', async () => {
    const x = exchange();
    const g = guard(x);
    const store = new MemoryEventStore();
    const before = await open(g, store);
    x.forceOrderFault('lostAck');
    const sent = await before.submitOrder({ ...entry, signalId: 's1' });
    await before.close();
    trackers.splice(0);
    advance(10);
    const after = await open(g, store, 'sync');
    expect(after.recovery?.report?.orders.orders).toMatchObject([{ clientOrderId: sent.order.clientOrderId, outcome: 'resolved' }]);
    expect(after.recovery?.report?.orphans).toEqual([]);
    expect(await after.orders({ live: true })).toEqual([]);
    expect(await after.get('BTC-1')).toMatchObject({ status: 'IN', quantity: 0.01 });
    // The bot repeats its signal after the restart: the first order, nothing sent.
    expect(await after.submitOrder({ ...entry, signalId: 's1' })).toMatchObject({ outcome: 'duplicate', sent: false });
    expect(x.orderLog().orders).toHaveLength(1);
    expect(x.orderLog().rejections).toEqual([]);
    // Each start wrote its heartbeat and nothing else under 'recovery'; the order's events are reconciliation's.
    expect(typesFrom(await log(store), 'recovery')).toEqual(['Heartbeat', 'Heartbeat']);
  });
});
