import { StoreError } from '../../errors/index.js';
import { parsePostgresConnectionString } from './connectionString.js';
import { failure } from './PostgresEventStore.js';
import { APPLICATION } from './schema.js';

/**
 * Drops the trade log a `postgres://...?schema=` string names: the whole schema, in one
 * transaction, and only when its `meta` row says this application made it, so a mistyped name
 * can never drop another application's tables (that is a StoreError, and nothing is dropped).
 * Returns false when the schema does not exist. `ptrack demo --store postgres://...` removes its
 * own schema with it.
 *
 * @example
 * ```ts
 * await dropPostgresTradeLog('postgres://bot@db:5432/trading?schema=ptrack_demo_x1y2z3'); // true
 * ```
 */
export async function dropPostgresTradeLog(spec: string): Promise<boolean> {
  const connection = parsePostgresConnectionString(spec);
  const where = `${connection.display} (schema ${connection.schema})`;
  const { default: driver } = await import('pg');
  const client = new driver.Client({
    connectionString: connection.connectionString,
    application_name: 'ptrack',
    connectionTimeoutMillis: 10_000,
  });
  client.on('error', () => {}); // a dropped connection fails the query in hand; nothing else listens
  try {
    await client.connect();
    await client.query('BEGIN');
    const exists = (await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [connection.schema])).rowCount === 1;
    if (!exists) {
      await client.query('ROLLBACK');
      return false;
    }
    const hasMeta =
      (await client.query("SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = 'meta'", [connection.schema])).rowCount === 1;
    const s = `"${connection.schema}"`; // validated: lower-case letters, digits and _
    const application = hasMeta
      ? (await client.query<{ application: string }>(`SELECT application FROM ${s}.meta`)).rows[0]?.application
      : undefined;
    if (application !== APPLICATION) {
      await client.query('ROLLBACK');
      throw new StoreError(`not dropping ${where}: it is not a position-tracker trade log`);
    }
    await client.query(`DROP SCHEMA ${s} CASCADE`);
    await client.query('COMMIT');
    return true;
  } catch (error) {
    throw failure(where, error, 'dropping it');
  } finally {
    await client.end().catch(() => {});
  }
}
