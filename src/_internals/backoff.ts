/*
 * The one jittered exponential back-off. Every retry loop in src (the command handler's
 * conflicts, the EventStoreDB subscription's reconnects, outside-system calls, the reconcile
 * scheduler after failed runs) takes its waits from here, so they share one formula, one cap
 * and one way to pin the randomness in tests.
 */

/**
 * How much of the wait is random:
 * - `full`: anywhere from 0 to the ceiling. Spreads competing retries the most; right when
 *   waiting at all is the cost (optimistic-concurrency conflicts).
 * - `equal`: half the ceiling fixed, the other half random. Never retries at once; right when
 *   the other side is down or overloaded and must get some rest.
 */
export type Jitter = 'full' | 'equal';

export interface BackoffOptions {
  /** The ceiling of the first wait (ms). */
  baseMs: number;
  /** The ceiling never grows past this (ms). */
  maxMs: number;
  /** Growth of the ceiling per attempt. Default 2. */
  factor?: number;
  /** Default `full`. */
  jitter?: Jitter;
  /** Randomness in [0, 1). Default Math.random; tests pin it. */
  random?: () => number;
}

/**
 * The wait (ms, not rounded) before retry number `attempt` (0 = the first retry): the ceiling
 * `min(maxMs, baseMs x factor^attempt)`, jittered as `jitter` says. Always finite and within
 * `[0, maxMs]` for finite, non-negative options; a negative or fractional attempt counts as
 * the whole number below it, floored at 0.
 *
 * @example
 * ```ts
 * backoffDelay(3, { baseMs: 100, maxMs: 5_000, jitter: 'equal', random: () => 1 }); // 800
 * ```
 */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const { baseMs, maxMs, factor = 2, jitter = 'full', random = Math.random } = options;
  const n = Math.max(0, Math.floor(attempt));
  // min() first: factor^n overflows to Infinity for long outages, the cap still holds.
  const ceiling = baseMs <= 0 ? 0 : Math.min(maxMs, baseMs * factor ** n);
  const r = random();
  return jitter === 'full' ? ceiling * r : ceiling / 2 + (ceiling / 2) * r;
}
