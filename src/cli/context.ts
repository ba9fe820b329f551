import type { Command } from 'commander';
import { loadConfig, type LoadedConfig } from '../config/index.js';
import { lazyLogger } from '../log.js';
import { openTracker, type Tracker } from '../tracker/index.js';
import { definedFields } from '../_internals/definedFields.js';

/** Options every command accepts (defined on the program). */
export interface GlobalOptions {
  config?: string;
  store?: string;
  book?: string;
  json?: boolean;
  verbose?: boolean;
}

export function globalsOf(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}

/** Reads the configuration with the command line's overrides. */
export function configFor(globals: GlobalOptions): LoadedConfig {
  return loadConfig({
    ...definedFields({ file: globals.config }),
    overrides: {
      ...definedFields({ store: globals.store, book: globals.book }),
    },
  });
}

/**
 * Opens the tracker the configuration names, runs `work`, and always closes it. A command that
 * only reads passes `{ readOnly: true }`: its store is opened to read and never created; one
 * that writes only to a log that already exists (acknowledging a recovery) passes `{ create: false }`.
 */
export async function withTracker<T>(
  globals: GlobalOptions,
  work: (tracker: Tracker) => Promise<T>,
  mode: { readOnly?: boolean; create?: false } = {},
): Promise<T> {
  const { config } = configFor(globals);
  const tracker = await openTracker({
    ...config,
    logger: lazyLogger({ level: process.env.LOG_LEVEL ?? config.logLevel ?? 'warn' }),
    ...(mode.readOnly ? { storeOptions: { readOnly: true } } : mode.create === false ? { storeOptions: { create: false } } : {}),
  });
  try {
    return await work(tracker);
  } finally {
    await tracker.close();
  }
}
