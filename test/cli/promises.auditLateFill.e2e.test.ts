import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { ptrack } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * #11 "once it resolves, the fill explains what appeared outside: the leak audit records 'fill of
 * order X recorded late', not 'orphan adopted'". The demo's first process dies between the
 * exchange's fill and hearing of it; the restart's recovery records the late fill. ptrack audit
 * on that log lists it as a late fill of that order, with the venue's time, and no orphan for
 * that position from then on (it may have been an adopted orphan earlier in the story).
 */

const tmp = tempDir('ptrack-latefill-');
afterAll(() => tmp.cleanup());

it('#11 ptrack audit lists the demo restart late fill as the fill of a known order recorded late, not an orphan', async () => {
  const dir = join(tmp.dir, 'demo');
  const demo = await ptrack(['demo', '--dir', dir, '--seed', '3'], { cwd: tmp.dir });
  expect(demo.code, demo.stderr).toBe(0);
  const recovery = /recovery: late fill of order (\S+) for (\S+) recorded/.exec(demo.stdout);
  expect(recovery, demo.stdout).not.toBeNull();
  const [, order, positionId] = recovery as unknown as [string, string, string];

  const store = ['--store', `sqlite:${join(dir, 'trades.db')}`, '--book', 'demo-bot'];
  const text = await ptrack(['audit', ...store], { cwd: tmp.dir });
  expect(text.code, text.stderr).toBe(0);
  expect(text.stdout).toMatch(/^orders: [1-9]\d* fill\(s\) recorded late, /m);
  expect(text.stdout).toContain(`fill of order ${order} (${positionId}, `);
  expect(text.stdout).toMatch(new RegExp(`fill of order ${order} \\(${positionId}, \\S+\\) recorded late: .* filled at the venue \\S+, `));

  const json = await ptrack(['audit', '--json', ...store], { cwd: tmp.dir });
  const book = JSON.parse(json.stdout) as {
    orders: { kind: string; clientOrderId: string; at: string }[];
    orphans: { positionId: string; detectedAt: string }[];
  };
  const late = book.orders.find((o) => o.kind === 'late_fill' && o.clientOrderId === order);
  expect(late).toBeDefined();
  // What appeared outside from the restart on is explained by the fill: no orphan for that position since.
  expect(book.orphans.filter((o) => o.positionId === positionId && o.detectedAt >= (late?.at ?? ''))).toEqual([]);
}, 120_000);
