import { Command, CommanderError } from 'commander';
import { ExitCode, TrackerError, exitCodeOf } from '../errors/index.js';
import { registerBookCommands } from './commands/book.js';
import { registerInitCommand } from './commands/init.js';
import { registerReadCommands } from './commands/read.js';
import { processIo, type Io } from './io.js';

function buildProgram(io: Io): Command {
  const program = new Command('ptrack')
    .description('Track positions held in an outside system, from an append-only trade log.')
    .option('--config <file>', 'config file (default ./ptrack.config.json, or $PTRACK_CONFIG)')
    .option('--store <store>', 'store string, overrides the config: sqlite:<file> or memory:')
    .option('--book <book>', 'book (one event stream), overrides the config')
    .option('--verbose', 'print the stack of an error')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();
  registerInitCommand(program, io);
  registerBookCommands(program, io);
  registerReadCommands(program, io);
  const inherit = (cmd: Command): void => {
    for (const sub of cmd.commands) {
      sub.exitOverride().configureOutput({ writeOut: io.out, writeErr: io.err }).showHelpAfterError('(run with --help for usage)');
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
