/*
 * The order gateway: what a bot calls to place or cancel an order. The order is decided and
 * appended before the venue hears of it; the venue's answer is recorded after; an answer that
 * never came leaves the order in flight for reconciliation to look up, and it is never sent again.
 */

import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { LIVE_ORDER_STATUSES, type CommandHandler, type HandleOptions, type Order } from '../commands/index.js';
import { ExternalError, ValidationError } from '../errors/index.js';
import { ExternalId, OrderIntent, OrderType, PositionId, Quantity, Side, SymbolCode, NonNegative } from '../events/index.js';
import { parseOrThrow } from '../_internals/zodIssues.js';
import { present } from '../_internals/present.js';
import {
  cancelRefOf,
  lookupRefOf,
  reasonFrom,
  recordVenueOrder,
  type ExternalFill,
  type ExternalOrderRequest,
  type GuardedExternal,
} from '../reconcile/index.js';

/**
 * What `tracker.submitOrder` takes: the order (as RequestOrder takes it) and its key. Give a
 * `signalId` (the bot's id for the decision) or a `commandId`; without either a commandId is
 * generated, and a repeated call can then not be recognised. `retry: true` lets a signal whose
 * every order finished without a fill (refused, canceled, expired) be sent again as a new attempt.
 */
export const SubmitOrderRequest = z.strictObject({
  positionId: PositionId,
  intent: OrderIntent,
  quantity: Quantity,
  orderType: OrderType.optional(),
  limitPrice: Quantity.optional(),
  referencePrice: Quantity.optional(),
  symbol: SymbolCode.optional(),
  side: Side.optional(),
  stop: NonNegative.optional(),
  signalId: ExternalId.optional(),
  commandId: z.string().min(1).max(200).optional(),
  retry: z.boolean().optional(),
});
export type SubmitOrderRequest = z.input<typeof SubmitOrderRequest>;

/**
 * What a gateway call gives back, as a value (an unknown outcome is expected, not an exception):
 * - `accepted`: the venue took it (and any fills its answer carried are recorded);
 * - `rejected`: the venue refused it for certain (OrderRejected is in the log);
 * - `unknown`: no answer that proves anything (a timeout, a lost connection, a 5xx, an answer
 *   that does not parse, a rate limit that outlasted the retries): the order stays in flight
 *   (PENDING_SUBMIT, or PENDING_CANCEL for a cancel) and reconciliation resolves it by looking
 *   it up. `error` says what happened; do not send it again;
 * - `duplicate`: the signal or command id was seen before: `order` is the order it became and nothing was sent;
 * - `canceled`: a cancel the venue confirmed.
 * `sent` says whether the venue was called; `order` is the book's order after the call.
 */
export interface OrderOutcome {
  outcome: 'accepted' | 'rejected' | 'unknown' | 'duplicate' | 'canceled';
  order: Order;
  sent: boolean;
  error?: ExternalError;
}

/**
 * The gateway's two calls, as `tracker.submitOrder` and `tracker.cancelOrder` expose them (see
 * {@link OrderOutcome} for what each returns).
 *
 * @example
 * ```ts
 * const { outcome, order } = await tracker.submitOrder({ signalId: 'sig-1', positionId: 'BTC-1', symbol: 'BTC', intent: 'entry', quantity: 0.01, referencePrice: 60_000 });
 * if (outcome === 'accepted' && order.status === 'OPEN') await tracker.cancelOrder(order.clientOrderId);
 * ```
 */
export interface OrderGateway {
  submitOrder(request: SubmitOrderRequest, options?: HandleOptions): Promise<OrderOutcome>;
  cancelOrder(clientOrderId: string, options?: HandleOptions & { reason?: string }): Promise<OrderOutcome>;
}

const isLive = (o: Order): boolean => LIVE_ORDER_STATUSES.has(o.status);

function requireTrading(external: GuardedExternal | null, verb: string): GuardedExternal {
  if (external === null) {
    throw new ValidationError(`cannot ${verb}: the tracker has no outside system (open it with openTracker({ external }))`, [
      { path: 'external', message: 'required to place orders', value: undefined },
    ]);
  }
  if (!external.capabilities.canTrade) {
    const missing = (['submitOrder', 'getOrder', 'listOpenOrders', 'cancelOrder'] as const).filter((m) => !external.capabilities[m]);
    throw new ValidationError(
      `cannot ${verb}: the adapter lacks ${missing.join(', ')} (an order needs submit, look-up by client order id, open orders and cancel)`,
      [{ path: 'external', message: `lacks ${missing.join(', ')}`, value: undefined }],
    );
  }
  return external;
}

/** The fills of the venue, when the adapter lists them; null when it does not (fills are then inferred). A failed list is no fill. */
async function fillsOf(external: GuardedExternal): Promise<ExternalFill[] | null> {
  if (!external.capabilities.listFills) return null;
  try {
    return await external.listFills();
  } catch {
    return [];
  }
}

function requestOf(order: Order): ExternalOrderRequest {
  const request: ExternalOrderRequest = {
    positionId: order.positionId,
    symbol: order.symbol,
    side: order.side,
    type: order.orderType,
    quantity: order.quantity,
  };
  if (order.limitPrice !== undefined) request.limitPrice = order.limitPrice;
  if (order.intent === 'reduce') request.reduceOnly = true;
  return request;
}

/** The gateway of one tracker: its handler and its (guarded) outside system. */
export function orderGateway(handler: CommandHandler, external: GuardedExternal | null): OrderGateway {
  const orderOf = async (clientOrderId: string): Promise<Order> => {
    const o = (await handler.load()).orders.get(clientOrderId);
    if (o === undefined) throw new ValidationError(`order "${clientOrderId}" left the book while it was being placed (archived)`);
    return o;
  };

  return {
    async submitOrder(raw, options = {}) {
      const { retry, commandId: givenId, ...request } = parseOrThrow(SubmitOrderRequest, raw, 'submitOrder');
      const venue = requireTrading(external, `submit an order for "${request.positionId}"`);
      const commandId = givenId ?? (request.signalId === undefined ? randomUUID() : undefined);
      const orderKey = request.signalId ?? commandId;

      // A key the book knows already: its latest order, and nothing sent (unless a retry is allowed).
      const before = await handler.load();
      const earlier = orderKey === undefined ? [] : (before.orderKeys.get(orderKey) ?? []);
      const latest = earlier.length === 0 ? undefined : before.orders.get(earlier[earlier.length - 1] ?? '');
      const retryable =
        retry === true &&
        earlier.every((id) => {
          const o = before.orders.get(id);
          return o === undefined || (!isLive(o) && o.filledQuantity === 0);
        });
      if (latest !== undefined && !retryable) return { outcome: 'duplicate', order: latest, sent: false };

      const result = await handler.handle({ type: 'RequestOrder', ...request, ...(commandId === undefined ? {} : { commandId }) }, options);
      const requested = result.events.find((e) => e.type === 'OrderRequested');
      const clientOrderId = (requested?.data as { clientOrderId?: string } | undefined)?.clientOrderId;
      if (clientOrderId === undefined) throw new ValidationError('submitOrder: the command appended no OrderRequested');
      if (result.duplicate) return { outcome: 'duplicate', order: await orderOf(clientOrderId), sent: false };

      const order = present(result.state.orders.get(clientOrderId), 'the order just requested');
      const outcome = await venue.submitOrder(requestOf(order), { clientOrderId });
      if (outcome.outcome === 'accepted') {
        const filled = (outcome.ack.filledQuantity ?? 0) > 0;
        await recordVenueOrder(handler, clientOrderId, outcome.ack, filled ? await fillsOf(venue) : [], options);
        return { outcome: 'accepted', order: await orderOf(clientOrderId), sent: true };
      }
      if (outcome.outcome === 'refused' && outcome.error.failure === 'rejected') {
        await handler.handle({ type: 'RecordOrderRejected', clientOrderId, reason: reasonFrom(outcome.error.message) }, options);
        return { outcome: 'rejected', order: await orderOf(clientOrderId), sent: true, error: outcome.error };
      }
      return { outcome: 'unknown', order: await orderOf(clientOrderId), sent: true, error: outcome.error };
    },

    async cancelOrder(clientOrderId, options = {}) {
      const { reason, ...meta } = options;
      const venue = requireTrading(external, `cancel order "${clientOrderId}"`);
      await handler.handle({ type: 'CancelOrder', clientOrderId, ...(reason === undefined ? {} : { reason }) }, meta);
      const order = await orderOf(clientOrderId);
      try {
        await venue.cancelOrder(cancelRefOf(order));
      } catch (error) {
        const e = error instanceof ExternalError ? error : new ExternalError(String(error), 'unreachable');
        // Refused: it filled or finished meanwhile, or is not there yet; the look-up says which.
        if (e.failure === 'rejected') await lookUp(handler, venue, clientOrderId, meta);
        return { outcome: 'unknown', order: await orderOf(clientOrderId), sent: true, error: e };
      }
      // Confirmed: the look-up records the fills that came before the cancel, then the cancel.
      await lookUp(handler, venue, clientOrderId, meta);
      const after = await orderOf(clientOrderId);
      if (LIVE_ORDER_STATUSES.has(after.status)) {
        await handler.handle({ type: 'RecordOrderCanceled', clientOrderId, reason: 'canceled at the venue' }, meta);
      }
      return { outcome: 'canceled', order: await orderOf(clientOrderId), sent: true };
    },
  };
}

/** One look at the venue's order and fills, recorded; a failed look records nothing (reconciliation looks again). */
async function lookUp(handler: CommandHandler, venue: GuardedExternal, clientOrderId: string, meta: HandleOptions): Promise<void> {
  try {
    const order = (await handler.load()).orders.get(clientOrderId);
    const view = await venue.getOrder(order === undefined ? { clientOrderId } : lookupRefOf(order));
    if (view === null) return;
    await recordVenueOrder(handler, clientOrderId, view, await fillsOf(venue), meta);
  } catch (error) {
    if (!(error instanceof ExternalError)) throw error;
  }
}
