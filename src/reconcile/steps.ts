/*
 * A plan's actions as the executor runs them. Each step carries the finding it settles and the
 * outcome that finding gets, so the executor looks nothing up by id and decides nothing: it acts,
 * and says for each step whether that worked.
 */
import type { CommandInput } from '../commands/index.js';
import type { PlannedAction } from './plan.js';

export type OrphanOutcome = 'adopted' | 'closed' | 'gone on second look' | 'alerted' | 'deferred' | 'skipped' | 'planned' | 'failed';
export type PhantomOutcome = 'suspected' | 'cleared' | 'alerted' | 'reappeared' | 'deferred' | 'skipped' | 'planned' | 'failed';
export type DriftOutcome = 'corrected' | 'alerted' | 'deferred' | 'skipped' | 'planned' | 'failed';

/**
 * The finding a step settles (its list in the plan and its place there) and the outcome it gets
 * when the step succeeds. When the step is skipped or fails, the finding takes that result, unless
 * `always`: then the outcome stands whatever happens (an alert sent, an orphan gone on a second look).
 */
export type Settles = (
  | { list: 'orphans'; index: number; outcome: OrphanOutcome }
  | { list: 'phantoms'; index: number; outcome: PhantomOutcome }
  | { list: 'drift'; index: number; outcome: DriftOutcome }
) & { always?: true };

/** What the executor can do: run a command, close outside and then record it, or alert. */
export type ExecutableAction =
  | Extract<PlannedAction, { kind: 'command' | 'alert' }>
  /**
   * Close outside (all of it, or `quantity` on `side`); only when that worked, run `record` (the
   * book's side of the close), then `more` in order (a netting venue position closes several book positions).
   */
  | { kind: 'closeOutside'; positionId: string; record: CommandInput; more?: CommandInput[]; quantity?: number; side?: 'long' | 'short' };

/** One action with what it settles, and whether it heals the book (counted in `corrected`). */
export interface Step<A = ExecutableAction> {
  action: A;
  settles?: Settles;
  corrects?: true;
}

/** A step of the plan as made: `close` and `verify` still wait for a second look (see followUp). */
export type PlanStep = Step<PlannedAction>;

/** What a step did: `ok`, refused by the book (`skipped`), or `failed`; `healed` when it counts as a correction. */
export interface StepResult {
  result: 'ok' | 'skipped' | 'failed';
  healed: boolean;
}

/** What a step's finding becomes from what the step did: its outcome, or the step's own result. */
export function settledBy(settles: Settles, result: StepResult['result']): Settles {
  if (result === 'ok' || settles.always) return settles;
  switch (settles.list) {
    case 'orphans':
      return { list: 'orphans', index: settles.index, outcome: result };
    case 'phantoms':
      return { list: 'phantoms', index: settles.index, outcome: result };
    case 'drift':
      return { list: 'drift', index: settles.index, outcome: result };
    default: {
      const _exhaustive: never = settles;
      return _exhaustive;
    }
  }
}
