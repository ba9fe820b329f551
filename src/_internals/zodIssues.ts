import type { z } from 'zod';
import { ValidationError } from '../errors/index.js';

export interface IssueDescription {
  path: string;
  message: string;
  value?: unknown;
}

/** Walks a path into a value; used to quote the value that failed. */
function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = root;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function renderPath(path: readonly PropertyKey[], prefix: string): string {
  let out = prefix;
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

/** Short JSON-ish rendering of a value for an error message. */
export function quote(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : ((JSON.stringify(value) as string | undefined) ?? String(value));
  } catch {
    text = String(value);
  }
  // JSON escapes C0 controls but not C1, direction marks or separators: escape those too, so a
  // value quoted in a message never reaches a terminal raw.
  text = text.replace(
    /[\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Turns zod issues into `{ path, message, value }` naming the field and the value that failed. */
export function describeIssues(error: z.ZodError, input: unknown, prefix = ''): IssueDescription[] {
  return error.issues.map((issue) => {
    const path = renderPath(issue.path, prefix);
    // A schema that holds secrets (a webhook URL) quotes what it may show itself: `params.quoted`.
    const secret = issue.code === 'custom' && (issue.params as { quoted?: unknown } | undefined)?.quoted === true;
    const value = secret ? undefined : valueAt(input, issue.path);
    const found = issue.code === 'unrecognized_keys' || secret ? '' : `, got ${quote(value)}`;
    return { path, message: `${issue.message}${found}`, ...(secret ? {} : { value }) };
  });
}

/** One line: `field: message, got value; other: ...`. */
export function formatIssues(issues: readonly IssueDescription[]): string {
  return issues
    .slice(0, 5)
    .map((i) => `${i.path}: ${i.message}`)
    .concat(issues.length > 5 ? [`and ${issues.length - 5} more`] : [])
    .join('; ');
}

/** How {@link parseOrThrow} names the input and builds its error. */
export interface ParseOrThrowOptions {
  /** Where the input sits (`data`, `book`): prefixed to each issue's path instead of `(root)`. */
  at?: string;
  /** Appended to the message: what was expected, or what to do. */
  hint?: string;
  /** Builds the error from the whole message and the issues; a ValidationError unless given. */
  error?: (message: string, issues: IssueDescription[]) => Error;
}

/**
 * Parse-or-throw at a boundary: the parsed value, or an error `label: field: message, got value`
 * carrying the issues (never a raw ZodError). The one copy of safeParse -> describe -> throw:
 * `at` names where the input sits, `hint` says what was expected, `error` picks the error class
 * (a ValidationError by default). An empty label leaves the message at the issues.
 *
 * @example
 * ```ts
 * const config = parseOrThrow(TrackerConfig, raw, 'ptrack.config.json');
 * ```
 */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  input: unknown,
  label: string,
  options: ParseOrThrowOptions = {},
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = describeIssues(result.error, input, options.at);
  const message = `${label === '' ? '' : `${label}: `}${formatIssues(issues)}${options.hint === undefined ? '' : ` ${options.hint}`}`;
  throw options.error ? options.error(message, issues) : new ValidationError(message, issues);
}
