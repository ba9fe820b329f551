import { BehaviorSubject, defer, from, repeat, timer, type Observable, type Subscription } from 'rxjs';
import type { Alert } from './plan.js';
import type { ReconcileReport } from './reconcile.js';

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

/**
 * Reconciles every `everyMs`: never two runs at once (the next is scheduled only after the
 * last finished), backs off exponentially while the outside system fails, and alerts after
 * `alertAfterFailures` failures in a row (once per streak).
 *
 * @example
 * ```ts
 * const s = scheduleReconciliation({ everyMs: 300_000, run: () => reconcile({ handler, external }) });
 * s.status$.subscribe((st) => console.log(st.runs, st.consecutiveFailures));
 * ```
 */
export function scheduleReconciliation(options: SchedulerOptions): ReconcileScheduler {
  const alertAfter = options.alertAfterFailures ?? 3;
  const maxBackoff = options.maxBackoffMs ?? options.everyMs * 10;
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
        ...(options.maxRuns === undefined ? {} : { count: options.maxRuns }),
        delay: () => timer(status.value.nextDelayMs),
      }),
    )
    .subscribe({
      next: ({ report, failed, error }) => {
        const failures = failed ? status.value.consecutiveFailures + 1 : 0;
        const nextDelayMs = failed ? Math.min(maxBackoff, options.everyMs * 2 ** failures) : options.everyMs;
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
