import { describe, expect, it } from 'vitest';
import type { BookState } from '../../src/commands/index.js';
import { ExternalPosition } from '../../src/reconcile/index.js';
import { planCloseAll } from '../../src/reconcile/planCloseAll.js';
import { deciderSpec, type GivenEvent } from '../../src/testing/index.js';

/*
 * close_all on a netting account, the cases the main specification (promises.closeAllNetting)
 * leaves out: which position is "the most recent" when the book's order is not the entry order or
 * two entries share a moment, a venue id the book already uses for another position, positions
 * with no venue key, a venue position with no symbol, and quantities unknown on either side.
 */

const NOW = new Date('2026-01-05T12:00:00.000Z');
const REASON = 'recovery: close_all';
const minutesAgo = (m: number) => ({ recordedAt: new Date(NOW.getTime() - m * 60_000).toISOString() });

function trackedAt(id: string, minutes: number, data: { symbol?: string; side?: 'long' | 'short' } = { symbol: 'BTC' }): GivenEvent {
  return { type: 'PositionTracked', data: { positionId: id, side: 'long', ...data, source: 'local' }, metadata: minutesAgo(minutes) };
}
function enteredAt(id: string, minutes: number, data: { symbol?: string; value: number; quantity?: number }): GivenEvent {
  return { type: 'PositionEntered', data: { positionId: id, side: 'long', ...data, source: 'local' }, metadata: minutesAgo(minutes) };
}
/** A long on BTC of `quantity` at 100 a unit, tracked and entered `minutes` ago. */
const held = (id: string, quantity: number, minutes: number): GivenEvent[] => [
  trackedAt(id, minutes),
  enteredAt(id, minutes, { symbol: 'BTC', value: quantity * 100, quantity }),
];
const book = (events: GivenEvent[]): BookState => deciderSpec({ now: NOW }).given(events).state();
const venue = (raw: Record<string, unknown>): ExternalPosition => ExternalPosition.parse(raw);
const exit = (positionId: string, value: number) => ({
  type: 'Exit',
  positionId,
  value: expect.closeTo(value, 9) as number,
  reason: REASON,
});
const clearPhantom = (positionId: string, extra: { quantity?: number } = {}) => ({
  type: 'ClearPhantom',
  positionId,
  looks: 0,
  ...extra,
  reason: `${REASON}, not open outside (BTC long)`,
});
/** The records of the one close in `steps`, in order. */
function recordsOf(steps: ReturnType<typeof planCloseAll>): unknown[] {
  expect(steps).toHaveLength(1);
  const action = steps[0]!.action;
  if (action.kind !== 'closeOutside') throw new Error(`expected a closeOutside step, got ${action.kind}`);
  return [action.record, ...(action.more ?? [])];
}

describe('planCloseAll on a netting account: which position is the most recent', () => {
  it('is the one entered last, not the one tracked last: a shortfall is cleared from it', () => {
    // Tracked A then B, but B was entered an hour ago and A 20 minutes ago: A is the most recent.
    const events = [
      trackedAt('A', 90),
      trackedAt('B', 80),
      enteredAt('B', 60, { symbol: 'BTC', value: 200, quantity: 2 }),
      enteredAt('A', 20, { symbol: 'BTC', value: 200, quantity: 2 }),
    ];
    const steps = planCloseAll(book(events), [venue({ id: 'BTC', symbol: 'BTC', quantity: 3, value: 300 })], 'netting');
    expect(recordsOf(steps)).toStrictEqual([clearPhantom('A', { quantity: 1 }), exit('B', 200), exit('A', 100)]);
  });

  it('between entries of the same moment, the greater id is the more recent; the exits are listed oldest first', () => {
    const events = [...held('C', 1, 30), ...held('A', 1, 30), ...held('B', 1, 30)];
    const steps = planCloseAll(book(events), [venue({ id: 'BTC', symbol: 'BTC', quantity: 2, value: 220 })], 'netting');
    expect(recordsOf(steps)).toStrictEqual([clearPhantom('C'), exit('A', 110), exit('B', 110)]);
  });
});

describe('planCloseAll on a netting account: what the venue holds beyond the book', () => {
  it('is closed as an orphan under the venue id, or <id>~2, ~3 ... when the book already uses that id for another position', () => {
    // The book tracks positions named "ETH" and "ETH~2" (on other symbols); nothing of it is on the ETH key.
    const events = [trackedAt('ETH', 30, { symbol: 'SOL' }), trackedAt('ETH~2', 30, { symbol: 'SOL' })];
    const steps = planCloseAll(book(events), [venue({ id: 'ETH', symbol: 'ETH', quantity: 1, value: 50 })], 'netting');
    expect(steps).toStrictEqual([
      {
        action: {
          kind: 'closeOutside',
          positionId: 'ETH',
          record: { type: 'CloseOrphan', positionId: 'ETH~3', value: 50, reason: REASON },
        },
      },
    ]);
  });

  it('keeps a long venue id whole when the book does not use it, and cuts it to 190 characters before a suffix', () => {
    const long = 'E'.repeat(200);
    const closedAs = (events: GivenEvent[]): unknown[] =>
      recordsOf(planCloseAll(book(events), [venue({ id: long, symbol: 'ETH', quantity: 1, value: 50 })], 'netting'));
    expect(closedAs([])).toStrictEqual([{ type: 'CloseOrphan', positionId: long, value: 50, reason: REASON }]);
    expect(closedAs([trackedAt(long, 30, { symbol: 'SOL' })])).toStrictEqual([
      { type: 'CloseOrphan', positionId: `${'E'.repeat(190)}~2`, value: 50, reason: REASON },
    ]);
  });

  it('a venue position with no symbol matches no book position: it is a closed orphan, and the book positions it cannot match are cleared', () => {
    const steps = planCloseAll(book(held('A', 1, 30)), [venue({ id: 'X-1', quantity: 1, value: 70 })], 'netting');
    expect(steps).toStrictEqual([
      {
        action: { kind: 'closeOutside', positionId: 'X-1', record: { type: 'CloseOrphan', positionId: 'X-1', value: 70, reason: REASON } },
      },
      {
        action: {
          kind: 'command',
          command: { type: 'ClearPhantom', positionId: 'A', looks: 0, reason: `${REASON}, not open outside` },
          about: 'clear A: IN here, not open outside',
        },
      },
    ]);
  });
});

describe('planCloseAll on a netting account: positions with no venue key', () => {
  it('are cleared, after the positions of keys the venue does not hold, saying they could not be matched', () => {
    const events = [trackedAt('N', 40, {}), enteredAt('N', 40, { value: 100 }), ...held('A', 1, 30)];
    const steps = planCloseAll(book(events), [], 'netting');
    expect(steps).toStrictEqual([
      {
        action: {
          kind: 'command',
          command: { type: 'ClearPhantom', positionId: 'A', looks: 0, reason: `${REASON}, not open outside` },
          about: 'clear A: IN here, not open outside',
        },
      },
      {
        action: {
          kind: 'command',
          command: { type: 'ClearPhantom', positionId: 'N', looks: 0, reason: `${REASON}, no venue key to match it outside` },
          about: 'clear N: IN here, not open outside',
        },
      },
    ]);
  });
});

describe('planCloseAll on a netting account: quantities unknown', () => {
  it('a book position without a quantity: every position exits at its share of the venue value, by value', () => {
    const events = [...held('A', 1, 60), trackedAt('B', 30), enteredAt('B', 30, { symbol: 'BTC', value: 300 })];
    const steps = planCloseAll(book(events), [venue({ id: 'BTC', symbol: 'BTC', quantity: 4, value: 800 })], 'netting');
    expect(recordsOf(steps)).toStrictEqual([exit('A', 200), exit('B', 600)]);
  });

  it('a venue position without a quantity: the same, by value', () => {
    const steps = planCloseAll(
      book([...held('A', 1, 60), ...held('B', 3, 30)]),
      [venue({ id: 'BTC', symbol: 'BTC', value: 200 })],
      'netting',
    );
    expect(recordsOf(steps)).toStrictEqual([exit('A', 50), exit('B', 150)]);
  });

  it('positions the book values at nothing share the venue value equally', () => {
    const events = [
      trackedAt('A', 60),
      enteredAt('A', 60, { symbol: 'BTC', value: 0 }),
      trackedAt('B', 30),
      enteredAt('B', 30, { symbol: 'BTC', value: 0 }),
    ];
    const steps = planCloseAll(book(events), [venue({ id: 'BTC', symbol: 'BTC', value: 90 })], 'netting');
    expect(recordsOf(steps)).toStrictEqual([exit('A', 45), exit('B', 45)]);
  });
});
