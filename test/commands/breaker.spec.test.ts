import { describe, expect, it } from 'vitest';
import { breakerActive } from '../../src/commands/breaker.js';
import type { CircuitBreaker } from '../../src/commands/index.js';

/*
 * Whether a circuit breaker refuses entries at a moment: the one answer the decider, `ptrack status`
 * and the risk read model share. The decider asks with ISO strings, the tracker with Dates: both
 * must give the same answer, to the millisecond.
 */

const since = '2026-01-05T12:00:00.000Z';
const until = '2026-01-05T13:00:00.300Z';
const timed: CircuitBreaker = { status: 'TRIPPED', trigger: 'manual', reason: 'outage', since, until };

describe('breakerActive', () => {
  it('a breaker that is OK refuses nothing', () => {
    expect(breakerActive({ status: 'OK' }, since)).toBe(false);
  });

  it('a trip without an end refuses until it is reset, however late', () => {
    expect(breakerActive({ status: 'TRIPPED', trigger: 'manual', reason: 'outage', since }, '2099-01-01T00:00:00.000Z')).toBe(true);
  });

  it('a timed trip refuses before its end and not from its end on, to the millisecond, asked with an ISO string', () => {
    expect(breakerActive(timed, '2026-01-05T13:00:00.299Z')).toBe(true);
    expect(breakerActive(timed, until)).toBe(false);
    expect(breakerActive(timed, '2026-01-05T13:00:00.301Z')).toBe(false);
  });

  it('the same, asked with a Date (the tracker asks with its clock), sub-second ends included', () => {
    expect(breakerActive(timed, new Date('2026-01-05T13:00:00.299Z'))).toBe(true);
    expect(breakerActive(timed, new Date(until))).toBe(false);
    expect(breakerActive(timed, new Date('2026-01-05T13:00:00.500Z'))).toBe(false);
  });
});
