import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import type Pino from 'pino';
import type PinoPretty from 'pino-pretty';

export type { Logger };

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * The product's logger: structured JSON lines, human-readable on a TTY. The level comes
 * from the argument, then `LOG_LEVEL`, then `info`. Logs go to stderr so `--json` output
 * on stdout stays clean for scripts.
 *
 * @example
 * ```ts
 * const log = createLogger({ level: 'debug' });
 * log.info({ book: 'main' }, 'opened');
 * ```
 */
export function createLogger(options: { level?: string; pretty?: boolean; name?: string } = {}): Logger {
  const requested = options.level ?? process.env.LOG_LEVEL ?? 'info';
  const level = (LEVELS as readonly string[]).includes(requested) ? requested : 'info';
  const require = createRequire(import.meta.url);
  const pino = require('pino') as typeof Pino;
  const usePretty = options.pretty ?? Boolean(process.stderr.isTTY);
  const base = { level, name: options.name ?? 'ptrack' };
  if (usePretty) {
    // Loaded only on a TTY: scripts and CI never pay for it.
    const pretty = require('pino-pretty') as typeof PinoPretty;
    return pino(base, pretty({ destination: 2, sync: true, colorize: true, ignore: 'pid,hostname' }));
  }
  return pino(base, pino.destination({ dest: 2, sync: true }));
}

/** A logger that writes nothing. */
export function silentLogger(): Logger {
  return createLogger({ level: 'silent', pretty: false });
}

/** The levels a {@link lazyLogger} takes lines at. */
export type LogLevelMethods = Record<'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal', (obj: object, msg?: string) => void>;

/**
 * A logger that loads pino only when the first line is logged: most commands and most runs
 * log nothing, and pino is the slowest thing they would load. The one lazy logger: the CLI and
 * the projection runner take theirs from here. `create` is for tests.
 *
 * @example
 * ```ts
 * const log = lazyLogger({ level: process.env.LOG_LEVEL ?? 'warn', name: 'projections' });
 * log.warn({ file }, 'read model healed'); // pino is created here, once
 * ```
 */
export function lazyLogger(
  options: { level?: string; pretty?: boolean; name?: string } = {},
  create: (o: typeof options) => LogLevelMethods = createLogger,
): LogLevelMethods {
  let logger: LogLevelMethods | undefined;
  const get = (): LogLevelMethods => (logger ??= create(options));
  return {
    trace: (o, m) => get().trace(o, m),
    debug: (o, m) => get().debug(o, m),
    info: (o, m) => get().info(o, m),
    warn: (o, m) => get().warn(o, m),
    error: (o, m) => get().error(o, m),
    fatal: (o, m) => get().fatal(o, m),
  };
}
