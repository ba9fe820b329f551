import type { BookStateJson } from '../commands/index.js';
import type { RecordedEvent } from '../events/index.js';
import { BookFold, byKey, sortedEntries, type Unchecked, foldLimits, bookStageKey, type FoldStep } from './_internals/bookFold.js';
import { closedTrade, outcomeOf } from './_internals/trades.js';
import type { ProjectionOptions } from './options.js';
import { projectionVersion, withPrivateFold, type BookStageReader, type Projection } from './projection.js';
import { recordFrom } from '../_internals/records.js';

const SHAPE = 2;

/** Sums per setup tag; everything else is derived from them. */
export interface SetupSums {
  trades: number;
  wins: number;
  losses: number;
  breakeven: number;
  grossProfit: number;
  /** Sum of the losing trades' P&L (<= 0). */
  grossLoss: number;
}

export interface PerformanceState {
  fold: BookFold;
  /** Book -> setup tag ('' = none) -> sums. */
  setups: Map<string, Map<string, SetupSums>>;
}

/** One row of performance.json. */
export interface SetupPerformance extends SetupSums {
  /** The setup tag; null for positions tracked without one. */
  setup: string | null;
  /** wins / trades, 0 to 1. */
  winRate: number | null;
  /** Mean P&L of the winning trades. */
  avgWin: number | null;
  /** Mean P&L of the losing trades (negative). */
  avgLoss: number | null;
  /** Mean P&L per trade: what one more trade of this setup is worth, on its record. */
  expectancy: number | null;
  /** grossProfit / |grossLoss|; null without a loss. */
  profitFactor: number | null;
  totalPnl: number;
}

export interface PerformanceData {
  books: Record<string, { setups: SetupPerformance[]; totals: Omit<SetupPerformance, 'setup'> }>;
  fold: Record<string, BookStateJson>;
}

const empty = (): SetupSums => ({ trades: 0, wins: 0, losses: 0, breakeven: 0, grossProfit: 0, grossLoss: 0 });

function derive(s: SetupSums): Omit<SetupPerformance, 'setup'> {
  const totalPnl = s.grossProfit + s.grossLoss;
  return {
    trades: s.trades,
    wins: s.wins,
    losses: s.losses,
    breakeven: s.breakeven,
    grossProfit: s.grossProfit,
    grossLoss: s.grossLoss,
    winRate: s.trades > 0 ? s.wins / s.trades : null,
    avgWin: s.wins > 0 ? s.grossProfit / s.wins : null,
    avgLoss: s.losses > 0 ? s.grossLoss / s.losses : null,
    expectancy: s.trades > 0 ? totalPnl / s.trades : null,
    profitFactor: s.grossLoss < 0 ? s.grossProfit / -s.grossLoss : null,
    totalPnl,
  };
}

/** Best expectancy first; setups without trades last; ties by tag. */
function byExpectancy(a: SetupPerformance, b: SetupPerformance): number {
  if (a.expectancy !== b.expectancy) {
    if (a.expectancy === null) return 1;
    if (b.expectancy === null) return -1;
    return b.expectancy - a.expectancy;
  }
  return byKey(a.setup ?? '', b.setup ?? '');
}

/**
 * performance.json: per book and setup tag, trades (closed lifecycles: full exits and
 * cleared phantoms, with partial exits' P&L included), wins, losses, breakeven, win rate,
 * average win and loss, expectancy, profit factor and total P&L, best expectancy first.
 *
 * @example
 * ```ts
 * const p = performanceProjection(ProjectionOptions.parse({}));
 * console.log(p.toJson(foldProjection(p, events)).books.main?.setups[0]);
 * ```
 */
export function performanceProjection(options: ProjectionOptions): Projection<PerformanceState, PerformanceData> {
  const limits = foldLimits(options.timeZone);
  const stage: BookStageReader<PerformanceState> = {
    key: bookStageKey(limits),
    limits,
    evolve(state: PerformanceState, event: RecordedEvent, step: FoldStep | null): PerformanceState {
      if (step === null) return state;
      let setups = state.setups.get(step.book);
      if (setups === undefined) state.setups.set(step.book, (setups = new Map()));
      const trade = closedTrade(step);
      if (trade === null) return state;
      const key = trade.setup ?? '';
      let s = setups.get(key);
      if (s === undefined) setups.set(key, (s = empty()));
      s.trades += 1;
      const outcome = outcomeOf(trade.pnl);
      if (outcome === 'win') {
        s.wins += 1;
        s.grossProfit += trade.pnl;
      } else if (outcome === 'loss') {
        s.losses += 1;
        s.grossLoss += trade.pnl;
      } else {
        s.breakeven += 1;
      }
      return state;
    },
    toJson(state: PerformanceState): Omit<PerformanceData, 'fold'> {
      const books = new Map<string, PerformanceData['books'][string]>();
      for (const [id, setups] of sortedEntries(state.setups, byKey)) {
        const total = empty();
        const rows: SetupPerformance[] = [];
        for (const [key, s] of sortedEntries(setups, byKey)) {
          for (const k of ['trades', 'wins', 'losses', 'breakeven', 'grossProfit', 'grossLoss'] as const) total[k] += s[k];
          rows.push({ setup: key === '' ? null : key, ...derive(s) });
        }
        books.set(id, { setups: rows.sort(byExpectancy), totals: derive(total) });
      }
      return { books: recordFrom(books) };
    },
    fromJson(data: unknown): PerformanceState {
      const d = data as Unchecked<PerformanceData>;
      if (d === null || typeof d !== 'object' || d.books === null || typeof d.books !== 'object') {
        throw new Error('performance: expected { books, fold }');
      }
      const setups = new Map<string, Map<string, SetupSums>>();
      for (const [id, v] of Object.entries(d.books)) {
        if (!Array.isArray(v.setups)) throw new Error(`performance: book "${id}" is malformed`);
        setups.set(
          id,
          new Map(
            v.setups.map((r) => [
              r.setup ?? '',
              {
                trades: r.trades,
                wins: r.wins,
                losses: r.losses,
                breakeven: r.breakeven,
                grossProfit: r.grossProfit,
                grossLoss: r.grossLoss,
              },
            ]),
          ),
        );
      }
      return { fold: new BookFold(limits), setups };
    },
  };
  return {
    name: 'performance',
    version: projectionVersion(SHAPE, { timeZone: options.timeZone }),
    initialState: () => ({ fold: new BookFold(limits), setups: new Map() }),
    book: stage,
    ...withPrivateFold<PerformanceState, PerformanceData>(stage),
  };
}
