import { afterEach, describe, expect, it, vi } from 'vitest';
import { BookPolicy, parseCommand } from '../../src/commands/index.js';
import { parseConfigText } from '../../src/config/index.js';
import { ValidationError } from '../../src/errors/index.js';
import { MAX_DURATION_SECONDS } from '../../src/events/primitives.js';
import type { ReconcileReport } from '../../src/reconcile/reconcile.js';
import { scheduleReconciliation } from '../../src/reconcile/scheduler.js';
import { MemoryEventStore } from '../../src/store/index.js';
import { openTracker } from '../../src/tracker/index.js';
import { MAX_TIMER_MS, clampTimerMs, setTimer } from '../../src/_internals/timers.js';
import { runMain } from '../helpers/inProcess.js';

const report = (failed = false): ReconcileReport =>
  ({ errors: failed ? [{ stage: 'listPositions', message: 'down', failure: 'unreachable' }] : [] }) as unknown as ReconcileReport;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('#10.14 every duration is bounded and every timer clamped', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('#10.14 clampTimerMs keeps every delay inside what a timer honours', () => {
    expect(clampTimerMs(3_000_000_000)).toBe(MAX_TIMER_MS);
    expect(clampTimerMs(Number.POSITIVE_INFINITY)).toBe(MAX_TIMER_MS);
    expect(clampTimerMs(Number.NaN)).toBe(MAX_TIMER_MS);
    expect(clampTimerMs(-5)).toBe(0);
    expect(clampTimerMs(0, 1)).toBe(1);
    expect(clampTimerMs(2.2)).toBe(3);
  });

  it('#10.14 a timer longer than 24.8 days is chained, and fires once, when due', () => {
    vi.useFakeTimers({ now: 0 });
    const fired: number[] = [];
    setTimer(() => fired.push(Date.now()), 30 * 86_400_000);
    vi.advanceTimersByTime(1000);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(25 * 86_400_000);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(5 * 86_400_000);
    expect(fired).toEqual([30 * 86_400_000]);
    const t = setTimer(() => fired.push(-1), 10);
    t.cancel();
    vi.advanceTimersByTime(100);
    expect(fired).toHaveLength(1);
  });

  it('#10.14 the scheduler refuses everyMs 0 (continuous) and absurd values, naming the field', () => {
    const run = async () => report();
    for (const everyMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 1e300]) {
      expect(() => scheduleReconciliation({ everyMs, run })).toThrow(ValidationError);
      expect(() => scheduleReconciliation({ everyMs, run })).toThrow(/^scheduleReconciliation: everyMs: /);
    }
    expect(() => scheduleReconciliation({ everyMs: 10, maxBackoffMs: 0, run })).toThrow(/maxBackoffMs/);
  });

  it('#10.14 an interval of 2^31 ms or more, and its failure back-off, do not fire every millisecond', async () => {
    let ok = 0;
    const long = scheduleReconciliation({ everyMs: 2 ** 31, run: async () => (ok++, report()) });
    let failed = 0;
    // A failing run backs off to min(10 x everyMs, everyMs x 2^n): 2^31 ms and more after the first failure.
    const backingOff = scheduleReconciliation({ everyMs: 2 ** 30, run: async () => (failed++, report(true)) });
    // Wait (bounded) for the first runs however slow the machine, then give a millisecond timer
    // plenty of chances to fire again.
    for (let i = 0; i < 200 && (ok < 1 || failed < 1); i++) await pause(10);
    await pause(150);
    long.stop();
    backingOff.stop();
    expect(ok).toBe(1);
    expect(failed).toBe(1);
  });

  it('#10.14 ptrack reconcile --every 0 and project --persist-every-ms 3000000000 are usage errors (exit 2)', async () => {
    const every = await runMain(['--store', 'memory:', 'reconcile', '--adapter', './nowhere.mjs', '--every', '0']);
    expect(every.code).toBe(2);
    expect(every.stderr).toBe('ptrack: --every: must be at least 1 second, got "0"\n');
    const persist = await runMain(['--store', 'memory:', 'project', '--follow', '--persist-every-ms', '3000000000']);
    expect(persist.code).toBe(2);
    expect(persist.stderr).toBe(`ptrack: --persist-every-ms: expected a whole number from 1 to ${MAX_TIMER_MS}, got "3000000000"\n`);
  });
});

describe('#10.15 huge durations are refused at the boundary, so an exit never breaks', () => {
  it('#10.15 circuitBreakerSeconds and cooldownSeconds above the bound are refused by the policy, the config and openTracker', async () => {
    for (const key of ['circuitBreakerSeconds', 'cooldownSeconds', 'exitedCleanupSeconds', 'skipCleanupSeconds', 'watchTimeoutSeconds']) {
      expect(BookPolicy.safeParse({ [key]: 9e12 }).success, key).toBe(false);
      expect(() => parseConfigText(JSON.stringify({ [key]: 9e12 }), 'c.json')).toThrow(
        new RegExp(`^c\\.json: ${key}: must be at most ${MAX_DURATION_SECONDS} seconds`),
      );
      await expect(openTracker({ store: 'memory:', [key]: 9e12 })).rejects.toThrow(ValidationError);
    }
    expect(() => parseConfigText('{ "reconcile": { "graceSeconds": 1e13 } }', 'c.json')).toThrow(
      /reconcile\.graceSeconds: must be at most/,
    );
    expect(() => parseConfigText('{ "recovery": { "maxStateAgeSeconds": 1e13 } }', 'c.json')).toThrow(
      /recovery\.maxStateAgeSeconds: must be at most/,
    );
  });

  it('#10.15 TripCircuitBreaker and StartCooldown with huge seconds are ValidationErrors', () => {
    expect(() => parseCommand({ type: 'TripCircuitBreaker', reason: 'r', seconds: 9e12 })).toThrow(/seconds: must be at most/);
    expect(() => parseCommand({ type: 'StartCooldown', symbol: 'AAPL', seconds: 9e12 })).toThrow(/seconds: must be at most/);
    expect(parseCommand({ type: 'StartCooldown', symbol: 'AAPL', seconds: MAX_DURATION_SECONDS })).toMatchObject({
      seconds: MAX_DURATION_SECONDS,
    });
  });

  it('#10.15 with the longest allowed breaker and cooldown, the exit that trips the breaker goes through', async () => {
    const tracker = await openTracker({
      store: new MemoryEventStore(),
      equity: 1000,
      dailyLossLimitPct: 5,
      circuitBreakerSeconds: MAX_DURATION_SECONDS,
      cooldownSeconds: MAX_DURATION_SECONDS,
      now: () => new Date('2026-11-21T12:00:00.000Z'),
    });
    await tracker.track('A1', { symbol: 'AAPL' });
    await tracker.enter('A1', { value: 500 });
    const exit = await tracker.exit('A1', { value: 400 });
    expect(exit.events.map((e) => e.type)).toContain('CircuitBreakerTripped');
    expect((await tracker.risk()).breaker).toMatchObject({ status: 'TRIPPED' });
    await tracker.close();
  });
});
