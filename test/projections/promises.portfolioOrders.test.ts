import { describe, expect, it } from 'vitest';
import { foldProjection, portfolioProjection, ProjectionOptions, type PortfolioData } from '../../src/projections/index.js';
import { fact, recorded, t, view, type Fact } from './fixtures.js';

/* #11: portfolio.json counts each position's live orders (in flight and open). */

const portfolio = portfolioProjection(ProjectionOptions.parse({}));
const project = (facts: Fact[]) => view(portfolio.toJson(foldProjection(portfolio, recorded(facts)))) as Omit<PortfolioData, 'fold'>;

const request = (clientOrderId: string, positionId: string, at: string, intent: 'entry' | 'reduce' = 'entry'): Fact =>
  fact(
    'OrderRequested',
    {
      clientOrderId,
      orderKey: `k-${clientOrderId}`,
      attempt: 1,
      positionId,
      symbol: 'BTC',
      side: intent === 'entry' ? 'buy' : 'sell',
      intent,
      orderType: 'market',
      quantity: 2,
      referencePrice: 100,
    },
    at,
  );

describe('portfolio.json and orders', () => {
  it("shows a position's live orders by group, and nothing once they finished", () => {
    const facts: Fact[] = [
      fact('PositionTracked', { positionId: 'A', symbol: 'BTC', side: 'long' }, t(0)),
      request('o-1', 'A', t(1)),
      request('o-2', 'A', t(2)),
      fact('OrderAccepted', { clientOrderId: 'o-2', externalOrderId: 'x-2' }, t(3)),
      fact('PositionTracked', { positionId: 'B', symbol: 'ETH', side: 'long' }, t(4)),
    ];
    const watching = project(facts).books.main!.positions.WATCHING;
    expect(watching.map((p) => [p.id, p.orders])).toEqual([
      ['A', { inFlight: 1, open: 1 }],
      ['B', undefined],
    ]);
    expect(Object.hasOwn(watching[1]!, 'orders')).toBe(false);

    facts.push(
      fact('OrderRejected', { clientOrderId: 'o-1', reason: 'no' }, t(5)),
      fact('OrderCancelRequested', { clientOrderId: 'o-2' }, t(6)),
    );
    expect(project(facts).books.main!.positions.WATCHING[0]?.orders).toEqual({ inFlight: 1, open: 0 });
    facts.push(fact('OrderCanceled', { clientOrderId: 'o-2', filledQuantity: 0 }, t(7)));
    expect(Object.hasOwn(project(facts).books.main!.positions.WATCHING[0]!, 'orders')).toBe(false);
  });
});
