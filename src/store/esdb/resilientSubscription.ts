import { Observable } from 'rxjs';
import { backoffDelay as jitteredDelay } from '../../_internals/backoff.js';
import { clampTimerMs } from '../../_internals/timers.js';

/** One attempt at a subscription: its items in order, and a way to stop it. */
export interface SubscriptionSource<T> {
  /** The items, in order. Ending counts as a drop: a live subscription does not end by itself. */
  items: AsyncIterable<T>;
  /** Cancels the attempt (the server call). */
  close(): Promise<void> | void;
}

export interface BackoffOptions {
  /** First delay (ms). Default 100. */
  initialMs?: number;
  /** Longest delay (ms). Default 5000. */
  maxMs?: number;
  /** Growth per failed attempt. Default 2. */
  factor?: number;
}

export interface RetryInfo<P> {
  /** Consecutive failed attempts so far (1 for the first retry). */
  attempt: number;
  delayMs: number;
  /** What ended the attempt; `undefined` when the source simply ended. */
  error: unknown;
  /** Where the next attempt resumes (exclusive); undefined = the start. */
  from: P | undefined;
}

export interface ResilientSubscriptionOptions<T, P> {
  /** Deliver items after this position (exclusive); undefined = from the start. */
  from: P | undefined;
  /** Starts one attempt from a position (exclusive, undefined = the start). */
  open(from: P | undefined): SubscriptionSource<T>;
  positionOf(item: T): P;
  compare(a: P, b: P): number;
  /** Whether an error is worth another attempt (a dropped connection) or final (bad data, no rights). */
  isRetryable(error: unknown): boolean;
  /** Turns a final error into what subscribers see. */
  mapError?(error: unknown): unknown;
  backoff?: BackoffOptions;
  /** Consecutive failed attempts before giving up with the last error. Default: never give up. */
  maxAttempts?: number;
  /** An attempt that stayed up this long (ms) resets the back-off, even without items. Default 10000. */
  healthyAfterMs?: number;
  onRetry?(info: RetryInfo<P>): void;
  /** Completes the subscription (the store was closed). */
  until$?: Observable<unknown>;
  /** Injected for tests: waits `ms` unless the signal aborts first. */
  sleep?(ms: number, signal: AbortSignal): Promise<void>;
  /** Injected for tests: jitter source in [0, 1). */
  random?(): number;
  /** Injected for tests: the clock (ms). */
  now?(): number;
}

function defaultSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, clampTimerMs(ms));
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}

/** The delay before attempt `attempt` (1-based): exponential, capped, with "equal jitter" (half fixed, half random). */
export function backoffDelay(attempt: number, backoff: BackoffOptions = {}, random: () => number = Math.random): number {
  const baseMs = backoff.initialMs ?? 100;
  const maxMs = backoff.maxMs ?? 5000;
  const factor = backoff.factor ?? 2;
  return Math.round(jitteredDelay(attempt - 1, { baseMs, maxMs, factor, jitter: 'equal', random }));
}

/**
 * A subscription that survives drops. The client does not resubscribe by itself: when an attempt
 * fails with a retryable error, or simply ends, a new one is opened from the position of the last
 * item delivered, after a back-off. Items at or before that position (a server that replays the
 * boundary, an overlap after a reconnect) are dropped, so each item is delivered once, in order,
 * and none is skipped as long as every attempt yields the source's items in order from where it
 * was opened. A final error (not retryable, or `maxAttempts` in a row) ends the subscription.
 * Unsubscribing or `until$` closes the current attempt and stops any wait.
 *
 * This holds the whole resubscribe logic, over an injected source, so it is tested with scripted
 * sources that fail mid-stream; the EventStoreDB engine plugs `subscribeToAll` into it.
 *
 * @example
 * ```ts
 * resilientSubscription({
 *   from: checkpoint,
 *   open: (from) => { const s = client.subscribeToAll({ fromPosition: from ?? START }); return { items: s, close: () => s.unsubscribe() } },
 *   positionOf: (e) => e.event!.position, compare: comparePositions, isRetryable: isUnavailable,
 * }).subscribe((e) => console.log(e));
 * ```
 */
export function resilientSubscription<T, P>(options: ResilientSubscriptionOptions<T, P>): Observable<T> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const maxAttempts = options.maxAttempts ?? Number.POSITIVE_INFINITY;
  const healthyAfterMs = options.healthyAfterMs ?? 10_000;
  const mapError = options.mapError ?? ((e: unknown) => e);

  return new Observable<T>((subscriber) => {
    let last = options.from;
    let stopped = false;
    // Asked through a call: stop() sets `stopped` while the loop awaits, which narrowing cannot see.
    const isStopped = (): boolean => stopped;
    const abort = new AbortController();
    let source: SubscriptionSource<T> | undefined;
    let iterator: AsyncIterator<T> | undefined;

    const closeAttempt = async (): Promise<void> => {
      const s = source;
      const it = iterator;
      source = undefined;
      iterator = undefined;
      // Both: close() cancels the server call; return() releases the iterator (a pending next() settles).
      await Promise.allSettled([Promise.resolve().then(() => s?.close()), Promise.resolve().then(() => it?.return?.())]);
    };

    const stop = (): void => {
      if (stopped) return;
      stopped = true;
      abort.abort();
      void closeAttempt();
    };

    const run = async (): Promise<void> => {
      let attempt = 0;
      while (!isStopped()) {
        const openedAt = now();
        let failure: unknown;
        try {
          source = options.open(last);
          iterator = source.items[Symbol.asyncIterator]();
          for (;;) {
            const step = await iterator.next();
            if (isStopped()) return;
            if (step.done) break;
            const position = options.positionOf(step.value);
            if (last !== undefined && options.compare(position, last) <= 0) continue;
            last = position;
            attempt = 0;
            subscriber.next(step.value);
            if (isStopped()) return;
          }
        } catch (error) {
          if (isStopped()) return;
          failure = error;
        }
        await closeAttempt();
        if (isStopped()) return;
        if (failure !== undefined && !options.isRetryable(failure)) {
          stopped = true;
          subscriber.error(mapError(failure));
          return;
        }
        if (now() - openedAt >= healthyAfterMs) attempt = 0;
        attempt += 1;
        if (attempt > maxAttempts) {
          stopped = true;
          subscriber.error(mapError(failure ?? new Error(`the subscription ended ${maxAttempts} times in a row`)));
          return;
        }
        const delayMs = backoffDelay(attempt, options.backoff, random);
        options.onRetry?.({ attempt, delayMs, error: failure, from: last });
        await sleep(delayMs, abort.signal);
      }
    };

    const until = options.until$?.subscribe(() => {
      if (isStopped()) return;
      stop();
      subscriber.complete();
    });
    run().catch((error: unknown) => {
      if (isStopped()) return;
      stopped = true;
      subscriber.error(mapError(error));
    });
    return () => {
      until?.unsubscribe();
      stop();
    };
  });
}
