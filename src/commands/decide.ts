import { checkRecoveryGate, decideRecovery } from './decideRecovery.js';
import { decideAdoptExternalOrder } from './decideAdoptOrder.js';
import { decideBreaker } from './decideBreaker.js';
import type { DecideContext, DecidedEvent } from './decided.js';
import { decidePosition } from './decidePosition.js';
import { decideOrder } from './decideOrder.js';
import { decideReconcile } from './decideReconcile.js';
import { decideSymbol } from './decideSymbol.js';
import { groupOf } from './groupOf.js';
import type { BookPolicy } from './policy.js';
import type { Command } from './schemas.js';
import type { BookState } from './state.js';
import { verbs } from './transitions.js';

export type { DecideContext, DecidedEvent } from './decided.js';

/**
 * The correlation group of a symbol in the policy's map.
 *
 * @example
 * ```ts
 * groupOfSymbol(policy, 'AAPL'); // 'tech' when policy.correlationGroups.tech lists AAPL
 * ```
 */
export function groupOfSymbol(policy: BookPolicy, symbol: string | undefined): string | undefined {
  return groupOf(policy.correlationGroups, symbol);
}

/**
 * The book's decider: checks a command against the state machine and the risk rules and
 * returns the events it produces (possibly none), or throws one typed error per broken rule.
 * Pure: time, policy and source come in through `context`; the state is not changed.
 * This file only dispatches: the recovery gate first, then the module for the command's kind.
 *
 * @example
 * ```ts
 * const events = decide({ type: 'Enter', positionId: 'AAPL-1', value: 1000 }, state, { now: new Date(), policy });
 * ```
 */
export function decide(command: Command, state: BookState, context: DecideContext): DecidedEvent[] {
  const now = context.now.toISOString();
  const source = context.source ?? 'local';
  const target =
    (command as { positionId?: string; clientOrderId?: string }).positionId ?? (command as { clientOrderId?: string }).clientOrderId;
  checkRecoveryGate(command.type, state, target === undefined ? verbs[command.type] : `${verbs[command.type]} "${target}"`);

  switch (command.type) {
    case 'Track':
    case 'Enter':
    case 'Open':
    case 'Hold':
    case 'Monitor':
    case 'Exit':
    case 'Skip':
    case 'AdoptOrphan':
    case 'Archive':
    case 'SetProtection':
      return decidePosition(command, state, context, now, source);
    case 'TripCircuitBreaker':
    case 'ResetCircuitBreaker':
    case 'StartCooldown':
      return decideBreaker(command, state, now, source);
    case 'DetectOrphan':
    case 'CloseOrphan':
    case 'SuspectPhantom':
    case 'DismissPhantom':
    case 'ClearPhantom':
    case 'CorrectDrift':
    case 'CompleteReconciliation':
    case 'RecordHeartbeat':
    case 'DetectExternalOrder':
    case 'RecordExternalOrderCanceled':
      return decideReconcile(command, state, now, source);
    case 'RequireRecovery':
    case 'AcknowledgeRecovery':
      return decideRecovery(command, state, source);
    case 'RequestOrder':
    case 'RecordOrderAccepted':
    case 'RecordOrderRejected':
    case 'RecordFill':
    case 'CancelOrder':
    case 'RecordOrderCanceled':
    case 'RecordOrderExpired':
    case 'RecordOrderLost':
    case 'RecordOrderLook':
      return decideOrder(command, state, context, now, source);
    case 'AdoptExternalOrder':
      return decideAdoptExternalOrder(command, state, context, source);
    case 'DisableSymbol':
    case 'EnableSymbol':
      return decideSymbol(command, state, source);
    // Stryker disable next-line ConditionalExpression,BlockStatement: the exhaustive default, unreachable (the compiler proves the switch covers every type)
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
}
