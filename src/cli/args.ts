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
