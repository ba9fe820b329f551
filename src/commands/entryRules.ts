import { RiskLimitError, type RiskRule } from '../errors/index.js';
import { breakerActive } from './breaker.js';
import { positionRisk } from './evolve.js';
import { money, pct } from './format.js';
import type { BookPolicy } from './policy.js';
import type { CommandOf } from './schemas.js';
import type { BookState, WatchingPosition } from './state.js';
import { dayKey, isBefore } from './time.js';

/** The book's equity for the risk rules: the policy's starting equity plus what was realized. */
export function equityOf(state: BookState, policy: BookPolicy): number {
  return policy.equity + state.realizedPnl;
}

/** The risk rules an entry must pass, in order; each refusal names the rule, the limit and the value. */
export function checkEntryRisk(state: BookState, p: WatchingPosition, cmd: CommandOf<'Enter'>, now: string, policy: BookPolicy): void {
  const refuse = (rule: RiskRule, limit: number | string, current: number | string, detail: string): never => {
    throw new RiskLimitError(`cannot enter "${p.id}": rule ${rule}: ${detail}`, rule, limit, current);
  };
  if (breakerActive(state.breaker, now) && state.breaker.status === 'TRIPPED') {
    const b = state.breaker;
    refuse(
      'circuitBreaker',
      b.until ?? 'until reset',
      'tripped',
      `the circuit breaker is tripped (${b.reason}) ${b.until ? `until ${b.until}` : 'until reset'}`,
    );
  }
  if (p.symbol !== undefined) {
    const until = state.cooldowns.get(p.symbol);
    if (until !== undefined && isBefore(now, until)) {
      refuse('cooldown', until, now, `${p.symbol} is cooling down until ${until} (it is ${now})`);
    }
  }
  if (cmd.value < policy.minPositionValue) {
    refuse(
      'minPositionValue',
      policy.minPositionValue,
      cmd.value,
      `value ${money(cmd.value)} is below the minimum ${money(policy.minPositionValue)}`,
    );
  }
  if (state.open >= policy.maxPositions) {
    refuse('maxPositions', policy.maxPositions, state.open, `${state.open} positions are IN, the limit is ${policy.maxPositions}`);
  }
  const sameSymbol = p.symbol === undefined ? 0 : (state.openBySymbol.get(p.symbol) ?? 0);
  if (policy.rejectDuplicateSymbol && sameSymbol > 0) {
    const n = sameSymbol;
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
