import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { CONFIG_FILE, defaultConfigText, parseConfigText } from '../../config/index.js';
import { ValidationError } from '../../errors/index.js';
import { openStore } from '../../store/index.js';
import { globalsOf } from '../context.js';
import type { Io } from '../io.js';
import { definedFields } from '../../_internals/definedFields.js';

/** Registers `ptrack init`: a commented default config, and the store created. */
export function registerInitCommand(program: Command, io: Io): void {
  program
    .command('init')
    .description(`write a commented default ${CONFIG_FILE} and create the store`)
    .option('--force', 'overwrite an existing config file')
    .option('--json', 'print JSON for scripts')
    .action(async (_opts: unknown, command: Command) => {
      const globals = globalsOf(command);
      const opts = command.opts<{ force?: boolean; json?: boolean }>();
      // An empty PTRACK_CONFIG means unset, as loadConfig reads it (else this would resolve to the cwd itself).
      if (globals.config !== undefined && globals.config.trim() === '') throw new ValidationError('--config: expected a file name, got ""');
      const file = resolve(globals.config ?? (process.env.PTRACK_CONFIG || CONFIG_FILE));
      if (existsSync(file) && statSync(file).isDirectory()) throw new ValidationError(`${file} is a directory: name a config file`);
      if (existsSync(file) && !opts.force) {
        throw new ValidationError(`${file} already exists; use --force to overwrite it`);
      }
      const text = defaultConfigText({
        ...definedFields({ store: globals.store, book: globals.book }),
      });
      const config = parseConfigText(text, file); // what we write must read back
      const store = await openStore(config.store);
      const head = await store.head();
      await store.close();
      try {
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, text);
      } catch (error) {
        throw new ValidationError(
          `cannot write config file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
          [],
          { cause: error },
        );
      }
      if (opts.json) io.out(JSON.stringify({ config: file, store: store.location, book: config.book, events: head.count }));
      else io.out(`wrote ${file}\nstore ${store.engine} ${store.location} ready (${head.count} events), book ${config.book}`);
    });
}
