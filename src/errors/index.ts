/**
 * Typed errors. Every error the product raises on purpose is a {@link TrackerError}
 * with a literal `code`; the CLI maps the code to an exit code (see README "Exit codes").
 * Messages say what was wanted, what was found and what to do.
 */

/** Exit codes of the `ptrack` CLI, one per family of error. */
export const ExitCode = {
  ok: 0,
  unexpected: 1,
  badInput: 2,
  rejected: 3,
  corruption: 4,
  external: 5,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export type ErrorCode =
  | 'VALIDATION'
  | 'INVALID_TRANSITION'
  | 'RISK_LIMIT'
  | 'CONCURRENCY'
  | 'NOT_FOUND'
  | 'CORRUPTION'
  | 'EVENT_SCHEMA'
  | 'STORE'
  | 'EXTERNAL'
  | 'RECOVERY_PENDING';

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
  abstract readonly exitCode: ExitCode;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input from outside (CLI, config, API arguments) failed validation. */
export class ValidationError extends TrackerError {
  readonly code = 'VALIDATION' as const;
  readonly exitCode = ExitCode.badInput;
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
  readonly exitCode = ExitCode.rejected;
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
  | 'maxGroupRiskPct';

export class RiskLimitError extends TrackerError {
  readonly code = 'RISK_LIMIT' as const;
  readonly exitCode = ExitCode.rejected;
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
  readonly exitCode = ExitCode.rejected;
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
  readonly exitCode = ExitCode.badInput;
}

/** The log or a derived file is damaged or has regressed; work must stop. */
export class CorruptionError extends TrackerError {
  readonly code = 'CORRUPTION' as const;
  readonly exitCode = ExitCode.corruption;
}

/** A stored event does not match its schema. Never skipped silently. */
export class EventSchemaError extends TrackerError {
  readonly code = 'EVENT_SCHEMA' as const;
  readonly exitCode = ExitCode.corruption;
  constructor(
    message: string,
    readonly location: { stream?: string; revision?: number; position?: number; type?: string; field?: string },
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The store cannot be opened or written (bad path, read-only directory, not a trade log, newer schema). */
export class StoreError extends TrackerError {
  readonly code = 'STORE' as const;
  readonly exitCode: ExitCode;
  constructor(message: string, options?: { cause?: unknown; exitCode?: ExitCode }) {
    super(message, options);
    this.exitCode = options?.exitCode ?? ExitCode.badInput;
  }
}

export type ExternalFailure = 'unreachable' | 'rate_limited' | 'rejected' | 'malformed' | 'timeout';

/** The outside system failed or answered with something we cannot trust. */
export class ExternalError extends TrackerError {
  readonly code = 'EXTERNAL' as const;
  readonly exitCode = ExitCode.external;
  constructor(
    message: string,
    readonly failure: ExternalFailure,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Exit code for any thrown value: a TrackerError's own, otherwise "unexpected". */
export function exitCodeOf(error: unknown): ExitCode {
  return error instanceof TrackerError ? error.exitCode : ExitCode.unexpected;
}

/** Commands are refused while a manual startup recovery waits for an operator's acknowledgement. */
export class RecoveryPendingError extends TrackerError {
  readonly code = 'RECOVERY_PENDING' as const;
  readonly exitCode = ExitCode.rejected;
}
