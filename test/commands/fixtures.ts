import { expect } from 'vitest';
import { InvalidTransitionError, RiskLimitError } from '../../src/errors/index.js';
import type { EventData } from '../../src/events/index.js';
import type { GivenEvent } from '../../src/testing/index.js';

/*
 * Building blocks for the decider specifications: the facts a book starts from, written as
 * the decider itself would have written them (source 'local', and a recordedAt when time matters).
 */

/** The spec's clock: a Monday, noon UTC. */
export const NOW = new Date('2026-01-05T12:00:00.000Z');

/** `seconds` after (or, negative, before) `from`. */
export function secondsFrom(seconds: number, from: Date = NOW): Date {
  return new Date(from.getTime() + seconds * 1000);
}

export const iso = (date: Date): string => date.toISOString();

function withTime<T extends GivenEvent>(event: T, at: Date | undefined): T {
  return at === undefined ? event : { ...event, metadata: { recordedAt: iso(at) } };
}

type Rest<T> = Omit<T, 'positionId' | 'source'>;

export function tracked(positionId: string, data: Partial<Rest<EventData<'PositionTracked'>>> = {}, at?: Date): GivenEvent {
  return withTime({ type: 'PositionTracked', data: { positionId, side: 'long', ...data, source: 'local' } }, at);
}

export function entered(positionId: string, data: Partial<Rest<EventData<'PositionEntered'>>> & { value: number }, at?: Date): GivenEvent {
  return withTime({ type: 'PositionEntered', data: { positionId, side: 'long', ...data, source: 'local' } }, at);
}

export function valued(positionId: string, value: number, at?: Date): GivenEvent {
  return withTime({ type: 'PositionValued', data: { positionId, value, source: 'local' } }, at);
}

/** A full exit unless `fraction` / `full` say otherwise. */
export function exited(
  positionId: string,
  data: Partial<Rest<EventData<'PositionExited'>>> & { value: number; costBasis: number; realizedPnl: number },
  at?: Date,
): GivenEvent {
  return withTime({ type: 'PositionExited', data: { positionId, side: 'long', fraction: 1, full: true, ...data, source: 'local' } }, at);
}

export function skipped(positionId: string, at?: Date): GivenEvent {
  return withTime({ type: 'PositionSkipped', data: { positionId, source: 'local' } }, at);
}

export function archived(
  positionId: string,
  from: EventData<'PositionArchived'>['from'],
  reason: EventData<'PositionArchived'>['reason'] = 'timeout',
  at?: Date,
): GivenEvent {
  return withTime({ type: 'PositionArchived', data: { positionId, from, reason, source: 'local' } }, at);
}

export function adopted(positionId: string, data: Partial<Rest<EventData<'OrphanAdopted'>>> & { value: number }, at?: Date): GivenEvent {
  return withTime({ type: 'OrphanAdopted', data: { positionId, side: 'long', ...data, source: 'local' } }, at);
}

export function breakerTripped(data: Partial<Omit<EventData<'CircuitBreakerTripped'>, 'source'>> = {}, at?: Date): GivenEvent {
  return withTime({ type: 'CircuitBreakerTripped', data: { trigger: 'manual', reason: 'manual stop', ...data, source: 'local' } }, at);
}

export function breakerReset(at?: Date): GivenEvent {
  return withTime({ type: 'CircuitBreakerReset', data: { source: 'local' } }, at);
}

export function cooldownStarted(symbol: string, until: Date, at?: Date): GivenEvent {
  return withTime({ type: 'CooldownStarted', data: { symbol, until: iso(until), source: 'local' } }, at);
}

/**
 * A whole lifecycle of a long position on `symbol`: tracked and entered at 1000, fully
 * exited with `pnl`, all at `at` (default: the spec's now).
 */
export function roundTrip(positionId: string, symbol: string, pnl: number, at?: Date): GivenEvent[] {
  return [
    tracked(positionId, { symbol }, at),
    entered(positionId, { symbol, value: 1000 }, at),
    exited(positionId, { symbol, value: 1000 + pnl, costBasis: 1000, realizedPnl: pnl }, at),
  ];
}

/** Asserts a refused transition names the position, the state it is in and the states it should be in. */
export function expectInvalidTransition(error: Error, positionId: string, state: string, expected: readonly string[]): void {
  expect(error).toBeInstanceOf(InvalidTransitionError);
  expect(error).toMatchObject({ code: 'INVALID_TRANSITION', positionId, state, expected });
}

/** Asserts a risk refusal names the rule, its limit and the value that broke it. */
export function expectRiskLimit(error: Error, rule: string, limit: number | string, current: number | string): void {
  expect(error).toBeInstanceOf(RiskLimitError);
  expect(error).toMatchObject({ code: 'RISK_LIMIT', rule, limit, current });
}
