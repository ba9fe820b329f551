import { OrderStateError, RiskLimitError, ValidationError } from '../errors/index.js';
import { CURRENT_SCHEMA_VERSION, type EventData, type Source, type TrailingStop, type TrailingStopSpec } from '../events/index.js';
import type { DecideContext, DecidedEvent } from './decided.js';
import { checkEntryRisk, reservedByOrders } from './entryRules.js';
import { closeEvents, type ClosedPart } from './exitRules.js';
import { money } from './format.js';
import { groupOf } from './groupOf.js';
import type { CommandOf } from './schemas.js';
import { forkBookState, type BookState, type InPosition } from './state.js';
import { evolve, type FoldableEvent } from './evolve.js';
import { secondsBetween } from './time.js';
import { requireStatus } from './transitions.js';

/** The commands of a position's lifecycle: WATCHING -> IN -> EXITED, SKIPPED, archived. */
export type PositionCommand = CommandOf<
  'Track' | 'Enter' | 'Open' | 'Hold' | 'Monitor' | 'Exit' | 'Skip' | 'AdoptOrphan' | 'Archive' | 'SetProtection'
>;

/**
 * Open: the Track decided against `state`, its events folded into a scratch layer over it (read
 * and dropped here: `state` is not written while it lives), then the Enter decided against that.
 * Either refusal throws, so an open is all of its events or none.
 */
function decideOpen(command: CommandOf<'Open'>, state: BookState, context: DecideContext, now: string, source: Source): DecidedEvent[] {
  const { type: _type, commandId: _commandId, value, quantity, price, stop, takeProfit, trailingStop, ...track } = command;
  const tracked = decidePosition({ ...track, type: 'Track' }, state, context, now, source);
  let after = forkBookState(state, 'scratch');
  for (const e of tracked) {
    after = evolve(after, { ...e, metadata: { recordedAt: now, schemaVersion: CURRENT_SCHEMA_VERSION[e.type] } } as FoldableEvent);
  }
  const enter: CommandOf<'Enter'> = { type: 'Enter', positionId: command.positionId, value };
  if (track.venueKey !== undefined) enter.venueKey = track.venueKey;
  if (quantity !== undefined) enter.quantity = quantity;
  if (price !== undefined) enter.price = price;
  if (stop !== undefined) enter.stop = stop;
  if (takeProfit !== undefined) enter.takeProfit = takeProfit;
  if (trailingStop !== undefined) enter.trailingStop = trailingStop;
  return [...tracked, ...decidePosition(enter, after, context, now, source)];
}

/**
 * A trailing stop as it starts: its spec, trailing from `from` (the entry price); a
 * ValidationError naming the field when the price is unknown.
 */
export function startTrailing(spec: TrailingStopSpec, from: number | undefined, verb: string): TrailingStop {
  if (from === undefined) {
    throw new ValidationError(`cannot ${verb}: a trailing stop needs the entry price to trail from (give price, or quantity)`, [
      { path: 'trailingStop', message: 'needs the entry price', value: spec },
    ]);
  }
  return { ...spec, highWater: from };
}

function decideProtection(p: InPosition, cmd: CommandOf<'SetProtection'>, source: Source): DecidedEvent[] {
  const data: EventData<'ProtectionSet'> = { positionId: p.id, source };
  const stop = cmd.stop === undefined ? p.stop : (cmd.stop ?? undefined);
  const takeProfit = cmd.takeProfit === undefined ? p.takeProfit : (cmd.takeProfit ?? undefined);
  let trailingStop = p.trailingStop;
  if (cmd.trailingStop === null) trailingStop = undefined;
  else if (cmd.trailingStop !== undefined) {
    const from = p.price ?? (p.quantity !== undefined && p.quantity > 0 ? p.costBasis / p.quantity : undefined);
    trailingStop = startTrailing(cmd.trailingStop, from, `set the protection of "${p.id}"`);
  }
  if (stop !== undefined) data.stop = stop;
  if (takeProfit !== undefined) data.takeProfit = takeProfit;
  if (trailingStop !== undefined) data.trailingStop = trailingStop;
  const same = stop === p.stop && takeProfit === p.takeProfit && JSON.stringify(trailingStop) === JSON.stringify(p.trailingStop);
  return same ? [] : [{ type: 'ProtectionSet', data }];
}

function decideExit(
  state: BookState,
  p: InPosition,
  cmd: CommandOf<'Exit'>,
  ctx: DecideContext,
  now: string,
  source: Source,
): DecidedEvent[] {
  let fraction = cmd.fraction ?? 1;
  if (cmd.quantity !== undefined) {
    if (p.quantity === undefined) {
      throw new ValidationError(`cannot exit "${p.id}" by quantity: its quantity is unknown (give --fraction instead)`);
    }
    if (cmd.quantity > p.quantity * (1 + 1e-9)) {
      throw new ValidationError(`cannot exit ${cmd.quantity} of "${p.id}": only ${p.quantity} is open`, [
        { path: 'quantity', message: `at most ${p.quantity}`, value: cmd.quantity },
      ]);
    }
    fraction = Math.min(1, cmd.quantity / p.quantity);
  }
  if (fraction >= 1 - 1e-12) fraction = 1;
  const part: ClosedPart = { fraction, value: cmd.value * fraction };
  if (cmd.price !== undefined) part.price = cmd.price;
  if (cmd.reason !== undefined) part.reason = cmd.reason;
  return closeEvents(state, p, part, ctx.policy, now, source);
}

/** The live order of a position that a Skip or an Archive must not leave behind, if any. */
function refuseLiveOrder(state: BookState, positionId: string, verb: string): void {
  for (const [id, of] of state.liveOrders) {
    if (of !== positionId) continue;
    const o = state.orders.get(id);
    const status = o?.status ?? 'live';
    throw new OrderStateError(
      `cannot ${verb} "${positionId}": its order "${id}" is ${status} and may still fill (cancel it first: CancelOrder, then wait for the venue's answer)`,
      id,
      status,
      ['FILLED', 'CANCELED', 'REJECTED', 'EXPIRED'],
    );
  }
}

function hasLiveOrder(state: BookState, positionId: string): boolean {
  if (state.liveOrders.size === 0) return false;
  for (const of of state.liveOrders.values()) if (of === positionId) return true;
  return false;
}

/** Decides a lifecycle command: its status checks, the entry risk rules and the exit's follow-ups. */
export function decidePosition(
  command: PositionCommand,
  state: BookState,
  context: DecideContext,
  now: string,
  source: Source,
): DecidedEvent[] {
  const { policy } = context;
  switch (command.type) {
    case 'Open':
      return decideOpen(command, state, context, now, source);
    case 'Track': {
      requireStatus(state, command, command.positionId, ['UNKNOWN']);
      const data: EventData<'PositionTracked'> = { positionId: command.positionId, side: command.side, source };
      if (command.symbol !== undefined) data.symbol = command.symbol;
      if (command.venueKey !== undefined) data.venueKey = command.venueKey;
      if (command.setup !== undefined) data.setup = command.setup;
      const group = command.group ?? groupOf(policy.correlationGroups, command.symbol);
      if (group !== undefined) data.group = group;
      if (command.attributes !== undefined) data.attributes = command.attributes;
      return [{ type: 'PositionTracked', data }];
    }
    case 'Enter': {
      const p = requireStatus(state, command, command.positionId, ['WATCHING']);
      checkEntryRisk(state, p, command, now, policy, {
        verb: 'enter',
        side: p.side === 'long' ? 'buy' : 'sell',
        reserved: reservedByOrders(state, policy, p.id),
      });
      const data: EventData<'PositionEntered'> = { positionId: p.id, side: p.side, value: command.value, source };
      if (p.symbol !== undefined) data.symbol = p.symbol;
      const venueKey = command.venueKey ?? p.venueKey;
      if (venueKey !== undefined) data.venueKey = venueKey;
      if (command.quantity !== undefined) data.quantity = command.quantity;
      if (command.price !== undefined) data.price = command.price;
      if (command.stop !== undefined) data.stop = command.stop;
      if (command.takeProfit !== undefined) data.takeProfit = command.takeProfit;
      if (command.trailingStop !== undefined) {
        const from = command.price ?? (command.quantity !== undefined ? command.value / command.quantity : undefined);
        data.trailingStop = startTrailing(command.trailingStop, from, `enter "${p.id}"`);
      }
      return [{ type: 'PositionEntered', data }];
    }
    case 'Hold':
    case 'Monitor': {
      requireStatus(state, command, command.positionId, [command.type === 'Hold' ? 'IN' : 'WATCHING']);
      const data: EventData<'PositionValued'> = { positionId: command.positionId, value: command.value, source };
      if (command.price !== undefined) data.price = command.price;
      return [{ type: 'PositionValued', data }];
    }
    case 'Exit': {
      const p = requireStatus(state, command, command.positionId, ['IN']);
      return decideExit(state, p, command, context, now, source);
    }
    case 'Skip': {
      requireStatus(state, command, command.positionId, ['WATCHING']);
      refuseLiveOrder(state, command.positionId, 'skip');
      const data: EventData<'PositionSkipped'> = { positionId: command.positionId, source };
      if (command.reason !== undefined) data.reason = command.reason;
      return [{ type: 'PositionSkipped', data }];
    }
    case 'AdoptOrphan': {
      requireStatus(state, command, command.positionId, ['UNKNOWN']);
      if (command.value < policy.minPositionValue) {
        throw new RiskLimitError(
          `cannot adopt "${command.positionId}": rule minPositionValue: value ${money(command.value)} is below the minimum ${money(policy.minPositionValue)} (dust)`,
          'minPositionValue',
          policy.minPositionValue,
          command.value,
        );
      }
      const data: EventData<'OrphanAdopted'> = { positionId: command.positionId, side: command.side, value: command.value, source };
      if (command.symbol !== undefined) data.symbol = command.symbol;
      if (command.venueKey !== undefined) data.venueKey = command.venueKey;
      if (command.quantity !== undefined) data.quantity = command.quantity;
      if (command.price !== undefined) data.price = command.price;
      if (command.setup !== undefined) data.setup = command.setup;
      const group = command.group ?? groupOf(policy.correlationGroups, command.symbol);
      if (group !== undefined) data.group = group;
      if (command.reason !== undefined) data.reason = command.reason;
      return [{ type: 'OrphanAdopted', data }];
    }
    case 'SetProtection': {
      const p = requireStatus(state, command, command.positionId, ['IN']);
      return decideProtection(p, command, source);
    }
    case 'Archive': {
      if (command.positionId !== undefined) {
        const p = requireStatus(state, command, command.positionId, ['WATCHING', 'EXITED', 'SKIPPED']);
        refuseLiveOrder(state, p.id, 'archive');
        return [{ type: 'PositionArchived', data: { positionId: p.id, from: p.status, reason: 'manual', source } }];
      }
      const due: DecidedEvent[] = [];
      for (const p of state.positions.values()) {
        const age = secondsBetween(p.since, now);
        const timeout =
          p.status === 'EXITED'
            ? policy.exitedCleanupSeconds
            : p.status === 'SKIPPED'
              ? policy.skipCleanupSeconds
              : p.status === 'WATCHING'
                ? policy.watchTimeoutSeconds
                : null;
        // A position with a live order waits for it: the order may still fill.
        if (timeout !== null && age >= timeout && p.status !== 'IN' && !hasLiveOrder(state, p.id)) {
          due.push({ type: 'PositionArchived', data: { positionId: p.id, from: p.status, reason: 'timeout', source } });
        }
      }
      return due;
    }
    // Stryker disable next-line ConditionalExpression,BlockStatement: the exhaustive default, unreachable (the compiler proves the switch covers every type)
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
}
