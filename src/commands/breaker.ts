import type { CircuitBreaker } from './state.js';

/**
 * Whether the circuit breaker refuses entries at `now`: it is tripped and, when the trip has an
 * `until`, that time has not come yet (a timed trip expires by itself, without a reset event).
 * The decider, the tracker's risk summary (`ptrack status`) and the risk read model all ask
 * this one function, so what is shown as tripped is exactly what refuses an entry.
 *
 * @example
 * ```ts
 * breakerActive({ status: 'TRIPPED', trigger: 'manual', reason: 'x', since: t0, until: t1 }, now); // now < t1
 * ```
 */
export function breakerActive(breaker: CircuitBreaker, now: string | Date): boolean {
  if (breaker.status !== 'TRIPPED') return false;
  if (breaker.until === undefined) return true;
  const at = typeof now === 'string' ? Date.parse(now) : now.getTime();
  return at < Date.parse(breaker.until);
}
