import { breakerActive, type BookStateJson } from '../commands/index.js';
import type { RecordedEvent } from '../events/index.js';
import {
  BookFold,
  byKey,
  sortedEntries,
  type Unchecked,
  foldLimits,
  laterOf,
  sortedPositions,
  bookStageKey,
  type FoldStep,
  type ReadonlyBooks,
} from './_internals/bookFold.js';
import { dayKey, weekKey } from './_internals/time.js';
import { closedTrade, outcomeOf, realizedBy } from './_internals/trades.js';
import { groupOf, type ProjectionOptions } from './options.js';
import { projectionVersion, withPrivateFold, type BookStageReader, type Projection } from './projection.js';
import { recordFrom } from '../_internals/records.js';
import { present } from '../_internals/present.js';

const SHAPE = 2;

/** What happened in one day or week (by the events' own times, in the configured time zone). */
export interface PeriodStats {
  /** Realized P&L. */
  pnl: number;
  /** Events that realized P&L (exits, partial exits, cleared phantoms). */
  closes: number;
  /** Lifecycles closed (full exits and cleared phantoms), and how they ended. */
  trades: number;
  wins: number;
  losses: number;
  /** Positions entered. */
  entries: number;
}

export interface RiskBookState {
  realizedPnl: number;
  days: Map<string, PeriodStats>;
  weeks: Map<string, PeriodStats>;
  /** Losing trades in a row over the whole book (a win resets, a breakeven changes nothing). */
  consecutiveLosses: number;
  /** The same, per symbol. */
  lossesBySymbol: Map<string, number>;
}

export interface RiskState {
  asOf: string | null;
  fold: BookFold;
  risk: Map<string, RiskBookState>;
}

export type BreakerView =
  | { status: 'OK' }
  | {
      status: 'TRIPPED';
      /** Whether it still refuses entries at `asOf` (a breaker with `until` expires by itself). */
      active: boolean;
      trigger: 'daily_loss' | 'manual';
      reason: string;
      since: string;
      until?: string;
    };

/** One book in risk.json. */
export interface RiskBook {
  equity: number;
  realizedPnl: number;
  today: ({ day: string } & PeriodStats) | null;
  thisWeek: ({ week: string } & PeriodStats) | null;
  daily: ({ day: string } & PeriodStats)[];
  weekly: ({ week: string } & PeriodStats)[];
  consecutiveLosses: number;
  consecutiveLossesBySymbol: { symbol: string; count: number }[];
  /** The decider's per-symbol rule input: losing full exits in a row on the same day. */
  sameDayLossStreaks: { symbol: string; day: string; count: number }[];
  circuitBreaker: BreakerView;
  /** Cooldowns still running at `asOf`. */
  cooldowns: { symbol: string; until: string }[];
  /** Portfolio heat: open risk as % of equity. */
  heat: {
    openRisk: number;
    pct: number | null;
    positions: { id: string; symbol: string | null; group: string | null; value: number; risk: number; pct: number | null }[];
    byGroup: { group: string | null; risk: number; pct: number | null }[];
  };
}

export interface RiskData {
  asOf: string | null;
  timeZone: string;
  weekStartsOn: number;
  books: Record<string, RiskBook>;
  fold: Record<string, BookStateJson>;
}

const emptyStats = (): PeriodStats => ({ pnl: 0, closes: 0, trades: 0, wins: 0, losses: 0, entries: 0 });

function statsOf(map: Map<string, PeriodStats>, key: string): PeriodStats {
  let s = map.get(key);
  if (s === undefined) map.set(key, (s = emptyStats()));
  return s;
}

const copyStats = (s: PeriodStats): PeriodStats => ({
  pnl: s.pnl,
  closes: s.closes,
  trades: s.trades,
  wins: s.wins,
  losses: s.losses,
  entries: s.entries,
});

/**
 * risk.json: per book, realized P&L per day and per week (day boundaries in the configured
 * time zone, from the events' times), trades and entries per day, losing streaks overall and
 * per symbol, the circuit breaker, running cooldowns and portfolio heat (open risk as % of
 * equity, per position and per correlation group). "Now" is `asOf`, the latest event time.
 *
 * @example
 * ```ts
 * const r = riskProjection(ProjectionOptions.parse({ timeZone: 'America/New_York' }));
 * console.log(r.toJson(foldProjection(r, events)).books.main?.today);
 * ```
 */
export function riskProjection(options: ProjectionOptions): Projection<RiskState, RiskData> {
  const limits = foldLimits(options.timeZone);
  const base = options.equity;
  const pctOf = (amount: number, equity: number): number | null => (equity > 0 ? (amount / equity) * 100 : null);

  const render = (b: RiskBookState, state: RiskState, bookId: string, folded: ReadonlyBooks): RiskBook => {
    const fold = present(folded.get(bookId), `the folded book ${bookId}`);
    const equity = base + b.realizedPnl;
    const today = state.asOf === null ? null : dayKey(state.asOf, options.timeZone);
    const week = today === null ? null : weekKey(today, options.weekStartsOn);
    const positions: RiskBook['heat']['positions'] = [];
    const groups = new Map<string | null, number>();
    let openRisk = 0;
    for (const p of sortedPositions(fold)) {
      if (p.status !== 'IN') continue;
      const group = p.group ?? groupOf(options.correlationGroups, p.symbol) ?? null;
      positions.push({ id: p.id, symbol: p.symbol ?? null, group, value: p.value, risk: p.risk, pct: pctOf(p.risk, equity) });
      openRisk += p.risk;
      groups.set(group, (groups.get(group) ?? 0) + p.risk);
    }
    const breaker = fold.breaker;
    return {
      equity,
      realizedPnl: b.realizedPnl,
      today: today === null ? null : { day: today, ...copyStats(b.days.get(today) ?? emptyStats()) },
      thisWeek: week === null ? null : { week, ...copyStats(b.weeks.get(week) ?? emptyStats()) },
      daily: sortedEntries(b.days, byKey).map(([day, stats]) => ({ day, ...copyStats(stats) })),
      weekly: sortedEntries(b.weeks, byKey).map(([week, stats]) => ({ week, ...copyStats(stats) })),
      consecutiveLosses: b.consecutiveLosses,
      consecutiveLossesBySymbol: sortedEntries(b.lossesBySymbol, byKey).map(([symbol, count]) => ({ symbol, count })),
      sameDayLossStreaks: sortedEntries(fold.lossStreaks, byKey).map(([symbol, streak]) => ({ symbol, ...streak })),
      circuitBreaker:
        breaker.status === 'OK'
          ? { status: 'OK' }
          : {
              ...breaker,
              active: state.asOf === null || breakerActive(breaker, state.asOf),
            },
      cooldowns: sortedEntries(fold.cooldowns, byKey)
        .filter(([, until]) => state.asOf === null || Date.parse(until) > Date.parse(state.asOf))
        .map(([symbol, until]) => ({ symbol, until })),
      heat: {
        openRisk,
        pct: pctOf(openRisk, equity),
        positions,
        byGroup: sortedEntries(groups, (a, b2) => (a === null ? 1 : b2 === null ? -1 : byKey(a, b2))).map(([group, risk]) => ({
          group,
          risk,
          pct: pctOf(risk, equity),
        })),
      },
    };
  };

  const stage: BookStageReader<RiskState> = {
    key: bookStageKey(limits),
    limits,
    evolve(state: RiskState, event: RecordedEvent, step: FoldStep | null): RiskState {
      const at = event.metadata.recordedAt;
      state.asOf = laterOf(state.asOf, at);
      if (step === null) return state;
      let b = state.risk.get(step.book);
      if (b === undefined) {
        b = { realizedPnl: 0, days: new Map(), weeks: new Map(), consecutiveLosses: 0, lossesBySymbol: new Map() };
        state.risk.set(step.book, b);
      }
      const pnl = realizedBy(event);
      const entered = event.type === 'PositionEntered';
      if (pnl === null && !entered) return state;
      const day = dayKey(at, options.timeZone);
      const periods = [statsOf(b.days, day), statsOf(b.weeks, weekKey(day, options.weekStartsOn))];
      if (entered) for (const s of periods) s.entries += 1;
      if (pnl === null) return state;
      b.realizedPnl += pnl;
      for (const s of periods) {
        s.pnl += pnl;
        s.closes += 1;
      }
      const trade = closedTrade(step);
      if (trade === null) return state;
      const outcome = outcomeOf(trade.pnl);
      for (const s of periods) {
        s.trades += 1;
        if (outcome === 'win') s.wins += 1;
        if (outcome === 'loss') s.losses += 1;
      }
      if (outcome === 'loss') {
        b.consecutiveLosses += 1;
        if (trade.symbol !== undefined) b.lossesBySymbol.set(trade.symbol, (b.lossesBySymbol.get(trade.symbol) ?? 0) + 1);
      } else if (outcome === 'win') {
        b.consecutiveLosses = 0;
        if (trade.symbol !== undefined) b.lossesBySymbol.delete(trade.symbol);
      }
      return state;
    },
    toJson(state: RiskState, folded: ReadonlyBooks): Omit<RiskData, 'fold'> {
      const books = recordFrom(sortedEntries(state.risk, byKey).map(([id, b]) => [id, render(b, state, id, folded)] as const));
      return { asOf: state.asOf, timeZone: options.timeZone, weekStartsOn: options.weekStartsOn, books };
    },
    fromJson(data: unknown): RiskState {
      const d = data as Unchecked<RiskData>;
      if (d === null || typeof d !== 'object' || d.books === null || typeof d.books !== 'object' || d.timeZone !== options.timeZone) {
        throw new Error('risk: expected { asOf, timeZone, books, fold } of this configuration');
      }
      const risk = new Map<string, RiskBookState>();
      for (const [id, v] of Object.entries(d.books)) {
        if (!Array.isArray(v.daily) || !Array.isArray(v.weekly) || !Array.isArray(v.consecutiveLossesBySymbol)) {
          throw new Error(`risk: book "${id}" is malformed`);
        }
        risk.set(id, {
          realizedPnl: v.realizedPnl,
          days: new Map(v.daily.map(({ day, ...s }) => [day, copyStats(s)])),
          weeks: new Map(v.weekly.map(({ week, ...s }) => [week, copyStats(s)])),
          consecutiveLosses: v.consecutiveLosses,
          lossesBySymbol: new Map(v.consecutiveLossesBySymbol.map((r) => [r.symbol, r.count])),
        });
      }
      return { asOf: d.asOf ?? null, fold: new BookFold(limits), risk };
    },
  };
  return {
    name: 'risk',
    version: projectionVersion(SHAPE, {
      timeZone: options.timeZone,
      weekStartsOn: options.weekStartsOn,
      equity: base,
      correlationGroups: options.correlationGroups,
    }),
    initialState: () => ({ asOf: null, fold: new BookFold(limits), risk: new Map() }),
    book: stage,
    ...withPrivateFold<RiskState, RiskData>(stage),
  };
}
