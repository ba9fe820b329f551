import { decide, type DecideContext, type DecidedEvent } from './decide.js';
import { evolve, type FoldableEvent } from './evolve.js';
import type { Command } from './schemas.js';
import { initialBookState, type BookLimits, type BookState } from './state.js';

/**
 * A decider in the Emmett shape: `decide` (pure, may throw one typed error per broken rule),
 * `evolve` (folds one event, never throws) and `initialState`. The book is one; the test kit
 * (`deciderSpec.for`) takes any decider of the book's types, e.g. one that wraps it.
 */
export interface Decider<C, S, E, F, Ctx, Init = void> {
  decide(command: C, state: S, context: Ctx): E[];
  evolve(state: S, event: F): S;
  initialState(options?: Init): S;
}

/** A decider with the book's command, state and event types. */
export type BookDecider = Decider<Command, BookState, DecidedEvent, FoldableEvent, DecideContext, BookLimits>;

/**
 * The book as one decider value: `{ decide, evolve, initialState }`, to pass to the test kit
 * or to wrap with rules of your own.
 *
 * @example
 * ```ts
 * const state = events.reduce(bookDecider.evolve, bookDecider.initialState());
 * const next = bookDecider.decide(command, state, { now: new Date(), policy });
 * ```
 */
export const bookDecider: BookDecider = Object.freeze({ decide, evolve, initialState: initialBookState });
