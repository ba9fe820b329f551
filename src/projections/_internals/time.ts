import { dayKey as bookDayKey } from '../../commands/index.js';

/*
 * Day and week keys for the read models, by the book's own rule (commands' dayKey, an
 * Intl formatter, which is slow). Memoized on the last quarter hour of UTC asked about: a log
 * is mostly in time order, and today's offsets put every midnight on a quarter hour. A
 * quarter hour whose first and last millisecond fall on different days (an old local mean
 * time offset) is never cached, so the answer is always the formatter's.
 */

const QUARTER_HOUR = 15 * 60 * 1000;
const lastDay = new Map<string, { bucket: number; day: string }>();

/** The calendar day (YYYY-MM-DD) of an ISO time in an IANA time zone. */
export function dayKey(iso: string, timeZone: string): string {
  const ms = Date.parse(iso);
  const bucket = Math.floor(ms / QUARTER_HOUR);
  const hit = lastDay.get(timeZone);
  if (hit !== undefined && hit.bucket === bucket) return hit.day;
  const first = bookDayKey(new Date(bucket * QUARTER_HOUR).toISOString(), timeZone);
  const last = bookDayKey(new Date((bucket + 1) * QUARTER_HOUR - 1).toISOString(), timeZone);
  if (first !== last) return bookDayKey(iso, timeZone);
  lastDay.set(timeZone, { bucket, day: first });
  return first;
}

let lastWeek: { day: string; weekStartsOn: number; week: string } | null = null;

/** The first day (YYYY-MM-DD) of the week holding `day`, weeks starting on `weekStartsOn` (0 = Sunday). */
export function weekKey(day: string, weekStartsOn: number): string {
  if (lastWeek !== null && lastWeek.day === day && lastWeek.weekStartsOn === weekStartsOn) return lastWeek.week;
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const utc = Date.UTC(y, m - 1, d);
  const back = (new Date(utc).getUTCDay() - weekStartsOn + 7) % 7;
  const week = new Date(utc - back * 86_400_000).toISOString().slice(0, 10);
  lastWeek = { day, weekStartsOn, week };
  return week;
}
