import type { Source } from '../events/index.js';
import type { DecidedEvent } from './decided.js';
import type { CommandOf } from './schemas.js';
import type { BookState } from './state.js';

/*
 * Symbol controls: buying, selling or both disabled per symbol with a reason, kept in the log
 * (so across restarts) until enabled again. What they refuse is checked with the entry and
 * reduce rules (checkSymbolControl); here they are only switched.
 */

const sidesOf = (side: 'buy' | 'sell' | 'both'): readonly ('buy' | 'sell')[] => (side === 'both' ? ['buy', 'sell'] : [side]);

/** Decides DisableSymbol / EnableSymbol: an event when it changes something, nothing when it is already so. */
export function decideSymbol(
  command: CommandOf<'DisableSymbol'> | CommandOf<'EnableSymbol'>,
  state: BookState,
  source: Source,
): DecidedEvent[] {
  const control = state.symbolControls.get(command.symbol);
  const sides = sidesOf(command.side);
  switch (command.type) {
    case 'DisableSymbol': {
      // Already disabled for the same reason on every side named: nothing changes.
      if (sides.every((s) => control?.[s]?.reason === command.reason)) return [];
      return [{ type: 'SymbolDisabled', data: { symbol: command.symbol, side: command.side, reason: command.reason, source } }];
    }
    case 'EnableSymbol': {
      if (sides.every((s) => control?.[s] === undefined)) return [];
      return [{ type: 'SymbolEnabled', data: { symbol: command.symbol, side: command.side, source } }];
    }
    // Stryker disable next-line ConditionalExpression,BlockStatement: the exhaustive default, unreachable (the compiler proves the switch covers every type)
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
}
