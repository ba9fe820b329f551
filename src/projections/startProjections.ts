import { createHash } from 'node:crypto';
import { ValidationError } from '../errors/index.js';
import { TimerMs } from '../events/index.js';
import { openStore, followReplacedFile } from '../store/index.js';
import { parseOrThrow } from '../_internals/zodIssues.js';
import { z } from 'zod';
import { createProjections } from './createProjections.js';
import { checkRegression, type ProjectedExtent } from './guard.js';
import { ReadModelStore, type DocumentLoad } from './readModelStore.js';
import {
  lazyLogger,
  Runner,
  type ProjectionLogger,
  type ProjectionsHandle,
  type Slot,
  type Stage,
  type StartProjectionsOptions,
} from './runner.js';
import { planStageStart, planStart, type StartStep } from './startPlan.js';
import { BookFold } from './_internals/bookFold.js';
import { projectionVersion } from './projection.js';
import { SeriesFile } from './seriesFile.js';

/*
 * Opening the read models: clear what killed writers left, read the files, carry out the
 * start plan (startPlan.ts), run the startup guard, then hand the slots to the Runner.
 */

/** How often the read models may be written (a longer period would overflow the timer). */
const PersistEvery = z.object({ persistEveryMs: TimerMs.default(1000) });

/** A step of the start plan, carried out: the slot the runner folds into. */
async function slotOf(step: StartStep, models: ReadModelStore, logger: ProjectionLogger): Promise<Slot> {
  const { projection } = step;
  const hook = projection.series;
  switch (step.action) {
    case 'load': {
      const d = step.document;
      let series: SeriesFile | null = null;
      if (hook !== undefined) {
        const resumed = SeriesFile.resume(models.dir, hook.file, hook.extent(step.state));
        if (typeof resumed === 'string') {
          // The document is sound but its series file is not what it counts: both are folded again.
          logger.warn(
            { readModel: projection.name, file: models.pathOf(projection.name), reason: resumed },
            `${projection.name}.json is sound but ${resumed}: rebuilding both from the log`,
          );
          return slotOf({ action: 'heal', projection, reason: resumed }, models, logger);
        }
        series = resumed;
      }
      const extent: ProjectedExtent = { name: projection.name, checkpoint: d.checkpoint, eventCount: d.eventCount, lastEvent: d.lastEvent };
      return {
        projection,
        state: step.state,
        stage: null,
        series,
        ...extent,
        persisted: extent,
        stamp: await models.stamp(projection.name),
        dirty: false,
        healing: null,
        healed: null,
      };
    }
    case 'heal':
    case 'rebuild':
      return {
        projection,
        state: projection.initialState(),
        stage: null,
        series: hook === undefined ? null : SeriesFile.fresh(models.dir, hook.file),
        checkpoint: 0,
        eventCount: 0,
        lastEvent: null,
        persisted: null,
        stamp: null,
        dirty: true,
        healing: step.action === 'heal' ? step.reason : null,
        healed: null,
      };
    default: {
      const _exhaustive: never = step;
      return _exhaustive;
    }
  }
}

/** The file of the book stage (`books.json`), beside the read models. */
export const BOOK_STAGE_NAME = 'books';

/** Shape of books.json's data (the books in the book snapshot's JSON form); bump when it changes. */
const STAGE_SHAPE = 1;

/**
 * The book stages the read models read (`Projection.book`), one per key, opened from their files
 * (see planStageStart) and handed to their readers. The intact files go to the startup guard.
 */
async function openStages(
  slots: readonly Slot[],
  models: ReadModelStore,
  rebuild: boolean,
  logger: ProjectionLogger,
): Promise<{ stages: Stage[]; check: ProjectedExtent[] }> {
  const byKey = new Map<string, { limits: NonNullable<Slot['projection']['book']>['limits']; readers: Slot[] }>();
  for (const slot of slots) {
    const book = slot.projection.book;
    if (book === undefined) continue;
    const group = byKey.get(book.key);
    if (group === undefined) byKey.set(book.key, { limits: book.limits, readers: [slot] });
    else group.readers.push(slot);
  }
  const stages: Stage[] = [];
  const check: ProjectedExtent[] = [];
  for (const [key, { limits, readers }] of byKey) {
    // One stage (the six read models): books.json; several (custom projections under other limits): one file each.
    const name = byKey.size === 1 ? BOOK_STAGE_NAME : `${BOOK_STAGE_NAME}-${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;
    if (slots.some((s) => s.projection.name === name))
      throw new ValidationError(`startProjections: a projection is named "${name}", the name of the book stage's file`);
    const version = projectionVersion(STAGE_SHAPE, limits);
    const load = await (rebuild ? models.loadHeader(name, version) : models.load(name, version));
    if (load.status === 'ok' || load.status === 'version') {
      const d = load.document;
      check.push({ name, checkpoint: d.checkpoint, eventCount: d.eventCount, lastEvent: d.lastEvent });
    }
    const start = planStageStart(
      load,
      limits,
      readers.map((r) => ({ name: r.projection.name, checkpoint: r.checkpoint })),
      rebuild,
    );
    let stage: Stage;
    if (start.action === 'load') {
      const d = start.document;
      const extent: ProjectedExtent = { name, checkpoint: d.checkpoint, eventCount: d.eventCount, lastEvent: d.lastEvent };
      stage = {
        ...extent,
        version,
        fold: start.fold,
        persisted: extent,
        stamp: await models.stamp(name),
        dirty: false,
        healing: null,
        healed: null,
      };
    } else {
      const healing = start.action === 'heal' ? start.reason : null;
      if (healing !== null)
        logger.info(
          { readModel: name, file: models.pathOf(name), reason: healing },
          `${name}.json is ${healing}: folding the books again from the log`,
        );
      stage = {
        name,
        version,
        fold: new BookFold(limits),
        checkpoint: 0,
        eventCount: 0,
        lastEvent: null,
        persisted: null,
        stamp: null,
        dirty: true,
        healing,
        healed: null,
      };
    }
    for (const r of readers) r.stage = stage;
    stages.push(stage);
  }
  return { stages, check };
}

/**
 * Read models that fold the same thing and stand at the same checkpoint get one fold between
 * them (see Projection.sharedFold): it is folded once per event instead of once per model.
 * One healed from 0 keeps its own until the next start.
 */
function shareFolds(slots: readonly Slot[]): void {
  const folds = new Map<string, unknown>();
  for (const slot of slots) {
    const share = slot.projection.sharedFold;
    if (share === undefined) continue;
    const key = `${share.key}@${slot.checkpoint}`;
    const fold = folds.get(key);
    if (fold === undefined) folds.set(key, share.get(slot.state));
    else share.set(slot.state, fold);
  }
}

/**
 * Starts the projection workers: loads each read model from `stateDir` (a missing, damaged
 * or outdated one is rebuilt from the log, and the heal is logged), checks the files against
 * the log (the corruption guard: a log that holds less than they were built from stops
 * everything, alerts, and leaves the files untouched), then folds the log from the lowest
 * checkpoint, catch-up then live. Writes are throttled (`persistEveryMs` / `persistEveryEvents`),
 * always preceded by the guard, and flushed when caught up and on `stop()`.
 *
 * Rejects with a {@link LogRegressionError} (exit code 4) when the files are ahead of the log.
 *
 * @example
 * ```ts
 * const handle = await startProjections({ store: 'sqlite:./state/trades.db', stateDir: './state' });
 * await handle.whenCaughtUp();
 * handle.status$.subscribe((s) => console.log(s.state, s.projections.map((p) => p.checkpoint)));
 * process.on('SIGTERM', () => void handle.stop());
 * ```
 */
export async function startProjections(options: StartProjectionsOptions): Promise<ProjectionsHandle> {
  parseOrThrow(PersistEvery, { persistEveryMs: options.persistEveryMs }, 'startProjections');
  const projections = options.projections ?? createProjections(options.options);
  if (projections.length === 0) throw new ValidationError('startProjections: no projections to run');
  const names = new Set<string>();
  for (const p of projections) {
    if (names.has(p.name)) throw new ValidationError(`startProjections: two projections are named "${p.name}"`);
    names.add(p.name);
  }
  const models = new ReadModelStore(options.stateDir);
  const logger = options.logger ?? lazyLogger();
  // Writers killed mid-write leave their temporary documents (as large as the read models): clear them.
  const stale = await models.removeStaleTemporaries();
  if (stale.length > 0)
    logger.info(
      { stateDir: options.stateDir, removed: stale },
      `removed ${stale.length} temporary read-model file(s) left by writers that were killed`,
    );
  const spec = options.store;
  const owned = typeof spec === 'string';
  const opened = typeof spec === 'string' ? await openStore(spec, options.storeOptions) : spec;
  const slots: Slot[] = [];
  try {
    const store = await followReplacedFile(opened, typeof spec === 'string' ? () => openStore(spec, options.storeOptions) : undefined);
    // A rebuild reads only what the guard needs of the documents it replaces (their headers, checked).
    const rebuild = options.rebuild === true;
    const loads: DocumentLoad[] = [];
    for (const projection of projections)
      loads.push(
        await (rebuild ? models.loadHeader(projection.name, projection.version) : models.load(projection.name, projection.version)),
      );
    const plan = planStart(projections, loads, { rebuild: options.rebuild === true, acceptRegression: options.acceptRegression === true });
    for (const step of plan.steps) {
      if (step.action === 'heal') {
        const { name } = step.projection;
        logger.warn(
          { readModel: name, file: models.pathOf(name), reason: step.reason },
          `${name}.json is ${step.reason}: rebuilding it from the log`,
        );
      }
      slots.push(await slotOf(step, models, logger));
    }
    const staged = await openStages(slots, models, options.rebuild === true, logger);
    const problem = await checkRegression(store, options.acceptRegression === true ? plan.check : [...plan.check, ...staged.check]);
    if (problem) {
      logger.fatal({ err: problem, stateDir: options.stateDir, store: store.location }, `projections not started: ${problem.message}`);
      try {
        options.onAlert?.({ error: problem, stateDir: options.stateDir, store: store.location });
      } catch (alertError) {
        logger.error({ err: alertError }, 'the onAlert callback threw');
      }
      throw problem;
    }
    shareFolds(slots);
    const runner = new Runner(store, owned, slots, { ...options, logger }, staged.stages);
    await runner.start();
    return runner;
  } catch (error) {
    for (const slot of slots) slot.series?.close();
    if (owned) await opened.close().catch(() => undefined);
    throw error;
  }
}
