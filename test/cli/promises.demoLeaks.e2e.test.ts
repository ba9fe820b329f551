import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatedExchangeState } from '../../src/reconcile/index.js';
import { ptrack } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * Issue 15, Must show 3: `ptrack demo` ends with a leak table whose durations and value x time
 * are the story's real ones, and the totals by cause. Checked against what the simulated exchange
 * says it injected (its own log, saved in exchange.json): every injected leak appears with the
 * cause it was injected with and a start within one look of the injection: at or before it, and
 * not before the last look that completed before it.
 */

const tmp = tempDir('ptrack-demo-leaks-');
afterAll(() => tmp.cleanup());

interface Row {
  kind: string;
  id: string;
  found: string;
  began: string;
  lasted: number;
  value: number;
  valueMinutes: number;
  cause: string;
}

const ROW =
  /^ {2}(orphan|phantom|fill) +(\S+) +(\d\d:\d\d) +(\d\d:\d\d|--:--) +(\S+) +([\d.]+) {2}(\d\d:\d\d)(?:-\d\d:\d\d)? (venue|fill|looks|order|found) +(\d+)m +([\d.]+) {2}(.+)$/;

function leakTable(lines: string[]): Row[] {
  const from = lines.findIndex((l) => l.startsWith('leak audit ('));
  const to = lines.indexOf('', from + 1);
  return lines.slice(from + 2, to).map((l) => {
    const m = ROW.exec(l);
    expect(m, `a leak row: ${l}`).not.toBeNull();
    const [, kind, id, found, , , value, began, , lasted, valueMinutes, cause] = m as unknown as string[];
    return {
      kind: kind!,
      id: id!,
      found: found!,
      began: began!,
      lasted: Number(lasted),
      value: Number(value),
      valueMinutes: Number(valueMinutes),
      cause: cause!,
    };
  });
}

const stories = new Map<number, { lines: string[]; state: SimulatedExchangeState }>();

beforeAll(async () => {
  await Promise.all(
    [3, 4].map(async (seed) => {
      const dir = join(tmp.dir, `seed-${seed}`);
      const r = await ptrack(['demo', '--seed', String(seed), '--dir', dir], { cwd: tmp.dir, timeoutMs: 90_000 });
      expect(r.code, r.stderr).toBe(0);
      stories.set(seed, {
        lines: r.stdout.trimEnd().split('\n'),
        state: JSON.parse(readFileSync(join(dir, 'exchange.json'), 'utf8')) as SimulatedExchangeState,
      });
    }),
  );
}, 180_000);

describe.each([3, 4])('#15 ptrack demo --seed %i: the leak table', (seed) => {
  it('#15 every leak the exchange injected is in the table with its cause and a start within one look of the injection', () => {
    const { lines, state } = stories.get(seed)!;
    const rows = leakTable(lines);
    const injections = state.injections ?? [];
    expect(new Set(injections.map((i) => i.cause))).toEqual(
      new Set(['manual trade', 'liquidation / stop-out outside', 'dust growth', 'unrecorded fill']),
    );
    // The looks that completed (a run that could not read the exchange, or hit an error, may have appended nothing).
    const looks = lines
      .filter((l) => /^\d\d:\d\d {2}(reconcile|final reconcile|recovery): /.test(l))
      .filter((l) => !l.includes('could not read the exchange') && !/\d+ error\(s\)/.test(l))
      .map((l) => l.slice(0, 5));
    for (const injected of injections) {
      const at = injected.at.slice(11, 16);
      const lastLook = looks.filter((t) => t < at).at(-1) ?? '00:00';
      const row = rows.find((r) => r.id === injected.positionId && r.cause === injected.cause && r.began <= at && r.began >= lastLook);
      expect(
        row,
        `${injected.cause} ${injected.positionId} at ${at} (last look before ${lastLook}) in:\n${lines.join('\n')}`,
      ).toBeDefined();
      expect(row!.found >= at).toBe(true);
    }
  });

  it('#15 durations and value x time are the real ones: from the start to the finding, non-zero where it leaked', () => {
    const rows = leakTable(stories.get(seed)!.lines);
    for (const r of rows) {
      const minutes = (t: string): number => Number(t.slice(0, 2)) * 60 + Number(t.slice(3, 5));
      expect(r.lasted, `${r.id}`).toBe(minutes(r.found) - minutes(r.began));
      if (r.lasted > 0) expect(r.valueMinutes, `${r.id}`).toBeGreaterThan(0);
      if (r.kind !== 'phantom') expect(r.valueMinutes).toBeCloseTo(r.value * r.lasted, 1);
    }
    expect(rows.filter((r) => r.lasted > 0).length).toBeGreaterThan(rows.length / 2);
  });

  it('#15 the totals by cause add up to the table', () => {
    const { lines } = stories.get(seed)!;
    const rows = leakTable(lines);
    const from = lines.indexOf('leaks by cause:');
    expect(from).toBeGreaterThan(0);
    const totals = new Map<string, { count: number; valueMinutes: number; healed: number }>();
    for (const l of lines.slice(from + 2, from + 8)) {
      const m = /^ {2}(.+?) +(\d+) +([\d.]+) +([\d.]+)$/.exec(l);
      expect(m, l).not.toBeNull();
      totals.set(m![1]!, { count: Number(m![2]), valueMinutes: Number(m![3]), healed: Number(m![4]) });
    }
    expect([...totals.keys()]).toEqual([
      'unrecorded fill',
      'manual trade',
      'liquidation / stop-out outside',
      'dust growth',
      'unknown',
      'all',
    ]);
    for (const [cause, t] of totals) {
      const mine = cause === 'all' ? rows : rows.filter((r) => r.cause === cause);
      expect(t.count, cause).toBe(mine.length);
      expect(t.valueMinutes, cause).toBeCloseTo(
        mine.reduce((n, r) => n + r.valueMinutes, 0),
        0,
      );
    }
    expect(totals.get('all')!.valueMinutes).toBeGreaterThan(0);
    // Reconciliation healed every leak of the story (adopted, cleared, recorded).
    expect(totals.get('all')!.healed).toBe(totals.get('all')!.valueMinutes);
  });
});
