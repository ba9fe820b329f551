/*
 * Orders at the venue that this book never issued: listed once per run (when the adapter has
 * listOpenOrders), recorded (ExternalOrderDetected, once while unresolved) and, by the policy,
 * canceled at the venue or left to a person with an alert.
 */

import type { BookState, CommandHandler, HandleOptions } from '../commands/index.js';
import { asExternalError, type ReconcileError } from './executePlan.js';
import type { ExternalOrder } from './externalOrders.js';
import type { GuardedExternal } from './externalSystem.js';
import type { Alert } from './plan.js';

/**
 * One open order at the venue that the book never issued, and what this run did with it:
 * `planned` (a dry run: nothing recorded), `detected` (recorded, left alone: policy `manual`, or
 * a cancel that failed), `canceled` (canceled at the venue and recorded as ExternalOrderCanceled).
 */
export interface ExternalOrderFinding {
  externalOrderId: string;
  clientOrderId?: string;
  symbol: string;
  side: 'buy' | 'sell';
  quantity: number;
  filledQuantity: number;
  price?: number;
  policy: 'cancel' | 'manual';
  outcome: 'planned' | 'detected' | 'canceled';
}

/** What {@link detectExternalOrders} needs. */
export interface DetectExternalOrdersOptions {
  handler: CommandHandler;
  external: GuardedExternal;
  policy: 'cancel' | 'manual';
  runId: string;
  dryRun: boolean;
  meta: HandleOptions;
}

/** The client order id a cancel names for an order the venue gave none: derived from its venue id, never one of ours (ours are derived from command ids). */
export function externalClientOrderId(o: Pick<ExternalOrder, 'clientOrderId' | 'externalOrderId'>): string {
  return o.clientOrderId ?? `ext-${o.externalOrderId}`;
}

/** Whether the book issued the order: its client order id first, its venue id second. */
export function isBookOrder(state: BookState, o: Pick<ExternalOrder, 'clientOrderId' | 'externalOrderId'>): boolean {
  if (o.clientOrderId !== undefined && state.orders.has(o.clientOrderId)) return true;
  for (const ours of state.orders.values()) if (ours.externalOrderId === o.externalOrderId) return true;
  return false;
}

/**
 * Lists the venue's open orders and handles each one the book never issued by the policy. A
 * dry run only reports (`planned`). A list that fails is an error and changes nothing; a cancel
 * that fails is an error and leaves the order detected. An adapter without listOpenOrders is not asked.
 *
 * @example
 * ```ts
 * const { findings, errors, alerts } = await detectExternalOrders({ handler, external, policy: 'manual', runId: 'r1', dryRun: false, meta: {} });
 * ```
 */
export async function detectExternalOrders(
  options: DetectExternalOrdersOptions,
): Promise<{ findings: ExternalOrderFinding[]; errors: ReconcileError[]; alerts: Alert[] }> {
  const { handler, external, policy, runId, dryRun, meta } = options;
  const out = { findings: [] as ExternalOrderFinding[], errors: [] as ReconcileError[], alerts: [] as Alert[] };
  if (!external.capabilities.listOpenOrders) return out;
  let open: ExternalOrder[];
  try {
    open = await external.listOpenOrders();
  } catch (error) {
    const e = asExternalError(error);
    out.errors.push({ stage: 'listOpenOrders', failure: e.failure, message: e.message });
    return out;
  }
  const state = await handler.load();
  for (const o of open) {
    if (isBookOrder(state, o)) continue;
    const finding: ExternalOrderFinding = {
      externalOrderId: o.externalOrderId,
      ...(o.clientOrderId === undefined ? {} : { clientOrderId: o.clientOrderId }),
      symbol: o.symbol,
      side: o.side,
      quantity: o.quantity,
      filledQuantity: o.filledQuantity,
      ...(o.averagePrice === undefined ? {} : { price: o.averagePrice }),
      policy,
      outcome: 'planned',
    };
    out.findings.push(finding);
    if (dryRun) continue;
    await handler.handle(
      {
        type: 'DetectExternalOrder',
        externalOrderId: o.externalOrderId,
        ...(o.clientOrderId === undefined ? {} : { clientOrderId: o.clientOrderId }),
        symbol: o.symbol,
        side: o.side,
        quantity: o.quantity,
        filledQuantity: o.filledQuantity,
        ...(o.averagePrice === undefined ? {} : { price: o.averagePrice }),
        runId,
      },
      meta,
    );
    finding.outcome = 'detected';
    const about = `${o.side} ${o.quantity} ${o.symbol} (venue id ${o.externalOrderId}${o.clientOrderId === undefined ? '' : `, client order id ${o.clientOrderId}`})`;
    if (policy === 'cancel') {
      try {
        await external.cancelOrder({ clientOrderId: externalClientOrderId(o), externalOrderId: o.externalOrderId });
      } catch (error) {
        const e = asExternalError(error);
        out.errors.push({ stage: 'cancelOrder', failure: e.failure, message: e.message });
        out.alerts.push({
          severity: 'critical',
          kind: 'externalOrder',
          message: `external order ${about}: the cancel failed (${e.message}); it is still open`,
        });
        continue;
      }
      await handler.handle(
        { type: 'RecordExternalOrderCanceled', externalOrderId: o.externalOrderId, filledQuantity: o.filledQuantity, runId },
        meta,
      );
      finding.outcome = 'canceled';
      continue;
    }
    out.alerts.push({
      severity: 'warning',
      kind: 'externalOrder',
      message: `external order ${about}: open at the venue, never issued by this book; left alone (reconcile.externalOrders is manual)`,
    });
  }
  return out;
}
