/*
 * The totals of leak episodes: value x time, how much of it healed automatically, by cause,
 * symbol and day, over the whole log or over a window of it.
 */
import { recordFrom } from '../_internals/records.js';
import { valueSecondsByDay, valueSecondsIn, type Segment } from './_internals/leaks.js';
import { dayKey } from './_internals/time.js';

/**
 * Why a leak happened: an order of ours filled and the bot did not hear (`unrecorded fill`), no
 * order of ours explains a position outside (`manual trade`), the venue closed a position the book
 * holds (`liquidation / stop-out outside`), dust outside grew above the dust threshold
 * (`dust growth`), or the log does not say (`unknown`).
 *
 * @example
 * ```ts
 * for (const cause of LEAK_CAUSES) console.log(cause, audit.totals.leaks.byCause[cause].valueSeconds);
 * ```
 */
export const LEAK_CAUSES = ['unrecorded fill', 'manual trade', 'liquidation / stop-out outside', 'dust growth', 'unknown'] as const;
export type LeakCause = (typeof LEAK_CAUSES)[number];

/** Sums over some episodes: how many, how many still open, value x time (value-seconds), and the part of it healed automatically. */
export interface LeakSums {
  count: number;
  open: number;
  valueSeconds: number;
  healedValueSeconds: number;
}

/** The sums over every episode, and the same split by cause (all five, always), by symbol and by day. */
export interface LeakTotalsByKey extends LeakSums {
  byCause: Record<LeakCause, LeakSums>;
  /** By symbol (`(none)` when the log never named one). */
  bySymbol: Record<string, LeakSums>;
  /** By calendar day of the book's time zone: the episodes that leaked that day and the value x time that fell on it. */
  byDay: Record<string, LeakSums>;
}

/** What the totals read of an episode. */
export interface LeakEpisodeLike {
  cause: LeakCause;
  start: { at: string };
  symbol?: string;
  segments: readonly Segment[];
  healed: boolean;
  resolvedAt: string | null;
}

/** Which part of time {@link leakTotals} counts, in which time zone days fall, and where open episodes end. */
export interface LeakWindow {
  timeZone: string;
  /** The end of episodes still open (the audit's `asOf`). */
  asOf: string;
  /** Count only what leaked at or after `since` and before `until` (null or absent: no bound). */
  since?: string | null;
  until?: string | null;
}

const none = (): LeakSums => ({ count: 0, open: 0, valueSeconds: 0, healedValueSeconds: 0 });

function add(into: LeakSums, valueSeconds: number, healed: boolean, open: boolean): void {
  into.count += 1;
  if (open) into.open += 1;
  into.valueSeconds += valueSeconds;
  if (healed) into.healedValueSeconds += valueSeconds;
}

/** Whether an episode leaked at some time in the window (an instant one counts where it happened). */
export function leakedIn(e: LeakEpisodeLike, end: string, since: string | null, until: string | null): boolean {
  const a = Date.parse(e.start.at);
  const b = Date.parse(end);
  if (since !== null && b < Date.parse(since)) return false;
  if (until !== null && a >= Date.parse(until)) return false;
  return true;
}

/**
 * The totals of `episodes`, clipped to the window: an episode counts when it leaked in it, with
 * the value x time that fell inside it. "Healed" is the value x time of episodes reconciliation
 * or startup recovery resolved (adopted, closed, cleared, a late fill recorded).
 *
 * @example
 * ```ts
 * const t = leakTotals([...book.orphans, ...book.phantoms, ...book.lateFills], { timeZone: 'UTC', asOf, since: '2026-01-05T00:00:00Z' });
 * ```
 */
export function leakTotals(episodes: readonly LeakEpisodeLike[], window: LeakWindow): LeakTotalsByKey {
  const since = window.since ?? null;
  const until = window.until ?? null;
  const byCause = new Map<LeakCause, LeakSums>(LEAK_CAUSES.map((c) => [c, none()]));
  const bySymbol = new Map<string, LeakSums>();
  const byDay = new Map<string, LeakSums>();
  const total = none();
  for (const e of episodes) {
    const end = e.resolvedAt ?? window.asOf;
    if (!leakedIn(e, end, since, until)) continue;
    const open = e.resolvedAt === null;
    const valueSeconds = valueSecondsIn(e.segments, end, since, until);
    add(total, valueSeconds, e.healed, open);
    const cause = byCause.get(e.cause) ?? none();
    byCause.set(e.cause, cause);
    add(cause, valueSeconds, e.healed, open);
    const symbol = e.symbol ?? '(none)';
    let s = bySymbol.get(symbol);
    if (s === undefined) bySymbol.set(symbol, (s = none()));
    add(s, valueSeconds, e.healed, open);
    const days = new Map<string, number>();
    valueSecondsByDay(e.segments, end, window.timeZone, days, since, until);
    // An instant episode (found and resolved at once) still happened on a day.
    if (days.size === 0) days.set(dayKey(since !== null && e.start.at < since ? since : e.start.at, window.timeZone), 0);
    for (const [day, v] of days) {
      let d = byDay.get(day);
      if (d === undefined) byDay.set(day, (d = none()));
      add(d, v, e.healed, open);
    }
  }
  const sorted = <V>(m: Map<string, V>): Record<string, V> => recordFrom([...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return {
    ...total,
    byCause: recordFrom(LEAK_CAUSES.map((c) => [c, byCause.get(c) ?? none()])) as Record<LeakCause, LeakSums>,
    bySymbol: sorted(bySymbol),
    byDay: sorted(byDay),
  };
}
