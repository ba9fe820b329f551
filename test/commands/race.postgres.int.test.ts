import pg from 'pg';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import type { BookPolicyInput } from '../../src/commands/index.js';
import { bookStream, type RecordedEvent } from '../../src/events/index.js';
import { PostgresEventStore, readWholeStream } from '../../src/store/index.js';
import { enterRaces, PROCS, runRace, type PlannedEntry, type Race } from '../helpers/enterRace.js';
import { describePostgres, postgresForSuite } from '../helpers/postgres.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * #13 The multi-process race on PostgreSQL: four processes, each with its own pool connecting
 * over TCP (127.0.0.1 and the port, as processes on other hosts would), enter positions on one
 * book at once past maxPositions and a correlation-group cap; the caps hold exactly and the log
 * replays to the same state (the races and their checks: test/helpers/enterRace.ts).
 */

interface Seen {
  pids: Set<number>;
  addresses: Set<string>;
}

/** Until `done`, samples the server's client connections named `ptrack` (the store's pools): which backends, from where. */
async function watchConnections(url: string, done: () => boolean): Promise<Seen> {
  const seen: Seen = { pids: new Set(), addresses: new Set() };
  const client = new pg.Client({ connectionString: url, application_name: 'ptrack-test-watch' });
  await client.connect();
  try {
    for (let i = 0; i < 4000 && !done(); i++) {
      const { rows } = await client.query<{ pid: number; addr: string | null }>(
        "SELECT pid, host(client_addr) AS addr FROM pg_stat_activity WHERE application_name = 'ptrack' AND backend_type = 'client backend'",
      );
      for (const r of rows) {
        seen.pids.add(r.pid);
        seen.addresses.add(r.addr ?? 'a Unix socket');
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    await client.end();
  }
  return seen;
}

describePostgres(`postgres: ${PROCS} processes entering positions on one book at once, over TCP`, () => {
  let server: Awaited<ReturnType<typeof postgresForSuite>>;
  beforeAll(async () => {
    server = await postgresForSuite();
  });
  afterAll(async () => {
    await server?.destroy();
  });

  async function race(book: string, policy: BookPolicyInput, planOf: (name: string) => PlannedEntry[]): Promise<Race> {
    const schema = server.schemaName();
    const { dir, cleanup } = tempDir('ptrack-race-pg-');
    try {
      // Create the schema first, so the racers race on the book and not on creating it.
      await (await PostgresEventStore.open(server.url, { schema })).close();
      const store = `${server.url}${server.url.includes('?') ? '&' : '?'}schema=${schema}`;
      let finished = false;
      const watching = watchConnections(server.url, () => finished);
      const result = await runRace({
        store,
        dir,
        book,
        policy,
        planOf,
        readLog: async () => {
          const reader = await PostgresEventStore.open(server.url, { schema, poolSize: 1 });
          const events: RecordedEvent[] = [];
          try {
            for await (const e of readWholeStream(reader, bookStream(book))) events.push(e);
          } finally {
            await reader.close();
          }
          return events;
        },
      }).finally(() => (finished = true));
      const seen = await watching;
      console.log(`postgres race ${book}: ${seen.pids.size} server connections of the racers seen, from ${[...seen.addresses].join(', ')}`);
      if (server.cluster !== null) {
        // The throwaway cluster has no other clients: these are the racers' pools, each on TCP from 127.0.0.1.
        expect(seen.pids.size, 'connections of the racers').toBeGreaterThanOrEqual(PROCS);
        expect([...seen.addresses]).toEqual(['127.0.0.1']);
      }
      return result;
    } finally {
      cleanup();
      await server.dropSchema(schema);
    }
  }

  describe('on one schema', () => {
    enterRaces('postgres', race);
  });
});
