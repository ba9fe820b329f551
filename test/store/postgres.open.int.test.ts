import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { StoreError, StoreUnavailableError } from '../../src/errors/index.js';
import { openStore, PostgresEventStore } from '../../src/store/index.js';
import { PG_MIGRATIONS, PG_SCHEMA_VERSION } from '../../src/store/postgres/schema.js';
import { tracked } from '../helpers/events.js';
import { describePostgres, postgresForSuite } from '../helpers/postgres.js';

/** #13 Opening: the schema created and versioned once, refused when it holds anything else. */
describePostgres('postgres: opening a schema', () => {
  let server: Awaited<ReturnType<typeof postgresForSuite>>;
  let admin: pg.Client;
  const tablesOf = async (schema: string): Promise<string[]> =>
    (await admin.query<{ t: string }>('SELECT tablename AS t FROM pg_tables WHERE schemaname = $1 ORDER BY 1', [schema])).rows.map(
      (r) => r.t,
    );
  beforeAll(async () => {
    server = await postgresForSuite();
    admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await server?.destroy();
  });

  it('creates the schema (default ptrack) with its version on first open, and reopens it as it is', async () => {
    const store = await openStore(server.url);
    expect(store.engine).toBe('postgres');
    expect(store.location).toMatch(/\(schema ptrack\)$/);
    await store.append('tradelog-a', [tracked(1)]);
    await store.close();
    expect(await tablesOf('ptrack')).toEqual(['events', 'head', 'meta', 'schema_migrations', 'snapshots']);
    expect((await admin.query('SELECT version FROM ptrack.schema_migrations ORDER BY version')).rows).toEqual(
      PG_MIGRATIONS.map((m) => ({ version: m.version })),
    );
    expect((await admin.query('SELECT schema_version FROM ptrack.meta')).rows).toEqual([{ schema_version: PG_SCHEMA_VERSION }]);
    const again = await openStore(server.url.replace('postgres://', 'postgresql://') + '?schema=ptrack');
    expect(await again.head()).toEqual({ position: 1, count: 1 });
    await again.close();
    await server.dropSchema('ptrack');
  });

  it('five processes opening a new schema at once: one creates it, all open it', async () => {
    const schema = server.schemaName();
    const stores = await Promise.all(Array.from({ length: 5 }, () => PostgresEventStore.open(server.url, { schema, poolSize: 1 })));
    await Promise.all(stores.map((s, i) => s.append(`tradelog-${i}`, [tracked(i)])));
    expect(await stores[0]!.head()).toEqual({ position: 5, count: 5 });
    await Promise.all(stores.map((s) => s.close()));
    expect((await admin.query(`SELECT count(*)::int AS n FROM ${schema}.schema_migrations`)).rows[0]).toEqual({ n: PG_MIGRATIONS.length });
    await server.dropSchema(schema);
  });

  it('refuses a schema holding other tables, naming them, and writes nothing', async () => {
    const schema = server.schemaName();
    await admin.query(`CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.orders (id int)`);
    const err = await PostgresEventStore.open(server.url, { schema }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as Error).message).toMatch(new RegExp(`not a trade log: schema ${schema} holds other tables \\(orders\\)`));
    expect(await tablesOf(schema)).toEqual(['orders']);
    await server.dropSchema(schema);
  });

  it('refuses a schema of another application and one written by a newer version', async () => {
    const schema = server.schemaName();
    await (await PostgresEventStore.open(server.url, { schema })).close();
    await admin.query(`UPDATE ${schema}.meta SET schema_version = 99`);
    await expect(PostgresEventStore.open(server.url, { schema })).rejects.toThrow(
      new RegExp(`written by a newer position-tracker \\(schema 99; this build reads up to ${PG_SCHEMA_VERSION}\\)`),
    );
    await admin.query(`UPDATE ${schema}.meta SET schema_version = ${PG_SCHEMA_VERSION}, application = 'someone else'`);
    await expect(PostgresEventStore.open(server.url, { schema })).rejects.toThrow(/belongs to another application/);
    await server.dropSchema(schema);
  });

  it('migrates a schema-1 log in place: its events kept, appends then notify', async () => {
    const schema = server.schemaName();
    const [v1] = PG_MIGRATIONS;
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.query(
      `CREATE TABLE ${schema}.meta (singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton), application text NOT NULL, schema_version integer NOT NULL)`,
    );
    await admin.query(
      `CREATE TABLE ${schema}.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)`,
    );
    await admin.query(`INSERT INTO ${schema}.meta VALUES (true, 'position-tracker trade log', 1)`);
    await admin.query(v1!.sql.replaceAll('{{schema}}', schema));
    await admin.query(`INSERT INTO ${schema}.schema_migrations VALUES (1, $1, now())`, [v1!.name]);
    await admin.query(`SELECT * FROM ${schema}.append_events('tradelog-a', 'any', NULL, ARRAY['Heartbeat'], ARRAY['{}'], ARRAY['{}'])`);
    const store = await PostgresEventStore.open(server.url, { schema });
    expect(await store.head()).toEqual({ position: 1, count: 1 });
    expect((await admin.query(`SELECT schema_version FROM ${schema}.meta`)).rows).toEqual([{ schema_version: PG_SCHEMA_VERSION }]);
    const listener = new pg.Client({ connectionString: server.url });
    await listener.connect();
    const heard: string[] = [];
    listener.on('notification', (n) => heard.push(n.payload ?? ''));
    await listener.query('LISTEN ptrack_appended');
    await store.append('tradelog-b', [tracked(2)]);
    const until = Date.now() + 5000;
    while (heard.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(heard).toEqual([`${schema}:2`]);
    await listener.end();
    await store.close();
    await server.dropSchema(schema);
  });

  it('create: false and readOnly never create a trade log', async () => {
    const schema = server.schemaName();
    for (const options of [{ create: false }, { readOnly: true }]) {
      const err = await openStore(`${server.url}?schema=${schema}`, options).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect((err as Error).message).toMatch(/no trade log at .*nothing was created/);
    }
    expect((await admin.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount).toBe(0);
  });

  it('an unreachable server is StoreUnavailableError naming it with the password as ***', async () => {
    const port = server.cluster ? server.cluster.port + 1 : 1;
    const err = await openStore(`postgres://bot:hunter2@127.0.0.1:${port}/trading`, { postgres: { connectTimeoutMs: 2000 } }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect((err as Error).message).toContain(`postgres://bot:***@127.0.0.1:${port}/trading (schema ptrack)`);
    expect((err as Error).message).not.toContain('hunter2');
  });

  it('a missing database is a StoreError naming it, without the password', async () => {
    const url = new URL(server.url);
    url.password = 'hunter2';
    url.pathname = '/nosuchdb';
    const err = await openStore(url.toString()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as Error).message).toMatch(/refused: database "nosuchdb" does not exist/);
    expect((err as Error).message).not.toContain('hunter2');
  });
});
