/*
 * Alpaca's answers, as the SDK hands them over, in the port's words: positions (strings to
 * numbers, shorts to side 'short' with absolute numbers), orders (Alpaca's status words mapped
 * onto the port's) and fill activities. Every answer is parsed with zod here: the SDK's models
 * copy the JSON without checking it, so a field that is missing or not a number is caught at
 * this boundary and reported as a malformed answer naming the field and the value.
 */

import { z } from 'zod';
import { ExternalError } from '../../../errors/index.js';
import type { ExternalFill, ExternalOrder, ExternalOrderStatus, ExternalPosition } from '../../../reconcile/index.js';
import { parseOrThrow } from '../../../_internals/zodIssues.js';

/** Alpaca sends money and quantities as decimal strings ("-10", "1523.4"). */
const Decimal = z
  .string()
  .regex(/^-?\d+(\.\d+)?$/, 'must be a decimal number in a string')
  .transform(Number);
const OptionalDecimal = Decimal.nullish().transform((n) => n ?? undefined);

const malformed = (message: string): ExternalError => new ExternalError(message, 'malformed');

const AlpacaPosition = z.object({
  symbol: z.string().min(1, 'must not be empty'),
  qty: Decimal,
  side: z.enum(['long', 'short']),
  marketValue: Decimal,
  currentPrice: OptionalDecimal,
  avgEntryPrice: OptionalDecimal,
  assetId: z.string().optional(),
  assetClass: z.string().optional(),
});

/** The quote currencies of Alpaca's crypto pairs, longest first (USDT before USD). */
const CRYPTO_QUOTES = ['USDT', 'USDC', 'USD', 'BTC'];

/**
 * Alpaca lists a crypto position as `BTCUSD` but names the pair `BTC/USD` in orders (and a
 * position path with the slash is not found): the position's symbol is given in the orders' form,
 * so it matches the book's symbol and the orders; its id stays Alpaca's (`BTCUSD`), which the
 * position paths take.
 */
function pairSymbol(symbol: string, assetClass: string | undefined): string {
  if (assetClass !== 'crypto' || symbol.includes('/')) return symbol;
  const quote = CRYPTO_QUOTES.find((q) => symbol.length > q.length && symbol.endsWith(q));
  return quote === undefined ? symbol : `${symbol.slice(0, -quote.length)}/${quote}`;
}

/**
 * One Alpaca position (`GET /v2/positions`, `GET /v2/positions/{symbol}`) as the port's position,
 * keyed by symbol (Alpaca nets per symbol). A short comes as side `short` with negative `qty` and
 * `market_value`: it becomes side short with absolute numbers. A sign that contradicts the side
 * (a long with a negative quantity) is malformed.
 */
export function toPosition(raw: unknown, operation: string): ExternalPosition {
  const p = parseOrThrow(AlpacaPosition, raw, `${operation} returned a malformed position`, { error: malformed });
  const negative = p.qty < 0 || p.marketValue < 0;
  if (negative !== (p.side === 'short') && p.qty !== 0) {
    throw malformed(
      `${operation} returned a malformed position: ${p.symbol}: side "${p.side}" with qty ${p.qty} and market_value ${p.marketValue}`,
    );
  }
  const metadata: Record<string, unknown> = {};
  if (p.assetId !== undefined) metadata.assetId = p.assetId;
  if (p.assetClass !== undefined) metadata.assetClass = p.assetClass;
  if (p.avgEntryPrice !== undefined) metadata.avgEntryPrice = p.avgEntryPrice;
  return {
    id: p.symbol,
    symbol: pairSymbol(p.symbol, p.assetClass),
    side: p.side,
    quantity: Math.abs(p.qty),
    value: Math.abs(p.marketValue),
    ...(p.currentPrice === undefined ? {} : { price: p.currentPrice }),
    metadata,
  };
}

/** A list of positions: an array, each parsed by {@link toPosition}. */
export function toPositions(raw: unknown, operation: string): ExternalPosition[] {
  if (!Array.isArray(raw)) throw malformed(`${operation} returned a malformed answer: expected a list of positions`);
  return raw.map((p: unknown, i) => toPosition(p, `${operation} [${i}]`));
}

/**
 * Alpaca's order statuses (the Trading API's `status` words) in the port's. Those of an order
 * that can still fill are `open` (or `partially_filled` once something filled): waiting to be
 * routed (`pending_new`, `accepted`, `accepted_for_bidding`, `new`, `held` for a bracket's legs),
 * being replaced or canceled (`pending_replace`, `pending_cancel`: a fill may still land first),
 * `stopped`, `suspended`, and done for the day (`done_for_day`, `calculated`: a good-till-canceled
 * order goes on the next day). `replaced` is finished: what was left moved to the new order.
 */
const LIVE = new Set([
  'new',
  'accepted',
  'pending_new',
  'accepted_for_bidding',
  'held',
  'pending_replace',
  'pending_cancel',
  'stopped',
  'suspended',
  'done_for_day',
  'calculated',
  'partially_filled',
]);
const FINISHED = new Map<string, ExternalOrderStatus>([
  ['filled', 'filled'],
  ['canceled', 'canceled'],
  ['replaced', 'canceled'],
  ['expired', 'expired'],
  ['rejected', 'rejected'],
]);

/** The port's status for Alpaca's `status` word and filled quantity; undefined for a word Alpaca does not document. */
export function portStatus(status: string, filledQuantity: number): ExternalOrderStatus | undefined {
  if (LIVE.has(status)) return filledQuantity > 0 ? 'partially_filled' : 'open';
  return FINISHED.get(status);
}

const IsoDate = z
  .date()
  .refine((d) => !Number.isNaN(d.getTime()), 'must be a date')
  .transform((d) => d.toISOString());

const AlpacaOrder = z.object({
  id: z.string().min(1, 'must not be empty'),
  clientOrderId: z.string().min(1).nullish(),
  symbol: z.string().min(1, 'must not be empty'),
  side: z.enum(['buy', 'sell']),
  // A notional order (an amount of money) has no qty: the port counts orders in quantity.
  qty: Decimal.refine((n) => n > 0, 'must be positive (a notional order without qty is not supported)'),
  filledQty: Decimal.refine((n) => n >= 0, 'must not be negative'),
  filledAvgPrice: OptionalDecimal,
  status: z.string(),
  createdAt: IsoDate.optional(),
  updatedAt: IsoDate.optional(),
});

/** One Alpaca order as the port's order; a status word Alpaca does not document is malformed. */
export function toOrder(raw: unknown, operation: string): ExternalOrder {
  const o = parseOrThrow(AlpacaOrder, raw, `${operation} returned a malformed order`, { error: malformed });
  const status = portStatus(o.status, o.filledQty);
  if (status === undefined) {
    throw malformed(`${operation} returned a malformed order: status: not one of Alpaca's order statuses, got ${JSON.stringify(o.status)}`);
  }
  return {
    externalOrderId: o.id,
    ...(o.clientOrderId ? { clientOrderId: o.clientOrderId } : {}),
    symbol: o.symbol,
    side: o.side,
    quantity: o.qty,
    filledQuantity: o.filledQty,
    ...(o.filledAvgPrice === undefined ? {} : { averagePrice: o.filledAvgPrice }),
    status,
    ...(o.createdAt === undefined ? {} : { createdAt: o.createdAt }),
    ...(o.updatedAt === undefined ? {} : { updatedAt: o.updatedAt }),
  };
}

/** A list of orders, each parsed by {@link toOrder}. */
export function toOrders(raw: unknown, operation: string): ExternalOrder[] {
  if (!Array.isArray(raw)) throw malformed(`${operation} returned a malformed answer: expected a list of orders`);
  return raw.map((o: unknown, i) => toOrder(o, `${operation} [${i}]`));
}

/** A `FILL` account activity as Alpaca's JSON has it (snake_case: read from the wire, see listFills). */
const AlpacaFill = z.object({
  id: z.string().min(1, 'must not be empty'),
  activity_type: z.literal('FILL'),
  order_id: z.string().min(1, 'must not be empty'),
  qty: Decimal.refine((n) => n > 0, 'must be positive'),
  price: Decimal.refine((n) => n >= 0, 'must not be negative'),
  transaction_time: z.iso.datetime({ offset: true }).optional(),
});

/**
 * A fill activity as the port's fill. Alpaca charges no commission on these trades and the
 * activity names no fee, so the fee is 0; it names the order by Alpaca's id only.
 */
export function toFills(raw: unknown, operation: string): ExternalFill[] {
  if (!Array.isArray(raw)) throw malformed(`${operation} returned a malformed answer: expected a list of activities`);
  return raw.map((a: unknown, i) => {
    const f = parseOrThrow(AlpacaFill, a, `${operation} returned a malformed fill [${i}]`, { error: malformed });
    return {
      tradeId: f.id,
      externalOrderId: f.order_id,
      quantity: f.qty,
      price: f.price,
      fee: 0,
      ...(f.transaction_time === undefined ? {} : { at: f.transaction_time }),
    };
  });
}
