import { z } from 'zod';
import { BookPolicy } from '../commands/index.js';
import { ReadModelOptions } from '../projections/index.js';
import { ReconcilePolicy } from '../reconcile/index.js';
import { BookId, PositiveDurationSeconds } from '../events/index.js';

/**
 * The whole configuration: where the log lives, which book, and the book's rules.
 * One zod schema; `TrackerConfig.parse({})` gives the defaults.
 */
export const TrackerConfig = z.strictObject({
  ...BookPolicy.shape,
  /** Store string: `sqlite:<file>`, `memory:`, `postgres://user@host:5432/db` or `esdb://host:2113?tls=false` (see openStore). */
  store: z.string().min(1).default('sqlite:./state/trades.db'),
  /** The book (one event stream, `tradelog-<book>`). */
  book: BookId.default('main'),
  /** Log level: fatal, error, warn, info, debug, trace or silent (LOG_LEVEL overrides). */
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  /** Write a snapshot of the book after this many events (0 = never). */
  snapshotEvery: z.number().int().nonnegative().default(1000),
  /** How `ptrack reconcile` heals (orphans, phantoms, drift, tolerance, grace, per symbol, webhook). */
  reconcile: ReconcilePolicy.default(ReconcilePolicy.parse({})),
  /** Startup recovery: mode, and the heartbeat age that forces a sync. */
  recovery: z
    .strictObject({
      mode: z.enum(['sync', 'restore', 'close_all', 'manual']).default('sync'),
      maxStateAgeSeconds: PositiveDurationSeconds.default(3600),
    })
    .default({ mode: 'sync', maxStateAgeSeconds: 3600 }),
  /** `ptrack serve`: where it listens, its API token (write endpoints), and how often it archives and beats. */
  serve: z
    .strictObject({
      port: z.number().int().min(0).max(65535).default(8080),
      host: z.string().min(1).default('127.0.0.1'),
      /** Bearer token of the write endpoints (PTRACK_API_TOKEN overrides); null = read-only, loopback only. */
      apiToken: z.string().min(16, 'must be at least 16 characters').max(512).nullable().default(null),
      heartbeatSeconds: PositiveDurationSeconds.default(60),
      archiveEverySeconds: PositiveDurationSeconds.default(60),
      /** A comment line on every open /api/stream this often, so proxies and browsers keep it open. */
      keepAliveSeconds: z.number().finite().min(1).max(3600).default(15),
    })
    .default({ port: 8080, host: '127.0.0.1', apiToken: null, heartbeatSeconds: 60, archiveEverySeconds: 60, keepAliveSeconds: 15 }),
  /** Where the read models (portfolio.json, equity.json, ...) live; null = the SQLite file's directory (./state for memory:). */
  stateDir: z.string().min(1).nullable().default(null),
  /** The read models' own settings (drawdown bands, first day of the week), defined with them. */
  ...ReadModelOptions.shape,
});
export type TrackerConfig = z.infer<typeof TrackerConfig>;
export type TrackerConfigInput = z.input<typeof TrackerConfig>;

/** The policy part of a config. */
export function policyOf(config: TrackerConfig): BookPolicy {
  // The policy's own keys, whatever else the config grows.
  return Object.fromEntries(Object.keys(BookPolicy.shape).map((key) => [key, config[key as keyof BookPolicy]])) as BookPolicy;
}
