import { ConcurrencyError, StoreError, ValidationError } from '../../errors/index.js';
import { quote } from '../../_internals/zodIssues.js';
import { DEFAULT_PAGE, MAX_PAGE, type ExpectedRevision } from '../port.js';

/** Checks an expected revision against the stream's current one (-1 = no stream); throws ConcurrencyError. */
export function checkExpectedRevision(stream: string, expected: ExpectedRevision, current: number): void {
  if (expected === 'any') return;
  if (expected === 'no_stream') {
    if (current !== -1) throw new ConcurrencyError(stream, expected, current);
    return;
  }
  if (expected === 'stream_exists') {
    if (current === -1) throw new ConcurrencyError(stream, expected, current);
    return;
  }
  if (expected !== current) throw new ConcurrencyError(stream, expected, current);
}

export function validateExpectedRevision(value: unknown): ExpectedRevision {
  if (value === undefined) return 'any';
  if (value === 'any' || value === 'no_stream' || value === 'stream_exists') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  throw new ValidationError(`expectedRevision: expected 'any', 'no_stream', 'stream_exists' or a revision >= 0, got ${quote(value)}`);
}

export function validateStream(stream: unknown): string {
  if (typeof stream !== 'string' || stream.length === 0 || stream.length > 300) {
    throw new ValidationError(`stream: expected a name of 1-300 characters, got ${quote(stream)}`);
  }
  return stream;
}

export function validateLimit(limit: unknown): number {
  if (limit === undefined) return DEFAULT_PAGE;
  if (typeof limit === 'number' && Number.isInteger(limit) && limit >= 1 && limit <= MAX_PAGE) return limit;
  throw new ValidationError(`limit: expected a whole number from 1 to ${MAX_PAGE}, got ${quote(limit)}`);
}

export function validateNonNegativeInt(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  throw new ValidationError(`${name}: expected a whole number >= 0, got ${quote(value)}`);
}

export function assertOpen(closed: boolean, location: string): void {
  if (closed) throw new StoreError(`the store at ${location} is closed`);
}
