import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ValidationError } from '../errors/index.js';
import { parseOrThrow } from '../_internals/zodIssues.js';
import { definedFields } from '../_internals/definedFields.js';
import { resolveStoreSpec } from '../store/index.js';
import { parseJsoncObject } from './parseJsonc.js';
import { TrackerConfig, type TrackerConfigInput } from './schema.js';

export const CONFIG_FILE = 'ptrack.config.json';

export interface LoadedConfig {
  config: TrackerConfig;
  /** The file it came from, or null for defaults only. */
  file: string | null;
}

/**
 * A config file's relative paths (`store` as `sqlite:<file>`, `stateDir`) resolved against the
 * file's own directory, so the same file names the same log from any working directory.
 * Values of the wrong type are left for the schema to refuse.
 */
function resolvePaths(raw: Record<string, unknown>, dir: string): Record<string, unknown> {
  const out = { ...raw };
  if (typeof raw.store === 'string') out.store = resolveStoreSpec(raw.store, dir);
  if (typeof raw.stateDir === 'string' && raw.stateDir.trim() !== '') out.stateDir = resolve(dir, raw.stateDir);
  return out;
}

/**
 * Parses config text (JSON with comments) and validates it; errors name the file, key and value.
 * Relative paths in the text resolve against `file`'s directory; `overrides` are taken as given.
 */
export function parseConfigText(text: string, file: string, overrides: TrackerConfigInput = {}): TrackerConfig {
  const raw = resolvePaths(parseJsoncObject(text, file), dirname(resolve(file)));
  const merged = { ...raw, ...definedFields(overrides) };
  return parseOrThrow(TrackerConfig, merged, file);
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
  if (options.file !== undefined && options.file.trim() === '') throw new ValidationError('--config: expected a file name, got ""');
  const named = options.file ?? (env.PTRACK_CONFIG ? env.PTRACK_CONFIG : undefined);
  const file = named !== undefined ? resolve(cwd, named) : resolve(cwd, CONFIG_FILE);
  if (!existsSync(file)) {
    if (named !== undefined) {
      throw new ValidationError(`config file ${file} does not exist (named by ${options.file ? '--config' : 'PTRACK_CONFIG'})`);
    }
    const merged = definedFields(options.overrides ?? {});
    return { config: parseOrThrow(TrackerConfig, merged, 'settings'), file: null };
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ValidationError(`cannot read config file ${file}: ${(error as Error).message}`, [], { cause: error });
  }
  return { config: parseConfigText(text, file, options.overrides), file };
}
