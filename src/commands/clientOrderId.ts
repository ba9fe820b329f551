import { createHash } from 'node:crypto';

/*
 * The client order id: what the venue knows an order by before it answers, so it must be
 * ours, known before the call, the same after a restart (derived, never random), unique per
 * attempt (some venues refuse a reused id even after a cancel) and short enough for the venue.
 */

/**
 * The client order id of attempt `attempt` of the order keyed `orderKey` in book `bookId`:
 * `pt` + the SHA-256 of the three (hex, cut to fit) + `-<attempt>`, at most `maxLength`
 * characters (16..64). The same inputs always give the same id; the attempt suffix keeps the
 * attempts of one key apart whatever the cut.
 *
 * @example
 * ```ts
 * clientOrderIdFor('main', 'signal-42', 1, 36); // 'pt' + 32 hex digits + '-1'
 * ```
 */
export function clientOrderIdFor(bookId: string, orderKey: string, attempt: number, maxLength: number): string {
  const suffix = `-${attempt}`;
  const room = maxLength - 2 - suffix.length;
  const hash = createHash('sha256').update(`${bookId}\u0000${orderKey}\u0000${attempt}`).digest('hex');
  return `pt${hash.slice(0, Math.max(1, room))}${suffix}`;
}
