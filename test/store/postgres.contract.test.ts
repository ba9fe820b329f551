import { afterAll, beforeAll } from 'vitest';
import { PostgresEventStore } from '../../src/store/index.js';
import { describePostgres, postgresForSuite } from '../helpers/postgres.js';
import { storeContract } from './contract.js';

/**
 * The shared contract on a real PostgreSQL server: a throwaway cluster started for this file
 * (or PTRACK_POSTGRES_URL), a fresh schema per test. Under CI=true it runs, never skips.
 */
describePostgres('postgres engine', () => {
  let server: Awaited<ReturnType<typeof postgresForSuite>>;
  beforeAll(async () => {
    server = await postgresForSuite();
  });
  afterAll(async () => {
    await server?.destroy();
  });
  storeContract('postgres', async () => {
    const schema = server.schemaName();
    const store = await PostgresEventStore.open(server.url, { schema, pollIntervalMs: 20 });
    return { store, cleanup: () => server.dropSchema(schema) };
  });
});
