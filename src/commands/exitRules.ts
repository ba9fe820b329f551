import type { Source } from '../events/index.js';
import { breakerActive } from './breaker.js';
import type { DecidedEvent } from './decided.js';
import { equityOf } from './entryRules.js';
import { money, pct } from './format.js';
import { pnlOf } from './pnl.js';
import type { BookPolicy } from './policy.js';
import type { BookState, InPosition } from './state.js';
import { addSeconds, dayKey } from './time.js';

/** What closes part of a position: the share of it, what that part was worth, and the costs that come off its P&L. */
export interface ClosedPart {
  /** Share of the open position closed, in (0, 1]; at 1 (or within 1e-12 of it) the exit is full. */
  fraction: number;
  /** Value of the closed part. */
  value: number;
  price?: number;
  reason?: string;
  /** Fees paid to close it, taken off its realized P&L. */
  fee?: number;
}

/**
 * The events of closing part (or all) of an IN position: PositionExited with its cost basis
 * and realized P&L, then what an exit sets off: the daily-loss breaker when the day's loss
 * reaches its limit, a cooldown on the symbol after a full exit. An Exit command and a
 * reduce order's fill both close through here.
 */
export function closeEvents(
  state: BookState,
  p: InPosition,
  part: ClosedPart,
  policy: BookPolicy,
  now: string,
  source: Source,
): DecidedEvent[] {
  const full = part.fraction >= 1 - 1e-12;
  const fraction = full ? 1 : part.fraction;
  const costBasis = p.costBasis * fraction;
  const realizedPnl = pnlOf(p.side, part.value, costBasis) - (part.fee ?? 0);
  const exited: DecidedEvent = {
    type: 'PositionExited',
    data: { positionId: p.id, side: p.side, fraction, value: part.value, costBasis, realizedPnl, full, source },
  };
  if (p.symbol !== undefined) exited.data.symbol = p.symbol;
  if (p.quantity !== undefined) exited.data.quantity = p.quantity * fraction;
  if (part.price !== undefined) exited.data.price = part.price;
  if (part.reason !== undefined) exited.data.reason = part.reason;
  const events: DecidedEvent[] = [exited];

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
