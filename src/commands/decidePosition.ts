import { RiskLimitError, ValidationError } from '../errors/index.js';
import type { EventData, Source } from '../events/index.js';
import { breakerActive } from './breaker.js';
import type { DecideContext, DecidedEvent } from './decided.js';
import { checkEntryRisk, equityOf } from './entryRules.js';
import { money, pct } from './format.js';
import { groupOf } from './groupOf.js';
import { pnlOf } from './pnl.js';
import type { CommandOf } from './schemas.js';
import type { BookState, InPosition } from './state.js';
import { addSeconds, dayKey, secondsBetween } from './time.js';
import { requireStatus } from './transitions.js';

/** The commands of a position's lifecycle: WATCHING -> IN -> EXITED, SKIPPED, archived. */
export type PositionCommand = CommandOf<'Track' | 'Enter' | 'Hold' | 'Monitor' | 'Exit' | 'Skip' | 'AdoptOrphan' | 'Archive'>;

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
  const full = fraction >= 1 - 1e-12;
  if (full) fraction = 1;
  const value = cmd.value * fraction;
  const costBasis = p.costBasis * fraction;
  const realizedPnl = pnlOf(p.side, value, costBasis);
  const exited: DecidedEvent = {
    type: 'PositionExited',
    data: { positionId: p.id, side: p.side, fraction, value, costBasis, realizedPnl, full, source },
  };
  if (p.symbol !== undefined) exited.data.symbol = p.symbol;
  if (p.quantity !== undefined) exited.data.quantity = p.quantity * fraction;
  if (cmd.price !== undefined) exited.data.price = cmd.price;
  if (cmd.reason !== undefined) exited.data.reason = cmd.reason;
  const events: DecidedEvent[] = [exited];

  const { policy } = ctx;
  if (policy.dailyLossLimitPct !== null && realizedPnl < 0 && !breakerActive(state.breaker, now)) {
    const day = dayKey(now, state.limits.timeZone);
    const dailyPnl = (state.today.day === day ? state.today.pnl : 0) + realizedPnl;
    const equity = equityOf(state, policy);
    // With no equity left the limit is nothing (not a negative amount): any loss trips it.
    const limit = equity > 0 ? (policy.dailyLossLimitPct / 100) * equity : 0;
    if (dailyPnl <= -limit) {
      events.push({
        type: 'CircuitBreakerTripped',
        data: {
          trigger: 'daily_loss',
          reason:
            equity > 0
              ? `daily realized loss ${money(-dailyPnl)} reached the limit ${money(limit)} (${pct(policy.dailyLossLimitPct)} of equity)`
              : `daily realized loss ${money(-dailyPnl)} with no equity left (equity ${money(equity)} before this exit)`,
          until: addSeconds(now, policy.circuitBreakerSeconds),
          dailyPnl,
          limit: limit > 0 ? -limit : 0,
          source,
        },
      });
    }
  }
  if (full && policy.cooldownSeconds > 0 && p.symbol !== undefined) {
    events.push({
      type: 'CooldownStarted',
      data: { symbol: p.symbol, until: addSeconds(now, policy.cooldownSeconds), reason: `exit of ${p.id}`, source },
    });
  }
  return events;
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
    case 'Track': {
      requireStatus(state, command, command.positionId, ['UNKNOWN']);
      const data: EventData<'PositionTracked'> = { positionId: command.positionId, side: command.side, source };
      if (command.symbol !== undefined) data.symbol = command.symbol;
      if (command.setup !== undefined) data.setup = command.setup;
      const group = command.group ?? groupOf(policy.correlationGroups, command.symbol);
      if (group !== undefined) data.group = group;
      if (command.attributes !== undefined) data.attributes = command.attributes;
      return [{ type: 'PositionTracked', data }];
    }
    case 'Enter': {
      const p = requireStatus(state, command, command.positionId, ['WATCHING']);
      checkEntryRisk(state, p, command, now, policy);
      const data: EventData<'PositionEntered'> = { positionId: p.id, side: p.side, value: command.value, source };
      if (p.symbol !== undefined) data.symbol = p.symbol;
      if (command.quantity !== undefined) data.quantity = command.quantity;
      if (command.price !== undefined) data.price = command.price;
      if (command.stop !== undefined) data.stop = command.stop;
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
      if (command.quantity !== undefined) data.quantity = command.quantity;
      if (command.price !== undefined) data.price = command.price;
      if (command.setup !== undefined) data.setup = command.setup;
      const group = command.group ?? groupOf(policy.correlationGroups, command.symbol);
      if (group !== undefined) data.group = group;
      if (command.reason !== undefined) data.reason = command.reason;
      return [{ type: 'OrphanAdopted', data }];
    }
    case 'Archive': {
      if (command.positionId !== undefined) {
        const p = requireStatus(state, command, command.positionId, ['WATCHING', 'EXITED', 'SKIPPED']);
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
        if (timeout !== null && age >= timeout && p.status !== 'IN') {
          due.push({ type: 'PositionArchived', data: { positionId: p.id, from: p.status, reason: 'timeout', source } });
        }
      }
      return due;
    }
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
}
