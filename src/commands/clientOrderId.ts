import { createHash } from 'node:crypto';

/*
 * The client order id: what the venue knows an order by before it answers, so it must be
 * ours, known before the call, the same after a restart (derived from the log, never random),
 * unique per attempt (some venues refuse a reused id even after a cancel, others would answer a
 * look-up with the old order) and short enough for the venue.
 */

/**
 * The client order id of attempt `attempt` of the order keyed `orderKey` in book `bookId`, the
 * book's order number `orderNumber` (1 for its first order ever): `pt` + the SHA-256 of book,
 * key and attempt (hex, cut to fit) + `-<orderNumber>`, at most `maxLength` characters (16..64).
 * The same inputs always give the same id. The number suffix keeps every order of a book apart
 * whatever the cut, even a key used again after its position was archived and its command id
 * forgotten; the hash keeps books apart.
 *
 * @example
 * ```ts
 * clientOrderIdFor('main', 'signal-42', 1, 36, 7); // 'pt' + 32 hex digits + '-7'
 * ```
 */
export function clientOrderIdFor(bookId: string, orderKey: string, attempt: number, maxLength: number, orderNumber: number): string {
  const suffix = `-${orderNumber}`;
  const room = maxLength - 2 - suffix.length;
  const hash = createHash('sha256').update(`${bookId}\u0000${orderKey}\u0000${attempt}`).digest('hex');
  return `pt${hash.slice(0, Math.max(1, room))}${suffix}`;
}

/** The longest client order id the book keeps (StoredClientOrderId). */
const BOOK_KEY_MAX = 64;
/** The longest position id (StoredPositionId). */
const POSITION_ID_MAX = 200;

const hashOf = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 40);

/**
 * The book's key for an order adopted from the venue (never one of ours: ours start with `pt` and
 * are derived from command ids): the client order id the venue gave it when it fits (at most 64
 * characters), else `ext-<venue id>`, else `ext-` + 40 hex digits of the venue id's SHA-256. The
 * same venue order always gives the same key.
 *
 * @example
 * ```ts
 * adoptedClientOrderId('V-9', undefined); // 'ext-V-9'
 * ```
 */
export function adoptedClientOrderId(externalOrderId: string, venueClientOrderId: string | undefined): string {
  if (venueClientOrderId !== undefined && venueClientOrderId.length <= BOOK_KEY_MAX) return venueClientOrderId;
  const plain = `ext-${externalOrderId}`;
  return plain.length <= BOOK_KEY_MAX ? plain : `ext-${hashOf(externalOrderId)}`;
}

/**
 * The id of the position an adopted entry order opens: `ext-<venue id>`, or `ext-` + 40 hex digits
 * of its SHA-256 when the venue id holds white space or is too long for a position id.
 *
 * @example
 * ```ts
 * adoptedPositionId('V-9'); // 'ext-V-9'
 * ```
 */
export function adoptedPositionId(externalOrderId: string): string {
  const plain = `ext-${externalOrderId}`;
  return plain.length <= POSITION_ID_MAX && /^[^\s]+$/.test(plain) ? plain : `ext-${hashOf(externalOrderId)}`;
}
