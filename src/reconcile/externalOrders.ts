/*
 * The shapes of orders and fills at the outside system: what the port's order methods send and
 * what their answers must parse as. Only shapes and their parse rules live here; the calls, their
 * timeouts and retries are in externalSystem.ts (guardExternal).
 */

import { z } from 'zod';
import { IsoTime, Money, NonNegative, PositionId, Quantity, SymbolCode, withoutControls } from '../events/index.js';
import type { Order } from '../commands/index.js';
import type { ExternalError } from '../errors/index.js';

/** An id the venue or the caller gives an order or a trade: 1..200 characters, no control characters. */
export const ExternalId = withoutControls(z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters'));

/** Buy or sell, as venues say it (a position's long/short is the book's word). */
export const ExternalOrderSide = z.enum(['buy', 'sell']);
export type ExternalOrderSide = z.infer<typeof ExternalOrderSide>;

/**
 * The statuses an order can have at the outside system. Adapters map their venue's words onto
 * these (ccxt's `closed` with everything filled is `filled`; Alpaca's `new`/`accepted` are
 * `open`): the port does not guess at other spellings, an unknown one is a malformed answer.
 */
export const ExternalOrderStatus = z.enum(['open', 'partially_filled', 'filled', 'canceled', 'rejected', 'expired']);
export type ExternalOrderStatus = z.infer<typeof ExternalOrderStatus>;

/** Statuses of an order that can still fill. */
export const LIVE_ORDER_STATUSES: readonly ExternalOrderStatus[] = ['open', 'partially_filled'];

/** How far a sum of fills may pass the order's quantity before it is a contradiction (float rounding). */
const QUANTITY_TOLERANCE = 1e-9;

const ExternalOrderFields = z.object({
  clientOrderId: ExternalId.optional(),
  externalOrderId: ExternalId,
  symbol: SymbolCode,
  side: ExternalOrderSide,
  quantity: Quantity,
  filledQuantity: NonNegative,
  averagePrice: NonNegative.optional(),
  status: ExternalOrderStatus,
  createdAt: IsoTime.optional(),
  updatedAt: IsoTime.optional(),
  /**
   * What an adopted order becomes in the book (optional; venues that say nothing here are read as
   * below): the venue's id of the position it trades (a venue that keys positions by id names it,
   * and reconciliation matches positions by id; absent: one derived from the venue order id), the
   * venue's order type (`market` and `limit` are kept; any other word, such as `stop`, is taken as
   * `limit` when it has a limit price, else `market`), its limit price, and whether it is
   * reduce-only (absent: an entry).
   */
  positionId: PositionId.optional(),
  type: ExternalId.optional(),
  limitPrice: Quantity.optional(),
  reduceOnly: z.boolean().optional(),
});

/** More filled than ordered is a contradiction, in a full order or in an acknowledgement that names both. */
function notOverfilled(order: { quantity?: number; filledQuantity?: number }, ctx: z.RefinementCtx): void {
  if (order.quantity === undefined || order.filledQuantity === undefined) return;
  if (order.filledQuantity > order.quantity * (1 + QUANTITY_TOLERANCE)) {
    ctx.addIssue({ code: 'custom', message: `must not exceed the quantity ${order.quantity}`, path: ['filledQuantity'] });
  }
}

/**
 * An order as the outside system reports it. Extra fields are ignored; a missing or bad field,
 * or more filled than ordered, is a malformed answer.
 *
 * @example
 * ```ts
 * ExternalOrder.parse({ externalOrderId: 'X-1', clientOrderId: 'pt1a2b-1', symbol: 'BTC', side: 'buy',
 *   quantity: 0.01, filledQuantity: 0, status: 'open' });
 * ```
 */
export const ExternalOrder = ExternalOrderFields.superRefine(notOverfilled);
export type ExternalOrder = z.infer<typeof ExternalOrder>;

/**
 * What a venue answers to a submit: at least the id it gave the order. Venues differ in how much
 * of the order they echo (ccxt's createOrder is often sparse), so the rest is optional here; a
 * look-up by client order id tells the rest.
 *
 * @example
 * ```ts
 * ExternalOrderAck.parse({ externalOrderId: 'X-1', status: 'open' });
 * ```
 */
export const ExternalOrderAck = ExternalOrderFields.partial().required({ externalOrderId: true }).superRefine(notOverfilled);
export type ExternalOrderAck = z.infer<typeof ExternalOrderAck>;

/**
 * A fill (a trade) of an order as the outside system reports it. `tradeId` identifies it: a venue
 * may report one fill twice, and the book keeps it once. `fee` is in the book's currency (negative
 * for a rebate).
 *
 * @example
 * ```ts
 * ExternalFill.parse({ tradeId: 'T-9', externalOrderId: 'X-1', quantity: 0.01, price: 60000, fee: 0.6 });
 * ```
 */
export const ExternalFill = z.object({
  tradeId: ExternalId,
  externalOrderId: ExternalId,
  clientOrderId: ExternalId.optional(),
  quantity: Quantity,
  price: NonNegative,
  fee: Money,
  at: IsoTime.optional(),
});
export type ExternalFill = z.infer<typeof ExternalFill>;

/**
 * What the book asks the outside system to do. `positionId` names the position the order is for
 * (a venue that keys positions by id uses it; a netting venue ignores it); `reduceOnly` orders only
 * shrink it; a `limit` order carries its `limitPrice`.
 *
 * @example
 * ```ts
 * const request: ExternalOrderRequest = { positionId: 'BTC-1', symbol: 'BTC', side: 'buy', type: 'market', quantity: 0.01 };
 * ```
 */
export const ExternalOrderRequest = z
  .object({
    positionId: PositionId,
    symbol: SymbolCode,
    side: ExternalOrderSide,
    type: z.enum(['market', 'limit']),
    quantity: Quantity,
    limitPrice: Quantity.optional(),
    reduceOnly: z.boolean().optional(),
  })
  .strict()
  .superRefine((request, ctx) => {
    if (request.type === 'limit' && request.limitPrice === undefined) {
      ctx.addIssue({ code: 'custom', message: 'is required for a limit order', path: ['limitPrice'] });
    }
    if (request.type === 'market' && request.limitPrice !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'must not be given for a market order', path: ['limitPrice'] });
    }
  });
export type ExternalOrderRequest = z.infer<typeof ExternalOrderRequest>;

/**
 * Which order a look-up or a cancel is about: the caller's client order id or the venue's id.
 *
 * @example
 * ```ts
 * await guarded.getOrder({ clientOrderId: 'pt1a2b-1' });
 * ```
 */
export type ExternalOrderRef = { clientOrderId: string } | { externalOrderId: string };

/** What a cancel names: always the client order id, and the venue's id when the book knows it. */
export interface CancelOrderRef {
  clientOrderId: string;
  externalOrderId?: string;
}

/**
 * How the venue is asked about one of the book's orders: by its client order id, except an adopted
 * order, which the book may know by a key of its own (the venue gave it no client order id, or one
 * too long): that one is asked for by its venue id.
 *
 * @example
 * ```ts
 * await guarded.getOrder(lookupRefOf(order));
 * ```
 */
export function lookupRefOf(order: Pick<Order, 'clientOrderId' | 'externalOrderId' | 'origin'>): ExternalOrderRef {
  if (order.origin === 'adopted' && order.externalOrderId !== undefined) return { externalOrderId: order.externalOrderId };
  return { clientOrderId: order.clientOrderId };
}

/**
 * What a cancel of one of the book's orders names: the client order id the venue knows it by (an
 * adopted order's own at the venue, when it has one) and its venue id when known.
 *
 * @example
 * ```ts
 * await guarded.cancelOrder(cancelRefOf(order));
 * ```
 */
export function cancelRefOf(order: Pick<Order, 'clientOrderId' | 'externalOrderId' | 'venueClientOrderId'>): CancelOrderRef {
  return {
    clientOrderId: order.venueClientOrderId ?? order.clientOrderId,
    ...(order.externalOrderId === undefined ? {} : { externalOrderId: order.externalOrderId }),
  };
}

/** What `listFills` asks for: the fills at or after `since` (ISO-8601), or every fill the venue still lists. */
export interface ListFillsQuery {
  since?: string;
}

/**
 * How a guarded submit ended, as a value the gateway switches on (an unknown outcome is expected,
 * not an exception):
 * - `accepted`: the venue took it; `ack` is its answer.
 * - `refused`: provably not placed: the venue refused it (`error.failure` 'rejected', its
 *   answer had status `rejected`, or the adapter cannot submit), or it kept saying "slow down"
 *   until the retries ran out ('rate_limited').
 * - `unknown`: the order may or may not be at the venue (a timeout, a lost connection, a 5xx, an
 *   answer that does not parse or names another order). It is never sent again: look it up by
 *   client order id.
 *
 * @example
 * ```ts
 * const outcome = await guarded.submitOrder(request, { clientOrderId });
 * if (outcome.outcome === 'unknown') await guarded.getOrder({ clientOrderId });
 * ```
 */
export type SubmitOutcome =
  | { outcome: 'accepted'; clientOrderId: string; ack: ExternalOrderAck }
  | { outcome: 'refused'; clientOrderId: string; error: ExternalError }
  | { outcome: 'unknown'; clientOrderId: string; error: ExternalError };

/** A list of orders with no id twice (two entries for one order: which one is true?). */
export const ExternalOrderList = z.array(ExternalOrder).superRefine((list, ctx) => {
  const seenExternal = new Set<string>();
  const seenClient = new Set<string>();
  list.forEach((order, i) => {
    if (seenExternal.has(order.externalOrderId)) {
      ctx.addIssue({ code: 'custom', message: `duplicate externalOrderId "${order.externalOrderId}"`, path: [i, 'externalOrderId'] });
    }
    seenExternal.add(order.externalOrderId);
    if (order.clientOrderId !== undefined) {
      if (seenClient.has(order.clientOrderId)) {
        ctx.addIssue({ code: 'custom', message: `duplicate clientOrderId "${order.clientOrderId}"`, path: [i, 'clientOrderId'] });
      }
      seenClient.add(order.clientOrderId);
    }
  });
});

/** Open orders only: a finished order in a list of open ones is a contradiction. */
export const OpenOrderList = ExternalOrderList.superRefine((list, ctx) => {
  list.forEach((order, i) => {
    if (!LIVE_ORDER_STATUSES.includes(order.status)) {
      ctx.addIssue({ code: 'custom', message: 'must be open or partially_filled in a list of open orders', path: [i, 'status'] });
    }
  });
});

/**
 * Fills, where the same trade may be reported twice (the book de-duplicates by tradeId), but not
 * as two different trades: one tradeId with another order, quantity or price is a contradiction.
 */
export const ExternalFillList = z.array(ExternalFill).superRefine((list, ctx) => {
  const seen = new Map<string, ExternalFill>();
  list.forEach((fill, i) => {
    const earlier = seen.get(fill.tradeId);
    if (earlier === undefined) {
      seen.set(fill.tradeId, fill);
      return;
    }
    if (earlier.externalOrderId !== fill.externalOrderId || earlier.quantity !== fill.quantity || earlier.price !== fill.price) {
      ctx.addIssue({ code: 'custom', message: `tradeId "${fill.tradeId}" is listed twice with different contents`, path: [i, 'tradeId'] });
    }
  });
});
