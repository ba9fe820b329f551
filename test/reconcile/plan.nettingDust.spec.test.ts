import { describe, expect, it } from 'vitest';
import type { BookState } from '../../src/commands/index.js';
import { ExternalPosition, ReconcilePolicy, planReconciliation, type ReconciliationPlan } from '../../src/reconcile/index.js';
import { deciderSpec, type GivenEvent } from '../../src/testing/index.js';

/*
 * The netting planner when the venue holds a little more than the book: the surplus below the
 * dust threshold is dust, and the rest of the venue position is still the book's, so its value is
 * judged as drift (found by the netting simulation: dust on a held symbol hid a drift for good).
 * Dust is below 5; drift tolerance 1 %.
 */

const NOW = new Date('2026-01-05T12:00:00.000Z');
const at = { recordedAt: new Date(NOW.getTime() - 3_600_000).toISOString() };

function held(id: string, quantity: number): GivenEvent[] {
  return [
    { type: 'PositionTracked', data: { positionId: id, side: 'long', symbol: 'BTC', source: 'local' }, metadata: at },
    {
      type: 'PositionEntered',
      data: { positionId: id, side: 'long', symbol: 'BTC', value: quantity * 100, quantity, price: 100, source: 'local' },
      metadata: at,
    },
  ];
}
const book = (events: GivenEvent[]): BookState => deciderSpec({ now: NOW }).given(events).state();
const plan = (outside: Record<string, unknown>, drift: 'correct' | 'alert' = 'correct'): ReconciliationPlan =>
  planReconciliation(
    book([...held('A', 1), ...held('B', 3)]),
    { positions: [ExternalPosition.parse(outside)], startedAt: NOW, canVerify: false, positionMode: 'netting' },
    { ...ReconcilePolicy.parse({ drift, driftTolerancePct: 1 }), minPositionValue: 5 },
    NOW,
    'run-1',
  );

describe('planReconciliation on a netting account: dust on top of the book', () => {
  it('dust on a key the book holds at its value: only the dust, nothing to do', () => {
    // 4 BTC here (400); 4.02 outside worth 402: 0.02 more, worth 2 (dust).
    const p = plan({ id: 'BTC', symbol: 'BTC', quantity: 4.02, value: 402 });
    expect(p.dust).toStrictEqual([{ positionId: 'BTC', value: expect.closeTo(2, 9) as number }]);
    expect(p.drift).toStrictEqual([]);
    expect(p.actions).toStrictEqual([]);
  });

  it('dust on a key whose rest is worth more than the book: the rest is drift, corrected on each position by its share', () => {
    // 4.02 outside worth 442.2: the dust part is worth 2.2, the book's part 440 against 400 here.
    const p = plan({ id: 'BTC', symbol: 'BTC', quantity: 4.02, value: 442.2 });
    expect(p.dust).toStrictEqual([{ positionId: 'BTC', value: expect.closeTo(2.2, 9) as number }]);
    expect(p.orphans).toStrictEqual([]);
    expect(p.drift).toStrictEqual([
      {
        positionId: 'BTC',
        symbol: 'BTC',
        venueKey: 'BTC',
        localValue: 400,
        externalValue: expect.closeTo(440, 9) as number,
        localQuantity: 4,
        externalQuantity: 4,
        tolerance: 4,
        verdict: 'correct',
      },
    ]);
    const corrections = p.actions.map((a) => (a.kind === 'command' && a.command.type === 'CorrectDrift' ? a.command : a));
    expect(corrections).toStrictEqual([
      { type: 'CorrectDrift', positionId: 'A', externalValue: expect.closeTo(110, 9) as number, tolerance: 1 },
      { type: 'CorrectDrift', positionId: 'B', externalValue: expect.closeTo(330, 9) as number, tolerance: 3 },
    ]);
  });

  it('with drift: alert, the same drift is handed to a person', () => {
    const p = plan({ id: 'BTC', symbol: 'BTC', quantity: 4.02, value: 442.2 }, 'alert');
    expect(p.drift.map((d) => d.verdict)).toStrictEqual(['alert']);
    expect(p.actions).toMatchObject([{ kind: 'alert', alert: { kind: 'drift', positionId: 'BTC' } }]);
  });
});
