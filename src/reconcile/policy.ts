import { z } from 'zod';
import { DurationSeconds, MAX_DURATION_SECONDS } from '../events/index.js';
import { WebhookUrl } from './alerts.js';
import { ownValue } from '../_internals/records.js';

const Choices = z.strictObject({
  orphans: z.enum(['adopt', 'close', 'manual']).optional(),
  phantoms: z.enum(['clear', 'manual']).optional(),
  drift: z.enum(['correct', 'alert']).optional(),
  driftTolerancePct: z.number().finite().nonnegative().optional(),
  driftToleranceAbs: z.number().finite().nonnegative().optional(),
  externalOrders: z.enum(['adopt', 'cancel', 'manual']).optional(),
});

/**
 * How reconciliation heals. Orphans: `adopt` into the book, `close` outside (after a second
 * look), or `manual` (alert a person). Phantoms: `clear` from the book once confirmed, or
 * `manual`. Drift beyond tolerance: `correct` the book, or `alert`. `perSymbol` overrides any
 * of these for one symbol.
 */
export const ReconcilePolicy = z.strictObject({
  orphans: z.enum(['adopt', 'close', 'manual']).default('adopt'),
  phantoms: z.enum(['clear', 'manual']).default('clear'),
  drift: z.enum(['correct', 'alert']).default('correct'),
  /** Drift is a difference above both this % of the local value ... */
  driftTolerancePct: z.number().finite().nonnegative().default(1),
  /** ... and this absolute amount. */
  driftToleranceAbs: z.number().finite().nonnegative().default(0),
  /** Consecutive looks that must miss an IN position before it is a confirmed phantom (a direct getPosition confirms sooner). */
  phantomConfirmLooks: z.number().int().positive().default(2),
  /** Positions that changed locally this recently before the snapshot are not judged (seconds). */
  graceSeconds: DurationSeconds.default(30),
  /**
   * An in-flight order the venue does not know is declared lost (RecordOrderLost) only once it is
   * this old (seconds since it was requested: venues are slow to list a new order) ...
   */
  orderLostAfterSeconds: DurationSeconds.default(60),
  /** ... and this many look-ups by client order id in a row said "not found" (counted in the log). */
  orderLostAfterLooks: z.number().int().min(1).max(1000).default(3),
  /**
   * An open order at the venue that the book never issued (placed by hand, or by another
   * program): `adopt` it (it becomes the book's order, and its fills move a position), `cancel`
   * it at the venue, or `manual` (record it and alert a person; the default: never touch what a
   * person may have placed by hand). `perSymbol` overrides it per symbol.
   */
  externalOrders: z.enum(['adopt', 'cancel', 'manual']).default('manual'),
  /**
   * How the venue keys its positions: `per-id` (its id is the book's position id), `netting` (one
   * per symbol: the book's positions on a venue key are summed and compared with it), `hedge` (one
   * per symbol and side), or `auto` (the default: the adapter's `positionMode`, else `per-id`).
   */
  positionMode: z.enum(['auto', 'per-id', 'netting', 'hedge']).default('auto'),
  perSymbol: z.record(z.string(), Choices).default({}),
  /** `ptrack serve` reconciles this often (seconds, at least 1; backs off while the outside system fails). */
  everySeconds: z
    .number()
    .finite()
    .min(1, 'must be at least 1 second')
    .max(MAX_DURATION_SECONDS, `must be at most ${MAX_DURATION_SECONDS} seconds (100 years)`)
    .default(300),
  /** POST every alert as JSON to this URL (optional). */
  webhookUrl: WebhookUrl.optional(),
});
export type ReconcilePolicy = z.infer<typeof ReconcilePolicy>;
export type ReconcilePolicyInput = z.input<typeof ReconcilePolicy>;

/** The policy in force for one symbol. */
export function policyFor(
  policy: ReconcilePolicy,
  symbol: string | undefined,
): Omit<ReconcilePolicy, 'perSymbol' | 'webhookUrl' | 'everySeconds' | 'positionMode'> {
  const o = symbol === undefined ? undefined : ownValue(policy.perSymbol, symbol);
  return {
    orphans: o?.orphans ?? policy.orphans,
    phantoms: o?.phantoms ?? policy.phantoms,
    drift: o?.drift ?? policy.drift,
    driftTolerancePct: o?.driftTolerancePct ?? policy.driftTolerancePct,
    driftToleranceAbs: o?.driftToleranceAbs ?? policy.driftToleranceAbs,
    phantomConfirmLooks: policy.phantomConfirmLooks,
    graceSeconds: policy.graceSeconds,
    orderLostAfterSeconds: policy.orderLostAfterSeconds,
    orderLostAfterLooks: policy.orderLostAfterLooks,
    externalOrders: o?.externalOrders ?? policy.externalOrders,
  };
}
