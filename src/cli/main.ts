import { Command, CommanderError } from 'commander';
import { ExitCode, TrackerError, exitCodeOf } from '../errors/index.js';
import { openStore } from '../store/index.js';

const DEFAULT_STORE = 'sqlite:./state/trades.db';

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

const defaultIo: Io = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
};

function buildProgram(io: Io): Command {
  const program = new Command('ptrack')
    .description('Track positions held in an outside system, from an append-only trade log.')
    .option('--verbose', 'print the stack of an error')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();

  program
    .command('head')
    .description("open a store and print the log's head: last global position and event count")
    .option('--store <store>', 'store string: sqlite:<file> or memory:', process.env.PTRACK_STORE ?? DEFAULT_STORE)
    .option('--json', 'print JSON for scripts')
    .action(async (opts: { store: string; json?: boolean }) => {
      const store = await openStore(opts.store);
      try {
        const head = await store.head();
        if (opts.json) io.out(JSON.stringify({ store: store.location, engine: store.engine, ...head }));
        else io.out(`${store.engine} ${store.location}: ${head.count} events, last position ${head.position}`);
      } finally {
        await store.close();
      }
    });

  return program;
}

/**
 * Runs the CLI with `argv` (without node and script) and returns the exit code:
 * 0 ok, 1 unexpected, 2 bad input or usage, 3 rejected by a rule or transition,
 * 4 corruption detected, 5 external system failure.
 */
export async function main(argv: readonly string[], io: Io = defaultIo): Promise<number> {
  const program = buildProgram(io);
  const verbose = argv.includes('--verbose') || Boolean(process.env.DEBUG);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ExitCode.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are not failures; commander already printed its message.
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.help' || error.code === 'commander.version') {
        return ExitCode.ok;
      }
      return ExitCode.badInput;
    }
    const code = exitCodeOf(error);
    const message = error instanceof Error ? error.message : String(error);
    io.err(`ptrack: ${error instanceof TrackerError ? '' : 'unexpected error: '}${message}`);
    if (verbose && error instanceof Error && error.stack) io.err(error.stack);
    return code;
  }
}
