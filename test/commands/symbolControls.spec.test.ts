import { describe, expect, it } from 'vitest';
import { BookPolicy, CommandHandler, clientOrderIdFor } from '../../src/commands/index.js';
import { RiskLimitError } from '../../src/errors/index.js';
import type { EventData } from '../../src/events/index.js';
import { MemoryEventStore } from '../../src/store/index.js';
import { deciderSpec, type GivenEvent } from '../../src/testing/index.js';
import { NOW, entered, expectRiskLimit, iso, secondsFrom, tracked } from './fixtures.js';

/*
 * Symbol controls: buying, selling or both disabled per symbol with a reason, in the log (so
 * across restarts) until enabled. An order (or an Enter) on a disabled side is refused naming
 * the reason; a reduce order only when its own side is disabled.
 */

const spec = deciderSpec({ now: NOW });

function disabled(symbol: string, side: EventData<'SymbolDisabled'>['side'], reason: string, at?: Date): GivenEvent {
  return { type: 'SymbolDisabled', data: { symbol, side, reason, source: 'local' }, ...(at ? { metadata: { recordedAt: iso(at) } } : {}) };
}
function enabled(symbol: string, side: EventData<'SymbolEnabled'>['side']): GivenEvent {
  return { type: 'SymbolEnabled', data: { symbol, side, source: 'local' } };
}

const entryOrder = { type: 'RequestOrder', commandId: 'c1', positionId: 'A', intent: 'entry', quantity: 1, referencePrice: 100 } as const;
const reduceOrder = { type: 'RequestOrder', commandId: 'c2', positionId: 'A', intent: 'reduce', quantity: 1 } as const;
const longIn = [tracked('A', { symbol: 'BTC' }), entered('A', { symbol: 'BTC', value: 100, quantity: 1 })];

describe('DisableSymbol / EnableSymbol', () => {
  it('disables a side with a reason, and does nothing when it is already so', () => {
    spec
      .given([])
      .when({ type: 'DisableSymbol', symbol: 'BTC', side: 'buy', reason: 'halted' })
      .then([{ type: 'SymbolDisabled', data: { symbol: 'BTC', side: 'buy', reason: 'halted', source: 'local' } }]);
    spec
      .given([disabled('BTC', 'both', 'halted')])
      .when({ type: 'DisableSymbol', symbol: 'BTC', side: 'sell', reason: 'halted' })
      .thenNothingHappened();
  });

  it('enables both sides by default, and does nothing for a symbol not disabled', () => {
    spec
      .given([disabled('BTC', 'both', 'halted')])
      .when({ type: 'EnableSymbol', symbol: 'BTC' })
      .then([{ type: 'SymbolEnabled', data: { symbol: 'BTC', side: 'both', source: 'local' } }]);
    spec.given([]).when({ type: 'EnableSymbol', symbol: 'BTC' }).thenNothingHappened();
  });

  it('a side named alone is switched alone: the other side does not count towards "already so"', () => {
    // buying disabled for "halted": disabling it again for the same reason changes nothing ...
    spec
      .given([disabled('BTC', 'buy', 'halted')])
      .when({ type: 'DisableSymbol', symbol: 'BTC', side: 'buy', reason: 'halted' })
      .thenNothingHappened();
    // ... but selling is still on, so disabling both, or selling alone, does change something
    spec
      .given([disabled('BTC', 'buy', 'halted')])
      .when({ type: 'DisableSymbol', symbol: 'BTC', side: 'both', reason: 'halted' })
      .then([{ type: 'SymbolDisabled', data: { symbol: 'BTC', side: 'both', reason: 'halted', source: 'local' } }]);
    spec
      .given([disabled('BTC', 'buy', 'halted')])
      .when({ type: 'DisableSymbol', symbol: 'BTC', side: 'sell', reason: 'halted' })
      .then([{ type: 'SymbolDisabled', data: { symbol: 'BTC', side: 'sell', reason: 'halted', source: 'local' } }]);
    // both disabled for the same reason: disabling both again changes nothing; for another reason it does
    spec
      .given([disabled('BTC', 'both', 'halted')])
      .when({ type: 'DisableSymbol', symbol: 'BTC', side: 'both', reason: 'halted' })
      .thenNothingHappened();
    spec
      .given([disabled('BTC', 'both', 'halted')])
      .when({ type: 'DisableSymbol', symbol: 'BTC', side: 'buy', reason: 'audit' })
      .then([{ type: 'SymbolDisabled', data: { symbol: 'BTC', side: 'buy', reason: 'audit', source: 'local' } }]);
  });

  it('enabling changes something when any side named is disabled, and nothing for a side already on', () => {
    spec
      .given([disabled('BTC', 'buy', 'halted')])
      .when({ type: 'EnableSymbol', symbol: 'BTC', side: 'both' })
      .then([{ type: 'SymbolEnabled', data: { symbol: 'BTC', side: 'both', source: 'local' } }]);
    spec
      .given([disabled('BTC', 'buy', 'halted')])
      .when({ type: 'EnableSymbol', symbol: 'BTC', side: 'sell' })
      .thenNothingHappened();
    spec
      .given([disabled('BTC', 'buy', 'halted')])
      .when({ type: 'EnableSymbol', symbol: 'BTC', side: 'buy' })
      .then([{ type: 'SymbolEnabled', data: { symbol: 'BTC', side: 'buy', source: 'local' } }]);
  });

  it('folds into the state per side, and a symbol with both sides enabled leaves it', () => {
    const state = spec.given([disabled('BTC', 'both', 'halted', secondsFrom(-5)), enabled('BTC', 'sell')]).state();
    expect(state.symbolControls.get('BTC')).toEqual({ buy: { reason: 'halted', since: iso(secondsFrom(-5)) } });
    expect(spec.given([disabled('BTC', 'buy', 'x'), enabled('BTC', 'both')]).state().symbolControls.size).toBe(0);
  });

  it('DisableSymbol passes the recovery gate (it only takes risk off); EnableSymbol does not', () => {
    const waiting: GivenEvent = { type: 'RecoveryRequired', data: { mode: 'manual', reason: 'operator', source: 'local' } };
    spec
      .given([waiting])
      .when({ type: 'DisableSymbol', symbol: 'BTC', side: 'both', reason: 'x' })
      .then([{ type: 'SymbolDisabled', data: { symbol: 'BTC', side: 'both', reason: 'x', source: 'local' } }]);
    spec
      .given([waiting, disabled('BTC', 'both', 'x')])
      .when({ type: 'EnableSymbol', symbol: 'BTC' })
      .thenThrows(Error, /waits for an operator/);
  });
});

describe('orders against a disabled side', () => {
  it('refuses an entry buy while buying is disabled, naming the reason and since when', () => {
    const error = spec
      .given([disabled('BTC', 'buy', 'exchange halt', secondsFrom(-60)), tracked('A', { symbol: 'BTC' })])
      .when(entryOrder)
      .thenThrows(
        RiskLimitError,
        new RegExp(`rule symbolDisabled: buying BTC is disabled since ${iso(secondsFrom(-60))} \\(exchange halt\\)`),
      );
    expectRiskLimit(error, 'symbolDisabled', 'disabled', 'buy');
  });

  it('refuses an Enter of a long, and growing an IN position, while buying is disabled', () => {
    spec
      .given([disabled('BTC', 'buy', 'halt'), tracked('A', { symbol: 'BTC' })])
      .when({ type: 'Enter', positionId: 'A', value: 100 })
      .thenThrows(RiskLimitError, /cannot enter "A": rule symbolDisabled/);
    spec
      .given([...longIn, disabled('BTC', 'buy', 'halt')])
      .when(entryOrder)
      .thenThrows(RiskLimitError, /rule symbolDisabled/);
  });

  it('lets a reduce sell through while only buying is disabled, and refuses it when selling is', () => {
    spec
      .given([...longIn, disabled('BTC', 'buy', 'halt')])
      .when(reduceOrder)
      .then([
        {
          type: 'OrderRequested',
          data: {
            clientOrderId: clientOrderIdFor('main', 'c2', 1, 36, 1),
            orderKey: 'c2',
            attempt: 1,
            positionId: 'A',
            symbol: 'BTC',
            side: 'sell',
            intent: 'reduce',
            orderType: 'market',
            quantity: 1,
            source: 'local',
          },
        },
      ]);
    spec
      .given([...longIn, disabled('BTC', 'sell', 'delisting')])
      .when(reduceOrder)
      .thenThrows(RiskLimitError, /cannot order a reduce of "A": rule symbolDisabled: selling BTC is disabled since .* \(delisting\)/);
  });

  it('a short sells to enter: selling disabled refuses its entry, buying disabled its reduce', () => {
    const shortIn = [
      tracked('S', { symbol: 'BTC', side: 'short' }),
      entered('S', { symbol: 'BTC', side: 'short', value: 100, quantity: 1 }),
    ];
    spec
      .given([disabled('BTC', 'sell', 'x'), tracked('S', { symbol: 'BTC', side: 'short' })])
      .when({ ...entryOrder, positionId: 'S' })
      .thenThrows(RiskLimitError, /selling BTC is disabled/);
    spec
      .given([...shortIn, disabled('BTC', 'buy', 'x')])
      .when({ ...reduceOrder, positionId: 'S' })
      .thenThrows(RiskLimitError, /buying BTC is disabled/);
  });

  it('orders pass again once enabled', () => {
    const events = spec.given([disabled('BTC', 'both', 'halt'), enabled('BTC', 'both'), tracked('A', { symbol: 'BTC' })]).when(entryOrder);
    expect(() => events.thenThrows(RiskLimitError)).toThrow(/expected RiskLimitError, but the command produced/);
  });

  it('stays disabled across a restart: it is in the log', async () => {
    const store = new MemoryEventStore();
    const policy = BookPolicy.parse({});
    const first = new CommandHandler({ store, bookId: 'main', policy });
    await first.handle({ type: 'DisableSymbol', symbol: 'BTC', side: 'buy', reason: 'halt' });
    await first.handle({ type: 'Track', positionId: 'A', symbol: 'BTC' });
    const restarted = new CommandHandler({ store, bookId: 'main', policy });
    await expect(restarted.handle(entryOrder)).rejects.toMatchObject({ rule: 'symbolDisabled', current: 'buy' });
    expect((await restarted.load()).symbolControls.get('BTC')?.buy?.reason).toBe('halt');
  });
});
