import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { Subject, type Observable } from 'rxjs';
import { CorruptionError, StoreError, TrackerError, UnexpectedStoreError } from '../errors/index.js';
import { defaultCodec, type EncodedEvent, type EventCodec, type NewEvent, type RecordedEvent } from '../events/index.js';
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
import { APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION } from './sqliteSchema.js';
import { pollingSubscription } from './subscription.js';
import { lastOf, present } from '../_internals/present.js';

export interface SqliteEventStoreOptions {
  codec?: EventCodec;
  /** Clock for `recordedAt` when a writer leaves it out. */
  now?: () => Date;
  /** How often a subscription looks for other processes' commits (ms). Default 50. */
  pollIntervalMs?: number;
  /** How long a writer waits for another process's lock before failing (ms). Default 5000. */
  busyTimeoutMs?: number;
  /**
   * Open an existing trade log to read it: nothing is created, initialised or migrated, and the
   * connection is read-only. A missing or empty file is a StoreError (exit 2) naming the path.
   */
  readOnly?: boolean;
  /**
   * `false`: open an existing trade log read-write (for a reader that also checkpoints, like the
   * projection runner) but never create or initialise one; missing or empty is refused as with
   * `readOnly`. Default true.
   */
  create?: boolean;
}

type Row = [position: number, stream: string, revision: number, type: string, data: string, metadata: string];

function sqliteCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}

/** The 16 bytes every SQLite database file starts with. */
const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

function startsLikeSqlite(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const head = Buffer.alloc(SQLITE_MAGIC.length);
    return readSync(fd, head, 0, head.length, 0) === head.length && head.equals(SQLITE_MAGIC);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Runs SQLite's `integrity_check` or `quick_check` pragma: its findings one per line (the tree
 * numbers named after their table or index where SQLite can still say), empty when sound.
 * Throws what the driver throws when the check cannot run.
 */
function integrityFindings(db: Database.Database, pragma: 'integrity_check' | 'quick_check', max: number): string[] {
  const rows = db.prepare(`PRAGMA ${pragma}(${max})`).pluck().all() as string[];
  if (rows.length === 1 && rows[0] === 'ok') return [];
  let names = new Map<number, string>();
  try {
    const objects = db.prepare('SELECT rootpage, name FROM sqlite_master WHERE rootpage > 0').raw().all() as [number, string][];
    names = new Map(objects);
  } catch {
    // the schema itself is damaged: the page numbers are all there is
  }
  return rows
    .flatMap((row) => row.split('\n'))
    .filter((line) => line.trim() !== '' && !line.startsWith('*** in database'))
    .map((line) =>
      line.replace(/^Tree (\d+)/, (all, root: string) => (names.has(Number(root)) ? `${all} (${names.get(Number(root))})` : all)),
    )
    .slice(0, max);
}

/** What SQLite's quick check says is wrong (at most a few findings), or null when it cannot tell. */
function quickCheck(db: Database.Database | undefined): string | null {
  if (db === undefined || !db.open) return null;
  try {
    const found = integrityFindings(db, 'quick_check', 3);
    return found.length === 0 ? null : found.join('; ');
  } catch {
    return null;
  }
}

/**
 * A driver error that says the file is physically damaged (SQLITE_CORRUPT, or SQLITE_NOTADB for
 * a file that starts like an SQLite database, or that opened as one before) as a CorruptionError
 * (exit 4) naming the file, what SQLite found and what to do; null for any other error.
 */
function damage(path: string, error: unknown, doing: string, db?: Database.Database, opened = false): CorruptionError | null {
  const code = sqliteCode(error) ?? '';
  const corrupt = code.startsWith('SQLITE_CORRUPT') || (code === 'SQLITE_NOTADB' && (opened || startsLikeSqlite(path)));
  if (!corrupt) return null;
  const reason = error instanceof Error ? error.message : String(error);
  const found = quickCheck(db);
  return new CorruptionError(
    `the trade log ${path} is damaged (${code}: ${reason}${found === null ? '' : `; SQLite's check: ${found}`}) while ${doing}: ` +
      'nothing was written; restore it from a backup (`ptrack verify` runs the full integrity check)',
    { cause: error },
  );
}

/** Turns a driver or file-system error at open time into a StoreError (or CorruptionError for a damaged file) that says what to do. */
function openFailure(path: string, error: unknown, db?: Database.Database): StoreError | CorruptionError {
  if (error instanceof StoreError || error instanceof CorruptionError) return error;
  const damaged = damage(path, error, 'opening it', db);
  if (damaged !== null) return damaged;
  const code = sqliteCode(error) ?? '';
  const reason = error instanceof Error ? error.message : String(error);
  if (code === 'SQLITE_NOTADB') {
    return new StoreError(`${path} is not a trade log: it is not an SQLite database (nothing was written)`, { cause: error });
  }
  if (code === 'SQLITE_CANTOPEN' || code === 'EACCES' || code === 'EROFS' || code === 'EPERM' || code.startsWith('SQLITE_READONLY')) {
    return new StoreError(
      `cannot open the trade log at ${path}: ${reason} (the file and its directory ${dirname(path)} must be writable)`,
      { cause: error },
    );
  }
  return new UnexpectedStoreError(`cannot open the trade log at ${path}: ${reason}`, { cause: error });
}

/** What is at a trade log's path, as far as opening it is concerned. */
type Existing = 'missing' | 'empty' | 'log';

const KINDS: [keyof Stats, string][] = [
  ['isCharacterDevice', 'character device'],
  ['isBlockDevice', 'block device'],
  ['isFIFO', 'named pipe'],
  ['isSocket', 'socket'],
];

/**
 * Looks at what is at `path` without writing to it: refuses a directory or anything that is not
 * a regular file (`/dev/null`: SQLite would write `/dev/null-journal` beside it), anything that
 * is not a trade log (not SQLite, another application's database) or one written by a newer
 * schema. Returns whether the file is missing, empty (an empty file or SQLite database: ours to
 * initialise) or a trade log.
 */
function inspectExisting(path: string): Existing {
  if (!existsSync(path)) return 'missing';
  const stat = statSync(path);
  if (stat.isDirectory())
    throw new StoreError(`${path} is a directory, not a trade log file: name a file inside it (e.g. ${path}/trades.db)`);
  if (!stat.isFile()) {
    const kind = KINDS.find(([test]) => (stat[test] as () => boolean).call(stat))?.[1] ?? 'special file';
    throw new StoreError(`${path} is a ${kind}, not a regular file: a trade log is a file (e.g. ./state/trades.db); nothing was written`);
  }
  if (stat.size === 0) return 'empty';
  let db: Database.Database | undefined;
  let applicationId: number;
  let userVersion: number;
  let tables: string[];
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    applicationId = db.pragma('application_id', { simple: true }) as number;
    userVersion = db.pragma('user_version', { simple: true }) as number;
    tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];
  } catch (error) {
    throw openFailure(path, error, db);
  } finally {
    db?.close();
  }
  if (applicationId === APPLICATION_ID) {
    if (userVersion > SCHEMA_VERSION) {
      throw new StoreError(
        `${path} was written by a newer position-tracker (schema ${userVersion}; this build reads up to ${SCHEMA_VERSION}): upgrade, nothing was written`,
      );
    }
    // An older schema is a log all the same: read as it is, migrated by the next writable open.
    return userVersion === 0 ? 'empty' : 'log';
  }
  if (applicationId === 0 && tables.length === 0) return 'empty'; // an empty SQLite file: ours to initialise
  throw new StoreError(
    `${path} is not a trade log: it is an SQLite database of another application (application_id ${applicationId}, tables: ${
      tables.slice(0, 5).join(', ') || 'none'
    }); nothing was written`,
  );
}

/** For an open that must not create: a missing or empty file is refused, naming the path. */
function requireLog(file: string, existing: Existing): void {
  if (existing === 'missing') {
    throw new StoreError(
      `no trade log at ${file}: nothing was created (check the store path; \`ptrack init\` or a command that writes creates one)`,
    );
  }
  if (existing === 'empty') {
    throw new StoreError(
      `${file} is not a trade log yet (an empty file): nothing to read, nothing was written (\`ptrack init\` or a command that writes initialises it)`,
    );
  }
}

/**
 * The default engine: one SQLite file, any number of processes.
 * WAL with `synchronous=FULL` (set on every open: a WAL database reopened by the driver falls
 * back to NORMAL otherwise), a busy timeout, `UNIQUE(stream, revision)`, and every append one
 * `BEGIN IMMEDIATE` transaction that checks the expected revision under the write lock.
 *
 * @example
 * ```ts
 * const store = SqliteEventStore.open('./state/trades.db');
 * ```
 */
export class SqliteEventStore implements EventStore {
  readonly engine = 'sqlite';
  readonly location: string;
  private readonly db: Database.Database;
  private readonly codec: EventCodec;
  private readonly now: () => Date;
  private readonly pollIntervalMs: number;
  private readonly appended = new Subject<void>();
  private readonly closing = new Subject<void>();
  private closed = false;

  private readonly stmt: {
    revision: Database.Statement<[string], number | null>;
    insert: Database.Statement<[string, number, string, string, string]>;
    readStream: Database.Statement<[string, number, number], Row>;
    readAll: Database.Statement<[number, number], Row>;
    lastPosition: Database.Statement<[], [number]>;
    dataVersion: Database.Statement<[], number>;
    readSnapshot: Database.Statement<[string], [number, number, string]>;
    writeSnapshot: Database.Statement<[string, number, number, string, string]>;
  };
  private readonly appendTx: (
    stream: string,
    expected: ReturnType<typeof validateExpectedRevision>,
    events: EncodedEvent[],
  ) => { current: number; positions: number[]; version: number };
  /** Commits of events by this connection (PRAGMA data_version counts only the other connections'). */
  private ownCommits = 0;

  private constructor(path: string, db: Database.Database, options: SqliteEventStoreOptions) {
    this.location = path;
    this.db = db;
    this.codec = options.codec ?? defaultCodec;
    this.now = options.now ?? (() => new Date());
    this.pollIntervalMs = options.pollIntervalMs ?? 50;
    this.stmt = {
      revision: db.prepare<[string], number | null>('SELECT MAX(revision) FROM events WHERE stream = ?').pluck(),
      insert: db.prepare('INSERT INTO events (stream, revision, type, data, metadata) VALUES (?, ?, ?, ?, ?)'),
      readStream: db
        .prepare<[string, number, number], Row>(
          'SELECT position, stream, revision, type, data, metadata FROM events WHERE stream = ? AND revision >= ? ORDER BY revision LIMIT ?',
        )
        .raw(),
      readAll: db
        .prepare<[number, number], Row>(
          'SELECT position, stream, revision, type, data, metadata FROM events WHERE position > ? ORDER BY position LIMIT ?',
        )
        .raw(),
      lastPosition: db.prepare<[], [number]>('SELECT COALESCE(MAX(position), 0) FROM events').raw(),
      dataVersion: db.prepare<[], number>('PRAGMA data_version').pluck(),
      readSnapshot: db.prepare<[string], [number, number, string]>('SELECT revision, version, state FROM snapshots WHERE stream = ?').raw(),
      writeSnapshot: db.prepare(
        'INSERT INTO snapshots (stream, revision, version, state, written_at) VALUES (?, ?, ?, ?, ?) ' +
          'ON CONFLICT (stream) DO UPDATE SET revision = excluded.revision, version = excluded.version, state = excluded.state, written_at = excluded.written_at',
      ),
    };
    const tx = db.transaction((stream: string, expected: ReturnType<typeof validateExpectedRevision>, events: EncodedEvent[]) => {
      const current = this.stmt.revision.get(stream) ?? -1;
      checkExpectedRevision(stream, expected, current);
      const positions: number[] = [];
      let revision = current;
      for (const e of events) {
        revision += 1;
        positions.push(Number(this.stmt.insert.run(stream, revision, e.type, e.data, e.metadata).lastInsertRowid));
      }
      // Under the write lock: no other connection commits before ours, so this is the version just after it.
      const version = present(this.stmt.dataVersion.get(), 'PRAGMA data_version');
      return { current, positions, version };
    });
    this.appendTx = (stream, expected, events) => tx.immediate(stream, expected, events);
  }

  /**
   * Opens (creating when missing) the trade log at `path`; with `readOnly`, only an existing
   * one, for reading. Throws StoreError with what to do.
   */
  static open(path: string, options: SqliteEventStoreOptions = {}): SqliteEventStore {
    const file = resolve(path);
    const existing = inspectExisting(file);
    if (options.readOnly || options.create === false) requireLog(file, existing);
    if (options.readOnly) return SqliteEventStore.openToRead(file, options);
    let db: Database.Database | undefined;
    try {
      mkdirSync(dirname(file), { recursive: true });
      db = new Database(file, { timeout: options.busyTimeoutMs ?? 5000 });
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new StoreError(`cannot put ${file} in WAL mode (journal_mode stayed ${String(mode)})`);
      db.pragma('synchronous = FULL');
      const sync = db.pragma('synchronous', { simple: true });
      if (sync !== 2) throw new StoreError(`cannot set synchronous=FULL on ${file} (got ${String(sync)})`);
      migrate(db, file);
      return new SqliteEventStore(file, db, options);
    } catch (error) {
      const failure = openFailure(file, error, db);
      db?.close();
      throw failure;
    }
  }

  private static openToRead(file: string, options: SqliteEventStoreOptions): SqliteEventStore {
    let db: Database.Database | undefined;
    try {
      db = new Database(file, { readonly: true, fileMustExist: true, timeout: options.busyTimeoutMs ?? 5000 });
      return new SqliteEventStore(file, db, options);
    } catch (error) {
      const failure = openFailure(file, error, db);
      db?.close();
      throw failure;
    }
  }

  async append(stream: string, events: readonly NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
    return this.appendSync(stream, events, options);
  }

  /** The synchronous core of `append` (the driver is synchronous; callers in this package use it directly). */
  appendSync(stream: string, events: readonly NewEvent[], options: AppendOptions = {}): AppendResult {
    assertOpen(this.closed, this.location);
    validateStream(stream);
    const expected = validateExpectedRevision(options.expectedRevision);
    const encoded = this.codec.encodeAll(events, this.now().toISOString());
    let result: { current: number; positions: number[]; version: number };
    try {
      result = this.appendTx(stream, expected, encoded);
    } catch (error) {
      throw this.writeFailure(error);
    }
    if (encoded.length === 0) {
      return { nextExpectedRevision: result.current, position: this.lastPositionSync(), events: [], changeToken: this.changeToken() };
    }
    this.ownCommits += 1;
    const changeToken = `${result.version}:${this.ownCommits}`;
    // Field by field, not a spread of the event (a spread of objects of many shapes is slow).
    const recorded = encoded.map(
      (e, i): RecordedEvent =>
        ({
          type: e.event.type,
          data: e.event.data,
          metadata: e.event.metadata,
          stream,
          revision: result.current + 1 + i,
          position: present(result.positions[i], 'position of an appended event'),
        }) as RecordedEvent,
    );
    this.appended.next();
    return {
      nextExpectedRevision: result.current + encoded.length,
      position: lastOf(result.positions, 'appended position'),
      events: recorded,
      changeToken,
    };
  }

  /** PRAGMA data_version (it moves when another connection commits) and this connection's own commits of events. */
  changeToken(): string {
    assertOpen(this.closed, this.location);
    const version = this.reading('looking for new events', () => present(this.stmt.dataVersion.get(), 'PRAGMA data_version'));
    return `${version}:${this.ownCommits}`;
  }

  private writeFailure(error: unknown): unknown {
    if (error instanceof TrackerError) return error;
    const damaged = damage(this.location, error, 'writing to it', this.db, true);
    if (damaged !== null) return damaged;
    const code = sqliteCode(error) ?? '';
    const reason = error instanceof Error ? error.message : String(error);
    if (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY')) {
      return new UnexpectedStoreError(`the trade log ${this.location} stayed locked by another writer: ${reason} (try again)`, {
        cause: error,
      });
    }
    if (code.startsWith('SQLITE_READONLY')) {
      return new StoreError(`the trade log ${this.location} is read-only: ${reason}`, { cause: error });
    }
    return new UnexpectedStoreError(`append to ${this.location} failed, nothing was written: ${reason}`, { cause: error });
  }

  /** Runs a read; a damaged file is a CorruptionError (exit 4), not a driver error. */
  private reading<T>(doing: string, read: () => T): T {
    try {
      return read();
    } catch (error) {
      if (error instanceof TrackerError) throw error;
      throw damage(this.location, error, doing, this.db, true) ?? error;
    }
  }

  private decodeRows(rows: Row[]): RecordedEvent[] {
    const out: RecordedEvent[] = new Array(rows.length);
    let i = 0;
    for (const r of rows) {
      out[i++] = this.codec.decode({ position: r[0], stream: r[1], revision: r[2], type: r[3], data: r[4], metadata: r[5] });
    }
    return out;
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    assertOpen(this.closed, this.location);
    validateStream(stream);
    const from = validateNonNegativeInt('fromRevision', options.fromRevision, 0);
    const limit = validateLimit(options.limit);
    return this.decodeRows(this.reading(`reading stream ${stream}`, () => this.stmt.readStream.all(stream, from, limit)));
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    assertOpen(this.closed, this.location);
    const from = validateNonNegativeInt('fromPosition', options.fromPosition, 0);
    const limit = validateLimit(options.limit);
    return this.readAllSync(from, limit);
  }

  /** One page after `after`, synchronously. */
  readAllSync(after: number, limit: number): RecordedEvent[] {
    assertOpen(this.closed, this.location);
    return this.decodeRows(this.reading(`reading the log after position ${after}`, () => this.stmt.readAll.all(after, limit)));
  }

  subscribe(options: SubscribeOptions = {}): Observable<RecordedEvent> {
    assertOpen(this.closed, this.location);
    const from = validateNonNegativeInt('fromPosition', options.fromPosition, 0);
    let seen = -1;
    return pollingSubscription({
      fromPosition: from,
      readPage: (after, limit) => this.readAllSync(after, limit),
      wake$: this.appended,
      until$: this.closing,
      pollIntervalMs: this.pollIntervalMs,
      // data_version changes when another connection commits: a cheap look before a read.
      hasChanged: () => {
        const version = this.reading('looking for new events', () => present(this.stmt.dataVersion.get(), 'PRAGMA data_version'));
        const changed = version !== seen;
        seen = version;
        return changed;
      },
    });
  }

  /** The durability settings in force on this connection (for diagnostics and tests). */
  settings(): { journalMode: string; synchronous: 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA'; busyTimeoutMs: number } {
    assertOpen(this.closed, this.location);
    const sync = this.db.pragma('synchronous', { simple: true }) as number;
    return {
      journalMode: String(this.db.pragma('journal_mode', { simple: true })),
      synchronous: (['OFF', 'NORMAL', 'FULL', 'EXTRA'] as const)[sync] ?? 'OFF',
      busyTimeoutMs: this.db.pragma('busy_timeout', { simple: true }) as number,
    };
  }

  async head(): Promise<LogHead> {
    return this.headSync();
  }

  /**
   * The last global position, in O(1) (the rowid's B-tree edge). Positions are assigned gap-free
   * under the write lock and the log is append-only (schema 2: a trigger refuses a delete or a
   * move), so it is also the count; a log damaged by other tools is what `verify` finds.
   */
  lastPositionSync(): number {
    assertOpen(this.closed, this.location);
    return this.reading("reading the log's last position", () => present(this.stmt.lastPosition.get(), "the log's last position")[0]);
  }

  /** The head in O(1): the last position, which is also the count (see lastPositionSync). */
  headSync(): LogHead {
    const position = this.lastPositionSync();
    return { position, count: position };
  }

  async streamRevision(stream: string): Promise<number> {
    assertOpen(this.closed, this.location);
    const name = validateStream(stream);
    return this.reading(`reading the revision of ${name}`, () => this.stmt.revision.get(name)) ?? -1;
  }

  async readSnapshot(stream: string): Promise<Snapshot | null> {
    assertOpen(this.closed, this.location);
    const name = validateStream(stream);
    const row = this.reading(`reading the snapshot of ${name}`, () => this.stmt.readSnapshot.get(name));
    if (!row) return null;
    try {
      return { revision: row[0], version: row[1], state: JSON.parse(row[2]), stateText: row[2] };
    } catch {
      return null; // a damaged snapshot is only a cache: the stream rebuilds the state
    }
  }

  async writeSnapshot(stream: string, snapshot: Snapshot): Promise<void> {
    assertOpen(this.closed, this.location);
    try {
      this.stmt.writeSnapshot.run(
        validateStream(stream),
        snapshot.revision,
        snapshot.version,
        JSON.stringify(snapshot.state),
        this.now().toISOString(),
      );
    } catch (error) {
      throw this.writeFailure(error);
    }
  }

  /**
   * SQLite's `PRAGMA integrity_check` (its first 20 findings): empty when the file is sound.
   * On a damaged file the check can stop partway (SQLite raises SQLITE_CORRUPT once it walks
   * into the damage): then the quick check, asked for fewer findings, says what it can.
   */
  async checkIntegrity(): Promise<string[]> {
    assertOpen(this.closed, this.location);
    let stopped: unknown;
    for (const [pragma, max] of [
      ['integrity_check', 20],
      ['quick_check', 20],
      ['quick_check', 3],
      ['quick_check', 1],
    ] as const) {
      try {
        return integrityFindings(this.db, pragma, max);
      } catch (error) {
        if (damage(this.location, error, 'checking its integrity', undefined, true) === null) throw error;
        stopped ??= error;
      }
    }
    return [`the check itself stopped: ${sqliteCode(stopped)}: ${stopped instanceof Error ? stopped.message : String(stopped)}`];
  }

  /**
   * Folds the WAL into the database file and empties it (`PRAGMA wal_checkpoint(TRUNCATE)`).
   * For a process that finds the file replaced under its open connection (a backup renamed
   * over it): SQLite keeps the WAL of a moved file when it closes, and the next connection
   * would apply those frames to the file now at the path. Returns false when another
   * connection kept the checkpoint from completing (then the WAL is not safe to leave behind).
   */
  checkpointWal(): boolean {
    assertOpen(this.closed, this.location);
    const [result] = this.db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number; log: number; checkpointed: number }[];
    return result !== undefined && result.busy === 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closing.next();
    this.closing.complete();
    this.appended.complete();
    this.closed = true;
    this.db.close();
  }
}

/** Brings a new or older file to SCHEMA_VERSION under the write lock (two processes may open at once). */
function migrate(db: Database.Database, file: string): void {
  const needs = (): boolean =>
    (db.pragma('user_version', { simple: true }) as number) < SCHEMA_VERSION ||
    (db.pragma('application_id', { simple: true }) as number) !== APPLICATION_ID;
  if (!needs()) return;
  db.transaction(() => {
    const applicationId = db.pragma('application_id', { simple: true }) as number;
    const version = db.pragma('user_version', { simple: true }) as number;
    if (applicationId !== 0 && applicationId !== APPLICATION_ID) {
      throw new StoreError(`${file} is not a trade log (application_id ${applicationId}); nothing was written`);
    }
    if (version > SCHEMA_VERSION) {
      throw new StoreError(`${file} was written by a newer position-tracker (schema ${version}); upgrade`);
    }
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT`);
    const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    for (const m of MIGRATIONS) {
      if (m.version <= version) continue;
      db.exec(m.sql);
      record.run(m.version, m.name, new Date().toISOString());
    }
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}
