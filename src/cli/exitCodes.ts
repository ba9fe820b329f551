/**
 * The one table from error code to exit code: errors say what happened, only the CLI turns
 * that into a process exit code (README "Exit codes").
 */
import { TrackerError, type ErrorCode } from '../errors/index.js';

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

const byErrorCode = {
  VALIDATION: ExitCode.badInput,
  INVALID_TRANSITION: ExitCode.rejected,
  RISK_LIMIT: ExitCode.rejected,
  CONCURRENCY: ExitCode.rejected,
  NOT_FOUND: ExitCode.badInput,
  CORRUPTION: ExitCode.corruption,
  EVENT_SCHEMA: ExitCode.corruption,
  STORE: ExitCode.badInput,
  STORE_UNAVAILABLE: ExitCode.external,
  STORE_UNEXPECTED: ExitCode.unexpected,
  MIGRATION_CONFLICT: ExitCode.corruption,
  EXTERNAL: ExitCode.external,
  RECOVERY_PENDING: ExitCode.rejected,
  ORDER_STATE: ExitCode.rejected,
} as const satisfies Record<ErrorCode, ExitCode>;

// A Map: a subclass from outside may carry any string as its code.
const table: ReadonlyMap<string, ExitCode> = new Map(Object.entries(byErrorCode));

/**
 * The CLI's exit code for any thrown value: a TrackerError's by its code, otherwise "unexpected".
 *
 * @example
 * ```ts
 * exitCodeOf(new StoreUnavailableError('down')) // 5
 * ```
 */
export function exitCodeOf(error: unknown): ExitCode {
  return error instanceof TrackerError ? (table.get(error.code) ?? ExitCode.unexpected) : ExitCode.unexpected;
}
