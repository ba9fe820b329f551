import { isDeepStrictEqual } from 'node:util';
import { CorruptionError, StoreError, UnexpectedStoreError, ValidationError } from '../errors/index.js';
import type { NewEvent, RecordedEvent } from '../events/index.js';
import { readWholeStream } from './iterate.js';
import { MAX_PAGE, type EventStore } from './port.js';

/** Where a migration is, for a progress line. */
export interface MigrateProgress {
  /** `verify`: the target is compared with the source; `copy`: missing events are appended; `check`: counts are compared. */
  phase: 'verify' | 'copy' | 'check';
  /** Source events looked at so far in this phase. */
  scanned: number;
  /** Source events when the migration started (its head count). */
  total: number;
  /** Events appended to the target so far. */
  copied: number;
  /** Events the target already held (checked equal), not written again. */
  skipped: number;
}

/** A target stream that disagrees with the source. */
export interface MigrationConflict {
  stream: string;
  /** The first revision where they differ; absent when the target simply holds more. */
  revision?: number;
  reason: string;
}

export interface MigrateReport {
  from: { engine: string; location: string };
  to: { engine: string; location: string };
  /** Source events copied or verified: the source's log as it was when the migration started. */
  events: number;
  streams: number;
  copied: number;
  skipped: number;
  /** Events the target holds at the end; more than `events` when it also holds other streams. */
  targetCount: number;
  /** Snapshots are a cache of the book's state: not copied, the target rebuilds them. */
  snapshots: 'not copied';
  dryRun: boolean;
}

export interface MigrateOptions {
  onProgress?: (progress: MigrateProgress) => void;
  /** Events per read. Default 1000. */
  pageSize?: number;
  /** Events per append (consecutive events of one stream). Default 500. */
  batchSize?: number;
  /** Verify and count what would be copied; append nothing. */
  dryRun?: boolean;
}

/**
 * The target holds streams that disagree with the source: another event at a revision, or more
 * events than the source. Nothing was written. Exit code 4: two logs that should be one history
 * are not, which a person must look at (the wrong target, or a source restored from an older
 * backup and written to since).
 */
export class MigrationConflictError extends StoreError {
  constructor(
    message: string,
    readonly conflicts: readonly MigrationConflict[],
  ) {
    super(message);
  }
  override readonly code = 'MIGRATION_CONFLICT' as const;
}

const MAX_CONFLICTS = 100;

function describeEvent(e: RecordedEvent): string {
  return `${e.type} recorded ${e.metadata.recordedAt}`;
}

/** What an append needs of a stored event: its envelope, metadata included (recordedAt, ids, schemaVersion). */
function toNew(e: RecordedEvent): NewEvent {
  return { type: e.type, data: e.data, metadata: e.metadata } as NewEvent;
}

function sameEvent(a: RecordedEvent, b: RecordedEvent): boolean {
  return a.type === b.type && isDeepStrictEqual(a.data, b.data) && isDeepStrictEqual(a.metadata, b.metadata);
}

/**
 * Copies every stream of `from` into `to`, in global order, keeping each event's stream and
 * revision (global positions are the target's own: a SQLite target numbers them 1, 2, 3, an
 * EventStoreDB target uses byte offsets). Safe to run again: events the target already holds are
 * checked equal (type, data, metadata) and skipped, so an interrupted or repeated run copies only
 * what is missing.
 *
 * 1. verify (nothing is written): the source is read in global order up to its current end; each
 *    stream's events already in the target must equal the source's, and no target stream may
 *    hold more events than the source. Any disagreement throws {@link MigrationConflictError}
 *    before a single event is written. Streams only the target holds are left alone.
 * 2. copy: the missing events are appended in global order, consecutive events of one stream in
 *    one batch, each batch with expected revision = the revision before it (or no stream), so a
 *    target that changes under the copy is refused (ConcurrencyError) rather than forked.
 * 3. check: each stream's length in the target equals the source's, and the target's head count
 *    is at least the source's.
 *
 * Events appended to the source after step 1 began are left for the next run. Snapshots are
 * not copied: they are a cache, rebuilt from the streams.
 *
 * @example
 * ```ts
 * const report = await migrateStore(await openStore('sqlite:./state/trades.db'), await openStore('esdb://localhost:2113?tls=false'), {
 *   onProgress: (p) => console.error(p.phase, p.scanned, '/', p.total),
 * });
 * console.log(report.copied, report.skipped);
 * ```
 */
export async function migrateStore(from: EventStore, to: EventStore, options: MigrateOptions = {}): Promise<MigrateReport> {
  if (from === to || (from.engine !== 'memory' && from.engine === to.engine && from.location === to.location)) {
    throw new ValidationError(`the source and the target are the same store (${from.engine} ${from.location}): name another target`);
  }
  const pageSize = Math.min(options.pageSize ?? 1000, MAX_PAGE);
  const batchSize = options.batchSize ?? 500;
  const dryRun = options.dryRun ?? false;
  const total = (await from.head()).count;
  const progress: MigrateProgress = { phase: 'verify', scanned: 0, total, copied: 0, skipped: 0 };
  const report = (): void => options.onProgress?.({ ...progress });

  // 1. verify. The source's stream lengths, and where its log ended when we looked.
  const lengths = new Map<string, number>();
  let end = 0;
  for (let after = 0; ;) {
    const page = await from.readAll({ fromPosition: after, limit: pageSize });
    for (const e of page) {
      const expected = lengths.get(e.stream) ?? 0;
      if (e.revision !== expected) {
        throw new CorruptionError(
          `the source ${from.location} is not a consistent log: "${e.stream}" jumps from revision ${expected - 1} to ${e.revision} at position ${e.position}; nothing was written`,
        );
      }
      lengths.set(e.stream, expected + 1);
      after = e.position;
    }
    end = after;
    progress.scanned += page.length;
    report();
    if (page.length < pageSize) break;
  }

  const present = new Map<string, number>();
  const conflicts: MigrationConflict[] = [];
  for (const [stream, length] of lengths) {
    const held = (await to.streamRevision(stream)) + 1;
    present.set(stream, held);
    if (held > length) {
      conflicts.push({ stream, reason: `the target holds ${held} events, the source ${length}` });
    } else if (held > 0) {
      const conflict = await compareStreams(from, to, stream, held, pageSize);
      if (conflict) conflicts.push(conflict);
    }
    if (conflicts.length >= MAX_CONFLICTS) break;
  }
  if (conflicts.length > 0) {
    const shown = conflicts
      .slice(0, 3)
      .map((c) => `${c.stream}${c.revision === undefined ? '' : ` at revision ${c.revision}`}: ${c.reason}`);
    throw new MigrationConflictError(
      `cannot migrate into ${to.engine} ${to.location}: ${conflicts.length}${conflicts.length >= MAX_CONFLICTS ? '+' : ''} stream${
        conflicts.length === 1 ? '' : 's'
      } disagree${conflicts.length === 1 ? 's' : ''} with the source (${shown.join('; ')}${conflicts.length > 3 ? '; ...' : ''}); nothing was written`,
      conflicts,
    );
  }

  // 2. copy, in global order, up to where the source ended in step 1.
  progress.phase = 'copy';
  progress.scanned = 0;
  report();
  let batch: RecordedEvent[] = [];
  const flush = async (): Promise<void> => {
    const first = batch[0];
    if (first === undefined) return;
    if (!dryRun) {
      await to.append(first.stream, batch.map(toNew), { expectedRevision: first.revision === 0 ? 'no_stream' : first.revision - 1 });
    }
    present.set(first.stream, first.revision + batch.length);
    progress.copied += batch.length;
    batch = [];
  };
  for (let after = 0; after < end;) {
    const page = await from.readAll({ fromPosition: after, limit: pageSize });
    for (const e of page) {
      if (e.position > end) break;
      after = e.position;
      progress.scanned += 1;
      if (e.revision < (present.get(e.stream) ?? 0)) {
        progress.skipped += 1;
        continue;
      }
      const last = batch[batch.length - 1];
      if (last !== undefined && (last.stream !== e.stream || batch.length >= batchSize)) await flush();
      batch.push(e);
    }
    await flush();
    report();
    if (page.length < pageSize) break;
  }
  await flush();

  // 3. check.
  progress.phase = 'check';
  report();
  const targetCount = (await to.head()).count;
  if (!dryRun) {
    for (const [stream, length] of lengths) {
      const held = (await to.streamRevision(stream)) + 1;
      if (held !== length) {
        throw new UnexpectedStoreError(
          `after the copy, "${stream}" holds ${held} events in the target and ${length} in the source: run migrate again`,
        );
      }
    }
    const events = [...lengths.values()].reduce((a, b) => a + b, 0);
    if (targetCount < events) {
      throw new UnexpectedStoreError(
        `after the copy, the target holds ${targetCount} events, fewer than the ${events} copied from the source`,
      );
    }
  }
  return {
    from: { engine: from.engine, location: from.location },
    to: { engine: to.engine, location: to.location },
    events: progress.scanned,
    streams: lengths.size,
    copied: progress.copied,
    skipped: progress.skipped,
    targetCount,
    snapshots: 'not copied',
    dryRun,
  };
}

/** The first revision below `held` where the two stores' streams differ, or null. Paged on both sides. */
async function compareStreams(
  from: EventStore,
  to: EventStore,
  stream: string,
  held: number,
  pageSize: number,
): Promise<MigrationConflict | null> {
  const source = readWholeStream(from, stream, { pageSize });
  const target = readWholeStream(to, stream, { pageSize });
  try {
    for (let revision = 0; revision < held; revision++) {
      const [s, t] = await Promise.all([source.next(), target.next()]);
      if (s.done || t.done) {
        return { stream, revision, reason: `${s.done ? 'the source' : 'the target'} ends early while reading` };
      }
      if (!sameEvent(s.value, t.value)) {
        const what =
          s.value.type !== t.value.type
            ? `source ${describeEvent(s.value)}, target ${describeEvent(t.value)}`
            : `both ${s.value.type}, but their ${isDeepStrictEqual(s.value.data, t.value.data) ? 'metadata' : 'data'} differ`;
        return { stream, revision, reason: what };
      }
    }
    return null;
  } finally {
    await Promise.all([source.return(undefined), target.return(undefined)]);
  }
}
