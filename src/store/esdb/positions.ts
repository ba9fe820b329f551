import { StoreError, UnexpectedStoreError } from '../../errors/index.js';
import type { ExpectedRevision } from '../port.js';

/**
 * EventStoreDB's place of an event in `$all`: two unsigned 64-bit byte offsets into the
 * transaction log. For every event written through gRPC (an implicit transaction) `commit` and
 * `prepare` are both the record's own log position, so `commit` alone orders and names it.
 */
export interface EsdbPosition {
  commit: bigint;
  prepare: bigint;
}

/** Mirrors the client's `AppendExpectedRevision` (`ANY`, `NO_STREAM`, `STREAM_EXISTS` or a bigint). */
export type EsdbExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | bigint;

/**
 * The server writes -1 into an unsigned field when it has no position (older servers on
 * stream reads): the client hands that over as 2^64 - 1.
 */
export const NO_POSITION = (1n << 64n) - 1n;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * A bigint as a JavaScript number, or a StoreError when it would lose precision.
 * Positions are byte offsets: 2^53 bytes is 9 PB of log, so the refusal is a guard, not a limit
 * anyone should meet; a wrong number would silently mis-order checkpoints, a refusal cannot.
 */
export function toSafeNumber(value: bigint, what: string): number {
  if (value < 0n || value > MAX_SAFE) {
    throw new UnexpectedStoreError(
      `${what} ${value.toString()} does not fit in a JavaScript number without losing precision ` +
        `(the limit is ${Number.MAX_SAFE_INTEGER}); refusing to read it rather than mis-order the log`,
    );
  }
  return Number(value);
}

/**
 * The public `position` of an event read from EventStoreDB: its commit position, as a number.
 * Throws when the server gave no position (an older server) or one past 2^53 - 1.
 */
export function toPublicPosition(position: EsdbPosition | undefined, what = 'position'): number {
  if (position === undefined || position.commit === NO_POSITION || position.prepare === NO_POSITION) {
    throw new UnexpectedStoreError(
      `the EventStoreDB server sent an event without its ${what} in $all: position-tracker needs a server that reports ` +
        'positions on every read (EventStoreDB 23.10 or newer, or KurrentDB)',
    );
  }
  return toSafeNumber(position.commit, what);
}

/**
 * A public position back to EventStoreDB's form: events written by this engine have
 * commit = prepare, so a checkpoint taken from one of them names it exactly.
 */
export function fromPublicPosition(position: number): EsdbPosition {
  if (!Number.isSafeInteger(position) || position < 0) {
    throw new StoreError(`position: expected a whole number >= 0, got ${String(position)}`);
  }
  const p = BigInt(position);
  return { commit: p, prepare: p };
}

/** Orders two positions of `$all` (commit first, then prepare). */
export function comparePositions(a: EsdbPosition, b: EsdbPosition): number {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  if (a.prepare !== b.prepare) return a.prepare < b.prepare ? -1 : 1;
  return 0;
}

/** A stream revision from the client (bigint) as our number. */
export function toRevision(revision: bigint, what = 'stream revision'): number {
  return toSafeNumber(revision, what);
}

/** Our expected revision in the client's terms: the three words, or the revision as a bigint. */
export function toEsdbExpectedRevision(expected: ExpectedRevision): EsdbExpectedRevision {
  if (typeof expected === 'number') return BigInt(expected);
  return expected;
}

/**
 * The current revision a WrongExpectedVersion reports, as ours: -1 when the stream does not exist.
 * The client gives `'no_stream'` or a bigint; the server writes "no stream" as -1 on some paths.
 */
export function fromEsdbActualRevision(value: unknown): number {
  if (value === 'no_stream' || value === undefined) return -1;
  if (typeof value === 'bigint' || typeof value === 'number') {
    const n = BigInt(value);
    if (n < 0n) return -1;
    return toRevision(n);
  }
  throw new UnexpectedStoreError(`the EventStoreDB server reported an unreadable stream revision ${String(value)}`);
}

/**
 * The expected revision a WrongExpectedVersion reports, as ours. The server encodes the words
 * as negative numbers on some paths: -1 no stream, -2 any, -4 stream exists.
 */
export function fromEsdbExpectedRevision(value: unknown): ExpectedRevision {
  if (value === 'any' || value === 'no_stream' || value === 'stream_exists') return value;
  if (typeof value === 'bigint' || typeof value === 'number') {
    const n = BigInt(value);
    if (n === -1n) return 'no_stream';
    if (n === -2n) return 'any';
    if (n === -4n) return 'stream_exists';
    if (n >= 0n) return toRevision(n);
  }
  throw new UnexpectedStoreError(`the EventStoreDB server reported an unreadable expected revision ${String(value)}`);
}
