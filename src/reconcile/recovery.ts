import { recoveryPending, type CommandHandler } from '../commands/index.js';
import { ExternalError } from '../errors/index.js';
import { executePlan } from './executePlan.js';
import { guardExternal, type ExternalSystem, type GuardedExternal, type GuardOptions } from './externalSystem.js';
import { planCloseAll } from './planCloseAll.js';
import { ReconcilePolicy, type ReconcilePolicyInput } from './policy.js';
import { listKeyedPositions, resolvePositionMode } from './positionMode.js';
import { parseOrThrow } from '../_internals/zodIssues.js';
import { reconcile, type ReconcileReport } from './reconcile.js';
import { present } from '../_internals/present.js';

/**
 * How a tracker starts after a stop or a crash:
 * - `sync`: reconcile with the outside system before accepting commands;
 * - `restore`: trust the log as it is;
 * - `close_all`: close everything open outside and in the book (a flat start);
 * - `manual`: append RecoveryRequired, so the book refuses what moves positions or risk until an
 *   operator acknowledges (`ptrack recover --ack`, `tracker.acknowledgeRecovery()`).
 * A heartbeat older than `maxStateAgeSeconds` turns `restore` into `sync` (the log is too old to trust).
 */
export type RecoveryMode = 'sync' | 'restore' | 'close_all' | 'manual';

export interface RecoveryOptions {
  handler: CommandHandler;
  external: ExternalSystem | GuardedExternal;
  mode: RecoveryMode;
  /** Force `sync` when the last heartbeat is older than this (seconds). Default 3600. */
  maxStateAgeSeconds?: number;
  policy?: ReconcilePolicyInput;
  now?: () => Date;
  guard?: GuardOptions;
  /** Recorded in the heartbeat. */
  processName?: string;
}

export interface RecoveryOutcome {
  requested: RecoveryMode;
  /** What ran: `sync` when the state was too old. */
  mode: RecoveryMode;
  stateAgeSeconds: number | null;
  report?: ReconcileReport;
  /** Positions closed by close_all. */
  closed: string[];
  /**
   * The recovery gate: locked while the log holds a RecoveryRequired with no later
   * RecoveryAcknowledged (for `manual`, until an operator acknowledges). `check()` reads the
   * log now and returns true once the gate is open.
   */
  gate: { locked: boolean; check(): Promise<boolean> };
  errors: string[];
}

/**
 * Runs startup recovery and writes a heartbeat (not when the outside failed: a failed sync or
 * close_all appends nothing of its own). With `manual`, it appends RecoveryRequired: the
 * decider then refuses every command that moves positions or loosens risk (RecoveryPendingError)
 * until a RecoveryAcknowledged is in the log, in this process and every other. A start in another
 * mode while such a gate is still open changes nothing and throws RecoveryPendingError.
 *
 * @example
 * ```ts
 * const outcome = await recoverOnStartup({ handler: tracker.handler, external, mode: 'sync' });
 * ```
 */
export async function recoverOnStartup(options: RecoveryOptions): Promise<RecoveryOutcome> {
  const { handler } = options;
  const now = options.now ?? (() => new Date());
  const startedAt = now();
  const external = 'stats' in options.external ? options.external : guardExternal(options.external, options.guard);
  const state = await handler.load();
  if (options.mode !== 'manual') {
    const pending = recoveryPending(state, `run startup recovery (${options.mode})`);
    if (pending) throw pending;
  }
  const maxAge = options.maxStateAgeSeconds ?? 3600;
  const stateAgeSeconds = state.lastHeartbeatAt === undefined ? null : (startedAt.getTime() - Date.parse(state.lastHeartbeatAt)) / 1000;
  const stale = state.revision >= 0 && (stateAgeSeconds === null || stateAgeSeconds > maxAge);
  const mode: RecoveryMode = options.mode === 'restore' && stale ? 'sync' : options.mode;
  const outcome: RecoveryOutcome = {
    requested: options.mode,
    mode,
    stateAgeSeconds,
    closed: [],
    gate: { locked: false, check: async () => true },
    errors: [],
  };
  const common = { handler, external, now, ...(options.policy ? { policy: options.policy } : {}) };

  if (mode === 'sync') {
    outcome.report = await reconcile(common);
    outcome.errors.push(...outcome.report.errors.map((e) => e.message));
  } else if (mode === 'close_all') {
    // Matched as reconciliation matches: by venue key on a netting or hedge account.
    const positionMode = resolvePositionMode(
      parseOrThrow(ReconcilePolicy, options.policy ?? {}, 'reconcile policy').positionMode,
      external.positionMode,
    );
    let positions;
    try {
      positions = await listKeyedPositions(external, positionMode);
    } catch (error) {
      outcome.errors.push(error instanceof ExternalError ? error.message : String(error));
      positions = null;
    }
    if (positions) {
      const steps = planCloseAll(await handler.load(), positions, positionMode);
      // A refusal by the book is not fatal: the flattening goes on; any other failure ends the start.
      const execution = await executePlan(steps, { handler, external, meta: { source: 'recovery' }, fatal: () => true });
      steps.forEach(({ action }, i) => {
        const r = present(execution.results[i], 'the result of a step');
        if (action.kind !== 'closeOutside') return; // a clear refused because it is no longer IN: already flat
        if (r.result === 'ok') outcome.closed.push(action.positionId);
        if (r.problem !== undefined) outcome.errors.push(r.problem);
      });
    }
  } else if (mode === 'manual') {
    const processName = options.processName ?? 'tracker';
    await handler.handle(
      {
        type: 'RequireRecovery',
        mode: 'manual',
        reason: `manual startup recovery of ${processName} at ${startedAt.toISOString()}`,
        process: processName,
      },
      { source: 'recovery' },
    );
    const check = async (): Promise<boolean> => {
      const open = (await handler.load()).recovery.status === 'CLEAR';
      outcome.gate.locked = !open;
      return open;
    };
    outcome.gate = { locked: true, check };
  }
  // The heartbeat says the book was current then (a later `restore` trusts it for maxStateAgeSeconds):
  // a recovery that could not read or act on the outside does not write it, so a failed sync or
  // close_all leaves the log as it was and the next start still sees the state as old as it is.
  const outsideFailed =
    mode === 'sync'
      ? (outcome.report?.errors ?? []).some((e) => e.failure !== undefined)
      : mode === 'close_all' && outcome.errors.length > 0;
  if (!outsideFailed) {
    await handler.handle({ type: 'RecordHeartbeat', process: options.processName ?? 'tracker' }, { source: 'recovery' });
  }
  return outcome;
}
