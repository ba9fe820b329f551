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

const extentOf = (name: string, d: ReadModelDocument): ProjectedExtent => ({ name, checkpoint: d.checkpoint, eventCount: d.eventCount, lastEvent: d.lastEvent });

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
export function planStart(projections: readonly AnyProjection[], loads: readonly DocumentLoad[], options: StartPlanOptions = {}): StartPlan {
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
    return { action: 'load', projection, document: load.document, state: projection.fromJson(load.document.data) };
  } catch (error) {
    return { action: 'heal', projection, reason: `unreadable: ${error instanceof Error ? error.message : String(error)}` };
  }
}
