import type { CommandHandler } from '../commands/handler.js';
import { ExternalError, InvalidTransitionError, RiskLimitError } from '../errors/index.js';
import { guardExternal, type ExternalSystem, type GuardedExternal, type GuardOptions } from './externalSystem.js';
import type { ReconcilePolicyInput } from './policy.js';
import { reconcile, type ReconcileReport } from './reconcile.js';

/**
 * How a tracker starts after a stop or a crash:
 * - `sync`: reconcile with the outside system before accepting commands;
 * - `restore`: trust the log as it is;
 * - `close_all`: close everything open outside and in the book (a flat start);
 * - `manual`: refuse commands until an operator acknowledges (`ptrack recover --ack`).
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
  /** For `manual`: resolves once an operator acknowledged; `check()` looks at the log now. */
  gate: { locked: boolean; check(): Promise<boolean> };
  errors: string[];
}

/**
 * Runs startup recovery and writes a heartbeat. With `manual`, the returned gate stays locked
 * until an operator's acknowledgement (a Heartbeat from `operator` after this start) is in the log.
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
    let positions;
    try {
      positions = await external.listPositions();
    } catch (error) {
      outcome.errors.push(error instanceof ExternalError ? error.message : String(error));
      positions = null;
    }
    if (positions) {
      const book = await handler.load();
      for (const ext of positions) {
        try {
          await external.closePosition(ext.id);
          outcome.closed.push(ext.id);
        } catch (error) {
          outcome.errors.push(error instanceof Error ? error.message : String(error));
          continue;
        }
        const local = book.positions.get(ext.id);
        const command =
          local?.status === 'IN'
            ? ({ type: 'Exit', positionId: ext.id, value: ext.value, reason: 'recovery: close_all' } as const)
            : ({ type: 'CloseOrphan', positionId: ext.id, value: ext.value, reason: 'recovery: close_all' } as const);
        try {
          await handler.handle(command, { source: 'recovery' });
        } catch (error) {
          if (!(error instanceof InvalidTransitionError || error instanceof RiskLimitError)) throw error;
          outcome.errors.push(error.message);
        }
      }
      // IN here but not open outside: nothing to close there; clear them from the book.
      const after = await handler.load();
      const open = new Set(positions.map((p) => p.id));
      for (const p of [...after.positions.values()]) {
        if (p.status !== 'IN' || open.has(p.id)) continue;
        await handler.handle({ type: 'ClearPhantom', positionId: p.id, looks: 0, reason: 'recovery: close_all, not open outside' }, { source: 'recovery' });
      }
    }
  } else if (mode === 'manual') {
    const check = async (): Promise<boolean> => {
      const s = await handler.load();
      const acked = s.lastOperatorAckAt !== undefined && Date.parse(s.lastOperatorAckAt) >= startedAt.getTime();
      outcome.gate.locked = !acked;
      return acked;
    };
    outcome.gate = { locked: true, check };
  }
  await handler.handle({ type: 'RecordHeartbeat', process: options.processName ?? 'tracker' }, { source: 'recovery' });
  return outcome;
}
