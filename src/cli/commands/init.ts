import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { CONFIG_FILE, defaultConfigText, parseConfigText } from '../../config/index.js';
import { ValidationError } from '../../errors/index.js';
import { openStore, splitPostgresPassword } from '../../store/index.js';
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
      // A postgres:// password is used to create the store but never written: the file names the
      // server, PGPASSWORD (which pg reads, as psql does) supplies the secret to every command.
      const given = globals.store;
      refuseStoredSecret(given, file);
      const postgres = given !== undefined && /^\s*postgres(ql)?:/i.test(given) ? { given, ...splitPostgresPassword(given) } : null;
      const text = defaultConfigText({
        ...definedFields({ store: postgres ? postgres.spec : globals.store, book: globals.book }),
      });
      const config = parseConfigText(text, file); // what we write must read back
      const store = await openStore(postgres ? postgres.given : config.store);
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
      const password = postgres === null ? null : passwordNote(postgres.password !== null, file);
      if (opts.json) {
        io.out(
          JSON.stringify({ config: file, store: store.location, book: config.book, events: head.count, ...(password ? { password } : {}) }),
        );
      } else {
        io.out(`wrote ${file}\nstore ${store.engine} ${store.location} ready (${head.count} events), book ${config.book}`);
        if (password) io.out(password);
      }
    });
}

/**
 * An EventStoreDB string with `user:password@` would put the password into the config file, and
 * its client reads credentials only from the string: refuse before anything is written, and say
 * what to do instead.
 */
function refuseStoredSecret(given: string | undefined, file: string): void {
  if (given === undefined || !/^\s*(esdb|esdb\+discover|kurrentdb|kdb):\/\//i.test(given)) return;
  const authority = given.replace(/^\s*[a-z+]+:\/\//i, '').split(/[/?#]/, 1)[0] ?? '';
  const at = authority.lastIndexOf('@');
  if (at < 0 || !authority.slice(0, at).includes(':')) return;
  const shown = `${given.slice(0, given.indexOf('//') + 2)}${authority.slice(0, authority.indexOf(':'))}:***@${authority.slice(at + 1)}`;
  throw new ValidationError(
    `--store: ${shown} holds a password, and ptrack init never writes a secret into ${file}: ` +
      `run init with the store string without user:password@ (a node without access control), or use client certificates (userCertFile, userKeyFile)`,
    [{ path: 'store', message: 'must not hold a password for init', value: shown }],
  );
}

/** How a postgres store gets its password from now on: the line init prints (and its JSON's `password`). */
function passwordNote(hadOne: boolean, file: string): string {
  return hadOne
    ? `the password was used to create the store and is not written to ${file}: give it to every ptrack command in PGPASSWORD (export PGPASSWORD=...)`
    : `the store string holds no password: ptrack reads it from PGPASSWORD when the server asks for one`;
}
