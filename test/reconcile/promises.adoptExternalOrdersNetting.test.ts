import { afterEach, describe, expect, it } from 'vitest';
import { guardExternal, reconcile, SimulatedExchange, type ReconcilePolicyInput } from '../../src/reconcile/index.js';
import { MemoryEventStore } from '../../src/store/index.js';
import { openTracker, type Tracker } from '../../src/tracker/index.js';

/*
 * An order placed by hand on a netting account (the venue keys positions by symbol) is adopted,
 * fills, and the position it opened is then one of the book's positions on that symbol: the next
 * reconciliation matches the venue's one BTC position against the book's positions on BTC summed
 * (the bot's own and the adopted one), with no orphan, no phantom and nothing adopted twice.
 */

const NOW = new Date('2026-12-02T00:00:00.000Z');
const trackers: Tracker[] = [];
afterEach(async () => {
  for (const t of trackers.splice(0)) await t.close();
});

describe('adopting an outside order on a netting account, then reconciling', () => {
  it('the adopted position is matched by symbol beside the bot’s own: no orphan, no phantom, the summed quantity equals the venue’s', async () => {
    const store = new MemoryEventStore();
    const x = new SimulatedExchange({ seed: 5, clock: () => NOW, symbols: { BTC: 50_000 }, positionMode: 'netting' });
    const g = guardExternal(x, { sleep: async () => undefined });
    const t = await openTracker({ store, now: () => NOW, equity: 100_000 });
    trackers.push(t);
    const run = (policy: ReconcilePolicyInput = {}) =>
      reconcile({
        handler: t.handler,
        external: g,
        now: () => NOW,
        policy: { graceSeconds: 0, externalOrders: 'adopt', orphans: 'adopt', positionMode: 'netting', ...policy },
      });

    // The bot's own position on BTC, known to both sides.
    x.fill('BOT-1', { symbol: 'BTC', side: 'long', quantity: 0.2 });
    await t.track('BOT-1', { symbol: 'BTC' });
    await t.enter('BOT-1', { value: 10_000, quantity: 0.2, price: 50_000 });
    const clean = await run();
    expect([clean.orphans, clean.phantoms, clean.errors]).toEqual([[], [], []]);

    // An order placed by hand rests, is adopted, then fills: the venue nets it into its one BTC position.
    const hand = x.placeByHand({ symbol: 'BTC', side: 'buy', quantity: 0.5, limitPrice: 49_000 });
    const adopted = await run();
    expect(adopted.externalOrders.map((f) => f.outcome)).toEqual(['adopted']);
    x.setPrice('BTC', 49_000);
    expect(x.venuePositions()).toEqual([expect.objectContaining({ id: 'BTC', symbol: 'BTC', side: 'long', quantity: 0.7 })]);

    const resolved = await run();
    expect(resolved.orders.orders.map((o) => [o.positionId, o.outcome])).toEqual([[hand.positionId, 'resolved']]);
    expect(resolved.orphans).toEqual([]);
    expect(resolved.phantoms).toEqual([]);

    // From then on the two book positions on BTC are the venue's one position.
    const after = await run();
    expect(after.orphans).toEqual([]);
    expect(after.phantoms).toEqual([]);
    expect(after.externalOrders).toEqual([]);
    expect(after.errors).toEqual([]);
    const state = await t.handler.load();
    const onBtc = [...state.positions.values()].filter((p) => p.symbol === 'BTC' && p.status === 'IN');
    expect(onBtc.map((p) => p.id).sort()).toEqual(['BOT-1', hand.positionId].sort());
    const summed = onBtc.reduce((sum, p) => sum + (p.status === 'IN' ? (p.quantity ?? 0) : 0), 0);
    expect(summed).toBeCloseTo(0.7, 12);
    const types = (await store.readStream('tradelog-main')).map((e) => e.type);
    expect(types.filter((ty) => /^(Orphan|Phantom)/.test(ty))).toEqual([]);
    expect(types.filter((ty) => /^ExternalOrder/.test(ty))).toEqual(['ExternalOrderDetected', 'ExternalOrderAdopted']);
  });
});
