import { ConcurrencyError, CorruptionError, StoreError, ValidationError } from '../errors/index.js';
import { quote } from '../_internals/zodIssues.js';
import { bookStream, CURRENT_SCHEMA_VERSION, type NewEvent, type RecordedEvent, type Source } from '../events/index.js';
import type { EventStore } from '../store/port.js';
import { decide } from './decide.js';
import type { DecidedEvent } from './decided.js';
import { evolve } from './evolve.js';
import { commandFingerprint, fingerprintType } from './fingerprint.js';
import { parseCommand } from './parseCommand.js';
import { BOOK_SNAPSHOT_VERSION, bookFromSnapshot, decodeBookSnapshot, encodeBookSnapshot } from './snapshot.js';
import type { BookPolicy } from './policy.js';
import type { Command, CommandInput } from './schemas.js';
import {
  forkBookState,
  freezeBookState,
  initialBookState,
  type BookState,
  type CommandRecord,
} from './state.js';

/** Same command id, another command: refused, naming both, rather than answered with the other's result. */
function reusedCommandId(command: Command, seen: CommandRecord): ValidationError {
  const id = command.commandId!;
  const revisions = seen.from === seen.to ? `revision ${seen.from}` : `revisions ${seen.from}-${seen.to}`;
  const about = 'positionId' in command && command.positionId !== undefined ? ` ${quote(command.positionId)}` : '';
  const firstType = fingerprintType(seen.fingerprint!);
  const same = firstType === command.type ? ` (another ${firstType}, with different fields)` : '';
  return new ValidationError(
    `commandId ${quote(id)} was already used for a ${firstType} command (${revisions}) and is now given to ${command.type}${about}${same}: ` +
      'a commandId names one command; use a new commandId for a new command',
    [{ path: 'commandId', message: `already used for a different command (${firstType})`, value: id }],
  );
}

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
  /** Most commands decided and appended in one transaction. Default 512. */
  maxBatch?: number;
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

type Job =
  | { kind: 'command'; command: Command; options: HandleOptions; resolve: (r: CommandResult) => void; reject: (e: unknown) => void }
  | { kind: 'load'; resolve: (s: BookState) => void; reject: (e: unknown) => void };

/**
 * Runs commands against one book: load (snapshot, then the stream from its revision;
 * cached and caught up on each batch), decide, append with the expected revision, and on a
 * ConcurrencyError reload and decide again with bounded, jittered back-off.
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
  private snapshotRevision = -1;
  private readonly pending: Job[] = [];
  private draining = false;
  /** Set by close(): new work is refused, what was accepted still runs. */
  private closing = false;
  private readonly whenIdle: (() => void)[] = [];
  private readonly opts: Required<Omit<CommandHandlerOptions, 'logger'>> & { logger?: HandlerLogger };

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
  }

  private enqueue(job: Job): void {
    if (this.closing) {
      const what = job.kind === 'command' ? `${job.command.type} was not run` : 'the book was not loaded';
      job.reject(new StoreError(`the handler of ${this.stream} is closing: ${what} (closing finishes the commands accepted before it, and refuses new ones)`));
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
          for (const job of batch) job.reject(error);
        }
        // Callers resolved by this batch queue their next commands in microtasks: let them.
        await Promise.resolve();
      }
    } finally {
      this.draining = false;
      if (this.closing) for (const resolve of this.whenIdle.splice(0)) resolve();
    }
  }

  private async runBatch(batch: Job[]): Promise<void> {
    const { store, maxRetries, backoffMs, random, now } = this.opts;
    for (let attempt = 0; ; attempt++) {
      // The committed book: frozen, handed out as it is, never changed. The batch is decided
      // against a working fork of it, made only once a command has events the next one must see.
      const committed = await this.catchUp();
      const base = committed.revision;
      let working = committed;
      let unfolded: Parameters<typeof evolve>[1][] = [];
      const toAppend: NewEvent[] = [];
      type Outcome =
        | { job: Job; kind: 'load' }
        | { job: Job; kind: 'error'; error: unknown }
        | { job: Job; kind: 'events'; from: number; count: number }
        | { job: Job; kind: 'duplicate'; from: number; to: number };
      const outcomes: Outcome[] = [];
      for (const job of batch) {
        if (job.kind === 'load') {
          outcomes.push({ job, kind: 'load' });
          continue;
        }
        if (unfolded.length > 0) {
          // The next command of the batch is decided against the results of the ones before it.
          if (working === committed) working = forkBookState(committed, 'scratch');
          for (const e of unfolded) working = evolve(working, e);
          unfolded = [];
        }
        const state = working;
        const { command, options } = job;
        const fingerprint = command.commandId === undefined ? undefined : commandFingerprint(command);
        const seen = command.commandId === undefined ? undefined : state.commands.get(command.commandId);
        if (seen) {
          // Events written before fingerprints carry none: such a repeat can only be taken on trust.
          if (seen.fingerprint !== undefined && seen.fingerprint !== fingerprint) {
            outcomes.push({ job, kind: 'error', error: reusedCommandId(command, seen) });
          } else {
            outcomes.push({ job, kind: 'duplicate', from: seen.from, to: seen.to });
          }
          continue;
        }
        let decided: DecidedEvent[];
        const at = now();
        try {
          decided = decide(command, state, { now: at, policy: this.opts.policy, source: options.source ?? 'local' });
        } catch (error) {
          outcomes.push({ job, kind: 'error', error });
          continue;
        }
        const metadata = {
          recordedAt: at.toISOString(),
          ...(command.commandId === undefined ? {} : { commandId: command.commandId, commandHash: fingerprint }),
          ...(options.correlationId === undefined ? {} : { correlationId: options.correlationId }),
          ...(options.causationId === undefined ? {} : { causationId: options.causationId }),
        };
        outcomes.push({ job, kind: 'events', from: toAppend.length, count: decided.length });
        for (const e of decided) {
          toAppend.push({ ...e, metadata } as NewEvent);
          unfolded.push({
            ...e,
            metadata: { ...metadata, schemaVersion: CURRENT_SCHEMA_VERSION[e.type] },
            revision: base + toAppend.length,
          } as Parameters<typeof evolve>[1]);
        }
      }

      let state = committed;
      let appended: RecordedEvent[] = [];
      if (toAppend.length > 0) {
        try {
          const result = await store.append(this.stream, toAppend, { expectedRevision: base < 0 ? 'no_stream' : base });
          appended = result.events;
        } catch (error) {
          // Nothing of the batch reached the committed book: callers holding it see no ghost.
          if (!(error instanceof ConcurrencyError) || attempt >= maxRetries) throw error;
          this.opts.logger?.debug({ stream: this.stream, attempt, expected: error.expected, actual: error.actual }, 'concurrent append, deciding again');
          // Full jitter: a random wait up to an exponentially growing ceiling.
          const ceiling = backoffMs * 2 ** Math.min(attempt, 8);
          await new Promise((r) => setTimeout(r, random() * ceiling));
          continue;
        }
        // The book moves on by what the store says it stored, and only now.
        state = this.commit(committed, appended);
        await this.maybeSnapshot(state);
      }

      // Repeats of commands from earlier batches are answered from the log: part of the batch, so close() waits for them.
      const reads: Promise<void>[] = [];
      for (const o of outcomes) {
        if (o.kind === 'load') (o.job as Extract<Job, { kind: 'load' }>).resolve(state);
        else if (o.kind === 'error') o.job.reject(o.error);
        else if (o.kind === 'events') {
          (o.job as Extract<Job, { kind: 'command' }>).resolve({ events: appended.slice(o.from, o.from + o.count), state, duplicate: false });
        } else {
          const job = o.job as Extract<Job, { kind: 'command' }>;
          if (o.from > base) {
            // Its first run is in this very batch.
            job.resolve({ events: appended.slice(o.from - base - 1, o.to - base), state, duplicate: true });
          } else {
            reads.push(
              store.readStream(this.stream, { fromRevision: o.from, limit: o.to - o.from + 1 }).then(
                (events) => job.resolve({ events, state, duplicate: true }),
                job.reject,
              ),
            );
          }
        }
      }
      await Promise.all(reads);
      return;
    }
  }

  /** The next committed book: `events` (as stored) folded into a fork of `from`, frozen, and cached. */
  private commit(from: BookState, events: readonly RecordedEvent[]): BookState {
    let next = forkBookState(from);
    for (const e of events) next = evolve(next, e);
    this.state = freezeBookState(next);
    return this.state;
  }

  /** Loads or catches up the cached state from the log. */
  private async catchUp(): Promise<BookState> {
    const { store } = this.opts;
    let state = this.state;
    if (state === null) {
      state = await this.fromSnapshot();
      // Not handed out yet: the first pages may be folded into it in place.
      for (;;) {
        const page = await store.readStream(this.stream, { fromRevision: state.revision + 1, limit: 10_000 });
        for (const e of page) state = evolve(state, e);
        if (page.length < 10_000) break;
      }
      this.state = freezeBookState(state);
      return this.state;
    }
    for (;;) {
      const page = await store.readStream(this.stream, { fromRevision: state.revision + 1, limit: 10_000 });
      if (page.length > 0) state = this.commit(state, page);
      if (page.length < 10_000) break;
    }
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
