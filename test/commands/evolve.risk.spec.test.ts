import { describe, expect, it } from 'vitest';
import type { BookState, InPosition } from '../../src/commands/index.js';
import { deciderSpec, type GivenEvent } from '../../src/testing/index.js';
import { NOW, entered, tracked } from './fixtures.js';

/*
 * The fold's risk bookkeeping, which the risk rules read: a position's cost basis, value, quantity
 * and risk (the average entry's distance to the stop times the quantity; the whole cost basis
 * without a stop) follow every event that grows, protects or shrinks it, and its correlation group's
 * risk moves by the same amount.
 */

const spec = deciderSpec({ now: NOW });
const book = (events: GivenEvent[]): BookState => spec.given(events).state();
const position = (state: BookState, id: string): InPosition => {
  const p = state.positions.get(id);
  if (p?.status !== 'IN') throw new Error(`${id} is not IN`);
  return p;
};
const at = (seconds: number) => ({ recordedAt: new Date(NOW.getTime() + seconds * 1000).toISOString() });

/** 10 BTC at 100 (1,000), in group majors; with a stop at 90 unless `stop` is null. */
function held(id: string, options: { stop?: number | null; quantity?: boolean } = {}): GivenEvent[] {
  const { stop = 90, quantity = true } = options;
  return [
    tracked(id, { symbol: 'BTC', group: 'majors' }),
    entered(id, { symbol: 'BTC', value: 1000, price: 100, ...(quantity ? { quantity: 10 } : {}), ...(stop === null ? {} : { stop }) }),
  ];
}
const increased = (id: string, quantity: number, price: number): GivenEvent => ({
  type: 'PositionIncreased',
  data: { positionId: id, quantity, price, value: quantity * price, source: 'local' },
});

describe('a position grown by an entry fill (PositionIncreased)', () => {
  it('with a stop: quantity and cost basis add up, the value is the fill price on the whole, risk is the average entry to the stop', () => {
    const state = book([...held('A'), increased('A', 10, 120)]);
    // 20 units for 2,200: the average entry is 110, 20 above the stop at 90.
    expect(position(state, 'A')).toMatchObject({ quantity: 20, costBasis: 2200, value: 2400, price: 120, risk: 400 });
    expect(state.groupRisk.get('majors')).toBe(400);
  });

  it('without a stop: the risk grows by the fill’s value', () => {
    const state = book([...held('A', { stop: null }), increased('A', 10, 120)]);
    expect(position(state, 'A')).toMatchObject({ quantity: 20, costBasis: 2200, risk: 2200 });
    expect(state.groupRisk.get('majors')).toBe(2200);
  });

  it('of unknown quantity: the value adds up and the quantity stays unknown', () => {
    const state = book([...held('A', { stop: null, quantity: false }), increased('A', 5, 100)]);
    const p = position(state, 'A');
    expect(p).toMatchObject({ costBasis: 1500, value: 1500, risk: 1500 });
    expect('quantity' in p).toBe(false);
  });

  it('is ignored for a position that is not IN (the log may say anything; the fold never throws)', () => {
    const before = book([tracked('A', { symbol: 'BTC', group: 'majors' })]);
    const after = book([tracked('A', { symbol: 'BTC', group: 'majors' }), increased('A', 10, 120)]);
    expect(after.positions.get('A')).toStrictEqual(before.positions.get('A'));
    expect(after.groupRisk.size).toBe(0);
  });
});

describe('a stop moved or removed (ProtectionSet)', () => {
  it('measures the risk to the new stop, and the group’s with it', () => {
    const state = book([...held('A'), { type: 'ProtectionSet', data: { positionId: 'A', stop: 95, source: 'local' } }]);
    expect(position(state, 'A')).toMatchObject({ stop: 95, risk: 50 });
    expect(state.groupRisk.get('majors')).toBe(50);
  });

  it('without a stop, the whole cost basis is at risk', () => {
    const state = book([...held('A'), { type: 'ProtectionSet', data: { positionId: 'A', takeProfit: 130, source: 'local' } }]);
    const p = position(state, 'A');
    expect(p).toMatchObject({ takeProfit: 130, risk: 1000 });
    expect('stop' in p).toBe(false);
    expect(state.groupRisk.get('majors')).toBe(1000);
  });

  it('of unknown quantity, the whole cost basis is at risk even with a stop', () => {
    const state = book([
      ...held('A', { quantity: false }),
      { type: 'ProtectionSet', data: { positionId: 'A', stop: 95, source: 'local' } },
    ]);
    expect(position(state, 'A')).toMatchObject({ stop: 95, risk: 1000 });
  });
});

describe('part of a phantom cleared (PhantomCleared with a fraction)', () => {
  const cleared: GivenEvent = {
    type: 'PhantomCleared',
    data: {
      positionId: 'A',
      fraction: 0.25,
      quantity: 2.5,
      value: 230,
      costBasis: 250,
      realizedPnl: -20,
      looks: 2,
      reason: 'missing',
      source: 'reconcile',
    },
    metadata: at(0),
  };

  it('keeps the rest IN: cost basis, value, quantity and risk by the share kept, the result realized, the group’s risk with it', () => {
    const state = book([...held('A'), { type: 'PhantomSuspected', data: { positionId: 'A', looks: 1, source: 'reconcile' } }, cleared]);
    expect(position(state, 'A')).toMatchObject({ costBasis: 750, value: 750, quantity: 7.5, risk: 75, realizedPnl: -20, missedLooks: 0 });
    expect(state.groupRisk.get('majors')).toBe(75);
    expect(state.realizedPnl).toBe(-20);
    expect(state.today).toStrictEqual({ day: '2026-01-05', pnl: -20 });
  });

  it('a clear without a fraction takes the whole position out of the book’s risk', () => {
    const whole: GivenEvent = {
      type: 'PhantomCleared',
      data: { positionId: 'A', value: 1000, costBasis: 1000, realizedPnl: 0, looks: 2, reason: 'missing', source: 'reconcile' },
    };
    const state = book([...held('A'), whole]);
    expect(state.positions.get('A')?.status).not.toBe('IN');
    expect(state.groupRisk.size).toBe(0);
  });
});
