import { InvalidTransitionError, RiskLimitError, ValidationError } from '../errors/index.js';
import type { EventData, EventType, Source } from '../events/index.js';
import { breakerActive } from './breaker.js';
import { decideReconcile } from './decideReconcile.js';
import { checkRecoveryGate, decideRecovery } from './decideRecovery.js';
import { positionRisk } from './evolve.js';
import type { BookPolicy } from './policy.js';
import type { Command, CommandOf } from './schemas.js';
import type { BookState, InPosition, Position, PositionStatus } from './state.js';
import { addSeconds, dayKey, isBefore, secondsBetween } from './time.js';

/** An event as `decide` returns it: the handler adds metadata and appends it. */
export type DecidedEvent = { [K in EventType]: { type: K; data: EventData<K> } }[EventType];

/** What `decide` needs besides the command and the state: time, rules and who is asking. */
export interface DecideContext {
  now: Date;
  policy: BookPolicy;
  /** Where the command comes from; recorded on every event. Default `local`. */
  source?: Source;
}

type Status = PositionStatus | 'UNKNOWN';

const verbs: Record<Command['type'], string> = {
  Track: 'track',
  Enter: 'enter',
  Hold: 'hold',
  Monitor: 'monitor',
  Exit: 'exit',
  Skip: 'skip',
  AdoptOrphan: 'adopt',
  Archive: 'archive',
  TripCircuitBreaker: 'trip the circuit breaker',
  ResetCircuitBreaker: 'reset the circuit breaker',
  StartCooldown: 'start a cooldown',
  DetectOrphan: 'record an orphan',
  CloseOrphan: 'record an orphan close',
  SuspectPhantom: 'suspect a phantom',
  DismissPhantom: 'dismiss a phantom',
  ClearPhantom: 'clear a phantom',
  CorrectDrift: 'correct drift',
  CompleteReconciliation: 'complete a reconciliation',
  RecordHeartbeat: 'record a heartbeat',
  RequireRecovery: 'require a recovery',
  AcknowledgeRecovery: 'acknowledge a recovery',
};

function hint(status: Status, expected: readonly Status[]): string {
  if (status === 'UNKNOWN' && expected.includes('EXITED')) return 'there is nothing to archive';
  if (expected.includes('WATCHING') && status === 'UNKNOWN') return 'track it first';
  if (expected.includes('IN') && status === 'WATCHING') return 'enter it first';
  if (expected.includes('IN') && status === 'UNKNOWN') return 'track and enter it first';
  if (expected.includes('UNKNOWN') && status !== 'UNKNOWN') {
    return status === 'IN' ? 'exit it first, or use another id' : 'archive it first, or use another id';
  }
  if (status === 'IN') return 'exit it first';
  if (status === 'EXITED' || status === 'SKIPPED') return 'it is finished: archive it and track it again';
  return 'see ptrack status';
}

function describeStatus(status: Status): string {
  return status === 'UNKNOWN' ? 'not tracked (unknown or archived)' : status;
}

function describeExpected(expected: readonly Status[]): string {
  return expected.map((s) => (s === 'UNKNOWN' ? 'unknown or archived' : s)).join(' or ');
}

/** Throws the typed error for a transition the position's status does not allow. */
function requireStatus<S extends Status>(
  command: Command,
  id: string,
  position: Position | undefined,
  expected: readonly S[],
): void {
  const status: Status = position?.status ?? 'UNKNOWN';
  if ((expected as readonly Status[]).includes(status)) return;
  throw new InvalidTransitionError(
    `cannot ${verbs[command.type]} "${id}": it is ${describeStatus(status)}, expected ${describeExpected(expected)} (${hint(status, expected)})`,
    id,
    status,
    expected,
  );
}

const pct = (n: number): string => `${(Math.round(n * 100) / 100).toFixed(2)}%`;
const money = (n: number): string => `${Math.round(n * 100) / 100}`;

function equityOf(state: BookState, policy: BookPolicy): number {
  return policy.equity + state.realizedPnl;
}

/** The correlation group of a symbol in the policy's map. */
export function groupOfSymbol(policy: BookPolicy, symbol: string | undefined): string | undefined {
  if (symbol === undefined) return undefined;
  for (const [group, symbols] of Object.entries(policy.correlationGroups)) if (symbols.includes(symbol)) return group;
  return undefined;
}

/** The risk rules an entry must pass, in order; each refusal names the rule, the limit and the value. */
function checkEntryRisk(state: BookState, p: Position, cmd: CommandOf<'Enter'>, now: string, policy: BookPolicy): void {
  const refuse = (rule: string, limit: number | string, current: number | string, detail: string): never => {
    throw new RiskLimitError(`cannot enter "${p.id}": rule ${rule}: ${detail}`, rule, limit, current);
  };
  if (breakerActive(state.breaker, now) && state.breaker.status === 'TRIPPED') {
    const b = state.breaker;
    refuse('circuitBreaker', b.until ?? 'until reset', 'tripped', `the circuit breaker is tripped (${b.reason}) ${b.until ? `until ${b.until}` : 'until reset'}`);
  }
  if (p.symbol !== undefined) {
    const until = state.cooldowns.get(p.symbol);
    if (until !== undefined && isBefore(now, until)) {
      refuse('cooldown', until, now, `${p.symbol} is cooling down until ${until} (it is ${now})`);
    }
  }
  if (cmd.value < policy.minPositionValue) {
    refuse('minPositionValue', policy.minPositionValue, cmd.value, `value ${money(cmd.value)} is below the minimum ${money(policy.minPositionValue)}`);
  }
  if (state.open >= policy.maxPositions) {
    refuse('maxPositions', policy.maxPositions, state.open, `${state.open} positions are IN, the limit is ${policy.maxPositions}`);
  }
  if (policy.rejectDuplicateSymbol && p.symbol !== undefined && (state.openBySymbol.get(p.symbol) ?? 0) > 0) {
    const n = state.openBySymbol.get(p.symbol)!;
    refuse('duplicateSymbol', 1, n, `${p.symbol} is already IN (${n} open, the limit is 1: duplicate open symbols are refused)`);
  }
  if (policy.maxConsecutiveLossesPerSymbol !== null && p.symbol !== undefined) {
    const streak = state.lossStreaks.get(p.symbol);
    const today = dayKey(now, state.limits.timeZone);
    if (streak && streak.day === today && streak.count >= policy.maxConsecutiveLossesPerSymbol) {
      refuse(
        'maxConsecutiveLossesPerSymbol',
        policy.maxConsecutiveLossesPerSymbol,
        streak.count,
        `${p.symbol} lost ${streak.count} times in a row today, the limit is ${policy.maxConsecutiveLossesPerSymbol}`,
      );
    }
  }
  if (policy.maxGroupRiskPct !== null) {
    const equity = equityOf(state, policy);
    const added = positionRisk(cmd.value, cmd.quantity, cmd.price, cmd.stop);
    // A percentage of no equity is negative or infinite and compares as "under the cap":
    // with nothing left to lose, any new risk is over every cap, grouped or not.
    if (equity <= 0 && added > 0) {
      refuse(
        'equity',
        0,
        Math.round(equity * 100) / 100,
        `no equity is left to risk (equity ${money(equity)}: starting ${money(policy.equity)}, realized ${money(state.realizedPnl)}), and this entry adds ${money(added)} of risk`,
      );
    }
  }
  if (policy.maxGroupRiskPct !== null && p.group !== undefined) {
    const equity = equityOf(state, policy);
    const current = state.groupRisk.get(p.group) ?? 0;
    const added = positionRisk(cmd.value, cmd.quantity, cmd.price, cmd.stop);
    const after = ((current + added) / equity) * 100;
    if (after > policy.maxGroupRiskPct + 1e-9) {
      refuse(
        'maxGroupRiskPct',
        policy.maxGroupRiskPct,
        Math.round(after * 100) / 100,
        `group "${p.group}" would have ${pct(after)} of equity at risk (open ${pct((current / equity) * 100)} + this ${pct((added / equity) * 100)}), the limit is ${pct(policy.maxGroupRiskPct)}`,
      );
    }
  }
}

function decideExit(state: BookState, p: InPosition, cmd: CommandOf<'Exit'>, ctx: DecideContext, now: string, source: Source): DecidedEvent[] {
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
  const realizedPnl = p.side === 'long' ? value - costBasis : costBasis - value;
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

/**
 * The book's decider: checks a command against the state machine and the risk rules and
 * returns the events it produces (possibly none), or throws one typed error per broken rule.
 * Pure: time, policy and source come in through `context`; the state is not changed.
 *
 * @example
 * ```ts
 * const events = decide({ type: 'Enter', positionId: 'AAPL-1', value: 1000 }, state, { now: new Date(), policy });
 * ```
 */
export function decide(command: Command, state: BookState, context: DecideContext): DecidedEvent[] {
  const now = context.now.toISOString();
  const source = context.source ?? 'local';
  const { policy } = context;
  const target = (command as { positionId?: string }).positionId;
  checkRecoveryGate(command.type, state, target === undefined ? verbs[command.type] : `${verbs[command.type]} "${target}"`);

  switch (command.type) {
    case 'Track': {
      const p = state.positions.get(command.positionId);
      requireStatus(command, command.positionId, p, ['UNKNOWN']);
      const data: EventData<'PositionTracked'> = { positionId: command.positionId, side: command.side, source };
      if (command.symbol !== undefined) data.symbol = command.symbol;
      if (command.setup !== undefined) data.setup = command.setup;
      const group = command.group ?? groupOfSymbol(policy, command.symbol);
      if (group !== undefined) data.group = group;
      if (command.attributes !== undefined) data.attributes = command.attributes;
      return [{ type: 'PositionTracked', data }];
    }
    case 'Enter': {
      const p = state.positions.get(command.positionId);
      requireStatus(command, command.positionId, p, ['WATCHING']);
      checkEntryRisk(state, p!, command, now, policy);
      const data: EventData<'PositionEntered'> = { positionId: p!.id, side: p!.side, value: command.value, source };
      if (p!.symbol !== undefined) data.symbol = p!.symbol;
      if (command.quantity !== undefined) data.quantity = command.quantity;
      if (command.price !== undefined) data.price = command.price;
      if (command.stop !== undefined) data.stop = command.stop;
      return [{ type: 'PositionEntered', data }];
    }
    case 'Hold':
    case 'Monitor': {
      const p = state.positions.get(command.positionId);
      requireStatus(command, command.positionId, p, [command.type === 'Hold' ? 'IN' : 'WATCHING']);
      const data: EventData<'PositionValued'> = { positionId: command.positionId, value: command.value, source };
      if (command.price !== undefined) data.price = command.price;
      return [{ type: 'PositionValued', data }];
    }
    case 'Exit': {
      const p = state.positions.get(command.positionId);
      requireStatus(command, command.positionId, p, ['IN']);
      return decideExit(state, p as InPosition, command, context, now, source);
    }
    case 'Skip': {
      const p = state.positions.get(command.positionId);
      requireStatus(command, command.positionId, p, ['WATCHING']);
      const data: EventData<'PositionSkipped'> = { positionId: command.positionId, source };
      if (command.reason !== undefined) data.reason = command.reason;
      return [{ type: 'PositionSkipped', data }];
    }
    case 'AdoptOrphan': {
      const p = state.positions.get(command.positionId);
      requireStatus(command, command.positionId, p, ['UNKNOWN']);
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
      const group = command.group ?? groupOfSymbol(policy, command.symbol);
      if (group !== undefined) data.group = group;
      if (command.reason !== undefined) data.reason = command.reason;
      return [{ type: 'OrphanAdopted', data }];
    }
    case 'Archive': {
      if (command.positionId !== undefined) {
        const p = state.positions.get(command.positionId);
        requireStatus(command, command.positionId, p, ['WATCHING', 'EXITED', 'SKIPPED']);
        const from = p!.status as 'WATCHING' | 'EXITED' | 'SKIPPED';
        return [{ type: 'PositionArchived', data: { positionId: p!.id, from, reason: 'manual', source } }];
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
    case 'DetectOrphan':
    case 'CloseOrphan':
    case 'SuspectPhantom':
    case 'DismissPhantom':
    case 'ClearPhantom':
    case 'CorrectDrift':
    case 'CompleteReconciliation':
    case 'RecordHeartbeat':
      return decideReconcile(command, state, now, source);
    case 'RequireRecovery':
    case 'AcknowledgeRecovery':
      return decideRecovery(command, state, source);
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
}
