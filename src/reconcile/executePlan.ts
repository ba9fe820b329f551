/*
 * The executor: runs flat steps, one after the other, through the command handler, the adapter and
 * the alert sink, and says what each did. It plans nothing and looks nothing up: what a step is
 * about and what it settles come with the step (see steps.ts).
 */
import type { CommandHandler, HandleOptions, CommandInput } from '../commands/index.js';
import { ExternalError, InvalidTransitionError, RiskLimitError, TrackerError } from '../errors/index.js';
import { deliverAlert, type AlertSink } from './alerts.js';
import type { GuardedExternal } from './externalSystem.js';
import type { Alert } from './plan.js';
import type { Step, StepResult } from './steps.js';
import { definedFields } from '../_internals/definedFields.js';

export interface ReconcileError {
  stage:
    'listPositions' | 'getPosition' | 'closePosition' | 'command' | 'alert' | 'getOrder' | 'listFills' | 'listOpenOrders' | 'cancelOrder';
  positionId?: string;
  failure?: string;
  message: string;
}

/** A step the book refused because it moved since the look (a race, not a failure). */
export interface SkippedStep {
  positionId?: string;
  reason: string;
}

export interface ExecuteOptions {
  handler: CommandHandler;
  external: GuardedExternal;
  /** The metadata of every command (source, correlation id). */
  meta: HandleOptions;
  /** Where alerts go, with the run and the book they name. */
  alerts?: { sink: AlertSink; runId: string; book: string };
  /**
   * Errors from a command that end the execution (thrown after they are recorded). Default:
   * anything that is not a TrackerError. The book's refusals (invalid transition, risk limit) are
   * never fatal: they are `skipped`.
   */
  fatal?: (error: unknown) => boolean;
}

/** What an execution did: one result per step, in order, and what it alerted, failed at and skipped. */
export interface Execution {
  results: (StepResult & { problem?: string })[];
  alerts: Alert[];
  errors: ReconcileError[];
  skipped: SkippedStep[];
}

/** An outside failure as a typed error (the guard already types them; anything else is "unreachable"). */
export function asExternalError(error: unknown): ExternalError {
  return error instanceof ExternalError ? error : new ExternalError(String(error), 'unreachable');
}

const idOf = (command: CommandInput): string | undefined => (command as { positionId?: string }).positionId;
const withId = (id: string | undefined): { positionId?: string } => (id === undefined ? {} : { positionId: id });

/**
 * Runs the steps in order. A command the book refuses is `skipped`; one that fails is `failed` and
 * the run goes on, unless the error is `fatal`. A close outside that fails is `failed` and its
 * record is not run. An alert is always `ok` (a delivery that failed is an error in `errors`).
 *
 * @example
 * ```ts
 * const { results, errors } = await executePlan(followUp(planned, open, runId).steps, { handler, external, meta: { source: 'reconcile' } });
 * ```
 */
export async function executePlan(steps: readonly Step[], options: ExecuteOptions): Promise<Execution> {
  const { handler, external, meta } = options;
  const fatal = options.fatal ?? ((error: unknown) => !(error instanceof TrackerError));
  const execution: Execution = { results: [], alerts: [], errors: [], skipped: [] };

  const runCommand = async (command: CommandInput): Promise<{ result: StepResult['result']; problem?: string }> => {
    try {
      const r = await handler.handle(command, meta);
      return { result: r.events.length > 0 || r.duplicate ? 'ok' : 'skipped' };
    } catch (error) {
      const id = idOf(command);
      if (error instanceof InvalidTransitionError || error instanceof RiskLimitError) {
        execution.skipped.push({ ...withId(id), reason: error.message });
        return { result: 'skipped', problem: error.message };
      }
      const message = error instanceof Error ? error.message : String(error);
      execution.errors.push({ stage: 'command', ...withId(id), message });
      if (fatal(error)) throw error;
      return { result: 'failed', problem: message };
    }
  };

  for (const step of steps) {
    const { action } = step;
    switch (action.kind) {
      case 'command': {
        const r = await runCommand(action.command);
        execution.results.push({ ...r, healed: step.corrects === true && r.result === 'ok' });
        break;
      }
      case 'closeOutside': {
        try {
          await (action.quantity === undefined
            ? external.closePosition(action.positionId)
            : external.closePosition(action.positionId, { quantity: action.quantity, ...definedFields({ side: action.side }) }));
        } catch (error) {
          const e = asExternalError(error);
          execution.errors.push({ stage: 'closePosition', positionId: action.positionId, failure: e.failure, message: e.message });
          execution.results.push({ result: 'failed', healed: false, problem: e.message });
          break;
        }
        // Closed outside: that is the step's result, whatever the book says to the records.
        const recorded = [await runCommand(action.record)];
        for (const more of action.more ?? []) recorded.push(await runCommand(more));
        const problems = recorded.flatMap((r) => (r.problem === undefined ? [] : [r.problem]));
        execution.results.push({
          result: 'ok',
          healed: step.corrects === true && recorded.every((r) => r.result === 'ok'),
          ...definedFields({ problem: problems.length === 0 ? undefined : problems.join('; ') }),
        });
        break;
      }
      case 'alert': {
        execution.alerts.push(action.alert);
        const problem = options.alerts
          ? await deliverAlert(options.alerts.sink, action.alert, { runId: options.alerts.runId, book: options.alerts.book })
          : null;
        if (problem) execution.errors.push({ stage: 'alert', ...withId(action.alert.positionId), message: problem });
        execution.results.push({ result: 'ok', healed: false, ...(problem ? { problem } : {}) });
        break;
      }
      // Stryker disable next-line ConditionalExpression,BlockStatement: the exhaustive default, unreachable (the compiler proves the switch covers every type)
      default: {
        const _exhaustive: never = action;
        return _exhaustive;
      }
    }
  }
  return execution;
}
