import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { BOOK_COMMANDS, PROJECTION_COMMANDS } from '../../src/cli/bookCommands.js';
import { registerBookCommands } from '../../src/cli/commands/book.js';
import { registerProjectionCommands } from '../../src/cli/commands/projections.js';
import { commandNameOf } from '../../src/cli/main.js';
import { processIo } from '../../src/cli/io.js';

/* A write command loads only the book's commands: the list main.ts picks them by is theirs. */

describe('the book commands a write command loads alone', () => {
  it('BOOK_COMMANDS is exactly what registerBookCommands registers', () => {
    const program = new Command('ptrack');
    registerBookCommands(program, processIo());
    expect(new Set(program.commands.map((c) => c.name()))).toEqual(BOOK_COMMANDS);
  });

  it('PROJECTION_COMMANDS is exactly what registerProjectionCommands registers', () => {
    const program = new Command('ptrack');
    registerProjectionCommands(program, processIo());
    expect(new Set(program.commands.map((c) => c.name()))).toEqual(PROJECTION_COMMANDS);
  });

  it('the command name skips options and the values of --config, --store and --book', () => {
    expect(commandNameOf(['open', 'A', '--value', '1'])).toBe('open');
    expect(commandNameOf(['--store', 'memory:', '--book', 'b', '--config', 'c.json', '--verbose', 'track', 'A'])).toBe('track');
    expect(commandNameOf(['--store=memory:', 'status'])).toBe('status');
    expect(commandNameOf(['--help'])).toBeUndefined();
    expect(commandNameOf([])).toBeUndefined();
  });
});
