/*
 * The leak report of one book of audit.json: every episode (orphan, phantom, late fill) that
 * leaked in a window, with its duration and value x time inside the window, and the totals.
 */
import type { AuditBook, LeakStart } from './audit.js';
import { secondsIn, valueSecondsIn } from './_internals/leaks.js';
import { leakedIn, leakTotals, type LeakCause, type LeakTotalsByKey } from './leakTotals.js';

/** One leak episode as the report shows it (`durationSeconds` and `valueSeconds`: the part inside the window). */
export interface LeakRow {
  kind: 'orphan' | 'phantom' | 'late fill';
  positionId: string;
  /** The late fill's order. */
  clientOrderId?: string;
  symbol: string | null;
  cause: LeakCause;
  start: LeakStart;
  resolution: string;
  resolvedAt: string | null;
  healed: boolean;
  /** What it was worth when it began (the first segment's value). */
  value: number;
  durationSeconds: number;
  valueSeconds: number;
}

/** What {@link leakReport} answers: the window, the rows that leaked in it, and its totals. */
export interface LeakReport {
  since: string | null;
  until: string | null;
  /** Where episodes still open end (the audit's `asOf`, or `until` when earlier). */
  asOf: string;
  rows: LeakRow[];
  totals: LeakTotalsByKey;
}

/**
 * The leaks of `book` that leaked in [since, until] (either unbounded when null), earliest first,
 * with what fell inside the window, and the window's totals by cause, symbol and day.
 *
 * @example
 * ```ts
 * const r = leakReport(audit.books.main!, { asOf: audit.asOf!, timeZone: 'UTC', since: '2026-01-05T09:00:00Z' });
 * console.log(r.totals.valueSeconds / 3600, 'value-hours', r.totals.healedValueSeconds / 3600, 'healed');
 * ```
 */
export function leakReport(
  book: Pick<AuditBook, 'orphans' | 'phantoms' | 'lateFills'>,
  options: { asOf: string; timeZone: string; since?: string | null; until?: string | null },
): LeakReport {
  const since = options.since ?? null;
  const until = options.until ?? null;
  const asOf = until !== null && Date.parse(until) < Date.parse(options.asOf) ? until : options.asOf;
  const episodes = [
    ...book.orphans.map((e) => ({ e, kind: 'orphan' as const, positionId: e.positionId, symbol: e.symbol ?? null })),
    ...book.phantoms.map((e) => ({ e, kind: 'phantom' as const, positionId: e.positionId, symbol: e.symbol ?? null })),
    ...book.lateFills.map((e) => ({ e, kind: 'late fill' as const, positionId: e.positionId, symbol: e.symbol, order: e.clientOrderId })),
  ];
  const rows: LeakRow[] = [];
  for (const x of episodes) {
    const end = x.e.resolvedAt ?? asOf;
    if (!leakedIn(x.e, end, since, until)) continue;
    const row: LeakRow = {
      kind: x.kind,
      positionId: x.positionId,
      symbol: x.symbol,
      cause: x.e.cause,
      start: { ...x.e.start },
      resolution: x.e.resolution,
      resolvedAt: x.e.resolvedAt,
      healed: x.e.healed,
      value: x.e.segments[0]?.value ?? x.e.value,
      durationSeconds: secondsIn(x.e.start.at, end, since, until),
      valueSeconds: valueSecondsIn(x.e.segments, end, since, until),
    };
    if ('order' in x) row.clientOrderId = x.order;
    rows.push(row);
  }
  rows.sort(
    (a, b) => Date.parse(a.start.at) - Date.parse(b.start.at) || (a.positionId < b.positionId ? -1 : a.positionId > b.positionId ? 1 : 0),
  );
  const totals = leakTotals(
    episodes.map((x) => x.e),
    { timeZone: options.timeZone, asOf, since, until },
  );
  return { since, until, asOf, rows, totals };
}

/** How a leak's start reads: "2026-01-05T09:02:00Z (venue)", "between A and B", "at or before B". */
export function describeStart(start: LeakStart, time: (iso: string) => string = (iso) => iso): string {
  switch (start.evidence) {
    case 'venue':
    case 'fill':
      return `${time(start.at)} (${start.evidence})`;
    case 'looks':
    case 'order':
      return `between ${time(start.earliest ?? start.at)} and ${time(start.latest)}${start.evidence === 'order' ? ' (order)' : ''}`;
    case 'detection':
      return `at or before ${time(start.latest)}`;
    default: {
      const _exhaustive: never = start.evidence;
      return _exhaustive;
    }
  }
}
