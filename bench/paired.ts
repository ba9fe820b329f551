/**
 * Paired measurement: two contenders run in alternating rounds (ours, theirs, ours, theirs ...)
 * so that a machine that speeds up or slows down during the run (a shared VM, the page cache,
 * another process) weighs on both alike; the figure reported is the median of the per-round
 * ratios, with each side's median throughput beside it.
 */

export interface Paired {
  /** Median operations per second of each side over the rounds. */
  ours: number;
  theirs: number;
  /** Median of the per-round ratios ours / theirs. */
  ratio: number;
  rounds: number;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Runs `rounds` rounds; in each, `ours(round)` then `theirs(round)` (the order swapped every other
 * round), each doing `perRound` operations. Returns per-second rates and the median paired ratio.
 */
export async function paired(
  rounds: number,
  perRound: number,
  ours: (round: number) => Promise<void>,
  theirs: (round: number) => Promise<void>,
): Promise<Paired> {
  const o: number[] = [];
  const t: number[] = [];
  const rate = async (f: (round: number) => Promise<void>, round: number): Promise<number> => {
    const start = performance.now();
    await f(round);
    return perRound / ((performance.now() - start) / 1000);
  };
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      o.push(await rate(ours, r));
      t.push(await rate(theirs, r));
    } else {
      t.push(await rate(theirs, r));
      o.push(await rate(ours, r));
    }
  }
  return { ours: median(o), theirs: median(t), ratio: median(o.map((x, i) => x / t[i]!)), rounds };
}
