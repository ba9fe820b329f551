import { describe, expect, it } from 'vitest';
import { EQUITY_CURVE_FILE, equityProjection, foldProjection, ProjectionOptions, type CurvePoint } from '../../src/projections/index.js';
import { curveLine } from '../../src/projections/equity.js';
import { fact, recorded, t, view, type Fact } from './fixtures.js';

const options = ProjectionOptions.parse({ equity: 1000, drawdownBands: { warning: 5, reduce: 10, stop: 20 } });
const equity = equityProjection(options);
const project = (facts: Fact[]) => view(equity.toJson(foldProjection(equity, recorded(facts))));

/** A long position opened at `value` and fully closed with `pnl`, the exit at `at`. */
function trade(id: string, pnl: number, at: string, value = 100): Fact[] {
  return [
    fact('PositionTracked', { positionId: id, side: 'long' }, at),
    fact('PositionEntered', { positionId: id, side: 'long', value }, at),
    fact(
      'PositionExited',
      { positionId: id, side: 'long', fraction: 1, value: value + pnl, costBasis: value, realizedPnl: pnl, full: true },
      at,
    ),
  ];
}

const pct = (amount: number, peak: number): number => (amount / peak) * 100;

describe('equity.json', () => {
  it('draws the curve, follows the peak, measures the deepest drawdown and how long it lasted, and counts trades and streaks', () => {
    const data = project([
      fact('Heartbeat', { at: t(0) }, t(0)),
      ...trade('A', 100, t(10)), //      equity 1100, a new peak
      ...trade('B', -50, t(20)), //      1050: 50 below the peak
      ...trade('C', -80, t(30)), //      970: 130 below, the deepest
      fact('PositionTracked', { positionId: 'D', side: 'long' }, t(35)),
      fact('PositionEntered', { positionId: 'D', side: 'long', value: 200 }, t(35)),
      // Half of D closed at +30: equity 1000; a point on the curve, not a trade.
      fact(
        'PositionExited',
        { positionId: 'D', side: 'long', fraction: 0.5, value: 130, costBasis: 100, realizedPnl: 30, full: false },
        t(40),
      ),
      // The rest at +150: equity 1150, a new peak, the drawdown recovered. D made 180 in all.
      fact(
        'PositionExited',
        { positionId: 'D', side: 'long', fraction: 1, value: 250, costBasis: 100, realizedPnl: 150, full: true },
        t(50),
      ),
      fact('Heartbeat', { at: t(70) }, t(70)),
    ]);
    const curve = [
      { position: 4, at: t(10), positionId: 'A', type: 'exit', pnl: 100, equity: 1100, drawdownPct: 0 },
      { position: 7, at: t(20), positionId: 'B', type: 'exit', pnl: -50, equity: 1050, drawdownPct: pct(50, 1100) },
      { position: 10, at: t(30), positionId: 'C', type: 'exit', pnl: -80, equity: 970, drawdownPct: pct(130, 1100) },
      { position: 13, at: t(40), positionId: 'D', type: 'partial', pnl: 30, equity: 1000, drawdownPct: pct(100, 1100) },
      { position: 14, at: t(50), positionId: 'D', type: 'exit', pnl: 150, equity: 1150, drawdownPct: 0 },
    ] as CurvePoint[];
    const bytes = curve.reduce((n, p) => n + Buffer.byteLength(curveLine('main', p)), 0);
    expect(data).toEqual({
      asOf: t(70),
      series: { file: EQUITY_CURVE_FILE, bytes, points: 5, lastPosition: 14 },
      base: 1000,
      bands: { warning: 5, reduce: 10, stop: 20 },
      books: {
        main: {
          startedAt: t(0),
          equity: 1150,
          realizedPnl: 150,
          returnPct: 15,
          peak: 1150,
          peakAt: t(50),
          drawdown: { amount: 0, pct: 0, since: null, seconds: 0 },
          band: 'normal',
          maxDrawdown: {
            amount: 130,
            pct: pct(130, 1100),
            peak: 1100,
            peakAt: t(10),
            troughAt: t(30),
            recoveredAt: t(50),
            durationSeconds: 40 * 60,
          },
          trades: { count: 4, wins: 2, losses: 2, breakeven: 0, grossProfit: 280, grossLoss: -130, winRate: 0.5, profitFactor: 280 / 130 },
          streaks: { current: { kind: 'win', length: 1 }, longestWin: 1, longestLoss: 2 },
          curve,
          points: 5,
          curveStride: 1,
        },
      },
    });
  });

  it('puts the drawdown now in its band, and an unrecovered drawdown lasts until the latest event', () => {
    const band = (facts: Fact[]) =>
      (project(facts).books as Record<string, { band: string; drawdown: { pct: number; since: string | null; seconds: number } }>).main!;
    expect(band([...trade('A', -40, t(10))]).band).toBe('normal'); // 4%
    expect(band([...trade('A', -50, t(10))]).band).toBe('warning'); // 5%: a band starts at its threshold
    expect(band([...trade('A', -150, t(10))]).band).toBe('reduce'); // 15%
    const deep = band([...trade('A', -250, t(10)), fact('Heartbeat', { at: t(100) }, t(100))]);
    expect(deep).toMatchObject({ band: 'stop', drawdown: { pct: 25, since: t(10), seconds: 90 * 60 } });
    const data = project([...trade('A', -250, t(10)), fact('Heartbeat', { at: t(100) }, t(100))]) as {
      books: { main: { maxDrawdown: unknown } };
    };
    expect(data.books.main.maxDrawdown).toEqual({
      amount: 250,
      pct: 25,
      peak: 1000,
      peakAt: t(10),
      troughAt: t(10),
      recoveredAt: null,
      durationSeconds: 90 * 60,
    });
  });

  it('counts a cleared phantom as a trade, a breakeven as neither win nor loss (it does not break a streak), and the profit factor only with a loss', () => {
    const data = project([
      ...trade('A', -10, t(1)),
      ...trade('B', 0, t(2)),
      ...trade('C', -20, t(3)),
      fact('PositionTracked', { positionId: 'P', side: 'long' }, t(4)),
      fact('PositionEntered', { positionId: 'P', side: 'long', value: 100 }, t(4)),
      fact('PhantomCleared', { positionId: 'P', value: 130, costBasis: 100, realizedPnl: 30, looks: 3, reason: 'gone' }, t(5)),
    ]) as { books: { main: { trades: unknown; streaks: unknown; curve: { type: string }[] } } };
    expect(data.books.main.trades).toEqual({
      count: 4,
      wins: 1,
      losses: 2,
      breakeven: 1,
      grossProfit: 30,
      grossLoss: -30,
      winRate: 0.25,
      profitFactor: 1,
    });
    expect(data.books.main.streaks).toEqual({ current: { kind: 'win', length: 1 }, longestWin: 1, longestLoss: 2 });
    expect(data.books.main.curve.map((p) => p.type)).toEqual(['exit', 'exit', 'exit', 'phantom']);
    const onlyWins = project(trade('A', 10, t(1))) as { books: { main: { trades: { profitFactor: unknown } } } };
    expect(onlyWins.books.main.trades.profitFactor).toBeNull();
  });

  it('rebuilds under another base or other bands: they are part of its version', () => {
    const other = equityProjection(ProjectionOptions.parse({ equity: 2000 }));
    expect(other.version).not.toBe(equity.version);
    expect(equityProjection(ProjectionOptions.parse({ equity: 1000, drawdownBands: { warning: 5, reduce: 10, stop: 20 } })).version).toBe(
      equity.version,
    );
    expect(
      equityProjection(ProjectionOptions.parse({ equity: 1000, drawdownBands: { warning: 3, reduce: 10, stop: 20 } })).version,
    ).not.toBe(equity.version);
    expect(() => other.fromJson(equity.toJson(equity.initialState()))).toThrow(/of this configuration/);
  });
});
