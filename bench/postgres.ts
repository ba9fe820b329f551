/**
 * The PostgreSQL rows of the bench: a server of its own (a throwaway cluster from the system's
 * binaries, with fsync on, so "durable" means what it says), or the one `PTRACK_POSTGRES_URL`
 * names; each scenario in a fresh schema, dropped after. Without either, the rows are skipped
 * and the bench says why.
 */
import { randomBytes } from 'node:crypto';
import { dropPostgresTradeLog } from '../src/store/index.js';
import { HOW_TO_RUN_POSTGRES, missingBinaries, startPostgres, type PostgresCluster } from '../test/helpers/postgresCluster.js';

export interface BenchPostgres {
  /** Where the rows ran, for the report (no password). */
  where: string;
  /** Runs `work` on a store string naming a fresh schema, and drops the schema after. */
  inSchema<T>(work: (store: string) => Promise<T>): Promise<T>;
  destroy(): Promise<void>;
}

/** Why the PostgreSQL rows cannot run here, or null when they can. */
export function postgresSkipReason(): string | null {
  if (process.env.PTRACK_POSTGRES_URL) return null;
  const missing = missingBinaries();
  return missing === null ? null : `no PostgreSQL: ${missing} and PTRACK_POSTGRES_URL is not set (${HOW_TO_RUN_POSTGRES})`;
}

export async function benchPostgres(): Promise<BenchPostgres> {
  const external = process.env.PTRACK_POSTGRES_URL || undefined; // an empty one means unset
  // The test defaults turn fsync off; a benchmark of durable commands needs it on, and room to cache.
  const cluster: PostgresCluster | null = external ? null : await startPostgres({ settings: ['fsync=on', 'shared_buffers=128MB'] });
  const url = external ?? cluster!.url;
  const run = randomBytes(3).toString('hex');
  let n = 0;
  return {
    where: external
      ? 'the server PTRACK_POSTGRES_URL names'
      : 'a throwaway PostgreSQL 15 cluster on 127.0.0.1 (fsync on, synchronous_commit on)',
    inSchema: async (work) => {
      const store = `${url}${url.includes('?') ? '&' : '?'}schema=ptrack_bench_${run}_${++n}`;
      try {
        return await work(store);
      } finally {
        await dropPostgresTradeLog(store);
      }
    },
    destroy: async () => {
      await cluster?.destroy();
    },
  };
}
