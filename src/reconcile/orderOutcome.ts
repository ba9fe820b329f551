/*
 * Writing down what the venue says about one of the book's orders: its acceptance, its fills (the
 * venue's trades, or one fill inferred from its filled quantity when the adapter lists no trades)
 * and how it finished. The gateway uses it for a submit's answer, the resolution of in-flight
 * orders for every look-up: one mechanism, so both record the same events for the same answer.
 */

import { type CommandHandler, type CommandInput, type HandleOptions, type Order } from '../commands/index.js';
import { OrderStateError } from '../errors/index.js';
import type { ExternalFill, ExternalOrderAck } from './externalOrders.js';

/** How far quantities may differ by float rounding (the book's own fill tolerance). */
const TOLERANCE = 1e-9;

/** What was written down for an order, in order (for reports and tests). */
export type OrderRecord =
  | { kind: 'accepted'; clientOrderId: string; externalOrderId: string }
  | { kind: 'rejected'; clientOrderId: string; reason: string }
  | { kind: 'fill'; clientOrderId: string; tradeId: string; quantity: number; price: number; inferred: boolean }
  | { kind: 'canceled' | 'expired'; clientOrderId: string }
  | { kind: 'lost'; clientOrderId: string; looks: number; resolution: 'REJECTED' | 'CANCELED' };

/** Control characters from outside never reach the log or a terminal; a reason is at most 500 characters. */
export function reasonFrom(message: string): string {
  const clean = message.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return (clean.length > 0 ? clean : 'no reason given').slice(0, 500);
}

/**
 * The tradeId of the fill inferred when the venue's order shows `filledQuantity` and no trade
 * report exists: derived from the client order id and the quantity filled in all, so a restart
 * that sees the same status infers the same fill (and the book keeps it once).
 */
export function inferredTradeId(clientOrderId: string, filledQuantity: number): string {
  return `inferred:${clientOrderId}:${Number(filledQuantity.toPrecision(12))}`;
}

/** The fill the venue's status implies beyond the book's fills, or null (nothing new, or no price to give it). */
function inferredFill(order: Order, view: ExternalOrderAck): { tradeId: string; quantity: number; price: number } | null {
  const filled = view.filledQuantity ?? 0;
  const quantity = filled - order.filledQuantity;
  if (quantity <= TOLERANCE * Math.max(1, order.quantity)) return null;
  let price: number | undefined;
  if (view.averagePrice !== undefined && view.averagePrice > 0) {
    // The venue's average covers every fill: what is new is the rest of its notional.
    const rest = (view.averagePrice * filled - (order.averagePrice ?? 0) * order.filledQuantity) / quantity;
    price = rest > 0 ? rest : view.averagePrice;
  } else {
    price = order.limitPrice ?? order.referencePrice;
  }
  if (price === undefined || !(price > 0)) return null;
  return {
    tradeId: inferredTradeId(order.clientOrderId, filled),
    quantity: Math.min(quantity, order.quantity - order.filledQuantity),
    price,
  };
}

/** The fills in `fills` of `order` the book does not hold yet, each trade once. */
function newFills(order: Order, fills: readonly ExternalFill[]): ExternalFill[] {
  const seen = new Set(order.tradeIds);
  const out: ExternalFill[] = [];
  for (const f of fills) {
    const ours =
      f.clientOrderId === order.clientOrderId || (order.externalOrderId !== undefined && f.externalOrderId === order.externalOrderId);
    if (!ours || seen.has(f.tradeId)) continue;
    seen.add(f.tradeId);
    out.push(f);
  }
  return out;
}

/**
 * Records what the venue says about `clientOrderId`: `view` is its order as the venue shows it
 * (a submit's acknowledgement or a look-up), `fills` the venue's trades (null when the adapter
 * lists none: then a fill is inferred from the view's filled quantity). In this order: the
 * acceptance (its externalOrderId), a rejection when the view says so, the new fills, then a
 * cancel or an expiry, once the book's fills cover what the venue says filled (a cancel recorded
 * before its last trade is listed would leave that trade unlooked-for). A command the book
 * refuses because another process recorded the same answer first is skipped; the others throw.
 *
 * @example
 * ```ts
 * await recordVenueOrder(handler, 'pt1a2b-1', await guarded.getOrder({ clientOrderId: 'pt1a2b-1' }), await guarded.listFills());
 * ```
 */
export async function recordVenueOrder(
  handler: CommandHandler,
  clientOrderId: string,
  view: ExternalOrderAck,
  fills: readonly ExternalFill[] | null,
  meta: HandleOptions = {},
): Promise<OrderRecord[]> {
  const records: OrderRecord[] = [];
  const current = async (): Promise<Order | undefined> => (await handler.load()).orders.get(clientOrderId);
  const run = async (command: CommandInput, record: OrderRecord): Promise<boolean> => {
    try {
      const result = await handler.handle(command, meta);
      if (result.events.length > 0 && !result.duplicate) records.push(record);
      return true;
    } catch (error) {
      if (error instanceof OrderStateError) return false; // another look recorded it first
      throw error;
    }
  };

  let order = await current();
  if (order === undefined) return records;
  if (view.status === 'rejected') {
    if (order.filledQuantity === 0 && (order.status === 'PENDING_SUBMIT' || order.status === 'PENDING_CANCEL')) {
      const reason = 'the venue shows it rejected';
      await run({ type: 'RecordOrderRejected', clientOrderId, reason }, { kind: 'rejected', clientOrderId, reason });
    }
    return records;
  }
  if (order.externalOrderId === undefined && order.status !== 'REJECTED') {
    const externalOrderId = view.externalOrderId;
    await run({ type: 'RecordOrderAccepted', clientOrderId, externalOrderId }, { kind: 'accepted', clientOrderId, externalOrderId });
    order = await current();
    if (order === undefined) return records;
  }

  if (fills !== null) {
    for (const f of newFills(order, fills)) {
      const fill = { tradeId: f.tradeId, quantity: f.quantity, price: f.price };
      const command: CommandInput = {
        type: 'RecordFill',
        clientOrderId,
        ...fill,
        // A rebate is not a fee the book can hold (fees are non-negative): it is recorded as none.
        fee: Math.max(0, f.fee),
        inferred: false,
        ...(f.at === undefined ? {} : { filledAt: f.at }),
      };
      await run(command, { kind: 'fill', clientOrderId, ...fill, inferred: false });
    }
  } else {
    const fill = inferredFill(order, view);
    if (fill !== null) {
      await run(
        { type: 'RecordFill', clientOrderId, ...fill, fee: 0, inferred: true },
        { kind: 'fill', clientOrderId, ...fill, inferred: true },
      );
    }
  }

  if (view.status !== 'canceled' && view.status !== 'expired') return records;
  order = await current();
  if (order === undefined || !['PENDING_SUBMIT', 'OPEN', 'PARTIALLY_FILLED', 'PENDING_CANCEL'].includes(order.status)) return records;
  const venueFilled = view.filledQuantity ?? 0;
  if (order.filledQuantity < venueFilled - TOLERANCE * Math.max(1, order.quantity)) return records;
  if (view.status === 'canceled') {
    await run({ type: 'RecordOrderCanceled', clientOrderId, reason: 'canceled at the venue' }, { kind: 'canceled', clientOrderId });
  } else {
    await run({ type: 'RecordOrderExpired', clientOrderId }, { kind: 'expired', clientOrderId });
  }
  return records;
}
