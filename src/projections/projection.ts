import { createHash } from 'node:crypto';
import { BOOK_STATE_VERSION, type BookLimits } from '../commands/index.js';
import type { RecordedEvent } from '../events/index.js';
import { BookFold, type FoldStep, type ReadonlyBooks } from './_internals/bookFold.js';
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
   * Optional: the read model reads the book stage (see {@link BookStageReader}). The runner then
   * folds each event into the books once, hands them to every such read model, and persists
   * the books once, in their own file, instead of in each document.
   */
  readonly book?: BookStageReader<S>;
  /**
   * Optional: part of the read model lives in an append-only file beside its document (equity's
   * whole curve), so a write costs what was added, not the history. See {@link AppendOnlySeries}.
   */
  readonly series?: AppendOnlySeries<S>;
  /**
   * @deprecated Use `book`. A part of the state that projections with the same `key` fold alike:
   * while they stand at the same checkpoint the runner lets them share one (only for
   * projections without `book`). `fold` is opaque to the runner.
   */
  readonly sharedFold?: { key: string; get(state: S): unknown; set(state: S, fold: unknown): void };
}

/**
 * An append-only file beside a read model's document: `evolve` adds lines to the state, the
 * runner takes them (`take`) and appends them to `file`, made durable before the document that
 * counts them (`extent`: the file's length in bytes and lines, and the position of its last
 * line, all part of the document's data) is committed. A reader reads the file's first `bytes`
 * bytes; what lies beyond them was appended for a document not committed, and is cut on start.
 */
export interface AppendOnlySeries<S = unknown> {
  /** The file's name in the state directory. */
  readonly file: string;
  /** How many lines wait to be taken. */
  pending(state: S): number;
  /** The lines folded since the last call, each ending in a newline, in order; they are handed over once. */
  take(state: S): string[];
  /** How far the file goes once every line folded so far is appended. */
  extent(state: S): { bytes: number; points: number; lastPosition: number };
}

/**
 * How a read model reads the book stage: the books as the decider folds them, folded once per
 * event by whoever owns the stage (the runner, or the projection's own private fold when it is
 * used alone through `evolve`/`toJson`/`fromJson`). `evolve` gets what the event did to its
 * book (`step`, null for an event of no book) and the books after it, read-only; `toJson` is
 * the document's `data` without the books and `fromJson` reads it back. Read models with the
 * same `key` read the same stage, folded under `limits`.
 */
export interface BookStageReader<S = unknown> {
  readonly key: string;
  readonly limits: BookLimits;
  evolve(state: S, event: RecordedEvent, step: FoldStep | null, books: ReadonlyBooks): S;
  toJson(state: S, books: ReadonlyBooks): object;
  /** Throws when `data` is not something `toJson` of this version writes. */
  fromJson(data: unknown): S;
}

/**
 * The standalone methods of a read model that reads the book stage: its state keeps a private
 * fold (`state.fold`), which `evolve` folds, and which `toJson` writes as `data.fold` and
 * `fromJson` reads back, so the projection folds alone (foldProjection, replay). The runner
 * does not use them: it owns the stage and calls `book` with it.
 */
export function withPrivateFold<S extends { fold: BookFold }, D>(
  stage: BookStageReader<S>,
): Pick<Projection<S, D>, 'evolve' | 'toJson' | 'fromJson'> {
  return {
    evolve: (state, event) => stage.evolve(state, event, state.fold.apply(event), state.fold.books),
    toJson: (state) => ({ ...stage.toJson(state, state.fold.books), fold: state.fold.toJson() }) as D,
    fromJson(data) {
      const state = stage.fromJson(data);
      state.fold = BookFold.fromJson((data as { fold?: unknown }).fold, stage.limits);
      return state;
    },
  };
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
