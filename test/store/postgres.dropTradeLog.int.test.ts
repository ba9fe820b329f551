import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { StoreError } from '../../src/errors/index.js';
import { dropPostgresTradeLog, openStore } from '../../src/store/index.js';
import { tracked } from '../helpers/events.js';
import { describePostgres, postgresForSuite } from '../helpers/postgres.js';

/** #13 dropPostgresTradeLog (what `ptrack demo --store postgres://` cleans up with) drops only a trade log. */
describePostgres('postgres: dropping a trade log', () => {
  let server: Awaited<ReturnType<typeof postgresForSuite>>;
  let admin: pg.Client;
  const exists = async (schema: string): Promise<boolean> =>
    (await admin.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount === 1;
  beforeAll(async () => {
    server = await postgresForSuite();
    admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await server?.destroy();
  });

  it('drops a trade log with its events; a missing schema is false', async () => {
    const schema = server.schemaName();
    const store = await openStore(`${server.url}?schema=${schema}`);
    await store.append('tradelog-a', [tracked(1)]);
    await store.close();
    expect(await dropPostgresTradeLog(`${server.url}?schema=${schema}`)).toBe(true);
    expect(await exists(schema)).toBe(false);
    expect(await dropPostgresTradeLog(`${server.url}?schema=${schema}`)).toBe(false);
  });

  it("refuses a schema that is not a trade log, or another application's, and drops nothing", async () => {
    const other = server.schemaName();
    await admin.query(`CREATE SCHEMA ${other}; CREATE TABLE ${other}.orders (id int)`);
    const foreign = server.schemaName();
    await (await openStore(`${server.url}?schema=${foreign}`)).close();
    await admin.query(`UPDATE ${foreign}.meta SET application = 'someone else'`);
    for (const schema of [other, foreign]) {
      const error = await dropPostgresTradeLog(`${server.url}?schema=${schema}`).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreError);
      expect((error as Error).message).toBe(
        `not dropping ${server.url.replace(/:[^:@/]*@/, ':***@')}?schema=${schema} (schema ${schema}): it is not a position-tracker trade log`,
      );
      expect(await exists(schema)).toBe(true);
      await server.dropSchema(schema);
    }
  });
});
