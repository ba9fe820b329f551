import { describe, expect, it } from 'vitest';
import { ExternalError } from '../../src/errors/index.js';
import {
  guardExternal,
  scheduleReconciliation,
  type ExternalSystem,
  type ReconcileReport,
  type SchedulerStatus,
} from '../../src/reconcile/index.js';

/*
 * Issue 16 item 7: the scheduler's back-off (which had no jitter) and the outside-system
 * calls' back-off come from the one jittered helper, with their randomness injectable.
 */

function report(failed: boolean): ReconcileReport {
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

/** Runs the scheduler over `outcomes` (true = the outside system failed) and returns the status after each run. */
async function delaysOver(outcomes: boolean[], random?: () => number): Promise<SchedulerStatus[]> {
  const seen: SchedulerStatus[] = [];
  let n = 0;
  const s = scheduleReconciliation({
    everyMs: 2,
    maxBackoffMs: 16,
    alertAfterFailures: 99,
    maxRuns: outcomes.length,
    ...(random ? { random } : {}),
    run: async () => report(outcomes[n++]!),
  });
  s.status$.subscribe((st) => {
    if (st.runs > seen.length) seen.push(st);
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      s.done,
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('the scheduler did not stop within 5 s')), 5_000))),
    ]);
  } finally {
    clearTimeout(timer);
    s.stop();
  }
  return seen;
}

describe('#16.7 jittered back-off', () => {
  it('#16.7 the scheduler backs off with equal jitter: at the bottom of the jitter, half of each ceiling', async () => {
    const seen = await delaysOver([true, true, true, true, false], () => 0);
    // Ceilings 4, 8, 16, 16 (capped), then back to everyMs after a run that worked.
    expect(seen.map((st) => [st.consecutiveFailures, st.nextDelayMs])).toEqual([
      [1, 2],
      [2, 4],
      [3, 8],
      [4, 8],
      [0, 2],
    ]);
  });

  it('#16.7 the scheduler jitters by default, within half to all of each ceiling', async () => {
    const seen = await delaysOver([true, true, true, true]);
    const ceilings = [4, 8, 16, 16];
    seen.forEach((st, i) => {
      expect(st.nextDelayMs).toBeGreaterThanOrEqual(ceilings[i]! / 2);
      expect(st.nextDelayMs).toBeLessThanOrEqual(ceilings[i]!);
    });
  });

  it('#16.7 outside calls wait with equal jitter between retries (pinned: half the ceiling; default: within it)', async () => {
    const failing: ExternalSystem = {
      listPositions: async () => {
        throw new ExternalError('429', 'rate_limited');
      },
      closePosition: async () => undefined,
    };
    const waits: number[] = [];
    const pinned = guardExternal(failing, { retries: 3, backoffMs: 100, random: () => 0, sleep: async (ms) => void waits.push(ms) });
    await expect(pinned.listPositions()).rejects.toBeInstanceOf(ExternalError);
    expect(waits).toEqual([50, 100, 200]);

    waits.length = 0;
    const jittered = guardExternal(failing, { retries: 3, backoffMs: 100, sleep: async (ms) => void waits.push(ms) });
    await expect(jittered.listPositions()).rejects.toBeInstanceOf(ExternalError);
    [100, 200, 400].forEach((ceiling, i) => {
      expect(waits[i]).toBeGreaterThanOrEqual(ceiling / 2);
      expect(waits[i]).toBeLessThanOrEqual(ceiling);
    });
  });
});
