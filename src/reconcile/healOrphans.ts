/*
 * Heals only the orphans a caller names (the seed's `cleanup_orphans`): one fresh look, the real
 * planner with the orphan policy asked for, the plan cut down to those orphans' steps, then the
 * second looks and the executor, as a reconciliation run does. Nothing else the look finds is acted on.
 */
import { recoveryPending, type CommandHandler } from '../commands/index.js';
import { asExternalError, executePlan, type ReconcileError, type SkippedStep } from './executePlan.js';
import { guardExternal, type ExternalSystem, type GuardedExternal, type GuardOptions } from './externalSystem.js';
import { followUp } from './followUp.js';
import { planSteps } from './plan.js';
import { ReconcilePolicy, type ReconcilePolicyInput } from './policy.js';
import { listKeyedPositions, resolvePositionMode } from './positionMode.js';
import { lookAgain, withoutInFlight } from './reconcile.js';
import { settledBy, type OrphanOutcome, type PlanStep } from './steps.js';
import { parseOrThrow } from '../_internals/zodIssues.js';
import { definedFields } from '../_internals/definedFields.js';

export interface HealOrphansOptions {
  handler: CommandHandler;
  external: ExternalSystem | GuardedExternal;
  /** The orphans to heal, by the id the reconciler reports them under (`OrphanFinding.positionId`). */
  ids: readonly string[];
  /** `adopt` into the book (AdoptOrphan), or `close` outside (after a second look) and record it. */
  action: 'adopt' | 'close';
  /** The rest of the reconcile policy (grace, position mode); its `orphans` is replaced by `action`. */
  policy?: ReconcilePolicyInput;
  now?: () => Date;
  guard?: GuardOptions;
  runId?: string;
}

/** What became of each orphan asked for: the reconciler's outcome, or `not an orphan` when this look found it none. */
export interface HealOrphansReport {
  runId: string;
  results: { id: string; outcome: OrphanOutcome | 'not an orphan' }[];
  errors: ReconcileError[];
  skipped: SkippedStep[];
}

const isGuarded = (x: ExternalSystem | GuardedExternal): x is GuardedExternal => 'stats' in x && 'canVerify' in x;

/**
 * Keeps the steps of the chosen orphans: each orphan's unsettled lead-in commands (DetectOrphan,
 * the Archive before an adoption) and the step that settles it. Every other step is dropped.
 */
function stepsOf(steps: readonly PlanStep[], chosen: ReadonlySet<number>): PlanStep[] {
  const out: PlanStep[] = [];
  let leadIn: PlanStep[] = [];
  for (const step of steps) {
    if (step.settles === undefined) {
      const type = step.action.kind === 'command' ? step.action.command.type : undefined;
      leadIn = type === 'DetectOrphan' || type === 'Archive' ? [...leadIn, step] : [];
      continue;
    }
    if (step.settles.list === 'orphans' && chosen.has(step.settles.index)) out.push(...leadIn, step);
    leadIn = [];
  }
  return out;
}

/**
 * Adopts (`action: 'adopt'`) or closes outside (`action: 'close'`) exactly the orphans named,
 * through the reconciler's own planner, second look and executor, after a fresh look at the
 * outside system. An id this look does not find an orphan (gone, adopted since, below dust, or
 * changed within the grace window) is `not an orphan` and nothing is done for it. A read that fails
 * lands in `errors` and changes nothing; while a recovery is pending it throws RecoveryPendingError
 * before it acts.
 *
 * @example
 * ```ts
 * const found = (await reconcile({ handler, external, dryRun: true })).orphans.map((o) => o.positionId);
 * const { results } = await healOrphans({ handler, external, ids: found, action: 'adopt' });
 * ```
 */
export async function healOrphans(options: HealOrphansOptions): Promise<HealOrphansReport> {
  const { handler } = options;
  const policy = parseOrThrow(ReconcilePolicy, { ...options.policy, orphans: options.action }, 'healOrphans policy');
  const now = options.now ?? (() => new Date());
  const external = isGuarded(options.external) ? options.external : guardExternal(options.external, options.guard);
  const startedAt = now();
  const runId = options.runId ?? `heal-${startedAt.toISOString()}`;
  const report: HealOrphansReport = { runId, results: [], errors: [], skipped: [] };
  const notOrphans = (): HealOrphansReport['results'] => options.ids.map((id) => ({ id, outcome: 'not an orphan' as const }));

  const positionMode = resolvePositionMode(policy.positionMode, external.positionMode);
  let positions;
  try {
    positions = await listKeyedPositions(external, positionMode);
  } catch (error) {
    const e = asExternalError(error);
    report.errors.push({ stage: 'listPositions', failure: e.failure, message: e.message });
    report.results = options.ids.map((id) => ({ id, outcome: 'failed' }));
    return report;
  }
  const state = await handler.load();
  const pending = recoveryPending(state, 'reconcile');
  if (pending) throw pending;
  const judged = withoutInFlight(state, positions);
  const planned = planSteps(
    judged.state,
    { positions: judged.positions, startedAt, canVerify: external.canVerify, positionMode },
    { ...policy, minPositionValue: handler.policy.minPositionValue },
    now(),
    runId,
  );
  const indexOf = new Map<string, number>();
  planned.plan.orphans.forEach((o, i) => {
    if (o.verdict !== 'deferred') indexOf.set(o.positionId, i);
  });
  const chosen = new Set(options.ids.flatMap((id) => (indexOf.has(id) ? [indexOf.get(id) ?? -1] : [])));
  const steps = stepsOf(planned.steps, chosen);
  const outcomes = new Map<number, OrphanOutcome>();

  const looked = await lookAgain(
    external,
    steps.map((s) => s.action),
  );
  if ('failed' in looked) {
    const { stage, positionId, error } = looked.failed;
    const e = asExternalError(error);
    report.errors.push({ stage, ...definedFields({ positionId }), failure: e.failure, message: e.message });
    for (const i of chosen) outcomes.set(i, 'failed');
  } else {
    const next = followUp({ plan: planned.plan, steps }, looked.open, runId, looked.closedAt);
    const execution = await executePlan(next.steps, { handler, external, meta: { source: 'reconcile', correlationId: runId } });
    next.steps.forEach(({ settles }, i) => {
      if (settles?.list !== 'orphans') return;
      const s = settledBy(settles, execution.results[i]?.result ?? 'failed');
      if (s.list === 'orphans') outcomes.set(s.index, s.outcome);
    });
    report.errors.push(...execution.errors);
    report.skipped.push(...execution.skipped);
  }
  report.results = notOrphans().map(({ id }) => {
    const at = indexOf.get(id);
    const outcome = at === undefined ? undefined : outcomes.get(at);
    return { id, outcome: outcome ?? 'not an orphan' };
  });
  return report;
}
