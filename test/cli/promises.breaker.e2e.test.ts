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
    // Long enough for two commands to run inside it on a loaded machine.
    const trip = await run('breaker', 'trip', '--reason', 'short pause', '--for', '6s');
    expect(trip.code, trip.stderr).toBe(0);
    const until = Date.parse(/until (\S+)/.exec(trip.stdout)![1]!);
    // While it runs, status says TRIPPED and an entry is refused.
    const during = await run('status');
    expect(during.stdout).toMatch(/circuit breaker TRIPPED \(manual: short pause\) until /);
    expect((await run('enter', 'B-1', '--value', '10')).code).toBe(3);

    await new Promise((r) => setTimeout(r, Math.max(0, until - Date.now()) + 50));
    const after = await run('status');
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).not.toMatch(/TRIPPED/);
    expect(after.stdout).toMatch(/circuit breaker ok \(the trip \(manual: short pause\) expired at \d{4}-/);
    const json = JSON.parse((await run('status', '--json')).stdout) as { risk: { breaker: { status: string; active: boolean } } };
    expect(json.risk.breaker).toMatchObject({ status: 'TRIPPED', active: false });
    const enter = await run('enter', 'B-1', '--value', '10');
    expect(enter.code, enter.stderr).toBe(0);
  });

  it('#10.11 tracker.risk() says whether the breaker is active at the tracker\'s now, as the decider judges it', async () => {
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
