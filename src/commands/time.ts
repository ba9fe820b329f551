/*
 * Pure time helpers: every time comes in from the caller; nothing here reads the clock.
 */

const dayFormats = new Map<string, Intl.DateTimeFormat>();
/** Day by 15-minute bucket of UTC time, per zone: every zone's offset is a multiple of 15 minutes. */
const dayCache = new Map<string, string>();

/** The calendar day (YYYY-MM-DD) of an ISO time in an IANA time zone. */
export function dayKey(iso: string, timeZone: string): string {
  // A UTC time written with Z (how this product writes every time) carries its UTC day in front.
  if (timeZone === 'UTC' && iso.length >= 20 && iso.charCodeAt(iso.length - 1) === 90 /* Z */ && iso.charCodeAt(10) === 84 /* T */) {
    return iso.slice(0, 10);
  }
  const date = new Date(iso);
  if (timeZone === 'UTC') return date.toISOString().slice(0, 10);
  const bucket = `${timeZone}|${Math.floor(date.getTime() / 900_000)}`;
  const cached = dayCache.get(bucket);
  if (cached !== undefined) return cached;
  let format = dayFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormats.set(timeZone, format);
  }
  const day = format.format(date);
  if (dayCache.size > 10_000) dayCache.clear();
  dayCache.set(bucket, day);
  return day;
}

export function addSeconds(iso: string, seconds: number): string {
  return new Date(Date.parse(iso) + seconds * 1000).toISOString();
}

/** Whole seconds from `from` to `to` (may be negative). */
export function secondsBetween(from: string, to: string): number {
  return (Date.parse(to) - Date.parse(from)) / 1000;
}

export function isBefore(a: string, b: string): boolean {
  return Date.parse(a) < Date.parse(b);
}
