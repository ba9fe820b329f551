/**
 * The names of the commands registered by ./commands/book.ts: `ptrack <one of these>` loads only
 * that module (see main.ts). test/cli/promises.bookCommands.test.ts checks the list against it.
 */
export const BOOK_COMMANDS: ReadonlySet<string> = new Set([
  'track',
  'enter',
  'open',
  'protect',
  'hold',
  'monitor',
  'exit',
  'skip',
  'adopt',
  'archive',
  'breaker',
  'cooldown',
]);

/**
 * The names of the commands registered by ./commands/projections.ts: `ptrack rebuild` (and the
 * others) load only that module, as the book commands do, so a long rebuild or `project --follow`
 * does not carry the other commands' code. Checked against the module by the same test.
 */
export const PROJECTION_COMMANDS: ReadonlySet<string> = new Set(['project', 'rebuild', 'replay', 'audit', 'verify']);
