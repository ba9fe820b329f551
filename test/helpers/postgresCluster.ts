/*
 * Throwaway PostgreSQL clusters from the system's binaries, for the PostgreSQL test suites and
 * the benchmark (bench/postgres.ts). No test framework here: both import it.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Where the PostgreSQL binaries are: `PTRACK_POSTGRES_BIN`, else Debian's postgresql-15
 * package (`/usr/lib/postgresql/15/bin`).
 */
export const POSTGRES_BIN = process.env.PTRACK_POSTGRES_BIN ?? '/usr/lib/postgresql/15/bin';

/** How to run the PostgreSQL suites, for the notice a skip prints. */
export const HOW_TO_RUN_POSTGRES =
  'install PostgreSQL 15 (Debian: apt-get install postgresql-15; or set PTRACK_POSTGRES_BIN to its bin directory), ' +
  'or set PTRACK_POSTGRES_URL=postgres://user:pass@host:5432/db to use a running server';

/**
 * Whether the PostgreSQL suites can run here: a server named by `PTRACK_POSTGRES_URL`, or the
 * binaries to start a throwaway cluster (`needsBinaries`: the binaries, whatever the URL says).
 * Under `CI=true` a missing server is an error (the suites must run in CI, never skip); elsewhere
 * it is a reason to skip, printed by the caller.
 */
export function postgresAvailability(options: { needsBinaries?: boolean } = {}): { ok: true } | { ok: false; reason: string } {
  if (process.env.PTRACK_POSTGRES_URL && options.needsBinaries !== true) return { ok: true };
  const missing = missingBinaries();
  if (missing === null) return { ok: true };
  const reason =
    options.needsBinaries === true
      ? `no PostgreSQL binaries: ${missing} (this suite starts a cluster of its own, PTRACK_POSTGRES_URL cannot stand in)`
      : `no PostgreSQL: ${missing} and PTRACK_POSTGRES_URL is not set`;
  if (process.env.CI === 'true') throw new Error(`${reason}. Under CI=true the PostgreSQL suites must run: ${HOW_TO_RUN_POSTGRES}`);
  return { ok: false, reason };
}

/** What is missing to start a throwaway cluster (`initdb and pg_ctl not found in <dir>`), or null when nothing is. */
export function missingBinaries(): string | null {
  const missing = ['initdb', 'pg_ctl'].filter((b) => !existsSync(join(POSTGRES_BIN, b)));
  return missing.length === 0 ? null : `${missing.join(' and ')} not found in ${POSTGRES_BIN}`;
}

/** A free TCP port on 127.0.0.1 (free when asked: the start retries on a clash). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** initdb refuses to run as root: as root, the cluster belongs to `postgres` (Debian's package user) or `nobody`. */
function clusterUser(): { name: string; uid: number; gid: number } | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null;
  for (const name of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
      return { name, uid, gid };
    } catch {
      // no such user: try the next
    }
  }
  throw new Error('running as root, and neither a postgres nor a nobody user exists to own the test cluster (initdb refuses root)');
}

export interface PostgresCluster {
  /**
   * `postgres://postgres@127.0.0.1:<port>/postgres`: trust auth, no password; started with a
   * password, `postgres://postgres:<password>@...` (TCP logins then need it, SCRAM).
   */
  url: string;
  port: number;
  /** The directory holding the data, the log and the Unix socket. */
  dir: string;
  /** Stops the server (`fast` waits for clients to go; `immediate` is a crash, recovered on the next start). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops the server and removes its directory. Safe to call twice. */
  destroy(): Promise<void>;
}

const live = new Set<{ dataDir: string; as: ReturnType<typeof clusterUser>; dir: string }>();
let exitHook = false;

/** The process is leaving without `destroy()` (a crash, a timeout): no cluster outlives it. */
function installExitHook(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const c of live) {
      try {
        execFileSync(...command(c.as, join(POSTGRES_BIN, 'pg_ctl'), ['-D', c.dataDir, '-m', 'immediate', '-w', 'stop']), {
          stdio: 'ignore',
          timeout: 10_000,
        });
      } catch {
        // already stopped
      }
      rmSync(c.dir, { recursive: true, force: true });
    }
  });
}

function command(as: ReturnType<typeof clusterUser>, file: string, args: string[]): [string, string[]] {
  return as === null ? [file, args] : ['runuser', ['-u', as.name, '--', file, ...args]];
}

/**
 * Starts a throwaway PostgreSQL cluster: initdb into a temporary directory (trust auth, UTF-8,
 * C locale), listening on 127.0.0.1 at a free port and on a Unix socket in that directory.
 * `password`: TCP logins need it (SCRAM). `settings`: server settings (`fsync=on`) over the
 * test defaults (fsync off, 16 MB of shared buffers).
 * About two seconds. `destroy()` stops it and removes the directory (and the process's exit
 * does, if a test forgets).
 *
 * @example
 * ```ts
 * const pg = await startPostgres();
 * const store = await PostgresEventStore.open(pg.url);
 * await pg.destroy();
 * ```
 */
export async function startPostgres(options: { password?: string; settings?: readonly string[] } = {}): Promise<PostgresCluster> {
  const as = clusterUser();
  const dir = mkdtempSync(join(tmpdir(), 'ptrack-pg-'));
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  if (as !== null) chownSync(dir, as.uid, as.gid);
  const entry = { dataDir, as, dir };
  live.add(entry);
  installExitHook();
  const exec = async (file: string, args: string[], timeout = 60_000): Promise<void> => {
    const [cmd, argv] = command(as, join(POSTGRES_BIN, file), args);
    try {
      await run(cmd, argv, { timeout, env: { ...process.env, LC_ALL: 'C', TZ: 'UTC' } });
    } catch (error) {
      const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : '';
      const e = error as { stderr?: string; message: string };
      throw new Error(`${file} ${args.join(' ')} failed: ${e.stderr || e.message}${log ? `\nserver log:\n${log}` : ''}`, { cause: error });
    }
  };
  try {
    const auth = ['-A', 'trust'];
    if (options.password !== undefined) {
      // TCP logins (every client here) need the password; the Unix socket stays trusted for pg_ctl.
      const pwfile = join(dir, 'pwfile');
      writeFileSync(pwfile, `${options.password}\n`, { mode: 0o600 });
      if (as !== null) chownSync(pwfile, as.uid, as.gid);
      auth.splice(0, 2, '--auth-local=trust', '--auth-host=scram-sha-256', `--pwfile=${pwfile}`);
    }
    await exec('initdb', ['-D', dataDir, '-U', 'postgres', ...auth, '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions']);
  } catch (error) {
    live.delete(entry);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  let port = 0;
  const start = async (): Promise<void> => {
    // fsync=off: a test cluster needs no protection from an OS crash, and an immediate stop
    // (the crash tests) loses nothing with it, since every commit's WAL is written to the kernel
    // before the commit returns (synchronous_commit stays on).
    // `settings` (name=value) come last, so they override these (the bench turns fsync back on).
    const extra = (options.settings ?? []).map((setting) => ` -c ${setting}`).join('');
    const serverOptions = `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=${dir} -c max_connections=60 -c shared_buffers=16MB -c fsync=off${extra}`;
    await exec('pg_ctl', ['-D', dataDir, '-l', logFile, '-o', serverOptions, '-w', '-t', '30', 'start']);
  };
  let destroyed = false;
  const cluster: PostgresCluster = {
    url: '',
    port: 0,
    dir,
    stop: (mode = 'fast') => exec('pg_ctl', ['-D', dataDir, '-m', mode, '-w', '-t', '30', 'stop']),
    start,
    destroy: async () => {
      if (destroyed) return;
      destroyed = true;
      try {
        await exec('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', '-t', '30', 'stop']);
      } catch {
        // not running
      } finally {
        live.delete(entry);
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      await start();
      break;
    } catch (error) {
      if (attempt >= 3) {
        await cluster.destroy();
        throw error;
      }
    }
  }
  cluster.port = port;
  cluster.url =
    options.password === undefined
      ? `postgres://postgres@127.0.0.1:${port}/postgres`
      : `postgres://postgres:${encodeURIComponent(options.password)}@127.0.0.1:${port}/postgres`;
  return cluster;
}
