import { describe, expect, it } from 'vitest';
import {
  foldProjection,
  ordersProjection,
  ORDERS_RECENT_FILLS,
  ORDERS_RECENT_FINISHED,
  ProjectionOptions,
  type OrdersData,
} from '../../src/projections/index.js';
import { fact, recorded, t, view, type Fact } from './fixtures.js';

const orders = ordersProjection(ProjectionOptions.parse({}));
const project = (facts: Fact[]) => view(orders.toJson(foldProjection(orders, recorded(facts)))) as Omit<OrdersData, 'fold'>;

const request = (clientOrderId: string, positionId: string, at: string, more: Record<string, unknown> = {}): Fact =>
  fact(
    'OrderRequested',
    {
      clientOrderId,
      orderKey: `k-${clientOrderId}`,
      attempt: 1,
      positionId,
      symbol: 'BTC',
      side: 'buy',
      intent: 'entry',
      orderType: 'market',
      quantity: 10,
      referencePrice: 100,
      ...more,
    },
    at,
  );
const fill = (clientOrderId: string, tradeId: string, quantity: number, price: number, at: string, fee = 0): Fact =>
  fact('OrderFilled', { clientOrderId, tradeId, quantity, price, fee, inferred: false }, at);
const tracked = (positionId: string, at: string): Fact => fact('PositionTracked', { positionId, symbol: 'BTC', side: 'long' }, at);

describe('orders.json', () => {
  it('lists an accepted, partly filled order as open, with its fills (price, fee) newest first', () => {
    const data = project([
      tracked('A', t(0)),
      request('o-1', 'A', t(1)),
      fact('OrderAccepted', { clientOrderId: 'o-1', externalOrderId: 'x-1' }, t(2)),
      fill('o-1', 'tr-1', 4, 100, t(3), 0.5),
      fill('o-1', 'tr-2', 2, 102, t(4), 0.25),
    ]);
    const book = data.books.main!;
    expect(book.inFlight).toEqual([]);
    expect(book.open).toEqual([
      {
        clientOrderId: 'o-1',
        orderKey: 'k-o-1',
        attempt: 1,
        positionId: 'A',
        symbol: 'BTC',
        side: 'buy',
        intent: 'entry',
        orderType: 'market',
        quantity: 10,
        referencePrice: 100,
        status: 'PARTIALLY_FILLED',
        externalOrderId: 'x-1',
        filledQuantity: 6,
        averagePrice: (4 * 100 + 2 * 102) / 6,
        fees: 0.75,
        fills: 2,
        requestedAt: t(1),
        updatedAt: t(4),
        requestedPosition: 2,
      },
    ]);
    expect(book.fills.map((f) => [f.tradeId, f.quantity, f.price, f.fee, f.position])).toEqual([
      ['tr-2', 2, 102, 0.25, 5],
      ['tr-1', 4, 100, 0.5, 4],
    ]);
    expect(book.fills[0]).toMatchObject({ clientOrderId: 'o-1', positionId: 'A', symbol: 'BTC', side: 'buy', recordedAt: t(4) });
    expect(book.totals).toEqual({
      requested: 1,
      adopted: 0,
      inFlight: 0,
      open: 1,
      filled: 0,
      canceled: 0,
      rejected: 0,
      expired: 0,
      lost: 0,
      fills: 2,
    });
  });

  it('counts a repeated trade id once (the book ignores it) and a repeated OrderRequested once', () => {
    const data = project([
      tracked('A', t(0)),
      request('o-1', 'A', t(1)),
      request('o-1', 'A', t(2)),
      fill('o-1', 'tr-1', 4, 100, t(3)),
      fill('o-1', 'tr-1', 4, 100, t(4)),
    ]);
    const book = data.books.main!;
    expect(book.fills.map((f) => f.tradeId)).toEqual(['tr-1']);
    expect(book.open[0]).toMatchObject({ filledQuantity: 4, fills: 1, requestedPosition: 2 });
    expect(book.totals).toMatchObject({ requested: 1, fills: 1 });
  });

  it('lists PENDING_SUBMIT (an unknown outcome included) and PENDING_CANCEL as in flight', () => {
    const data = project([
      tracked('A', t(0)),
      request('o-1', 'A', t(1)),
      request('o-2', 'A', t(2)),
      fact('OrderAccepted', { clientOrderId: 'o-2', externalOrderId: 'x-2' }, t(3)),
      fact('OrderCancelRequested', { clientOrderId: 'o-2', reason: 'changed my mind' }, t(4)),
    ]);
    const book = data.books.main!;
    expect(book.inFlight.map((o) => [o.clientOrderId, o.status])).toEqual([
      ['o-1', 'PENDING_SUBMIT'],
      ['o-2', 'PENDING_CANCEL'],
    ]);
    expect(book.inFlight[1]).toMatchObject({ statusBeforeCancel: 'OPEN', externalOrderId: 'x-2' });
    expect(book.totals).toMatchObject({ inFlight: 2, open: 0 });
  });

  it('moves finished orders to recentlyFinished, newest first, with when and how they finished', () => {
    const data = project([
      tracked('A', t(0)),
      request('o-1', 'A', t(1)),
      fill('o-1', 'tr-1', 10, 100, t(2)),
      request('o-2', 'A', t(3)),
      fact('OrderRejected', { clientOrderId: 'o-2', reason: 'insufficient margin' }, t(4)),
      request('o-3', 'A', t(5)),
      fact('OrderLost', { clientOrderId: 'o-3', looks: 3, resolution: 'REJECTED', reason: 'not found at the venue' }, t(6)),
      request('o-4', 'A', t(7)),
      fill('o-4', 'tr-4', 3, 100, t(8)),
      fact('OrderCanceled', { clientOrderId: 'o-4', filledQuantity: 3 }, t(9)),
      request('o-5', 'A', t(10)),
      fact('OrderExpired', { clientOrderId: 'o-5', filledQuantity: 0 }, t(11)),
    ]);
    const book = data.books.main!;
    expect(book.open).toEqual([]);
    expect(book.inFlight).toEqual([]);
    expect(book.recentlyFinished.map((o) => [o.clientOrderId, o.status, o.finishedAt, o.lost ?? false, o.filledQuantity])).toEqual([
      ['o-5', 'EXPIRED', t(11), false, 0],
      ['o-4', 'CANCELED', t(9), false, 3],
      ['o-3', 'REJECTED', t(6), true, 0],
      ['o-2', 'REJECTED', t(4), false, 0],
      ['o-1', 'FILLED', t(2), false, 10],
    ]);
    expect(book.recentlyFinished[3]).toMatchObject({ reason: 'insufficient margin' });
    expect(book.totals).toEqual({
      requested: 5,
      adopted: 0,
      inFlight: 0,
      open: 0,
      filled: 1,
      canceled: 1,
      rejected: 2,
      expired: 1,
      lost: 1,
      fills: 2,
    });
  });

  it('records a late fill of a finished order: its numbers grow, its status and finish time stay', () => {
    const data = project([
      tracked('A', t(0)),
      request('o-1', 'A', t(1)),
      fact('OrderCanceled', { clientOrderId: 'o-1', filledQuantity: 0 }, t(2)),
      fill('o-1', 'tr-1', 2, 100, t(3)),
    ]);
    const o = data.books.main!.recentlyFinished[0]!;
    expect(o).toMatchObject({ status: 'CANCELED', finishedAt: t(2), filledQuantity: 2, fills: 1, updatedAt: t(3) });
    expect(data.books.main!.fills.map((f) => f.tradeId)).toEqual(['tr-1']);
  });

  it('keeps finished orders after their position is archived (the book drops them)', () => {
    const data = project([
      tracked('A', t(0)),
      request('o-1', 'A', t(1)),
      fact('OrderRejected', { clientOrderId: 'o-1', reason: 'no' }, t(2)),
      fact('PositionSkipped', { positionId: 'A' }, t(3)),
      fact('PositionArchived', { positionId: 'A', from: 'SKIPPED', reason: 'manual' }, t(4)),
      // The book no longer holds o-1: a report about it changes nothing.
      fill('o-1', 'tr-9', 1, 100, t(5)),
    ]);
    const book = data.books.main!;
    expect(book.recentlyFinished.map((o) => [o.clientOrderId, o.status, o.fills])).toEqual([['o-1', 'REJECTED', 0]]);
    expect(book.fills).toEqual([]);
  });

  it(`keeps the last ${ORDERS_RECENT_FINISHED} finished orders and the last ${ORDERS_RECENT_FILLS} fills per book; totals count all`, () => {
    const facts: Fact[] = [tracked('A', t(0))];
    const n = ORDERS_RECENT_FILLS + 5;
    for (let i = 0; i < n; i += 1) {
      facts.push(request(`o-${i}`, 'A', t(1 + 2 * i), { quantity: 1 }), fill(`o-${i}`, `tr-${i}`, 1, 100, t(2 + 2 * i)));
    }
    const book = project(facts).books.main!;
    expect(book.recentlyFinished).toHaveLength(ORDERS_RECENT_FINISHED);
    expect(book.recentlyFinished[0]?.clientOrderId).toBe(`o-${n - 1}`);
    expect(book.recentlyFinished.at(-1)?.clientOrderId).toBe(`o-${n - ORDERS_RECENT_FINISHED}`);
    expect(book.fills).toHaveLength(ORDERS_RECENT_FILLS);
    expect(book.fills[0]?.tradeId).toBe(`tr-${n - 1}`);
    expect(book.fills.at(-1)?.tradeId).toBe(`tr-${n - ORDERS_RECENT_FILLS}`);
    expect(book.totals).toMatchObject({ requested: n, filled: n, fills: n });
  });

  it('keeps books apart, and ignores events of streams that are no book', () => {
    const data = project([
      { ...tracked('A', t(0)), book: 'alpha' },
      { ...request('o-1', 'A', t(1)), book: 'alpha' },
      { ...tracked('A', t(2)), book: 'beta' },
      { ...request('o-2', 'A', t(3)), book: 'beta' },
      { type: 'Heartbeat', data: { at: t(4) }, at: t(4), stream: 'ops-heartbeats' },
    ]);
    expect(Object.keys(data.books)).toEqual(['alpha', 'beta']);
    expect(data.books.alpha!.inFlight.map((o) => o.clientOrderId)).toEqual(['o-1']);
    expect(data.books.beta!.inFlight.map((o) => o.clientOrderId)).toEqual(['o-2']);
    expect(data.asOf).toBe(t(4));
  });

  it('reads back what it writes and folds on alike (a restart between events)', () => {
    const facts = [
      tracked('A', t(0)),
      request('o-1', 'A', t(1)),
      request('o-2', 'A', t(2)),
      fill('o-2', 'tr-1', 4, 100, t(3)),
      fact('OrderRejected', { clientOrderId: 'o-1', reason: 'no' }, t(4)),
      fill('o-2', 'tr-2', 6, 101, t(5)),
      fill('o-2', 'tr-1', 4, 100, t(6)),
    ];
    const events = recorded(facts);
    const whole = orders.toJson(foldProjection(orders, events));
    for (let cut = 1; cut < events.length; cut += 1) {
      let state = foldProjection(orders, events.slice(0, cut));
      state = orders.fromJson(JSON.parse(JSON.stringify(orders.toJson(state))));
      for (const e of events.slice(cut)) state = orders.evolve(state, e);
      expect(orders.toJson(state), `cut at ${cut}`).toEqual(whole);
    }
  });

  it('refuses data that is not its shape', () => {
    expect(() => orders.fromJson({ asOf: null, books: { main: { open: [] } }, fold: {} })).toThrow(/orders: book "main" is malformed/);
    expect(() => orders.fromJson(null)).toThrow(/orders: expected/);
  });
});
