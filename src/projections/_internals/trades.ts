import type { RecordedEvent } from '../../events/index.js';
import type { FoldStep } from './bookFold.js';

/** A position's lifecycle that closed with this event: its whole realized P&L and what it was. */
export interface ClosedTrade {
  positionId: string;
  symbol?: string;
  setup?: string;
  group?: string;
  /** Realized over the whole lifecycle, partial exits included. */
  pnl: number;
  closedBy: 'exit' | 'phantom';
}

export type Outcome = 'win' | 'loss' | 'breakeven';

/** Wins and losses are judged as the book judges them (its losing-streak rule): the sign of the P&L. */
export function outcomeOf(pnl: number): Outcome {
  return pnl > 0 ? 'win' : pnl < 0 ? 'loss' : 'breakeven';
}

/** The P&L an event realizes (an exit, full or partial, or a cleared phantom); null for other events. */
export function realizedBy(event: RecordedEvent): number | null {
  if (event.type === 'PositionExited' || event.type === 'PhantomCleared') return event.data.realizedPnl;
  return null;
}

/**
 * The trade this event closed, if it ended a lifecycle: the book moved the position from IN
 * to EXITED (a full exit or a cleared phantom).
 */
export function closedTrade(step: FoldStep): ClosedTrade | null {
  const { before, after } = step;
  if (before?.status !== 'IN' || after?.status !== 'EXITED') return null;
  const trade: ClosedTrade = { positionId: after.id, pnl: after.realizedPnl, closedBy: after.closedBy };
  if (before.symbol !== undefined) trade.symbol = before.symbol;
  if (before.setup !== undefined) trade.setup = before.setup;
  if (before.group !== undefined) trade.group = before.group;
  return trade;
}
