import { randomUUID } from 'node:crypto';
import { Subject, map, type Observable } from 'rxjs';
import type * as EsdbClient from '@eventstore/db-client';
import type {
  AllStreamResolvedEvent,
  EventStoreDBClient,
  ReadPosition,
  ReadRevision,
  RecordedEvent as EsdbRecordedEvent,
  ResolvedEvent,
} from '@eventstore/db-client';
import { StoreError, StoreUnavailableError, TrackerError, UnexpectedStoreError, ValidationError } from '../../errors/index.js';
import { STREAM_PREFIX, defaultCodec, type EventCodec, type NewEvent, type RecordedEvent } from '../../events/index.js';
import { quote } from '../../_internals/zodIssues.js';
import {
  assertOpen,
  checkExpectedRevision,
  validateExpectedRevision,
  validateLimit,
  validateNonNegativeInt,
  validateStream,
} from '../_internals/validate.js';
import type {
  AppendOptions,
  AppendResult,
  EventStore,
  LogHead,
  ReadAllOptions,
  ReadStreamOptions,
  Snapshot,
  SubscribeOptions,
} from '../port.js';
import { parseEsdbConnectionString, type EsdbConnection } from './connectionString.js';
import { isUnavailable, mapEsdbError } from './errors.js';
import { preflight } from './preflight.js';
import {
  comparePositions,
  fromPublicPosition,
  toEsdbExpectedRevision,
  toPublicPosition,
  toRevision,
  type EsdbPosition,
} from './positions.js';
import { resilientSubscription, type BackoffOptions, type RetryInfo } from './resilientSubscription.js';
import { clampTimerMs } from '../../_internals/timers.js';
import { definedFields } from '../../_internals/definedFields.js';
import { lastOf } from '../../_internals/present.js';

type ClientModule = typeof EsdbClient;

export interface EventStoreDbStoreOptions {
  codec?: EventCodec;
  /** Clock for `recordedAt` when a writer leaves it out. */
  now?: () => Date;
  /**
   * Put before every stream name on the server (`<namespace>tradelog-<book>`), so several
   * deployments, or test runs, can share one database without seeing each other. Default ''.
   */
  namespace?: string;
  /**
   * Only the books whose id starts with this (`tradelog-<bookPrefix>...`): readAll, subscribe and
   * head() see that range alone, filtered on the server, and appends outside it are refused. One
   * projection worker per range splits the load of many books. Default '' (every book).
   */
  bookPrefix?: string;
  /** How long opening waits for the server's first answer (ms). Default 5000. */
  connectTimeoutMs?: number;
  /** How long one read call may take before it counts as unreachable (ms). Default 30000. */
  readTimeoutMs?: number;
  /** Events asked of the server per call when scanning $all. Default 1000. */
  scanPageSize?: number;
  /** Resubscribing after a drop: back-off, attempts in a row before giving up (default never), and a hook to log it. */
  subscription?: { backoff?: BackoffOptions; maxAttempts?: number; onRetry?: (info: RetryInfo<EsdbPosition>) => void };
}

const NAMESPACE = /^[A-Za-z0-9_.:-]{0,100}$/;
const SNAPSHOT_TYPE = 'PtrackSnapshot';

/** Loads the client on first use: it pulls in gRPC (about a second), which sqlite users never pay for. */
async function loadClient(): Promise<ClientModule> {
  try {
    const mod = (await import('@eventstore/db-client')) as ClientModule & { default?: ClientModule };
    return typeof mod.EventStoreDBClient === 'function' ? mod : (mod.default ?? mod);
  } catch (error) {
    throw new UnexpectedStoreError(
      `the eventstoredb engine needs the package @eventstore/db-client, which could not be loaded (${error instanceof Error ? error.message : String(error)}); run npm install`,
      { cause: error },
    );
  }
}

function typeOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'type' in error ? String((error as { type: unknown }).type) : undefined;
}

/** Rejects with `onTimeout()` when `work` has not settled within `ms`; `cancel` stops the work. */
async function within<T>(work: Promise<T>, ms: number, onTimeout: () => Error, cancel?: () => unknown): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      try {
        void Promise.resolve(cancel?.()).catch(() => undefined);
      } finally {
        reject(onTimeout());
      }
    }, clampTimerMs(ms));
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function textOf(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  return JSON.stringify(value);
}

/**
 * The engine for many machines: an EventStoreDB (KurrentDB) node or cluster, through
 * `@eventstore/db-client` over gRPC. Same port, same contract suite as SQLite:
 * - appends map the expected revision to ANY / NO_STREAM / STREAM_EXISTS / a bigint revision,
 *   and `WrongExpectedVersionError` to our `ConcurrencyError`;
 * - every read is paged with `maxCount` (the client's default reads everything);
 * - `subscribe` is `subscribeToAll` filtered on the trade-log prefix, from a checkpoint, and
 *   resubscribes by itself after a drop, from the last delivered event;
 * - positions are the events' commit positions in `$all` (byte offsets), carried as numbers:
 *   exact up to 2^53 - 1, refused beyond (see positions.ts).
 * Only trade-log streams (`tradelog-<book>`) are written and read: other streams on the same
 * server are not part of the log.
 *
 * @example
 * ```ts
 * const store = await EventStoreDbStore.open('esdb://localhost:2113?tls=false');
 * console.log(await store.head());
 * await store.close();
 * ```
 */
export class EventStoreDbStore implements EventStore {
  readonly engine = 'eventstoredb';
  readonly location: string;
  private readonly lib: ClientModule;
  private readonly client: EventStoreDBClient;
  private readonly connection: EsdbConnection;
  private readonly codec: EventCodec;
  private readonly now: () => Date;
  private readonly namespace: string;
  private readonly prefix: string;
  private readonly bookPrefix: string;
  private readonly readTimeoutMs: number;
  private readonly scanPageSize: number;
  private readonly subscriptionOptions: NonNullable<EventStoreDbStoreOptions['subscription']>;
  private readonly closing = new Subject<void>();
  private closed = false;
  /** The running count behind `head()`: how far $all was scanned, and what it held of ours. */
  private counted: { scanned: EsdbPosition | undefined; count: number; position: number } = { scanned: undefined, count: 0, position: 0 };
  private headQueue: Promise<unknown> = Promise.resolve();

  private constructor(lib: ClientModule, client: EventStoreDBClient, connection: EsdbConnection, options: EventStoreDbStoreOptions) {
    this.lib = lib;
    this.client = client;
    this.connection = connection;
    this.location = connection.display;
    this.codec = options.codec ?? defaultCodec;
    this.now = options.now ?? (() => new Date());
    this.namespace = options.namespace ?? '';
    this.bookPrefix = options.bookPrefix ?? '';
    this.prefix = `${this.namespace}${STREAM_PREFIX}${this.bookPrefix}`;
    this.readTimeoutMs = options.readTimeoutMs ?? 30_000;
    this.scanPageSize = Math.max(2, Math.min(options.scanPageSize ?? 1000, 10_001));
    this.subscriptionOptions = options.subscription ?? {};
  }

  /**
   * Reaches a node, loads the client, and makes one cheap call (the last event of $all), each
   * within `connectTimeoutMs`: an unreachable or silent server is a StoreUnavailableError (exit code 5)
   * after a bounded wait, never a hang.
   */
  static async open(spec: string | EsdbConnection, options: EventStoreDbStoreOptions = {}): Promise<EventStoreDbStore> {
    const connection = typeof spec === 'string' ? parseEsdbConnectionString(spec) : spec;
    const namespace = options.namespace ?? '';
    if (!NAMESPACE.test(namespace)) {
      throw new ValidationError(`namespace: expected up to 100 letters, digits or _ . : -, got ${quote(namespace)}`);
    }
    if (!NAMESPACE.test(options.bookPrefix ?? '')) {
      throw new ValidationError(`bookPrefix: expected up to 100 letters, digits or _ . : -, got ${quote(options.bookPrefix)}`);
    }
    const timeoutMs = options.connectTimeoutMs ?? 5000;
    await preflight(connection, timeoutMs);
    const lib = await loadClient();
    let client: EventStoreDBClient;
    try {
      client = lib.EventStoreDBClient.connectionString(connection.connectionString);
    } catch (error) {
      throw new StoreError(`store "${connection.display}": ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`, {
        cause: error,
      });
    }
    const store = new EventStoreDbStore(lib, client, connection, options);
    try {
      await within(
        // The inner deadline is a backstop: the message below is the one to see.
        store.readAllPage(lib.END, 1, 'backwards', { timeoutMs: timeoutMs + 1000, operation: 'connect' }),
        timeoutMs,
        () =>
          new StoreUnavailableError(
            `no answer from EventStoreDB at ${connection.display} within ${timeoutMs / 1000} s (is the server running and reachable? docker compose up -d starts one${
              connection.tls ? '; a development node without TLS needs ?tls=false' : ''
            })`,
          ),
      );
    } catch (error) {
      await store.release();
      throw error instanceof TrackerError ? error : mapEsdbError(error, store.context('connect'));
    }
    return store;
  }

  private context(operation: string, extra: { stream?: string; expected?: AppendOptions['expectedRevision'] } = {}) {
    return { location: this.location, operation, tls: this.connection.tls, ...extra };
  }

  private physical(stream: string): string {
    return `${this.namespace}${stream}`;
  }

  private logical(physical: string): string {
    return physical.slice(this.namespace.length);
  }

  private assertTradeStream(stream: string): void {
    if (!stream.startsWith(STREAM_PREFIX)) {
      throw new ValidationError(
        `stream: the eventstoredb engine keeps trade-log streams only (${STREAM_PREFIX}<book>), got ${quote(stream)}`,
      );
    }
    if (!stream.startsWith(`${STREAM_PREFIX}${this.bookPrefix}`)) {
      throw new ValidationError(
        `stream: this store was opened for the books starting with ${quote(this.bookPrefix)} and would never read ${quote(stream)} back`,
      );
    }
  }

  /** Reads a call's events into an array, bounded by `maxCount` and the read timeout. */
  private async collect<T>(
    read: { cancel(): Promise<void> } & AsyncIterable<T>,
    operation: string,
    options: { stream?: string; missingIsEmpty?: boolean; timeoutMs?: number } = {},
  ): Promise<T[]> {
    const out: T[] = [];
    const timeoutMs = options.timeoutMs ?? this.readTimeoutMs;
    try {
      await within(
        (async () => {
          for await (const item of read) out.push(item);
        })(),
        timeoutMs,
        () => new StoreUnavailableError(`${operation} on EventStoreDB ${this.location}: no answer within ${timeoutMs / 1000} s`),
        () => read.cancel(),
      );
    } catch (error) {
      if (options.missingIsEmpty && typeOf(error) === 'stream-not-found') return [];
      throw mapEsdbError(error, this.context(operation, definedFields({ stream: options.stream })));
    }
    return out;
  }

  private readAllPage(
    from: ReadPosition,
    maxCount: number,
    direction: 'forwards' | 'backwards',
    options: { timeoutMs?: number; operation?: string } = {},
  ): Promise<AllStreamResolvedEvent[]> {
    const read = this.client.readAll({ fromPosition: from, maxCount, direction, resolveLinkTos: false });
    return this.collect(read, options.operation ?? 'read $all', definedFields({ timeoutMs: options.timeoutMs }));
  }

  private readStreamPage(
    stream: string,
    from: ReadRevision,
    maxCount: number,
    direction: 'forwards' | 'backwards',
    physical = this.physical(stream),
  ): Promise<ResolvedEvent[]> {
    // From the leader: a writer reading back what it just appended must see it.
    const read = this.client.readStream(physical, { fromRevision: from, maxCount, direction, resolveLinkTos: false, requiresLeader: true });
    return this.collect(read, `read "${stream}"`, { stream, missingIsEmpty: true });
  }

  /** A stored event as ours: parsed and validated by the codec, like every engine's reads. */
  private decode(e: EsdbRecordedEvent): RecordedEvent {
    return this.codec.decode({
      stream: this.logical(e.streamId),
      revision: toRevision(e.revision),
      position: toPublicPosition(e.position),
      type: e.type,
      data: textOf(e.data),
      metadata: textOf(e.metadata),
    });
  }

  async append(stream: string, events: readonly NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
    assertOpen(this.closed, this.location);
    validateStream(stream);
    const expected = validateExpectedRevision(options.expectedRevision);
    this.assertTradeStream(stream);
    const encoded = this.codec.encodeAll(events, this.now().toISOString());
    if (encoded.length === 0) {
      // Nothing to write: the check is ours (the server's answer to an empty write varies by version).
      const [last] = await this.readStreamPage(stream, this.lib.END, 1, 'backwards');
      const current = last?.event ? toRevision(last.event.revision) : -1;
      checkExpectedRevision(stream, expected, current);
      return { nextExpectedRevision: current, position: last?.event ? toPublicPosition(last.event.position) : 0, events: [] };
    }
    const data = encoded.map((e) =>
      this.lib.jsonEvent({
        id: randomUUID(),
        type: e.type,
        data: e.event.data as Record<string, unknown>,
        metadata: e.event.metadata as Record<string, unknown>,
      }),
    );
    let next: number;
    try {
      const result = await this.client.appendToStream(this.physical(stream), data, { expectedRevision: toEsdbExpectedRevision(expected) });
      next = toRevision(result.nextExpectedRevision);
    } catch (error) {
      throw mapEsdbError(error, this.context(`append to "${stream}"`, { stream, expected }));
    }
    // The append answers with the last revision only: read the batch back for each event's position.
    const first = next - encoded.length + 1;
    const recorded = await this.readBack(stream, first, encoded.length);
    return { nextExpectedRevision: next, position: lastOf(recorded, 'event read back').position, events: recorded };
  }

  private async readBack(stream: string, first: number, count: number): Promise<RecordedEvent[]> {
    for (let attempt = 0; ; attempt++) {
      const page = await this.readStreamPage(stream, BigInt(first), count, 'forwards');
      const events = page.flatMap((r) => (r.event ? [this.decode(r.event)] : []));
      if (events.length === count && events.every((e, i) => e.revision === first + i)) return events;
      if (attempt >= 3) {
        throw new UnexpectedStoreError(
          `the append to "${stream}" succeeded, but reading revisions ${first}..${first + count - 1} back returned ${events.length} events`,
        );
      }
      await new Promise((r) => setTimeout(r, 20 * (attempt + 1)));
    }
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    assertOpen(this.closed, this.location);
    validateStream(stream);
    const from = validateNonNegativeInt('fromRevision', options.fromRevision, 0);
    const limit = validateLimit(options.limit);
    const page = await this.readStreamPage(stream, BigInt(from), limit, 'forwards');
    return page.flatMap((r) => (r.event ? [this.decode(r.event)] : []));
  }

  /**
   * One page of the trade log after a position. `$all` also holds other streams (system events,
   * snapshots, other applications): they are read and passed over here, page by page, so the
   * cost follows everything written to the server after the position, not only trade events.
   */
  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    assertOpen(this.closed, this.location);
    const fromPosition = validateNonNegativeInt('fromPosition', options.fromPosition, 0);
    const limit = validateLimit(options.limit);
    const out: RecordedEvent[] = [];
    let after: EsdbPosition | undefined = fromPosition > 0 ? fromPublicPosition(fromPosition) : undefined;
    // The first call asks for no more than needed (+1: the server repeats the start event);
    // later ones for a full page, since other streams' events may sit in between.
    let asked = Math.min(this.scanPageSize, limit + 1);
    let page: AllStreamResolvedEvent[];
    try {
      page = await this.readAllPage(after ?? this.lib.START, asked, 'forwards');
    } catch (error) {
      if (after === undefined || isUnavailable(error)) throw error;
      // `fromPosition` is exclusive: a number that is not an event's position (a caller that
      // counts positions as 1, 2, 3) is refused by the server; reading from the next byte is
      // the same question, and is an event's position when the number was one before it.
      try {
        page = await this.readAllPage(fromPublicPosition(fromPosition + 1), asked, 'forwards');
      } catch {
        throw new StoreError(
          `position ${fromPosition} is not a position in this EventStoreDB log (a checkpoint taken from another store? rebuild the read models): ${
            error instanceof Error ? error.message : String(error)
          }`,
          { cause: error },
        );
      }
    }
    for (;;) {
      for (const r of page) {
        const e = r.event;
        if (!e) continue;
        if (after !== undefined && comparePositions(e.position, after) <= 0) continue;
        after = e.position;
        if (!e.streamId.startsWith(this.prefix)) continue;
        out.push(this.decode(e));
        if (out.length === limit) return out;
      }
      if (page.length < asked || after === undefined) return out;
      // Inclusive on the server: the first event of the next page is the last of this one, skipped above.
      asked = this.scanPageSize;
      page = await this.readAllPage(after, asked, 'forwards');
    }
  }

  subscribe(options: SubscribeOptions = {}): Observable<RecordedEvent> {
    assertOpen(this.closed, this.location);
    const fromPosition = validateNonNegativeInt('fromPosition', options.fromPosition, 0);
    const prefix = this.prefix;
    const filter = this.lib.streamNameFilter({ prefixes: [prefix] });
    const decode = (e: EsdbRecordedEvent): RecordedEvent => this.decode(e);
    const { backoff, maxAttempts, onRetry } = this.subscriptionOptions;
    return resilientSubscription<{ position: EsdbPosition; event: RecordedEvent }, EsdbPosition>({
      from: fromPosition > 0 ? fromPublicPosition(fromPosition) : undefined,
      open: (from) => {
        const subscription = this.client.subscribeToAll({ fromPosition: from ?? this.lib.START, filter, resolveLinkTos: false });
        async function* items(): AsyncGenerator<{ position: EsdbPosition; event: RecordedEvent }> {
          for await (const r of subscription) {
            const e = r.event;
            // The server filters on the prefix; the check here keeps a misconfigured filter from leaking other streams in.
            if (!e || !e.streamId.startsWith(prefix)) continue;
            yield { position: e.position, event: decode(e) };
          }
        }
        return { items: items(), close: () => subscription.unsubscribe() };
      },
      positionOf: (item) => item.position,
      compare: comparePositions,
      isRetryable: isUnavailable,
      mapError: (error) => mapEsdbError(error, this.context('subscribe to $all')),
      until$: this.closing,
      ...definedFields({ backoff, maxAttempts, onRetry }),
    }).pipe(map((item) => item.event));
  }

  /**
   * The last trade event's position and the number of trade events. EventStoreDB keeps no count
   * of events per stream prefix, so this store keeps one: the first call scans `$all` once
   * (cost: every event on the server), later calls scan only what was written since, plus one
   * read of the log's end to notice a log that went backwards (a restored or replaced database),
   * which starts the count again. Events deleted on the server below the scanned point are
   * noticed only by a fresh count (another process, or `ptrack head`).
   */
  async head(): Promise<LogHead> {
    assertOpen(this.closed, this.location);
    const run = this.headQueue.then(() => this.countForward());
    this.headQueue = run.catch(() => undefined);
    return run;
  }

  private async countForward(): Promise<LogHead> {
    const [tail] = await this.readAllPage(this.lib.END, 1, 'backwards');
    if (!tail?.event) {
      this.counted = { scanned: undefined, count: 0, position: 0 };
      return { position: 0, count: 0 };
    }
    let { scanned, count, position } = this.counted;
    if (scanned !== undefined && comparePositions(tail.event.position, scanned) < 0) {
      scanned = undefined;
      count = 0;
      position = 0;
    }
    for (;;) {
      const page = await this.readAllPage(scanned ?? this.lib.START, this.scanPageSize, 'forwards');
      for (const r of page) {
        const e = r.event;
        if (!e) continue;
        if (scanned !== undefined && comparePositions(e.position, scanned) <= 0) continue;
        scanned = e.position;
        if (!e.streamId.startsWith(this.prefix)) continue;
        count += 1;
        position = toPublicPosition(e.position);
      }
      this.counted = { scanned, count, position };
      if (page.length < this.scanPageSize) return { position, count };
    }
  }

  async streamRevision(stream: string): Promise<number> {
    assertOpen(this.closed, this.location);
    validateStream(stream);
    const [last] = await this.readStreamPage(stream, this.lib.END, 1, 'backwards');
    return last?.event ? toRevision(last.event.revision) : -1;
  }

  /** Snapshots live in `snapshot-<stream>` (outside the trade-log prefix): the last event is the snapshot. */
  private snapshotStream(stream: string): string {
    return this.physical(`snapshot-${stream}`);
  }

  async readSnapshot(stream: string): Promise<Snapshot | null> {
    assertOpen(this.closed, this.location);
    validateStream(stream);
    const [last] = await this.readStreamPage(`snapshot-${stream}`, this.lib.END, 1, 'backwards', this.snapshotStream(stream));
    const data = last?.event?.data as unknown;
    if (typeof data !== 'object' || data === null) return null;
    const { revision, version, state } = data as Partial<Snapshot>;
    // A damaged snapshot is only a cache: the stream rebuilds the state.
    if (typeof revision !== 'number' || typeof version !== 'number' || state === undefined) return null;
    if (!Number.isSafeInteger(revision) || !Number.isSafeInteger(version)) return null;
    return { revision, version, state };
  }

  async writeSnapshot(stream: string, snapshot: Snapshot): Promise<void> {
    assertOpen(this.closed, this.location);
    validateStream(stream);
    const name = this.snapshotStream(stream);
    try {
      const event = this.lib.jsonEvent({
        type: SNAPSHOT_TYPE,
        data: { revision: snapshot.revision, version: snapshot.version, state: snapshot.state } as Record<string, unknown>,
      });
      const result = await this.client.appendToStream(name, event, { expectedRevision: this.lib.ANY });
      // Only the last snapshot is read: let the server's scavenge drop older ones.
      if (result.nextExpectedRevision === 0n) await this.client.setStreamMetadata(name, { maxCount: 3 });
    } catch (error) {
      throw mapEsdbError(error, this.context(`write the snapshot of "${stream}"`));
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.next();
    this.closing.complete();
    await this.release();
  }

  /** Cancels every call and closes the connection, so the process can end. */
  private async release(): Promise<void> {
    await this.client.dispose().catch(() => undefined);
    // dispose() cancels the calls but leaves the gRPC channel open. On one node the channel is
    // there already (getChannel would not dial anew): close it so the process can end. A cluster's
    // channel may be gone after a reconnect and getChannel would run discovery again: left to gRPC.
    if (!this.connection.discover && this.connection.hosts.length === 1) {
      const internals = this.client as unknown as { getChannel?: () => Promise<{ close(): void }> };
      await within(
        Promise.resolve(internals.getChannel?.()).then((channel) => channel?.close()),
        1000,
        () => new Error('channel close timed out'),
      ).catch(() => undefined);
    }
  }
}
