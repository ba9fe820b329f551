import { createHash } from 'node:crypto';
import { BOOK_STATE_VERSION } from '../commands/index.js';
import type { RecordedEvent } from '../events/index.js';
import { canonicalJson } from './_internals/canonicalJson.js';

/**
 * A read model: a pure fold of the log. `evolve` takes the state and one recorded event and
 * returns the next state; it does no I/O and reads no clock (time comes from the events'
 * `metadata.recordedAt`). For speed on long logs it may update the state in place, so the
 * state passed in must not be used after the call, and `initialState()` makes a fresh one.
 *
 * `toJson(state)` is the document's `data` (what bots read, and everything needed to go on
 * from the checkpoint); `fromJson(toJson(s))` must fold on exactly as `s` would. `version`
 * names the shape and the settings the fold depends on: a document of another version is
 * rebuilt.
 *
 * @example
 * ```ts
 * const counter: Projection<{ n: number }, { n: number }> = {
 *   name: 'counter', version: '1',
 *   initialState: () => ({ n: 0 }),
 *   evolve: (s) => ({ n: s.n + 1 }),
 *   toJson: (s) => s,
 *   fromJson: (d) => ({ n: (d as { n: number }).n }),
 * };
 * ```
 */
export interface Projection<S = unknown, D = unknown> {
  /** File name without `.json`: letters, digits, `-` and `_`. */
  readonly name: string;
  readonly version: string;
  initialState(): S;
  evolve(state: S, event: RecordedEvent): S;
  toJson(state: S): D;
  /** Throws when `data` is not something `toJson` of this version writes. */
  fromJson(data: unknown): S;
  /**
   * Optional: a part of the state that projections with the same `key` fold alike (the five
   * read models all fold the book). While they stand at the same checkpoint the runner lets
   * them share one, so it is folded once per event. `fold` is opaque to the runner.
   */
  readonly sharedFold?: { key: string; get(state: S): unknown; set(state: S, fold: unknown): void };
}

/** A projection of any state, as the runner holds them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the runner is generic over each projection's own state
export type AnyProjection = Projection<any, unknown>;

/**
 * A projection's version: its shape's number, the book state's shape (the fold persists it),
 * and a fingerprint of the settings its fold depends on, so changing one of them rebuilds it.
 */
export function projectionVersion(shape: number, settings: unknown): string {
  const fingerprint = createHash('sha256').update(canonicalJson(settings)).digest('hex').slice(0, 12);
  return `${shape}.${BOOK_STATE_VERSION}-${fingerprint}`;
}

/**
 * Folds events into a projection's state from scratch: the reference every incremental
 * run is compared with.
 *
 * @example
 * ```ts
 * const data = portfolio.toJson(foldProjection(portfolio, events));
 * ```
 */
export function foldProjection<S>(projection: Projection<S>, events: Iterable<RecordedEvent>): S {
  let state = projection.initialState();
  for (const event of events) state = projection.evolve(state, event);
  return state;
}
