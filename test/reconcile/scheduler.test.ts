import { describe, expect, it } from 'vitest';
import {
  scheduleReconciliation,
  type Alert,
  type ReconcileReport,
  type ReconcileScheduler,
  type SchedulerStatus,
} from '../../src/reconcile/index.js';
import { sleep } from '../helpers/reconcileWorld.js';

/*
 * The scheduler with small real intervals. Every test waits for `done` with a bound, and
 * stops the scheduler whatever happens.
 */

function report(failed = false): ReconcileReport {
  const at = new Date(0).toISOString();
  return {
    runId: 'r',
    book: 'main',
    orders: { orders: [], errors: [], inFlight: [] },
    heldByOrders: [],
    externalOrders: [],
    startedAt: at,
    completedAt: at,
    dryRun: false,
    orphans: [],
    phantoms: [],
    drift: [],
    dust: [],
    corrected: 0,
    alerts: [],
    errors: failed ? [{ stage: 'listPositions', failure: 'unreachable', message: 'connection refused' }] : [],
    skipped: [],
    actions: [],
  };
}

/** Waits for the scheduler to stop, at most `ms`; stops it either way. */
async function finish(s: ReconcileScheduler, ms = 5_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      s.done,
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`the scheduler did not stop within ${ms} ms`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
    s.stop();
  }
}

/** Every status after a run finished. */
function finishedRuns(s: ReconcileScheduler): SchedulerStatus[] {
  const seen: SchedulerStatus[] = [];
  let last = 0;
  s.status$.subscribe((st) => {
    if (st.runs > last) {
      last = st.runs;
      seen.push(st);
    }
  });
  return seen;
}

describe('scheduleReconciliation', () => {
  it('never runs two at once, even when a run takes longer than the interval', async () => {
    let active = 0;
    let maxActive = 0;
    let started = 0;
    const s = scheduleReconciliation({
      everyMs: 5,
      maxRuns: 5,
      run: async () => {
        started += 1;
        active += 1;
        maxActive = Math.max(maxActive, active);
        await sleep(30);
        active -= 1;
        return report();
      },
    });
    const running: boolean[] = [];
    s.status$.subscribe((st) => running.push(st.running));
    await finish(s);
    expect(started).toBe(5);
    expect(maxActive).toBe(1);
    expect(running.filter((r) => r)).toHaveLength(5);
  });

  it('waits everyMs between runs that worked', async () => {
    const starts: number[] = [];
    const s = scheduleReconciliation({
      everyMs: 40,
      maxRuns: 3,
      run: async () => {
        starts.push(performance.now());
        return report();
      },
    });
    const seen = finishedRuns(s);
    await finish(s);
    expect(seen.map((st) => [st.runs, st.consecutiveFailures, st.nextDelayMs])).toEqual([
      [1, 0, 40],
      [2, 0, 40],
      [3, 0, 40],
    ]);
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(35);
    expect(starts[2]! - starts[1]!).toBeGreaterThanOrEqual(35);
  });

  it('backs off while the outside system fails, up to maxBackoffMs, and recovers after a run that works', async () => {
    const outcomes = [true, true, true, true, false, true];
    const starts: number[] = [];
    const s = scheduleReconciliation({
      everyMs: 5,
      maxBackoffMs: 40,
      // The jitter at its top: each wait is the back-off's ceiling.
      random: () => 1,
      maxRuns: outcomes.length,
      alertAfterFailures: 99,
      run: async () => {
        starts.push(performance.now());
        return report(outcomes[starts.length - 1]);
      },
    });
    const seen = finishedRuns(s);
    await finish(s);
    expect(seen.map((st) => [st.consecutiveFailures, st.nextDelayMs])).toEqual([
      [1, 10],
      [2, 20],
      [3, 40],
      [4, 40],
      [0, 5],
      [1, 10],
    ]);
    expect(seen[0]!.lastError).toBe('connection refused');
    // The waits were real: the third gap (after 3 failures) is the 40 ms cap.
    expect(starts[3]! - starts[2]!).toBeGreaterThanOrEqual(35);
  });

  it('a run that throws counts as a failure and does not stop the scheduler', async () => {
    let n = 0;
    const s = scheduleReconciliation({
      everyMs: 5,
      maxRuns: 3,
      run: async () => {
        n += 1;
        if (n === 1) throw new Error('store is closed');
        return report();
      },
    });
    const seen = finishedRuns(s);
    await finish(s);
    expect(seen.map((st) => [st.runs, st.consecutiveFailures, st.lastError])).toEqual([
      [1, 1, 'store is closed'],
      [2, 0, 'store is closed'],
      [3, 0, 'store is closed'],
    ]);
    expect(seen[0]!.lastReport).toBeUndefined();
    expect(seen[1]!.lastReport).toBeDefined();
  });

  it('a run that throws before returning a promise is a failure too, not a dead scheduler', async () => {
    let n = 0;
    const s = scheduleReconciliation({
      everyMs: 2,
      maxRuns: 3,
      run: () => {
        n += 1;
        if (n < 3) throw new Error('adapter not configured');
        return Promise.resolve(report());
      },
    });
    const seen = finishedRuns(s);
    await finish(s, 1_000);
    expect(seen.map((st) => [st.runs, st.consecutiveFailures, st.running])).toEqual([
      [1, 1, false],
      [2, 2, false],
      [3, 0, false],
    ]);
    expect(seen[0]!.lastError).toBe('adapter not configured');
  });

  it('alerts once after K failures in a row, and once more for a new streak', async () => {
    const outcomes = [true, true, true, true, true, false, true, true, true];
    let n = 0;
    const alerts: Alert[] = [];
    const s = scheduleReconciliation({
      everyMs: 2,
      maxBackoffMs: 4,
      alertAfterFailures: 3,
      maxRuns: outcomes.length,
      onAlert: (a) => void alerts.push(a),
      run: async () => report(outcomes[n++]),
    });
    await finish(s);
    expect(n).toBe(outcomes.length);
    expect(alerts).toHaveLength(2);
    expect(alerts[0]).toEqual({
      severity: 'critical',
      kind: 'external',
      message: 'reconciliation failed 3 times in a row: connection refused; backing off to 0 s',
    });
  });

  it('an alert callback that throws does not stop the scheduler', async () => {
    let n = 0;
    const s = scheduleReconciliation({
      everyMs: 2,
      alertAfterFailures: 1,
      maxRuns: 3,
      onAlert: async () => {
        throw new Error('pager down');
      },
      run: async () => {
        n += 1;
        return report(true);
      },
    });
    await finish(s);
    expect(n).toBe(3);
  });

  it('maxRuns stops it: done resolves and the status completes', async () => {
    let n = 0;
    const s = scheduleReconciliation({ everyMs: 1, maxRuns: 4, run: async () => (n++, report()) });
    let completed = false;
    s.status$.subscribe({ complete: () => (completed = true) });
    await finish(s);
    expect(n).toBe(4);
    expect(completed).toBe(true);
    await sleep(20);
    expect(n).toBe(4);
  });

  it('stop() ends it between runs', async () => {
    let n = 0;
    const s = scheduleReconciliation({ everyMs: 10, run: async () => (n++, report()) });
    await sleep(35);
    s.stop();
    await finish(s, 100);
    const stoppedAt = n;
    expect(stoppedAt).toBeGreaterThanOrEqual(1);
    await sleep(40);
    expect(n).toBe(stoppedAt);
  });
});
