import { Subject, type Observable } from 'rxjs';
import { defaultCodec, type EventCodec, type NewEvent, type RecordedEvent } from '../events/index.js';
import {
  assertOpen,
  checkExpectedRevision,
  validateExpectedRevision,
  validateLimit,
  validateNonNegativeInt,
  validateStream,
} from './_internals/validate.js';
import type {
  AppendOptions,
  AppendResult,
  EventStore,
  LogHead,
  ReadAllOptions,
  ReadStreamOptions,
  Snapshot,
  SubscribeOptions,
} from './port.js';
import { pollingSubscription } from './subscription.js';

export interface MemoryEventStoreOptions {
  codec?: EventCodec;
  /** Clock for `recordedAt` when a writer leaves it out. */
  now?: () => Date;
}

/**
 * The in-process engine, for tests and simulations: the same semantics as SQLite
 * (validation, every expected-revision case, gapless positions), nothing on disk.
 *
 * @example
 * ```ts
 * const store = new MemoryEventStore();
 * ```
 */
export class MemoryEventStore implements EventStore {
  readonly engine = 'memory';
  readonly location = 'memory:';
  private readonly log: RecordedEvent[] = [];
  private readonly streams = new Map<string, RecordedEvent[]>();
  private readonly snapshots = new Map<string, Snapshot>();
  private readonly appended = new Subject<void>();
  private readonly closing = new Subject<void>();
  private readonly codec: EventCodec;
  private readonly now: () => Date;
  private closed = false;

  constructor(options: MemoryEventStoreOptions = {}) {
    this.codec = options.codec ?? defaultCodec;
    this.now = options.now ?? (() => new Date());
  }

  async append(stream: string, events: readonly NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
    assertOpen(this.closed, this.location);
    validateStream(stream);
    const expected = validateExpectedRevision(options.expectedRevision);
    const encoded = this.codec.encodeAll(events, this.now().toISOString());
    const existing = this.streams.get(stream);
    const current = existing ? existing.length - 1 : -1;
    checkExpectedRevision(stream, expected, current);
    if (encoded.length === 0) {
      return { nextExpectedRevision: current, position: this.log.length, events: [] };
    }
    const list = existing ?? [];
    // Stored as the JSON round trip, so readers see exactly what SQLite would give them.
    const recorded = encoded.map(
      (e, i): RecordedEvent =>
        ({
          type: e.type,
          data: JSON.parse(e.data),
          metadata: JSON.parse(e.metadata),
          stream,
          revision: current + 1 + i,
          position: this.log.length + 1 + i,
        }) as RecordedEvent,
    );
    for (const r of recorded) {
      this.log.push(r);
      list.push(r);
    }
    this.streams.set(stream, list);
    this.appended.next();
    return { nextExpectedRevision: current + recorded.length, position: this.log.length, events: recorded };
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    assertOpen(this.closed, this.location);
    validateStream(stream);
    const from = validateNonNegativeInt('fromRevision', options.fromRevision, 0);
    const limit = validateLimit(options.limit);
    return (this.streams.get(stream) ?? []).slice(from, from + limit);
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    assertOpen(this.closed, this.location);
    const from = validateNonNegativeInt('fromPosition', options.fromPosition, 0);
    const limit = validateLimit(options.limit);
    return this.page(from, limit);
  }

  private page(after: number, limit: number): RecordedEvent[] {
    // Positions are 1..n at indexes 0..n-1.
    return this.log.slice(after, after + limit);
  }

  subscribe(options: SubscribeOptions = {}): Observable<RecordedEvent> {
    assertOpen(this.closed, this.location);
    const from = validateNonNegativeInt('fromPosition', options.fromPosition, 0);
    return pollingSubscription({
      fromPosition: from,
      readPage: (after, limit) => this.page(after, limit),
      wake$: this.appended,
      until$: this.closing,
    });
  }

  async head(): Promise<LogHead> {
    assertOpen(this.closed, this.location);
    return { position: this.log.length, count: this.log.length };
  }

  async streamRevision(stream: string): Promise<number> {
    assertOpen(this.closed, this.location);
    return (this.streams.get(validateStream(stream))?.length ?? 0) - 1;
  }

  async readSnapshot(stream: string): Promise<Snapshot | null> {
    assertOpen(this.closed, this.location);
    const s = this.snapshots.get(stream);
    return s ? structuredClone(s) : null;
  }

  async writeSnapshot(stream: string, snapshot: Snapshot): Promise<void> {
    assertOpen(this.closed, this.location);
    // What was read as text elsewhere (stateText) is not part of what is stored.
    const { revision, version, state } = snapshot;
    this.snapshots.set(validateStream(stream), structuredClone({ revision, version, state }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.next();
    this.closing.complete();
    this.appended.complete();
  }
}
