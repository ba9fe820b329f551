import type { TrackerError } from '../errors/index.js';

/**
 * Where a projection runner is in its life: folding the log up to the head it saw at the
 * start (`catching-up`), following it (`live`), writing what is dirty before it ends
 * (`stopping`), ended by `stop()` (`stopped`), or stopped by what went wrong (`failed`, with
 * the error: the guard, a damaged or replaced log, a write that failed).
 *
 * @example
 * ```ts
 * const l: RunnerLifecycle = nextLifecycle({ state: 'catching-up' }, { type: 'caught-up' }); // { state: 'live' }
 * ```
 */
export type RunnerLifecycle =
  { state: 'catching-up' } | { state: 'live' } | { state: 'stopping' } | { state: 'stopped' } | { state: 'failed'; error: TrackerError };

/** The name of a {@link RunnerLifecycle} state, as `ProjectionsStatus.state` shows it. */
export type RunnerState = RunnerLifecycle['state'];

/** What moves a runner on. */
export type LifecycleEvent = { type: 'caught-up' } | { type: 'stop' } | { type: 'stopped' } | { type: 'fail'; error: TrackerError };

/** Folding or following the log: events are applied, writes and cycles run. */
export function isRunning(l: RunnerLifecycle): boolean {
  return l.state === 'catching-up' || l.state === 'live';
}

/** Ended, by `stop()` or by a failure: nothing more happens. */
export function isOver(l: RunnerLifecycle): boolean {
  return l.state === 'stopped' || l.state === 'failed';
}

/**
 * The next lifecycle, pure; the same object when the event does not apply where the runner
 * is (a failure after the end, `caught-up` after `stop()`), so the caller can tell.
 *
 * - `caught-up`: catching-up -> live;
 * - `stop`: catching-up | live -> stopping;
 * - `stopped`: stopping -> stopped;
 * - `fail`: anything not over -> failed(error); the first failure is the one kept.
 *
 * @example
 * ```ts
 * nextLifecycle({ state: 'stopped' }, { type: 'fail', error }); // the same { state: 'stopped' }
 * ```
 */
export function nextLifecycle(now: RunnerLifecycle, event: LifecycleEvent): RunnerLifecycle {
  switch (event.type) {
    case 'caught-up':
      return now.state === 'catching-up' ? { state: 'live' } : now;
    case 'stop':
      return isRunning(now) ? { state: 'stopping' } : now;
    case 'stopped':
      return now.state === 'stopping' ? { state: 'stopped' } : now;
    case 'fail':
      return isOver(now) ? now : { state: 'failed', error: event.error };
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}
