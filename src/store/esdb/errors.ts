import {
  ConcurrencyError,
  CorruptionError,
  StoreError,
  StoreUnavailableError,
  TrackerError,
  UnexpectedStoreError,
} from '../../errors/index.js';
import type { ExpectedRevision } from '../port.js';
import { fromEsdbActualRevision, fromEsdbExpectedRevision } from './positions.js';

/**
 * The client's error kinds we act on, by their `type` (the client's `ErrorType` values). Matching
 * on `type` rather than `instanceof` keeps this module free of a runtime import of the client,
 * which loads gRPC (about a second) and is only loaded when an esdb:// store is opened.
 */
const UNAVAILABLE = new Set(['unavailable', 'deadline-exceeded', 'timeout', 'not-leader', 'cancelled']);

/**
 * gRPC status codes that mean "try again": CANCELLED, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED,
 * UNAVAILABLE. Not UNKNOWN: the server reports its own refusals (a bad position) that way, and
 * retrying those would loop for ever.
 */
const RETRYABLE_GRPC_CODES = new Set([1, 4, 8, 10, 14]);

const NETWORK =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|socket hang up|Failed to discover|No connection established/i;

export interface EsdbErrorContext {
  /** The server, for messages (password redacted). */
  location: string;
  /** What was being done: `append to "tradelog-a"`, `read $all`. */
  operation: string;
  /** The stream as the caller named it (without the engine's namespace). */
  stream?: string;
  /** The expected revision the caller asked for: reported as given. */
  expected?: ExpectedRevision;
  /** Whether the string asked for TLS: a refused connection then hints at ?tls=false. */
  tls?: boolean;
}

function typeOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'type' in error && typeof (error as { type: unknown }).type === 'string'
    ? (error as { type: string }).type
    : undefined;
}

function grpcCode(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof (error as { code: unknown }).code === 'number'
    ? (error as { code: number }).code
    : undefined;
}

function messageOf(error: unknown): string {
  const m = error instanceof Error ? error.message : String(error);
  return (m.split('\n')[0] ?? '').trim() || (typeOf(error) ?? 'unknown error');
}

/** gRPC's wording, trimmed to the cause: "14 UNAVAILABLE: No connection established. Last error: Error: connect ECONNREFUSED ..." -> "connect ECONNREFUSED ...". */
function causeOf(error: unknown): string {
  const trimmed = messageOf(error)
    .replace(/^\d+ [A-Z_]+: /, '')
    .replace(/\s*Resolution note:.*$/, '')
    .replace(/^No connection established\. Last error: (?:Error: )?/, '')
    .replace(/\.$/, '')
    .trim();
  return trimmed || messageOf(error);
}

/** Whether the server could not be reached or dropped the call: something a retry may cure. */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof StoreUnavailableError) return true;
  if (error instanceof TrackerError) return false;
  const type = typeOf(error);
  if (type !== undefined && UNAVAILABLE.has(type)) return true;
  if (type !== undefined && type !== 'unknown') return false;
  const code = grpcCode(error);
  if (code !== undefined && RETRYABLE_GRPC_CODES.has(code)) return true;
  return NETWORK.test(messageOf(error));
}

/**
 * Turns whatever the client threw into one of ours:
 * - `WrongExpectedVersionError` -> {@link ConcurrencyError} with the stream, the expected
 *   revision (as the caller asked for it) and the actual one (-1 when the stream does not exist);
 * - unreachable, timed out, not the leader, discovery failed -> StoreUnavailableError, exit code 5;
 * - access denied -> StoreError, exit code 2 (fix the credentials in the connection string);
 * - a deleted trade-log stream -> CorruptionError (the log lost events);
 * - our own errors pass through; anything else -> UnexpectedStoreError, exit code 1.
 *
 * @example
 * ```ts
 * try { await client.appendToStream(s, events, { expectedRevision: 3n }) }
 * catch (e) { throw mapEsdbError(e, { location, operation: `append to "${s}"`, stream: s, expected: 3 }) }
 * ```
 */
export function mapEsdbError(error: unknown, context: EsdbErrorContext): Error {
  if (error instanceof TrackerError) return error;
  const type = typeOf(error);
  const reason = messageOf(error);
  const at = `${context.operation} on EventStoreDB ${context.location}`;
  if (type === 'wrong-expected-version') {
    const e = error as { streamName?: unknown; expectedVersion?: unknown; actualVersion?: unknown };
    const stream = context.stream ?? (typeof e.streamName === 'string' ? e.streamName : '?');
    const expected = context.expected ?? fromEsdbExpectedRevision(e.expectedVersion);
    return Object.assign(new ConcurrencyError(stream, expected, fromEsdbActualRevision(e.actualVersion)), { cause: error });
  }
  if (type === 'access-denied') {
    return new StoreError(
      `${at}: access denied (${reason}); put the credentials of a user allowed to read $all and write the trade-log streams in the connection string (esdb://user:password@host:2113)`,
      { cause: error },
    );
  }
  if (type === 'stream-deleted') {
    return new CorruptionError(
      `${at}: the stream ${context.stream ? `"${context.stream}" ` : ''}was deleted on the server; a trade log is never deleted (restore it from a backup)`,
      { cause: error },
    );
  }
  if (type === 'maximum-append-size-exceeded') {
    return new StoreError(`${at}: the batch is larger than the server accepts (${reason}); nothing was written`, { cause: error });
  }
  if (grpcCode(error) === 12) {
    return new StoreUnavailableError(
      `${at} failed: ${reason} (something answered at that address, but not an EventStoreDB gRPC endpoint: check the host and port)`,
      { cause: error },
    );
  }
  if (isUnavailable(error)) {
    const hint =
      context.tls !== false && /ECONNRESET|handshake|SSL|TLS|certificate|wrong version number/i.test(reason)
        ? ' (a development node without TLS needs ?tls=false in the connection string)'
        : ' (is the server running? docker compose up -d starts one)';
    return new StoreUnavailableError(`cannot reach EventStoreDB at ${context.location} (${context.operation}): ${causeOf(error)}${hint}`, {
      cause: error,
    });
  }
  return new UnexpectedStoreError(`${at} failed: ${reason}`, { cause: error });
}
