/**
 * The entry of the CLI's V8 startup snapshot (built by scripts/bundle-cli.mjs into
 * dist/cli/ptrack.blob, run by bin/ptrack for the book's write commands): what a write command
 * would spend starting up (compiling its modules, zod building its schemas, its parsers' first
 * runs) is done once, when the snapshot is built, and a command starts from the heap as it was.
 *
 * Run as the snapshot's builder, this module's top level registers the book's commands, runs one
 * `open` and one `track` on a `memory:` store (their code paths then start warm), and names the
 * function a process started from the snapshot runs. Nothing of the process that builds the
 * snapshot may leak into one that runs a command: the Io is made in the command's process
 * (`processIo()`), the builder runs in an empty directory without the CLI's environment variables
 * (scripts/bundle-cli.mjs), and crypto's UUID pool, which would be copied into every command's
 * process alike, is closed to the warm-up (see withoutUuidPool.ts).
 */
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startupSnapshot } from 'node:v8';
import { registerBookCommands } from './commands/book.js';
import { runCli } from './program.js';
import { processIo, type Io } from './io.js';
import { withoutUuidPool } from './withoutUuidPool.js';

declare global {
  /** Loads a package from the CLI's own node_modules, in a process started from the snapshot (set by {@link run}). */
  var __ptrackRequire: NodeJS.Require | undefined;
  /** The URL of dist/cli/ptrack.mjs, which the bundle's `import.meta.url` stands for. */
  var __ptrackUrl: string | undefined;
}

/** The blob this process started from: `--snapshot-blob <file>` (or `=<file>`) in its Node options. */
function blobOf(execArgv: readonly string[]): string | undefined {
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i];
    if (arg === '--snapshot-blob') return execArgv[i + 1];
    if (arg?.startsWith('--snapshot-blob=')) return arg.slice('--snapshot-blob='.length);
  }
  return undefined;
}

async function run(): Promise<void> {
  const blob = blobOf(process.execArgv);
  if (blob === undefined) throw new Error('ptrack: started from a snapshot without --snapshot-blob in its options');
  // From the blob's real place: its package's node_modules is beside the real dist/, not a link to it.
  const here = join(dirname(realpathSync(resolve(blob))), 'ptrack.mjs');
  globalThis.__ptrackRequire = createRequire(here);
  globalThis.__ptrackUrl = pathToFileURL(here).href;
  const code = await runCli(process.argv.slice(1), processIo(), registerBookCommands);
  // As bin/ptrack.js: leave once stdout and stderr have drained, even if a handle stays open.
  let pending = 2;
  const done = (): void => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}

async function warmUp(): Promise<void> {
  const quiet: Io = { out: () => undefined, err: () => undefined, liveStderr: false };
  await withoutUuidPool(async () => {
    for (const argv of [
      ['open', 'W', '--symbol', 'S', '--value', '100', '--qty', '1', '--price', '100', '--store', 'memory:'],
      ['track', 'W', '--symbol', 'S', '--store', 'memory:'],
    ]) {
      const code = await runCli(argv, quiet, registerBookCommands);
      if (code !== 0) throw new Error(`the snapshot warm-up's ptrack ${argv.join(' ')} exited ${code}`);
    }
  });
}

if (startupSnapshot.isBuildingSnapshot()) {
  warmUp().then(
    () =>
      startupSnapshot.setDeserializeMainFunction(() => {
        run().catch((error: unknown) => {
          process.stderr.write(`ptrack: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`);
          process.exit(1);
        });
      }),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
