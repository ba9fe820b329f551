/*
 * The second look's part of a plan, pure: what the planned steps become once the reads taken
 * before acting (a direct look for each phantom to verify, a second look for each orphan to close)
 * have answered. No I/O: the reads come in as a map from id to "open outside".
 */
import type { PlannedAction } from './plan.js';
import { confirmedPhantomSteps, type PlannedSteps } from './plan.js';
import type { Step } from './steps.js';
import { definedFields } from '../_internals/definedFields.js';

/** What the executor is to do after the second looks, and what those looks decided about the phantoms. */
export interface FollowUp {
  /** Flat: nothing left that waits for a read. */
  steps: Step[];
  /** Phantoms (their place in `plan.phantoms`) a direct look confirmed gone. */
  confirmed: number[];
  /** Phantoms a direct look found open after all: not phantoms. */
  reappeared: number[];
}

/** The ids a plan reads again before it acts: directly (`getPosition`) or with one more list. */
export function secondLooks(actions: readonly PlannedAction[], canVerify: boolean): { direct: string[]; byList: string[] } {
  const direct: string[] = [];
  const byList: string[] = [];
  for (const a of actions) {
    if (a.kind === 'verify' || (a.kind === 'close' && canVerify)) direct.push(a.positionId);
    else if (a.kind === 'close') byList.push(a.positionId);
  }
  return { direct, byList };
}

/**
 * Resolves every `verify` and `close` of a plan with the second read. A phantom found open is
 * `reappeared` (nothing to do); one confirmed gone gets the steps of a confirmed phantom (record
 * the looks, then clear or alert). An orphan still open is closed outside and then recorded; one
 * gone on the second look is only recorded, and nothing is closed. Every other step passes through.
 * An id missing from `open` counts as not open. `closedAt` holds the venue's close times the direct
 * looks gave; they travel into the confirmed phantom's SuspectPhantom and ClearPhantom.
 *
 * @example
 * ```ts
 * const { steps } = followUp(planSteps(book, snapshot, policy, now, runId), new Map([['BOT-1', false]]), runId);
 * ```
 */
export function followUp(
  planned: PlannedSteps,
  open: ReadonlyMap<string, boolean>,
  runId?: string,
  closedAt: ReadonlyMap<string, string> = new Map(),
): FollowUp {
  const out: FollowUp = { steps: [], confirmed: [], reappeared: [] };
  const tag = runId === undefined ? {} : { runId };
  for (const step of planned.steps) {
    const { action, settles } = step;
    switch (action.kind) {
      case 'command':
      case 'alert':
        out.steps.push({ ...step, action });
        break;
      case 'verify': {
        const at = settles?.list === 'phantoms' ? settles.index : undefined;
        if (open.get(action.positionId) === true) {
          // The list missed it but it is there: not a phantom.
          if (at !== undefined) out.reappeared.push(at);
          break;
        }
        if (at !== undefined) out.confirmed.push(at);
        const value = at === undefined ? 0 : (planned.plan.phantoms[at]?.value ?? 0);
        // The venue's close time, when the direct look gave one, dates the phantom in the audit.
        const closed = closedAt.get(action.positionId);
        const venue = closed === undefined ? tag : { ...tag, closedAt: closed };
        out.steps.push(...confirmedPhantomSteps({ id: action.positionId, value }, action.looks, action.policy, venue, at));
        break;
      }
      case 'close': {
        const at = settles?.list === 'orphans' ? settles.index : undefined;
        // The book knows a netting surplus by the id it would be adopted as; the venue by its own.
        const orphanId = action.orphanId ?? action.positionId;
        if (open.get(action.positionId) !== true) {
          // Gone since the first look: record it, close nothing (nothing is closed twice).
          out.steps.push({
            action: {
              kind: 'command',
              command: { type: 'CloseOrphan', positionId: orphanId, value: action.value, reason: 'gone on a second look' },
              about: `${action.positionId} is gone outside on a second look`,
            },
            ...(at === undefined ? {} : { settles: { list: 'orphans', index: at, outcome: 'gone on second look', always: true } as const }),
          });
          break;
        }
        out.steps.push({
          action: {
            kind: 'closeOutside',
            positionId: action.positionId,
            ...definedFields({ quantity: action.quantity, side: action.side }),
            record: {
              type: 'CloseOrphan',
              positionId: orphanId,
              value: action.value,
              reason: 'closed by reconciliation (policy close)',
              ...definedFields({ symbol: action.symbol }),
            },
          },
          ...(at === undefined ? {} : { settles: { list: 'orphans', index: at, outcome: 'closed' } as const }),
          corrects: true,
        });
        break;
      }
      default: {
        const _exhaustive: never = action;
        return _exhaustive;
      }
    }
  }
  return out;
}
