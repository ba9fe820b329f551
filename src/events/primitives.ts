import { z } from 'zod';

/** Identifier of a position: what the bot or the outside system calls it. */
export const PositionId = z
  .string()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .regex(/^[^\s]+$/, 'must not contain white space');

export const SymbolCode = z.string().min(1, 'must not be empty').max(64, 'must be at most 64 characters');
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
/** ISO-8601 timestamp with offset, e.g. 2026-11-21T12:00:00.000Z. */
export const IsoTime = z.iso.datetime({ offset: true });
export const Tag = z.string().min(1).max(64);
export const Reason = z.string().min(1).max(500);

/** JSON-safe attribute bag carried from the seed API's `track(id, metadata)`. */
export const Attributes = z.record(
  z.string(),
  z.union([z.string(), z.number().finite(), z.boolean(), z.null()]),
);
