import { describe, it } from 'vitest';
import { HOW_TO_RUN_POSTGRES, postgresAvailability, startPostgres, type PostgresCluster } from './postgresCluster.js';

export { HOW_TO_RUN_POSTGRES, POSTGRES_BIN, postgresAvailability, startPostgres } from './postgresCluster.js';
export type { PostgresCluster } from './postgresCluster.js';

/**
 * `describe` for a suite that needs PostgreSQL: runs it when a server can be had, skips it with
 * a visible notice naming how to run it when not, and fails under `CI=true` (see
 * {@link postgresAvailability}). `needsBinaries`: the suite starts clusters of its own (with a
 * password, say), so a `PTRACK_POSTGRES_URL` alone does not do.
 */
export function describePostgres(name: string, body: () => void, options: { needsBinaries?: boolean } = {}): void {
  const availability = postgresAvailability(options);
  if (availability.ok) {
    describe(name, body);
    return;
  }
  console.warn(`PostgreSQL suite "${name}" skipped: ${availability.reason}. To run it: ${HOW_TO_RUN_POSTGRES}`);
  describe.skip(`${name} (skipped: ${availability.reason})`, () => {
    it('needs PostgreSQL', () => {});
  });
}

/**
 * A server for a suite: `PTRACK_POSTGRES_URL` when set, else a throwaway cluster started here.
 * `schemaName()` gives a fresh schema per test (`ptrack_test_<run>_<n>`), so every test starts
 * from an empty trade log on a server that keeps earlier runs; `dropSchema` removes one.
 */
export async function postgresForSuite(): Promise<{
  url: string;
  cluster: PostgresCluster | null;
  schemaName: () => string;
  dropSchema: (schema: string) => Promise<void>;
  destroy: () => Promise<void>;
}> {
  const external = process.env.PTRACK_POSTGRES_URL;
  const cluster = external ? null : await startPostgres();
  const url = external ?? cluster!.url;
  const runId = Math.random().toString(36).slice(2, 8);
  let n = 0;
  const { default: pg } = await import('pg');
  return {
    url,
    cluster,
    schemaName: () => `ptrack_test_${runId}_${++n}`,
    dropSchema: async (schema) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await client.end();
      }
    },
    destroy: async () => {
      await cluster?.destroy();
    },
  };
}
