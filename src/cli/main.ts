import { Command, CommanderError } from 'commander';
import { TrackerError } from '../errors/index.js';
import { ExitCode, exitCodeOf } from './exitCodes.js';
import { BOOK_COMMANDS, PROJECTION_COMMANDS } from './bookCommands.js';
import { strictUsage } from './args.js';
import { processIo, type Io } from './io.js';

/**
 * Commander's usage errors, as one line like every other error: `error: unknown command 'x'
 * (Did you mean y?)` and the hint after it would otherwise be several lines without the prefix.
 */
function outputFor(io: Io): {
  writeOut: (s: string) => void;
  writeErr: (s: string) => void;
  outputError: (s: string, write: (s: string) => void) => void;
} {
  return {
    writeOut: io.out,
    writeErr: io.err,
    outputError: (message, write) =>
      write(
        `ptrack: ${message
          .trim()
          .replace(/^error: /, '')
          .replace(/\s*\n\s*/g, ' ')} (run with --help for usage)\n`,
      ),
  };
}

/** The command `argv` names: its first word that is neither an option nor a global option's value. */
export function commandNameOf(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--config' || arg === '--store' || arg === '--book') i++;
    else if (arg !== undefined && !arg.startsWith('-')) return arg;
  }
  return undefined;
}

/**
 * Registers the commands on `program`: only the book's write commands when `argv` names one of
 * them (what a shell loop runs, so it loads neither the read models, nor reconciliation's
 * commands, nor the daemon), only the read models' commands when it names one of those, every
 * command otherwise (help, usage errors and their suggestions).
 */
async function registerCommands(program: Command, io: Io, argv: readonly string[]): Promise<void> {
  const name = commandNameOf(argv);
  if (name !== undefined && BOOK_COMMANDS.has(name)) {
    (await import('./commands/book.js')).registerBookCommands(program, io);
    return;
  }
  if (name !== undefined && PROJECTION_COMMANDS.has(name)) {
    (await import('./commands/projections.js')).registerProjectionCommands(program, io);
    return;
  }
  const [init, book, read, orders, projections, demo, reconcile, migrate, serve] = await Promise.all([
    import('./commands/init.js'),
    import('./commands/book.js'),
    import('./commands/read.js'),
    import('./commands/orders.js'),
    import('./commands/projections.js'),
    import('./commands/demo.js'),
    import('./commands/reconcile.js'),
    import('./commands/migrate.js'),
    import('./commands/serve.js'),
  ]);
  init.registerInitCommand(program, io);
  book.registerBookCommands(program, io);
  read.registerReadCommands(program, io);
  orders.registerOrderCommands(program, io);
  projections.registerProjectionCommands(program, io);
  demo.registerDemoCommand(program, io);
  reconcile.registerReconcileCommands(program, io);
  migrate.registerMigrateCommand(program, io);
  serve.registerServeCommand(program, io);
}

async function buildProgram(io: Io, argv: readonly string[]): Promise<Command> {
  const program = new Command('ptrack')
    .description('Track positions held in an outside system, from an append-only trade log.')
    .option('--config <file>', 'config file (default ./ptrack.config.json, or $PTRACK_CONFIG)')
    .option('--store <store>', 'store string, overrides the config: sqlite:<file>, memory: or esdb://host:2113?tls=false')
    .option('--book <book>', 'book (one event stream), overrides the config')
    .option('--verbose', 'print the stack of an error')
    .configureOutput(outputFor(io))
    .exitOverride();
  await registerCommands(program, io, argv);
  const inherit = (cmd: Command): void => {
    strictUsage(cmd);
    for (const sub of cmd.commands) {
      sub.exitOverride().configureOutput(outputFor(io));
      inherit(sub);
    }
  };
  inherit(program);
  return program;
}

/**
 * Runs the CLI with `argv` (without node and script) and returns the exit code:
 * 0 ok, 1 unexpected, 2 bad input or usage, 3 rejected by a rule or transition,
 * 4 corruption detected, 5 external system failure.
 */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  const program = await buildProgram(io, argv);
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
    io.err(`ptrack: ${error instanceof TrackerError ? '' : 'unexpected error: '}${message.split('\n')[0]}`);
    if (verbose && error instanceof Error && error.stack) io.err(error.stack);
    return code;
  }
}
