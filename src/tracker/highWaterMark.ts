import { closeSync, existsSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { CorruptionError } from '../errors/index.js';
import { checkRegression, type LogRegressionError, EventRef } from '../projections/index.js';
import { type AppendResult, type EventStore, type LogHead, SqliteEventStore } from '../store/index.js';

/*
 * The high-water mark: a small file beside a SQLite log (`<file>.hwm`) saying how far this
 * installation has seen the log go (event count, last position, and the event there). A book
 * command opens the tracker, and the tracker refuses a log that is now behind it: deleted,
 * zeroed, or an older copy put in its place. It is created (temp file, rename) when a tracker
 * opens a log for writing, then rewritten in place after every append (one write of a few hundred
 * bytes at offset 0: a rename per append made ext4 flush the file, a millisecond per command). It
 * is never fsynced: a mark lost, torn or left behind by a crash parses as no mark or an older one,
 * which only makes the guard see less, never more, since the log's own commit is durable before
 * the mark is written. The mark is the file's first line: what a longer, earlier mark (of another
 * process) leaves after it is ignored.
 *
 * Opening reads the head in O(1) on SQLite (the last position; positions are gap-free there, so
 * it is also the count) instead of counting every row: a cold open must not scan the log.
 */

const HighWaterMarkFile = z.strictObject({
  version: z.literal(1),
  log: z.string(),
  count: z.number().int().nonnegative(),
  position: z.number().int().nonnegative(),
  lastEvent: EventRef.nullable(),
});
type HighWaterMarkFile = z.infer<typeof HighWaterMarkFile>;

const HINT = '(restore the log, or run ptrack rebuild --accept-regression to accept the log as it is now)';

/**
 * Where the high-water mark of a store lives: `<file>.hwm` beside a SQLite file; null for
 * engines without a local file (memory, servers).
 *
 * @example
 * ```ts
 * highWaterMarkPathOf('sqlite', './state/trades.db'); // '/home/bot/state/trades.db.hwm'
 * ```
 */
export function highWaterMarkPathOf(engine: string, location: string): string | null {
  if (engine !== 'sqlite' || location === ':memory:' || location === '') return null;
  return `${resolve(location)}.hwm`;
}

function readMark(path: string): HighWaterMarkFile | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  try {
    // The mark is its first line: a longer mark written earlier (by another process) may follow it.
    const end = text.indexOf('\n');
    const parsed = HighWaterMarkFile.safeParse(JSON.parse(end < 0 ? text : text.slice(0, end)));
    // A torn or foreign file says nothing reliable: it is replaced by the next write.
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

function writeMark(path: string, mark: HighWaterMarkFile): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(mark)}\n`);
  renameSync(tmp, path);
}

/** The mark's file held open, rewritten in place (see the opening comment). */
class MarkWriter {
  private fd: number | null = null;
  constructor(private readonly path: string) {}

  write(mark: HighWaterMarkFile): void {
    this.fd ??= openSync(this.path, 'r+');
    writeSync(this.fd, `${JSON.stringify(mark)}\n`, 0, 'utf8');
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** The log's head as the mark needs it: O(1) on SQLite (see the opening comment). */
async function headOf(store: EventStore): Promise<LogHead> {
  if (store instanceof SqliteEventStore) {
    const position = store.lastPositionSync();
    return { position, count: position };
  }
  return store.head();
}

/**
 * Refuses to open a log that is gone while its high-water mark is still there: checked before
 * the store is opened, so a deleted file is not silently created again as an empty log.
 */
export function assertLogNotGone(engine: string, path: string): void {
  const markPath = highWaterMarkPathOf(engine, path);
  if (markPath === null || existsSync(resolve(path))) return;
  const mark = readMark(markPath);
  if (mark === null || mark.count === 0) return;
  throw new CorruptionError(
    `the log ${resolve(path)} is gone, but this installation has seen it hold ${mark.count} event(s) up to position ${mark.position} ` +
      `(high-water mark ${markPath}) ${HINT}`,
  );
}

/** A store whose appends move the mark forward, after they committed. */
export interface HighWaterMark {
  readonly path: string;
  /** Raises the mark to what an append returned. */
  advance(result: AppendResult): void;
  /** Sets the mark to the log's head as it is now (opening for writing, or accepting a regression). */
  reset(store: EventStore): Promise<void>;
  /** Lets go of the mark's file (the tracker's close). */
  close(): void;
}

async function lastEventRef(store: EventStore, head: LogHead): Promise<EventRef | null> {
  if (head.count === 0) return null;
  const [e] = await store.readAll({ fromPosition: Math.max(0, head.position - 1), limit: 1 });
  if (e === undefined || e.position !== head.position) return null;
  return { position: e.position, stream: e.stream, revision: e.revision, type: e.type, recordedAt: e.metadata.recordedAt };
}

/**
 * Checks `store` against its high-water mark and returns the mark to keep moving, or null for
 * engines without one. Throws a LogRegressionError (exit 4) when the log holds less than the
 * mark: fewer events, a head behind it, or another event at its position (see `checkRegression`).
 * With `write` the mark is raised to the head now, so a later loss is noticed even if this
 * process appends nothing.
 *
 * @example
 * ```ts
 * const mark = await openHighWaterMark(store, { write: true });
 * const result = await store.append(stream, events);
 * mark?.advance(result);
 * ```
 */
export async function openHighWaterMark(store: EventStore, options: { write: boolean }): Promise<HighWaterMark | null> {
  const path = highWaterMarkPathOf(store.engine, store.location);
  if (path === null) return null;
  let mark = readMark(path);
  const head = await headOf(store);
  const writer = new MarkWriter(path);
  if (mark !== null) {
    const problem: LogRegressionError | null = await checkRegression(
      store,
      [{ name: 'high-water mark', checkpoint: mark.position, eventCount: mark.count, lastEvent: mark.lastEvent }],
      head,
      { seen: 'this installation has seen', seenAt: 'this installation has seen the log', hint: `(high-water mark ${path}) ${HINT}` },
    );
    if (problem) throw problem;
  }
  const log = resolve(store.location);
  const handle: HighWaterMark = {
    path,
    advance(result) {
      const last = result.events.at(-1);
      if (last === undefined) return;
      const count = (mark?.count ?? 0) + result.events.length;
      if (mark !== null && result.position <= mark.position) return;
      mark = {
        version: 1,
        log,
        count,
        position: result.position,
        lastEvent: {
          position: last.position,
          stream: last.stream,
          revision: last.revision,
          type: last.type,
          recordedAt: last.metadata.recordedAt,
        },
      };
      // The append has committed: a mark that cannot be written must not fail it. The mark then
      // stays behind the log, which only makes the guard see less.
      try {
        writer.write(mark);
      } catch {
        writer.close();
        try {
          writeMark(path, mark);
        } catch {
          /* see above */
        }
      }
    },
    async reset(s) {
      writer.close();
      await acceptLogAsItIs(s);
      mark = readMark(path);
    },
    close() {
      writer.close();
    },
  };
  if (options.write && (mark === null || head.position > mark.position || head.count > mark.count)) await handle.reset(store);
  return handle;
}

/** The store as the tracker uses it: every append that commits moves the mark. */
export function markingAppends(store: EventStore, mark: HighWaterMark): EventStore {
  return new Proxy(store, {
    get(target, property) {
      if (property === 'append') {
        return async (...args: Parameters<EventStore['append']>): Promise<AppendResult> => {
          const result = await target.append(...args);
          mark.advance(result);
          return result;
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * Accepts the log as it is now: sets its high-water mark to the current head, so book
 * commands run on it again (`ptrack rebuild --accept-regression`). Returns the mark's path,
 * or null for engines without one.
 *
 * @example
 * ```ts
 * await acceptLogAsItIs(store); // after restoring an older backup on purpose
 * ```
 */
export async function acceptLogAsItIs(store: EventStore): Promise<string | null> {
  const path = highWaterMarkPathOf(store.engine, store.location);
  if (path === null) return null;
  const head = await headOf(store);
  writeMark(path, {
    version: 1,
    log: resolve(store.location),
    count: head.count,
    position: head.position,
    lastEvent: await lastEventRef(store, head),
  });
  return path;
}
