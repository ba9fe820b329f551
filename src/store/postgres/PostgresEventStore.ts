import type * as Pg from 'pg';
import { merge, Observable, Subject } from 'rxjs';
import { ConcurrencyError, StoreError, StoreUnavailableError, TrackerError, UnexpectedStoreError } from '../../errors/index.js';
import { defaultCodec, type EventCodec, type NewEvent, type RecordedEvent } from '../../events/index.js';
import { assertOpen, validateExpectedRevision, validateLimit, validateNonNegativeInt, validateStream } from '../_internals/validate.js';
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
import { pollingSubscription } from '../subscription.js';
import { parsePostgresConnectionString, type PostgresConnection } from './connectionString.js';
import { APPLICATION, NOTIFY_CHANNEL, PG_MIGRATIONS, PG_SCHEMA_VERSION, WRONG_REVISION } from './schema.js';
import { present } from '../../_internals/present.js';
import { backoffDelay } from '../../_internals/backoff.js';

export interface PostgresEventStoreOptions {
  codec?: EventCodec;
  /** Clock for `recordedAt` when a writer leaves it out. */
  now?: () => Date;
  /** The schema holding the trade log, overriding the string's `?schema=`. Default `ptrack`. */
  schema?: string;
  /**
   * How often a subscription reads anyway (ms), for a notification lost on the way. Default 1000:
   * other hosts' appends normally arrive at once through LISTEN/NOTIFY.
   */
  pollIntervalMs?: number;
  /** Longest wait between attempts while the server is unreachable (ms). Default 2000. */
  maxRetryDelayMs?: number;
  /** Most connections in the pool. Default 10. */
  poolSize?: number;
  /** How long to wait for a connection (ms). Default 10000. */
  connectTimeoutMs?: number;
  /** Open an existing trade log; never create or migrate one (a missing schema is refused). */
  readOnly?: boolean;
  /** `false`: never create or migrate a trade log, but write to an existing one. Default true. */
  create?: boolean;
}

type Row = { position: string; stream: string; revision: string; type: string; data: string; metadata: string };

/** SQLSTATEs and socket codes that mean the server cannot be reached or went away: try again later. */
const UNAVAILABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '53300',
]);
/** SQLSTATEs that mean what was given is wrong (credentials, database, permissions). */
const REFUSED = new Set(['28000', '28P01', '3D000', '42501']);

function pgCode(error: unknown): string {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : '';
}

/**
 * Whether the server answered a statement with an error of the statement itself (a refused
 * revision, a constraint, a timeout): then its transaction was rolled back and nothing of it is
 * in the log. Anything else under a sent statement (the connection reset or closed, the server
 * shutting down or crashing: SQLSTATE classes 08 and 57P) leaves its outcome unknown.
 */
function statementFailed(error: unknown): boolean {
  if (typeof error !== 'object' || error === null || !('severity' in error)) return false;
  const code = pgCode(error);
  return code !== '' && !code.startsWith('08') && !code.startsWith('57P');
}

function reasonOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return error.errors.map(reasonOf).join('; ');
  return error instanceof Error ? error.message || error.name : String(error);
}

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/**
 * The PostgreSQL engine: one schema (default `ptrack`) in a database any number of hosts share,
 * through a pool of `pg` connections. An append is one call of the schema's `append_events`
 * function: one statement, so atomic; it takes the row lock of the position counter, checks the
 * expected revision on a fresh snapshot and inserts under `UNIQUE (stream, revision)`. Positions
 * are therefore gap-free and in commit order (see schema.ts). The schema is created and
 * versioned on first open; a schema holding anything else, or written by a newer version, is refused.
 *
 * @example
 * ```ts
 * const store = await PostgresEventStore.open('postgres://bot:secret@db:5432/trading?schema=ptrack');
 * await store.append('tradelog-main', [event], { expectedRevision: 'no_stream' });
 * ```
 */
export class PostgresEventStore implements EventStore {
  readonly engine = 'postgres';
  readonly location: string;
  /** The schema the trade log lives in. */
  readonly schema: string;
  private readonly pool: Pg.Pool;
  private readonly codec: EventCodec;
  private readonly now: () => Date;
  private readonly pollIntervalMs: number;
  private readonly maxRetryDelayMs: number;
  private readonly connection: PostgresConnection;
  private readonly appended = new Subject<void>();
  /** Fires when another connection's append to this schema commits, and after the listener reconnects. */
  private readonly notified = new Subject<void>();
  private listener: Listener | undefined;
  private readonly stoppingListeners = new Set<Promise<void>>();
  private subscribers = 0;
  private readonly closing = new Subject<void>();
  private readonly sql: {
    append: string;
    readStream: string;
    readAll: string;
    head: string;
    revision: string;
    readSnapshot: string;
    writeSnapshot: string;
  };
  private closed = false;

  private constructor(connection: PostgresConnection, pool: Pg.Pool, options: PostgresEventStoreOptions) {
    this.schema = connection.schema;
    this.location = `${connection.display} (schema ${connection.schema})`;
    this.pool = pool;
    this.codec = options.codec ?? defaultCodec;
    this.now = options.now ?? (() => new Date());
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 2000;
    this.connection = connection;
    const s = quoteIdent(connection.schema);
    const columns = 'position, stream, revision, type, data, metadata';
    this.sql = {
      append: `SELECT current_revision, last_position FROM ${s}.append_events($1, $2, $3, $4::text[], $5::text[], $6::text[])`,
      readStream: `SELECT ${columns} FROM ${s}.events WHERE stream = $1 AND revision >= $2 ORDER BY revision LIMIT $3`,
      readAll: `SELECT ${columns} FROM ${s}.events WHERE position > $1 ORDER BY position LIMIT $2`,
      // One row, whatever the log's size: positions run 1..last_position (gap-free, append-only: schema 3).
      head: `SELECT last_position AS position FROM ${s}.head`,
      revision: `SELECT MAX(revision) AS revision FROM ${s}.events WHERE stream = $1`,
      readSnapshot: `SELECT revision, version, state FROM ${s}.snapshots WHERE stream = $1`,
      writeSnapshot:
        `INSERT INTO ${s}.snapshots (stream, revision, version, state, written_at) VALUES ($1, $2, $3, $4, $5) ` +
        'ON CONFLICT (stream) DO UPDATE SET revision = excluded.revision, version = excluded.version, state = excluded.state, written_at = excluded.written_at',
    };
  }

  /**
   * Connects and opens (creating or migrating, unless `readOnly` or `create: false`) the trade
   * log in the string's schema. Throws StoreUnavailableError when the server cannot be reached,
   * StoreError for a refused login, a missing database, a schema holding something else or a
   * newer schema; every message names the server with its password as `***`.
   */
  static async open(spec: string | PostgresConnection, options: PostgresEventStoreOptions = {}): Promise<PostgresEventStore> {
    const connection =
      typeof spec === 'string'
        ? parsePostgresConnectionString(spec, options.schema)
        : options.schema === undefined
          ? spec
          : parsePostgresConnectionString(spec.connectionString, options.schema);
    const where = `${connection.display} (schema ${connection.schema})`;
    const { default: driver } = await import('pg');
    const pool = new driver.Pool({
      connectionString: connection.connectionString,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      application_name: 'ptrack',
    });
    // An idle connection the server drops must not crash the process: the next query reconnects.
    pool.on('error', () => {});
    try {
      await prepareSchema(pool, connection.schema, where, options.readOnly === true || options.create === false);
    } catch (error) {
      await pool.end().catch(() => {});
      throw failure(where, error, 'opening it');
    }
    return new PostgresEventStore(connection, pool, options);
  }

  async append(stream: string, events: readonly NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
    assertOpen(this.closed, this.location);
    validateStream(stream);
    const expected = validateExpectedRevision(options.expectedRevision);
    const encoded = this.codec.encodeAll(events, this.now().toISOString());
    const mode = typeof expected === 'number' ? 'revision' : expected;
    // The connection is taken first: failing to get one means nothing was sent, so nothing was written.
    let client: Pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw failure(this.location, error, `appending to ${stream}, nothing was written`);
    }
    // A checked-out client has no error listener of the pool's: a connection lost under the query
    // also emits 'error', which unheard would crash the process (pool.query listens the same way).
    const ignore = (): void => {};
    client.on('error', ignore);
    let rows: { current_revision: string; last_position: string }[];
    try {
      ({ rows } = await client.query<{ current_revision: string; last_position: string }>(this.sql.append, [
        stream,
        mode,
        typeof expected === 'number' ? expected : null,
        encoded.map((e) => e.type),
        encoded.map((e) => e.data),
        encoded.map((e) => e.metadata),
      ]));
    } catch (error) {
      const refused = statementFailed(error);
      if (refused) {
        client.removeListener('error', ignore);
        client.release();
      } else {
        // A connection lost under a query is not given back to the pool (and stays heard).
        client.release(true);
      }
      const code = pgCode(error);
      if (code === WRONG_REVISION) throw new ConcurrencyError(stream, expected, Number((error as { detail?: string }).detail ?? -1));
      if (code === '23505') {
        // Another writer took the revision by a path that skipped the lock: still refused by the key.
        throw new ConcurrencyError(stream, expected, await this.streamRevision(stream));
      }
      throw failure(
        this.location,
        error,
        refused
          ? `appending to ${stream}, nothing was written`
          : // Lost after the append was sent: it may have committed with only the answer lost.
            `appending to ${stream}, which may or may not have been committed (the connection was lost after it was sent: read ${stream} before appending it again)`,
      );
    }
    client.removeListener('error', ignore);
    client.release();
    const row = present(rows[0], "the append function's row");
    const current = Number(row.current_revision);
    const last = Number(row.last_position);
    const first = last - encoded.length + 1;
    const recorded = encoded.map((e, i): RecordedEvent => ({ ...e.event, stream, revision: current + 1 + i, position: first + i }));
    if (encoded.length > 0) this.appended.next();
    return { nextExpectedRevision: current + encoded.length, position: last, events: recorded };
  }

  private async query<R extends Pg.QueryResultRow>(doing: string, text: string, values: unknown[]): Promise<R[]> {
    assertOpen(this.closed, this.location);
    try {
      return (await this.pool.query<R>(text, values)).rows;
    } catch (error) {
      throw failure(this.location, error, doing);
    }
  }

  private decodeRows(rows: Row[]): RecordedEvent[] {
    return rows.map((r) =>
      this.codec.decode({
        position: Number(r.position),
        stream: r.stream,
        revision: Number(r.revision),
        type: r.type,
        data: r.data,
        metadata: r.metadata,
      }),
    );
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    assertOpen(this.closed, this.location);
    validateStream(stream);
    const from = validateNonNegativeInt('fromRevision', options.fromRevision, 0);
    const limit = validateLimit(options.limit);
    return this.decodeRows(await this.query<Row>(`reading stream ${stream}`, this.sql.readStream, [stream, from, limit]));
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    assertOpen(this.closed, this.location);
    const from = validateNonNegativeInt('fromPosition', options.fromPosition, 0);
    const limit = validateLimit(options.limit);
    return this.readPage(from, limit);
  }

  private async readPage(after: number, limit: number): Promise<RecordedEvent[]> {
    return this.decodeRows(await this.query<Row>(`reading the log after position ${after}`, this.sql.readAll, [after, limit]));
  }

  /**
   * Catch-up from the position, then live. This process's appends wake it at once; other hosts'
   * wake it through LISTEN/NOTIFY (one listening connection per store, opened with the first
   * subscription); it also reads every `pollIntervalMs` in case a notification was lost. A
   * notification is only a wake-up: every read is `position > checkpoint`, which the
   * commit-order positions make safe. While the server is unreachable (a dropped connection, a
   * restart) the subscription waits and retries from its checkpoint, with backoff up to
   * `maxRetryDelayMs`: no event is skipped or delivered twice. It ends with an error only for a
   * failure that is not the server being away, and completes when the store closes.
   */
  subscribe(options: SubscribeOptions = {}): Observable<RecordedEvent> {
    assertOpen(this.closed, this.location);
    const from = validateNonNegativeInt('fromPosition', options.fromPosition, 0);
    return new Observable<RecordedEvent>((subscriber) => {
      let stopped = false;
      // Asked through a call: the teardown sets `stopped` while a read awaits, which narrowing cannot see.
      const isStopped = (): boolean => stopped || this.closed;
      this.subscribers += 1;
      this.listener ??= new Listener(this.connection, this.notified, this.maxRetryDelayMs);
      const readPage = async (after: number, limit: number): Promise<RecordedEvent[]> => {
        for (let attempt = 0; ; attempt++) {
          try {
            return await this.readPage(after, limit);
          } catch (error) {
            if (!(error instanceof StoreUnavailableError) || isStopped()) throw error;
            await delay(backoffDelay(attempt, { baseMs: 50, maxMs: this.maxRetryDelayMs, jitter: 'equal' }));
            if (isStopped()) throw error;
          }
        }
      };
      const inner = pollingSubscription({
        fromPosition: from,
        readPage,
        wake$: merge(this.appended, this.notified),
        until$: this.closing,
        pollIntervalMs: this.pollIntervalMs,
      }).subscribe(subscriber);
      return () => {
        stopped = true;
        inner.unsubscribe();
        this.subscribers -= 1;
        if (this.subscribers === 0 && this.listener) {
          const stopping = this.listener.stop();
          this.stoppingListeners.add(stopping);
          void stopping.finally(() => this.stoppingListeners.delete(stopping));
          this.listener = undefined;
        }
      };
    });
  }

  async head(): Promise<LogHead> {
    const [row] = await this.query<{ position: string }>("reading the log's head", this.sql.head, []);
    const position = Number(present(row, "the log's head row").position);
    return { position, count: position };
  }

  async streamRevision(stream: string): Promise<number> {
    const name = validateStream(stream);
    const [row] = await this.query<{ revision: string | null }>(`reading the revision of ${name}`, this.sql.revision, [name]);
    return row?.revision == null ? -1 : Number(row.revision);
  }

  async readSnapshot(stream: string): Promise<Snapshot | null> {
    const name = validateStream(stream);
    const [row] = await this.query<{ revision: string; version: number; state: string }>(
      `reading the snapshot of ${name}`,
      this.sql.readSnapshot,
      [name],
    );
    if (!row) return null;
    try {
      return { revision: Number(row.revision), version: row.version, state: JSON.parse(row.state) as unknown };
    } catch {
      return null; // a damaged snapshot is only a cache: the stream rebuilds the state
    }
  }

  async writeSnapshot(stream: string, snapshot: Snapshot): Promise<void> {
    const name = validateStream(stream);
    await this.query(`writing the snapshot of ${name}`, this.sql.writeSnapshot, [
      name,
      snapshot.revision,
      snapshot.version,
      JSON.stringify(snapshot.state),
      this.now().toISOString(),
    ]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.next();
    this.closing.complete();
    this.appended.complete();
    this.notified.complete();
    await this.listener?.stop();
    this.listener = undefined;
    await Promise.all(this.stoppingListeners);
    await this.pool.end();
  }
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

/**
 * One connection that LISTENs on the store's channel and turns its schema's notifications into
 * wake-ups. When the connection drops it reconnects with backoff, and wakes the subscribers once
 * it is back (what was appended meanwhile was never notified to it).
 */
class Listener {
  private client: Pg.Client | undefined;
  private stopped = false;
  private readonly running: Promise<void>;

  constructor(
    private readonly connection: PostgresConnection,
    private readonly wake: Subject<void>,
    private readonly maxRetryDelayMs: number,
  ) {
    this.running = this.run();
  }

  private async run(): Promise<void> {
    const { default: driver } = await import('pg');
    const prefix = `${this.connection.schema}:`;
    for (let attempt = 0; !this.stopped;) {
      const client = new driver.Client({
        connectionString: this.connection.connectionString,
        application_name: 'ptrack-listen',
        connectionTimeoutMillis: 10_000,
        keepAlive: true,
      });
      const ended = new Promise<void>((resolve) => {
        client.on('error', () => resolve());
        client.on('end', () => resolve());
      });
      try {
        await client.connect();
        if (this.isStopped()) {
          await client.end().catch(() => {});
          return;
        }
        client.on('notification', (n) => {
          if (n.channel === NOTIFY_CHANNEL && n.payload?.startsWith(prefix)) this.wake.next();
        });
        await client.query(`LISTEN ${NOTIFY_CHANNEL}`);
        this.client = client;
        // stop() came while the LISTEN was on its way (it saw no client to end): end it here, or
        // `ended` would wait forever and so would stop() and the store's close().
        if (this.isStopped()) return;
        // Listening now: read once, for what committed before (the first time, between the
        // subscription's first read and the LISTEN; after a drop, while it was away).
        this.wake.next();
        attempt = 0;
        await ended;
      } catch {
        // unreachable: try again below
      }
      this.client = undefined;
      await client.end().catch(() => {});
      if (this.isStopped()) return;
      attempt += 1;
      await delay(backoffDelay(attempt, { baseMs: 50, maxMs: this.maxRetryDelayMs, jitter: 'equal' }));
    }
  }

  /** Through a call: stop() sets `stopped` while run() awaits, which narrowing cannot see. */
  private isStopped(): boolean {
    return this.stopped;
  }

  /** Stops listening; resolves once its connection is closed. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.client?.end().catch(() => {});
    await this.running;
  }
}

/**
 * A driver or server error as ours, naming where (password already redacted) and what was being
 * done. The driver's own message never holds the password; the connection string is never part of it.
 */
export function failure(where: string, error: unknown, doing: string): TrackerError {
  if (error instanceof TrackerError) return error;
  const code = pgCode(error);
  const reason = reasonOf(error);
  if (UNAVAILABLE.has(code) || /timeout|terminated|Connection terminated/i.test(reason)) {
    return new StoreUnavailableError(
      `the PostgreSQL server ${where} cannot be reached (${reason}) while ${doing}: try again when it is up`,
      { cause: error },
    );
  }
  // The server asked for a password and the string held none, nor PGPASSWORD: pg's SCRAM step says so in its own words.
  if (/client password must be a string|Password must be a string/i.test(reason)) {
    return new StoreError(
      `the PostgreSQL server ${where} asks for a password and none was given (while ${doing}): set PGPASSWORD (a store string in a config file carries no password)`,
      { cause: error },
    );
  }
  if (REFUSED.has(code)) {
    const hint = code === '28P01' ? ': check the password (PGPASSWORD, or the store string)' : '';
    return new StoreError(`the PostgreSQL server ${where} refused: ${reason} (while ${doing})${hint}`, { cause: error });
  }
  return new UnexpectedStoreError(`PostgreSQL ${where} failed while ${doing}: ${reason}${code ? ` (SQLSTATE ${code})` : ''}`, {
    cause: error,
  });
}

/** An arbitrary but fixed key for the advisory lock openers take to create or migrate a schema. */
const MIGRATION_LOCK = 0x50545243; // "PTRC"

/**
 * Makes sure `schema` holds a trade log at PG_SCHEMA_VERSION: creates it when missing or empty,
 * migrates an older one, refuses one holding other tables or written by a newer version. Runs
 * in one transaction under an advisory lock keyed on the schema name, so concurrent openers
 * take turns. With `mustExist`, creates and migrates nothing.
 */
async function prepareSchema(pool: Pg.Pool, schema: string, where: string, mustExist: boolean): Promise<void> {
  const client = await pool.connect();
  const s = quoteIdent(schema);
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [MIGRATION_LOCK, schema]);
    const tables = (
      await client.query<{ name: string }>(
        "SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f') ORDER BY 1",
        [schema],
      )
    ).rows.map((r) => r.name);
    const exists = (await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount === 1;
    let version = 0;
    if (tables.length > 0) {
      if (!tables.includes('meta')) {
        throw new StoreError(
          `${where} is not a trade log: schema ${schema} holds other tables (${tables.slice(0, 5).join(', ')}); nothing was written (name another schema with ?schema=)`,
        );
      }
      const meta = await client.query<{ application: string; schema_version: number }>(`SELECT application, schema_version FROM ${s}.meta`);
      const row = meta.rows[0];
      if (row === undefined || row.application !== APPLICATION) {
        throw new StoreError(
          `${where} is not a trade log: schema ${schema} belongs to another application; nothing was written (name another schema with ?schema=)`,
        );
      }
      version = row.schema_version;
      if (version > PG_SCHEMA_VERSION) {
        throw new StoreError(
          `${where} was written by a newer position-tracker (schema ${version}; this build reads up to ${PG_SCHEMA_VERSION}): upgrade, nothing was written`,
        );
      }
    }
    if (version === PG_SCHEMA_VERSION) {
      await client.query('COMMIT');
      return;
    }
    if (mustExist) {
      throw new StoreError(
        version === 0
          ? `no trade log at ${where}: nothing was created (check the store string; \`ptrack init\` or a command that writes creates one)`
          : `${where} holds an older trade log (schema ${version}): open it once to write, which migrates it; nothing was written`,
      );
    }
    if (!exists) await client.query(`CREATE SCHEMA ${s}`);
    if (version === 0) {
      await client.query(`CREATE TABLE ${s}.meta (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton), application text NOT NULL, schema_version integer NOT NULL)`);
      await client.query(
        `CREATE TABLE ${s}.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)`,
      );
      await client.query(`INSERT INTO ${s}.meta (singleton, application, schema_version) VALUES (true, $1, 0)`, [APPLICATION]);
    }
    for (const m of PG_MIGRATIONS) {
      if (m.version <= version) continue;
      await client.query(m.sql.replaceAll('{{schema}}', s).replaceAll('{{schemaLiteral}}', `'${schema.replace(/'/g, "''")}'`));
      await client.query(`INSERT INTO ${s}.schema_migrations (version, name, applied_at) VALUES ($1, $2, now())`, [m.version, m.name]);
    }
    await client.query(`UPDATE ${s}.meta SET schema_version = $1`, [PG_SCHEMA_VERSION]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
