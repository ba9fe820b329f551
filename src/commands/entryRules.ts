import { RiskLimitError, type RiskRule } from '../errors/index.js';
import { breakerActive } from './breaker.js';
import { positionRisk } from './evolve.js';
import { money, pct } from './format.js';
import { groupOf } from './groupOf.js';
import type { BookPolicy } from './policy.js';
import type { BookState } from './state.js';
import { dayKey, isBefore } from './time.js';

/** The book's equity for the risk rules: the policy's starting equity plus what was realized. */
export function equityOf(state: BookState, policy: BookPolicy): number {
  return policy.equity + state.realizedPnl;
}

/** What an entry adds: its value (the cost basis it opens), and quantity, price and stop for its risk. */
export interface EntryTerms {
  value: number;
  quantity?: number;
  price?: number;
  stop?: number;
}

/** The position an entry is for: its id, symbol and correlation group. */
export interface EntryTarget {
  id: string;
  symbol?: string;
  group?: string;
}

/**
 * What live entry orders hold back for themselves, besides the positions already IN: the
 * positions not IN yet that they will open, per symbol, and the risk of their unfilled part
 * per group. Two concurrent entry orders would otherwise both pass the caps and break them
 * once both fill.
 */
export interface Reserved {
  positions: number;
  bySymbol: Map<string, number>;
  groupRisk: Map<string, number>;
}

/** The reservations of every live entry order, but the positions not IN of `exclude` (the entry's own position). */
export function reservedByOrders(state: BookState, policy: BookPolicy, exclude: string): Reserved {
  const reserved: Reserved = { positions: 0, bySymbol: new Map(), groupRisk: new Map() };
  const counted = new Set<string>();
  for (const id of state.liveOrders.keys()) {
    const o = state.orders.get(id);
    if (o?.intent !== 'entry') continue;
    const remaining = o.quantity - o.filledQuantity;
    if (remaining <= 0) continue;
    const p = state.positions.get(o.positionId);
    if (p?.status !== 'IN' && o.positionId !== exclude && !counted.has(o.positionId)) {
      counted.add(o.positionId);
      reserved.positions += 1;
      reserved.bySymbol.set(o.symbol, (reserved.bySymbol.get(o.symbol) ?? 0) + 1);
    }
    const group = p?.group ?? groupOf(policy.correlationGroups, o.symbol);
    if (group !== undefined) {
      const price = o.limitPrice ?? o.referencePrice ?? o.averagePrice ?? 0;
      reserved.groupRisk.set(group, (reserved.groupRisk.get(group) ?? 0) + positionRisk(remaining * price, remaining, price, o.stop));
    }
  }
  return reserved;
}

/** How an entry is checked: the verb of its refusals; `grow` for more of an IN position (only the breaker, cooldown, symbol controls and risk caps). */
export interface EntryCheck {
  verb: string;
  /** The order side the entry trades (buy for a long, sell for a short), for the symbol controls. */
  side: 'buy' | 'sell';
  grow?: boolean;
  reserved?: Reserved;
}

/**
 * Refuses trading `side` of `symbol` while it is disabled (DisableSymbol), naming the reason and
 * since when. Entries and reduce orders alike: a reduce order is refused only when its own side is.
 */
export function checkSymbolControl(state: BookState, symbol: string | undefined, side: 'buy' | 'sell', verb: string, id: string): void {
  if (symbol === undefined) return;
  const block = state.symbolControls.get(symbol)?.[side];
  if (block === undefined) return;
  throw new RiskLimitError(
    `cannot ${verb} "${id}": rule symbolDisabled: ${side === 'buy' ? 'buying' : 'selling'} ${symbol} is disabled since ${block.since} (${block.reason}); enable it with EnableSymbol`,
    'symbolDisabled',
    'disabled',
    side,
  );
}

const NONE: Reserved = { positions: 0, bySymbol: new Map(), groupRisk: new Map() };

/**
 * The risk rules an entry must pass, in order; each refusal names the rule, the limit and the
 * value. An entry opens a position (Enter, an entry order on a WATCHING or unknown one) or,
 * with `grow`, adds to an IN one: then only the breaker, the cooldown, the symbol controls and
 * the risk caps apply.
 */
export function checkEntryRisk(
  state: BookState,
  p: EntryTarget,
  entry: EntryTerms,
  now: string,
  policy: BookPolicy,
  how: EntryCheck,
): void {
  const reserved = how.reserved ?? NONE;
  const refuse = (rule: RiskRule, limit: number | string, current: number | string, detail: string): never => {
    throw new RiskLimitError(`cannot ${how.verb} "${p.id}": rule ${rule}: ${detail}`, rule, limit, current);
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
  checkSymbolControl(state, p.symbol, how.side, how.verb, p.id);
  if (how.grow !== true) checkOpening(state, p, entry, now, policy, reserved, refuse);
  if (policy.maxGroupRiskPct !== null) {
    const equity = equityOf(state, policy);
    const added = positionRisk(entry.value, entry.quantity, entry.price, entry.stop);
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
    if (p.group !== undefined) {
      const open = state.groupRisk.get(p.group) ?? 0;
      const held = reserved.groupRisk.get(p.group) ?? 0;
      const current = open + held;
      const after = ((current + added) / equity) * 100;
      if (after > policy.maxGroupRiskPct + 1e-9) {
        const heldText = held > 0 ? ` + live entry orders ${pct((held / equity) * 100)}` : '';
        refuse(
          'maxGroupRiskPct',
          policy.maxGroupRiskPct,
          Math.round(after * 100) / 100,
          `group "${p.group}" would have ${pct(after)} of equity at risk (open ${pct((open / equity) * 100)}${heldText} + this ${pct((added / equity) * 100)}), the limit is ${pct(policy.maxGroupRiskPct)}`,
        );
      }
    }
  }
}

/** The rules of an entry that opens a position: dust, the position cap, the duplicate symbol, the losing streak. */
function checkOpening(
  state: BookState,
  p: EntryTarget,
  entry: EntryTerms,
  now: string,
  policy: BookPolicy,
  reserved: Reserved,
  refuse: (rule: RiskRule, limit: number | string, current: number | string, detail: string) => never,
): void {
  if (entry.value < policy.minPositionValue) {
    refuse(
      'minPositionValue',
      policy.minPositionValue,
      entry.value,
      `value ${money(entry.value)} is below the minimum ${money(policy.minPositionValue)}`,
    );
  }
  const taken = state.open + reserved.positions;
  if (taken >= policy.maxPositions) {
    const held = reserved.positions > 0 ? ` and ${reserved.positions} more are reserved by live entry orders` : '';
    refuse('maxPositions', policy.maxPositions, taken, `${state.open} positions are IN${held}, the limit is ${policy.maxPositions}`);
  }
  const sameSymbol = p.symbol === undefined ? 0 : (state.openBySymbol.get(p.symbol) ?? 0) + (reserved.bySymbol.get(p.symbol) ?? 0);
  if (policy.rejectDuplicateSymbol && sameSymbol > 0) {
    const n = sameSymbol;
    const how = (reserved.bySymbol.get(p.symbol ?? '') ?? 0) > 0 ? 'IN or ordered by a live entry order' : 'IN';
    refuse('duplicateSymbol', 1, n, `${p.symbol} is already ${how} (${n} open, the limit is 1: duplicate open symbols are refused)`);
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
}
