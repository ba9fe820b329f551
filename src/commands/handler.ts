import { ConcurrencyError, CorruptionError, StoreError } from '../errors/index.js';
import { bookStream, type NewEvent, type RecordedEvent, type Source } from '../events/index.js';
import type { EventStore } from '../store/index.js';
import { decideBatch, type BatchCommand, type BatchOutcome } from './decideBatch.js';
import { evolve } from './evolve.js';
import { parseCommand } from './parseCommand.js';
import { retryOnConflict } from './retryOnConflict.js';
import { BOOK_SNAPSHOT_VERSION, bookFromSnapshot, decodeBookSnapshot, encodeBookSnapshot } from './snapshot.js';
import type { BookPolicy } from './policy.js';
import { commandTypes, type Command, type CommandInput } from './schemas.js';
import { forkBookState, freezeBookState, initialBookState, type BookState } from './state.js';
import { present } from '../_internals/present.js';

/** Where log lines go; a pino logger fits. */
export interface HandlerLogger {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** What a handled command came to: appended events, refused by a rule or bad input, a repeat of a commandId, or failed (the store, or conflicts past the retries). */
export type CommandOutcome = 'accepted' | 'rejected' | 'duplicate' | 'failed';

/**
 * Hooks the handler calls where things happen, for metrics (src/serve counts them; the core
 * imports no metrics library). Called synchronously with strings the handler already holds:
 * an implementation should only increment. A hook that throws is not the command's failure.
 *
 * @example
 * ```ts
 * const seen = new Map<string, number>();
 * const observer: CommandObserver = { onCommand: (type, outcome) => seen.set(`${type} ${outcome}`, (seen.get(`${type} ${outcome}`) ?? 0) + 1) };
 * new CommandHandler({ store, bookId: 'main', policy: BookPolicy.parse({}), observer });
 * ```
 */
export interface CommandObserver {
  /** One command handled (after it was parsed), with its outcome. */
  onCommand?(type: Command['type'], outcome: CommandOutcome): void;
  /** One append of a batch committed: how long the store took (seconds) and how many events it stored. */
  onAppend?(seconds: number, events: number): void;
}

export interface CommandHandlerOptions {
  store: EventStore;
  bookId: string;
  policy: BookPolicy;
  /** The clock; decide and the events' `recordedAt` take their time from it. */
  now?: () => Date;
  /** Write a snapshot after this many new events (0 = never). Default 1000. */
  snapshotEvery?: number;
  /** Attempts after a ConcurrencyError before giving up. Default 10. */
  maxRetries?: number;
  /** Base of the jittered exponential back-off between attempts (ms). Default 2. */
  backoffMs?: number;
  logger?: HandlerLogger;
  /** Randomness for the jitter (tests pin it). */
  random?: () => number;
  /** Most commands decided and appended in one transaction. Default 512. */
  maxBatch?: number;
  /** Metrics hooks (see {@link CommandObserver}). */
  observer?: CommandObserver;
}

export interface HandleOptions {
  correlationId?: string;
  causationId?: string;
  source?: Source;
}

/** What a handled command did. */
export interface CommandResult {
  /** The events appended (or, for a repeated commandId, the ones the first run appended). */
  events: RecordedEvent[];
  /** The book after the command, frozen: a value that later commands never change. */
  state: BookState;
  /** True when the commandId was seen before and nothing was appended. */
  duplicate: boolean;
}

const KNOWN_TYPES: ReadonlySet<string> = new Set(commandTypes);

type Job =
  | { kind: 'command'; command: Command; options: HandleOptions; resolve: (r: CommandResult) => void; reject: (e: unknown) => void }
  | { kind: 'load'; resolve: (s: BookState) => void; reject: (e: unknown) => void };

/**
 * Runs commands against one book, a batch at a time, in four steps: aggregate (snapshot, then
 * the stream from its revision; cached and caught up on each batch), decide the batch (pure,
 * `decideBatch`), append with the expected revision, publish (the book evolved from the
 * events the store returned, the callers answered, a snapshot when due). On a
 * ConcurrencyError the first three run again, with bounded, jittered back-off.
 *
 * Group commit: commands that arrive while a batch is being decided and appended wait for
 * the next batch; a batch is decided in call order against the cached book (each command
 * sees the events of the ones before it) and appended in one transaction. Every caller gets
 * its own events or its own rule error, and only after the transaction committed.
 *
 * @example
 * ```ts
 * const handler = new CommandHandler({ store, bookId: 'main', policy: BookPolicy.parse({}) });
 * const { events, state } = await handler.handle({ type: 'Track', positionId: 'AAPL-1', symbol: 'AAPL' });
 * ```
 */
export class CommandHandler {
  readonly stream: string;
  private state: BookState | null = null;
  /** The store's change token the cached book is caught up at (see EventStore.changeToken): while it holds, no catch-up read. */
  private token: string | undefined;
  private snapshotRevision = -1;
  private readonly pending: Job[] = [];
  private draining = false;
  /** Set by close(): new work is refused, what was accepted still runs. */
  private closing = false;
  private readonly whenIdle: (() => void)[] = [];
  private readonly opts: Required<Omit<CommandHandlerOptions, 'logger' | 'observer'>> & {
    logger?: HandlerLogger;
    observer?: CommandObserver;
  };

  constructor(options: CommandHandlerOptions) {
    this.stream = bookStream(options.bookId);
    this.opts = {
      now: () => new Date(),
      snapshotEvery: 1000,
      maxRetries: 10,
      backoffMs: 2,
      random: Math.random,
      maxBatch: 512,
      ...options,
    };
  }

  get policy(): BookPolicy {
    return this.opts.policy;
  }

  /** Validates and runs one command. Throws ValidationError, InvalidTransitionError, RiskLimitError or ConcurrencyError. */
  handle(input: CommandInput | Command, options: HandleOptions = {}): Promise<CommandResult> {
    let command: Command;
    try {
      command = parseCommand(input);
    } catch (error) {
      // Bad input of a known type is a refusal of that command; an unknown type names no command to count.
      const type = (input as { type?: unknown }).type;
      if (typeof type === 'string' && KNOWN_TYPES.has(type)) this.observe(type as Command['type'], 'rejected');
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => this.enqueue({ kind: 'command', command, options, resolve, reject }));
  }

  /** The book, caught up with the log. */
  load(): Promise<BookState> {
    return new Promise((resolve, reject) => this.enqueue({ kind: 'load', resolve, reject }));
  }

  /**
   * Stops taking work and waits for what was accepted: every command queued before the call
   * is decided and appended (or refused by its rules) as usual, and every command or load
   * after it is refused with a StoreError saying the book is closing. Call it before closing
   * the store.
   */
  close(): Promise<void> {
    this.closing = true;
    if (!this.draining && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.whenIdle.push(resolve));
  }

  /** Forgets the cached state: the next call loads from the snapshot and the log again. */
  reset(): void {
    this.state = null;
    this.token = undefined;
  }

  private enqueue(job: Job): void {
    if (this.closing) {
      const what = job.kind === 'command' ? `${job.command.type} was not run` : 'the book was not loaded';
      job.reject(
        new StoreError(
          `the handler of ${this.stream} is closing: ${what} (closing finishes the commands accepted before it, and refuses new ones)`,
        ),
      );
      return;
    }
    this.pending.push(job);
    if (this.draining) return;
    this.draining = true;
    // Let callers that are ready in this turn join the first batch.
    queueMicrotask(() => void this.drain());
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, this.opts.maxBatch);
        try {
          await this.runBatch(batch);
        } catch (error) {
          for (const job of batch) {
            if (job.kind === 'command') this.observe(job.command.type, 'failed');
            job.reject(error);
          }
        }
        // Callers resolved by this batch queue their next commands in microtasks: let them.
        await Promise.resolve();
      }
    } finally {
      this.draining = false;
      if (this.closing) for (const resolve of this.whenIdle.splice(0)) resolve();
    }
  }

  /**
   * One batch, as steps: aggregate (the committed book, caught up with the log) -> decide the
   * batch (pure) -> append with the expected revision -> publish; the first three again, from a
   * fresh read, when another writer got in first.
   *
   * The cached book is trusted first, with no look at the store: a batch that appends is
   * conditioned on the book's revision, so a book another writer moved on is caught by the
   * append itself (a conflict, then a fresh read and a new decision at once, with no back-off).
   * A batch that appends nothing (refusals, repeats) or answers a load has no such check: it
   * stands only if the store says nothing changed since the book was read, else it is decided
   * again from a fresh read.
   */
  private async runBatch(batch: Job[]): Promise<void> {
    const { maxRetries, backoffMs, random, now, policy } = this.opts;
    const commands: BatchCommand[] = [];
    let loads = false;
    for (const job of batch) {
      if (job.kind === 'load') {
        loads = true;
        continue;
      }
      const { correlationId, causationId, source } = job.options;
      const c: BatchCommand = { command: job.command };
      if (correlationId !== undefined) c.correlationId = correlationId;
      if (causationId !== undefined) c.causationId = causationId;
      if (source !== undefined) c.source = source;
      commands.push(c);
    }
    const decideAndAppend = async (committed: BookState) => {
      const decided = decideBatch(committed, commands, { now, policy, bookId: this.opts.bookId });
      const { events: appended, changeToken } = await this.append(committed.revision, decided.events);
      return { committed, decided, appended, changeToken };
    };
    let cached = this.state;
    const attempt = await retryOnConflict(
      async () => {
        const trusted = cached;
        cached = null;
        if (trusted !== null) {
          const decided = decideBatch(trusted, commands, { now, policy, bookId: this.opts.bookId });
          // A load, or a batch that appends nothing, needs the store's word that the book is current.
          if ((decided.events.length > 0 && !loads) || this.unchanged()) {
            if (decided.events.length === 0) return { committed: trusted, decided, appended: [], changeToken: undefined };
            try {
              const { events: appended, changeToken } = await this.append(trusted.revision, decided.events);
              return { committed: trusted, decided, appended, changeToken };
            } catch (error) {
              if (!(error instanceof ConcurrencyError)) throw error;
              this.opts.logger?.debug(
                { stream: this.stream, expected: error.expected, actual: error.actual },
                'the book was behind the log, deciding again',
              );
            }
          }
        }
        // The committed book: frozen, handed out as it is, never changed. The batch is decided
        // against a working state layered over it.
        return decideAndAppend(await this.aggregate());
      },
      {
        maxRetries,
        backoffMs,
        random,
        onConflict: (error, n) =>
          this.opts.logger?.debug(
            { stream: this.stream, attempt: n, expected: error.expected, actual: error.actual },
            'concurrent append, deciding again',
          ),
      },
    );
    await this.publish(batch, attempt.committed, attempt.decided.outcomes, attempt.appended, attempt.changeToken);
  }

  /** Whether the store can tell that nothing was committed since the cached book was read or written. */
  private unchanged(): boolean {
    const token = this.opts.store.changeToken?.();
    return token !== undefined && token === this.token;
  }

  /**
   * Appends a decided batch after revision `base`; nothing to append, no call. A failure leaves
   * the committed book as it was: callers holding it see no ghost.
   */
  private async append(base: number, events: NewEvent[]): Promise<{ events: RecordedEvent[]; changeToken?: string }> {
    if (events.length === 0) return { events: [] };
    const started = this.opts.observer?.onAppend ? performance.now() : 0;
    const result = await this.opts.store.append(this.stream, events, { expectedRevision: base < 0 ? 'no_stream' : base });
    if (this.opts.observer?.onAppend)
      this.safely(() => this.opts.observer?.onAppend?.((performance.now() - started) / 1000, result.events.length));
    return result.changeToken === undefined ? { events: result.events } : { events: result.events, changeToken: result.changeToken };
  }

  private observe(type: Command['type'], outcome: CommandOutcome): void {
    if (this.opts.observer?.onCommand) this.safely(() => this.opts.observer?.onCommand?.(type, outcome));
  }

  /** A hook that throws is logged, never the command's failure (its events are committed). */
  private safely(hook: () => void): void {
    try {
      hook();
    } catch (error) {
      this.opts.logger?.warn({ err: error, stream: this.stream }, 'a command observer threw');
    }
  }

  /**
   * After the commit: swaps in the book evolved from the events the store returned, writes a
   * snapshot when one is due, then answers every job of the batch (in order).
   */
  private async publish(
    batch: Job[],
    committed: BookState,
    outcomes: readonly BatchOutcome[],
    appended: RecordedEvent[],
    changeToken: string | undefined,
  ): Promise<void> {
    const base = committed.revision;
    let state = committed;
    if (appended.length > 0) {
      // The book moves on by what the store says it stored, and only now.
      state = this.commit(committed, appended);
      // The append was conditioned on this book's revision: the book holds every event up to that commit.
      this.token = changeToken;
      await this.maybeSnapshot(state);
    }
    // Repeats of commands from earlier batches are answered from the log: part of the batch, so close() waits for them.
    const reads: Promise<void>[] = [];
    let i = 0;
    for (const job of batch) {
      if (job.kind === 'load') {
        job.resolve(state);
        continue;
      }
      const o = present(outcomes[i++], 'the outcome of a command in the batch');
      this.observe(job.command.type, o.kind === 'error' ? 'rejected' : o.kind === 'events' ? 'accepted' : 'duplicate');
      if (o.kind === 'error') job.reject(o.error);
      else if (o.kind === 'events') job.resolve({ events: appended.slice(o.from, o.from + o.count), state, duplicate: false });
      else if (o.from > base) {
        // Its first run is in this very batch.
        job.resolve({ events: appended.slice(o.from - base - 1, o.to - base), state, duplicate: true });
      } else {
        reads.push(
          this.opts.store
            .readStream(this.stream, { fromRevision: o.from, limit: o.to - o.from + 1 })
            .then((events) => job.resolve({ events, state, duplicate: true }), job.reject),
        );
      }
    }
    await Promise.all(reads);
  }

  /** The next committed book: `events` (as stored) folded into a fork of `from`, frozen, and cached. */
  private commit(from: BookState, events: readonly RecordedEvent[]): BookState {
    let next = forkBookState(from);
    for (const e of events) next = evolve(next, e);
    this.state = freezeBookState(next);
    return this.state;
  }

  /** The aggregate: the committed book, loaded (snapshot + tail) or caught up with the log. */
  private async aggregate(): Promise<BookState> {
    const { store } = this.opts;
    let state = this.state;
    // Taken before the read: a commit after it changes the token, so the next command reads again.
    const token = store.changeToken?.();
    if (state !== null && token !== undefined && token === this.token) return state;
    this.token = undefined;
    if (state === null) {
      state = await this.fromSnapshot();
      // Not handed out yet: the first pages may be folded into it in place.
      for (;;) {
        const page = await store.readStream(this.stream, { fromRevision: state.revision + 1, limit: 10_000 });
        for (const e of page) state = evolve(state, e);
        if (page.length < 10_000) break;
      }
      this.state = freezeBookState(state);
      this.token = token;
      return this.state;
    }
    for (;;) {
      const page = await store.readStream(this.stream, { fromRevision: state.revision + 1, limit: 10_000 });
      if (page.length > 0) state = this.commit(state, page);
      if (page.length < 10_000) break;
    }
    this.token = token;
    return state;
  }

  private async fromSnapshot(): Promise<BookState> {
    const { store, policy } = this.opts;
    const fresh = initialBookState({ idempotencyWindow: policy.idempotencyWindow, timeZone: policy.timeZone });
    this.snapshotRevision = -1;
    const snapshot = await store.readSnapshot(this.stream);
    if (!snapshot || snapshot.version !== BOOK_SNAPSHOT_VERSION) return fresh;
    const decoded = decodeBookSnapshot(snapshot);
    if (!decoded.ok) {
      // A snapshot is a cache: a bad one is dropped (and rewritten later), the log is the truth.
      this.opts.logger?.warn(
        { stream: this.stream, revision: snapshot.revision, reason: decoded.reason },
        `discarded the snapshot of ${this.stream}: ${decoded.reason}; replaying the log`,
      );
      return fresh;
    }
    const json = decoded.json;
    // A snapshot folded under other limits would fold differently from here on: replay instead.
    if (json.limits.idempotencyWindow !== policy.idempotencyWindow || json.limits.timeZone !== policy.timeZone) return fresh;
    const head = await store.streamRevision(this.stream);
    if (head < snapshot.revision) {
      throw new CorruptionError(
        `the snapshot of ${this.stream} is at revision ${snapshot.revision} but the log ends at revision ${head}: ` +
          `${snapshot.revision - head} event(s) are missing from the log (restore it, or run ptrack rebuild --accept-regression)`,
      );
    }
    this.snapshotRevision = snapshot.revision;
    return bookFromSnapshot(json);
  }

  private async maybeSnapshot(state: BookState): Promise<void> {
    if (this.opts.snapshotEvery <= 0) return;
    // A snapshot costs the size of the book: with more live positions than snapshotEvery,
    // write one every (positions) events instead, so its share of each command stays bounded.
    const every = Math.max(this.opts.snapshotEvery, state.positions.size);
    if (state.revision - this.snapshotRevision < every) return;
    try {
      await this.opts.store.writeSnapshot(this.stream, encodeBookSnapshot(state));
      this.snapshotRevision = state.revision;
    } catch (error) {
      // A snapshot is only a cache; the command itself succeeded.
      this.opts.logger?.warn({ err: error, stream: this.stream }, 'could not write a snapshot');
    }
  }
}
