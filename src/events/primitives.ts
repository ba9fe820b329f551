import { z } from 'zod';

/**
 * Characters that must never come in from outside in an id or a symbol: C0 controls (NUL, BEL,
 * ESC ...), DEL, C1 controls, and the invisible marks that reorder or hide text (right-to-left
 * and isolate marks, zero-width characters, line/paragraph separators, BOM). Printed raw they
 * drive the terminal or make one id look like another.
 */
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;
const NO_CONTROLS = new RegExp(`^[^${CONTROL_CHARACTERS.source.slice(1, -1)}]*$`);
export const NO_CONTROLS_MESSAGE = 'must not contain control characters (ESC, BEL, NUL, ...) or direction marks';
/** The string schema with control characters refused (a pattern, so the compiled fast path agrees). */
export function withoutControls(schema: z.ZodString): z.ZodString {
  return schema.regex(NO_CONTROLS, NO_CONTROLS_MESSAGE);
}

/** A position id as stored: what older versions could append is still read back. */
export const StoredPositionId = z
  .string()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .regex(/^[^\s]+$/, 'must not contain white space');
/** Identifier of a position: what the bot or the outside system calls it; no control characters. */
export const PositionId = withoutControls(StoredPositionId);

/** A symbol as stored (see {@link StoredPositionId}). */
export const StoredSymbolCode = z.string().min(1, 'must not be empty').max(64, 'must be at most 64 characters');
/** A symbol (`AAPL`, `BTC/USDT`); no control characters. */
export const SymbolCode = withoutControls(StoredSymbolCode);
/**
 * How the outside system names a position, as stored: what reconciliation matches with the
 * venue's `symbol` on a netting or hedge account. Absent on a position: its symbol.
 */
export const StoredVenueKey = StoredSymbolCode;
/** A venue key (`BTC/USDT:USDT`, `AAPL`) given as input; no control characters. */
export const VenueKey = SymbolCode;
/**
 * An id another system hands us (a venue's order id, a trade id, a bot's signal id) as stored:
 * 1 to 200 characters. {@link ExternalId} is the same without control characters, for input.
 */
export const StoredExternalId = z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters');
/** An id from outside (order, trade or signal id); no control characters. */
export const ExternalId = withoutControls(StoredExternalId);
/** Our client order id as stored (at most 64 characters: the longest `clientOrderIdMaxLength` allows). */
export const StoredClientOrderId = z.string().min(1, 'must not be empty').max(64, 'must be at most 64 characters');
/** A client order id given back to us (a command naming an order); no control characters. */
export const ClientOrderId = withoutControls(StoredClientOrderId);
export const Side = z.enum(['long', 'short']);
export type Side = z.infer<typeof Side>;

/** Where an event came from: the bot's own command, reconciliation, or startup recovery. */
export const Source = z.enum(['local', 'reconcile', 'recovery']);
export type Source = z.infer<typeof Source>;

/** A finite number (no NaN, no Infinity): money in the book's currency. */
export const Money = z.number().finite();
/** A value or price that cannot be negative. */
export const NonNegative = z.number().finite().nonnegative();
/** A strictly positive quantity. */
export const Quantity = z.number().finite().positive();
/**
 * How a trailing stop trails, as asked: a fixed `distance` below (a long) or above (a short)
 * the best price seen, or a `percent` of it. Exactly one.
 */
export const TrailingStopSpec = z.union([
  z.strictObject({ distance: z.number().finite().positive() }),
  z.strictObject({ percent: z.number().finite().gt(0).lt(100) }),
]);
export type TrailingStopSpec = z.infer<typeof TrailingStopSpec>;

/** A trailing stop as the book keeps it: its spec and the high-water price it trails (the best seen since it was set). */
export const TrailingStop = z.union([
  z.strictObject({ distance: z.number().finite().positive(), highWater: z.number().finite().nonnegative() }),
  z.strictObject({ percent: z.number().finite().gt(0).lt(100), highWater: z.number().finite().nonnegative() }),
]);
export type TrailingStop = z.infer<typeof TrailingStop>;

/** ISO-8601 timestamp with offset, e.g. 2026-11-21T12:00:00.000Z. */
export const IsoTime = z.iso.datetime({ offset: true });
export const Tag = z.string().min(1).max(64);
export const Reason = z.string().min(1).max(500);

/** JSON-safe attribute bag carried from the seed API's `track(id, metadata)`. */
export const Attributes = z.record(z.string(), z.union([z.string(), z.number().finite(), z.boolean(), z.null()]));

/**
 * The longest duration anywhere (a rule, a command, a config key, a flag): 100 years, in
 * seconds. Far beyond any real rule, and `now` plus it is always a valid Date (above about
 * 8.6e12 s, `new Date(...)` is "Invalid time value" and an exit that trips the breaker failed).
 */
export const MAX_DURATION_SECONDS = 100 * 365 * 86_400;
const TOO_LONG = `must be at most ${MAX_DURATION_SECONDS} seconds (100 years)`;
/** A duration in seconds that may be 0 (0 usually means "off"), bounded by {@link MAX_DURATION_SECONDS}. */
export const DurationSeconds = z.number().finite().nonnegative().max(MAX_DURATION_SECONDS, TOO_LONG);
/** A duration in seconds greater than 0, bounded by {@link MAX_DURATION_SECONDS}. */
export const PositiveDurationSeconds = z.number().finite().positive().max(MAX_DURATION_SECONDS, TOO_LONG);
/**
 * The longest delay one timer can wait: 2^31 - 1 ms (24.8 days). Node fires a longer one after
 * 1 ms, so a longer wait is chained (see `_internals/timers`) and a longer period is refused.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;
/** A period in whole milliseconds, at least 1 and at most {@link MAX_TIMER_MS}. */
export const TimerMs = z
  .number()
  .int('must be a whole number of milliseconds')
  .min(1, 'must be at least 1 ms')
  .max(MAX_TIMER_MS, `must be at most ${MAX_TIMER_MS} ms (24.8 days)`);
