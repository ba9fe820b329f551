import { describe, expect, it } from 'vitest';
import { dayKey } from '../../src/commands/time.js';

describe('dayKey', () => {
  it.each([
    ['2026-01-05T23:59:59.999Z', 'UTC', '2026-01-05'],
    ['2026-01-06T00:00:00.000Z', 'UTC', '2026-01-06'],
    // An offset other than Z is converted, not sliced.
    ['2026-01-06T00:30:00+01:00', 'UTC', '2026-01-05'],
    ['2026-01-05T23:30:00-01:00', 'UTC', '2026-01-06'],
    ['2026-01-06T04:59:59.999Z', 'America/New_York', '2026-01-05'],
    ['2026-01-06T05:00:00.000Z', 'America/New_York', '2026-01-06'],
    // Kathmandu is UTC+05:45: its midnight falls on a quarter hour.
    ['2026-01-05T18:14:59.999Z', 'Asia/Kathmandu', '2026-01-05'],
    ['2026-01-05T18:15:00.000Z', 'Asia/Kathmandu', '2026-01-06'],
    // New York on the day clocks go forward (2026-03-08): midnight is 05:00Z.
    ['2026-03-08T04:59:59.000Z', 'America/New_York', '2026-03-07'],
    ['2026-03-08T05:00:00.000Z', 'America/New_York', '2026-03-08'],
    ['2026-03-09T03:59:59.000Z', 'America/New_York', '2026-03-08'],
    ['2026-03-09T04:00:00.000Z', 'America/New_York', '2026-03-09'],
  ])('%s in %s is %s', (iso, zone, day) => {
    expect(dayKey(iso, zone)).toBe(day);
    // Asked again (from the cache), the same answer.
    expect(dayKey(iso, zone)).toBe(day);
  });
});
