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
