import pg from 'pg';
import { afterEach, expect, it, vi } from 'vitest';
import { benchPostgres, postgresSkipReason } from '../../bench/postgres.js';
import { openStore } from '../../src/store/index.js';
import { describePostgres } from '../helpers/postgres.js';

/*
 * #13 The bench's PostgreSQL server (bench/postgres.ts), as the README's "Performance" describes
 * it: a cluster of its own with fsync on, a fresh schema per scenario dropped after, and a reason
 * printed when no PostgreSQL can be had. (The figures themselves are never tested.)
 */
describePostgres(
  "the bench's PostgreSQL",
  () => {
    afterEach(() => {
      vi.unstubAllEnvs();
    });

    it('starts a cluster with fsync on; each scenario runs in a fresh schema that is dropped after', async () => {
      vi.stubEnv('PTRACK_POSTGRES_URL', '');
      const server = await benchPostgres();
      try {
        const seen: string[] = [];
        for (let i = 0; i < 2; i++) {
          await server.inSchema(async (spec) => {
            seen.push(spec);
            const store = await openStore(spec);
            await store.close();
          });
        }
        expect(seen[0]).not.toBe(seen[1]);
        const url = seen[0]!.replace(/\?schema=.*$/, '');
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          expect((await client.query<{ fsync: string }>('SHOW fsync')).rows[0]!.fsync).toBe('on');
          expect((await client.query<{ synchronous_commit: string }>('SHOW synchronous_commit')).rows[0]!.synchronous_commit).toBe('on');
          const left = await client.query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'ptrack_bench_%'");
          expect(left.rows).toEqual([]);
        } finally {
          await client.end();
        }
      } finally {
        await server.destroy();
      }
    });

    it('without binaries or PTRACK_POSTGRES_URL the rows are skipped, and the reason says how to run them', async () => {
      vi.stubEnv('PTRACK_POSTGRES_URL', '');
      expect(postgresSkipReason()).toBeNull(); // the binaries are here
      // The binaries' directory is read at import: a fresh import sees the stubbed one.
      vi.stubEnv('PTRACK_POSTGRES_BIN', '/nonexistent/pg/bin');
      vi.resetModules();
      const fresh = await import('../../bench/postgres.js');
      expect(fresh.postgresSkipReason()).toMatch(
        /^no PostgreSQL: initdb and pg_ctl not found in \/nonexistent\/pg\/bin and PTRACK_POSTGRES_URL is not set \(install PostgreSQL 15 .*PTRACK_POSTGRES_URL=/,
      );
      vi.stubEnv('PTRACK_POSTGRES_URL', 'postgres://bench@127.0.0.1:1/x');
      expect(fresh.postgresSkipReason()).toBeNull();
    });
  },
  { needsBinaries: true },
);
