import type { BookLimits } from '../commands/index.js';
import { BookFold } from './_internals/bookFold.js';
import type { ProjectedExtent } from './guard.js';
import type { AnyProjection } from './projection.js';
import type { DocumentLoad, ReadModelDocument } from './readModelStore.js';
import { present } from '../_internals/present.js';

/*
 * Opening the read models, as a pure plan: given what each file on disk holds, which to load
 * (and from what state), which to heal (rebuild from the log because the file is missing,
 * damaged, unreadable or of another version), which to rebuild because the caller asked, and
 * what the startup guard must check against the log. The runner does the I/O on both sides.
 */

/** What to do with one read model at startup. */
export type StartStep =
  /** The file is sound: go on from its checkpoint. */
  | { action: 'load'; projection: AnyProjection; document: ReadModelDocument; state: unknown }
  /** The file cannot be used: rebuild from the log, and say why (logged, and shown as `healing`). */
  | { action: 'heal'; projection: AnyProjection; reason: string }
  /** Asked for (`rebuild`): start from the beginning whatever the file holds. */
  | { action: 'rebuild'; projection: AnyProjection };

export interface StartPlan {
  /** One step per projection, in their order. */
  steps: StartStep[];
  /**
   * What the files say the log held, for the startup guard: every intact file, also one of
   * another version or one rebuilt on request (they still show how far the log went). Empty
   * with `acceptRegression`.
   */
  check: ProjectedExtent[];
}

export interface StartPlanOptions {
  /** Start every read model from the beginning (the files are still checked by the guard). */
  rebuild?: boolean;
  /** Do not check the files against the log. */
  acceptRegression?: boolean;
}

/** Why a file that did not load is rebuilt, in words for the log and the status. */
export function describeLoad(load: Exclude<DocumentLoad, { status: 'ok' }>): string {
  switch (load.status) {
    case 'missing':
      return 'missing';
    case 'unreadable':
      return `unreadable: ${load.reason}`;
    case 'checksum':
      return `damaged: ${load.reason}`;
    case 'version':
      return `of version ${load.found}, this build writes ${load.expected}`;
    default: {
      const _exhaustive: never = load;
      return _exhaustive;
    }
  }
}

const extentOf = (name: string, d: ReadModelDocument): ProjectedExtent => ({
  name,
  checkpoint: d.checkpoint,
  eventCount: d.eventCount,
  lastEvent: d.lastEvent,
});

/**
 * Plans the start of the read models from what their files hold (`loads`, one per projection
 * in the same order). Pure: it reads nothing and logs nothing; `fromJson` of a sound document
 * runs here, and a document it refuses is healed.
 *
 * @example
 * ```ts
 * const plan = planStart(projections, await Promise.all(projections.map((p) => models.load(p.name, p.version))));
 * plan.steps.filter((s) => s.action === 'heal').map((s) => s.reason); // ['missing']
 * ```
 */
export function planStart(
  projections: readonly AnyProjection[],
  loads: readonly DocumentLoad[],
  options: StartPlanOptions = {},
): StartPlan {
  if (loads.length !== projections.length) throw new Error(`planStart: ${projections.length} projections but ${loads.length} loads`);
  const steps: StartStep[] = [];
  const check: ProjectedExtent[] = [];
  projections.forEach((projection, i) => {
    const load = present(loads[i], `the load of ${projection.name}`);
    if (load.status === 'ok' || load.status === 'version') check.push(extentOf(projection.name, load.document));
    steps.push(stepOf(projection, load, options.rebuild === true));
  });
  return { steps, check: options.acceptRegression ? [] : check };
}

function stepOf(projection: AnyProjection, load: DocumentLoad, rebuild: boolean): StartStep {
  if (rebuild) return { action: 'rebuild', projection };
  if (load.status !== 'ok') return { action: 'heal', projection, reason: describeLoad(load) };
  try {
    // A reader of the book stage: its document holds no books (the stage's file does).
    const fromJson = projection.book?.fromJson ?? projection.fromJson;
    return { action: 'load', projection, document: load.document, state: fromJson(load.document.data) };
  } catch (error) {
    return { action: 'heal', projection, reason: `unreadable: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** What to do with the book stage's file at startup (see {@link planStageStart}). */
export type StageStart =
  /** The file is sound and not ahead of any read model reading it: go on from its checkpoint. */
  | { action: 'load'; document: ReadModelDocument; fold: BookFold }
  /** Fold the books again from the beginning, and say why. */
  | { action: 'heal'; reason: string }
  /** Asked for (`rebuild`). */
  | { action: 'rebuild' };

/**
 * Plans the start of a book stage from what its file holds and where the read models reading
 * it start (`readers`: their names and checkpoints, 0 for one healed or rebuilt). The runner
 * folds the books once per event and hands them to each reader, so the stage must not be
 * ahead of any reader: a reader at checkpoint C needs the books as they were at C when it
 * folds the event after C. A stage at or behind every reader folds on from its checkpoint
 * (readers skip what they hold); a stage ahead of one (that reader heals from 0, or its file is
 * older) is folded again from the beginning with it. Pure.
 *
 * @example
 * ```ts
 * planStageStart({ status: 'ok', document }, limits, [{ name: 'portfolio', checkpoint: 0 }]); // heal: ahead of portfolio
 * ```
 */
export function planStageStart(
  load: DocumentLoad,
  limits: BookLimits,
  readers: readonly { name: string; checkpoint: number }[],
  rebuild = false,
): StageStart {
  if (rebuild) return { action: 'rebuild' };
  if (load.status !== 'ok') return { action: 'heal', reason: describeLoad(load) };
  let fold: BookFold;
  try {
    fold = BookFold.fromJson(load.document.data, limits);
  } catch (error) {
    return { action: 'heal', reason: `unreadable: ${error instanceof Error ? error.message : String(error)}` };
  }
  const behind = readers.find((r) => r.checkpoint < load.document.checkpoint);
  if (behind !== undefined) {
    return {
      action: 'heal',
      reason: `ahead of ${behind.name} (at position ${load.document.checkpoint}, ${behind.name} at ${behind.checkpoint})`,
    };
  }
  return { action: 'load', document: load.document, fold };
}
