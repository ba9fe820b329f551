import { z } from 'zod';
import { DurationSeconds, Tag } from '../events/index.js';

// Bounded: a duration added to now must stay a valid Date (#10.15).
const Seconds = DurationSeconds;
const Pct = z.number().finite().positive().max(100);

/**
 * The book's rules. One zod schema; every field has a default, so `BookPolicy.parse({})`
 * is a working policy. Percentages are of current equity (`equity` + realized P&L).
 */
export const BookPolicy = z.strictObject({
  /** Value below which a position is dust: refused on Enter and AdoptOrphan, ignored by orphan detection. */
  minPositionValue: z.number().finite().nonnegative().default(1),
  /** Most positions IN at once. */
  maxPositions: z.number().int().positive().default(10),
  /** Refuse entering a symbol that is already IN. */
  rejectDuplicateSymbol: z.boolean().default(true),
  /** Starting equity in the book's currency; the base of every percentage rule. */
  equity: z.number().finite().positive().default(10_000),
  /** Correlation groups: group name -> symbols. A position's own `group` wins over this map. */
  correlationGroups: z.record(Tag, z.array(z.string().min(1))).default({}),
  /** Most open risk per correlation group, % of equity. Risk = |entry - stop| x quantity, or the whole value without a stop. */
  maxGroupRiskPct: Pct.nullable().default(6),
  /** Refuse a symbol after this many losing exits in a row on it (null = off). */
  maxConsecutiveLossesPerSymbol: z.number().int().positive().nullable().default(3),
  /** Trip the circuit breaker when the day's realized loss reaches this % of equity (null = off). */
  dailyLossLimitPct: Pct.nullable().default(5),
  /** How long a tripped breaker refuses entries when no duration is given (daily-loss trips). */
  circuitBreakerSeconds: Seconds.default(86_400),
  /** Refuse re-entering a symbol for this long after a full exit (0 = off). */
  cooldownSeconds: Seconds.default(0),
  /** EXITED positions are archived after this long. */
  exitedCleanupSeconds: Seconds.default(3_600),
  /** SKIPPED positions are archived after this long. */
  skipCleanupSeconds: Seconds.default(600),
  /** WATCHING positions are archived after this long (null = never). */
  watchTimeoutSeconds: Seconds.nullable().default(null),
  /**
   * Longest client order id the book derives (`pt` + a hash of the book, the order key and the
   * attempt, cut to fit, + `-<attempt>`). 36 suits most venues; some allow fewer or more.
   */
  clientOrderIdMaxLength: z.number().int().min(16).max(64).default(36),
  /** How many recent command ids (and signal ids) are remembered for idempotency. */
  idempotencyWindow: z.number().int().nonnegative().default(1_000),
  /** IANA time zone that sets day boundaries for the daily loss limit. */
  timeZone: z
    .string()
    .default('UTC')
    .refine((tz) => {
      // UTC needs no check, and asking Intl would load its time-zone data (~30 ms) at every start.
      if (tz === 'UTC') return true;
      try {
        new Intl.DateTimeFormat('en-CA', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    }, 'must be an IANA time zone such as UTC or America/New_York'),
});
export type BookPolicy = z.infer<typeof BookPolicy>;
export type BookPolicyInput = z.input<typeof BookPolicy>;

export const defaultPolicy: BookPolicy = BookPolicy.parse({});
