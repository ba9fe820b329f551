import type { Observable } from 'rxjs';
import type { NewEvent, RecordedEvent } from '../events/index.js';

/**
 * What an append expects of its stream:
 * - `'any'`: no check;
 * - `'no_stream'`: the stream must not exist yet (the first writer wins);
 * - `'stream_exists'`: the stream must have at least one event;
 * - a number: the revision of the stream's last event (0-based).
 */
export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | number;

export interface AppendOptions {
  /** Default `'any'`. */
  expectedRevision?: ExpectedRevision;
}

export interface AppendResult {
  /** The stream's revision after the append: pass it as the next `expectedRevision`. */
  nextExpectedRevision: number;
  /** Global position of the last appended event. */
  position: number;
  /** The appended events as stored. */
  events: RecordedEvent[];
  /**
   * The store's {@link EventStore.changeToken} right after this commit, taken while the commit
   * held the write lock (nothing else was committed in between); absent where the engine has none.
   */
  changeToken?: string;
}

export interface ReadStreamOptions {
  /** First revision to return (inclusive). Default 0. */
  fromRevision?: number;
  /** Most events to return (1 to {@link MAX_PAGE}). Default {@link DEFAULT_PAGE}. */
  limit?: number;
}

export interface ReadAllOptions {
  /** Return events *after* this global position (exclusive); 0 reads from the start. Default 0. */
  fromPosition?: number;
  /** Most events to return (1 to {@link MAX_PAGE}). Default {@link DEFAULT_PAGE}. */
  limit?: number;
}

export interface SubscribeOptions {
  /** Deliver events *after* this global position (exclusive), e.g. a projection's checkpoint. Default 0. */
  fromPosition?: number;
}

/** The log's head: what the corruption guard compares checkpoints with. */
export interface LogHead {
  /** Global position of the last event; 0 when the log is empty. */
  position: number;
  /** How many events the log holds. */
  count: number;
}

/** A saved aggregate state, so a long stream need not be replayed from the start. */
export interface Snapshot {
  /** The stream revision the state includes (the last event folded in). */
  revision: number;
  /** Version of the state's shape; a different version is ignored and rebuilt. */
  version: number;
  state: unknown;
  /**
   * Set by readSnapshot on engines that store the state as JSON text (SQLite): that text, of which
   * `state` is the parse. It lets a reader check a checksum over the text as stored instead of
   * writing the state out again. Never written: writeSnapshot ignores it.
   */
  stateText?: string;
}

export const DEFAULT_PAGE = 1000;
export const MAX_PAGE = 10_000;

/**
 * The port every store engine implements (sqlite, memory, and later eventstoredb).
 * All engines pass one contract suite (test/store/contract.ts).
 *
 * @example
 * ```ts
 * const store = await openStore('sqlite:./state/trades.db');
 * await store.append(bookStream('main'), [event], { expectedRevision: 'no_stream' });
 * store.subscribe({ fromPosition: 0 }).subscribe((e) => console.log(e.position, e.type));
 * ```
 */
export interface EventStore {
  /** The engine's name: `sqlite`, `memory`, `eventstoredb`. */
  readonly engine: string;
  /** Where it lives, for messages (a file path, a server). */
  readonly location: string;
  /**
   * A value that changes whenever an event may have been committed since it was taken, by this
   * connection or any other; engines that cannot tell cheaply leave it out. A command handler
   * whose book was caught up at a token skips its catch-up read while the token stays the same.
   */
  changeToken?(): string;

  /**
   * Appends events atomically (all or none) if the stream is at `expectedRevision`.
   * Throws ValidationError for bad events (nothing written) and ConcurrencyError on a mismatch.
   */
  append(stream: string, events: readonly NewEvent[], options?: AppendOptions): Promise<AppendResult>;

  /** One page of a stream, in revision order. */
  readStream(stream: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;

  /** One page of the whole log, in global order. */
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;

  /** Catch-up from `fromPosition`, then live events (including other processes' appends where the engine is shared). */
  subscribe(options?: SubscribeOptions): Observable<RecordedEvent>;

  /** The last global position and the event count. */
  head(): Promise<LogHead>;

  /** The revision of a stream's last event; -1 when it does not exist. */
  streamRevision(stream: string): Promise<number>;

  readSnapshot(stream: string): Promise<Snapshot | null>;
  writeSnapshot(stream: string, snapshot: Snapshot): Promise<void>;

  /**
   * The engine's own check of its files (SQLite: `PRAGMA integrity_check`): what is damaged,
   * an empty list when sound. Left out by engines that have none (memory, servers).
   */
  checkIntegrity?(): Promise<string[]>;

  /** Releases files, timers and connections. Further calls fail. */
  close(): Promise<void>;
}
