/*
 * The resolution of in-flight orders: every order the book holds as PENDING_SUBMIT, OPEN,
 * PARTIALLY_FILLED or PENDING_CANCEL is looked up at the venue by its client order id (an adopted
 * order by its venue id; never sent again) and what the venue says is recorded. One function, used by reconciliation and so by
 * startup recovery (`sync`), so both resolve an order the same way.
 */

import type { CommandHandler, HandleOptions, Order } from '../commands/index.js';
import { ExternalError, OrderStateError, type ExternalFailure } from '../errors/index.js';
import { cancelRefOf, lookupRefOf, type ExternalFill } from './externalOrders.js';
import type { GuardedExternal } from './externalSystem.js';
import { recordVenueOrder, type OrderRecord } from './orderOutcome.js';

/** When an order the venue does not know is lost (the reconcile policy's keys of the same names). */
export interface OrderLossPolicy {
  orderLostAfterSeconds: number;
  orderLostAfterLooks: number;
}

/**
 * What became of one in-flight order: `resolved` (finished: filled, canceled, expired, rejected),
 * `open` (the venue has it and it can still fill; what it said is recorded), `not_found` (one more
 * look said so; `looks` in a row), `lost` (RecordOrderLost after the grace window and the looks),
 * `failed` (the look-up failed: nothing recorded, the next run looks again).
 */
export interface OrderResolution {
  clientOrderId: string;
  positionId: string;
  outcome: 'resolved' | 'open' | 'not_found' | 'lost' | 'failed';
  looks?: number;
  records: OrderRecord[];
  error?: { failure: ExternalFailure; message: string };
}

/** What {@link resolveInFlightOrders} needs: the book's handler, the guarded venue, the loss policy, the clock, and the metadata its commands carry. */
export interface ResolveOrdersOptions {
  handler: CommandHandler;
  external: GuardedExternal;
  policy: OrderLossPolicy;
  now: () => Date;
  meta?: HandleOptions;
}

/** What a resolution run did, order by order; `inFlight` lists the orders still live after it. */
export interface OrderResolutionReport {
  orders: OrderResolution[];
  /** A failed list of fills (the orders were looked up all the same; their fills wait for the next run). */
  errors: { stage: 'listFills'; failure: ExternalFailure; message: string }[];
  inFlight: string[];
}

const LIVE: ReadonlySet<string> = new Set(['PENDING_SUBMIT', 'OPEN', 'PARTIALLY_FILLED', 'PENDING_CANCEL']);

function failureOf(error: unknown): { failure: ExternalFailure; message: string } {
  if (error instanceof ExternalError) return { failure: error.failure, message: error.message };
  return { failure: 'unreachable', message: error instanceof Error ? error.message : String(error) };
}

/**
 * Resolves every in-flight order of the book against the venue, in the order they were
 * requested. For each: a look-up by client order id (`getOrder`); when the venue has it, its
 * acceptance, its fills (from `listFills`, listed once per run, when the adapter has it; else one
 * fill inferred from its filled quantity, with a tradeId derived from it so a restart infers the
 * same one) and how it finished are recorded (see recordVenueOrder). When the venue does not know
 * it, one more look is counted in the log (OrderLookedUp), and once the order is
 * `orderLostAfterSeconds` old and `orderLostAfterLooks` look-ups in a row said "not found" it is
 * recorded lost, which the decider resolves by the table: PENDING_SUBMIT or OPEN → REJECTED,
 * PARTIALLY_FILLED → CANCELED keeping its fills; PENDING_CANCEL stays unresolved until a look
 * answers. A PENDING_CANCEL order the venue still shows live is sent its cancel again (the first
 * one was lost on the way; a cancel, unlike an order, is harmless to repeat). A book with no
 * in-flight order calls nothing.
 *
 * @example
 * ```ts
 * const report = await resolveInFlightOrders({ handler, external: guardExternal(venue), policy: { orderLostAfterSeconds: 60, orderLostAfterLooks: 3 }, now: () => new Date() });
 * console.log(report.inFlight); // still live
 * ```
 */
export async function resolveInFlightOrders(options: ResolveOrdersOptions): Promise<OrderResolutionReport> {
  const { handler, external, policy, now } = options;
  const meta = options.meta ?? {};
  const report: OrderResolutionReport = { orders: [], errors: [], inFlight: [] };
  const state = await handler.load();
  const live = [...state.liveOrders.keys()].flatMap((id) => {
    const o = state.orders.get(id);
    return o === undefined ? [] : [o];
  });
  if (live.length === 0) return report;
  live.sort((a, b) => (a.requestedAt < b.requestedAt ? -1 : a.requestedAt > b.requestedAt ? 1 : 0));

  let fills: ExternalFill[] | null = null;
  if (external.capabilities.listFills) {
    try {
      fills = await external.listFills();
    } catch (error) {
      report.errors.push({ stage: 'listFills', ...failureOf(error) });
      fills = [];
    }
  }

  const current = async (id: string): Promise<Order | undefined> => (await handler.load()).orders.get(id);
  for (const order of live) {
    const id = order.clientOrderId;
    const resolution: OrderResolution = { clientOrderId: id, positionId: order.positionId, outcome: 'open', records: [] };
    report.orders.push(resolution);
    let view;
    try {
      view = await external.getOrder(lookupRefOf(order));
    } catch (error) {
      resolution.outcome = 'failed';
      resolution.error = failureOf(error);
      continue;
    }
    if (view !== null) {
      await handler.handle({ type: 'RecordOrderLook', clientOrderId: id, found: true }, meta);
      resolution.records = await recordVenueOrder(handler, id, view, fills, meta);
      let after = await current(id);
      if (after?.status === 'PENDING_CANCEL' && (view.status === 'open' || view.status === 'partially_filled')) {
        // The cancel never reached the venue (or was lost on the way): asked again, it is harmless
        // (a cancel that landed meanwhile is refused as finished); an order is never sent again, a cancel may be.
        try {
          await external.cancelOrder(cancelRefOf(after));
          const again = await external.getOrder(lookupRefOf(after));
          if (again !== null) resolution.records.push(...(await recordVenueOrder(handler, id, again, fills, meta)));
        } catch (error) {
          resolution.error = failureOf(error);
        }
        after = await current(id);
      }
      resolution.outcome = after !== undefined && LIVE.has(after.status) ? 'open' : 'resolved';
      continue;
    }
    const looked = await handler.handle({ type: 'RecordOrderLook', clientOrderId: id, found: false }, meta);
    const after = looked.state.orders.get(id);
    const looks = after?.missedLooks ?? 0;
    resolution.outcome = 'not_found';
    resolution.looks = looks;
    if (after === undefined || !LIVE.has(after.status) || after.status === 'PENDING_CANCEL') continue;
    const ageSeconds = (now().getTime() - Date.parse(after.requestedAt)) / 1000;
    if (looks < policy.orderLostAfterLooks || ageSeconds < policy.orderLostAfterSeconds) continue;
    const reason = `the venue did not know it at ${looks} look-ups in a row, the last ${Math.round(ageSeconds)} s after it was requested`;
    let lost;
    try {
      lost = await handler.handle({ type: 'RecordOrderLost', clientOrderId: id, looks, reason }, meta);
    } catch (error) {
      if (error instanceof OrderStateError) continue; // another process resolved it meanwhile
      throw error;
    }
    const event = lost.events.find((e) => e.type === 'OrderLost');
    if (event !== undefined) {
      const resolutionOf = (event.data as { resolution: 'REJECTED' | 'CANCELED' }).resolution;
      resolution.records.push({ kind: 'lost', clientOrderId: id, looks, resolution: resolutionOf });
      resolution.outcome = 'lost';
    }
  }
  const end = await handler.load();
  report.inFlight = [...end.liveOrders.keys()];
  return report;
}
