import { describe, it } from 'vitest';
import type { CommandInput } from '../../src/commands/index.js';
import { InvalidTransitionError, RiskLimitError } from '../../src/errors/index.js';
import { deciderSpec, type GivenEvent } from '../../src/testing/index.js';
import {
  NOW,
  adopted,
  breakerReset,
  breakerTripped,
  cooldownStarted,
  entered,
  exited,
  expectInvalidTransition,
  expectRiskLimit,
  iso,
  roundTrip,
  secondsFrom,
  tracked,
} from './fixtures.js';

/*
 * The rules an entry must pass, and the book-wide switches that stop entries: the circuit
 * breaker and per-symbol cooldowns. Every refusal is a RiskLimitError naming the rule, its
 * limit and the value that broke it. Equity is 10,000 (the default policy) throughout.
 */

const spec = deciderSpec({ now: NOW });

/** What a successful Enter of a plain long on `symbol` at `value` produces. */
function enteredEvent(
  positionId: string,
  symbol: string | undefined,
  value: number,
  extra: { quantity?: number; price?: number; stop?: number; side?: 'long' | 'short' } = {},
) {
  const { side = 'long', ...rest } = extra;
  return [
    {
      type: 'PositionEntered' as const,
      data: { positionId, ...(symbol === undefined ? {} : { symbol }), side, value, ...rest, source: 'local' as const },
    },
  ];
}

describe('risk rules', () => {
  describe('maxPositions', () => {
    const capped = deciderSpec({ now: NOW, policy: { maxPositions: 2 } });
    const enterC: CommandInput = { type: 'Enter', positionId: 'C', value: 1000 };

    it('refuses an entry when the book already holds maxPositions positions IN, adopted ones included', () => {
      const history = [
        tracked('A', { symbol: 'AAPL' }),
        entered('A', { symbol: 'AAPL', value: 1000 }),
        adopted('B', { symbol: 'MSFT', value: 1000 }),
        tracked('C', { symbol: 'NVDA' }),
      ];
      const error = capped
        .given(history)
        .when(enterC)
        .thenThrows(RiskLimitError, /^cannot enter "C": rule maxPositions: 2 positions are IN, the limit is 2$/);
      expectRiskLimit(error, 'maxPositions', 2, 2);
    });

    it('allows an entry below the cap', () => {
      capped
        .given([tracked('A', { symbol: 'AAPL' }), entered('A', { symbol: 'AAPL', value: 1000 }), tracked('C', { symbol: 'NVDA' })])
        .when(enterC)
        .then(enteredEvent('C', 'NVDA', 1000));
    });

    it('counts only what is IN: an exit frees a place', () => {
      capped
        .given([...roundTrip('A', 'AAPL', 0), adopted('B', { symbol: 'MSFT', value: 1000 }), tracked('C', { symbol: 'NVDA' })])
        .when(enterC)
        .then(enteredEvent('C', 'NVDA', 1000));
    });
  });

  describe('duplicate open symbol', () => {
    const aaplIn = [tracked('A', { symbol: 'AAPL' }), entered('A', { symbol: 'AAPL', value: 1000 })];
    const enterB: CommandInput = { type: 'Enter', positionId: 'B', value: 1000 };

    it('refuses entering a symbol that is already IN', () => {
      const error = spec
        .given([...aaplIn, tracked('B', { symbol: 'AAPL' })])
        .when(enterB)
        .thenThrows(
          RiskLimitError,
          /^cannot enter "B": rule duplicateSymbol: AAPL is already IN \(1 open, the limit is 1: duplicate open symbols are refused\)$/,
        );
      expectRiskLimit(error, 'duplicateSymbol', 1, 1);
    });

    it('counts an adopted position on the symbol', () => {
      const error = spec
        .given([adopted('A', { symbol: 'AAPL', value: 1000 }), tracked('B', { symbol: 'AAPL' })])
        .when(enterB)
        .thenThrows(RiskLimitError, /rule duplicateSymbol: AAPL is already IN/);
      expectRiskLimit(error, 'duplicateSymbol', 1, 1);
    });

    it('allows it with rejectDuplicateSymbol: false', () => {
      deciderSpec({ now: NOW, policy: { rejectDuplicateSymbol: false } })
        .given([...aaplIn, tracked('B', { symbol: 'AAPL' })])
        .when(enterB)
        .then(enteredEvent('B', 'AAPL', 1000));
    });

    it('allows the symbol again once its position has exited', () => {
      spec
        .given([...roundTrip('A', 'AAPL', 100), tracked('B', { symbol: 'AAPL' })])
        .when(enterB)
        .then(enteredEvent('B', 'AAPL', 1000));
    });

    it('does not apply to positions without a symbol', () => {
      spec
        .given([tracked('A'), entered('A', { value: 1000 }), tracked('B')])
        .when(enterB)
        .then(enteredEvent('B', undefined, 1000));
    });
  });

  describe('correlation-group risk cap (maxGroupRiskPct, 6% of equity by default)', () => {
    const grouped = deciderSpec({ now: NOW, policy: { correlationGroups: { tech: ['AAPL', 'MSFT'] } } });
    /** MSFT IN in group tech with 300 at risk: |100 - 70| x 10. */
    const msftAtRisk300 = [
      tracked('M', { symbol: 'MSFT', group: 'tech' }),
      entered('M', { symbol: 'MSFT', value: 1000, quantity: 10, price: 100, stop: 70 }),
    ];
    const aaplWatched = tracked('A', { symbol: 'AAPL', group: 'tech' });

    describe('the group', () => {
      it('is resolved from policy.correlationGroups when the position is tracked', () => {
        grouped
          .given([])
          .when({ type: 'Track', positionId: 'A', symbol: 'AAPL' })
          .then([{ type: 'PositionTracked', data: { positionId: 'A', symbol: 'AAPL', side: 'long', group: 'tech', source: 'local' } }]);
      });

      it("is the position's own group when it has one", () => {
        grouped
          .given([])
          .when({ type: 'Track', positionId: 'A', symbol: 'AAPL', group: 'mine' })
          .then([{ type: 'PositionTracked', data: { positionId: 'A', symbol: 'AAPL', side: 'long', group: 'mine', source: 'local' } }]);
      });

      it('is resolved from the policy for an adopted orphan too', () => {
        grouped
          .given([])
          .when({ type: 'AdoptOrphan', positionId: 'M', symbol: 'MSFT', value: 1000 })
          .then([
            { type: 'OrphanAdopted', data: { positionId: 'M', symbol: 'MSFT', side: 'long', value: 1000, group: 'tech', source: 'local' } },
          ]);
      });

      it('is the one recorded at Track, even if the policy has changed since', () => {
        const error = deciderSpec({ now: NOW })
          .given([...msftAtRisk300, aaplWatched])
          .when({ type: 'Enter', positionId: 'A', value: 1000, quantity: 10, price: 100, stop: 65 })
          .thenThrows(RiskLimitError, /rule maxGroupRiskPct: group "tech"/);
        expectRiskLimit(error, 'maxGroupRiskPct', 6, 6.5);
      });
    });

    it('refuses an entry that would put more than the cap of equity at risk in the group: risk = |entry - stop| x quantity', () => {
      const error = grouped
        .given([...msftAtRisk300, aaplWatched])
        .when({ type: 'Enter', positionId: 'A', value: 1000, quantity: 10, price: 100, stop: 65 })
        .thenThrows(
          RiskLimitError,
          /^cannot enter "A": rule maxGroupRiskPct: group "tech" would have 6\.50% of equity at risk \(open 3\.00% \+ this 3\.50%\), the limit is 6\.00%$/,
        );
      expectRiskLimit(error, 'maxGroupRiskPct', 6, 6.5);
    });

    it('allows an entry that brings the group exactly to the cap', () => {
      grouped
        .given([...msftAtRisk300, aaplWatched])
        .when({ type: 'Enter', positionId: 'A', value: 1000, quantity: 10, price: 100, stop: 70 })
        .then(enteredEvent('A', 'AAPL', 1000, { quantity: 10, price: 100, stop: 70 }));
    });

    it('takes value / quantity as the entry price when no price is given', () => {
      const error = grouped
        .given([...msftAtRisk300, aaplWatched])
        .when({ type: 'Enter', positionId: 'A', value: 1000, quantity: 10, stop: 65 })
        .thenThrows(RiskLimitError, /this 3\.50%/);
      expectRiskLimit(error, 'maxGroupRiskPct', 6, 6.5);
    });

    it('measures a short from a stop above the entry', () => {
      const error = grouped
        .given([...msftAtRisk300, tracked('A', { symbol: 'AAPL', group: 'tech', side: 'short' })])
        .when({ type: 'Enter', positionId: 'A', value: 1000, quantity: 10, price: 100, stop: 135 })
        .thenThrows(RiskLimitError, /this 3\.50%/);
      expectRiskLimit(error, 'maxGroupRiskPct', 6, 6.5);
    });

    it('counts the whole value of an entry without a stop', () => {
      const error = grouped
        .given([...msftAtRisk300, aaplWatched])
        .when({ type: 'Enter', positionId: 'A', value: 350 })
        .thenThrows(RiskLimitError, /would have 6\.50% of equity at risk \(open 3\.00% \+ this 3\.50%\)/);
      expectRiskLimit(error, 'maxGroupRiskPct', 6, 6.5);
    });

    it('counts the whole value of an entry with a stop but no quantity to size it', () => {
      const error = grouped
        .given([...msftAtRisk300, aaplWatched])
        .when({ type: 'Enter', positionId: 'A', value: 350, stop: 99 })
        .thenThrows(RiskLimitError, /this 3\.50%/);
      expectRiskLimit(error, 'maxGroupRiskPct', 6, 6.5);
    });

    it('counts the whole value of an open position without a stop', () => {
      const error = grouped
        .given([tracked('M', { symbol: 'MSFT', group: 'tech' }), entered('M', { symbol: 'MSFT', value: 500 }), aaplWatched])
        .when({ type: 'Enter', positionId: 'A', value: 1000, quantity: 10, price: 100, stop: 89 })
        .thenThrows(RiskLimitError, /would have 6\.10% of equity at risk \(open 5\.00% \+ this 1\.10%\)/);
      expectRiskLimit(error, 'maxGroupRiskPct', 6, 6.1);
    });

    it('sums the risk of every open position in the group', () => {
      const history = [
        ...msftAtRisk300,
        tracked('G', { symbol: 'GOOG', group: 'tech' }),
        entered('G', { symbol: 'GOOG', value: 1000, quantity: 10, price: 100, stop: 80 }),
        aaplWatched,
      ];
      const error = grouped
        .given(history)
        .when({ type: 'Enter', positionId: 'A', value: 1000, quantity: 10, price: 100, stop: 85 })
        .thenThrows(RiskLimitError, /would have 6\.50% of equity at risk \(open 5\.00% \+ this 1\.50%\)/);
      expectRiskLimit(error, 'maxGroupRiskPct', 6, 6.5);
    });

    it('does not count the risk of another group', () => {
      grouped
        .given([...msftAtRisk300, tracked('A', { symbol: 'AAPL', group: 'other' })])
        .when({ type: 'Enter', positionId: 'A', value: 1000, quantity: 10, price: 100, stop: 65 })
        .then(enteredEvent('A', 'AAPL', 1000, { quantity: 10, price: 100, stop: 65 }));
    });

    it('does not cap a position without a group', () => {
      grouped
        .given([...msftAtRisk300, tracked('X', { symbol: 'XYZ' })])
        .when({ type: 'Enter', positionId: 'X', value: 5000 })
        .then(enteredEvent('X', 'XYZ', 5000));
    });

    it('frees the closed part of the risk on a partial exit', () => {
      grouped
        .given([
          ...msftAtRisk300,
          exited('M', { symbol: 'MSFT', fraction: 0.5, full: false, quantity: 5, value: 500, costBasis: 500, realizedPnl: 0 }),
          aaplWatched,
        ])
        .when({ type: 'Enter', positionId: 'A', value: 1000, quantity: 10, price: 100, stop: 65 })
        .then(enteredEvent('A', 'AAPL', 1000, { quantity: 10, price: 100, stop: 65 }));
    });

    it('frees all of it on a full exit', () => {
      grouped
        .given([...msftAtRisk300, exited('M', { symbol: 'MSFT', quantity: 10, value: 1000, costBasis: 1000, realizedPnl: 0 }), aaplWatched])
        .when({ type: 'Enter', positionId: 'A', value: 1000, quantity: 10, price: 100, stop: 45 })
        .then(enteredEvent('A', 'AAPL', 1000, { quantity: 10, price: 100, stop: 45 }));
    });

    it('is a percentage of current equity: the starting equity plus realized P&L', () => {
      // A 400 loss leaves 9,600: 300 + 280 at risk is 6.04% of it (it would be 5.80% of 10,000).
      const error = grouped
        .given([...roundTrip('X', 'XYZ', -400), ...msftAtRisk300, aaplWatched])
        .when({ type: 'Enter', positionId: 'A', value: 1000, quantity: 10, price: 100, stop: 72 })
        .thenThrows(
          RiskLimitError,
          /^cannot enter "A": rule maxGroupRiskPct: group "tech" would have 6\.04% of equity at risk \(open 3\.13% \+ this 2\.92%\), the limit is 6\.00%$/,
        );
      expectRiskLimit(error, 'maxGroupRiskPct', 6, 6.04);
    });

    it('follows the policy cap, and is off when null', () => {
      const enter: CommandInput = { type: 'Enter', positionId: 'A', value: 1000, quantity: 10, price: 100, stop: 65 };
      const error = deciderSpec({ now: NOW, policy: { maxGroupRiskPct: 5 } })
        .given([...msftAtRisk300, aaplWatched])
        .when(enter)
        .thenThrows(RiskLimitError, /the limit is 5\.00%$/);
      expectRiskLimit(error, 'maxGroupRiskPct', 5, 6.5);
      deciderSpec({ now: NOW, policy: { maxGroupRiskPct: null } })
        .given([...msftAtRisk300, aaplWatched])
        .when(enter)
        .then(enteredEvent('A', 'AAPL', 1000, { quantity: 10, price: 100, stop: 65 }));
    });
  });

  describe('per-symbol consecutive-loss cap (maxConsecutiveLossesPerSymbol, 3 by default)', () => {
    const at = (hourUtc: number, day = 5) => new Date(Date.UTC(2026, 0, day, hourUtc));
    const losses = (symbol: string, ...times: Date[]): GivenEvent[] =>
      times.flatMap((t, i) => roundTrip(`${symbol}-L${i}`, symbol, -100, t));
    const enterAapl: CommandInput = { type: 'Enter', positionId: 'A', value: 1000 };
    const watchAapl = tracked('A', { symbol: 'AAPL' });

    it('refuses a symbol that lost maxConsecutiveLossesPerSymbol times in a row today', () => {
      const error = spec
        .given([...losses('AAPL', at(9), at(10), at(11)), watchAapl])
        .when(enterAapl)
        .thenThrows(
          RiskLimitError,
          /^cannot enter "A": rule maxConsecutiveLossesPerSymbol: AAPL lost 3 times in a row today, the limit is 3$/,
        );
      expectRiskLimit(error, 'maxConsecutiveLossesPerSymbol', 3, 3);
    });

    it('allows it after fewer losses', () => {
      spec
        .given([...losses('AAPL', at(9), at(10)), watchAapl])
        .when(enterAapl)
        .then(enteredEvent('A', 'AAPL', 1000));
    });

    it('starts counting again after a winning exit', () => {
      spec
        .given([
          ...losses('AAPL', at(8), at(9)),
          ...roundTrip('AAPL-W', 'AAPL', 50, at(10)),
          ...roundTrip('AAPL-L', 'AAPL', -100, at(11)),
          watchAapl,
        ])
        .when(enterAapl)
        .then(enteredEvent('A', 'AAPL', 1000));
    });

    it('judges a lifecycle by its whole P&L, partial exits included', () => {
      const lossThenWin = [
        tracked('P', { symbol: 'AAPL' }, at(11)),
        entered('P', { symbol: 'AAPL', value: 1000 }, at(11)),
        exited('P', { symbol: 'AAPL', fraction: 0.5, full: false, value: 450, costBasis: 500, realizedPnl: -50 }, at(11)),
        exited('P', { symbol: 'AAPL', value: 600, costBasis: 500, realizedPnl: 100 }, at(11)),
      ];
      spec
        .given([...losses('AAPL', at(9), at(10)), ...lossThenWin, watchAapl])
        .when(enterAapl)
        .then(enteredEvent('A', 'AAPL', 1000));
    });

    it('is per symbol: other symbols are not refused', () => {
      spec
        .given([...losses('AAPL', at(9), at(10), at(11)), tracked('M', { symbol: 'MSFT' })])
        .when({ type: 'Enter', positionId: 'M', value: 1000 })
        .then(enteredEvent('M', 'MSFT', 1000));
    });

    it('is lifted by a new day', () => {
      spec
        .given([...losses('AAPL', at(9), at(10), at(11)), watchAapl])
        .when(enterAapl, { now: at(9, 6) })
        .then(enteredEvent('A', 'AAPL', 1000));
    });

    it("does not add yesterday's losses to today's", () => {
      spec
        .given([...losses('AAPL', at(23, 4), at(9), at(10)), watchAapl])
        .when(enterAapl)
        .then(enteredEvent('A', 'AAPL', 1000));
    });

    it("draws the day's boundary in the policy's time zone", () => {
      const history = [...losses('AAPL', at(15), at(16), at(17)), watchAapl];
      // 03:00 UTC on the 6th is still the 5th in New York.
      const error = deciderSpec({ now: NOW, policy: { timeZone: 'America/New_York' } })
        .given(history)
        .when(enterAapl, { now: at(3, 6) })
        .thenThrows(RiskLimitError, /AAPL lost 3 times in a row today/);
      expectRiskLimit(error, 'maxConsecutiveLossesPerSymbol', 3, 3);
      spec
        .given(history)
        .when(enterAapl, { now: at(3, 6) })
        .then(enteredEvent('A', 'AAPL', 1000));
    });

    it('follows the policy cap, and is off when null', () => {
      const history = [...losses('AAPL', at(9), at(10)), watchAapl];
      const error = deciderSpec({ now: NOW, policy: { maxConsecutiveLossesPerSymbol: 2 } })
        .given(history)
        .when(enterAapl)
        .thenThrows(RiskLimitError, /AAPL lost 2 times in a row today, the limit is 2$/);
      expectRiskLimit(error, 'maxConsecutiveLossesPerSymbol', 2, 2);
      deciderSpec({ now: NOW, policy: { maxConsecutiveLossesPerSymbol: null } })
        .given([...losses('AAPL', at(7), at(8), at(9), at(10)), watchAapl])
        .when(enterAapl)
        .then(enteredEvent('A', 'AAPL', 1000));
    });
  });

  describe('minPositionValue', () => {
    const dusty = deciderSpec({ now: NOW, policy: { minPositionValue: 50 } });

    it('refuses an entry below it', () => {
      const error = dusty
        .given([tracked('A', { symbol: 'AAPL' })])
        .when({ type: 'Enter', positionId: 'A', value: 49.99 })
        .thenThrows(RiskLimitError, /^cannot enter "A": rule minPositionValue: value 49\.99 is below the minimum 50$/);
      expectRiskLimit(error, 'minPositionValue', 50, 49.99);
    });

    it('allows an entry at it', () => {
      dusty
        .given([tracked('A', { symbol: 'AAPL' })])
        .when({ type: 'Enter', positionId: 'A', value: 50 })
        .then(enteredEvent('A', 'AAPL', 50));
    });

    it('refuses to adopt dust', () => {
      const error = spec
        .given([])
        .when({ type: 'AdoptOrphan', positionId: 'Z', value: 0.5 })
        .thenThrows(RiskLimitError, /^cannot adopt "Z": rule minPositionValue: value 0\.5 is below the minimum 1 \(dust\)$/);
      expectRiskLimit(error, 'minPositionValue', 1, 0.5);
    });
  });
});

describe('circuit breaker and cooldowns', () => {
  const watchA = tracked('A', { symbol: 'AAPL' });
  const enterA: CommandInput = { type: 'Enter', positionId: 'A', value: 1000 };

  describe('tripped by hand', () => {
    it('trips until reset when no duration is given', () => {
      spec
        .given([])
        .when({ type: 'TripCircuitBreaker', reason: 'exchange outage' })
        .then([{ type: 'CircuitBreakerTripped', data: { trigger: 'manual', reason: 'exchange outage', source: 'local' } }]);
    });

    it('trips for a number of seconds', () => {
      spec
        .given([])
        .when({ type: 'TripCircuitBreaker', reason: 'exchange outage', seconds: 3600 })
        .then([
          {
            type: 'CircuitBreakerTripped',
            data: { trigger: 'manual', reason: 'exchange outage', until: '2026-01-05T13:00:00.000Z', source: 'local' },
          },
        ]);
    });

    it('refuses entries until reset', () => {
      const error = spec
        .given([breakerTripped({ reason: 'exchange outage' }), watchA])
        .when(enterA, { now: secondsFrom(30 * 86_400) })
        .thenThrows(
          RiskLimitError,
          /^cannot enter "A": rule circuitBreaker: the circuit breaker is tripped \(exchange outage\) until reset$/,
        );
      expectRiskLimit(error, 'circuitBreaker', 'until reset', 'tripped');
    });

    it('refuses entries until it expires', () => {
      const error = spec
        .given([breakerTripped({ reason: 'exchange outage', until: iso(secondsFrom(3600)) }), watchA])
        .when(enterA, { now: secondsFrom(3599) })
        .thenThrows(
          RiskLimitError,
          /^cannot enter "A": rule circuitBreaker: the circuit breaker is tripped \(exchange outage\) until 2026-01-05T13:00:00\.000Z$/,
        );
      expectRiskLimit(error, 'circuitBreaker', '2026-01-05T13:00:00.000Z', 'tripped');
    });

    it('allows entries again once it has expired', () => {
      spec
        .given([breakerTripped({ reason: 'exchange outage', until: iso(secondsFrom(3600)) }), watchA])
        .when(enterA, { now: secondsFrom(3600) })
        .then(enteredEvent('A', 'AAPL', 1000));
    });

    it('still lets positions be tracked, valued and exited', () => {
      const tripped = [breakerTripped(), tracked('B', { symbol: 'MSFT' }), entered('B', { symbol: 'MSFT', value: 1000 })];
      spec
        .given(tripped)
        .when({ type: 'Track', positionId: 'A' })
        .then([{ type: 'PositionTracked', data: { positionId: 'A', side: 'long', source: 'local' } }]);
      spec
        .given(tripped)
        .when({ type: 'Hold', positionId: 'B', value: 990 })
        .then([{ type: 'PositionValued', data: { positionId: 'B', value: 990, source: 'local' } }]);
      spec
        .given(tripped)
        .when({ type: 'Exit', positionId: 'B', value: 1100 })
        .then([
          {
            type: 'PositionExited',
            data: {
              positionId: 'B',
              symbol: 'MSFT',
              side: 'long',
              fraction: 1,
              value: 1100,
              costBasis: 1000,
              realizedPnl: 100,
              full: true,
              source: 'local',
            },
          },
        ]);
    });
  });

  describe('reset', () => {
    it('resets a tripped breaker, with a reason', () => {
      spec
        .given([breakerTripped()])
        .when({ type: 'ResetCircuitBreaker', reason: 'all clear' })
        .then([{ type: 'CircuitBreakerReset', data: { reason: 'all clear', source: 'local' } }]);
    });

    it('resets without a reason', () => {
      spec
        .given([breakerTripped()])
        .when({ type: 'ResetCircuitBreaker' })
        .then([{ type: 'CircuitBreakerReset', data: { source: 'local' } }]);
    });

    it('resets a breaker whose trip has expired', () => {
      spec
        .given([breakerTripped({ until: iso(secondsFrom(60)) })])
        .when({ type: 'ResetCircuitBreaker' }, { now: secondsFrom(120) })
        .then([{ type: 'CircuitBreakerReset', data: { source: 'local' } }]);
    });

    it('allows entries again', () => {
      spec
        .given([breakerTripped(), breakerReset(), watchA])
        .when(enterA)
        .then(enteredEvent('A', 'AAPL', 1000));
    });

    const notTripped = /^cannot reset the circuit breaker: it is OK \(not tripped\), expected TRIPPED$/;

    it('refuses to reset a breaker that never tripped', () => {
      const error = spec.given([]).when({ type: 'ResetCircuitBreaker' }).thenThrows(InvalidTransitionError, notTripped);
      expectInvalidTransition(error, 'circuit-breaker', 'OK', ['TRIPPED']);
    });

    it('refuses to reset a breaker twice', () => {
      const error = spec
        .given([breakerTripped(), breakerReset()])
        .when({ type: 'ResetCircuitBreaker' })
        .thenThrows(InvalidTransitionError, notTripped);
      expectInvalidTransition(error, 'circuit-breaker', 'OK', ['TRIPPED']);
    });
  });

  describe('tripped by the daily loss limit (dailyLossLimitPct, 5% of equity by default)', () => {
    const openA = [tracked('A', { symbol: 'AAPL' }), entered('A', { symbol: 'AAPL', value: 1000, quantity: 10 })];
    const exitA = (value: number): CommandInput => ({ type: 'Exit', positionId: 'A', value });
    const exitedA = (value: number) => ({
      type: 'PositionExited' as const,
      data: {
        positionId: 'A',
        symbol: 'AAPL',
        side: 'long' as const,
        fraction: 1,
        quantity: 10,
        value,
        costBasis: 1000,
        realizedPnl: value - 1000,
        full: true,
        source: 'local' as const,
      },
    });

    it("trips when an exit's loss brings the day's realized P&L to the limit", () => {
      spec
        .given(openA)
        .when(exitA(500))
        .then([
          exitedA(500),
          {
            type: 'CircuitBreakerTripped',
            data: {
              trigger: 'daily_loss',
              reason: 'daily realized loss 500 reached the limit 500 (5.00% of equity)',
              until: '2026-01-06T12:00:00.000Z',
              dailyPnl: -500,
              limit: -500,
              source: 'local',
            },
          },
        ]);
    });

    it('does not trip on a loss short of the limit', () => {
      spec
        .given(openA)
        .when(exitA(501))
        .then([exitedA(501)]);
    });

    it("adds the exit's loss to the day's earlier results, against current equity", () => {
      // Earlier today: -300, so equity is 9,700 and the limit 485; this exit's -200 makes -500.
      spec
        .given([...roundTrip('L', 'MSFT', -300, secondsFrom(-3600)), ...openA])
        .when(exitA(800))
        .then([
          exitedA(800),
          {
            type: 'CircuitBreakerTripped',
            data: {
              trigger: 'daily_loss',
              reason: 'daily realized loss 500 reached the limit 485 (5.00% of equity)',
              until: '2026-01-06T12:00:00.000Z',
              dailyPnl: -500,
              limit: -485,
              source: 'local',
            },
          },
        ]);
    });

    it("nets the day's gains against the loss", () => {
      spec
        .given([...roundTrip('W', 'MSFT', 300, secondsFrom(-3600)), ...openA])
        .when(exitA(400))
        .then([exitedA(400)]);
    });

    it('sums every earlier exit of the day, not only the last', () => {
      // Two exits today at -200 each: equity is 9,600 and the limit 480; this exit's -100 makes -500.
      spec
        .given([...roundTrip('L1', 'MSFT', -200, secondsFrom(-7200)), ...roundTrip('L2', 'MSFT', -200, secondsFrom(-3600)), ...openA])
        .when(exitA(900))
        .then([
          exitedA(900),
          {
            type: 'CircuitBreakerTripped',
            data: {
              trigger: 'daily_loss',
              reason: 'daily realized loss 500 reached the limit 480 (5.00% of equity)',
              until: '2026-01-06T12:00:00.000Z',
              dailyPnl: -500,
              limit: -480,
              source: 'local',
            },
          },
        ]);
    });

    it("starts the day from zero after yesterday's losses, counting only today's exits", () => {
      // Yesterday -400, today -50 so far: this exit's -300 makes -350 today, short of the limit (477.50 on 9,550).
      spec
        .given([
          ...roundTrip('Y', 'MSFT', -400, new Date('2026-01-04T20:00:00.000Z')),
          ...roundTrip('T', 'MSFT', -50, secondsFrom(-3600)),
          ...openA,
        ])
        .when(exitA(700))
        .then([exitedA(700)]);
    });

    it("does not count yesterday's losses", () => {
      spec
        .given([...roundTrip('L', 'MSFT', -400, new Date('2026-01-04T20:00:00.000Z')), ...openA])
        .when(exitA(700))
        .then([exitedA(700)]);
    });

    it('counts the loss of a partial exit', () => {
      spec
        .given([tracked('B', { symbol: 'MSFT' }), entered('B', { symbol: 'MSFT', value: 2000 })])
        .when({ type: 'Exit', positionId: 'B', value: 1000, fraction: 0.5 })
        .then([
          {
            type: 'PositionExited',
            data: {
              positionId: 'B',
              symbol: 'MSFT',
              side: 'long',
              fraction: 0.5,
              value: 500,
              costBasis: 1000,
              realizedPnl: -500,
              full: false,
              source: 'local',
            },
          },
          {
            type: 'CircuitBreakerTripped',
            data: {
              trigger: 'daily_loss',
              reason: 'daily realized loss 500 reached the limit 500 (5.00% of equity)',
              until: '2026-01-06T12:00:00.000Z',
              dailyPnl: -500,
              limit: -500,
              source: 'local',
            },
          },
        ]);
    });

    it('trips for circuitBreakerSeconds', () => {
      deciderSpec({ now: NOW, policy: { circuitBreakerSeconds: 3600 } })
        .given(openA)
        .when(exitA(0))
        .then([
          exitedA(0),
          {
            type: 'CircuitBreakerTripped',
            data: {
              trigger: 'daily_loss',
              reason: 'daily realized loss 1000 reached the limit 500 (5.00% of equity)',
              until: '2026-01-05T13:00:00.000Z',
              dailyPnl: -1000,
              limit: -500,
              source: 'local',
            },
          },
        ]);
    });

    it('does not trip again while the breaker is tripped', () => {
      spec
        .given([breakerTripped(), ...openA])
        .when(exitA(0))
        .then([exitedA(0)]);
    });

    it('is off when dailyLossLimitPct is null', () => {
      deciderSpec({ now: NOW, policy: { dailyLossLimitPct: null } })
        .given(openA)
        .when(exitA(0))
        .then([exitedA(0)]);
    });

    it('then refuses entries, naming the loss', () => {
      const history = [
        ...openA,
        exited('A', { symbol: 'AAPL', quantity: 10, value: 500, costBasis: 1000, realizedPnl: -500 }),
        breakerTripped({
          trigger: 'daily_loss',
          reason: 'daily realized loss 500 reached the limit 500 (5.00% of equity)',
          until: '2026-01-06T12:00:00.000Z',
          dailyPnl: -500,
          limit: -500,
        }),
        tracked('B', { symbol: 'MSFT' }),
      ];
      const error = spec
        .given(history)
        .when({ type: 'Enter', positionId: 'B', value: 1000 }, { now: secondsFrom(60) })
        .thenThrows(
          RiskLimitError,
          /^cannot enter "B": rule circuitBreaker: the circuit breaker is tripped \(daily realized loss 500 reached the limit 500 \(5\.00% of equity\)\) until 2026-01-06T12:00:00\.000Z$/,
        );
      expectRiskLimit(error, 'circuitBreaker', '2026-01-06T12:00:00.000Z', 'tripped');
    });
  });

  describe('cooldowns', () => {
    const cooling = deciderSpec({ now: NOW, policy: { cooldownSeconds: 900 } });
    const openA = [tracked('A', { symbol: 'AAPL' }), entered('A', { symbol: 'AAPL', value: 1000 })];

    it('starts one by hand', () => {
      spec
        .given([])
        .when({ type: 'StartCooldown', symbol: 'AAPL', seconds: 600, reason: 'earnings' })
        .then([
          { type: 'CooldownStarted', data: { symbol: 'AAPL', until: '2026-01-05T12:10:00.000Z', reason: 'earnings', source: 'local' } },
        ]);
    });

    it('starts one by hand without a reason', () => {
      spec
        .given([])
        .when({ type: 'StartCooldown', symbol: 'AAPL', seconds: 600 })
        .then([{ type: 'CooldownStarted', data: { symbol: 'AAPL', until: '2026-01-05T12:10:00.000Z', source: 'local' } }]);
    });

    it('starts one on a full exit when cooldownSeconds > 0', () => {
      cooling
        .given(openA)
        .when({ type: 'Exit', positionId: 'A', value: 1100 })
        .then([
          {
            type: 'PositionExited',
            data: {
              positionId: 'A',
              symbol: 'AAPL',
              side: 'long',
              fraction: 1,
              value: 1100,
              costBasis: 1000,
              realizedPnl: 100,
              full: true,
              source: 'local',
            },
          },
          { type: 'CooldownStarted', data: { symbol: 'AAPL', until: '2026-01-05T12:15:00.000Z', reason: 'exit of A', source: 'local' } },
        ]);
    });

    it('follows a daily-loss trip when the exit does both', () => {
      const events = cooling.given(openA).when({ type: 'Exit', positionId: 'A', value: 400 });
      events.then([
        {
          type: 'PositionExited',
          data: {
            positionId: 'A',
            symbol: 'AAPL',
            side: 'long',
            fraction: 1,
            value: 400,
            costBasis: 1000,
            realizedPnl: -600,
            full: true,
            source: 'local',
          },
        },
        {
          type: 'CircuitBreakerTripped',
          data: {
            trigger: 'daily_loss',
            reason: 'daily realized loss 600 reached the limit 500 (5.00% of equity)',
            until: '2026-01-06T12:00:00.000Z',
            dailyPnl: -600,
            limit: -500,
            source: 'local',
          },
        },
        { type: 'CooldownStarted', data: { symbol: 'AAPL', until: '2026-01-05T12:15:00.000Z', reason: 'exit of A', source: 'local' } },
      ]);
    });

    it('does not start one on a partial exit', () => {
      cooling
        .given(openA)
        .when({ type: 'Exit', positionId: 'A', value: 1100, fraction: 0.5 })
        .then([
          {
            type: 'PositionExited',
            data: {
              positionId: 'A',
              symbol: 'AAPL',
              side: 'long',
              fraction: 0.5,
              value: 550,
              costBasis: 500,
              realizedPnl: 50,
              full: false,
              source: 'local',
            },
          },
        ]);
    });

    it('does not start one for a position without a symbol', () => {
      cooling
        .given([tracked('B'), entered('B', { value: 1000 })])
        .when({ type: 'Exit', positionId: 'B', value: 1100 })
        .then([
          {
            type: 'PositionExited',
            data: {
              positionId: 'B',
              side: 'long',
              fraction: 1,
              value: 1100,
              costBasis: 1000,
              realizedPnl: 100,
              full: true,
              source: 'local',
            },
          },
        ]);
    });

    it('does not start one when cooldownSeconds is 0 (the default)', () => {
      spec
        .given(openA)
        .when({ type: 'Exit', positionId: 'A', value: 1100 })
        .then([
          {
            type: 'PositionExited',
            data: {
              positionId: 'A',
              symbol: 'AAPL',
              side: 'long',
              fraction: 1,
              value: 1100,
              costBasis: 1000,
              realizedPnl: 100,
              full: true,
              source: 'local',
            },
          },
        ]);
    });

    const afterExit = [...roundTrip('A', 'AAPL', 100), cooldownStarted('AAPL', secondsFrom(900)), tracked('B', { symbol: 'AAPL' })];
    const enterB: CommandInput = { type: 'Enter', positionId: 'B', value: 1000 };

    it('refuses entries on the symbol until it expires', () => {
      const error = cooling
        .given(afterExit)
        .when(enterB, { now: secondsFrom(899) })
        .thenThrows(
          RiskLimitError,
          /^cannot enter "B": rule cooldown: AAPL is cooling down until 2026-01-05T12:15:00\.000Z \(it is 2026-01-05T12:14:59\.000Z\)$/,
        );
      expectRiskLimit(error, 'cooldown', '2026-01-05T12:15:00.000Z', '2026-01-05T12:14:59.000Z');
    });

    it('allows entries on the symbol once it has expired', () => {
      cooling
        .given(afterExit)
        .when(enterB, { now: secondsFrom(900) })
        .then(enteredEvent('B', 'AAPL', 1000));
    });

    it('does not refuse other symbols', () => {
      cooling
        .given([...afterExit, tracked('M', { symbol: 'MSFT' })])
        .when({ type: 'Enter', positionId: 'M', value: 1000 }, { now: secondsFrom(60) })
        .then(enteredEvent('M', 'MSFT', 1000));
    });

    it('refuses entries under a cooldown started by hand', () => {
      const error = spec
        .given([cooldownStarted('AAPL', secondsFrom(600)), watchA])
        .when(enterA)
        .thenThrows(
          RiskLimitError,
          /^cannot enter "A": rule cooldown: AAPL is cooling down until 2026-01-05T12:10:00\.000Z \(it is 2026-01-05T12:00:00\.000Z\)$/,
        );
      expectRiskLimit(error, 'cooldown', '2026-01-05T12:10:00.000Z', '2026-01-05T12:00:00.000Z');
    });
  });
});
