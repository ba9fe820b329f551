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
