import { describe, expect, it } from 'vitest';
import {
  auditProjection,
  equityProjection,
  foldProjection,
  performanceProjection,
  portfolioProjection,
  ProjectionOptions,
  riskProjection,
  type Projection,
} from '../../src/projections/index.js';
import { fact, recorded, t, view, type Fact } from './fixtures.js';

/*
 * PositionIncreased (a later entry fill of an order) in every read model: the position's
 * quantity and cost basis add up, its value is the new price on the whole, its risk is the
 * average entry's distance to the stop; the closed trade's P&L counts the whole position.
 */

const options = ProjectionOptions.parse({ equity: 10_000, correlationGroups: { crypto: ['BTC'] } });

/** A long BTC position: 1 at 100 (stop 90), grown by 1 at 120. */
function grown(stop: number | undefined): Fact[] {
  return [
    fact('PositionTracked', { positionId: 'A', symbol: 'BTC', side: 'long', setup: 'dip' }, t(0)),
    fact(
      'PositionEntered',
      { positionId: 'A', symbol: 'BTC', side: 'long', value: 100, quantity: 1, price: 100, ...(stop === undefined ? {} : { stop }) },
      t(1),
    ),
    fact('PositionIncreased', { positionId: 'A', quantity: 1, value: 120, price: 120 }, t(2)),
  ];
}

const exitAll = fact(
  'PositionExited',
  {
    positionId: 'A',
    symbol: 'BTC',
    side: 'long',
    fraction: 1,
    quantity: 2,
    value: 260,
    price: 130,
    costBasis: 220,
    realizedPnl: 40,
    full: true,
  },
  t(3),
);

const portfolio = portfolioProjection(options);
const risk = riskProjection(options);
const equity = equityProjection(options);
const performance = performanceProjection(options);
const audit = auditProjection(options);

/** The main book of a read model folded from `facts` (its persisted fold left out, as bots read it). */
function mainBook<S, D extends { books: Record<string, unknown> }>(projection: Projection<S, D>, facts: Fact[]): D['books'][string] {
  const data = view(projection.toJson(foldProjection(projection, recorded(facts)))) as unknown as D;
  return data.books.main as D['books'][string];
}

describe('PositionIncreased in the read models', () => {
  it('portfolio: quantity and cost basis add up, value is the new price x the whole quantity, risk from the average entry', () => {
    const data = mainBook(portfolio, grown(90));
    expect(data?.positions.IN).toEqual([
      expect.objectContaining({
        id: 'A',
        quantity: 2,
        entryValue: 220,
        value: 240,
        price: 120,
        stop: 90,
        // average entry 110, |110 - 90| x 2
        risk: 40,
        unrealizedPnl: 20,
      }),
    ]);
    expect(data?.exposure.byGroup).toEqual([{ group: 'crypto', positions: 1, entryValue: 220, value: 240, unrealizedPnl: 20, risk: 40 }]);
  });

  it('portfolio: without a stop the whole cost basis is at risk', () => {
    const data = mainBook(portfolio, grown(undefined));
    expect(data?.positions.IN[0]).toMatchObject({ quantity: 2, entryValue: 220, risk: 220 });
  });

  it('risk: the heat counts the grown risk; a grow is no new entry', () => {
    const data = mainBook(risk, grown(90));
    expect(data?.heat).toMatchObject({
      openRisk: 40,
      positions: [{ id: 'A', risk: 40, value: 240 }],
      byGroup: [{ group: 'crypto', risk: 40 }],
    });
    expect(data?.today).toMatchObject({ entries: 1 });
  });

  it('equity and performance: the exit of the grown position realizes the P&L of the whole', () => {
    const equityBook = mainBook(equity, [...grown(90), exitAll]);
    expect(equityBook).toMatchObject({ realizedPnl: 40, equity: 10_040 });
    const performanceBook = mainBook(performance, [...grown(90), exitAll]);
    expect(performanceBook?.setups).toEqual([expect.objectContaining({ setup: 'dip', trades: 1, wins: 1, totalPnl: 40 })]);
  });

  it('audit: a suspected phantom that grows is still IN, so its episode stays open', () => {
    const facts = [...grown(90)];
    facts.splice(2, 0, fact('PhantomSuspected', { positionId: 'A', looks: 1 }, t(1)));
    const data = mainBook(audit, facts);
    expect(data?.phantoms).toEqual([expect.objectContaining({ positionId: 'A', resolution: 'open', resolvedAt: null })]);
  });
});
