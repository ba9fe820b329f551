import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ptrack, type CliResult } from '../helpers/cli.js';
import { describePostgres, postgresForSuite } from '../helpers/postgres.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * #13 `ptrack demo --store postgres://...` through the built binary: the same story as on
 * SQLite, line for line (crash, restart, recovery, reconciliation, verdict), with the trade log
 * on the server in a schema of the demo's own, dropped at the end or kept with --dir.
 */

const lines = (r: CliResult): string[] => r.stdout.trimEnd().split('\n');

describePostgres('ptrack demo on PostgreSQL', () => {
  let server: Awaited<ReturnType<typeof postgresForSuite>>;
  let admin: pg.Client;
  const tmp = tempDir('ptrack-pgdemo-');
  const schemaExists = async (schema: string): Promise<boolean> =>
    (await admin.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount === 1;

  beforeAll(async () => {
    server = await postgresForSuite();
    admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
  }, 60_000);
  afterAll(async () => {
    await admin?.end();
    await server?.destroy();
    tmp.cleanup();
  });

  it(
    'seed 3 tells the SQLite story line for line on the server; the schema is dropped after, or kept (and holds the log) with --dir',
    { timeout: 240_000 },
    async () => {
      const kept = join(tmp.dir, 'kept');
      mkdirSync(kept);
      const [sqlite, dropped, keptRun] = await Promise.all([
        ptrack(['demo', '--seed', '3'], { timeoutMs: 200_000 }),
        ptrack(['--store', server.url, 'demo', '--seed', '3'], { timeoutMs: 200_000 }),
        ptrack(['--store', server.url, 'demo', '--seed', '3', '--dir', kept], { timeoutMs: 200_000 }),
      ]);
      expect(sqlite.code, sqlite.stderr).toBe(0);
      const story = lines(sqlite);
      expect(story.at(-1)).toMatch(/^VERDICT: local equals outside/);
      const display = server.url.replace(/:[^:@/]*@/, ':***@');
      for (const [run, last] of [
        [dropped, /^the demo's trade log, schema (ptrack_demo_[0-9a-f]{8}) on (.*), was dropped$/],
        [keptRun, /^the demo's trade log is kept in schema (ptrack_demo_[0-9a-f]{8}) on (.*) \(DROP SCHEMA \1 CASCADE removes it\)$/],
      ] as const) {
        expect(run.stderr).toBe('');
        expect(run.code).toBe(0);
        const out = lines(run);
        expect(out[0]).toBe('position-tracker demo: seed 3, 60 simulated minutes, PostgreSQL trade log, simulated exchange');
        // Everything after the first line, up to and including the verdict, is the SQLite run's.
        expect(out.slice(1, -2)).toEqual(story.slice(1));
        expect(out.at(-2)).toBe('');
        const m = last.exec(out.at(-1)!);
        expect(m, out.at(-1)).not.toBeNull();
        expect(m![2]).toBe(display);
      }
      const droppedSchema = /schema (ptrack_demo_[0-9a-f]{8})/.exec(dropped.stdout)![1]!;
      const keptSchema = /schema (ptrack_demo_[0-9a-f]{8})/.exec(keptRun.stdout)![1]!;
      expect(keptSchema).not.toBe(droppedSchema);
      expect(await schemaExists(droppedSchema)).toBe(false);
      expect(await schemaExists(keptSchema)).toBe(true);
      // The kept schema holds the demo's book, as many events as the story says.
      const told = Number(/, (\d+) events in the log$/m.exec(keptRun.stdout)![1]);
      const { rows } = await admin.query<{ stream: string; n: number }>(
        `SELECT stream, count(*)::int AS n FROM ${keptSchema}.events GROUP BY stream ORDER BY stream`,
      );
      expect(rows).toEqual([{ stream: 'tradelog-demo-bot', n: told }]);
      await server.dropSchema(keptSchema);
    },
  );

  it('--store names PostgreSQL or nothing, without ?schema=; an unreachable server is exit 5, one line', async () => {
    const esdb = await ptrack(['--store', 'esdb://admin:hunter2@localhost:2113', 'demo']);
    expect(esdb.code).toBe(2);
    expect(esdb.stderr).toBe(
      'ptrack: --store: the demo runs on SQLite (the default, in --dir) or on PostgreSQL (postgres://user@host:5432/db), got "esdb:..."\n',
    );
    const named = await ptrack(['--store', 'postgres://bot:hunter2@localhost/db?schema=mine', 'demo']);
    expect(named.code).toBe(2);
    expect(named.stderr).toBe(
      'ptrack: --store "postgres://bot:***@localhost/db?schema=mine": the demo makes a schema of its own (ptrack_demo_...) and drops it after: leave ?schema= out\n',
    );
    const port = server.cluster ? server.cluster.port + 1 : 1;
    const down = await ptrack(['--store', `postgres://bot:hunter2@127.0.0.1:${port}/db`, 'demo'], { timeoutMs: 30_000 });
    expect(down.code).toBe(5);
    expect(down.stdout).toBe('');
    expect(down.stderr).toMatch(
      /^ptrack: the PostgreSQL server postgres:\/\/bot:\*\*\*@127\.0\.0\.1:\d+\/db\?schema=ptrack_demo_[0-9a-f]{8} \(schema ptrack_demo_[0-9a-f]{8}\) cannot be reached/,
    );
    for (const r of [esdb, named, down]) expect(r.stderr).not.toContain('hunter2');
  });
});
