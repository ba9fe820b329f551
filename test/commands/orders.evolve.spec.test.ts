import { describe, expect, it } from 'vitest';
import { bookStateFromJson, bookStateToJson, type Order } from '../../src/commands/index.js';
import { deciderSpec } from '../../src/testing/index.js';
import { NOW, archived, entered, exited, iso, secondsFrom, tracked } from './fixtures.js';
import { accepted, cancelRequested, canceled, expired, filled, increased, lost, rejected, requested } from './orderFixtures.js';

/*
 * What evolve does with the order events: each order's status, fills and venue id; the
 * indexes beside it (by order key, by position, the live ones); the signals remembered; and
 * PositionIncreased on the position. Evolve never throws: an event about an unknown order
 * changes nothing.
 */

const spec = deciderSpec({ now: NOW, policy: { idempotencyWindow: 2 } });
const watching = [tracked('A', { symbol: 'BTC' })];
const order = (events: Parameters<typeof spec.given>[0], id = 'o1'): Order | undefined => spec.given(events).state().orders.get(id);

describe('evolve: orders', () => {
  it('OrderRequested records the order PENDING_SUBMIT with nothing filled, indexed by key, position and as live', () => {
    const state = spec.given([...watching, requested('o1', 'A', { signalId: 's1', orderKey: 's1', stop: 90 }, secondsFrom(5))]).state();
    expect(state.orders.get('o1')).toEqual({
      clientOrderId: 'o1',
      orderKey: 's1',
      attempt: 1,
      signalId: 's1',
      positionId: 'A',
      symbol: 'BTC',
      side: 'buy',
      intent: 'entry',
      orderType: 'market',
      quantity: 10,
      referencePrice: 100,
      stop: 90,
      status: 'PENDING_SUBMIT',
      filledQuantity: 0,
      fees: 0,
      tradeIds: [],
      requestedAt: iso(secondsFrom(5)),
      updatedAt: iso(secondsFrom(5)),
    });
    expect([...state.orderKeys]).toEqual([['s1', ['o1']]]);
    expect([...state.positionOrders]).toEqual([['A', ['o1']]]);
    expect([...state.liveOrders]).toEqual([['o1', 'A']]);
    expect([...state.signals]).toEqual([['s1', { at: iso(secondsFrom(5)), clientOrderId: 'o1' }]]);
    expect(state.lastSignalAt).toBe(iso(secondsFrom(5)));
  });

  it('keeps the signals of the last idempotencyWindow orders only, and the time of the last one', () => {
    const state = spec
      .given([
        ...watching,
        requested('o1', 'A', { signalId: 's1' }, secondsFrom(1)),
        requested('o2', 'A', { signalId: 's2' }, secondsFrom(2)),
        requested('o3', 'A', { signalId: 's3' }, secondsFrom(3)),
      ])
      .state();
    expect([...state.signals.keys()]).toEqual(['s2', 's3']);
    expect(state.lastSignalAt).toBe(iso(secondsFrom(3)));
  });

  it('OrderAccepted opens it with the venue id; a second accept changes nothing', () => {
    expect(order([...watching, requested('o1', 'A'), accepted('o1', 'X1')])).toMatchObject({ status: 'OPEN', externalOrderId: 'X1' });
    expect(order([...watching, requested('o1', 'A'), accepted('o1', 'X1'), accepted('o1', 'X2')])).toMatchObject({
      status: 'OPEN',
      externalOrderId: 'X1',
    });
  });

  it('a late accept of a filled order records the venue id and keeps the status', () => {
    expect(order([...watching, requested('o1', 'A'), filled('o1', 't1', 10, 100), accepted('o1', 'X1')])).toMatchObject({
      status: 'FILLED',
      externalOrderId: 'X1',
    });
  });

  it('fills add up (average price, fees, trade ids) to PARTIALLY_FILLED, then FILLED; a known trade id is not counted twice', () => {
    const o = order([
      ...watching,
      requested('o1', 'A'),
      accepted('o1', 'X1'),
      filled('o1', 't1', 4, 100, 1),
      filled('o1', 't1', 4, 100, 1),
    ]);
    expect(o).toMatchObject({ status: 'PARTIALLY_FILLED', filledQuantity: 4, averagePrice: 100, fees: 1, tradeIds: ['t1'] });
    const full = order([...watching, requested('o1', 'A'), filled('o1', 't1', 4, 100, 1), filled('o1', 't2', 6, 110, 2)]);
    expect(full).toMatchObject({ status: 'FILLED', filledQuantity: 10, averagePrice: 106, fees: 3, tradeIds: ['t1', 't2'] });
    expect(spec.given([...watching, requested('o1', 'A'), filled('o1', 't1', 10, 100)]).state().liveOrders.size).toBe(0);
  });

  it('a cancel request remembers the status it left; a partial fill while PENDING_CANCEL is remembered, a full one finishes it', () => {
    expect(order([...watching, requested('o1', 'A'), accepted('o1', 'X'), cancelRequested('o1')])).toMatchObject({
      status: 'PENDING_CANCEL',
      statusBeforeCancel: 'OPEN',
    });
    expect(order([...watching, requested('o1', 'A'), cancelRequested('o1'), accepted('o1', 'X')])).toMatchObject({
      status: 'PENDING_CANCEL',
      statusBeforeCancel: 'OPEN',
      externalOrderId: 'X',
    });
    expect(order([...watching, requested('o1', 'A'), cancelRequested('o1'), filled('o1', 't1', 3, 100)])).toMatchObject({
      status: 'PENDING_CANCEL',
      statusBeforeCancel: 'PARTIALLY_FILLED',
      filledQuantity: 3,
    });
    const full = order([...watching, requested('o1', 'A'), cancelRequested('o1'), filled('o1', 't1', 10, 100)]);
    expect(full?.status).toBe('FILLED');
    expect(full).not.toHaveProperty('statusBeforeCancel');
  });

  it('canceled, expired, rejected and lost orders are finished; late fills grow them and keep the status', () => {
    for (const [finish, status] of [
      [canceled('o1', 3), 'CANCELED'],
      [expired('o1', 3), 'EXPIRED'],
      [lost('o1', 'CANCELED'), 'CANCELED'],
    ] as const) {
      const state = spec.given([...watching, requested('o1', 'A'), filled('o1', 't1', 3, 100), finish, filled('o1', 't2', 1, 100)]).state();
      expect(state.orders.get('o1')).toMatchObject({ status, filledQuantity: 4 });
      expect(state.liveOrders.size).toBe(0);
    }
    expect(order([...watching, requested('o1', 'A'), rejected('o1', 'no margin')])).toMatchObject({
      status: 'REJECTED',
      reason: 'no margin',
    });
    expect(order([...watching, requested('o1', 'A'), lost('o1', 'REJECTED')])).toMatchObject({
      status: 'REJECTED',
      reason: 'not found at the venue',
    });
  });

  it('an event about an unknown order changes nothing', () => {
    const state = spec.given([...watching, accepted('nope', 'X'), filled('nope', 't', 1, 1), canceled('nope')]).state();
    expect(state.orders.size).toBe(0);
    expect(state.revision).toBe(3);
  });

  it('an archived position takes its orders (and their indexes) out of the book; its signals stay remembered', () => {
    const state = spec
      .given([
        ...watching,
        requested('o1', 'A', { signalId: 's1', orderKey: 's1' }),
        rejected('o1'),
        tracked('B', { symbol: 'ETH' }),
        requested('o2', 'B'),
        archived('A', 'WATCHING', 'manual'),
      ])
      .state();
    expect([...state.orders.keys()]).toEqual(['o2']);
    expect([...state.orderKeys.keys()]).toEqual(['k-o2']);
    expect([...state.positionOrders.keys()]).toEqual(['B']);
    expect([...state.signals.keys()]).toEqual(['s1']);
  });

  it('the snapshot form holds the orders and signals, and the indexes are rebuilt from them', () => {
    const state = spec
      .given([
        ...watching,
        requested('o1', 'A', { signalId: 's1', orderKey: 's1' }),
        accepted('o1', 'X'),
        filled('o1', 't1', 2, 100),
        requested('o2', 'A', { orderKey: 'k2', intent: 'entry' }),
        rejected('o2'),
      ])
      .state();
    const back = bookStateFromJson(JSON.parse(JSON.stringify(bookStateToJson(state))));
    expect(bookStateToJson(back)).toEqual(bookStateToJson(state));
    expect([...back.orderKeys]).toEqual([...state.orderKeys]);
    expect([...back.positionOrders]).toEqual([...state.positionOrders]);
    expect([...back.liveOrders]).toEqual([['o1', 'A']]);
    expect(back.lastSignalAt).toBe(state.lastSignalAt);
  });
});

describe('evolve: PositionIncreased', () => {
  it('grows an IN position: quantity and cost basis add, the value is the fill price on the whole, risk from the average entry', () => {
    const p = spec
      .given([
        tracked('A', { symbol: 'BTC', group: 'g' }),
        entered('A', { symbol: 'BTC', value: 100, quantity: 1, price: 100, stop: 90 }),
        increased('A', 1, 120),
      ])
      .state();
    expect(p.positions.get('A')).toMatchObject({ status: 'IN', quantity: 2, costBasis: 220, value: 240, price: 120, risk: 40 });
    expect(p.groupRisk.get('g')).toBe(40);
  });

  it('without a stop the whole cost basis is at risk', () => {
    const p = spec.given([tracked('A', { group: 'g' }), entered('A', { value: 100, quantity: 1 }), increased('A', 1, 120)]).state();
    expect(p.positions.get('A')).toMatchObject({ costBasis: 220, risk: 220 });
    expect(p.groupRisk.get('g')).toBe(220);
  });

  it('changes nothing on a position that is not IN', () => {
    const state = spec
      .given([
        tracked('A'),
        entered('A', { value: 100, quantity: 1 }),
        exited('A', { value: 100, costBasis: 100, realizedPnl: 0 }),
        increased('A', 1, 120),
      ])
      .state();
    expect(state.positions.get('A')).toMatchObject({ status: 'EXITED', realizedPnl: 0 });
  });
});
