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

/**
 * A trailing stop from a flag: `5` trails 5 below the best price (a distance), `2%` trails 2 %
 * below it (a percent, 0 < p < 100). Anything else is a ValidationError naming the flag and the value.
 */
export function trailingFlag(flag: string, raw: string | undefined): { distance: number } | { percent: number } | undefined {
  if (raw === undefined) return undefined;
  const text = raw.trim();
  const bad = (what: string): ValidationError => new ValidationError(`${flag}: expected ${what}, got ${quote(raw)}`);
  const percent = text.endsWith('%');
  const digits = percent ? text.slice(0, -1).trim() : text;
  if (!NUMBER.test(digits)) throw bad('a distance like 5 or a percent like 2%');
  const n = Number(digits);
  if (percent) {
    if (!(n > 0 && n < 100)) throw bad('a percent between 0 and 100, both excluded');
    return { percent: n };
  }
  if (!(n > 0) || !Number.isFinite(n)) throw bad('a distance greater than 0');
  return { distance: n };
}

const UNIT_SECONDS = new Map([
  ['d', 86_400],
  ['h', 3600],
  ['m', 60],
  ['s', 1],
]);
const UNITS = [...UNIT_SECONDS.keys()];

/**
 * A duration in seconds: `90` (seconds), `90s`, `5m`, `2h`, `1d`, or compound as ptrack prints
 * them: `1d 2h`, `1m 30s`, `2h30m` (units largest first, each once). Anything else is a
 * ValidationError naming the flag and the value.
 */
export function durationFlag(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const text = raw.trim();
  const bad = (): ValidationError =>
    new ValidationError(
      `${flag}: expected a duration like 90, 90s, 5m, 2h, 1d or 1d 2h (units d, h, m, s, largest first, each once), got ${quote(raw)}`,
    );
  if (/^\d+(?:\.\d+)?$/.test(text)) return Number(text);
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)\s*([dhms])\s*/gy)];
  if (parts.length === 0 || parts.map((m) => m[0]).join('').length !== text.length) throw bad();
  let seconds = 0;
  let last = -1;
  for (const [, amount = '', unit = ''] of parts) {
    const rank = UNITS.indexOf(unit);
    const perUnit = UNIT_SECONDS.get(unit);
    if (rank <= last || perUnit === undefined) throw bad();
    last = rank;
    seconds += Number(amount) * perUnit;
  }
  return seconds;
}

/** A flag's value checked with a schema (bounds live in the schema); the error names the flag and what was typed. */
export function parseFlagValue<T>(flag: string, schema: z.ZodType<T>, value: unknown, raw: string | undefined): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new ValidationError(`${flag}: ${r.error.issues[0]?.message ?? 'invalid'}, got ${quote(raw ?? value)}`);
}

const FLAGS = new Map<string, string>([
  ['positionId', '<id>'],
  ['value', '--value'],
  ['quantity', '--qty'],
  ['price', '--price'],
  ['stop', '--stop'],
  ['takeProfit', '--take-profit'],
  ['trailingStop', '--trailing'],
  ['fraction', '--fraction'],
  ['symbol', '--symbol'],
  ['side', '--side'],
  ['setup', '--setup'],
  ['group', '--group'],
  ['reason', '--reason'],
]);

/**
 * Rewrites a command's ValidationError so it names CLI flags instead of fields. `names` gives
 * the command's own spelling of a field where it differs from the usual flag (cooldown's symbol
 * is its `<symbol>` argument; the breaker's and cooldown's seconds come from `--for`).
 */
export function asFlagError(error: unknown, names: Readonly<Record<string, string>> = {}): unknown {
  if (!(error instanceof ValidationError) || error.issues.length === 0) return error;
  const flag = (path: string): string => (Object.hasOwn(names, path) ? names[path] : undefined) ?? FLAGS.get(path) ?? path;
  const parts = error.issues.map((i) => `${flag(i.path)}: ${i.message}`);
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
      if (first !== undefined)
        throw new InvalidArgumentError(`${option.long ?? option.flags} is given twice (first ${quote(first)}): give it once`);
      first = value;
      return inner ? inner(value, previous) : value;
    });
  }
}
