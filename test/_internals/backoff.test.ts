import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/_internals/backoff.js';

describe('backoffDelay', () => {
  const at = (r: number) => () => r;

  it('grows by the factor from baseMs and stops at maxMs (the ceiling, with the jitter at its top)', () => {
    const top = (attempt: number, factor?: number) =>
      backoffDelay(attempt, { baseMs: 100, maxMs: 1_000, jitter: 'equal', random: at(1), ...(factor ? { factor } : {}) });
    expect([0, 1, 2, 3, 4, 5].map((a) => top(a))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    expect([0, 1, 2].map((a) => top(a, 3))).toEqual([100, 300, 900]);
    // A long outage overflows factor^attempt; the cap holds and the wait stays finite.
    expect(top(5_000)).toBe(1_000);
    expect(backoffDelay(5_000, { baseMs: 0, maxMs: 1_000, random: at(0.5) })).toBe(0);
  });

  it('full jitter is anywhere from 0 to the ceiling; equal jitter from half of it to all of it', () => {
    const opts = { baseMs: 100, maxMs: 10_000 };
    expect(backoffDelay(2, { ...opts, random: at(0) })).toBe(0);
    expect(backoffDelay(2, { ...opts, random: at(0.25) })).toBe(100);
    expect(backoffDelay(2, { ...opts, jitter: 'equal', random: at(0) })).toBe(200);
    expect(backoffDelay(2, { ...opts, jitter: 'equal', random: at(0.5) })).toBe(300);
  });

  it('counts a negative or fractional attempt as the whole number below it, floored at 0', () => {
    const opts = { baseMs: 100, maxMs: 10_000, random: at(1) };
    expect(backoffDelay(-3, opts)).toBe(100);
    expect(backoffDelay(2.9, opts)).toBe(400);
  });

  it('stays within [0, ceiling] (equal: [ceiling / 2, ceiling]) for any randomness in [0, 1)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.constantFrom('full' as const, 'equal' as const),
        (attempt, baseMs, maxMs, r, jitter) => {
          const ceiling = Math.min(maxMs, baseMs * 2 ** attempt);
          const ms = backoffDelay(attempt, { baseMs, maxMs, jitter, random: () => r });
          expect(Number.isFinite(ms)).toBe(true);
          expect(ms).toBeLessThanOrEqual(ceiling);
          expect(ms).toBeGreaterThanOrEqual(jitter === 'full' ? 0 : ceiling / 2);
        },
      ),
      { seed: 20_261_202, numRuns: 300 },
    );
  });

  it('uses Math.random when no randomness is given: waits differ between calls', () => {
    const waits = new Set(Array.from({ length: 20 }, () => backoffDelay(4, { baseMs: 100, maxMs: 10_000 })));
    expect(waits.size).toBeGreaterThan(1);
    for (const ms of waits) expect(ms).toBeLessThanOrEqual(1_600);
  });
});
