import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openTracker } from '../../src/tracker/index.js';
import { ptrack } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * #11 "Position protection ... shown by status": ptrack status prints each IN position's stop
 * loss, take profit and trailing stop (with its high-water price) as the log keeps them, and
 * --json carries the same fields on the position.
 */

const tmp = tempDir('ptrack-protection-');
let store: string[];

beforeAll(async () => {
  const file = join(tmp.dir, 'trades.db');
  store = ['--store', `sqlite:${file}`];
  const tracker = await openTracker({ store: `sqlite:${file}` });
  await tracker.track('AAPL-1', { symbol: 'AAPL' });
  await tracker.enter('AAPL-1', { value: 1000, quantity: 5, price: 200, stop: 190 });
  await tracker.execute({ type: 'SetProtection', positionId: 'AAPL-1', takeProfit: 230, trailingStop: { percent: 5 } });
  await tracker.track('MSFT-1', { symbol: 'MSFT' });
  await tracker.enter('MSFT-1', { value: 800, quantity: 2, price: 400 });
  await tracker.execute({ type: 'SetProtection', positionId: 'MSFT-1', trailingStop: { distance: 12.5 } });
  await tracker.track('NVDA-1', { symbol: 'NVDA' });
  await tracker.enter('NVDA-1', { value: 500 });
  await tracker.close();
}, 60_000);
afterAll(() => tmp.cleanup());

it('#11 ptrack status shows the protection of each IN position, and none for one without', async () => {
  const r = await ptrack(['status', ...store], { cwd: tmp.dir });
  expect(r.code, r.stderr).toBe(0);
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('  protection '));
  expect(lines[0]).toMatch(/^ {2}protection AAPL-1: stop 190, take profit 230, trailing stop 5% \(high-water \d+(\.\d+)?\)$/);
  expect(lines[1]).toMatch(/^ {2}protection MSFT-1: trailing stop 12\.5 \(high-water \d+(\.\d+)?\)$/);
  expect(lines).toHaveLength(2);

  const j = await ptrack(['status', '--json', ...store], { cwd: tmp.dir });
  const positions = (JSON.parse(j.stdout) as { positions: Record<string, unknown>[] }).positions;
  expect(positions.find((p) => p.id === 'AAPL-1')).toMatchObject({ stop: 190, takeProfit: 230, trailingStop: { percent: 5 } });
  expect(positions.find((p) => p.id === 'NVDA-1')).not.toHaveProperty('takeProfit');
}, 60_000);
