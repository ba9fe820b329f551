import { describe, expect, it } from 'vitest';
import { auditProjection, foldProjection, ProjectionOptions, type AuditData } from '../../src/projections/index.js';
import { fact, recorded, t, view, type Fact } from './fixtures.js';

/* #11: audit.json records the order events that matter: rejected, lost, canceled with fills. */

const audit = auditProjection(ProjectionOptions.parse({}));
const project = (facts: Fact[]) => view(audit.toJson(foldProjection(audit, recorded(facts)))) as Omit<AuditData, 'fold'>;

const request = (clientOrderId: string, at: string): Fact =>
  fact(
    'OrderRequested',
    {
      clientOrderId,
      orderKey: `k-${clientOrderId}`,
      attempt: 1,
      positionId: 'A',
      symbol: 'BTC',
      side: 'buy',
      intent: 'entry',
      orderType: 'market',
      quantity: 10,
      referencePrice: 100,
    },
    at,
  );

describe('audit.json and orders', () => {
  it('records rejected, lost and canceled-with-fills orders, not a clean cancel, and reads them back', () => {
    const facts: Fact[] = [
      fact('PositionTracked', { positionId: 'A', symbol: 'BTC', side: 'long' }, t(0)),
      request('o-1', t(1)),
      fact('OrderRejected', { clientOrderId: 'o-1', reason: 'insufficient margin' }, t(2)),
      request('o-2', t(3)),
      fact('OrderLost', { clientOrderId: 'o-2', looks: 3, resolution: 'REJECTED', reason: 'not found at the venue' }, t(4)),
      request('o-3', t(5)),
      fact('OrderFilled', { clientOrderId: 'o-3', tradeId: 'tr-1', quantity: 4, price: 100, fee: 0, inferred: false }, t(6)),
      fact('OrderCanceled', { clientOrderId: 'o-3', filledQuantity: 4 }, t(7)),
      request('o-4', t(8)),
      fact('OrderCanceled', { clientOrderId: 'o-4', filledQuantity: 0 }, t(9)),
      // About an order the book never had: nothing.
      fact('OrderRejected', { clientOrderId: 'o-9', reason: 'x' }, t(10)),
    ];
    const book = project(facts).books.main!;
    expect(book.orders).toEqual([
      {
        kind: 'rejected',
        clientOrderId: 'o-1',
        positionId: 'A',
        symbol: 'BTC',
        at: t(2),
        position: 3,
        quantity: 10,
        filledQuantity: 0,
        reason: 'insufficient margin',
      },
      {
        kind: 'lost',
        clientOrderId: 'o-2',
        positionId: 'A',
        symbol: 'BTC',
        at: t(4),
        position: 5,
        quantity: 10,
        filledQuantity: 0,
        reason: 'not found at the venue',
      },
      {
        kind: 'canceled_with_fills',
        clientOrderId: 'o-3',
        positionId: 'A',
        symbol: 'BTC',
        at: t(7),
        position: 8,
        quantity: 10,
        filledQuantity: 4,
      },
    ]);
    expect(book.totals.orders).toEqual({ rejected: 1, lost: 1, canceledWithFills: 1, lateFills: 0 });
    const events = recorded(facts);
    const state = audit.fromJson(JSON.parse(JSON.stringify(audit.toJson(foldProjection(audit, events.slice(0, 5))))));
    let s = state;
    for (const e of events.slice(5)) s = audit.evolve(s, e);
    expect(audit.toJson(s)).toEqual(audit.toJson(foldProjection(audit, events)));
  });

  it('records a fill of its own order that reconciliation or recovery found as recorded late (with the venue time), not one the bot heard, nor a duplicate', () => {
    const facts: Fact[] = [
      fact('PositionTracked', { positionId: 'A', symbol: 'BTC', side: 'long' }, t(0)),
      request('o-1', t(1)),
      // The bot heard of this one itself.
      fact('OrderFilled', { clientOrderId: 'o-1', tradeId: 'tr-1', quantity: 4, price: 100, fee: 0, inferred: false }, t(2)),
      // The bot died before hearing of these: recovery and reconciliation found them at the venue.
      {
        ...fact(
          'OrderFilled',
          { clientOrderId: 'o-1', tradeId: 'tr-2', quantity: 3, price: 101, fee: 0, inferred: false, filledAt: t(2) },
          t(5),
        ),
        source: 'recovery',
      },
      {
        ...fact('OrderFilled', { clientOrderId: 'o-1', tradeId: 'tr-3', quantity: 3, price: 102, fee: 0, inferred: true }, t(9)),
        source: 'reconcile',
      },
      // A second report of a trade the book already has changes nothing.
      {
        ...fact('OrderFilled', { clientOrderId: 'o-1', tradeId: 'tr-2', quantity: 3, price: 101, fee: 0, inferred: false }, t(10)),
        source: 'reconcile',
      },
    ];
    const book = project(facts).books.main!;
    expect(book.orders).toEqual([
      {
        kind: 'late_fill',
        clientOrderId: 'o-1',
        positionId: 'A',
        symbol: 'BTC',
        at: t(5),
        position: 4,
        quantity: 3,
        filledQuantity: 7,
        tradeId: 'tr-2',
        price: 101,
        filledAt: t(2),
        lateSeconds: 180,
      },
      {
        kind: 'late_fill',
        clientOrderId: 'o-1',
        positionId: 'A',
        symbol: 'BTC',
        at: t(9),
        position: 5,
        quantity: 3,
        filledQuantity: 10,
        tradeId: 'tr-3',
        price: 102,
      },
    ]);
    expect(book.totals.orders).toEqual({ rejected: 0, lost: 0, canceledWithFills: 0, lateFills: 2 });
    // No orphan: what appeared outside was the book's own order's fill.
    expect(book.orphans).toEqual([]);
  });
});
