import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openTracker } from '../../src/tracker/index.js';
import { ptrack } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const ENV: NodeJS.ProcessEnv = { PTRACK_CONFIG: undefined, DEBUG: undefined };

describe('the circuit breaker as shown is the circuit breaker as enforced', () => {
  it('#10.11 ptrack status shows an expired circuit breaker as ok, and the next entry is accepted', async ({ onTestFinished }) => {
    const { dir, cleanup } = tempDir('ptrack-breaker-');
    onTestFinished(cleanup);
    const run = (...args: string[]) => ptrack(args, { cwd: dir, env: ENV, timeoutMs: 60_000 });
    expect((await run('init')).code).toBe(0);
    expect((await run('track', 'B-1', '--symbol', 'B')).code).toBe(0);
    // A trip that runs for a day: status says TRIPPED and an entry is refused.
    const trip = await run('breaker', 'trip', '--reason', 'long pause', '--for', '1d');
    expect(trip.code, trip.stderr).toBe(0);
    const during = await run('status');
    expect(during.stdout).toMatch(/circuit breaker TRIPPED \(manual: long pause\) until /);
    expect((await run('enter', 'B-1', '--value', '10')).code).toBe(3);
    expect((await run('breaker', 'reset', '--reason', 'done')).code).toBe(0);

    // A trip made two hours ago for one minute, recorded at its own time: expired now, whatever
    // the machine's speed (no test waits on the clock).
    const past = Date.now() - 2 * 3600_000;
    const tracker = await openTracker({ store: `sqlite:${join(dir, 'state', 'trades.db')}`, now: () => new Date(past) });
    await tracker.tripCircuitBreaker('short pause', { seconds: 60 });
    await tracker.close();
    const after = await run('status');
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).not.toMatch(/TRIPPED/);
    expect(after.stdout).toMatch(/circuit breaker ok \(the trip \(manual: short pause\) expired at \d{4}-/);
    const json = JSON.parse((await run('status', '--json')).stdout) as { risk: { breaker: { status: string; active: boolean } } };
    expect(json.risk.breaker).toMatchObject({ status: 'TRIPPED', active: false });
    const enter = await run('enter', 'B-1', '--value', '10');
    expect(enter.code, enter.stderr).toBe(0);
  });

  it("#10.11 tracker.risk() says whether the breaker is active at the tracker's now, as the decider judges it", async () => {
    let t = Date.parse('2026-03-02T10:00:00.000Z');
    const tracker = await openTracker({ store: 'memory:', now: () => new Date(t) });
    await tracker.track('A-1', { symbol: 'A' });
    await tracker.tripCircuitBreaker('pause', { seconds: 60 });
    expect((await tracker.risk()).breaker).toMatchObject({ status: 'TRIPPED', active: true });
    await expect(tracker.enter('A-1', { value: 10 })).rejects.toThrow(/circuit breaker is tripped/);
    t += 60_000;
    expect((await tracker.risk()).breaker).toMatchObject({ status: 'TRIPPED', active: false });
    await expect(tracker.enter('A-1', { value: 10 })).resolves.toMatchObject({ position: { status: 'IN' } });
    await tracker.close();
  });
});
