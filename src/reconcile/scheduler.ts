import { BehaviorSubject, defer, from, Observable, repeat, type Subscription } from 'rxjs';
import { z } from 'zod';
import { MAX_DURATION_SECONDS } from '../events/index.js';
import { backoffDelay } from '../_internals/backoff.js';
import { setTimer } from '../_internals/timers.js';
import { parseOrThrow } from '../_internals/zodIssues.js';
import type { Alert } from './plan.js';
import type { ReconcileReport } from './reconcile.js';
import { definedFields } from '../_internals/definedFields.js';

export interface SchedulerStatus {
  runs: number;
  /** Outside failures in a row (a run whose read failed, or that threw). */
  consecutiveFailures: number;
  running: boolean;
  lastReport?: ReconcileReport;
  lastError?: string;
  /** Delay before the next run (ms). */
  nextDelayMs: number;
}

export interface SchedulerOptions {
  /** One reconciliation run. */
  run: () => Promise<ReconcileReport>;
  /** Interval between runs (ms). */
  everyMs: number;
  /** Alert after this many outside failures in a row. Default 3. */
  alertAfterFailures?: number;
  /** Longest back-off (ms). Default 10 x everyMs. */
  maxBackoffMs?: number;
  /**
   * Randomness in [0, 1) for the back-off's jitter (tests pin it; `() => 1` gives the ceiling).
   * Default Math.random.
   */
  random?: () => number;
  onAlert?: (alert: Alert) => void | Promise<void>;
  /** Stop after this many runs (the CLI's --times; tests). */
  maxRuns?: number;
}

export interface ReconcileScheduler {
  readonly status$: Observable<SchedulerStatus>;
  /** Resolves when the scheduler stops (maxRuns reached or stop()). */
  readonly done: Promise<void>;
  stop(): void;
}

const MAX_DELAY_MS = MAX_DURATION_SECONDS * 1000;
const DelayMs = z.number().finite().min(1, 'must be at least 1 ms').max(MAX_DELAY_MS, `must be at most ${MAX_DELAY_MS} ms (100 years)`);
/** The scheduler's numbers, parsed at the boundary: `everyMs: 0` would run continuously. */
const SchedulerTiming = z.strictObject({
  everyMs: DelayMs,
  alertAfterFailures: z.number().int().positive().optional(),
  maxBackoffMs: DelayMs.optional(),
  maxRuns: z.number().int().positive().optional(),
});

/** `ptrack reconcile --every`: at least a second (`--every 0` ran continuously, appending a report each time). */
export const ReconcileEverySeconds = z
  .number()
  .finite()
  .min(1, 'must be at least 1 second')
  .max(MAX_DURATION_SECONDS, `must be at most ${MAX_DURATION_SECONDS} seconds (100 years)`);

/** Emits once after `ms`, through the one timer helper (clamped and chained past 24.8 days). */
function wait(ms: number): Observable<0> {
  return new Observable<0>((subscriber) => {
    const t = setTimer(() => {
      subscriber.next(0);
      subscriber.complete();
    }, ms);
    return () => t.cancel();
  });
}

/**
 * Reconciles every `everyMs`: never two runs at once (the next is scheduled only after the
 * last finished), backs off exponentially (with jitter) while the outside system fails, and alerts after
 * `alertAfterFailures` failures in a row (once per streak).
 *
 * @example
 * ```ts
 * const s = scheduleReconciliation({ everyMs: 300_000, run: () => reconcile({ handler, external }) });
 * s.status$.subscribe((st) => console.log(st.runs, st.consecutiveFailures));
 * ```
 */
export function scheduleReconciliation(input: SchedulerOptions): ReconcileScheduler {
  const { run, onAlert, random = Math.random, ...timing } = input;
  const parsed = parseOrThrow(SchedulerTiming, timing, 'scheduleReconciliation');
  const options = { ...parsed, run, ...(onAlert ? { onAlert } : {}) };
  const alertAfter = options.alertAfterFailures ?? 3;
  const maxBackoff = Math.min(options.maxBackoffMs ?? options.everyMs * 10, MAX_DELAY_MS);
  const status = new BehaviorSubject<SchedulerStatus>({ runs: 0, consecutiveFailures: 0, running: false, nextDelayMs: 0 });
  const update = (patch: Partial<SchedulerStatus>): void => status.next({ ...status.value, ...patch });

  const once = defer(() => {
    update({ running: true });
    // Through a promise, so a run that throws before returning one is a failed run, not a dead scheduler.
    return from(
      Promise.resolve()
        .then(() => options.run())
        .then(
          (report) => ({ report, failed: report.errors.some((e) => e.stage === 'listPositions'), error: report.errors[0]?.message }),
          (error: unknown) => ({ report: undefined, failed: true, error: error instanceof Error ? error.message : String(error) }),
        ),
    );
  });

  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const subscription: Subscription = once
    .pipe(
      repeat({
        ...definedFields({ count: options.maxRuns }),
        delay: () => wait(status.value.nextDelayMs),
      }),
    )
    .subscribe({
      next: ({ report, failed, error }) => {
        const failures = failed ? status.value.consecutiveFailures + 1 : 0;
        // After n failures in a row: about everyMs x 2^n, capped, half of it jittered so schedulers
        // that failed together (one venue down for all) do not all come back at once.
        const nextDelayMs = failed
          ? Math.round(backoffDelay(failures - 1, { baseMs: options.everyMs * 2, maxMs: maxBackoff, jitter: 'equal', random }))
          : options.everyMs;
        update({
          runs: status.value.runs + 1,
          consecutiveFailures: failures,
          running: false,
          nextDelayMs,
          ...(report ? { lastReport: report } : {}),
          ...(failed && error ? { lastError: error } : {}),
        });
        if (failed && failures === alertAfter) {
          void Promise.resolve(
            options.onAlert?.({
              severity: 'critical',
              kind: 'external',
              message: `reconciliation failed ${failures} times in a row: ${error ?? 'unknown error'}; backing off to ${Math.round(nextDelayMs / 1000)} s`,
            }),
          ).catch(() => undefined);
        }
      },
      complete: () => {
        status.complete();
        resolveDone();
      },
    });

  return {
    status$: status.asObservable(),
    done,
    stop: () => {
      subscription.unsubscribe();
      if (!status.closed) status.complete();
      resolveDone();
    },
  };
}
