import { describe, expect, it } from 'vitest';
import { foldProjection, performanceProjection, ProjectionOptions } from '../../src/projections/index.js';
import { fact, recorded, t, view, type Fact } from './fixtures.js';

const performance = performanceProjection(ProjectionOptions.parse({}));
const project = (facts: Fact[]) => view(performance.toJson(foldProjection(performance, recorded(facts))));

function trade(id: string, setup: string | undefined, pnl: number, at: string): Fact[] {
  return [
    fact('PositionTracked', { positionId: id, side: 'long', ...(setup ? { setup } : {}) }, at),
    fact('PositionEntered', { positionId: id, side: 'long', value: 1000 }, at),
    fact(
      'PositionExited',
      { positionId: id, side: 'long', fraction: 1, value: 1000 + pnl, costBasis: 1000, realizedPnl: pnl, full: true },
      at,
    ),
  ];
}

describe('performance.json', () => {
  it('scores each setup on its closed trades and sorts them by expectancy', () => {
    const data = project([
      ...trade('A', 'breakout', 100, t(1)),
      ...trade('B', 'breakout', -50, t(2)),
      // C is one trade of +200, closed in two steps: the partial exit is not a trade of its own.
      fact('PositionTracked', { positionId: 'C', side: 'long', setup: 'breakout' }, t(3)),
      fact('PositionEntered', { positionId: 'C', side: 'long', value: 1000 }, t(3)),
      fact(
        'PositionExited',
        { positionId: 'C', side: 'long', fraction: 0.5, value: 550, costBasis: 500, realizedPnl: 50, full: false },
        t(4),
      ),
      fact(
        'PositionExited',
        { positionId: 'C', side: 'long', fraction: 1, value: 650, costBasis: 500, realizedPnl: 150, full: true },
        t(5),
      ),
      ...trade('D', 'dip', -40, t(6)),
      // A phantom cleared at cost: a breakeven trade of its setup.
      fact('PositionTracked', { positionId: 'E', side: 'long', setup: 'dip' }, t(7)),
      fact('PositionEntered', { positionId: 'E', side: 'long', value: 300 }, t(7)),
      fact('PhantomCleared', { positionId: 'E', value: 300, costBasis: 300, realizedPnl: 0, looks: 3, reason: 'gone' }, t(8)),
      ...trade('F', undefined, 10, t(9)),
      // Still open: not a trade yet.
      fact('PositionTracked', { positionId: 'G', side: 'long', setup: 'dip' }, t(10)),
      fact('PositionEntered', { positionId: 'G', side: 'long', value: 100 }, t(10)),
    ]);
    expect(data).toEqual({
      books: {
        main: {
          setups: [
            {
              setup: 'breakout',
              trades: 3,
              wins: 2,
              losses: 1,
              breakeven: 0,
              grossProfit: 300,
              grossLoss: -50,
              winRate: 2 / 3,
              avgWin: 150,
              avgLoss: -50,
              expectancy: 250 / 3,
              profitFactor: 6,
              totalPnl: 250,
            },
            {
              setup: null,
              trades: 1,
              wins: 1,
              losses: 0,
              breakeven: 0,
              grossProfit: 10,
              grossLoss: 0,
              winRate: 1,
              avgWin: 10,
              avgLoss: null,
              expectancy: 10,
              profitFactor: null,
              totalPnl: 10,
            },
            {
              setup: 'dip',
              trades: 2,
              wins: 0,
              losses: 1,
              breakeven: 1,
              grossProfit: 0,
              grossLoss: -40,
              winRate: 0,
              avgWin: null,
              avgLoss: -40,
              expectancy: -20,
              profitFactor: 0,
              totalPnl: -40,
            },
          ],
          totals: {
            trades: 6,
            wins: 3,
            losses: 2,
            breakeven: 1,
            grossProfit: 310,
            grossLoss: -90,
            winRate: 0.5,
            avgWin: 310 / 3,
            avgLoss: -45,
            expectancy: 220 / 6,
            profitFactor: 310 / 90,
            totalPnl: 220,
          },
        },
      },
    });
  });

  it('credits an adopted orphan to the setup it was adopted with, and starts a new lifecycle of an id afresh', () => {
    const data = project([
      fact('OrphanAdopted', { positionId: 'X', side: 'long', value: 100, setup: 'adopted' }, t(1)),
      fact('PositionExited', { positionId: 'X', side: 'long', fraction: 1, value: 90, costBasis: 100, realizedPnl: -10, full: true }, t(2)),
      fact('PositionArchived', { positionId: 'X', from: 'EXITED', reason: 'manual' }, t(3)),
      ...trade('X', 'trend', 25, t(4)),
    ]) as { books: { main: { setups: { setup: string | null; totalPnl: number }[] } } };
    expect(data.books.main.setups.map((s) => [s.setup, s.totalPnl])).toEqual([
      ['trend', 25],
      ['adopted', -10],
    ]);
  });
});
