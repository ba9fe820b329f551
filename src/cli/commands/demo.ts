import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, mkdirSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { runDemoPhase1, runDemoPhase2 } from '../../demo/index.js';
import { ValidationError } from '../../errors/index.js';
import { requiredNumberFlag } from '../args.js';
import { present } from '../../_internals/present.js';
import type { Io } from '../io.js';
import { globalsOf } from '../context.js';
import { dropPostgresTradeLog, openStore, parseStoreSpec, splitPostgresPassword } from '../../store/index.js';
import { quote } from '../../_internals/zodIssues.js';
import { definedFields } from '../../_internals/definedFields.js';

interface DemoFlags {
  seed?: string;
  steps?: string;
  dir?: string;
  phase?: string;
}

/** Registers `ptrack demo`. */
export function registerDemoCommand(program: Command, io: Io): void {
  program
    .command('demo')
    .description('a bot trades against a simulated exchange; faults, a crash and a restart; reconciliation heals it all')
    .option('--seed <n>', 'the story: the same seed prints the same output, byte for byte', '1')
    .option('--steps <n>', 'simulated minutes of trading (20 to 1000)', '60')
    .option('--dir <dir>', 'keep the trade log and exchange state here (default: a temporary directory, removed after)')
    .option('--phase <n>', '(internal) run one phase in this process')
    .action(async (_opts: unknown, command: Command) => {
      const flags = command.opts<DemoFlags>();
      const seed = requiredNumberFlag('--seed', flags.seed);
      const steps = requiredNumberFlag('--steps', flags.steps);
      if (!Number.isSafeInteger(seed) || seed < 0) throw new ValidationError(`--seed: expected a whole number >= 0, got ${flags.seed}`);
      if (!Number.isInteger(steps) || steps < 20 || steps > 1000)
        throw new ValidationError(`--steps: expected a whole number from 20 to 1000, got ${flags.steps}`);

      const given = globalsOf(command).store;
      if (flags.phase === '1') {
        if (flags.dir === undefined) throw new ValidationError('--phase 1 needs --dir (the directory the second phase reads)');
        // The bot's first life, in its own process: it ends by SIGKILL, so write synchronously.
        const out = (line: string): void => void writeSync(1, `${line}\n`);
        await runDemoPhase1({ seed, steps, dir: resolve(flags.dir), out, ...definedFields({ store: given }) }, () => {
          process.kill(process.pid, 'SIGKILL');
          throw new Error('unreachable: SIGKILL did not stop the process');
        });
        return;
      }

      const server = given === undefined ? null : demoServer(given);
      const dir = flags.dir ? resolve(flags.dir) : mkdtempSync(join(tmpdir(), 'ptrack-demo-'));
      if (flags.dir) mkdirSync(dir, { recursive: true });
      let created = false;
      try {
        if (server) {
          // Created here, so an unreachable server or a refused login is the usual one line and exit code.
          await (await openStore(server.spec)).close();
          created = true;
        }
        await runFirstLife(dir, seed, steps, io, server);
        const ok = await runDemoPhase2({ seed, steps, dir, out: io.out, ...definedFields({ store: server?.spec }) });
        // Exit 1 through main()'s one table: a demo that does not heal is a bug, not bad input.
        if (!ok) throw new Error('the demo ended in a MISMATCH between the book and the exchange (see the VERDICT above)');
      } finally {
        if (!flags.dir) rmSync(dir, { recursive: true, force: true });
        if (server && created) await server.cleanUp(flags.dir !== undefined, io);
      }
    });
}

interface DemoServer {
  /** The store string of the demo's own schema, password included when --store had one (never printed). */
  spec: string;
  /** The same without the password: the child's --store (its password goes in PGPASSWORD, not on a command line). */
  childSpec: string;
  password: string | null;
  /** Drops the demo's schema (or, `keep`, says where it is) and prints which. */
  cleanUp(keep: boolean, io: Io): Promise<void>;
}

/**
 * `ptrack demo --store postgres://...`: the demo's trade log in a schema of its own on that
 * server (`ptrack_demo_<8 hex>`), so it can never mix with a real trade log; dropped at the end
 * unless --dir keeps the demo's state.
 */
function demoServer(given: string): DemoServer {
  const parsed = parseStoreSpec(given);
  if (parsed.engine !== 'postgres') {
    throw new ValidationError(
      `--store: the demo runs on SQLite (the default, in --dir) or on PostgreSQL (postgres://user@host:5432/db), got ${quote(given.trim().split(':')[0] + ':...')}`,
    );
  }
  if (new URL(given.trim()).searchParams.has('schema')) {
    throw new ValidationError(
      `--store ${quote(parsed.connection.display)}: the demo makes a schema of its own (ptrack_demo_...) and drops it after: leave ?schema= out`,
    );
  }
  const schema = `ptrack_demo_${randomBytes(4).toString('hex')}`;
  const withSchema = (spec: string): string => `${spec.trim()}${spec.includes('?') ? '&' : '?'}schema=${schema}`;
  const { spec: withoutPassword, password } = splitPostgresPassword(given);
  const spec = withSchema(given);
  const display = parsed.connection.display;
  return {
    spec,
    childSpec: withSchema(withoutPassword),
    password,
    cleanUp: async (keep, io) => {
      if (keep) {
        io.out(`\nthe demo's trade log is kept in schema ${schema} on ${display} (DROP SCHEMA ${schema} CASCADE removes it)`);
        return;
      }
      try {
        await dropPostgresTradeLog(spec);
        io.out(`\nthe demo's trade log, schema ${schema} on ${display}, was dropped`);
      } catch (error) {
        io.err(`ptrack: the demo's schema ${schema} on ${display} could not be dropped: ${(error as Error).message}`);
      }
    },
  };
}

/** Runs phase 1 in a child process (the same ptrack binary) and relays its story; it must die by SIGKILL. */
function runFirstLife(dir: string, seed: number, steps: number, io: Io, server: DemoServer | null): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      process.execPath,
      [
        present(process.argv[1], 'the path of the running ptrack script'),
        ...(server ? ['--store', server.childSpec] : []),
        'demo',
        '--phase',
        '1',
        '--dir',
        dir,
        '--seed',
        String(seed),
        '--steps',
        String(steps),
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, LOG_LEVEL: 'silent', ...(server?.password != null ? { PGPASSWORD: server.password } : {}) },
      },
    );
    let buffer = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? ''; // split gives at least one piece: the unfinished line
      for (const line of lines) io.out(line);
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (buffer) io.out(buffer);
      if (signal === 'SIGKILL' && stderr === '') return resolvePromise();
      reject(new Error(`the demo's first bot process ended with ${signal ?? `code ${code}`} instead of its crash: ${stderr.trim()}`));
    });
  });
}
