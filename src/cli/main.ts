import { Command, CommanderError } from 'commander';
import { TrackerError } from '../errors/index.js';
import { ExitCode, exitCodeOf } from './exitCodes.js';
import { registerBookCommands } from './commands/book.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerInitCommand } from './commands/init.js';
import { registerMigrateCommand } from './commands/migrate.js';
import { registerOrderCommands } from './commands/orders.js';
import { registerProjectionCommands } from './commands/projections.js';
import { registerReadCommands } from './commands/read.js';
import { registerReconcileCommands } from './commands/reconcile.js';
import { registerServeCommand } from './commands/serve.js';
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

function buildProgram(io: Io): Command {
  const program = new Command('ptrack')
    .description('Track positions held in an outside system, from an append-only trade log.')
    .option('--config <file>', 'config file (default ./ptrack.config.json, or $PTRACK_CONFIG)')
    .option('--store <store>', 'store string, overrides the config: sqlite:<file>, memory: or esdb://host:2113?tls=false')
    .option('--book <book>', 'book (one event stream), overrides the config')
    .option('--verbose', 'print the stack of an error')
    .configureOutput(outputFor(io))
    .exitOverride();
  registerInitCommand(program, io);
  registerBookCommands(program, io);
  registerReadCommands(program, io);
  registerOrderCommands(program, io);
  registerProjectionCommands(program, io);
  registerDemoCommand(program, io);
  registerReconcileCommands(program, io);
  registerMigrateCommand(program, io);
  registerServeCommand(program, io);
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
    io.err(`ptrack: ${error instanceof TrackerError ? '' : 'unexpected error: '}${message.split('\n')[0]}`);
    if (verbose && error instanceof Error && error.stack) io.err(error.stack);
    return code;
  }
}
