import { z } from 'zod';
import { recoveryPending } from '../commands/decideRecovery.js';
import type { CommandHandler } from '../commands/handler.js';
import type { CommandInput } from '../commands/schemas.js';
import { ExternalError, InvalidTransitionError, RiskLimitError, TrackerError } from '../errors/index.js';
import { bookOfStream } from '../events/index.js';
import { deliverAlert, WebhookUrl, type AlertSink } from './alerts.js';
import { parseOrThrow } from '../_internals/zodIssues.js';
import { guardExternal, type ExternalSystem, type GuardedExternal, type GuardOptions } from './externalSystem.js';
import {
  confirmedPhantom,
  planReconciliation,
  type Alert,
  type DriftFinding,
  type OrphanFinding,
  type PhantomFinding,
  type PlannedAction,
  type ReconciliationPlan,
} from './plan.js';
import { ReconcilePolicy, type ReconcilePolicyInput } from './policy.js';

export interface ReconcileError {
  stage: 'listPositions' | 'getPosition' | 'closePosition' | 'command' | 'alert';
  positionId?: string;
  failure?: string;
  message: string;
}

/** What one run found and did. */
export interface ReconcileReport {
  runId: string;
  book: string;
  startedAt: string;
  completedAt: string;
  dryRun: boolean;
  /** Orphans with what became of them. */
  orphans: (OrphanFinding & { outcome: 'adopted' | 'closed' | 'gone on second look' | 'alerted' | 'deferred' | 'skipped' | 'planned' | 'failed' })[];
  phantoms: (PhantomFinding & { outcome: 'suspected' | 'cleared' | 'alerted' | 'reappeared' | 'deferred' | 'skipped' | 'planned' | 'failed' })[];
  drift: (DriftFinding & { outcome: 'corrected' | 'alerted' | 'deferred' | 'skipped' | 'planned' | 'failed' })[];
  dust: { positionId: string; value: number }[];
  /** How many book changes healing made (adoptions, closes, clears, corrections). */
  corrected: number;
  alerts: Alert[];
  errors: ReconcileError[];
  /** Steps not taken because the book changed under the plan (a race, not a failure). */
  skipped: { positionId?: string; reason: string }[];
  /** The plan's actions, for --dry-run. */
  actions: PlannedAction[];
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

type LookResult =
  | { open: Map<string, boolean> }
  | { failed: { stage: 'getPosition' | 'listPositions'; positionId?: string; error: unknown }; ids: string[] };

/**
 * The reads a plan needs before it acts: a direct look for each phantom to verify, and a second
 * look (direct, or one more list for all of them) for each orphan to close. Returns whether each
 * id is open outside, or the first read that failed and the ids it was about.
 */
async function lookAgain(external: GuardedExternal, actions: readonly PlannedAction[]): Promise<LookResult> {
  const direct = actions.flatMap((a) => (a.kind === 'verify' || (a.kind === 'close' && external.canVerify) ? [a.positionId] : []));
  const byList = actions.flatMap((a) => (a.kind === 'close' && !external.canVerify ? [a.positionId] : []));
  const open = new Map<string, boolean>();
  for (const id of direct) {
    try {
      open.set(id, (await external.getPosition(id)) !== null);
    } catch (error) {
      return { failed: { stage: 'getPosition', positionId: id, error }, ids: [id] };
    }
  }
  if (byList.length > 0) {
    let listed: Set<string>;
    try {
      listed = new Set((await external.listPositions()).map((p) => p.id));
    } catch (error) {
      return { failed: { stage: 'listPositions', ...(byList.length === 1 ? { positionId: byList[0]! } : {}), error }, ids: byList };
    }
    for (const id of byList) open.set(id, listed.has(id));
  }
  return { open };
}

function isGuarded(x: ExternalSystem | GuardedExternal): x is GuardedExternal {
  return 'stats' in x && 'canVerify' in x;
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
  const sink: AlertSink = { ...(options.onAlert ? { onAlert: options.onAlert } : {}), ...((options.webhookUrl ?? policy.webhookUrl) ? { webhookUrl: (options.webhookUrl ?? policy.webhookUrl)! } : {}) };
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
  };

  let positions;
  try {
    positions = await external.listPositions();
  } catch (error) {
    const e = error instanceof ExternalError ? error : new ExternalError(String(error), 'unreachable');
    report.errors.push({ stage: 'listPositions', failure: e.failure, message: e.message });
    report.completedAt = now().toISOString();
    return report; // nothing learned: nothing changes, nothing is appended
  }

  const state = await handler.load();
  if (!report.dryRun) {
    // Closing outside is not a command the decider could refuse: the gate is checked before any act.
    const pending = recoveryPending(state, 'reconcile');
    if (pending) throw pending;
  }
  const plan: ReconciliationPlan = planReconciliation(
    state,
    { positions, startedAt, canVerify: external.canVerify },
    { ...policy, minPositionValue: handler.policy.minPositionValue },
    now(),
    runId,
  );
  report.dust = plan.dust;
  report.actions = plan.actions;
  report.orphans = plan.orphans.map((o) => ({ ...o, outcome: o.verdict === 'deferred' ? 'deferred' : 'planned' }));
  report.phantoms = plan.phantoms.map((p) => ({ ...p, outcome: p.verdict === 'deferred' ? 'deferred' : 'planned' }));
  report.drift = plan.drift.map((d) => ({ ...d, outcome: d.verdict === 'deferred' ? 'deferred' : 'planned' }));
  for (const r of plan.reappeared) {
    report.phantoms.push({ positionId: r.positionId, value: state.positions.get(r.positionId)?.status === 'IN' ? (state.positions.get(r.positionId) as { value: number }).value : 0, looks: r.looks, verdict: 'suspected', policy: policy.phantoms, outcome: 'reappeared' });
  }
  if (report.dryRun) {
    report.alerts = plan.actions.flatMap((a) => (a.kind === 'alert' ? [a.alert] : []));
    report.completedAt = now().toISOString();
    return report;
  }

  const orphan = (id: string) => report.orphans.find((o) => o.positionId === id);
  const phantom = (id: string) => report.phantoms.find((p) => p.positionId === id && p.outcome !== 'reappeared');
  const drift = (id: string) => report.drift.find((d) => d.positionId === id);

  // Look first, then act: every read of the outside (the direct looks that confirm phantoms, the
  // second looks before a close) is done before the first change, so a read that fails changes nothing.
  const looked = await lookAgain(external, plan.actions);
  if ('failed' in looked) {
    const { stage, positionId, error } = looked.failed;
    const e = error instanceof ExternalError ? error : new ExternalError(String(error), 'unreachable');
    report.errors.push({ stage, ...(positionId === undefined ? {} : { positionId }), failure: e.failure, message: e.message });
    for (const id of looked.ids) {
      const o = orphan(id);
      if (o) o.outcome = 'failed';
      const p = phantom(id);
      if (p) p.outcome = 'failed';
    }
    report.completedAt = now().toISOString();
    return report; // nothing learned for sure: nothing changes, nothing is appended
  }
  const openOutside = looked.open;

  const runCommand = async (command: CommandInput): Promise<'ok' | 'skipped' | 'failed'> => {
    try {
      const result = await handler.handle(command, { source: 'reconcile', correlationId: runId });
      return result.events.length > 0 || result.duplicate ? 'ok' : 'skipped';
    } catch (error) {
      const id = (command as { positionId?: string }).positionId;
      if (error instanceof InvalidTransitionError || error instanceof RiskLimitError) {
        report.skipped.push({ ...(id === undefined ? {} : { positionId: id }), reason: error.message });
        return 'skipped';
      }
      report.errors.push({ stage: 'command', ...(id === undefined ? {} : { positionId: id }), message: error instanceof Error ? error.message : String(error) });
      if (!(error instanceof TrackerError)) throw error;
      return 'failed';
    }
  };
  const alert = async (a: Alert): Promise<void> => {
    report.alerts.push(a);
    const problem = await deliverAlert(sink, a, { runId, book });
    if (problem) report.errors.push({ stage: 'alert', ...(a.positionId === undefined ? {} : { positionId: a.positionId }), message: problem });
  };
  const externalFailure = (stage: ReconcileError['stage'], positionId: string, error: unknown): void => {
    const e = error instanceof ExternalError ? error : new ExternalError(String(error), 'unreachable');
    report.errors.push({ stage, positionId, failure: e.failure, message: e.message });
  };

  const execute = async (action: PlannedAction): Promise<void> => {
    switch (action.kind) {
      case 'command': {
        const c = action.command;
        const outcome = await runCommand(c);
        const id = (c as { positionId?: string }).positionId ?? '';
        if (c.type === 'AdoptOrphan') {
          const o = orphan(id);
          if (o) o.outcome = outcome === 'ok' ? 'adopted' : outcome;
          if (outcome === 'ok') report.corrected += 1;
        } else if (c.type === 'ClearPhantom') {
          const p = phantom(id);
          if (p) p.outcome = outcome === 'ok' ? 'cleared' : outcome;
          if (outcome === 'ok') report.corrected += 1;
        } else if (c.type === 'SuspectPhantom') {
          const p = phantom(id);
          if (p && p.outcome === 'planned') p.outcome = outcome === 'ok' ? 'suspected' : outcome;
        } else if (c.type === 'CorrectDrift') {
          const d = drift(id);
          if (d) d.outcome = outcome === 'ok' ? 'corrected' : outcome;
          if (outcome === 'ok') report.corrected += 1;
        } else if (c.type === 'CloseOrphan' && outcome === 'ok') {
          report.corrected += 1;
        }
        return;
      }
      case 'close': {
        const o = orphan(action.positionId);
        // The second look: close only what is still open outside, so nothing is closed twice.
        if (openOutside.get(action.positionId) !== true) {
          if (o) o.outcome = 'gone on second look';
          await runCommand({ type: 'CloseOrphan', positionId: action.positionId, value: action.value, reason: 'gone on a second look' });
          return;
        }
        try {
          await external.closePosition(action.positionId);
        } catch (error) {
          externalFailure('closePosition', action.positionId, error);
          if (o) o.outcome = 'failed';
          return;
        }
        const outcome = await runCommand({
          type: 'CloseOrphan',
          positionId: action.positionId,
          value: action.value,
          reason: 'closed by reconciliation (policy close)',
          ...(action.symbol === undefined ? {} : { symbol: action.symbol }),
        });
        if (o) o.outcome = 'closed';
        if (outcome === 'ok') report.corrected += 1;
        return;
      }
      case 'verify': {
        const p = phantom(action.positionId);
        if (openOutside.get(action.positionId) === true) {
          // The list missed it but it is there: not a phantom.
          if (p) p.outcome = 'reappeared';
          return;
        }
        if (p) p.verdict = 'confirmed';
        const position = state.positions.get(action.positionId);
        const value = position?.status === 'IN' ? position.value : 0;
        for (const step of confirmedPhantom({ id: action.positionId, value }, action.looks, action.policy, { runId })) await execute(step);
        return;
      }
      case 'alert': {
        await alert(action.alert);
        const id = action.alert.positionId;
        if (id !== undefined) {
          const o = action.alert.kind === 'orphan' ? orphan(id) : undefined;
          if (o) o.outcome = 'alerted';
          const p = action.alert.kind === 'phantom' ? phantom(id) : undefined;
          if (p) p.outcome = 'alerted';
          const d = action.alert.kind === 'drift' ? drift(id) : undefined;
          if (d) d.outcome = 'alerted';
        }
        return;
      }
      default: {
        const _exhaustive: never = action;
        return _exhaustive;
      }
    }
  };

  for (const action of plan.actions) await execute(action);

  report.completedAt = now().toISOString();
  await runCommand({
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
      drift: capped(report.drift.map((d) => ({ id: d.positionId, local: d.localValue, external: d.externalValue, outcome: d.outcome }))),
      dust: capped(report.dust.map((d) => ({ id: d.positionId, value: d.value }))),
      alerts: capped(report.alerts.map((a) => a.message)),
      errors: capped(report.errors.map((e) => `${e.stage}${e.positionId ? ` ${e.positionId}` : ''}: ${e.message}`)),
      skipped: capped(report.skipped.map((s) => s.reason)),
    },
  });
  return report;
}
