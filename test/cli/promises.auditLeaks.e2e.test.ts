import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcile, SimulatedExchange } from '../../src/reconcile/index.js';
import { openTracker } from '../../src/tracker/index.js';
import { ptrack } from '../helpers/cli.js';
import { LOOSE_BOOK } from '../helpers/reconcileWorld.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * Issue 15 through the binary: `ptrack audit` measures each leak from when it began (the
 * venue's times, or the looks around it), names its cause, totals value x time and the part
 * healed automatically; `--since`/`--until` (time travel) window it, `--by` groups it, `--json`
 * gives it to scripts. A story made by the real reconciler against the simulated exchange.
 */

const START = Date.parse('2026-01-05T12:00:00.000Z');
const at = (minutes: number): string => new Date(START + minutes * 60_000).toISOString();
let dir: string;
let cleanup: () => void;
let store: string;
let orphanId: string;
let dustId: string;
let orphanValue: number;
let botValue: number;

beforeAll(async () => {
  ({ dir, cleanup } = tempDir('ptrack-audit-leaks-'));
  store = `sqlite:${join(dir, 'trades.db')}`;
  const clock = { now: START };
  const now = (): Date => new Date(clock.now);
  const tracker = await openTracker({ ...LOOSE_BOOK, store, now });
  const exchange = new SimulatedExchange({ seed: 21, clock: now });
  const run = (): Promise<unknown> =>
    reconcile({
      handler: tracker.handler,
      external: exchange,
      now,
      guard: { retries: 0 },
      policy: { orphans: 'adopt', phantoms: 'clear' },
    });
  const to = (minutes: number): void => void (clock.now = START + minutes * 60_000);
  try {
    // 12:00 the bot holds BOT-1; a dust reward sits outside; the first look sees both.
    const price = exchange.price('BTC');
    botValue = Math.round(0.01 * price * 100) / 100;
    await tracker.track('BOT-1', { symbol: 'BTC', side: 'long' });
    await tracker.enter('BOT-1', { value: botValue, quantity: 0.01, price });
    exchange.fill('BOT-1', { symbol: 'BTC', side: 'long', quantity: 0.01 });
    dustId = exchange.dustReward();
    to(5);
    await run();
    // 12:06 someone trades by hand; 12:10 the look adopts it.
    to(6);
    orphanId = exchange.injectOrphan();
    orphanValue = exchange.valueNow(orphanId)!;
    to(10);
    await run();
    // 12:12 BOT-1 is liquidated at the exchange; the dust grows above the threshold; 12:15 the look finds both.
    to(12);
    exchange.liquidate('BOT-1');
    exchange.drift(dustId, 100);
    to(15);
    await run();
    to(20);
    await tracker.handler.handle({ type: 'RecordHeartbeat', process: 'test' });
  } finally {
    await tracker.close();
  }
}, 60_000);
afterAll(() => cleanup());

const audit = (args: string[]) => ptrack(['audit', '--store', store, '--book', 'main', ...args], { cwd: dir, timeoutMs: 30_000 });

interface Row {
  kind: string;
  positionId: string;
  cause: string;
  start: { evidence: string; at: string; earliest: string | null; latest: string };
  durationSeconds: number;
  valueSeconds: number;
  healed: boolean;
}
interface Json {
  leaks: {
    since: string | null;
    until: string | null;
    rows: Row[];
    totals: { count: number; valueSeconds: number; healedValueSeconds: number };
  };
  by?: { key: string; groups: Record<string, { count: number; valueSeconds: number }> };
}

describe('#15 ptrack audit measures the leak', () => {
  it('#15 --json: each leak from its real start, with its cause; the totals and the healed part', async () => {
    const r = await audit(['--json']);
    expect(r.code, r.stderr).toBe(0);
    const { leaks } = JSON.parse(r.stdout) as Json;
    const byId = new Map(leaks.rows.map((row) => [row.positionId, row]));
    expect(byId.get(orphanId)).toMatchObject({
      kind: 'orphan',
      cause: 'manual trade',
      start: { evidence: 'venue', at: at(6) },
      durationSeconds: 4 * 60,
      valueSeconds: orphanValue * 4 * 60,
      healed: true,
    });
    expect(byId.get('BOT-1')).toMatchObject({
      kind: 'phantom',
      cause: 'liquidation / stop-out outside',
      start: { evidence: 'venue', at: at(12) },
      durationSeconds: 3 * 60,
      valueSeconds: botValue * 3 * 60,
      healed: true,
    });
    const dust = byId.get(dustId);
    expect(dust).toMatchObject({
      kind: 'orphan',
      cause: 'dust growth',
      start: { evidence: 'looks', at: at(10), earliest: at(10), latest: at(15) },
      durationSeconds: 5 * 60,
      healed: true,
    });
    expect(leaks.totals.count).toBe(3);
    expect(leaks.totals.valueSeconds).toBeCloseTo(
      leaks.rows.reduce((n, row) => n + row.valueSeconds, 0),
      6,
    );
    expect(leaks.totals.healedValueSeconds).toBeCloseTo(leaks.totals.valueSeconds, 6);
  });

  it('#15 the text report: the leak table with causes and start bounds, and the totals line', async () => {
    const r = await audit([]);
    expect(r.code, r.stderr).toBe(0);
    const { leaks } = JSON.parse((await audit(['--json'])).stdout) as Json;
    const vh = String(Math.round((leaks.totals.valueSeconds / 3600) * 100) / 100);
    expect(r.stdout).toContain(`\nleaks: 3 (0 open), leaked ${vh} value-hours, ${vh} of it healed automatically (100%)\n`);
    expect(r.stdout).toMatch(new RegExp(`orphan\\s+${orphanId}\\s+\\S+\\s+manual trade\\s+${at(6).replace(/\./g, '\\.')} \\(venue\\)`));
    expect(r.stdout).toMatch(/phantom\s+BOT-1\s+BTC\s+liquidation \/ stop-out outside\s+2026-01-05T12:12:00\.000Z \(venue\)/);
    expect(r.stdout).toMatch(
      new RegExp(`orphan\\s+${dustId}\\s+\\S+\\s+dust growth\\s+between 2026-01-05T12:10:00\\.000Z and 2026-01-05T12:15:00\\.000Z`),
    );
  });

  it('#15 --since clips value x time to the window; --until travels back to when only the first leak was on the record', async () => {
    const since = JSON.parse((await audit(['--json', '--since', at(8)])).stdout) as Json;
    const orphan = since.leaks.rows.find((row) => row.positionId === orphanId);
    expect(orphan).toMatchObject({ durationSeconds: 2 * 60 });
    expect(orphan?.valueSeconds).toBeCloseTo(orphanValue * 2 * 60, 6);
    expect(since.leaks.since).toBe(at(8));

    const then = await audit(['--json', '--until', at(11)]);
    expect(then.code, then.stderr).toBe(0);
    const back = JSON.parse(then.stdout) as Json;
    expect(back.leaks.rows.map((row) => row.positionId)).toEqual([orphanId]);
    expect(back.leaks.until).toBe(at(11));
    const text = await audit(['--since', at(0), '--until', at(11)]);
    expect(text.stdout).toMatch(/^leaks from 2026-01-05T12:00:00\.000Z until 2026-01-05T12:11:00\.000Z: 1 \(0 open\), /m);
  });

  it('#15 --by cause, symbol or day groups the window totals', async () => {
    const r = JSON.parse((await audit(['--json', '--by', 'cause'])).stdout) as Json;
    expect(r.by?.key).toBe('cause');
    expect(Object.keys(r.by?.groups ?? {}).sort()).toEqual(['dust growth', 'liquidation / stop-out outside', 'manual trade']);
    expect(r.by?.groups['manual trade']?.valueSeconds).toBeCloseTo(orphanValue * 4 * 60, 6);
    const day = JSON.parse((await audit(['--json', '--by', 'day'])).stdout) as Json;
    expect(Object.keys(day.by?.groups ?? {})).toEqual(['2026-01-05']);
    const text = await audit(['--by', 'symbol']);
    expect(text.stdout).toMatch(/^by symbol:$/m);
    expect(text.stdout).toMatch(/^\s*BTC\s+1\s+0\s/m);
  });

  it.each([
    [['--since', 'yesterday'], 'ptrack: --since: expected an ISO-8601 time with an offset such as 2026-01-05T12:00:00Z, got "yesterday"\n'],
    [['--by', 'venue'], 'ptrack: --by: expected one of cause, symbol, day, got "venue"\n'],
    [
      ['--since', '2026-01-05T12:10:00Z', '--until', '2026-01-05T12:00:00Z'],
      'ptrack: --until: expected a time at or after --since 2026-01-05T12:10:00Z, got "2026-01-05T12:00:00Z"\n',
    ],
  ])('#15 bad flags %j: exit 2, one line naming the flag and the value, nothing on stdout', async (args, message) => {
    const r = await audit(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(message);
  });
});
