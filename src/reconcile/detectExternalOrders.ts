/*
 * Orders at the venue that this book never issued: listed once per run (when the adapter has
 * listOpenOrders), recorded (ExternalOrderDetected, once while unresolved) and, by the policy,
 * canceled at the venue or left to a person with an alert.
 */

import { bookOrderOf, type BookState, type CommandHandler, type ExternalOrderFacts, type HandleOptions } from '../commands/index.js';
import { InvalidTransitionError, OrderStateError, ValidationError } from '../errors/index.js';
import { asExternalError, type ReconcileError } from './executePlan.js';
import type { ExternalFill, ExternalOrder } from './externalOrders.js';
import type { GuardedExternal } from './externalSystem.js';
import { recordVenueOrder, type OrderRecord } from './orderOutcome.js';
import type { Alert } from './plan.js';

/** What reconciliation does with an open order at the venue that the book never issued. */
export type ExternalOrderPolicy = 'adopt' | 'cancel' | 'manual';

/**
 * One open order at the venue that the book never issued (its facts, as ExternalOrderDetected
 * records them), the policy in force for its symbol, and what this run did with it: `planned` (a
 * dry run: nothing recorded), `detected` (recorded, left alone: policy `manual`, or a cancel or an
 * adoption that failed), `canceled` (canceled at the venue and recorded as ExternalOrderCanceled),
 * `adopted` (ExternalOrderAdopted: the book's order `adoptedAs.clientOrderId` for position
 * `adoptedAs.positionId` from now on, with its fills so far in `records`).
 */
export interface ExternalOrderFinding extends ExternalOrderFacts {
  policy: ExternalOrderPolicy;
  outcome: 'planned' | 'detected' | 'canceled' | 'adopted';
  adoptedAs?: { clientOrderId: string; positionId: string };
  /** What adopting it recorded (its fills so far). */
  records?: OrderRecord[];
}

/** What {@link detectExternalOrders} needs; `policy` is one for every symbol, or the one in force for a symbol. */
export interface DetectExternalOrdersOptions {
  handler: CommandHandler;
  external: GuardedExternal;
  policy: ExternalOrderPolicy | ((symbol: string) => ExternalOrderPolicy);
  runId: string;
  dryRun: boolean;
  meta: HandleOptions;
}

/** The client order id a cancel names for an order the venue gave none: derived from its venue id, never one of ours (ours are derived from command ids). */
export function externalClientOrderId(o: Pick<ExternalOrder, 'clientOrderId' | 'externalOrderId'>): string {
  return o.clientOrderId ?? `ext-${o.externalOrderId}`;
}

/** Whether the book issued (or adopted) the order: its client order id first, its venue id second. */
export function isBookOrder(state: BookState, o: Pick<ExternalOrder, 'clientOrderId' | 'externalOrderId'>): boolean {
  return bookOrderOf(state, o) !== undefined;
}

/** The facts ExternalOrderDetected records of a venue order (and the finding reports). */
function factsOf(o: ExternalOrder): ExternalOrderFacts {
  return {
    externalOrderId: o.externalOrderId,
    ...(o.clientOrderId === undefined ? {} : { clientOrderId: o.clientOrderId }),
    symbol: o.symbol,
    side: o.side,
    quantity: o.quantity,
    filledQuantity: o.filledQuantity,
    ...(o.averagePrice === undefined ? {} : { price: o.averagePrice }),
  };
}

/** The book's order type for a venue's word: market and limit are kept; another (a stop) is a limit when it has a limit price. */
function orderTypeOf(o: ExternalOrder): 'market' | 'limit' {
  if (o.type === 'market' || o.type === 'limit') return o.type;
  return o.limitPrice === undefined ? 'market' : 'limit';
}

/**
 * Lists the venue's open orders and handles each one the book never issued by the policy for its
 * symbol: `manual` records it and alerts; `cancel` cancels it at the venue and records the cancel;
 * `adopt` makes it the book's order (AdoptExternalOrder) and records its fills so far as any
 * order's (the venue's trades from `listFills`, listed once per run when the adapter has it, else
 * one fill inferred from its filled quantity), so the in-flight resolution follows it from then on.
 * A dry run only reports (`planned`). A list that fails is an error and changes nothing; a cancel
 * that fails is an error and leaves the order detected; an adoption the book refuses (a reduce-only
 * order with no one position to close, say) leaves it detected with an alert. An adapter without
 * listOpenOrders is not asked.
 *
 * @example
 * ```ts
 * const { findings, errors, alerts } = await detectExternalOrders({ handler, external, policy: 'manual', runId: 'r1', dryRun: false, meta: {} });
 * ```
 */
export async function detectExternalOrders(
  options: DetectExternalOrdersOptions,
): Promise<{ findings: ExternalOrderFinding[]; errors: ReconcileError[]; alerts: Alert[] }> {
  const { handler, external, runId, dryRun, meta } = options;
  const policyOf = typeof options.policy === 'function' ? options.policy : () => options.policy as ExternalOrderPolicy;
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
  // The venue's trades, listed once per run and only when an adoption needs them.
  let fills: readonly ExternalFill[] | null | undefined;
  const fillsForAdoption = async (): Promise<readonly ExternalFill[] | null> => {
    if (fills !== undefined) return fills;
    if (!external.capabilities.listFills) return (fills = null);
    try {
      fills = await external.listFills();
    } catch (error) {
      const e = asExternalError(error);
      out.errors.push({ stage: 'listFills', failure: e.failure, message: e.message });
      // Never inferred instead: the trades, once listed, would count the same fills again. The next run's resolution records them.
      fills = [];
    }
    return fills;
  };
  for (const o of open) {
    if (isBookOrder(state, o)) continue;
    const policy = policyOf(o.symbol);
    const facts = factsOf(o);
    const finding: ExternalOrderFinding = { ...facts, policy, outcome: 'planned' };
    out.findings.push(finding);
    if (dryRun) continue;
    await handler.handle({ type: 'DetectExternalOrder', ...facts, runId }, meta);
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
    if (policy === 'adopt') {
      let adopted;
      try {
        adopted = await handler.handle(
          {
            type: 'AdoptExternalOrder',
            externalOrderId: o.externalOrderId,
            symbol: o.symbol,
            side: o.side,
            quantity: o.quantity,
            orderType: orderTypeOf(o),
            reduceOnly: o.reduceOnly ?? false,
            runId,
            reason: `open at the venue, never issued by this book; adopted by run ${runId}`,
            ...(o.clientOrderId === undefined ? {} : { clientOrderId: o.clientOrderId }),
            ...(o.positionId === undefined ? {} : { positionId: o.positionId }),
            ...(o.limitPrice === undefined ? {} : { limitPrice: o.limitPrice }),
            ...(o.averagePrice === undefined ? {} : { price: o.averagePrice }),
          },
          meta,
        );
      } catch (error) {
        // The book's refusal (a rule of adoption, or the book moved): it stays detected, for a person.
        const refused = error instanceof ValidationError || error instanceof InvalidTransitionError || error instanceof OrderStateError;
        if (!refused) throw error;
        out.alerts.push({
          severity: 'warning',
          kind: 'externalOrder',
          message: `external order ${about}: not adopted (${error.message}); it is still open, left alone`,
        });
        continue;
      }
      const event = adopted.events.find((e) => e.type === 'ExternalOrderAdopted');
      if (event?.type !== 'ExternalOrderAdopted') continue;
      const { clientOrderId, positionId } = event.data;
      finding.outcome = 'adopted';
      finding.adoptedAs = { clientOrderId, positionId };
      // Its fills so far, as any order's: the same mechanism the resolution of in-flight orders uses.
      finding.records = await recordVenueOrder(handler, clientOrderId, o, await fillsForAdoption(), meta);
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
