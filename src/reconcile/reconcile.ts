import { z } from 'zod';
import { forkBookState, recoveryPending, venueKeyOf, type BookState, type CommandHandler } from '../commands/index.js';
import { bookOfStream } from '../events/index.js';
import { WebhookUrl, type AlertSink } from './alerts.js';
import { parseOrThrow } from '../_internals/zodIssues.js';
import { asExternalError, executePlan, type ReconcileError, type SkippedStep } from './executePlan.js';
import { guardExternal, type ExternalSystem, type GuardedExternal, type GuardOptions } from './externalSystem.js';
import { followUp, secondLooks } from './followUp.js';
import { deliverAlert } from './alerts.js';
import { detectExternalOrders, type ExternalOrderFinding } from './detectExternalOrders.js';
import {
  planSteps,
  type Alert,
  type DriftFinding,
  type OrphanFinding,
  type PhantomFinding,
  type PlannedAction,
  type ReconciliationPlan,
} from './plan.js';
import { policyFor, ReconcilePolicy, type ReconcilePolicyInput } from './policy.js';
import { resolveInFlightOrders, type OrderResolutionReport } from './resolveOrders.js';
import { listKeyedPositions, resolvePositionMode } from './positionMode.js';
import type { ExternalPosition } from './externalSystem.js';
import { settledBy, type DriftOutcome, type OrphanOutcome, type PhantomOutcome, type Settles } from './steps.js';
import { definedFields } from '../_internals/definedFields.js';
import { present } from '../_internals/present.js';

export type { ReconcileError } from './executePlan.js';

/** What one run found and did. */
export interface ReconcileReport {
  runId: string;
  book: string;
  startedAt: string;
  completedAt: string;
  dryRun: boolean;
  /** Orphans with what became of them. */
  orphans: (OrphanFinding & { outcome: OrphanOutcome })[];
  phantoms: (PhantomFinding & { outcome: PhantomOutcome })[];
  drift: (DriftFinding & { outcome: DriftOutcome })[];
  /** Open outside below the dust threshold, not IN here: ignored (those of a symbol held by an order in flight too). */
  dust: { positionId: string; value: number }[];
  /** How many book changes healing made (adoptions, closes, clears, corrections). */
  corrected: number;
  alerts: Alert[];
  errors: ReconcileError[];
  /** Steps not taken because the book changed under the plan (a race, not a failure). */
  skipped: SkippedStep[];
  /** The plan's actions, for --dry-run. */
  actions: PlannedAction[];
  /** What the resolution of in-flight orders did before the plan (nothing in a dry run). */
  orders: OrderResolutionReport;
  /** Positions not judged this run (no orphan, phantom or drift) because an order is in flight for them or their symbol. */
  heldByOrders: { positionId: string; clientOrderIds: string[] }[];
  /** Open orders at the venue that the book never issued, with what the policy `externalOrders` did (a dry run: `planned`). */
  externalOrders: ExternalOrderFinding[];
}

/**
 * The book and the outside snapshot without what an in-flight order may still explain: every
 * position with a live order, and every position (here or outside) of a symbol with one. Once the
 * order resolves, its fill explains what appeared outside (a late fill, not an orphan).
 */
export function withoutInFlight(
  state: BookState,
  positions: readonly ExternalPosition[],
): { state: BookState; positions: ExternalPosition[]; held: ReconcileReport['heldByOrders'] } {
  if (state.liveOrders.size === 0) return { state, positions: [...positions], held: [] };
  const byPosition = new Map<string, string[]>();
  const symbols = new Set<string>();
  for (const [clientOrderId, positionId] of state.liveOrders) {
    byPosition.set(positionId, [...(byPosition.get(positionId) ?? []), clientOrderId]);
    const o = state.orders.get(clientOrderId);
    if (o !== undefined) symbols.add(o.symbol);
  }
  const heldIds = new Set<string>(byPosition.keys());
  // A venue key with an order in flight is not judged either (a netting account sums every position on it).
  const keys = new Set(symbols);
  for (const id of byPosition.keys()) {
    const p = state.positions.get(id);
    const key = p === undefined ? undefined : venueKeyOf(p);
    if (key !== undefined) keys.add(key);
  }
  for (const p of state.positions.values()) {
    const key = venueKeyOf(p);
    if ((p.symbol !== undefined && symbols.has(p.symbol)) || (key !== undefined && keys.has(key))) heldIds.add(p.id);
  }
  for (const p of positions) if (p.symbol !== undefined && keys.has(p.symbol)) heldIds.add(p.id);
  const view = forkBookState(state, 'scratch');
  for (const id of heldIds) view.positions.delete(id);
  return {
    state: view,
    positions: positions.filter((p) => !heldIds.has(p.id)),
    held: [...heldIds].sort().map((positionId) => ({ positionId, clientOrderIds: byPosition.get(positionId) ?? [] })),
  };
}

export interface ReconcileOptions extends AlertSink {
  handler: CommandHandler;
  external: ExternalSystem | GuardedExternal;
  policy?: ReconcilePolicyInput;
  /** The book's clock. Default: the wall clock. */
  now?: () => Date;
  /** Plan and report, change nothing. */
  dryRun?: boolean;
  guard?: GuardOptions;
  runId?: string;
}

export type LookResult =
  | { open: Map<string, boolean>; closedAt: Map<string, string> }
  | { failed: { stage: 'getPosition' | 'listPositions'; positionId?: string; error: unknown }; ids: string[] };

/**
 * The reads a plan needs before it acts: a direct look for each phantom to verify, and a second
 * look (direct, or one more list for all of them) for each orphan to close. Returns whether each
 * id is open outside, or the first read that failed and the ids it was about.
 */
export async function lookAgain(external: GuardedExternal, actions: readonly PlannedAction[]): Promise<LookResult> {
  const { direct, byList } = secondLooks(actions, external.canVerify);
  const open = new Map<string, boolean>();
  const closedAt = new Map<string, string>();
  for (const id of direct) {
    try {
      const look = await external.lookUpPosition(id);
      open.set(id, look.open);
      if (!look.open && look.closedAt !== undefined) closedAt.set(id, look.closedAt);
    } catch (error) {
      return { failed: { stage: 'getPosition', positionId: id, error }, ids: [id] };
    }
  }
  if (byList.length > 0) {
    let listed: Set<string>;
    try {
      listed = new Set((await external.listPositions()).map((p) => p.id));
    } catch (error) {
      return {
        failed: { stage: 'listPositions', ...definedFields({ positionId: byList.length === 1 ? byList[0] : undefined }), error },
        ids: byList,
      };
    }
    for (const id of byList) open.set(id, listed.has(id));
  }
  return { open, closedAt };
}

function isGuarded(x: ExternalSystem | GuardedExternal): x is GuardedExternal {
  return 'stats' in x && 'canVerify' in x;
}

type Findings = Pick<ReconcileReport, 'orphans' | 'phantoms' | 'drift'>;

/**
 * The plan's findings with what became of them: `deferred` or `planned`, then, in order, what each
 * step that settles one gave it (the last one wins), and `confirmed` for the phantoms a direct look confirmed.
 */
function findingsWithOutcomes(plan: ReconciliationPlan, settled: readonly Settles[] = [], confirmed: readonly number[] = []): Findings {
  const start = (verdict: string) => (verdict === 'deferred' ? 'deferred' : 'planned') as 'deferred' | 'planned';
  const orphans: OrphanOutcome[] = plan.orphans.map((o) => start(o.verdict));
  const phantoms: PhantomOutcome[] = plan.phantoms.map((p) => start(p.verdict));
  const drift: DriftOutcome[] = plan.drift.map((d) => start(d.verdict));
  for (const s of settled) {
    if (s.list === 'orphans') orphans[s.index] = s.outcome;
    else if (s.list === 'phantoms') phantoms[s.index] = s.outcome;
    else drift[s.index] = s.outcome;
  }
  const sure = new Set(confirmed);
  return {
    orphans: plan.orphans.map((o, i) => ({ ...o, outcome: present(orphans[i], "an orphan's outcome") })),
    phantoms: plan.phantoms.map((p, i) => ({
      ...p,
      ...(sure.has(i) ? { verdict: 'confirmed' as const } : {}),
      outcome: present(phantoms[i], "a phantom's outcome"),
    })),
    drift: plan.drift.map((d, i) => ({ ...d, outcome: present(drift[i], "a drift's outcome") })),
  };
}

/** Keeps the report stored in the log bounded, whatever the size of the book. */
function capped<T>(list: readonly T[], max = 200): { items: T[]; total: number } {
  return { items: list.slice(0, max), total: list.length };
}

/**
 * One reconciliation run: read the outside system, plan, heal through the command handler and
 * the adapter, alert what is left to a person, and append ReconciliationCompleted with the
 * report. A failed or malformed read changes nothing and shows up in `errors`. Steps that the
 * book refuses because it moved since the look are `skipped`, so running a plan twice does no harm.
 * While the book waits for an operator (a pending manual recovery) a run that would change
 * anything throws RecoveryPendingError before it acts: the adapter is not asked to close anything.
 *
 * @example
 * ```ts
 * const report = await reconcile({ handler: tracker.handler, external: myBroker, policy: { orphans: 'adopt' } });
 * console.log(report.orphans.length, report.phantoms.length, report.errors);
 * ```
 */
export async function reconcile(options: ReconcileOptions): Promise<ReconcileReport> {
  const { handler } = options;
  const policy = parseOrThrow(ReconcilePolicy, options.policy ?? {}, 'reconcile policy');
  if (options.webhookUrl !== undefined) parseOrThrow(z.object({ webhookUrl: WebhookUrl }), { webhookUrl: options.webhookUrl }, 'reconcile');
  const now = options.now ?? (() => new Date());
  const external = isGuarded(options.external) ? options.external : guardExternal(options.external, options.guard);
  const startedAt = now();
  const runId = options.runId ?? `rec-${startedAt.toISOString()}`;
  const book = bookOfStream(handler.stream) ?? handler.stream;
  const webhookUrl = options.webhookUrl ?? policy.webhookUrl;
  const sink: AlertSink = { ...(options.onAlert ? { onAlert: options.onAlert } : {}), ...(webhookUrl ? { webhookUrl } : {}) };
  const report: ReconcileReport = {
    runId,
    book,
    startedAt: startedAt.toISOString(),
    completedAt: startedAt.toISOString(),
    dryRun: options.dryRun ?? false,
    orphans: [],
    phantoms: [],
    drift: [],
    dust: [],
    corrected: 0,
    alerts: [],
    errors: [],
    skipped: [],
    actions: [],
    orders: { orders: [], errors: [], inFlight: [] },
    heldByOrders: [],
    externalOrders: [],
  };

  const positionMode = resolvePositionMode(policy.positionMode, external.positionMode);
  let positions;
  try {
    positions = await listKeyedPositions(external, positionMode);
  } catch (error) {
    const e = asExternalError(error);
    report.errors.push({ stage: 'listPositions', failure: e.failure, message: e.message });
    report.completedAt = now().toISOString();
    return report; // nothing learned: nothing changes, nothing is appended
  }

  let state = await handler.load();
  if (!report.dryRun) {
    // Closing outside is not a command the decider could refuse: the gate is checked before any act.
    const pending = recoveryPending(state, 'reconcile');
    if (pending) throw pending;
    // In-flight orders first: their fills explain positions that appeared outside.
    if (state.liveOrders.size > 0) {
      report.orders = await resolveInFlightOrders({
        handler,
        external,
        policy,
        now,
        meta: { source: 'reconcile', correlationId: runId },
      });
      for (const e of report.orders.errors) report.errors.push({ stage: e.stage, failure: e.failure, message: e.message });
      for (const o of report.orders.orders) {
        if (o.error !== undefined) {
          report.errors.push({ stage: 'getOrder', positionId: o.positionId, failure: o.error.failure, message: o.error.message });
        }
      }
      state = await handler.load();
    }
  }
  // Orders the book never issued, after its own in-flight ones are resolved (so a late answer about ours is not taken for a stranger).
  const strangers = await detectExternalOrders({
    handler,
    external,
    policy: (symbol) => policyFor(policy, symbol).externalOrders,
    runId,
    dryRun: report.dryRun,
    meta: { source: 'reconcile', correlationId: runId },
  });
  report.externalOrders = strangers.findings;
  report.errors.push(...strangers.errors);
  const strangerAlerts = strangers.alerts;
  if (!report.dryRun) {
    for (const alert of strangerAlerts) {
      const problem = await deliverAlert(sink, alert, { runId, book });
      if (problem) report.errors.push({ stage: 'alert', message: problem });
    }
    if (strangers.findings.length > 0) state = await handler.load();
  }
  const judged = withoutInFlight(state, positions);
  report.heldByOrders = judged.held;
  const planned = planSteps(
    judged.state,
    { positions: judged.positions, startedAt, canVerify: external.canVerify, positionMode },
    { ...policy, minPositionValue: handler.policy.minPositionValue },
    now(),
    runId,
  );
  const { plan } = planned;
  // Dust is dust whether or not an order in flight holds its symbol: the leak audit reads the list to tell dust that grew.
  const held = new Set(judged.held.map((h) => h.positionId));
  const heldDust = positions.filter(
    (p) => held.has(p.id) && p.value < handler.policy.minPositionValue && state.positions.get(p.id)?.status !== 'IN',
  );
  report.dust = [...plan.dust, ...heldDust.map((p) => ({ positionId: p.id, value: p.value }))];
  report.actions = plan.actions;
  const reappeared: ReconcileReport['phantoms'] = plan.reappeared.map((r) => {
    const p = state.positions.get(r.positionId);
    return {
      positionId: r.positionId,
      value: p?.status === 'IN' ? p.value : 0,
      looks: r.looks,
      verdict: 'suspected',
      policy: policy.phantoms,
      outcome: 'reappeared',
    };
  });
  const settle = (findings: Findings): void => {
    report.orphans = findings.orphans;
    report.phantoms = [...findings.phantoms, ...reappeared];
    report.drift = findings.drift;
  };
  if (report.dryRun) {
    settle(findingsWithOutcomes(plan));
    report.alerts = plan.actions.flatMap((a) => (a.kind === 'alert' ? [a.alert] : []));
    report.completedAt = now().toISOString();
    return report;
  }

  // Look first, then act: every read of the outside (the direct looks that confirm phantoms, the
  // second looks before a close) is done before the first change, so a read that fails changes nothing.
  const looked = await lookAgain(external, plan.actions);
  if ('failed' in looked) {
    const { stage, positionId, error } = looked.failed;
    const e = asExternalError(error);
    report.errors.push({ stage, ...definedFields({ positionId }), failure: e.failure, message: e.message });
    const unsure = new Set(looked.ids);
    const failed = planned.steps.flatMap(({ action, settles }) =>
      settles !== undefined && (action.kind === 'verify' || action.kind === 'close') && unsure.has(action.positionId)
        ? [settledBy(settles, 'failed')]
        : [],
    );
    settle(findingsWithOutcomes(plan, failed));
    report.alerts = strangerAlerts;
    report.completedAt = now().toISOString();
    return report; // nothing learned for sure: nothing changes, nothing is appended
  }

  const next = followUp(planned, looked.open, runId, looked.closedAt);
  const execution = await executePlan(next.steps, {
    handler,
    external,
    meta: { source: 'reconcile', correlationId: runId },
    alerts: { sink, runId, book },
  });
  const settled = next.steps.flatMap(({ settles }, i) =>
    settles === undefined ? [] : [settledBy(settles, present(execution.results[i], 'the result of a step').result)],
  );
  for (const index of next.reappeared) settled.push({ list: 'phantoms', index, outcome: 'reappeared' });
  settle(findingsWithOutcomes(plan, settled, next.confirmed));
  report.corrected = execution.results.filter((r) => r.healed).length;
  report.alerts = [...strangerAlerts, ...execution.alerts];
  report.errors.push(...execution.errors);
  report.skipped.push(...execution.skipped);

  report.completedAt = now().toISOString();
  const completion = await executePlan(
    [
      {
        action: {
          kind: 'command',
          command: {
            type: 'CompleteReconciliation',
            runId,
            startedAt: report.startedAt,
            snapshotAt: report.startedAt,
            counts: {
              orphans: report.orphans.length,
              phantoms: report.phantoms.length,
              drift: report.drift.length,
              corrected: report.corrected,
              alerts: report.alerts.length,
              errors: report.errors.length,
            },
            report: {
              orphans: capped(report.orphans.map((o) => ({ id: o.positionId, value: o.value, outcome: o.outcome }))),
              phantoms: capped(report.phantoms.map((p) => ({ id: p.positionId, value: p.value, looks: p.looks, outcome: p.outcome }))),
              drift: capped(
                report.drift.map((d) => ({ id: d.positionId, local: d.localValue, external: d.externalValue, outcome: d.outcome })),
              ),
              dust: capped(report.dust.map((d) => ({ id: d.positionId, value: d.value }))),
              alerts: capped(report.alerts.map((a) => a.message)),
              errors: capped(report.errors.map((e) => `${e.stage}${e.positionId ? ` ${e.positionId}` : ''}: ${e.message}`)),
              skipped: capped(report.skipped.map((s) => s.reason)),
              orders: capped(
                report.orders.orders.map((o) => ({ id: o.clientOrderId, outcome: o.outcome, ...definedFields({ looks: o.looks }) })),
              ),
              heldByOrders: capped(report.heldByOrders.map((h) => h.positionId)),
              externalOrders: capped(report.externalOrders.map((o) => ({ id: o.externalOrderId, outcome: o.outcome }))),
            },
          },
          about: `record run ${runId}`,
        },
      },
    ],
    { handler, external, meta: { source: 'reconcile', correlationId: runId } },
  );
  report.errors.push(...completion.errors);
  report.skipped.push(...completion.skipped);
  return report;
}
