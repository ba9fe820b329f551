import type { BookStateJson } from '../commands/index.js';
import type { RecordedEvent } from '../events/index.js';
import {
  BookFold,
  byKey,
  sortedEntries,
  type Unchecked,
  foldLimits,
  laterOf,
  secondsFrom,
  bookStageKey,
  type FoldStep,
} from './_internals/bookFold.js';
import { closedTrade, outcomeOf, realizedBy } from './_internals/trades.js';
import type { ProjectionOptions } from './options.js';
import { projectionVersion, withPrivateFold, type AppendOnlySeries, type BookStageReader, type Projection } from './projection.js';
import { recordFrom } from '../_internals/records.js';

/** 3: the full curve moved to the append-only segment file; equity.json keeps a sampled one. */
const SHAPE = 3;

/** The segment file beside equity.json that holds every point of every book's curve, one line each. */
export const EQUITY_CURVE_FILE = 'equity.curve.jsonl';

/**
 * At most this many sampled points per book in equity.json (plus the last point): every
 * `curveStride`-th point of the book's curve, the stride doubling whenever more would be kept.
 */
export const EQUITY_CURVE_SAMPLES = 1024;

/** How far the segment file goes: its length, its lines, and the position of its last point (0: none). */
export interface SeriesExtent {
  file: string;
  bytes: number;
  points: number;
  lastPosition: number;
}

export type DrawdownBand = 'normal' | 'warning' | 'reduce' | 'stop';

/** One point of the curve: after each event that realized P&L. */
export interface CurvePoint {
  /** The event's position in the log. */
  position: number;
  at: string;
  positionId: string;
  type: 'exit' | 'partial' | 'phantom';
  pnl: number;
  equity: number;
  drawdownPct: number;
}

export interface MaxDrawdown {
  amount: number;
  pct: number;
  /** The peak it fell from, and when that peak was reached. */
  peak: number;
  peakAt: string;
  troughAt: string;
  /** When equity was back at the peak; null while it is not. */
  recoveredAt: string | null;
}

interface TradeCounts {
  count: number;
  wins: number;
  losses: number;
  breakeven: number;
  grossProfit: number;
  /** Sum of the losing trades' P&L (<= 0). */
  grossLoss: number;
}

interface Streaks {
  current: { kind: 'win' | 'loss' | null; length: number };
  longestWin: number;
  longestLoss: number;
}

/** What the equity fold keeps per book. */
export interface EquityBookState {
  /** Time of the book's first event: where the curve starts. */
  startedAt: string;
  realizedPnl: number;
  peak: number;
  peakAt: string;
  maxDrawdown: MaxDrawdown | null;
  trades: TradeCounts;
  streaks: Streaks;
  /** Points on the book's curve so far (all of them are in the segment file). */
  points: number;
  /** The sampled curve: the points whose ordinal (0, 1, ...) is a multiple of `stride`. */
  stride: number;
  sampled: CurvePoint[];
  last: CurvePoint | null;
}

export interface EquityState {
  asOf: string | null;
  fold: BookFold;
  equity: Map<string, EquityBookState>;
  series: SeriesExtent;
  /** Segment lines folded and not yet taken by the writer (see AppendOnlySeries). */
  pending: string[];
}

/** One book in equity.json. */
export interface EquityBook {
  startedAt: string;
  equity: number;
  realizedPnl: number;
  returnPct: number;
  peak: number;
  peakAt: string;
  drawdown: { amount: number; pct: number; since: string | null; seconds: number };
  band: DrawdownBand;
  maxDrawdown: (MaxDrawdown & { durationSeconds: number }) | null;
  trades: TradeCounts & { winRate: number | null; profitFactor: number | null };
  streaks: Streaks;
  /**
   * The curve, sampled: every `curveStride`-th point (at most EQUITY_CURVE_SAMPLES) and the last
   * one. Every point is in the segment file (`series`); `readEquityCurve` reads them.
   */
  curve: CurvePoint[];
  /** Points on the whole curve. */
  points: number;
  curveStride: number;
}

export interface EquityData {
  asOf: string | null;
  /** The segment file of the whole curve: the first `bytes` bytes (`points` lines) are this document's. */
  series: SeriesExtent;
  /** Starting equity of every book (the config's `equity`). */
  base: number;
  bands: ProjectionOptions['drawdownBands'];
  books: Record<string, EquityBook>;
  fold: Record<string, BookStateJson>;
}

function bandOf(pct: number, bands: ProjectionOptions['drawdownBands']): DrawdownBand {
  if (pct >= bands.stop) return 'stop';
  if (pct >= bands.reduce) return 'reduce';
  if (pct >= bands.warning) return 'warning';
  return 'normal';
}

function newBook(at: string, base: number): EquityBookState {
  return {
    startedAt: at,
    realizedPnl: 0,
    peak: base,
    peakAt: at,
    maxDrawdown: null,
    trades: { count: 0, wins: 0, losses: 0, breakeven: 0, grossProfit: 0, grossLoss: 0 },
    streaks: { current: { kind: null, length: 0 }, longestWin: 0, longestLoss: 0 },
    points: 0,
    stride: 1,
    sampled: [],
    last: null,
  };
}

/** Adds a point: to the sample when its ordinal is a multiple of the stride, halving the sample when it is full. */
function sample(b: EquityBookState, point: CurvePoint): void {
  if (b.points % b.stride === 0) {
    b.sampled.push(point);
    if (b.sampled.length > EQUITY_CURVE_SAMPLES) {
      b.stride *= 2;
      b.sampled = b.sampled.filter((_, i) => i % 2 === 0);
    }
  }
  b.points += 1;
  b.last = point;
}

/** The sampled curve as written: the sample, and the last point when the sample does not end with it. */
function sampledCurve(b: EquityBookState): CurvePoint[] {
  const curve = b.sampled.slice();
  if (b.last !== null && curve[curve.length - 1] !== b.last) curve.push(b.last);
  return curve;
}

/** A number as canonical JSON writes it (no NaN or Infinity in JSON). */
const jsonNumber = (n: number): string => (Number.isFinite(n) ? JSON.stringify(n) : 'null');

/**
 * One line of the segment file: the point and its book, as canonical JSON (`canonicalJson({
 * book, ...point })`), written out field by field in its sorted key order: one line per exit of
 * a million-event rebuild, where the generic writer was a tenth of the time.
 */
export function curveLine(book: string, point: CurvePoint): string {
  const q = JSON.stringify;
  return (
    `{"at":${q(point.at)},"book":${q(book)},"drawdownPct":${jsonNumber(point.drawdownPct)},"equity":${jsonNumber(point.equity)},` +
    `"pnl":${jsonNumber(point.pnl)},"position":${jsonNumber(point.position)},"positionId":${q(point.positionId)},"type":${q(point.type)}}\n`
  );
}

const emptySeries = (): SeriesExtent => ({ file: EQUITY_CURVE_FILE, bytes: 0, points: 0, lastPosition: 0 });

/** Moves the peak and the deepest drawdown after equity became `equity` at `at`. */
function track(b: EquityBookState, equity: number, at: string): number {
  if (equity >= b.peak) {
    b.peak = equity;
    b.peakAt = at;
    if (b.maxDrawdown !== null && b.maxDrawdown.recoveredAt === null && equity >= b.maxDrawdown.peak) b.maxDrawdown.recoveredAt = at;
    return 0;
  }
  const amount = b.peak - equity;
  const pct = (amount / b.peak) * 100;
  const max = b.maxDrawdown;
  if (max === null || pct > max.pct) {
    if (max !== null && max.recoveredAt === null) {
      // Still in the drawdown that holds the record (the peak has not moved): it got deeper.
      max.amount = amount;
      max.pct = pct;
      max.troughAt = at;
    } else {
      b.maxDrawdown = { amount, pct, peak: b.peak, peakAt: b.peakAt, troughAt: at, recoveredAt: null };
    }
  }
  return pct;
}

function countTrade(b: EquityBookState, pnl: number): void {
  const t = b.trades;
  t.count += 1;
  const outcome = outcomeOf(pnl);
  if (outcome === 'breakeven') {
    // As the book's losing-streak rule: a breakeven neither extends nor ends a streak.
    t.breakeven += 1;
    return;
  }
  if (outcome === 'win') {
    t.wins += 1;
    t.grossProfit += pnl;
  } else {
    t.losses += 1;
    t.grossLoss += pnl;
  }
  const s = b.streaks;
  s.current = s.current.kind === outcome ? { kind: outcome, length: s.current.length + 1 } : { kind: outcome, length: 1 };
  if (outcome === 'win') s.longestWin = Math.max(s.longestWin, s.current.length);
  else s.longestLoss = Math.max(s.longestLoss, s.current.length);
}

function render(b: EquityBookState, base: number, asOf: string, bands: ProjectionOptions['drawdownBands']): EquityBook {
  const equity = base + b.realizedPnl;
  const amount = Math.max(0, b.peak - equity);
  const pct = amount > 0 ? (amount / b.peak) * 100 : 0;
  const t = b.trades;
  return {
    startedAt: b.startedAt,
    equity,
    realizedPnl: b.realizedPnl,
    returnPct: (b.realizedPnl / base) * 100,
    peak: b.peak,
    peakAt: b.peakAt,
    drawdown: { amount, pct, since: amount > 0 ? b.peakAt : null, seconds: amount > 0 ? secondsFrom(b.peakAt, asOf) : 0 },
    band: bandOf(pct, bands),
    maxDrawdown:
      b.maxDrawdown === null
        ? null
        : { ...b.maxDrawdown, durationSeconds: secondsFrom(b.maxDrawdown.peakAt, b.maxDrawdown.recoveredAt ?? asOf) },
    trades: { ...t, winRate: t.count > 0 ? t.wins / t.count : null, profitFactor: t.grossLoss < 0 ? t.grossProfit / -t.grossLoss : null },
    streaks: { current: { ...b.streaks.current }, longestWin: b.streaks.longestWin, longestLoss: b.streaks.longestLoss },
    // A copy: the fold goes on sampling into its own array.
    curve: sampledCurve(b),
    points: b.points,
    curveStride: b.stride,
  };
}

/**
 * equity.json: per book, the equity curve (a point per event that realized P&L), the peak,
 * the drawdown now and its band, the deepest drawdown and how long it lasted, trades won and
 * lost, streaks, profit factor and return %. Equity is the configured `equity` plus realized
 * P&L, as the book's risk rules count it; trades are lifecycles closed (full exit or cleared
 * phantom), judged on their whole P&L, partial exits included.
 *
 * @example
 * ```ts
 * const e = equityProjection(ProjectionOptions.parse({ equity: 5000 }));
 * const data = e.toJson(foldProjection(e, events));
 * console.log(data.books.main?.maxDrawdown?.pct);
 * ```
 */
export function equityProjection(options: ProjectionOptions): Projection<EquityState, EquityData> {
  const limits = foldLimits(options.timeZone);
  const base = options.equity;
  const stage: BookStageReader<EquityState> = {
    key: bookStageKey(limits),
    limits,
    evolve(state: EquityState, event: RecordedEvent, step: FoldStep | null): EquityState {
      const at = event.metadata.recordedAt;
      state.asOf = laterOf(state.asOf, at);
      if (step === null) return state;
      let b = state.equity.get(step.book);
      if (b === undefined) state.equity.set(step.book, (b = newBook(at, base)));
      const pnl = realizedBy(event);
      if (pnl === null) return state;
      b.realizedPnl += pnl;
      const equity = base + b.realizedPnl;
      const drawdownPct = track(b, equity, at);
      const trade = closedTrade(step);
      if (trade !== null) countTrade(b, trade.pnl);
      const point: CurvePoint = {
        position: event.position,
        at,
        positionId: (event.data as { positionId: string }).positionId,
        type: event.type === 'PhantomCleared' ? 'phantom' : event.type === 'PositionExited' && !event.data.full ? 'partial' : 'exit',
        pnl,
        equity,
        drawdownPct,
      };
      sample(b, point);
      const line = curveLine(step.book, point);
      state.pending.push(line);
      const s = state.series;
      s.bytes += Buffer.byteLength(line, 'utf8');
      s.points += 1;
      s.lastPosition = event.position;
      return state;
    },
    toJson(state: EquityState): Omit<EquityData, 'fold'> {
      const books = recordFrom(
        sortedEntries(state.equity, byKey).map(([id, b]) => [id, render(b, base, state.asOf ?? '', options.drawdownBands)] as const),
      );
      return { asOf: state.asOf, series: { ...state.series }, base, bands: options.drawdownBands, books };
    },
    fromJson(data: unknown): EquityState {
      const d = data as Unchecked<EquityData>;
      if (d === null || typeof d !== 'object' || d.books === null || typeof d.books !== 'object' || d.base !== base) {
        throw new Error('equity: expected { asOf, base, bands, books, fold } of this configuration');
      }
      const series = d.series;
      if (
        series === null ||
        typeof series !== 'object' ||
        series.file !== EQUITY_CURVE_FILE ||
        ![series.bytes, series.points, series.lastPosition].every((n) => Number.isSafeInteger(n) && n >= 0)
      ) {
        throw new Error(`equity: expected series { file: "${EQUITY_CURVE_FILE}", bytes, points, lastPosition }`);
      }
      const equity = new Map<string, EquityBookState>();
      for (const [id, v] of Object.entries(d.books)) {
        if (
          !Array.isArray(v.curve) ||
          typeof v.realizedPnl !== 'number' ||
          !Number.isSafeInteger(v.points) ||
          !Number.isSafeInteger(v.curveStride) ||
          v.curveStride < 1 ||
          v.points > 0 !== v.curve.length > 0
        )
          throw new Error(`equity: book "${id}" is malformed`);
        const curve = v.curve as CurvePoint[];
        // The last point is in the sample when its ordinal (points - 1) is a multiple of the stride.
        const lastSampled = v.points > 0 && (v.points - 1) % v.curveStride === 0;
        const max =
          v.maxDrawdown === null
            ? null
            : {
                amount: v.maxDrawdown.amount,
                pct: v.maxDrawdown.pct,
                peak: v.maxDrawdown.peak,
                peakAt: v.maxDrawdown.peakAt,
                troughAt: v.maxDrawdown.troughAt,
                recoveredAt: v.maxDrawdown.recoveredAt,
              };
        const t = v.trades;
        equity.set(id, {
          startedAt: v.startedAt,
          realizedPnl: v.realizedPnl,
          peak: v.peak,
          peakAt: v.peakAt,
          maxDrawdown: max,
          trades: {
            count: t.count,
            wins: t.wins,
            losses: t.losses,
            breakeven: t.breakeven,
            grossProfit: t.grossProfit,
            grossLoss: t.grossLoss,
          },
          streaks: { current: { ...v.streaks.current }, longestWin: v.streaks.longestWin, longestLoss: v.streaks.longestLoss },
          points: v.points,
          stride: v.curveStride,
          sampled: lastSampled ? curve.slice() : curve.slice(0, -1),
          last: curve[curve.length - 1] ?? null,
        });
      }
      return {
        asOf: d.asOf ?? null,
        fold: new BookFold(limits),
        equity,
        series: { file: EQUITY_CURVE_FILE, bytes: series.bytes, points: series.points, lastPosition: series.lastPosition },
        pending: [],
      };
    },
  };
  const series: AppendOnlySeries<EquityState> = {
    file: EQUITY_CURVE_FILE,
    pending: (state) => state.pending.length,
    take(state) {
      const lines = state.pending;
      state.pending = [];
      return lines;
    },
    extent: (state) => state.series,
  };
  return {
    name: 'equity',
    version: projectionVersion(SHAPE, { timeZone: options.timeZone, equity: base, drawdownBands: options.drawdownBands }),
    initialState: () => ({ asOf: null, fold: new BookFold(limits), equity: new Map(), series: emptySeries(), pending: [] }),
    book: stage,
    series,
    ...withPrivateFold<EquityState, EquityData>(stage),
  };
}
