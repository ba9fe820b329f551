import type { Command } from 'commander';
import { BOOK_COMMANDS, PROJECTION_COMMANDS } from './bookCommands.js';
import { runCli } from './program.js';
import { processIo, type Io } from './io.js';

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

/**
 * Runs the CLI with `argv` (without node and script) and returns the exit code:
 * 0 ok, 1 unexpected, 2 bad input or usage, 3 rejected by a rule or transition,
 * 4 corruption detected, 5 external system failure.
 */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  return runCli(argv, io, registerCommands);
}
