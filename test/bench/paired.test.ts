import { describe, expect, it } from 'vitest';
import { median, paired } from '../../bench/paired.js';

/*
 * #18 honest benchmarks: the peer comparison and the raw-SQLite floor run in alternating rounds
 * (ours, theirs, theirs, ours, ...) and report the median of the per-round ratios, so a machine
 * that slows down half-way weighs on both sides alike. Checked here with contenders whose cost
 * is counted in work, not time: no assertion depends on how fast this machine is.
 */

describe('#18 paired rounds', () => {
  it('alternates the two sides, swapping who goes first every other round', async () => {
    const order: string[] = [];
    await paired(
      4,
      1,
      async (r) => void order.push(`ours ${r}`),
      async (r) => void order.push(`theirs ${r}`),
    );
    expect(order).toEqual(['ours 0', 'theirs 0', 'theirs 1', 'ours 1', 'ours 2', 'theirs 2', 'theirs 3', 'ours 3']);
  });

  it('reports the median of the per-round ratios, not the ratio of the medians', async () => {
    // Rates are perRound / seconds; a fake clock (in ms, as performance.now) makes each call take a chosen time.
    const real = performance.now.bind(performance);
    let clock = 0;
    performance.now = () => clock;
    try {
      // Ours takes 1, 1, 1 s; theirs takes 2, 4, 8 s: ratios 2, 4, 8 -> median 4.
      const theirs = [2, 4, 8];
      const p = await paired(
        3,
        10,
        async () => void (clock += 1000),
        async (r) => void (clock += theirs[r]! * 1000),
      );
      expect(p.ratio).toBe(4);
      expect(p.ours).toBe(10);
      expect(p.theirs).toBe(2.5);
      expect(p.rounds).toBe(3);
    } finally {
      performance.now = real;
    }
  });

  it('median of odd and even counts, and of nothing', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});
