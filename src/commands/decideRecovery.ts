import { InvalidTransitionError, RecoveryPendingError } from '../errors/index.js';
import type { EventData, Source } from '../events/index.js';
import type { DecidedEvent } from './decided.js';
import type { CommandOf, CommandType } from './schemas.js';
import type { BookState } from './state.js';

/*
 * The recovery gate, as the decider sees it. While a RecoveryRequired has no later
 * RecoveryAcknowledged, the book takes only what cannot move a position or loosen a risk
 * rule: the acknowledgement itself, proof of life, the two rules that only tighten
 * (tripping the breaker, a cooldown), reconciliation's findings that only record what
 * was seen outside, what the venue reports about orders already sent (a fill moves a
 * position, but it happened: recovery needs it recorded) and order cancels. Everything else,
 * RequestOrder included (entry or reduce, like Enter and Exit), is refused with RecoveryPendingError.
 */

/**
 * Commands a book accepts while a recovery waits for an operator; every other command is
 * refused with RecoveryPendingError.
 *
 * @example
 * ```ts
 * allowedWhileRecoveryPending.has('Enter'); // false
 * ```
 */
export const allowedWhileRecoveryPending: ReadonlySet<CommandType> = new Set<CommandType>([
  'AcknowledgeRecovery',
  'RequireRecovery',
  'RecordHeartbeat',
  'TripCircuitBreaker',
  'StartCooldown',
  'DetectOrphan',
  'SuspectPhantom',
  'DismissPhantom',
  'CompleteReconciliation',
  // An external order detected only records; canceling one only takes risk off.
  'DetectExternalOrder',
  'RecordExternalOrderCanceled',
  // What the venue says about orders already sent: recovery itself needs it written down.
  'RecordOrderAccepted',
  'RecordOrderRejected',
  'RecordFill',
  'RecordOrderCanceled',
  'RecordOrderExpired',
  'RecordOrderLost',
  'RecordOrderLook',
  // Canceling and disabling a symbol only take risk off.
  'CancelOrder',
  'DisableSymbol',
]);

/**
 * The error for work refused by an open recovery gate (`what` says what was asked), or null
 * when the book is not waiting for an operator. Callers that act outside (reconciliation's
 * closes) ask this before they act, since the decider only sees the command afterwards.
 *
 * @example
 * ```ts
 * const pending = recoveryPending(await handler.load(), 'reconcile');
 * if (pending) throw pending;
 * ```
 */
export function recoveryPending(state: BookState, what: string): RecoveryPendingError | null {
  if (state.recovery.status !== 'REQUIRED') return null;
  const r = state.recovery;
  return new RecoveryPendingError(
    `cannot ${what}: the book waits for an operator since ${r.since} (${r.reason}); check it, then run ptrack recover --ack`,
  );
}

/** Throws RecoveryPendingError when the gate is open and `type` is not allowed through it. */
export function checkRecoveryGate(type: CommandType, state: BookState, verb: string): void {
  if (allowedWhileRecoveryPending.has(type)) return;
  const error = recoveryPending(state, verb);
  if (error) throw error;
}

export function decideRecovery(
  command: CommandOf<'RequireRecovery'> | CommandOf<'AcknowledgeRecovery'>,
  state: BookState,
  source: Source,
): DecidedEvent[] {
  switch (command.type) {
    case 'RequireRecovery': {
      // Already waiting: a second start before the acknowledgement changes nothing.
      if (state.recovery.status === 'REQUIRED') return [];
      const data: EventData<'RecoveryRequired'> = { mode: command.mode, reason: command.reason, source };
      if (command.process !== undefined) data.process = command.process;
      return [{ type: 'RecoveryRequired', data }];
    }
    case 'AcknowledgeRecovery': {
      if (state.recovery.status !== 'REQUIRED') {
        throw new InvalidTransitionError(
          'cannot acknowledge a recovery: none is pending (the book is CLEAR), expected REQUIRED',
          'recovery',
          'CLEAR',
          ['REQUIRED'],
        );
      }
      const data: EventData<'RecoveryAcknowledged'> = { source };
      if (command.reason !== undefined) data.reason = command.reason;
      return [{ type: 'RecoveryAcknowledged', data }];
    }
    // Stryker disable next-line ConditionalExpression,BlockStatement: the exhaustive default, unreachable (the compiler proves the switch covers every type)
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
}
