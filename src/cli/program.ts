import { Command, CommanderError } from 'commander';
import { TrackerError } from '../errors/index.js';
import { ExitCode, exitCodeOf } from './exitCodes.js';
import { strictUsage } from './args.js';
import type { Io } from './io.js';

/** Registers the commands `argv` may run on `program` (main.ts: those `argv` names; snapshot.ts: the book's). */
export type RegisterCommands = (program: Command, io: Io, argv: readonly string[]) => Promise<void> | void;

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

async function buildProgram(io: Io, argv: readonly string[], registerCommands: RegisterCommands): Promise<Command> {
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
 * Runs the CLI with `argv` (without node and script) on the commands `registerCommands` adds, and
 * returns the exit code:
 * 0 ok, 1 unexpected, 2 bad input or usage, 3 rejected by a rule or transition,
 * 4 corruption detected, 5 external system failure.
 */
export async function runCli(argv: readonly string[], io: Io, registerCommands: RegisterCommands): Promise<number> {
  const program = await buildProgram(io, argv, registerCommands);
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
