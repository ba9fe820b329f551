import { exitCodeOf } from '../../src/cli/exitCodes.js';
import {
  AccessDeniedError,
  DeadlineExceededError,
  MaxAppendSizeExceededError,
  NotFoundError,
  StreamDeletedError,
  StreamNotFoundError,
  UnavailableError,
  UnknownError,
  WrongExpectedVersionError,
  convertToCommandError,
} from '@eventstore/db-client';
import { describe, expect, it } from 'vitest';
import {
  ConcurrencyError,
  CorruptionError,
  EventSchemaError,
  StoreError,
  StoreUnavailableError,
  ValidationError,
} from '../../src/errors/index.js';
import { isUnavailable, mapEsdbError } from '../../src/store/esdb/index.js';

/**
 * The client's own error classes, built the way the client builds them, mapped to ours.
 * (No server here: these are the objects the client throws, not a stand-in for the server.)
 */
const context = { location: 'esdb://localhost:2113?tls=false', operation: 'append to "tradelog-a"', tls: false };

/** A gRPC failure as grpc-js reports it, run through the client's own converter. */
const grpcFailure = (code: number, message: string): Error =>
  convertToCommandError(Object.assign(new Error(message), { code, details: message.replace(/^\d+ [A-Z_]+: /, '') }));

describe('mapping the client errors to ours', () => {
  describe('WrongExpectedVersionError -> ConcurrencyError', () => {
    it('keeps the stream, the expected revision the caller asked for and the actual one', () => {
      const raw = new WrongExpectedVersionError(undefined, { streamName: 'ns-tradelog-a', expected: 3n, current: 5n });
      const mapped = mapEsdbError(raw, { ...context, stream: 'tradelog-a', expected: 3 });
      expect(mapped).toBeInstanceOf(ConcurrencyError);
      expect(mapped).toMatchObject({ stream: 'tradelog-a', expected: 3, actual: 5, code: 'CONCURRENCY' });
      expect(exitCodeOf(mapped)).toBe(3);
      expect(mapped.message).toBe('append to "tradelog-a" expected revision 3, but the stream is at revision 5 (reload and decide again)');
      expect(mapped.cause).toBe(raw);
    });

    it('a missing stream is actual -1; the words map back from the client form', () => {
      const raw = new WrongExpectedVersionError(undefined, { streamName: 'tradelog-b', expected: 'stream_exists', current: 'no_stream' });
      expect(mapEsdbError(raw, context)).toMatchObject({ stream: 'tradelog-b', expected: 'stream_exists', actual: -1 });
      const created = new WrongExpectedVersionError(undefined, { streamName: 'tradelog-c', expected: 'no_stream', current: 0n });
      expect(mapEsdbError(created, { ...context, stream: 'tradelog-c', expected: 'no_stream' })).toMatchObject({
        expected: 'no_stream',
        actual: 0,
      });
    });

    it("reads the server's negative codes when the caller did not say what it expected", () => {
      const raw = new WrongExpectedVersionError(undefined, { streamName: 'tradelog-d', expected: -1n, current: 2n });
      expect(mapEsdbError(raw, context)).toMatchObject({ stream: 'tradelog-d', expected: 'no_stream', actual: 2 });
    });
  });

  describe('an unreachable server -> StoreError, exit code 5, worth a retry', () => {
    it.each([
      ['UnavailableError', new UnavailableError(undefined, 'unavailable')],
      ['DeadlineExceededError', new DeadlineExceededError(undefined, 'deadline')],
      [
        'gRPC UNAVAILABLE through the client converter',
        grpcFailure(
          14,
          '14 UNAVAILABLE: No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:2113. Resolution note: ',
        ),
      ],
      ['failed discovery (a plain Error from the client)', new Error('Failed to discover after 10 attempts.')],
    ])('%s', (_name, raw) => {
      expect(isUnavailable(raw)).toBe(true);
      const mapped = mapEsdbError(raw, context);
      expect(mapped).toBeInstanceOf(StoreError);
      expect(exitCodeOf(mapped)).toBe(5);
      expect(mapped.message).toMatch(/^cannot reach EventStoreDB at esdb:\/\/localhost:2113\?tls=false \(append to "tradelog-a"\): /);
      expect(mapped.message).toMatch(/docker compose up -d/);
    });

    it('keeps the cause of a refused connection and drops the gRPC noise', () => {
      const raw = grpcFailure(
        14,
        '14 UNAVAILABLE: No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:2113. Resolution note: ',
      );
      expect(raw).toBeInstanceOf(UnavailableError);
      expect(mapEsdbError(raw, context).message).toBe(
        'cannot reach EventStoreDB at esdb://localhost:2113?tls=false (append to "tradelog-a"): connect ECONNREFUSED 127.0.0.1:2113 (is the server running? docker compose up -d starts one)',
      );
    });

    it('hints at ?tls=false when a TLS connection is reset', () => {
      const raw = grpcFailure(14, '14 UNAVAILABLE: read ECONNRESET');
      expect(mapEsdbError(raw, { ...context, tls: true }).message).toMatch(/needs \?tls=false/);
    });
  });

  describe('everything else -> our errors, never retried', () => {
    it('access denied: exit code 2, fix the credentials', () => {
      const mapped = mapEsdbError(new AccessDeniedError(undefined, 'Access denied'), context);
      expect(mapped).toBeInstanceOf(StoreError);
      expect(exitCodeOf(mapped)).toBe(2);
      expect(mapped.message).toMatch(/access denied .*esdb:\/\/user:password@host:2113/);
      expect(isUnavailable(new AccessDeniedError(undefined, 'x'))).toBe(false);
    });

    it('a deleted stream is corruption (exit code 4)', () => {
      const mapped = mapEsdbError(StreamDeletedError.fromStreamName('tradelog-a'), { ...context, stream: 'tradelog-a' });
      expect(mapped).toBeInstanceOf(CorruptionError);
      expect(mapped.message).toMatch(/the stream "tradelog-a" was deleted on the server/);
    });

    it('a batch too large is bad input (exit code 2)', () => {
      const mapped = mapEsdbError(MaxAppendSizeExceededError.fromMaxAppendSize(1024), context);
      expect(exitCodeOf(mapped)).toBe(2);
      expect(mapped.message).toMatch(/larger than the server accepts/);
    });

    it('something answering that is not EventStoreDB (UNIMPLEMENTED): exit code 5 with a hint', () => {
      const raw = grpcFailure(12, '12 UNIMPLEMENTED: Received HTTP status code 404');
      expect(raw).toBeInstanceOf(UnknownError);
      expect(isUnavailable(raw)).toBe(false);
      expect(exitCodeOf(mapEsdbError(raw, context))).toBe(5);
      expect(mapEsdbError(raw, context)).toMatchObject({ message: expect.stringMatching(/not an EventStoreDB gRPC endpoint/) });
    });

    it('other client errors: StoreError with exit code 1 and the message', () => {
      for (const raw of [
        new NotFoundError(undefined, 'no such thing'),
        new StreamNotFoundError(undefined, 'tradelog-z'),
        grpcFailure(2, '2 UNKNOWN: bad position'),
      ]) {
        expect(isUnavailable(raw)).toBe(false);
        const mapped = mapEsdbError(raw, context);
        expect(mapped).toBeInstanceOf(StoreError);
        expect(exitCodeOf(mapped)).toBe(1);
        expect(mapped.message).toMatch(/^append to "tradelog-a" on EventStoreDB esdb:\/\/localhost:2113\?tls=false failed: /);
      }
    });

    it('our own errors pass through untouched; schema errors are never retried', () => {
      const ours = new ValidationError('bad');
      expect(mapEsdbError(ours, context)).toBe(ours);
      const schema = new EventSchemaError('stored event at position 7: data.side', { position: 7 });
      expect(isUnavailable(schema)).toBe(false);
      expect(mapEsdbError(schema, context)).toBe(schema);
      expect(isUnavailable(new StoreUnavailableError('down'))).toBe(true);
      expect(isUnavailable(new StoreError('bad string'))).toBe(false);
    });
  });
});
