import { describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors/index.js';
import {
  NO_POSITION,
  comparePositions,
  fromEsdbActualRevision,
  fromEsdbExpectedRevision,
  fromPublicPosition,
  toEsdbExpectedRevision,
  toPublicPosition,
  toRevision,
  toSafeNumber,
} from '../../src/store/esdb/index.js';

const MAX = BigInt(Number.MAX_SAFE_INTEGER);

describe('EventStoreDB positions and revisions', () => {
  describe('bigint to number', () => {
    it('is exact up to 2^53 - 1', () => {
      expect(toSafeNumber(0n, 'position')).toBe(0);
      expect(toSafeNumber(123_456_789_012n, 'position')).toBe(123_456_789_012);
      expect(toSafeNumber(MAX, 'position')).toBe(Number.MAX_SAFE_INTEGER);
    });

    it('refuses rather than round: 2^53 would read back as 2^53 + 1 too', () => {
      // The reason for the refusal: both bigints become the same number.
      expect(Number(MAX + 1n)).toBe(Number(MAX + 2n));
      expect(() => toSafeNumber(MAX + 1n, 'position')).toThrow(StoreError);
      expect(() => toSafeNumber(MAX + 1n, 'position')).toThrow(
        /position 9007199254740992 does not fit in a JavaScript number without losing precision/,
      );
      expect(() => toSafeNumber(-1n, 'revision')).toThrow(/revision -1 does not fit/);
    });
  });

  describe('public positions', () => {
    it('are commit positions, and go back as commit = prepare', () => {
      expect(toPublicPosition({ commit: 4_567_890n, prepare: 4_567_890n })).toBe(4_567_890);
      expect(fromPublicPosition(4_567_890)).toEqual({ commit: 4_567_890n, prepare: 4_567_890n });
      const big = Number.MAX_SAFE_INTEGER;
      expect(toPublicPosition(fromPublicPosition(big))).toBe(big);
    });

    it('refuse an event without a position (an older server: 2^64 - 1 on the wire)', () => {
      expect(NO_POSITION).toBe(18_446_744_073_709_551_615n);
      expect(() => toPublicPosition({ commit: NO_POSITION, prepare: NO_POSITION })).toThrow(/23\.10 or newer/);
      expect(() => toPublicPosition(undefined)).toThrow(/without its position/);
    });

    it('refuse a position past 2^53 - 1', () => {
      expect(() => toPublicPosition({ commit: MAX + 10n, prepare: MAX + 10n })).toThrow(/without losing precision/);
    });

    it('refuse a bad number going the other way', () => {
      expect(() => fromPublicPosition(-1)).toThrow(StoreError);
      expect(() => fromPublicPosition(1.5)).toThrow(/whole number/);
      expect(() => fromPublicPosition(2 ** 60)).toThrow(/whole number/);
    });

    it('order by commit, then prepare', () => {
      const a = { commit: 10n, prepare: 10n };
      expect(comparePositions(a, { commit: 10n, prepare: 10n })).toBe(0);
      expect(comparePositions(a, { commit: 11n, prepare: 0n })).toBe(-1);
      expect(comparePositions({ commit: 10n, prepare: 12n }, a)).toBe(1);
      // Past 2^53 the bigints still order exactly.
      expect(comparePositions({ commit: MAX + 1n, prepare: 0n }, { commit: MAX + 2n, prepare: 0n })).toBe(-1);
    });
  });

  describe('revisions', () => {
    it('bigint revisions become numbers', () => {
      expect(toRevision(0n)).toBe(0);
      expect(toRevision(41n)).toBe(41);
      expect(() => toRevision(MAX + 1n)).toThrow(/stream revision/);
    });

    it('expected revisions map to the client: the three words as they are, a number as a bigint', () => {
      expect(toEsdbExpectedRevision('any')).toBe('any');
      expect(toEsdbExpectedRevision('no_stream')).toBe('no_stream');
      expect(toEsdbExpectedRevision('stream_exists')).toBe('stream_exists');
      expect(toEsdbExpectedRevision(7)).toBe(7n);
      expect(toEsdbExpectedRevision(0)).toBe(0n);
    });

    it('what the server reports comes back as ours, including its negative codes', () => {
      expect(fromEsdbActualRevision('no_stream')).toBe(-1);
      expect(fromEsdbActualRevision(-1n)).toBe(-1);
      expect(fromEsdbActualRevision(12n)).toBe(12);
      expect(fromEsdbExpectedRevision(5n)).toBe(5);
      expect(fromEsdbExpectedRevision(-1n)).toBe('no_stream');
      expect(fromEsdbExpectedRevision(-2n)).toBe('any');
      expect(fromEsdbExpectedRevision(-4n)).toBe('stream_exists');
      expect(fromEsdbExpectedRevision('stream_exists')).toBe('stream_exists');
      expect(() => fromEsdbExpectedRevision(-3n)).toThrow(/unreadable expected revision -3/);
      expect(() => fromEsdbActualRevision('latest')).toThrow(/unreadable stream revision/);
    });
  });
});
