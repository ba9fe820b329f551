/*
 * Value x time of a leak, as segments: from `from` the leak was worth `value`, until the next
 * segment's `from` or the leak's end. Integrated whole, clipped to a window, or split by day.
 */
import { secondsFrom } from './bookFold.js';
import { dayKey } from './time.js';

export interface Segment {
  from: string;
  value: number;
}

/** Appends a value from `at` on (replacing a segment that starts at the same time; nothing when the value is unchanged). */
export function addSegment(segments: Segment[], at: string, value: number): void {
  const last = segments.at(-1);
  if (last !== undefined && last.value === value) return;
  if (last !== undefined && last.from === at) {
    last.value = value;
    const before = segments.at(-2);
    if (before !== undefined && before.value === value) segments.pop();
    return;
  }
  segments.push({ from: at, value });
}

/** Value-seconds of the segments up to `end`, counting only what falls in [since, until] (either open when null). */
export function valueSecondsIn(
  segments: readonly Segment[],
  end: string,
  since: string | null = null,
  until: string | null = null,
): number {
  let total = 0;
  const endMs = Date.parse(end);
  const lo = since === null ? Number.NEGATIVE_INFINITY : Date.parse(since);
  const hi = until === null ? Number.POSITIVE_INFINITY : Date.parse(until);
  segments.forEach((s, i) => {
    const next = segments[i + 1];
    const a = Math.max(Date.parse(s.from), lo);
    const b = Math.min(next === undefined ? endMs : Date.parse(next.from), endMs, hi);
    if (b > a) total += (s.value * (b - a)) / 1000;
  });
  return total;
}

/** Seconds of [start, end] inside [since, until]. */
export function secondsIn(start: string, end: string, since: string | null = null, until: string | null = null): number {
  const a = Math.max(Date.parse(start), since === null ? Number.NEGATIVE_INFINITY : Date.parse(since));
  const b = Math.min(Date.parse(end), until === null ? Number.POSITIVE_INFINITY : Date.parse(until));
  return b > a ? (b - a) / 1000 : 0;
}

/** The first millisecond after `fromMs` whose day (in `timeZone`) differs from `fromMs`'s, if it is before `toMs`. */
function nextDayStart(fromMs: number, toMs: number, timeZone: string): number | null {
  const day = dayKey(new Date(fromMs).toISOString(), timeZone);
  if (dayKey(new Date(toMs - 1).toISOString(), timeZone) === day) return null;
  // Binary search for the boundary: days are at least a few hours long, so this is ~27 steps.
  let lo = fromMs;
  let hi = toMs - 1;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (dayKey(new Date(mid).toISOString(), timeZone) === day) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * Value-seconds of the segments up to `end` (inside [since, until] when given), per calendar day
 * of the book's time zone, added into `into` (a day the leak spans gets an entry, even at value 0).
 */
export function valueSecondsByDay(
  segments: readonly Segment[],
  end: string,
  timeZone: string,
  into: Map<string, number>,
  since: string | null = null,
  until: string | null = null,
): void {
  const endMs = Date.parse(end);
  const lo = since === null ? Number.NEGATIVE_INFINITY : Date.parse(since);
  const hi = until === null ? Number.POSITIVE_INFINITY : Date.parse(until);
  segments.forEach((s, i) => {
    const next = segments[i + 1];
    let a = Math.max(Date.parse(s.from), lo);
    const b = Math.min(next === undefined ? endMs : Date.parse(next.from), endMs, hi);
    while (b > a) {
      const boundary = nextDayStart(a, b, timeZone);
      const stop = boundary ?? b;
      const day = dayKey(new Date(a).toISOString(), timeZone);
      into.set(day, (into.get(day) ?? 0) + (s.value * (stop - a)) / 1000);
      a = stop;
    }
  });
}

/** How long, in seconds, from `from` to `to` (0 when `to` is earlier). */
export function lasted(from: string, to: string): number {
  return Math.max(0, secondsFrom(from, to));
}
