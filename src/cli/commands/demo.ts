import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { runDemoPhase1, runDemoPhase2 } from '../../demo/index.js';
import { ValidationError } from '../../errors/index.js';
import { requiredNumberFlag } from '../args.js';
import { present } from '../../_internals/present.js';
import type { Io } from '../io.js';

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

      if (flags.phase === '1') {
        if (flags.dir === undefined) throw new ValidationError('--phase 1 needs --dir (the directory the second phase reads)');
        // The bot's first life, in its own process: it ends by SIGKILL, so write synchronously.
        await runDemoPhase1({ seed, steps, dir: resolve(flags.dir), out: (line) => writeSync(1, `${line}\n`) }, () => {
          process.kill(process.pid, 'SIGKILL');
          throw new Error('unreachable: SIGKILL did not stop the process');
        });
        return;
      }

      const dir = flags.dir ? resolve(flags.dir) : mkdtempSync(join(tmpdir(), 'ptrack-demo-'));
      if (flags.dir) mkdirSync(dir, { recursive: true });
      try {
        await runFirstLife(dir, seed, steps, io);
        const ok = await runDemoPhase2({ seed, steps, dir, out: io.out });
        // Exit 1 through main()'s one table: a demo that does not heal is a bug, not bad input.
        if (!ok) throw new Error('the demo ended in a MISMATCH between the book and the exchange (see the VERDICT above)');
      } finally {
        if (!flags.dir) rmSync(dir, { recursive: true, force: true });
      }
    });
}

/** Runs phase 1 in a child process (the same ptrack binary) and relays its story; it must die by SIGKILL. */
function runFirstLife(dir: string, seed: number, steps: number, io: Io): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      process.execPath,
      [
        present(process.argv[1], 'the path of the running ptrack script'),
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
        env: { ...process.env, LOG_LEVEL: 'silent' },
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
