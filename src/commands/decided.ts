import type { EventData, EventType, Source } from '../events/index.js';
import type { BookPolicy } from './policy.js';

/*
 * The decider's own types, in a file of their own so every decide* module can use them
 * without importing the dispatcher (which imports them: that was a cycle).
 */

/** An event as `decide` returns it: the handler adds metadata and appends it. */
export type DecidedEvent = { [K in EventType]: { type: K; data: EventData<K> } }[EventType];

/** What `decide` needs besides the command and the state: time, rules and who is asking. */
export interface DecideContext {
  now: Date;
  policy: BookPolicy;
  /** Where the command comes from; recorded on every event. Default `local`. */
  source?: Source;
  /**
   * The book the command is for: client order ids are derived from it, so two books on one
   * venue account never share one. The handler passes its own; default `main`.
   */
  bookId?: string;
}
