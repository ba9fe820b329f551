import { ConcurrencyError } from '../errors/index.js';
import { backoffDelay } from '../_internals/backoff.js';

/*
 * The handler's one retry loop: optimistic concurrency means "another writer got in first,
 * load and decide again", with a bounded number of attempts and jittered back-off between them.
 */

export interface RetryOnConflictOptions {
  /** Attempts after the first one before the ConcurrencyError is thrown. */
  maxRetries: number;
  /** Ceiling of the first wait (ms), doubling per conflict up to 256 x. */
  backoffMs: number;
  /** Jitter source in [0, 1). */
  random: () => number;
  /** Told of each conflict before the wait (attempt is 0-based). */
  onConflict?: (error: ConcurrencyError, attempt: number) => void;
}

/**
 * Runs `attempt` until it does not throw a ConcurrencyError, waiting a jittered, exponentially
 * growing time between runs; after `maxRetries` conflicts the last one is thrown. Any other
 * error is thrown at once. Each run must start from a fresh read (it is a whole new attempt).
 *
 * @example
 * ```ts
 * const result = await retryOnConflict(() => loadDecideAppend(), { maxRetries: 10, backoffMs: 2, random: Math.random });
 * ```
 */
export async function retryOnConflict<T>(attempt: (n: number) => Promise<T>, options: RetryOnConflictOptions): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (!(error instanceof ConcurrencyError) || n >= options.maxRetries) throw error;
      options.onConflict?.(error, n);
      // Full jitter: competing writers spread out most, and a conflict costs only the wait.
      const ms = backoffDelay(n, { baseMs: options.backoffMs, maxMs: options.backoffMs * 2 ** 8, jitter: 'full', random: options.random });
      await new Promise((r) => setTimeout(r, ms));
    }
  }
}
