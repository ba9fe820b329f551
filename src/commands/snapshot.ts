import { z } from 'zod';
import { digest64 } from './_internals/digest.js';
import { describeIssues, formatIssues } from '../_internals/zodIssues.js';
import { compiledBookStateJsonCheck as compiledBookCheck, Side } from '../events/index.js';
import type { Snapshot } from '../store/index.js';
import { bookStateFromJson, bookStateToJson, type BookState, type BookStateJson } from './state.js';

/*
 * The book's snapshot as it is stored: `{ checksum, book }` under BOOK_SNAPSHOT_VERSION. A
 * snapshot is a cache read back from outside the process, so it is parsed like any input:
 * a wrong shape or a checksum that does not match is reported (the handler then discards it
 * and replays the log), never folded into a book that crashes every later command.
 */

const Num = z.number().finite();
const Text = z.string();
const Attributes = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]));

// Loose objects: a field added to a position later is kept, not refused (the checksum covers it).
const base = {
  id: Text,
  symbol: Text.optional(),
  venueKey: Text.optional(),
  side: Side,
  setup: Text.optional(),
  group: Text.optional(),
  attributes: Attributes.optional(),
  since: Text,
};
const PositionJson = z.discriminatedUnion('status', [
  z.looseObject({ ...base, status: z.literal('WATCHING'), value: Num.optional() }),
  z.looseObject({
    ...base,
    status: z.literal('IN'),
    origin: z.enum(['entered', 'adopted']),
    costBasis: Num,
    value: Num,
    quantity: Num.optional(),
    price: Num.optional(),
    stop: Num.optional(),
    takeProfit: Num.optional(),
    trailingStop: z.looseObject({ distance: Num.optional(), percent: Num.optional(), highWater: Num }).optional(),
    risk: Num,
    realizedPnl: Num,
    missedLooks: z.number().int().nonnegative(),
  }),
  z.looseObject({ ...base, status: z.literal('EXITED'), realizedPnl: Num, closedBy: z.enum(['exit', 'phantom']) }),
  z.looseObject({ ...base, status: z.literal('SKIPPED'), reason: Text.optional() }),
]);

const Breaker = z.discriminatedUnion('status', [
  z.looseObject({ status: z.literal('OK') }),
  z.looseObject({
    status: z.literal('TRIPPED'),
    trigger: z.enum(['daily_loss', 'manual']),
    reason: Text,
    since: Text,
    until: Text.optional(),
  }),
]);

const Recovery = z.discriminatedUnion('status', [
  z.looseObject({ status: z.literal('CLEAR') }),
  z.looseObject({ status: z.literal('REQUIRED'), mode: z.literal('manual'), reason: Text, since: Text }),
]);

const OrderJson = z.looseObject({
  clientOrderId: Text,
  orderKey: Text,
  attempt: z.number().int().positive(),
  signalId: Text.optional(),
  positionId: Text,
  symbol: Text,
  side: z.enum(['buy', 'sell']),
  intent: z.enum(['entry', 'reduce']),
  orderType: z.enum(['market', 'limit']),
  quantity: Num,
  limitPrice: Num.optional(),
  referencePrice: Num.optional(),
  stop: Num.optional(),
  takeProfit: Num.optional(),
  trailingStop: z.looseObject({ distance: Num.optional(), percent: Num.optional() }).optional(),
  status: z.enum(['PENDING_SUBMIT', 'OPEN', 'PARTIALLY_FILLED', 'FILLED', 'PENDING_CANCEL', 'CANCELED', 'REJECTED', 'EXPIRED']),
  externalOrderId: Text.optional(),
  filledQuantity: Num,
  averagePrice: Num.optional(),
  fees: Num,
  tradeIds: z.array(Text),
  reason: Text.optional(),
  requestedAt: Text,
  updatedAt: Text,
  statusBeforeCancel: z.enum(['PENDING_SUBMIT', 'OPEN', 'PARTIALLY_FILLED']).optional(),
  missedLooks: z.number().int().nonnegative().optional(),
  origin: z.literal('adopted').optional(),
  venueClientOrderId: Text.optional(),
});

const entries = <V extends z.ZodType>(value: V) => z.array(z.tuple([Text, value]));

/** The JSON form of a book (what bookStateToJson writes), as a schema. */
export const BookStateJsonSchema = z.looseObject({
  revision: z.number().int().min(-1),
  limits: z.looseObject({ idempotencyWindow: z.number().int().nonnegative(), timeZone: Text }),
  positions: z.array(PositionJson),
  lossStreaks: entries(z.looseObject({ day: Text, count: z.number().int().nonnegative() })),
  today: z.looseObject({ day: Text, pnl: Num }),
  realizedPnl: Num,
  breaker: Breaker,
  cooldowns: entries(Text),
  orphans: entries(z.looseObject({ detectedAt: Text, value: Num })),
  externalOrders: entries(
    z.looseObject({
      externalOrderId: Text,
      clientOrderId: Text.optional(),
      symbol: Text,
      side: z.enum(['buy', 'sell']),
      quantity: Num,
      filledQuantity: Num,
      price: Num.optional(),
      detectedAt: Text,
    }),
  ).optional(),
  commands: entries(z.looseObject({ from: z.number().int(), to: z.number().int(), fingerprint: Text.optional() })),
  orders: z.array(OrderJson),
  signals: entries(z.looseObject({ at: Text, clientOrderId: Text })),
  lastSignalAt: Text.optional(),
  ordersRequested: z.number().int().nonnegative(),
  symbolControls: entries(
    z.looseObject({
      buy: z.looseObject({ reason: Text, since: Text }).optional(),
      sell: z.looseObject({ reason: Text, since: Text }).optional(),
    }),
  ),
  recovery: Recovery.optional(),
  lastHeartbeatAt: Text.optional(),
  lastReconciledAt: Text.optional(),
});

/**
 * Version of the stored snapshot (`{ checksum, book }`); a snapshot of another version (the
 * bare book JSON of version 2, the book without orders of version 3, without symbol controls of version 4, without the order count of version 5, without adopted orders of version 6, without venue keys of version 7) is ignored and the log replayed.
 */
export const BOOK_SNAPSHOT_VERSION = 8;

const StoredSnapshot = z.strictObject({ checksum: z.string().regex(/^fnv64:[0-9a-f]{16}$/), book: z.unknown() });

function checksumOf(book: BookStateJson): string {
  return `fnv64:${digest64(JSON.stringify(book))}`;
}

/**
 * Whether the snapshot's text as the store kept it (`stateText`, of which `state` is the parse)
 * is `{"checksum":<checksum>,"book":<text>}`, as writeSnapshot writes it, with the checksum that
 * of `<text>`: then the book read is the book checksummed, and it need not be written out again to
 * be checked (10 ms for a book of 10,000 positions). Any other text (none, reformatted, or a digest
 * that does not match) is checked the long way, over the book written out as JSON.
 */
function storedTextMatches(text: string | undefined, checksum: string): boolean {
  if (text === undefined) return false;
  const head = `{"checksum":${JSON.stringify(checksum)},"book":`;
  if (!text.startsWith(head) || !text.endsWith('}')) return false;
  return `fnv64:${digest64(text.slice(head.length, -1))}` === checksum;
}

/**
 * The snapshot to store for a book: its JSON form and a checksum of it, at the book's revision.
 *
 * @example
 * ```ts
 * await store.writeSnapshot(stream, encodeBookSnapshot(state));
 * ```
 */
export function encodeBookSnapshot(state: BookState): Snapshot {
  const book = bookStateToJson(state);
  return { revision: state.revision, version: BOOK_SNAPSHOT_VERSION, state: { checksum: checksumOf(book), book } };
}

/** A stored snapshot read back: the book's JSON form, or why it cannot be trusted. */
export type DecodedBookSnapshot = { ok: true; json: BookStateJson } | { ok: false; reason: string };

/**
 * Parses a stored book snapshot of version BOOK_SNAPSHOT_VERSION: the checksum must match, the shape
 * must be a book's, and the book's revision must be the snapshot's. Never throws.
 *
 * @example
 * ```ts
 * const decoded = decodeBookSnapshot(await store.readSnapshot(stream));
 * if (decoded.ok) state = bookStateFromJson(decoded.json);
 * ```
 */
export function decodeBookSnapshot(snapshot: Snapshot): DecodedBookSnapshot {
  const stored = StoredSnapshot.safeParse(snapshot.state);
  if (!stored.success) {
    return { ok: false, reason: `it is not { checksum, book }: ${formatIssues(describeIssues(stored.error, snapshot.state))}` };
  }
  const { checksum, book } = stored.data;
  if (!storedTextMatches(snapshot.stateText, checksum)) {
    let actual: string;
    try {
      actual = checksumOf(book as BookStateJson);
    } catch {
      return { ok: false, reason: 'its book cannot be written as JSON' };
    }
    if (actual !== checksum) return { ok: false, reason: `its checksum does not match (stored ${checksum}, computed ${actual})` };
  }
  const json = bookJsonOf(book);
  if (!json.ok) return json;
  if (json.json.revision !== snapshot.revision) {
    return { ok: false, reason: `it is filed at revision ${snapshot.revision} but its book is at revision ${json.json.revision}` };
  }
  return json;
}

const bookCheck = compiledBookCheck as unknown as (value: unknown) => boolean;

/**
 * The book's JSON form checked against BookStateJsonSchema. The check compiled at build time
 * (scripts/validators/generate.ts) runs first: when it accepts, the book is exactly what zod would
 * return (the schema has no defaults or transforms, and loose objects keep their other keys), so it
 * is used as it is; when it refuses, zod runs for the verdict and the message. A cold open of a book
 * of 10,000 open positions spent most of its time in zod's first parse of the snapshot.
 */
export function bookJsonOf(book: unknown): DecodedBookSnapshot {
  if (bookCheck(book) === true) return { ok: true, json: book as BookStateJson };
  const parsed = BookStateJsonSchema.safeParse(book);
  if (!parsed.success) return { ok: false, reason: `its book has the wrong shape: ${formatIssues(describeIssues(parsed.error, book))}` };
  return { ok: true, json: parsed.data as unknown as BookStateJson };
}

/** The book a decoded snapshot holds (derived indexes recomputed, not trusted). */
export function bookFromSnapshot(json: BookStateJson): BookState {
  return bookStateFromJson(json);
}
