import { InvalidTransitionError } from '../errors/index.js';
import type { EventData, Source } from '../events/index.js';
import type { DecidedEvent } from './decided.js';
import type { CommandOf } from './schemas.js';
import type { BookState } from './state.js';
import { addSeconds } from './time.js';

/** The book-wide rules an operator sets by hand: the circuit breaker and cooldowns. */
export type BreakerCommand = CommandOf<'TripCircuitBreaker' | 'ResetCircuitBreaker' | 'StartCooldown'>;

/** Decides a breaker or cooldown command (only a reset has a precondition: a tripped breaker). */
export function decideBreaker(command: BreakerCommand, state: BookState, now: string, source: Source): DecidedEvent[] {
  switch (command.type) {
    case 'TripCircuitBreaker': {
      const data: EventData<'CircuitBreakerTripped'> = { trigger: 'manual', reason: command.reason, source };
      if (command.seconds !== undefined) data.until = addSeconds(now, command.seconds);
      return [{ type: 'CircuitBreakerTripped', data }];
    }
    case 'ResetCircuitBreaker': {
      if (state.breaker.status !== 'TRIPPED') {
        throw new InvalidTransitionError(
          'cannot reset the circuit breaker: it is OK (not tripped), expected TRIPPED',
          'circuit-breaker',
          'OK',
          ['TRIPPED'],
        );
      }
      const data: EventData<'CircuitBreakerReset'> = { source };
      if (command.reason !== undefined) data.reason = command.reason;
      return [{ type: 'CircuitBreakerReset', data }];
    }
    case 'StartCooldown': {
      const data: EventData<'CooldownStarted'> = { symbol: command.symbol, until: addSeconds(now, command.seconds), source };
      if (command.reason !== undefined) data.reason = command.reason;
      return [{ type: 'CooldownStarted', data }];
    }
    // Stryker disable next-line ConditionalExpression,BlockStatement: the exhaustive default, unreachable (the compiler proves the switch covers every type)
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
}
