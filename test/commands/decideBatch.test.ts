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
import { clientOrderIdFor } from '../../src/commands/clientOrderId.js';
import { commandFingerprint } from '../../src/commands/fingerprint.js';
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

  it('records on each event the command id with its fingerprint, and the correlation and causation its caller gave', () => {
    const track = cmd({ type: 'Track', positionId: 'A', commandId: 'c-1' }, { correlationId: 'corr-1', causationId: 'cause-1' });
    const { events } = decideBatch(freezeBookState(initialBookState()), [track], { now: () => NOW, policy });
    expect(events[0]!.metadata).toStrictEqual({
      recordedAt: NOW.toISOString(),
      commandId: 'c-1',
      commandHash: commandFingerprint(track.command),
      correlationId: 'corr-1',
      causationId: 'cause-1',
    });
  });

  it('records no command id, correlation or causation key for a command given none', () => {
    const { events } = decideBatch(freezeBookState(initialBookState()), [cmd({ type: 'Track', positionId: 'A' })], {
      now: () => NOW,
      policy,
    });
    expect(events[0]!.metadata).toStrictEqual({ recordedAt: NOW.toISOString() });
  });

  it("derives client order ids from the context's book id", () => {
    const order = cmd({
      type: 'RequestOrder',
      commandId: 'k-1',
      positionId: 'A',
      symbol: 'BTC',
      intent: 'entry',
      quantity: 1,
      referencePrice: 100,
    });
    const { events } = decideBatch(freezeBookState(initialBookState()), [order], { now: () => NOW, policy, bookId: 'desk' });
    const requested = events.find((e) => e.type === 'OrderRequested');
    expect(requested?.data).toMatchObject({ clientOrderId: clientOrderIdFor('desk', 'k-1', 1, policy.clientOrderIdMaxLength, 1) });
  });

  it('refuses a command id reused for another command, naming the first command, its revisions and the new one', () => {
    const committed = committedAfter([cmd({ type: 'Open', positionId: 'A', value: 100, commandId: 'c-1' })]);
    const refusal = (input: Record<string, unknown>): ValidationError => {
      const { outcomes } = decideBatch(committed, [cmd({ ...input, commandId: 'c-1' })], { now: () => NOW, policy });
      const [outcome] = outcomes;
      if (outcome?.kind !== 'error') throw new Error(`expected a refusal, got ${JSON.stringify(outcome)}`);
      return outcome.error as ValidationError;
    };
    const other = refusal({ type: 'Skip', positionId: 'B' });
    expect(other.message).toBe(
      'commandId "c-1" was already used for a Open command (revisions 0-1) and is now given to Skip "B": a commandId names one command; use a new commandId for a new command',
    );
    expect(other.issues).toStrictEqual([{ path: 'commandId', message: 'already used for a different command (Open)', value: 'c-1' }]);
    expect(refusal({ type: 'ResetCircuitBreaker' }).message).toBe(
      'commandId "c-1" was already used for a Open command (revisions 0-1) and is now given to ResetCircuitBreaker: a commandId names one command; use a new commandId for a new command',
    );
    expect(refusal({ type: 'Open', positionId: 'A', value: 200 }).message).toBe(
      'commandId "c-1" was already used for a Open command (revisions 0-1) and is now given to Open "A" (another Open, with different fields): a commandId names one command; use a new commandId for a new command',
    );
    const single = committedAfter([cmd({ type: 'Track', positionId: 'A', commandId: 'c-1' })]);
    const { outcomes } = decideBatch(single, [cmd({ type: 'Skip', positionId: 'A', commandId: 'c-1' })], { now: () => NOW, policy });
    expect((outcomes[0] as { error: Error }).error.message).toMatch(
      /^commandId "c-1" was already used for a Track command \(revision 0\) and/,
    );
  });

  it('takes a repeat of a command id recorded before fingerprints on trust, as a duplicate', () => {
    const empty = freezeBookState(initialBookState());
    const old = evolve(forkBookState(empty), {
      type: 'PositionTracked',
      data: { positionId: 'A', side: 'long', source: 'local' },
      metadata: { recordedAt: NOW.toISOString(), schemaVersion: 1, commandId: 'c-1' },
      revision: 0,
    } as FoldableEvent);
    const { events, outcomes } = decideBatch(freezeBookState(old), [cmd({ type: 'Skip', positionId: 'A', commandId: 'c-1' })], {
      now: () => NOW,
      policy,
    });
    expect(events).toStrictEqual([]);
    expect(outcomes).toStrictEqual([{ kind: 'duplicate', from: 0, to: 0 }]);
  });
});
