import { InvalidTransitionError, ValidationError } from '../errors/index.js';
import type { EventData, Source } from '../events/index.js';
import type { DecidedEvent } from './decided.js';
import { pnlOf } from './pnl.js';
import type { CommandOf } from './schemas.js';
import { bookOrderOf, type BookState, type InPosition } from './state.js';
import { requireIn, requireNotIn } from './transitions.js';

export type ReconcileCommand = CommandOf<
  | 'DetectOrphan'
  | 'CloseOrphan'
  | 'SuspectPhantom'
  | 'DismissPhantom'
  | 'ClearPhantom'
  | 'CorrectDrift'
  | 'CompleteReconciliation'
  | 'RecordHeartbeat'
  | 'DetectExternalOrder'
  | 'RecordExternalOrderCanceled'
>;

/** The part of a phantom a clear of `quantity` takes (1 = all of it); refuses what it cannot measure or does not hold. */
function clearedFraction(p: InPosition, quantity: number | undefined): number {
  if (quantity === undefined) return 1;
  if (p.quantity === undefined) {
    throw new ValidationError(
      `cannot clear ${quantity} of phantom "${p.id}": its quantity is unknown (clear it whole: leave quantity out)`,
      [{ path: 'quantity', message: 'the position has no quantity', value: quantity }],
    );
  }
  if (quantity > p.quantity * (1 + 1e-9)) {
    throw new ValidationError(`cannot clear ${quantity} of phantom "${p.id}": only ${p.quantity} is open`, [
      { path: 'quantity', message: `at most ${p.quantity}`, value: quantity },
    ]);
  }
  const fraction = quantity / p.quantity;
  return fraction >= 1 - 1e-12 ? 1 : fraction;
}

/**
 * The reconciler's commands. Each checks the book as it is at append time, so a plan made
 * from an older look is refused where the book has moved, and repeating one is harmless
 * (a detected orphan is not detected twice; a corrected value is not corrected again).
 */
export function decideReconcile(command: ReconcileCommand, state: BookState, now: string, source: Source): DecidedEvent[] {
  switch (command.type) {
    case 'DetectOrphan': {
      requireNotIn(state, command.positionId, 'record an orphan for');
      if (state.orphans.has(command.positionId)) return [];
      const data: EventData<'OrphanDetected'> = { positionId: command.positionId, value: command.value, source };
      if (command.symbol !== undefined) data.symbol = command.symbol;
      if (command.side !== undefined) data.side = command.side;
      if (command.quantity !== undefined) data.quantity = command.quantity;
      if (command.price !== undefined) data.price = command.price;
      if (command.runId !== undefined) data.runId = command.runId;
      if (command.openedAt !== undefined) data.openedAt = command.openedAt;
      return [{ type: 'OrphanDetected', data }];
    }
    case 'DetectExternalOrder': {
      if (bookOrderOf(state, command) !== undefined) {
        throw new InvalidTransitionError(
          `cannot record external order "${command.externalOrderId}": the book issued it (client order id ${command.clientOrderId ?? 'matched by venue id'}); it is one of ours, not external`,
          'order',
          'OURS',
          ['UNKNOWN'],
        );
      }
      // Seen before and not resolved since: a second look records nothing.
      if (state.externalOrders.has(command.externalOrderId)) return [];
      const data: EventData<'ExternalOrderDetected'> = {
        externalOrderId: command.externalOrderId,
        symbol: command.symbol,
        side: command.side,
        quantity: command.quantity,
        filledQuantity: command.filledQuantity,
        source,
      };
      if (command.clientOrderId !== undefined) data.clientOrderId = command.clientOrderId;
      if (command.price !== undefined) data.price = command.price;
      if (command.runId !== undefined) data.runId = command.runId;
      return [{ type: 'ExternalOrderDetected', data }];
    }
    case 'RecordExternalOrderCanceled': {
      if (!state.externalOrders.has(command.externalOrderId)) {
        throw new InvalidTransitionError(
          `cannot record the cancel of external order "${command.externalOrderId}": the book has not detected it (or it was resolved already); detect it first`,
          'order',
          'UNKNOWN',
          ['DETECTED'],
        );
      }
      const data: EventData<'ExternalOrderCanceled'> = {
        externalOrderId: command.externalOrderId,
        filledQuantity: command.filledQuantity,
        source,
      };
      if (command.runId !== undefined) data.runId = command.runId;
      return [{ type: 'ExternalOrderCanceled', data }];
    }
    case 'CloseOrphan': {
      requireNotIn(state, command.positionId, 'record the close of orphan');
      const data: EventData<'OrphanClosed'> = { positionId: command.positionId, value: command.value, source };
      if (command.symbol !== undefined) data.symbol = command.symbol;
      if (command.reason !== undefined) data.reason = command.reason;
      return [{ type: 'OrphanClosed', data }];
    }
    case 'SuspectPhantom': {
      const p = requireIn(state, command.positionId, 'suspect a phantom in');
      if (p.missedLooks >= command.looks) return [];
      const data: EventData<'PhantomSuspected'> = { positionId: p.id, looks: command.looks, value: p.value, source };
      if (command.runId !== undefined) data.runId = command.runId;
      if (command.closedAt !== undefined) data.closedAt = command.closedAt;
      return [{ type: 'PhantomSuspected', data }];
    }
    case 'DismissPhantom': {
      const p = requireIn(state, command.positionId, 'dismiss a phantom suspicion on');
      if (p.missedLooks === 0) return [];
      return [{ type: 'PhantomDismissed', data: { positionId: p.id, looks: p.missedLooks, source } }];
    }
    case 'ClearPhantom': {
      const p = requireIn(state, command.positionId, 'clear phantom');
      const fraction = clearedFraction(p, command.quantity);
      const value = p.value * fraction;
      const costBasis = p.costBasis * fraction;
      const data: EventData<'PhantomCleared'> = {
        positionId: p.id,
        value,
        costBasis,
        realizedPnl: pnlOf(p.side, value, costBasis),
        looks: command.looks,
        reason: command.reason,
        source,
      };
      if (p.symbol !== undefined) data.symbol = p.symbol;
      if (command.closedAt !== undefined) data.closedAt = command.closedAt;
      if (fraction < 1) {
        data.fraction = fraction;
        if (command.quantity !== undefined) data.quantity = command.quantity;
      }
      return [{ type: 'PhantomCleared', data }];
    }
    case 'CorrectDrift': {
      const p = requireIn(state, command.positionId, 'correct the drift of');
      const sameQuantity = command.externalQuantity === undefined || command.externalQuantity === p.quantity;
      if (p.value === command.externalValue && sameQuantity) return [];
      const data: EventData<'DriftCorrected'> = {
        positionId: p.id,
        localValue: p.value,
        externalValue: command.externalValue,
        source,
      };
      if (p.quantity !== undefined) data.localQuantity = p.quantity;
      if (command.externalQuantity !== undefined) data.externalQuantity = command.externalQuantity;
      if (command.tolerance !== undefined) data.tolerance = command.tolerance;
      return [{ type: 'DriftCorrected', data }];
    }
    case 'CompleteReconciliation': {
      const data: EventData<'ReconciliationCompleted'> = {
        runId: command.runId,
        startedAt: command.startedAt,
        completedAt: now,
        counts: command.counts,
        report: command.report,
        source,
      };
      if (command.snapshotAt !== undefined) data.snapshotAt = command.snapshotAt;
      return [{ type: 'ReconciliationCompleted', data }];
    }
    case 'RecordHeartbeat': {
      const data: EventData<'Heartbeat'> = { at: now, source };
      if (command.process !== undefined) data.process = command.process;
      return [{ type: 'Heartbeat', data }];
    }
    // Stryker disable next-line ConditionalExpression,BlockStatement: the exhaustive default, unreachable (the compiler proves the switch covers every type)
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
}
