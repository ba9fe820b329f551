import { ConcurrencyError, CorruptionError } from '../errors/index.js';
import { bookStream, type NewEvent, type RecordedEvent, type Source } from '../events/index.js';
import type { EventStore } from '../store/port.js';
import { decide, type DecidedEvent } from './decide.js';
import { evolve } from './evolve.js';
import { parseCommand } from './parseCommand.js';
import type { BookPolicy } from './policy.js';
import type { Command, CommandInput } from './schemas.js';
import {
  BOOK_STATE_VERSION,
  bookStateFromJson,
  bookStateToJson,
  initialBookState,
  type BookState,
  type BookStateJson,
} from './state.js';

/** Where log lines go; a pino logger fits. */
export interface HandlerLogger {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
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
  /** The book after the command. Read-only: the handler owns it. */
  state: BookState;
  /** True when the commandId was seen before and nothing was appended. */
  duplicate: boolean;
}

/**
 * Runs commands against one book: load (snapshot, then the stream from its revision;
 * cached and caught up on each call), decide, append with the expected revision, and on a
 * ConcurrencyError reload and decide again with bounded, jittered back-off. Commands of one
 * handler run one at a time, in call order.
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
  private snapshotRevision = -1;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly opts: Required<Omit<CommandHandlerOptions, 'logger'>> & { logger?: HandlerLogger };

  constructor(options: CommandHandlerOptions) {
    this.stream = bookStream(options.bookId);
    this.opts = {
      now: () => new Date(),
      snapshotEvery: 1000,
      maxRetries: 10,
      backoffMs: 2,
      random: Math.random,
      ...options,
    };
  }

  get policy(): BookPolicy {
    return this.opts.policy;
  }

  /** Validates and runs one command. Throws ValidationError, InvalidTransitionError, RiskLimitError or ConcurrencyError. */
  handle(input: CommandInput | Command, options: HandleOptions = {}): Promise<CommandResult> {
    const command = parseCommand(input);
    return this.serialized(() => this.run(command, options));
  }

  /** The book, caught up with the log. */
  load(): Promise<BookState> {
    return this.serialized(() => this.catchUp());
  }

  /** Forgets the cached state: the next call loads from the snapshot and the log again. */
  reset(): void {
    this.state = null;
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async run(command: Command, options: HandleOptions): Promise<CommandResult> {
    const { store, maxRetries, backoffMs, random, now } = this.opts;
    for (let attempt = 0; ; attempt++) {
      const state = await this.catchUp();
      const commandId = command.commandId;
      const seen = commandId === undefined ? undefined : state.commands.get(commandId);
      if (seen) {
        const events = await store.readStream(this.stream, { fromRevision: seen.from, limit: seen.to - seen.from + 1 });
        return { events, state, duplicate: true };
      }
      const at = now();
      const decided = decide(command, state, { now: at, policy: this.opts.policy, source: options.source ?? 'local' });
      if (decided.length === 0) return { events: [], state, duplicate: false };
      const metadata = {
        recordedAt: at.toISOString(),
        ...(commandId === undefined ? {} : { commandId }),
        ...(options.correlationId === undefined ? {} : { correlationId: options.correlationId }),
        ...(options.causationId === undefined ? {} : { causationId: options.causationId }),
      };
      try {
        const result = await store.append(
          this.stream,
          decided.map((e: DecidedEvent) => ({ ...e, metadata }) as NewEvent),
          { expectedRevision: state.revision < 0 ? 'no_stream' : state.revision },
        );
        let next = state;
        for (const e of result.events) next = evolve(next, e);
        this.state = next;
        await this.maybeSnapshot(next);
        return { events: result.events, state: next, duplicate: false };
      } catch (error) {
        if (!(error instanceof ConcurrencyError) || attempt >= maxRetries) throw error;
        this.opts.logger?.debug({ stream: this.stream, attempt, expected: error.expected, actual: error.actual }, 'concurrent append, deciding again');
        // Full jitter: a random wait up to an exponentially growing ceiling.
        const ceiling = backoffMs * 2 ** Math.min(attempt, 8);
        await new Promise((r) => setTimeout(r, random() * ceiling));
      }
    }
  }

  /** Loads or catches up the cached state from the log. */
  private async catchUp(): Promise<BookState> {
    const { store } = this.opts;
    let state = this.state;
    if (state === null) {
      state = await this.fromSnapshot();
    }
    for (;;) {
      const page = await store.readStream(this.stream, { fromRevision: state.revision + 1, limit: 10_000 });
      for (const e of page) state = evolve(state, e);
      if (page.length < 10_000) break;
    }
    this.state = state;
    return state;
  }

  private async fromSnapshot(): Promise<BookState> {
    const { store, policy } = this.opts;
    const fresh = initialBookState({ idempotencyWindow: policy.idempotencyWindow, timeZone: policy.timeZone });
    const snapshot = await store.readSnapshot(this.stream);
    if (!snapshot || snapshot.version !== BOOK_STATE_VERSION) return fresh;
    const json = snapshot.state as BookStateJson;
    // A snapshot folded under other limits would fold differently from here on: replay instead.
    if (json.limits?.idempotencyWindow !== policy.idempotencyWindow || json.limits?.timeZone !== policy.timeZone) return fresh;
    const head = await store.streamRevision(this.stream);
    if (head < snapshot.revision) {
      throw new CorruptionError(
        `the snapshot of ${this.stream} is at revision ${snapshot.revision} but the log ends at revision ${head}: ` +
          `${snapshot.revision - head} event(s) are missing from the log (restore it, or run ptrack rebuild --accept-regression)`,
      );
    }
    this.snapshotRevision = snapshot.revision;
    return bookStateFromJson(json);
  }

  private async maybeSnapshot(state: BookState): Promise<void> {
    const every = this.opts.snapshotEvery;
    if (every <= 0 || state.revision - this.snapshotRevision < every) return;
    try {
      await this.opts.store.writeSnapshot(this.stream, { revision: state.revision, version: BOOK_STATE_VERSION, state: bookStateToJson(state) });
      this.snapshotRevision = state.revision;
    } catch (error) {
      // A snapshot is only a cache; the command itself succeeded.
      this.opts.logger?.warn({ err: error, stream: this.stream }, 'could not write a snapshot');
    }
  }
}
