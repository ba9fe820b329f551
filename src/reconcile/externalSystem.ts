import { z } from 'zod';
import { ExternalError, type ExternalFailure } from '../errors/index.js';
import { backoffDelay } from '../_internals/backoff.js';
import { withTimeout } from '../_internals/timeout.js';
import { MAX_TIMER_MS, sleep as sleep_ } from '../_internals/timers.js';
import { parseOrThrow } from '../_internals/zodIssues.js';
import { NonNegative, PositionId, Quantity, Side, SymbolCode } from '../events/index.js';

/** A position as the outside system reports it. Extra fields are ignored; missing or bad ones are an error. */
export const ExternalPosition = z.object({
  id: PositionId,
  value: NonNegative,
  symbol: SymbolCode.optional(),
  side: Side.optional(),
  quantity: Quantity.optional(),
  price: NonNegative.optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});
export type ExternalPosition = z.infer<typeof ExternalPosition>;

const PositionList = z.array(ExternalPosition).superRefine((list, ctx) => {
  const seen = new Set<string>();
  list.forEach((p, i) => {
    if (seen.has(p.id)) ctx.addIssue({ code: 'custom', message: `duplicate position id "${p.id}"`, path: [i, 'id'] });
    seen.add(p.id);
  });
});

/** What every call to an adapter receives: `signal` is aborted when the call times out. */
export interface ExternalCallOptions {
  signal: AbortSignal;
}

/**
 * The port to the outside system (exchange, broker, cloud, any API). Responses are parsed
 * with zod at the boundary: a malformed answer is an ExternalError and the run changes nothing.
 * Throw `ExternalError` with a failure kind to say what went wrong; anything else thrown is
 * treated as "unreachable". Every method receives `{ signal }` as its last argument; the signal
 * is aborted when the call times out: pass it on (to `fetch`, to the client library) so a call
 * that timed out, a close above all, does not land later.
 *
 * @example
 * ```ts
 * const broker: ExternalSystem = {
 *   async listPositions({ signal }) { return (await fetch(url, { signal }).then((r) => r.json())).positions; },
 *   async closePosition(id, { signal }) { await fetch(`${url}/${id}`, { method: 'DELETE', signal }); },
 * };
 * ```
 */
export interface ExternalSystem {
  listPositions(options: ExternalCallOptions): Promise<unknown>;
  closePosition(id: string, options: ExternalCallOptions): Promise<unknown>;
  /** Optional direct look at one position: the position, or null when it is not open. */
  getPosition?(id: string, options: ExternalCallOptions): Promise<unknown>;
}

export interface GuardOptions {
  /** Per call (ms). Default 5000. When it runs out the call's `signal` is aborted. */
  timeoutMs?: number;
  /**
   * Retries after a retryable failure (unreachable, rate limited, timeout). Default 2.
   * A close is retried only when rate limited: after a timeout or a lost connection it may
   * have gone through, and the next run's second look decides instead of a blind repeat.
   */
  retries?: number;
  /**
   * Ceiling of the first back-off (ms), doubled per retry. Default 200. Each wait is jittered:
   * half the ceiling fixed, half random, so a rate-limited venue gets rest and callers spread out.
   */
  backoffMs?: number;
  /** How to wait (simulations pass one that does not sleep). */
  sleep?: (ms: number) => Promise<void>;
  /** Randomness in [0, 1) for the jitter (tests pin it). Default Math.random. */
  random?: () => number;
}

/** The outside system behind timeouts, bounded retries and parsing. */
export interface GuardedExternal {
  readonly canVerify: boolean;
  listPositions(): Promise<ExternalPosition[]>;
  closePosition(id: string): Promise<void>;
  /** The position, or null when it is not open outside. Throws when the adapter has no getPosition. */
  getPosition(id: string): Promise<ExternalPosition | null>;
  /** Calls made and retried, for reports. */
  readonly stats: { calls: number; retries: number };
}

const RETRYABLE: readonly ExternalFailure[] = ['unreachable', 'rate_limited', 'timeout'];
/** Failures after which a write certainly did not happen. */
const RETRYABLE_WRITE: readonly ExternalFailure[] = ['rate_limited'];

function classify(operation: string, error: unknown): ExternalError {
  if (error instanceof ExternalError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ExternalError(`${operation} failed: ${message}`, 'unreachable', { cause: error });
}

/**
 * Wraps an adapter: every call has a timeout and bounded retries with jittered exponential back-off;
 * failures are typed (unreachable, rate_limited, rejected, malformed, timeout).
 */
export function guardExternal(system: ExternalSystem, options: GuardOptions = {}): GuardedExternal {
  const timeoutMs = options.timeoutMs ?? 5000;
  const retries = options.retries ?? 2;
  const backoffMs = options.backoffMs ?? 200;
  const sleep = options.sleep ?? sleep_;
  const random = options.random ?? Math.random;
  const stats = { calls: 0, retries: 0 };

  async function call<T>(
    operation: string,
    run: (options: ExternalCallOptions) => Promise<unknown>,
    parse: (raw: unknown) => T,
    retryable = RETRYABLE,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      stats.calls += 1;
      let raw: unknown;
      try {
        raw = await withTimeout(
          timeoutMs,
          (signal) => run({ signal }),
          () => new ExternalError(`${operation} timed out after ${timeoutMs} ms`, 'timeout'),
        );
      } catch (error) {
        const typed = classify(operation, error);
        if (!retryable.includes(typed.failure) || attempt >= retries) throw typed;
        stats.retries += 1;
        await sleep(backoffDelay(attempt, { baseMs: backoffMs, maxMs: MAX_TIMER_MS, jitter: 'equal', random }));
        continue;
      }
      return parse(raw);
    }
  }

  // An answer that does not parse is the outside system's fault: an ExternalError, not bad input.
  const malformed = (message: string): ExternalError => new ExternalError(message, 'malformed');

  return {
    canVerify: typeof system.getPosition === 'function',
    stats,
    listPositions: () =>
      call(
        'listPositions',
        (o) => system.listPositions(o),
        (raw) => {
          return parseOrThrow(PositionList, raw, 'listPositions returned a malformed answer', { error: malformed });
        },
      ),
    closePosition: (id) =>
      call(
        `closePosition(${id})`,
        (o) => system.closePosition(id, o),
        () => undefined,
        RETRYABLE_WRITE,
      ),
    getPosition: (id) => {
      if (!system.getPosition) return Promise.reject(new ExternalError('the adapter has no getPosition', 'rejected'));
      const get = system.getPosition.bind(system);
      return call(
        `getPosition(${id})`,
        (o) => get(id, o),
        (raw) => {
          if (raw === null || raw === undefined) return null;
          const position = parseOrThrow(ExternalPosition, raw, `getPosition(${id}) returned a malformed answer`, { error: malformed });
          // An answer about another position says nothing about this one.
          if (position.id !== id) {
            throw new ExternalError(
              `getPosition(${id}) returned a malformed answer: id: expected "${id}", got "${position.id}"`,
              'malformed',
            );
          }
          return position;
        },
      );
    },
  };
}
