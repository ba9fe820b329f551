import { describe, expect, it } from 'vitest';
import {
  BookPolicy,
  bookStateToJson,
  evolve,
  forkBookState,
  freezeBookState,
  initialBookState,
  parseCommand,
  type BookState,
  type FoldableEvent,
} from '../../src/commands/index.js';
import { decideBatch, type BatchCommand } from '../../src/commands/decideBatch.js';
import { InvalidTransitionError, ValidationError } from '../../src/errors/index.js';
import { NOW, secondsFrom } from './fixtures.js';

/*
 * The handler's pure step: a batch of commands in, events to append, one outcome per command
 * and the next book out; the committed book it is given is never changed.
 */

const policy = BookPolicy.parse({ maxGroupRiskPct: null, dailyLossLimitPct: null });
const cmd = (input: Record<string, unknown>, extra: Omit<BatchCommand, 'command'> = {}): BatchCommand => ({
  command: parseCommand(input),
  ...extra,
});

/** A clock that moves a second per call, so each read shows in the events' recordedAt. */
function ticking(): { now: () => Date; calls: () => number } {
  let n = 0;
  return { now: () => secondsFrom(n++), calls: () => n };
}

/** A committed (frozen) book: the batch decided from an empty one, its events folded in as stored. */
function committedAfter(batch: BatchCommand[]): BookState {
  const empty = freezeBookState(initialBookState());
  const { events } = decideBatch(empty, batch, { now: () => NOW, policy });
  let state = forkBookState(empty);
  events.forEach((e, i) => (state = evolve(state, { ...e, revision: i } as FoldableEvent)));
  return freezeBookState(state);
}

describe('decideBatch', () => {
  it('decides each command against the book the ones before it left, and leaves the committed book as it was', () => {
    const committed = freezeBookState(initialBookState());
    const before = JSON.stringify(bookStateToJson(committed));
    const clock = ticking();
    const { events, outcomes, next } = decideBatch(
      committed,
      [
        cmd({ type: 'Track', positionId: 'A', symbol: 'AAPL' }, { correlationId: 'corr-1' }),
        cmd({ type: 'Enter', positionId: 'A', value: 100 }),
      ],
      { now: clock.now, policy },
    );
    expect(events.map((e) => e.type)).toEqual(['PositionTracked', 'PositionEntered']);
    expect(outcomes).toEqual([
      { kind: 'events', from: 0, count: 1 },
      { kind: 'events', from: 1, count: 1 },
    ]);
    // One clock read per decided command, recorded on its events with what its caller said.
    expect(clock.calls()).toBe(2);
    expect(events[0]!.metadata).toEqual({ recordedAt: secondsFrom(0).toISOString(), correlationId: 'corr-1' });
    expect(events[1]!.metadata).toEqual({ recordedAt: secondsFrom(1).toISOString() });
    expect(next.revision).toBe(1);
    expect(next.positions.get('A')?.status).toBe('IN');
    expect(JSON.stringify(bookStateToJson(committed))).toBe(before);
  });

  it('answers a command id repeated in the batch: the same command as a duplicate, another as a ValidationError', () => {
    const committed = committedAfter([cmd({ type: 'Track', positionId: 'X' })]);
    const clock = ticking();
    const { events, outcomes } = decideBatch(
      committed,
      [
        cmd({ type: 'Track', positionId: 'A', commandId: 'c-1' }),
        cmd({ type: 'Track', positionId: 'A', side: 'long', commandId: 'c-1' }),
        cmd({ type: 'Skip', positionId: 'A', commandId: 'c-1' }),
      ],
      { now: clock.now, policy },
    );
    expect(events).toHaveLength(1);
    expect(events[0]!.metadata?.commandId).toBe('c-1');
    expect(outcomes[0]).toEqual({ kind: 'events', from: 0, count: 1 });
    // Revisions, after the committed book's revision 0.
    expect(outcomes[1]).toEqual({ kind: 'duplicate', from: 1, to: 1 });
    expect(outcomes[2]!.kind).toBe('error');
    expect((outcomes[2] as { error: unknown }).error).toBeInstanceOf(ValidationError);
    // Repeats are answered without reading the clock or deciding.
    expect(clock.calls()).toBe(1);
  });

  it('answers a command id of the committed book from its window, appending nothing', () => {
    const committed = committedAfter([cmd({ type: 'Track', positionId: 'A', commandId: 'c-1' })]);
    const { events, outcomes, next } = decideBatch(committed, [cmd({ type: 'Track', positionId: 'A', commandId: 'c-1' })], {
      now: () => NOW,
      policy,
    });
    expect(events).toEqual([]);
    expect(outcomes).toEqual([{ kind: 'duplicate', from: 0, to: 0 }]);
    expect(next).toBe(committed);
  });

  it('keeps a refused command out of the batch and decides the rest', () => {
    const committed = freezeBookState(initialBookState());
    const { events, outcomes, next } = decideBatch(
      committed,
      [
        cmd({ type: 'Enter', positionId: 'A', value: 100 }),
        cmd({ type: 'Track', positionId: 'B' }),
        cmd({ type: 'Track', positionId: 'B' }),
      ],
      { now: () => NOW, policy },
    );
    expect(events.map((e) => e.type)).toEqual(['PositionTracked']);
    expect((outcomes[0] as { error: unknown }).error).toBeInstanceOf(InvalidTransitionError);
    expect(outcomes[1]).toEqual({ kind: 'events', from: 0, count: 1 });
    // Tracked by the command before it in this batch.
    expect((outcomes[2] as { error: unknown }).error).toBeInstanceOf(InvalidTransitionError);
    expect([...next.positions.keys()]).toEqual(['B']);
  });
});
