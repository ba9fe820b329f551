import { describe, expect, it } from 'vitest';
import { foldProjection, portfolioProjection, ProjectionOptions } from '../../src/projections/index.js';
import { fact, recorded, t, view, type Fact } from './fixtures.js';

const options = ProjectionOptions.parse({ correlationGroups: { crypto: ['BTC', 'ETH'] } });
const portfolio = portfolioProjection(options);
const project = (facts: Fact[]) => view(portfolio.toJson(foldProjection(portfolio, recorded(facts))));

describe('portfolio.json', () => {
  it('lists positions by state with entry and current value, exposure per symbol and group, orphans, P&L and totals', () => {
    const data = project([
      fact('PositionTracked', { positionId: 'A', symbol: 'BTC', side: 'long', setup: 'breakout' }, t(0)),
      fact('PositionEntered', { positionId: 'A', symbol: 'BTC', side: 'long', value: 1000, quantity: 2, price: 500, stop: 450 }, t(1)),
      fact('PositionValued', { positionId: 'A', value: 1200 }, t(2)),
      fact('PositionTracked', { positionId: 'B', symbol: 'ETH', side: 'long' }, t(3)),
      fact('PositionEntered', { positionId: 'B', symbol: 'ETH', side: 'long', value: 500 }, t(4)),
      fact(
        'PositionExited',
        { positionId: 'B', symbol: 'ETH', side: 'long', fraction: 1, value: 400, costBasis: 500, realizedPnl: -100, full: true },
        t(5),
      ),
      fact('PositionTracked', { positionId: 'C', symbol: 'SOL', side: 'short' }, t(6)),
      fact('PositionValued', { positionId: 'C', value: 50 }, t(7)),
      fact('PositionTracked', { positionId: 'D', side: 'long' }, t(8)),
      fact('PositionSkipped', { positionId: 'D', reason: 'no edge' }, t(9)),
      fact('OrphanDetected', { positionId: 'X', symbol: 'SOL', value: 300 }, t(10)),
    ]);
    const totals = {
      watching: 1,
      open: 1,
      exited: 1,
      skipped: 1,
      entryValue: 1000,
      value: 1200,
      risk: 100,
      realizedPnl: -100,
      unrealizedPnl: 200,
      pnl: 100,
    };
    expect(data).toEqual({
      asOf: t(10),
      books: {
        main: {
          positions: {
            IN: [
              {
                id: 'A',
                status: 'IN',
                symbol: 'BTC',
                venueKey: 'BTC',
                side: 'long',
                setup: 'breakout',
                since: t(1),
                origin: 'entered',
                entryValue: 1000,
                value: 1200,
                quantity: 2,
                price: 500,
                stop: 450,
                // |500 - 450| x 2
                risk: 100,
                realizedPnl: 0,
                unrealizedPnl: 200,
                pnl: 200,
                missedLooks: 0,
              },
            ],
            WATCHING: [{ id: 'C', status: 'WATCHING', symbol: 'SOL', venueKey: 'SOL', side: 'short', since: t(6), value: 50 }],
            EXITED: [
              { id: 'B', status: 'EXITED', symbol: 'ETH', venueKey: 'ETH', side: 'long', since: t(5), realizedPnl: -100, closedBy: 'exit' },
            ],
            SKIPPED: [{ id: 'D', status: 'SKIPPED', side: 'long', since: t(9), reason: 'no edge' }],
          },
          exposure: {
            bySymbol: [{ symbol: 'BTC', positions: 1, entryValue: 1000, value: 1200, unrealizedPnl: 200, risk: 100 }],
            // A was tracked without a group: the configured correlation groups place BTC in crypto.
            byGroup: [{ group: 'crypto', positions: 1, entryValue: 1000, value: 1200, unrealizedPnl: 200, risk: 100 }],
          },
          orphans: [{ positionId: 'X', detectedAt: t(10), value: 300 }],
          totals,
        },
      },
      totals: { books: 1, ...totals },
    });
  });

  it("shrinks the entry value with a partial exit, keeps what was realized, and signs a short position's P&L", () => {
    const data = project([
      fact('PositionTracked', { positionId: 'S', symbol: 'AAPL', side: 'short', group: 'tech' }, t(0)),
      fact('PositionEntered', { positionId: 'S', symbol: 'AAPL', side: 'short', value: 1000 }, t(1)),
      // Half closed while the whole was worth 900: 450 for a cost of 500, +50 on a short.
      fact(
        'PositionExited',
        { positionId: 'S', symbol: 'AAPL', side: 'short', fraction: 0.5, value: 450, costBasis: 500, realizedPnl: 50, full: false },
        t(2),
      ),
    ]) as { books: Record<string, { positions: { IN: unknown[] }; exposure: unknown; totals: unknown }> };
    expect(data.books.main!.positions.IN).toEqual([
      expect.objectContaining({ id: 'S', entryValue: 500, value: 450, risk: 500, realizedPnl: 50, unrealizedPnl: 50, pnl: 100 }),
    ]);
    expect(data.books.main!.exposure).toEqual({
      bySymbol: [{ symbol: 'AAPL', positions: 1, entryValue: 500, value: 450, unrealizedPnl: 50, risk: 500 }],
      byGroup: [{ group: 'tech', positions: 1, entryValue: 500, value: 450, unrealizedPnl: 50, risk: 500 }],
    });
    expect(data.books.main!.totals).toMatchObject({ realizedPnl: 50, unrealizedPnl: 50, pnl: 100 });
  });

  it('keeps books apart, adds them up in the totals, and ignores streams that are not books (but not their time)', () => {
    const data = project([
      fact('PositionTracked', { positionId: 'A', side: 'long' }, t(0), 'one'),
      fact('PositionEntered', { positionId: 'A', side: 'long', value: 100 }, t(1), 'one'),
      fact('PositionTracked', { positionId: 'A', symbol: 'ETH', side: 'long' }, t(2), 'two'),
      fact('PositionEntered', { positionId: 'A', symbol: 'ETH', side: 'long', value: 300 }, t(3), 'two'),
      fact('PositionValued', { positionId: 'A', value: 330 }, t(4), 'two'),
      { ...fact('Heartbeat', { at: t(9), process: 'ops' }, t(9)), stream: 'ops' },
    ]) as { asOf: string; books: Record<string, { totals: { value: number } }>; totals: Record<string, number> };
    expect(Object.keys(data.books)).toEqual(['one', 'two']);
    expect(data.books.one!.totals.value).toBe(100);
    expect(data.books.two!.totals.value).toBe(330);
    expect(data.totals).toMatchObject({ books: 2, open: 2, entryValue: 400, value: 430, unrealizedPnl: 30 });
    // Positions without a symbol or a group are exposure too: under null, listed last.
    expect((data.books.one as unknown as { exposure: unknown }).exposure).toEqual({
      bySymbol: [{ symbol: null, positions: 1, entryValue: 100, value: 100, unrealizedPnl: 0, risk: 100 }],
      byGroup: [{ group: null, positions: 1, entryValue: 100, value: 100, unrealizedPnl: 0, risk: 100 }],
    });
    expect(data.asOf).toBe(t(9));
  });

  it('drops archived positions but keeps what they realized; an adopted orphan is IN and no longer an orphan', () => {
    const data = project([
      fact('PositionTracked', { positionId: 'A', symbol: 'BTC', side: 'long' }, t(0)),
      fact('PositionEntered', { positionId: 'A', symbol: 'BTC', side: 'long', value: 100 }, t(1)),
      fact(
        'PositionExited',
        { positionId: 'A', symbol: 'BTC', side: 'long', fraction: 1, value: 130, costBasis: 100, realizedPnl: 30, full: true },
        t(2),
      ),
      fact('PositionArchived', { positionId: 'A', from: 'EXITED', reason: 'timeout' }, t(3)),
      fact('OrphanDetected', { positionId: 'X', value: 70 }, t(4)),
      fact('OrphanAdopted', { positionId: 'X', side: 'long', value: 70 }, t(5)),
    ]) as {
      books: { main: { positions: Record<string, { id: string; origin?: string }[]>; orphans: unknown[]; totals: Record<string, number> } };
    };
    const main = data.books.main;
    expect(main.positions.EXITED).toEqual([]);
    expect(main.positions.IN!.map((p) => [p.id, p.origin])).toEqual([['X', 'adopted']]);
    expect(main.orphans).toEqual([]);
    expect(main.totals).toMatchObject({ exited: 0, open: 1, realizedPnl: 30, value: 70 });
  });

  it('writes the fold it resumes from, and reads back to the same read model', () => {
    const events = recorded([
      fact('PositionTracked', { positionId: 'A', symbol: 'BTC', side: 'long' }, t(0)),
      fact('PositionEntered', { positionId: 'A', symbol: 'BTC', side: 'long', value: 100 }, t(1)),
    ]);
    const data = portfolio.toJson(foldProjection(portfolio, events));
    expect(Object.keys(data.fold)).toEqual(['main']);
    expect(portfolio.toJson(portfolio.fromJson(JSON.parse(JSON.stringify(data))))).toEqual(data);
    expect(() => portfolio.fromJson({ asOf: null, books: {}, fold: { main: { positions: 'x' } } })).toThrow(/not a folded book/);
  });
});
