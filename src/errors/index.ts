/**
 * Typed errors. Every error the product raises on purpose is a {@link TrackerError}
 * with a literal `code`; only the CLI maps codes to exit codes (src/cli/exitCodes.ts, README "Exit codes").
 * Messages say what was wanted, what was found and what to do.
 */

export type ErrorCode =
  | 'VALIDATION'
  | 'INVALID_TRANSITION'
  | 'RISK_LIMIT'
  | 'CONCURRENCY'
  | 'NOT_FOUND'
  | 'CORRUPTION'
  | 'EVENT_SCHEMA'
  | 'STORE'
  | 'STORE_UNAVAILABLE'
  | 'STORE_UNEXPECTED'
  | 'MIGRATION_CONFLICT'
  | 'EXTERNAL'
  | 'RECOVERY_PENDING'
  | 'ORDER_STATE';

/**
 * Base class of every deliberate error.
 *
 * @example
 * ```ts
 * try { await tracker.exit('AAPL-1', { value: 10 }) }
 * catch (e) { if (e instanceof TrackerError) console.error(e.code, e.message) }
 * ```
 */
export abstract class TrackerError extends Error {
  abstract readonly code: ErrorCode;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input from outside (CLI, config, API arguments) failed validation. */
export class ValidationError extends TrackerError {
  readonly code = 'VALIDATION' as const;
  constructor(
    message: string,
    readonly issues: readonly { path: string; message: string; value?: unknown }[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A command asked for a transition the position's state does not allow. */
export class InvalidTransitionError extends TrackerError {
  readonly code = 'INVALID_TRANSITION' as const;
  constructor(
    message: string,
    readonly positionId: string,
    readonly state: string,
    readonly expected: readonly string[],
  ) {
    super(message);
  }
}

/** A risk rule refused a command; names the rule, the limit and the current value. */
/** The risk rules a refusal can name (RiskLimitError.rule): a closed set, so a caller can switch on it. */
export type RiskRule =
  | 'circuitBreaker'
  | 'cooldown'
  | 'minPositionValue'
  | 'maxPositions'
  | 'duplicateSymbol'
  | 'maxConsecutiveLossesPerSymbol'
  | 'equity'
  | 'maxGroupRiskPct'
  | 'symbolDisabled';

export class RiskLimitError extends TrackerError {
  readonly code = 'RISK_LIMIT' as const;
  constructor(
    message: string,
    readonly rule: RiskRule,
    readonly limit: number | string,
    readonly current: number | string,
  ) {
    super(message);
  }
}

/** An append's expected revision did not match the stream's actual revision. */
export class ConcurrencyError extends TrackerError {
  readonly code = 'CONCURRENCY' as const;
  constructor(
    readonly stream: string,
    readonly expected: string | number,
    /** The stream's current revision; -1 when the stream does not exist. */
    readonly actual: number,
  ) {
    super(
      `append to "${stream}" expected ${describeExpected(expected)}, but the stream ${
        actual < 0 ? 'does not exist' : `is at revision ${actual}`
      } (reload and decide again)`,
    );
  }
}

function describeExpected(expected: string | number): string {
  if (typeof expected === 'number') return `revision ${expected}`;
  if (expected === 'no_stream') return 'no stream';
  if (expected === 'stream_exists') return 'an existing stream';
  return expected;
}

/** Something asked for does not exist. */
export class NotFoundError extends TrackerError {
  readonly code = 'NOT_FOUND' as const;
}

/** The log or a derived file is damaged or has regressed; work must stop. */
export class CorruptionError extends TrackerError {
  readonly code = 'CORRUPTION' as const;
}

/** A stored event does not match its schema. Never skipped silently. */
export class EventSchemaError extends TrackerError {
  readonly code = 'EVENT_SCHEMA' as const;
  constructor(
    message: string,
    readonly location: { stream?: string; revision?: number; position?: number; type?: string; field?: string },
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Codes of the store errors: {@link StoreError} and the kinds below it. */
export type StoreErrorCode = 'STORE' | 'STORE_UNAVAILABLE' | 'STORE_UNEXPECTED' | 'MIGRATION_CONFLICT';

/**
 * The store cannot be used as named: a bad path or store string, a file that is not a trade log,
 * a newer schema, a read-only directory, refused credentials, a closed store. Fix what was given.
 * Its subclasses say what else happened ({@link StoreUnavailableError}, {@link UnexpectedStoreError}).
 *
 * @example
 * ```ts
 * try { await openStore('sqlite:/no/such/dir/') } catch (e) { if (e instanceof StoreError) console.error(e.message) }
 * ```
 */
export class StoreError extends TrackerError {
  readonly code: StoreErrorCode = 'STORE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * The store's server cannot be reached or did not answer in time; trying again later may work.
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof StoreUnavailableError) scheduleRetry() }
 * ```
 */
export class StoreUnavailableError extends StoreError {
  override readonly code = 'STORE_UNAVAILABLE' as const;
}

/**
 * The store failed in a way nothing given could cause: a driver failure, a lock held past the busy
 * timeout, an answer the server should not give, a copy that did not land, a store closed under a reader.
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof UnexpectedStoreError) console.error(e.message, e.cause) }
 * ```
 */
export class UnexpectedStoreError extends StoreError {
  override readonly code = 'STORE_UNEXPECTED' as const;
}

export type ExternalFailure = 'unreachable' | 'rate_limited' | 'rejected' | 'malformed' | 'timeout';

/** The outside system failed or answered with something we cannot trust. */
export class ExternalError extends TrackerError {
  readonly code = 'EXTERNAL' as const;
  constructor(
    message: string,
    readonly failure: ExternalFailure,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Commands are refused while a manual startup recovery waits for an operator's acknowledgement. */
export class RecoveryPendingError extends TrackerError {
  readonly code = 'RECOVERY_PENDING' as const;
}

/**
 * A command asked for something an order's state does not allow (accept a rejected order, a
 * fill beyond its quantity, a second order for a key whose first is live): names the order,
 * its state, what was expected and what to do.
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof OrderStateError) console.error(e.clientOrderId, e.state, e.expected) }
 * ```
 */
export class OrderStateError extends TrackerError {
  readonly code = 'ORDER_STATE' as const;
  constructor(
    message: string,
    readonly clientOrderId: string,
    readonly state: string,
    readonly expected: readonly string[],
  ) {
    super(message);
  }
}

/**
 * A RequestOrder for a signal the book already answered with an order that is live or has
 * fills: the caller should return that order (`clientOrderId`) rather than send another.
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof DuplicateSignalError) return book.orders.get(e.clientOrderId) }
 * ```
 */
export class DuplicateSignalError extends OrderStateError {
  constructor(
    message: string,
    readonly signalId: string,
    clientOrderId: string,
    state: string,
    /** When the signal was processed (ISO-8601). */
    readonly processedAt: string,
  ) {
    super(message, clientOrderId, state, ['REJECTED', 'CANCELED', 'EXPIRED']);
  }
}
