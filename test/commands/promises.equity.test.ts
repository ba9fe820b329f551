import { describe, expect, it } from 'vitest';
import { BookPolicy, decide, parseCommand } from '../../src/commands/index.js';
import { RiskLimitError } from '../../src/errors/index.js';
import { MemoryEventStore } from '../../src/store/index.js';
import { openTracker } from '../../src/tracker/index.js';
import { deciderSpec, type GivenEvent } from '../../src/testing/index.js';
import { NOW, entered, exited, expectRiskLimit, secondsFrom, tracked } from './fixtures.js';

/*
 * Issue 10 item 3: percentages of equity stop meaning anything once equity is zero or
 * negative (a loss larger than the equity). Equity is 10,000 (the default policy).
 */

const spec = deciderSpec({ now: NOW, policy: { correlationGroups: { tech: ['AAPL', 'MSFT'] } } });

/** Yesterday (so no daily-loss breaker is involved): a round trip on MSFT that lost `loss`. */
function lost(loss: number): GivenEvent[] {
  const at = secondsFrom(-86_400);
  return [
    tracked('L', { symbol: 'MSFT', group: 'tech' }, at),
    entered('L', { symbol: 'MSFT', value: 20_000 }, at),
    exited('L', { symbol: 'MSFT', value: 20_000 - loss, costBasis: 20_000, realizedPnl: -loss }, at),
  ];
}

describe('#10.3 risk rules when no equity is left', () => {
  it('#10.3 refuses an entry adding 20,000 of group risk after a loss larger than the equity (the 6 % cap does not switch off)', () => {
    const error = spec
      .given([...lost(12_000), tracked('A', { symbol: 'AAPL', group: 'tech' })])
      .when({ type: 'Enter', positionId: 'A', value: 20_000 })
      .thenThrows(
        RiskLimitError,
        /^cannot enter "A": rule equity: no equity is left to risk \(equity -2000: starting 10000, realized -12000\), and this entry adds 20000 of risk$/,
      );
    expectRiskLimit(error, 'equity', 0, -2000);
  });

  it('#10.3 refuses an entry that adds risk when equity is exactly zero, with its own message (not "Infinity%")', () => {
    const error = spec
      .given([...lost(10_000), tracked('A', { symbol: 'AAPL', group: 'tech' })])
      .when({ type: 'Enter', positionId: 'A', value: 100 })
      .thenThrows(RiskLimitError, /rule equity: no equity is left to risk/);
    expectRiskLimit(error, 'equity', 0, 0);
  });

  it('#10.3 refuses an ungrouped entry too: with no equity every entry that adds risk is over the cap', () => {
    const error = spec
      .given([...lost(12_000), tracked('N', { symbol: 'NVDA' })])
      .when({ type: 'Enter', positionId: 'N', value: 500 })
      .thenThrows(RiskLimitError, /rule equity/);
    expectRiskLimit(error, 'equity', 0, -2000);
  });

  it('#10.3 still allows an entry that adds no risk (its stop at the entry price)', () => {
    spec
      .given([...lost(12_000), tracked('A', { symbol: 'AAPL', group: 'tech' })])
      .when({ type: 'Enter', positionId: 'A', value: 1000, quantity: 10, price: 100, stop: 100 })
      .then([
        {
          type: 'PositionEntered',
          data: { positionId: 'A', symbol: 'AAPL', side: 'long', value: 1000, quantity: 10, price: 100, stop: 100, source: 'local' },
        },
      ]);
  });

  it('#10.3 the daily-loss breaker trips on any loss once no equity is left, with a limit of 0 (not a negative one)', () => {
    const state = spec.given([...lost(12_000), tracked('A', { symbol: 'AAPL' }), entered('A', { symbol: 'AAPL', value: 1000 })]).state();
    const events = decide(parseCommand({ type: 'Exit', positionId: 'A', value: 990 }), state, { now: NOW, policy: BookPolicy.parse({}) });
    expect(events.map((e) => e.type)).toEqual(['PositionExited', 'CircuitBreakerTripped']);
    expect(events[1]).toMatchObject({
      data: {
        trigger: 'daily_loss',
        dailyPnl: -10,
        limit: 0,
        reason: 'daily realized loss 10 with no equity left (equity -2000 before this exit)',
      },
    });
  });
});

describe('#10.3 the risk summary when no equity is left', () => {
  it('#10.3 tracker.risk() gives no percentage of equity for group risk (not a negative or infinite one)', async () => {
    const tracker = await openTracker({
      store: new MemoryEventStore(),
      maxGroupRiskPct: null,
      dailyLossLimitPct: null,
      correlationGroups: { tech: ['AAPL'] },
    });
    try {
      await tracker.track('A', { symbol: 'AAPL' });
      await tracker.enter('A', { value: 100 });
      await tracker.track('L', { symbol: 'MSFT' });
      await tracker.enter('L', { value: 20_000 });
      await tracker.exit('L', { value: 5_000 });
      const risk = await tracker.risk();
      expect(risk.equity).toBe(-5_000);
      expect(risk.groupRisk).toEqual([{ group: 'tech', risk: 100, pct: null }]);
    } finally {
      await tracker.close();
    }
  });
});
