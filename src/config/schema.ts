import { z } from 'zod';
import { BookPolicy } from '../commands/policy.js';
import { BookId } from '../events/streams.js';

/**
 * The whole configuration: where the log lives, which book, and the book's rules.
 * One zod schema; `TrackerConfig.parse({})` gives the defaults.
 */
export const TrackerConfig = z.strictObject({
  ...BookPolicy.shape,
  /** Store string: `sqlite:<file>` or `memory:`. */
  store: z.string().min(1).default('sqlite:./state/trades.db'),
  /** The book (one event stream, `tradelog-<book>`). */
  book: BookId.default('main'),
  /** Log level: fatal, error, warn, info, debug, trace or silent (LOG_LEVEL overrides). */
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  /** Write a snapshot of the book after this many events (0 = never). */
  snapshotEvery: z.number().int().nonnegative().default(1000),
});
export type TrackerConfig = z.infer<typeof TrackerConfig>;
export type TrackerConfigInput = z.input<typeof TrackerConfig>;

/** The policy part of a config. */
export function policyOf(config: TrackerConfig): BookPolicy {
  const { store: _s, book: _b, logLevel: _l, snapshotEvery: _n, ...policy } = config;
  return policy;
}
