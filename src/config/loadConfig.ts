import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseJsonc, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { ValidationError } from '../errors/index.js';
import { describeIssues, formatIssues } from '../_internals/zodIssues.js';
import { TrackerConfig, type TrackerConfigInput } from './schema.js';

export const CONFIG_FILE = 'ptrack.config.json';

export interface LoadedConfig {
  config: TrackerConfig;
  /** The file it came from, or null for defaults only. */
  file: string | null;
}

function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `line ${before.length}, column ${before[before.length - 1]!.length + 1}`;
}

/** Parses config text (JSON with comments) and validates it; errors name the file, key and value. */
export function parseConfigText(text: string, file: string, overrides: TrackerConfigInput = {}): TrackerConfig {
  const errors: ParseError[] = [];
  const raw: unknown = parseJsonc(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length > 0) {
    const e = errors[0]!;
    throw new ValidationError(`${file}: not valid JSON at ${lineAndColumn(text, e.offset)}: ${printParseErrorCode(e.error)}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ValidationError(`${file}: expected a JSON object of settings`);
  }
  const merged = { ...(raw as Record<string, unknown>), ...stripUndefined(overrides) };
  const result = TrackerConfig.safeParse(merged);
  if (!result.success) {
    const issues = describeIssues(result.error, merged);
    throw new ValidationError(`${file}: ${formatIssues(issues)}`, issues);
  }
  return result.data;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Finds and reads the configuration: `file` if given, else `$PTRACK_CONFIG`, else
 * `ptrack.config.json` in `cwd`, else the defaults. A named file that is missing is an error;
 * `overrides` (e.g. `--store`) win over the file.
 *
 * @example
 * ```ts
 * const { config } = loadConfig({ cwd: process.cwd() });
 * ```
 */
export function loadConfig(
  options: { file?: string; cwd?: string; env?: NodeJS.ProcessEnv; overrides?: TrackerConfigInput } = {},
): LoadedConfig {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const named = options.file ?? (env.PTRACK_CONFIG ? env.PTRACK_CONFIG : undefined);
  const file = named !== undefined ? resolve(cwd, named) : resolve(cwd, CONFIG_FILE);
  if (!existsSync(file)) {
    if (named !== undefined) {
      throw new ValidationError(`config file ${file} does not exist (named by ${options.file ? '--config' : 'PTRACK_CONFIG'})`);
    }
    const merged = stripUndefined(options.overrides ?? {});
    const result = TrackerConfig.safeParse(merged);
    if (!result.success) {
      const issues = describeIssues(result.error, merged);
      throw new ValidationError(`settings: ${formatIssues(issues)}`, issues);
    }
    return { config: result.data, file: null };
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ValidationError(`cannot read config file ${file}: ${(error as Error).message}`, [], { cause: error });
  }
  return { config: parseConfigText(text, file, options.overrides), file };
}
