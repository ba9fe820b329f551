import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTracker } from '../../src/tracker/index.js';
import { ptrack } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * #11 "take profit, stop loss and trailing-stop state on Enter and adjustable while IN (a
 * SetProtection command)", from the shell: `ptrack enter --take-profit --trailing` and
 * `ptrack protect <id> --stop/--take-profit/--trailing` (a price or `none`), stored in the log
 * and shown by status; bad values are exit 2 naming the flag and change nothing.
 */

const tmp = tempDir('ptrack-protect-');
let store: string[];
let file: string;

const statusOf = async (id: string): Promise<Record<string, unknown> | undefined> => {
  const r = await ptrack(['status', '--json', ...store], { cwd: tmp.dir });
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { positions: Record<string, unknown>[] }).positions.find((p) => p.id === id);
};
const revision = async (): Promise<number> => {
  const tracker = await openTracker({ store: `sqlite:${file}` });
  try {
    return (await tracker.state()).revision;
  } finally {
    await tracker.close();
  }
};

beforeAll(async () => {
  file = join(tmp.dir, 'trades.db');
  store = ['--store', `sqlite:${file}`];
  const track = await ptrack(['track', 'AAPL-1', '--symbol', 'AAPL', ...store], { cwd: tmp.dir });
  expect(track.code, track.stderr).toBe(0);
}, 60_000);
afterAll(() => tmp.cleanup());

describe('ptrack enter and ptrack protect', () => {
  it('enter records take profit and a percent trailing stop that trails from the entry price', async () => {
    const r = await ptrack(
      [
        'enter',
        'AAPL-1',
        '--value',
        '1000',
        '--qty',
        '5',
        '--price',
        '200',
        '--stop',
        '190',
        '--take-profit',
        '230',
        '--trailing',
        '5%',
        ...store,
      ],
      { cwd: tmp.dir },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(await statusOf('AAPL-1')).toMatchObject({ stop: 190, takeProfit: 230, trailingStop: { percent: 5, highWater: 200 } });
  }, 60_000);

  it('protect replaces what it is given, removes what is none, keeps the rest, and says so', async () => {
    const r = await ptrack(['protect', 'AAPL-1', '--stop', '195', '--take-profit', 'none', ...store], { cwd: tmp.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('AAPL-1: protection stop 195, trailing stop 5% (high-water 200)');
    const p = await statusOf('AAPL-1');
    expect(p).toMatchObject({ stop: 195, trailingStop: { percent: 5, highWater: 200 } });
    expect(p).not.toHaveProperty('takeProfit');

    const t = await ptrack(['protect', 'AAPL-1', '--trailing', '7.5', '--json', ...store], { cwd: tmp.dir });
    expect(t.code, t.stderr).toBe(0);
    const events = (JSON.parse(t.stdout) as { events: { type: string; data: unknown }[] }).events;
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'ProtectionSet',
      data: { positionId: 'AAPL-1', stop: 195, trailingStop: { distance: 7.5, highWater: 200 } },
    });
    const off = await ptrack(['protect', 'AAPL-1', '--trailing', 'none', '--stop', 'none', ...store], { cwd: tmp.dir });
    expect(off.stdout.trim()).toBe('AAPL-1: protection removed');
    const bare = await statusOf('AAPL-1');
    expect(bare).not.toHaveProperty('stop');
    expect(bare).not.toHaveProperty('trailingStop');
    // The same protection again appends nothing.
    const before = await revision();
    const same = await ptrack(['protect', 'AAPL-1', '--stop', 'none', ...store], { cwd: tmp.dir });
    expect(same).toMatchObject({ code: 0, stdout: 'nothing to do\n' });
    expect(await revision()).toBe(before);
  }, 90_000);

  it('refuses bad values and positions that are not IN with a clear error, and changes nothing', async () => {
    const before = await revision();
    const cases: [string[], RegExp][] = [
      [['protect', 'AAPL-1', '--trailing', '120%'], /--trailing: expected a percent between 0 and 100, both excluded, got "120%"/],
      [['protect', 'AAPL-1', '--trailing', 'wide'], /--trailing: expected a distance like 5 or a percent like 2%, got "wide"/],
      [['protect', 'AAPL-1', '--stop', 'low'], /--stop: expected a number, got "low"/],
      [['protect', 'AAPL-1'], /give at least one of --stop, --take-profit, --trailing/],
      [['protect', 'NOPE-1', '--stop', '1'], /NOPE-1/],
    ];
    for (const [args, message] of cases) {
      const r = await ptrack([...args, ...store], { cwd: tmp.dir });
      expect(r.stderr).toMatch(message);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(args[1] === 'NOPE-1' ? 3 : 2);
    }
    expect(await revision()).toBe(before);
  }, 90_000);
});
