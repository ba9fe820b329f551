import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evolve, initialBookState, type BookState } from '../../src/commands/index.js';
import { bookOfStream } from '../../src/events/index.js';
import { TrackerConfig } from '../../src/config/index.js';
import { canonicalJson, createProjections, foldProjection, ordersProjection, type OrdersData } from '../../src/projections/index.js';
import { projectionOptionsOf } from '../../src/projections/options.js';
import { intFromEnv, policy, SEED, simulate, stepsWithOrders, storeWith } from './fixtures.js';

/*
 * The incremental = rebuild property of the read models, on logs with orders (requests,
 * acknowledgements, partial and repeated fills, cancels, rejections, expiries, losses) and external
 * orders (detected, canceled, adopted, then filled and finished like the others) made by the real
 * decider: folding in chunks through the files' text equals one fold, for every read model; and
 * orders.json's live orders are exactly the book's, and so are its open external orders.
 *
 * Reproduce: PTRACK_FC_SEED=<seed> [PTRACK_FC_RUNS=<n>] npx vitest run test/projections/promises.ordersIncremental.property.test.ts
 */

const runs = intFromEnv('PTRACK_FC_RUNS', 150);
const options = projectionOptionsOf(TrackerConfig.parse({ ...policy, timeZone: 'Europe/Berlin', equity: 5000, weekStartsOn: 0 }));

function cuts(length: number, fractions: readonly number[]): number[] {
  return [...new Set(fractions.map((f) => Math.floor(f * length)).filter((c) => c > 0 && c < length))].sort((a, b) => a - b);
}

describe('read models on logs with orders', () => {
  it(`folding in chunks through toJson/fromJson equals one fold, orders.json included (seed ${SEED})`, async () => {
    console.log(`[projections/orders] fast-check seed=${SEED} runs=${runs}; reproduce with PTRACK_FC_SEED=${SEED} PTRACK_FC_RUNS=${runs}`);
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(stepsWithOrders, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }), async (run, fractions) => {
        const { recorded } = await storeWith(simulate(run));
        for (const e of recorded) seen.set(e.type, (seen.get(e.type) ?? 0) + 1);
        const adopted = new Set(recorded.flatMap((e) => (e.type === 'ExternalOrderAdopted' ? [e.data.clientOrderId] : [])));
        for (const e of recorded)
          if (e.type === 'OrderFilled' && adopted.has(e.data.clientOrderId))
            seen.set('fill of an adopted order', (seen.get('fill of an adopted order') ?? 0) + 1);
        for (const projection of createProjections(options)) {
          const whole = canonicalJson(projection.toJson(foldProjection(projection, recorded)));
          let state = projection.initialState();
          let from = 0;
          for (const cut of [...cuts(recorded.length, fractions), recorded.length]) {
            for (const e of recorded.slice(from, cut)) state = projection.evolve(state, e);
            from = cut;
            state = projection.fromJson(JSON.parse(canonicalJson(projection.toJson(state))));
          }
          expect(canonicalJson(projection.toJson(state)), projection.name).toBe(whole);
        }
        // orders.json's in-flight and open orders are the book's live orders, in the same states.
        const orders = ordersProjection(options);
        const data = orders.toJson(foldProjection(orders, recorded)) as OrdersData;
        const books = new Map<string, BookState>();
        for (const e of recorded) {
          const book = bookOfStream(e.stream);
          if (book === null) continue;
          books.set(book, evolve(books.get(book) ?? initialBookState({ idempotencyWindow: 0, timeZone: options.timeZone }), e));
        }
        for (const [book, state] of books) {
          const live = [...state.liveOrders.keys()].map((id) => `${id}:${state.orders.get(id)?.status}`).sort();
          const b = data.books[book];
          const listed = [...(b?.inFlight ?? []), ...(b?.open ?? [])].map((o) => `${o.clientOrderId}:${o.status}`).sort();
          expect(listed, book).toEqual(live);
          const external = [...state.externalOrders.keys()].sort();
          expect((b?.externalOrders.open ?? []).map((o) => o.externalOrderId).sort(), book).toEqual(external);
        }
      }),
      { seed: SEED, numRuns: runs },
    );
    // The logs did hold orders in every state this file shows (else the property says little).
    for (const type of [
      'OrderRequested',
      'OrderAccepted',
      'OrderFilled',
      'OrderCancelRequested',
      'OrderCanceled',
      'OrderRejected',
      'OrderExpired',
      'OrderLost',
      'ExternalOrderDetected',
      'ExternalOrderCanceled',
      'ExternalOrderAdopted',
      'fill of an adopted order',
    ])
      expect(seen.get(type) ?? 0, type).toBeGreaterThan(20);
  }, 120_000);
});
