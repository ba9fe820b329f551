import { isAbsolute, resolve } from 'node:path';
import { StoreError } from '../errors/index.js';
import { quote } from '../_internals/zodIssues.js';
import type { EventCodec } from '../events/index.js';
import { parseEsdbConnectionString, redactStoreString, type EsdbConnection } from './esdb/connectionString.js';
import type { EventStoreDbStoreOptions } from './esdb/EventStoreDbStore.js';
import { MemoryEventStore } from './MemoryEventStore.js';
import { parsePostgresConnectionString, type PostgresConnection } from './postgres/connectionString.js';
import type { PostgresEventStoreOptions } from './postgres/PostgresEventStore.js';
import type { EventStore } from './port.js';
import { SqliteEventStore } from './SqliteEventStore.js';
import { definedFields } from '../_internals/definedFields.js';
import { present } from '../_internals/present.js';

/** A parsed store string. */
export type StoreSpec =
  | { engine: 'sqlite'; path: string }
  | { engine: 'memory' }
  | { engine: 'eventstoredb'; connection: EsdbConnection }
  | { engine: 'postgres'; connection: PostgresConnection };

const EXPECTED =
  "expected 'sqlite:<file>' (e.g. sqlite:./state/trades.db), 'memory:', 'postgres://user:password@host:5432/db' or 'esdb://host:2113?tls=false'";

/**
 * Parses a store string: `sqlite:./state/trades.db`, `sqlite:/abs/trades.db`, `memory:`,
 * `esdb://localhost:2113?tls=false`, `esdb://h1:2113,h2:2113,h3:2113`, `esdb+discover://dns:2113`,
 * `postgres://user:password@host:5432/db?schema=ptrack` (or `postgresql://`).
 * A bad string is a StoreError naming the string and what was expected.
 *
 * @example
 * ```ts
 * parseStoreSpec('sqlite:./state/trades.db') // { engine: 'sqlite', path: './state/trades.db' }
 * ```
 */
export function parseStoreSpec(spec: unknown): StoreSpec {
  // Redacted before anything is parsed: an error must never print a password.
  const shown = typeof spec === 'string' ? redactStoreString(spec) : spec;
  if (typeof spec !== 'string' || spec.trim() === '') {
    throw new StoreError(`store: ${EXPECTED}, got ${quote(shown)}`);
  }
  const colon = spec.indexOf(':');
  const scheme = colon < 0 ? '' : spec.slice(0, colon).toLowerCase();
  const rest = colon < 0 ? '' : spec.slice(colon + 1);
  switch (scheme) {
    case 'sqlite': {
      const path = rest.startsWith('//') ? rest.slice(2) : rest;
      if (path.trim() === '') throw new StoreError(`store ${quote(shown)}: the sqlite engine needs a file path; ${EXPECTED}`);
      if (path.includes('\0')) throw new StoreError(`store ${quote(shown)}: the path contains a NUL byte`);
      return { engine: 'sqlite', path };
    }
    case 'memory':
      if (rest !== '' && rest !== '//') throw new StoreError(`store ${quote(shown)}: 'memory:' takes nothing after the colon`);
      return { engine: 'memory' };
    case 'postgres':
    case 'postgresql':
      return { engine: 'postgres', connection: parsePostgresConnectionString(spec) };
    case 'esdb':
    case 'esdb+discover':
      return { engine: 'eventstoredb', connection: parseEsdbConnectionString(spec) };
    case 'kurrentdb':
    case 'kurrentdb+discover':
    case 'kdb':
    case 'kdb+discover': {
      // The same server: this version's client reads only the esdb:// spelling.
      const suggestion = parseEsdbConnectionString(spec.replace(/^(kurrentdb|kdb)/i, 'esdb')).display;
      throw new StoreError(
        `store "${suggestion.replace(/^esdb/, scheme)}": this version reads KurrentDB addresses in the esdb:// form: ${suggestion}`,
      );
    }
    default:
      throw new StoreError(`store ${quote(shown)}: unknown store; ${EXPECTED}`);
  }
}

/**
 * A store string with a relative `sqlite:` path resolved against `baseDir` (a config file's
 * directory); every other string, and an absolute path, is returned unchanged.
 *
 * @example
 * ```ts
 * resolveStoreSpec('sqlite:./state/trades.db', '/etc/ptrack') // 'sqlite:/etc/ptrack/state/trades.db'
 * ```
 */
export function resolveStoreSpec(spec: string, baseDir: string): string {
  const m = /^sqlite:(?:\/\/)?(.*)$/is.exec(spec);
  if (!m) return spec;
  const path = present(m[1], 'the path group');
  if (path.trim() === '' || path.includes('\0') || isAbsolute(path)) return spec;
  return `sqlite:${resolve(baseDir, path)}`;
}

export interface OpenStoreOptions {
  codec?: EventCodec;
  now?: () => Date;
  pollIntervalMs?: number;
  busyTimeoutMs?: number;
  /**
   * Open to read, never to create: sqlite opens an existing trade log read-only and refuses a
   * missing or empty file (StoreError, exit 2, naming the path). `memory:` and eventstoredb
   * create nothing by reading, so they open as usual.
   */
  readOnly?: boolean;
  /**
   * `false`: never create or initialise a log, but open an existing one read-write (sqlite; a
   * missing or empty file is refused as with `readOnly`). Default true.
   */
  create?: boolean;
  /** Options of the postgres engine (schema, pool size, timeouts). */
  postgres?: Omit<PostgresEventStoreOptions, 'codec' | 'now' | 'readOnly' | 'create' | 'pollIntervalMs'>;
  /** Options of the eventstoredb engine (namespace, timeouts, resubscribing). */
  eventstoredb?: Omit<EventStoreDbStoreOptions, 'codec' | 'now'>;
}

/**
 * Opens the store a string names.
 *
 * @example
 * ```ts
 * const store = await openStore('sqlite:./state/trades.db');
 * console.log(await store.head());
 * ```
 */
export async function openStore(spec: string, options: OpenStoreOptions = {}): Promise<EventStore> {
  const parsed = parseStoreSpec(spec);
  switch (parsed.engine) {
    case 'sqlite':
      return SqliteEventStore.open(parsed.path, options);
    case 'memory':
      return new MemoryEventStore(options);
    case 'postgres': {
      // Loaded on demand, like eventstoredb: sqlite users never load the driver.
      const { PostgresEventStore } = await import('./postgres/PostgresEventStore.js');
      return PostgresEventStore.open(parsed.connection, {
        ...options.postgres,
        ...definedFields({
          codec: options.codec,
          now: options.now,
          pollIntervalMs: options.pollIntervalMs,
          readOnly: options.readOnly,
          create: options.create,
        }),
      });
    }
    case 'eventstoredb': {
      // Loaded on demand: the engine and its gRPC client cost about a second, which sqlite users never pay.
      const { EventStoreDbStore } = await import('./esdb/EventStoreDbStore.js');
      return EventStoreDbStore.open(parsed.connection, {
        ...options.eventstoredb,
        ...definedFields({ codec: options.codec, now: options.now }),
      });
    }
    default: {
      const exhaustive: never = parsed;
      throw new StoreError(`unknown engine ${quote(exhaustive)}`);
    }
  }
}
