import { deepStrictEqual, fail } from 'node:assert/strict';
import {
  BookPolicy,
  bookDecider,
  parseCommand,
  type BookDecider,
  type BookPolicyInput,
  type BookState,
  type CommandInput,
  type DecidedEvent,
} from '../commands/index.js';
import type { EventMetadataInput, EventType, EventData } from '../events/index.js';

/** An event for `given`: metadata may be left out (recordedAt defaults to the spec's `now`). */
export type GivenEvent = { [K in EventType]: { type: K; data: EventData<K>; metadata?: EventMetadataInput } }[EventType];

export interface DeciderSpecOptions {
  /** The policy for every `when` (defaults filled in). */
  policy?: BookPolicyInput;
  /** The time of `when`, and of `given` events without their own `recordedAt`. */
  now?: Date;
  /** The book `when` decides for (its client order ids derive from it); default `main`. */
  bookId?: string;
}

type ErrorClass = abstract new (...args: never[]) => Error;

/** The kit for one decider: given events (folded by its evolve), when a command, then what its decide gives. */
function specFor(decider: BookDecider, options: DeciderSpecOptions = {}) {
  const policy = BookPolicy.parse(options.policy ?? {});
  const defaultNow = options.now ?? new Date('2026-01-05T12:00:00.000Z');
  const bookId = options.bookId ?? 'main';
  return {
    given(events: readonly GivenEvent[]) {
      const fold = (): BookState =>
        events.reduce(
          (state, e) =>
            decider.evolve(state, {
              type: e.type,
              data: e.data,
              metadata: { schemaVersion: 1, recordedAt: defaultNow.toISOString(), ...e.metadata },
            } as Parameters<BookDecider['evolve']>[1]),
          decider.initialState({ idempotencyWindow: policy.idempotencyWindow, timeZone: policy.timeZone }),
        );
      return {
        when(command: CommandInput, at: { now?: Date } = {}) {
          const run = (): DecidedEvent[] => decider.decide(parseCommand(command), fold(), { now: at.now ?? defaultNow, policy, bookId });
          return {
            then(expected: readonly DecidedEvent[]): void {
              deepStrictEqual(run(), expected);
            },
            /** The command is accepted and produces no event (a repeat, nothing due). */
            thenNothingHappened(): void {
              const events = run();
              if (events.length > 0) fail(`expected no events, but the command produced ${JSON.stringify(events)}`);
            },
            thenThrows(errorClass: ErrorClass, message?: RegExp): Error {
              try {
                const events = run();
                return fail(`expected ${errorClass.name}, but the command produced ${JSON.stringify(events)}`);
              } catch (error) {
                if (!(error instanceof errorClass)) throw error;
                if (message && !message.test(error.message)) {
                  fail(`expected a message matching ${message}, got: ${error.message}`);
                }
                return error;
              }
            },
          };
        },
        /** The folded state, for assertions on evolve. */
        state: fold,
      };
    },
  };
}

/**
 * A test kit that reads as a specification of the book:
 * `given(events).when(command).then(events)`, `.thenNothingHappened()` or
 * `.thenThrows(ErrorClass, /message/)`. Part of the public API so users can specify their
 * own policies; `deciderSpec.for(decider, options)` runs the same kit against any decider
 * of the book's types (the book itself is `bookDecider`, which `deciderSpec(options)` uses).
 *
 * @example
 * ```ts
 * const spec = deciderSpec({ policy: { maxPositions: 1 } });
 * spec.given([{ type: 'PositionTracked', data: { positionId: 'A', side: 'long', source: 'local' } }])
 *   .when({ type: 'Skip', positionId: 'A' })
 *   .then([{ type: 'PositionSkipped', data: { positionId: 'A', source: 'local' } }]);
 * deciderSpec.for(bookDecider).given([]).when({ type: 'Archive' }).thenNothingHappened();
 * ```
 */
export const deciderSpec = Object.assign((options: DeciderSpecOptions = {}) => specFor(bookDecider, options), {
  for: specFor,
});
