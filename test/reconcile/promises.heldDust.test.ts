import { describe, expect, it } from 'vitest';
import { reconcile, SimulatedExchange } from '../../src/reconcile/index.js';
import { MemoryEventStore } from '../../src/store/index.js';
import { openTracker } from '../../src/tracker/index.js';
import { auditProjection, foldProjection, ProjectionOptions } from '../../src/projections/index.js';
import { allEvents, LOOSE_BOOK, START } from '../helpers/reconcileWorld.js';

/*
 * Issue 15: dust is dust whether or not an order in flight holds its symbol. The run's report
 * lists it (the leak audit reads the list), so dust that grows while its symbol is held is still
 * found as dust growth, dated from the last look that saw it as dust.
 */

describe('#15 dust of a symbol held by an order in flight', () => {
  it('#15 is listed as dust in the report, and its growth is audited as dust growth from that look', async () => {
    const clock = { now: START };
    const now = (): Date => new Date(clock.now);
    const store = new MemoryEventStore({ now });
    const tracker = await openTracker({ ...LOOSE_BOOK, store, now });
    const exchange = new SimulatedExchange({ seed: 3, clock: now, symbols: { SOL: 150 } });
    const run = () => reconcile({ handler: tracker.handler, external: exchange, now, guard: { retries: 0 }, policy: { orphans: 'adopt' } });
    // An entry order for SOL the venue never got: in flight for a few looks, holding every SOL position.
    await tracker.track('BOT-1', { symbol: 'SOL', side: 'long' });
    await tracker.execute({
      type: 'RequestOrder',
      signalId: 'sig-1',
      positionId: 'BOT-1',
      intent: 'entry',
      quantity: 1,
      referencePrice: 150,
    });
    const dust = exchange.dustReward();
    clock.now += 5 * 60_000;
    const first = await run();
    expect(first.heldByOrders.map((h) => h.positionId)).toContain(dust);
    expect(first.dust.map((d) => d.positionId)).toEqual([dust]);
    clock.now += 60_000;
    expect(exchange.growDust(dust, 60)).toBe(true);
    // Looks every 5 minutes until the order is resolved (lost) and the grown dust is judged: bounded.
    const audit = auditProjection(ProjectionOptions.parse({}));
    const episodeOf = async () =>
      audit.toJson(foldProjection(audit, await allEvents(store))).books.main?.orphans.find((o) => o.positionId === dust);
    let looks = 0;
    while ((await episodeOf()) === undefined && looks < 10) {
      clock.now += 5 * 60_000;
      await run();
      looks += 1;
    }
    const episode = await episodeOf();
    expect(looks).toBeGreaterThan(1); // it was held at least one look after it grew
    expect(episode?.cause).toBe('dust growth');
    expect(episode?.start).toEqual({
      evidence: 'looks',
      at: new Date(START + 5 * 60_000).toISOString(),
      earliest: new Date(START + 5 * 60_000).toISOString(),
      latest: episode?.detectedAt,
    });
    await tracker.close();
  });
});
