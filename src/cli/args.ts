import { InvalidArgumentError, type Command } from 'commander';
import type { z } from 'zod';
import { ValidationError } from '../errors/index.js';
import { quote } from '../_internals/zodIssues.js';

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** A number from a flag; anything else is a ValidationError naming the flag and the value. */
export function numberFlag(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!NUMBER.test(raw.trim())) throw new ValidationError(`${flag}: expected a number, got ${quote(raw)}`);
  return Number(raw);
}

export function requiredNumberFlag(flag: string, raw: string | undefined): number {
  const n = numberFlag(flag, raw);
  if (n === undefined) throw new ValidationError(`${flag} is required`);
  return n;
}

/** Duration like 90, 90s, 5m, 2h, 1d in seconds. */
export function durationFlag(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d)?$/.exec(raw.trim());
  if (!m) throw new ValidationError(`${flag}: expected a duration like 90, 90s, 5m, 2h or 1d, got ${quote(raw)}`);
  const unit = { s: 1, m: 60, h: 3600, d: 86_400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

/** A flag's value checked with a schema (bounds live in the schema); the error names the flag and what was typed. */
export function parseFlagValue<T>(flag: string, schema: z.ZodType<T>, value: unknown, raw: string | undefined): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new ValidationError(`${flag}: ${r.error.issues[0]?.message ?? 'invalid'}, got ${quote(raw ?? value)}`);
}

const FLAGS: Record<string, string> = {
  positionId: '<id>',
  value: '--value',
  quantity: '--qty',
  price: '--price',
  stop: '--stop',
  fraction: '--fraction',
  symbol: '--symbol',
  side: '--side',
  setup: '--setup',
  group: '--group',
  reason: '--reason',
  seconds: '--seconds',
};

/** Rewrites a command's ValidationError so it names CLI flags instead of fields. */
export function asFlagError(error: unknown): unknown {
  if (!(error instanceof ValidationError) || error.issues.length === 0) return error;
  const parts = error.issues.map((i) => `${FLAGS[i.path] ?? i.path}: ${i.message}`);
  return new ValidationError(parts.join('; '), error.issues, { cause: error });
}

/**
 * Makes a command strict about its usage, in one place for every command: excess arguments are
 * refused, and so is a second value of a single-value option (`--value 100 --value 5` would
 * otherwise enter at 5). Both are commander usage errors, so exit 2 with one line. Applied by
 * main() to every command once all are registered; options' own parsers (e.g. choices) still run.
 */
export function strictUsage(command: Command): void {
  command.allowExcessArguments(false);
  for (const option of command.options) {
    if (option.variadic || !(option.required || option.optional)) continue; // flags and lists may repeat
    const inner = option.parseArg;
    let first: string | undefined;
    option.argParser((value: string, previous: unknown) => {
      if (first !== undefined) throw new InvalidArgumentError(`${option.long ?? option.flags} is given twice (first ${quote(first)}): give it once`);
      first = value;
      return inner ? inner(value, previous) : value;
    });
  }
}
