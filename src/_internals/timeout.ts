/*
 * The one timeout mechanism for calls that leave the process (adapters, their factories): the
 * work gets an AbortSignal that is aborted when the time is up, so a call that timed out is told
 * to stop instead of landing later.
 */

import { clampTimerMs, MAX_TIMER_MS } from './timers.js';

/** The longest delay `setTimeout` honours; a longer one fires at once. */
export { MAX_TIMER_MS };

/**
 * Runs `work(signal)` and settles with it, or rejects with `onTimeout()` after `ms` and aborts
 * `signal` with that same error as its reason. The work must honour the signal to really stop;
 * either way its late result is ignored. `ms` is clamped to what a timer can wait.
 *
 * @example
 * ```ts
 * const list = await withTimeout(5000, (signal) => fetch(url, { signal }), () => new ExternalError('list timed out', 'timeout'));
 * ```
 */
export function withTimeout<T>(ms: number, work: (signal: AbortSignal) => Promise<T> | T, onTimeout: () => Error): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = onTimeout();
      controller.abort(error);
      reject(error);
    }, clampTimerMs(ms));
  });
  return Promise.race([Promise.resolve().then(() => work(controller.signal)), timedOut]).finally(() => clearTimeout(timer));
}

/**
 * Settles with `work()`, or rejects with the signal's reason as soon as `signal` is aborted, for
 * client libraries that take no signal (ccxt): the call may still run to its end, but its late
 * answer (or failure) is ignored. Nothing starts when the signal is already aborted.
 *
 * @example
 * ```ts
 * const positions = await untilAborted(signal, () => exchange.fetchPositions());
 * ```
 */
export function untilAborted<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    Promise.resolve()
      .then(work)
      .then(resolve, reject)
      .finally(() => signal.removeEventListener('abort', onAbort));
  });
}
