import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseJsonc } from 'jsonc-parser';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ptrack, type CliResult } from '../helpers/cli.js';
import { describePostgres, startPostgres, type PostgresCluster } from '../helpers/postgres.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * #13 `ptrack init --store postgres://user:pass@host/db` through the built binary, against a
 * throwaway cluster whose TCP logins need a password (SCRAM): the config names the server
 * without the password, PGPASSWORD supplies it to every later command, and no command prints
 * or writes it, on success or on a refused, missing or unreachable login.
 */

const PASSWORD = 'b0t s3cret/@:?';
const WRONG = 'not-the-password-4711';

describePostgres(
  'ptrack init and a postgres store with a password',
  () => {
    let cluster: PostgresCluster;
    let admin: pg.Client;
    let base: string; // postgres://bot@127.0.0.1:<port>/trading
    let withPassword: string;
    const tmp = tempDir('ptrack-pginit-');

    beforeAll(async () => {
      cluster = await startPostgres({ password: 'admin-only' });
      admin = new pg.Client({ connectionString: cluster.url });
      await admin.connect();
      await admin.query(`CREATE ROLE bot LOGIN PASSWORD '${PASSWORD.replace(/'/g, "''")}'`);
      await admin.query('CREATE DATABASE trading OWNER bot');
      base = `postgres://bot@127.0.0.1:${cluster.port}/trading`;
      withPassword = `postgres://bot:${encodeURIComponent(PASSWORD)}@127.0.0.1:${cluster.port}/trading`;
    }, 60_000);
    afterAll(async () => {
      await admin?.end();
      await cluster?.destroy();
      tmp.cleanup();
    });

    /** Runs ptrack with PGPASSWORD set to `password`, or unset (the test process's own PGPASSWORD never leaks in). */
    const run = (args: string[], password: string | undefined, extra: NodeJS.ProcessEnv = {}): Promise<CliResult> =>
      ptrack(args, { env: { PGPASSWORD: password, PGPASSFILE: join(tmp.dir, 'no-pgpass'), ...extra }, timeoutMs: 30_000 });

    const neverShown = (r: CliResult, ...files: string[]): void => {
      for (const secret of [PASSWORD, encodeURIComponent(PASSWORD), WRONG]) {
        expect(r.stdout).not.toContain(secret);
        expect(r.stderr).not.toContain(secret);
        for (const f of files) expect(readFileSync(f, 'utf8')).not.toContain(secret);
      }
    };

    const count = async (schema: string): Promise<number> => {
      const client = new pg.Client({ connectionString: withPassword });
      await client.connect();
      try {
        return (await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${schema}.events`)).rows[0]!.n;
      } finally {
        await client.end();
      }
    };

    it('init writes the store without the password and says how to give it; PGPASSWORD then opens the store for every command', async () => {
      const config = join(tmp.dir, 'a.json');
      const init = await run(['--config', config, '--store', withPassword, 'init'], undefined);
      expect(init.stderr).toBe('');
      expect(init.code).toBe(0);
      expect(init.stdout).toBe(
        `wrote ${config}\nstore postgres postgres://bot:***@127.0.0.1:${cluster.port}/trading (schema ptrack) ready (0 events), book main\n` +
          `the password was used to create the store and is not written to ${config}: give it to every ptrack command in PGPASSWORD (export PGPASSWORD=...)\n`,
      );
      const written = parseJsonc(readFileSync(config, 'utf8')) as { store: string };
      expect(written.store).toBe(base);
      neverShown(init, config);
      // The store was created on the server: the schema is there, empty.
      expect(await count('ptrack')).toBe(0);

      const track = await run(['--config', config, 'track', 'AAPL-1', '--symbol', 'AAPL'], PASSWORD);
      expect(track.stderr).toBe('');
      expect(track.code).toBe(0);
      expect(await count('ptrack')).toBe(1);
      // Debug logs included, nothing prints the password.
      const status = await run(['--config', config, 'status'], PASSWORD, { LOG_LEVEL: 'trace' });
      expect(status.code).toBe(0);
      expect(status.stdout).toContain(
        `book main (postgres postgres://bot@127.0.0.1:${cluster.port}/trading (schema ptrack)): IN 0, WATCHING 1,`,
      );
      neverShown(status, config);
      const json = await run(['--config', config, 'status', '--json'], PASSWORD);
      expect(json.code).toBe(0);
      expect((JSON.parse(json.stdout) as { positions: { id: string }[] }).positions.map((p) => p.id)).toEqual(['AAPL-1']);
      const head = await run(['--config', config, 'head', '--json'], PASSWORD);
      expect(JSON.parse(head.stdout)).toMatchObject({ engine: 'postgres', count: 1 });
      neverShown(json, config);
    });

    it('no PGPASSWORD: exit 2 and a line saying the server asks for one; a wrong one: exit 2, refused, neither printed', async () => {
      const config = join(tmp.dir, 'b.json');
      expect((await run(['--config', config, '--store', `${withPassword}?schema=desk_b`, 'init'], undefined)).code).toBe(0);
      const missing = await run(['--config', config, 'status'], undefined);
      expect(missing.code).toBe(2);
      expect(missing.stdout).toBe('');
      expect(missing.stderr).toBe(
        `ptrack: the PostgreSQL server postgres://bot@127.0.0.1:${cluster.port}/trading?schema=desk_b (schema desk_b) asks for a password and none was given ` +
          '(while opening it): set PGPASSWORD (a store string in a config file carries no password)\n',
      );
      const wrong = await run(['--config', config, 'track', 'X-1', '--symbol', 'X', '--verbose'], WRONG);
      expect(wrong.code).toBe(2);
      expect(wrong.stdout).toBe('');
      expect(wrong.stderr).toMatch(
        /^ptrack: the PostgreSQL server postgres:\/\/bot@127\.0\.0\.1:\d+\/trading\?schema=desk_b \(schema desk_b\) refused: password authentication failed for user "bot" \(while opening it\): check the password \(PGPASSWORD, or the store string\)\n/,
      );
      neverShown(missing, config);
      neverShown(wrong, config);
      expect(await count('desk_b')).toBe(0);
    });

    it('a ?password= parameter is not written either; --json names where the password comes from', async () => {
      const config = join(tmp.dir, 'c.json');
      const init = await run(
        ['--config', config, '--store', `${base}?schema=desk_c&password=${encodeURIComponent(PASSWORD)}`, 'init', '--json'],
        undefined,
      );
      expect(init.code).toBe(0);
      expect(JSON.parse(init.stdout)).toEqual({
        config,
        store: `postgres://bot@127.0.0.1:${cluster.port}/trading?schema=desk_c&password=*** (schema desk_c)`,
        book: 'main',
        events: 0,
        password: `the password was used to create the store and is not written to ${config}: give it to every ptrack command in PGPASSWORD (export PGPASSWORD=...)`,
      });
      expect((parseJsonc(readFileSync(config, 'utf8')) as { store: string }).store).toBe(`${base}?schema=desk_c`);
      neverShown(init, config);
      expect((await run(['--config', config, 'head'], PASSWORD)).code).toBe(0);
    });

    it('a store string without a password takes PGPASSWORD at init too, and init says so', async () => {
      const config = join(tmp.dir, 'd.json');
      const init = await run(['--config', config, '--store', `${base}?schema=desk_d`, 'init'], PASSWORD);
      expect(init.code).toBe(0);
      expect(init.stdout.split('\n')[2]).toBe(
        'the store string holds no password: ptrack reads it from PGPASSWORD when the server asks for one',
      );
      expect(await count('desk_d')).toBe(0);
      neverShown(init, config);
    });

    it(
      'ptrack demo with the password in --store: its crashing first process gets it through PGPASSWORD, never on a command line',
      { timeout: 120_000 },
      async () => {
        // While it runs, every process's command line is read from /proc: the first life's must be seen, without the password.
        const seen: string[] = [];
        let running = true;
        const watch = (async () => {
          for (let i = 0; running && i < 20_000; i++) {
            for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
              let cmdline = '';
              try {
                cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
              } catch {
                continue; // gone
              }
              if (cmdline.includes(' demo --phase 1 ') && !seen.includes(cmdline)) seen.push(cmdline);
            }
            await new Promise((r) => setTimeout(r, 10));
          }
        })();
        const demo = await run(['--store', withPassword, 'demo', '--steps', '20'], undefined).finally(() => (running = false));
        await watch;
        expect(seen.length).toBeGreaterThan(0);
        for (const cmdline of seen) {
          expect(cmdline).toContain(`--store postgres://bot@127.0.0.1:${cluster.port}/trading?schema=ptrack_demo_`);
          expect(cmdline).not.toContain(encodeURIComponent(PASSWORD));
          expect(cmdline).not.toContain(PASSWORD);
        }
        expect(demo.stderr).toBe('');
        expect(demo.code).toBe(0);
        const out = demo.stdout.trimEnd().split('\n');
        expect(out[0]).toBe('position-tracker demo: seed 1, 20 simulated minutes, PostgreSQL trade log, simulated exchange');
        expect(out.at(-3)).toMatch(/^VERDICT: local equals outside/);
        expect(out.at(-1)).toMatch(
          new RegExp(
            `^the demo's trade log, schema ptrack_demo_[0-9a-f]{8} on postgres://bot:\\*\\*\\*@127\\.0\\.0\\.1:${cluster.port}/trading, was dropped$`,
          ),
        );
        neverShown(demo);
      },
    );

    it('an unreachable server: init and status exit 5 with the password as ***, and init writes no config', async () => {
      const config = join(tmp.dir, 'e.json');
      const closed = `postgres://bot:${encodeURIComponent(PASSWORD)}@127.0.0.1:${cluster.port + 1}/trading`;
      const init = await run(['--config', config, '--store', closed, 'init'], undefined);
      expect(init.code).toBe(5);
      expect(init.stderr).toMatch(
        new RegExp(
          `^ptrack: the PostgreSQL server postgres://bot:\\*\\*\\*@127\\.0\\.0\\.1:${cluster.port + 1}/trading \\(schema ptrack\\) cannot be reached .*ECONNREFUSED`,
        ),
      );
      expect(existsSync(config)).toBe(false);
      const status = await run(['--store', closed, 'status'], WRONG);
      expect(status.code).toBe(5);
      expect(status.stderr).toMatch(
        /^ptrack: the PostgreSQL server postgres:\/\/bot:\*\*\*@127\.0\.0\.1:\d+\/trading \(schema ptrack\) cannot be reached/,
      );
      neverShown(init);
      neverShown(status);
    });
  },
  { needsBinaries: true },
);
