import { ValidationError } from '../errors/index.js';
import { parseOrThrow, quote } from '../_internals/zodIssues.js';
import { Command, commandTypes, type CommandInput } from './schemas.js';

/**
 * Parses a command from outside (API, CLI, config) with zod; an unknown type or a bad field
 * is a ValidationError naming the field, the value and what was expected.
 *
 * @example
 * ```ts
 * parseCommand({ type: 'Enter', positionId: 'AAPL-1', value: 1000 });
 * ```
 */
export function parseCommand(input: CommandInput | unknown): Command {
  if (input === null || typeof input !== 'object') {
    throw new ValidationError(`command: expected an object with a type, got ${quote(input)}`);
  }
  const type = (input as { type?: unknown }).type;
  if (typeof type !== 'string' || !(commandTypes as readonly string[]).includes(type)) {
    throw new ValidationError(`command: unknown type ${quote(type)}; expected one of ${commandTypes.join(', ')}`, [
      { path: 'type', message: 'unknown command type', value: type },
    ]);
  }
  return parseOrThrow(Command, input, type);
}
