import { BehaviorSubject, type Observable, type Subscription } from 'rxjs';
import { CorruptionError, TrackerError, UnexpectedStoreError } from '../errors/index.js';
import type { RecordedEvent } from '../events/index.js';
import { lazyLogger as lazyPino } from '../log.js';
import type { EventStore, LogHead, OpenStoreOptions, FollowedStore } from '../store/index.js';
import { describeLoad } from './startPlan.js';
import { checkRegression, LogRegressionError, type ProjectedExtent } from './guard.js';
import type { ProjectionOptionsInput } from './options.js';
import type { AnyProjection } from './projection.js';
import { writeGuarded, type Written } from './writeReadModels.js';
import { isOver, isRunning, nextLifecycle, type LifecycleEvent, type RunnerLifecycle, type RunnerState } from './lifecycle.js';
import { ReadModelStore, type EventRef, type FileStamp } from './readModelStore.js';
import { setRepeating } from '../_internals/timers.js';
import type { BookFold, FoldStep } from './_internals/bookFold.js';
import type { SeriesFile } from './seriesFile.js';

/** Where the runner logs; a pino logger fits. */
export interface ProjectionLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  fatal(obj: object, msg?: string): void;
}

/** Raised through `onAlert` when the guard (or a damaged log) stops the runner. */
export interface ProjectionAlert {
  error: TrackerError;
  stateDir: string;
  store: string;
}

export interface StartProjectionsOptions {
  /**
   * The log: an open store (left open by `stop()`), or a store string, which the runner opens,
   * closes, and reopens when the SQLite file it names is replaced (a backup restored).
   */
  store: EventStore | string;
  /** Directory of the read-model files. */
  stateDir: string;
  /** Default: the six read models under `options`. */
  projections?: readonly AnyProjection[];
  options?: ProjectionOptionsInput;
  /** Write dirty read models at most this often (ms), and look at the log and the files this often. Default 1000. */
  persistEveryMs?: number;
  /** ...or once this many events arrived since the last write. Default 10,000. */
  persistEveryEvents?: number;
  /** Start every read model from the beginning, ignoring the files (which are still checked by the guard). */
  rebuild?: boolean;
  /** Do not compare the files with the log at startup (with `rebuild`: build from the log as it is now). */
  acceptRegression?: boolean;
  logger?: ProjectionLogger;
  onAlert?: (alert: ProjectionAlert) => void;
  /** For a store string. */
  storeOptions?: OpenStoreOptions;
}

export interface ProjectionStatus {
  name: string;
  version: string;
  checkpoint: number;
  eventCount: number;
  /** The checkpoint of the file on disk; null until one was written or read. */
  persistedCheckpoint: number | null;
  /** Why this read model is being rebuilt (missing, damaged, another version), or null. */
  healing: string | null;
  /** What the last completed heal in this run repaired, or null. */
  healed: string | null;
}

export interface ProjectionsStatus {
  state: RunnerState;
  /** The log's head as last seen. */
  head: LogHead;
  projections: ProjectionStatus[];
  /** What stopped the runner, when it failed. */
  error?: TrackerError;
}

/** A running set of projections. */
export interface ProjectionsHandle {
  /** Emits on every change of state and after every write. */
  readonly status$: Observable<ProjectionsStatus>;
  /** The status now (checkpoints included, which move with every event). */
  status(): ProjectionsStatus;
  /** Resolves once every event the log held at the call is folded in and written; rejects if the runner fails. */
  whenCaughtUp(): Promise<void>;
  /** Stops following, writes what is dirty (after the guard), and closes an owned store. */
  stop(): Promise<void>;
  /** Settles when the runner ends: resolves after `stop()`, rejects with what stopped it. */
  readonly done: Promise<void>;
}

/** How far a read model or the book stage is, and what its file holds. */
interface Extent {
  checkpoint: number;
  eventCount: number;
  lastEvent: EventRef | null;
  /** What the file on disk holds (trusted: it passed its checksum), or null. */
  persisted: ProjectedExtent | null;
  stamp: FileStamp | null;
  dirty: boolean;
  healing: string | null;
  healed: string | null;
}

/** One read model as the runner holds it: its state, how far it is, and what its file holds. */
export interface Slot extends Extent {
  projection: AnyProjection;
  state: unknown;
  /** The book stage it reads (when `projection.book` is set), or null. */
  stage: Stage | null;
  /** Its append-only file (when `projection.series` is set), or null. */
  series: SeriesFile | null;
}

/** Lines folded into a series are appended once this many wait (a rebuild never holds the whole series). */
const SERIES_BATCH = 256;

/** Appends what the slot's series folded to its file. */
function drainSeries(slot: Slot): void {
  const hook = slot.projection.series;
  if (hook !== undefined && slot.series !== null) slot.series.append(hook.take(slot.state));
}

/**
 * The book stage as the runner holds it: the books, folded once per event for every read model
 * that reads them (`Projection.book`), and persisted once, in their own file (`name`.json),
 * through the same prepare → guard → commit path. It is never ahead of a reader (see
 * planStageStart), so a reader folding the event after its checkpoint sees the books as of
 * its checkpoint.
 */
export interface Stage extends Extent {
  /** File name without `.json`. */
  name: string;
  version: string;
  fold: BookFold;
}

type Item = Slot | Stage;
const isSlot = (item: Item): item is Slot => 'projection' in item;
const nameOf = (item: Item): string => (isSlot(item) ? item.projection.name : item.name);
const versionOf = (item: Item): string => (isSlot(item) ? item.projection.version : item.version);

/** Can the item be written now? A reader of the stage only where the stage stands (its books are the stage's). */
const writable = (item: Item): boolean => !isSlot(item) || item.stage === null || item.stage.checkpoint === item.checkpoint;

function refOf(e: RecordedEvent): EventRef {
  return {
    position: e.position,
    stream: e.stream,
    revision: e.revision,
    type: e.type,
    recordedAt: e.metadata.recordedAt,
  };
}

/** What an item's file holds as `data`: a reader of the stage without the books, the stage the books. */
function dataOf(item: Item): unknown {
  if (!isSlot(item)) return item.fold.toJson();
  const { stage } = item;
  const book = item.projection.book;
  return stage !== null && book !== undefined ? book.toJson(item.state, stage.fold.books) : item.projection.toJson(item.state);
}

/** The runner's logger when none is given: pino, created on first use. */
export const lazyLogger = (): ProjectionLogger => lazyPino({ level: process.env.LOG_LEVEL ?? 'warn', name: 'projections' });

/**
 * Folding and following the log once the read models are open (see startProjections.ts):
 * applies events, writes through the guard (writeReadModels.ts), follows a replaced SQLite
 * file (FollowedStore), rewrites a file changed under it, and moves through its lifecycle
 * (lifecycle.ts).
 */
export class Runner implements ProjectionsHandle {
  readonly status$: Observable<ProjectionsStatus>;
  readonly done: Promise<void>;
  private readonly subject: BehaviorSubject<ProjectionsStatus>;
  private readonly models: ReadModelStore;
  private readonly logger: ProjectionLogger;
  private readonly everyMs: number;
  private readonly everyEvents: number;
  private lifecycle: RunnerLifecycle = { state: 'catching-up' };
  private head: LogHead = { position: 0, count: 0 };
  private subscription: Subscription | null = null;
  private timer: NodeJS.Timeout | null = null;
  private pending = 0;
  private flushQueued = false;
  private flushing: Promise<void> | null = null;
  private ticking = false;
  private tickRun: Promise<void> | null = null;
  private waiters: { target: number; resolve: () => void; reject: (e: unknown) => void }[] = [];
  /**
   * What each book stage's fold gave for the event being applied, by the stage's index: one
   * array reused from event to event (a Map cleared per event allocated a table each time).
   */
  private readonly steps: (FoldStep | null)[] = [];
  private settle!: { resolve: () => void; reject: (e: unknown) => void };

  constructor(
    private readonly store: FollowedStore,
    /** The runner opened the store: it closes it (and may reopen it when its file is replaced). */
    private readonly owned: boolean,
    private readonly slots: Slot[],
    private readonly opts: StartProjectionsOptions,
    /** The book stages the slots read. */
    private readonly stages: Stage[] = [],
  ) {
    this.models = new ReadModelStore(opts.stateDir);
    this.logger = opts.logger ?? lazyLogger();
    this.everyMs = opts.persistEveryMs ?? 1000;
    this.everyEvents = opts.persistEveryEvents ?? 10_000;
    this.subject = new BehaviorSubject(this.status());
    this.status$ = this.subject.asObservable();
    this.done = new Promise<void>((resolve, reject) => (this.settle = { resolve, reject }));
    // Whoever does not listen to `done` must not get an unhandled rejection; listeners still see it.
    this.done.catch(() => undefined);
  }

  status(): ProjectionsStatus {
    const s: ProjectionsStatus = {
      state: this.lifecycle.state,
      head: { ...this.head },
      projections: this.slots.map((slot) => ({
        name: slot.projection.name,
        version: slot.projection.version,
        checkpoint: slot.checkpoint,
        eventCount: slot.eventCount,
        persistedCheckpoint: slot.persisted?.checkpoint ?? null,
        healing: slot.healing,
        healed: slot.healed,
      })),
    };
    if (this.lifecycle.state === 'failed') s.error = this.lifecycle.error;
    return s;
  }

  /** What stopped the runner, once it failed. */
  private get failure(): TrackerError | null {
    return this.lifecycle.state === 'failed' ? this.lifecycle.error : null;
  }

  /** Moves the lifecycle on (see nextLifecycle); false when the event does not apply. */
  private move(event: LifecycleEvent): boolean {
    const next = nextLifecycle(this.lifecycle, event);
    if (next === this.lifecycle) return false;
    this.lifecycle = next;
    return true;
  }

  private emit(): void {
    this.subject.next(this.status());
  }

  private extents(): ProjectedExtent[] {
    const out: ProjectedExtent[] = [];
    for (const s of this.items()) {
      out.push({ name: nameOf(s), checkpoint: s.checkpoint, eventCount: s.eventCount, lastEvent: s.lastEvent });
      if (s.persisted) out.push(s.persisted);
    }
    return out;
  }

  /** The read models, then the book stages (written last: a stage committed before its readers could be ahead of them). */
  private items(): Item[] {
    return [...this.slots, ...this.stages];
  }

  /** A call, not a getter: stop() and failures change it while a cycle awaits, which narrowing cannot see. */
  private stillRunning(): boolean {
    return isRunning(this.lifecycle);
  }

  private get low(): number {
    let low = Number.POSITIVE_INFINITY;
    for (const s of this.slots) low = Math.min(low, s.checkpoint);
    for (const s of this.stages) low = Math.min(low, s.checkpoint);
    return low;
  }

  /** Starts following: called once the startup guard passed. */
  async start(): Promise<void> {
    this.head = await this.store.head();
    this.subscribe();
    this.timer = setRepeating(() => {
      if (!this.ticking) this.tickRun = this.tick();
    }, this.everyMs);
    // The first catch-up is flushed as soon as it is done, whatever the throttle says.
    this.waitFor(this.head.position)
      .then(async () => {
        if (this.lifecycle.state !== 'catching-up') return;
        await this.flush();
        if (this.move({ type: 'caught-up' })) this.emit();
      })
      .catch((error: unknown) => this.reportUnexpected(error, 'could not write the read models after catching up'));
  }

  private subscribe(): void {
    this.subscription = this.store.subscribe({ fromPosition: this.low }).subscribe({
      next: (event) => this.apply(event),
      error: (error: unknown) =>
        void this.fail(
          error instanceof TrackerError ? error : new UnexpectedStoreError(`reading the log failed: ${String(error)}`, { cause: error }),
        ),
      complete: () => {
        if (this.stillRunning()) {
          void this.fail(new UnexpectedStoreError(`the store ${this.store.location} was closed while the read models were following it`));
        }
      },
    });
  }

  private apply(event: RecordedEvent): void {
    if (!this.stillRunning()) return;
    let applied = false;
    // One reference to the event for every item that folds it (a rebuild applies a million events).
    let ref: EventRef | null = null;
    // The book stage first: each event is folded into the books once, then handed to the readers.
    const steps = this.steps;
    steps.fill(null);
    for (const [i, stage] of this.stages.entries()) {
      if (event.position <= stage.checkpoint) continue;
      steps[i] = stage.fold.apply(event);
      ref ??= refOf(event);
      stage.checkpoint = event.position;
      stage.eventCount += 1;
      stage.lastEvent = ref;
      stage.dirty = true;
      applied = true;
    }
    for (const slot of this.slots) {
      // Idempotent: what the read model already holds is skipped.
      if (event.position <= slot.checkpoint) continue;
      const { stage } = slot;
      const book = slot.projection.book;
      if (stage !== null && book !== undefined) {
        // Never ahead of a reader (planStageStart), so the stage folded this event just now.
        slot.state = book.evolve(slot.state, event, steps[this.stages.indexOf(stage)] ?? null, stage.fold.books);
      } else {
        slot.state = slot.projection.evolve(slot.state, event);
      }
      ref ??= refOf(event);
      slot.checkpoint = event.position;
      slot.eventCount += 1;
      slot.lastEvent = ref;
      slot.dirty = true;
      applied = true;
      if (slot.series !== null && (slot.projection.series?.pending(slot.state) ?? 0) >= SERIES_BATCH) drainSeries(slot);
    }
    if (!applied) return;
    this.pending += 1;
    if (this.pending >= this.everyEvents && !this.flushQueued) {
      this.flushQueued = true;
      void this.flush()
        .catch((error: unknown) => this.reportUnexpected(error, 'could not write the read models'))
        .finally(() => (this.flushQueued = false));
    }
    if (this.waiters.length > 0) this.release();
  }

  private release(): void {
    const low = this.low;
    // Called after every event while someone waits: no allocation unless a waiter is released.
    if (!this.waiters.some((w) => w.target <= low)) return;
    const ready = this.waiters.filter((w) => w.target <= low);
    this.waiters = this.waiters.filter((w) => w.target > low);
    for (const w of ready) w.resolve();
  }

  private waitFor(target: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ target, resolve, reject });
      this.release();
    });
  }

  async whenCaughtUp(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.lifecycle.state === 'stopped') return;
    const head = await this.store.head();
    this.head = head;
    await this.waitFor(head.position);
    await this.flush();
  }

  /** Guard, then write every dirty read model. One at a time. */
  flush(): Promise<void> {
    const run = async (): Promise<void> => {
      while (this.flushing) await this.flushing.catch(() => undefined);
      if (this.failure) throw this.failure;
      // After stop() nothing is written (its own final write has run).
      if (this.lifecycle.state === 'stopped') return;
      const work = this.writeDirty();
      this.flushing = work;
      try {
        await work;
      } finally {
        this.flushing = null;
      }
    };
    return run();
  }

  private async writeDirty(): Promise<void> {
    const dirty = this.items().filter((s) => s.dirty && writable(s));
    // What is written is captured now, to temporary files; events that arrive while the guard
    // and the writes run go to the next write. A slot not written is handed back dirty.
    for (const slot of dirty) slot.dirty = false;
    const outcome = await writeGuarded(this.models, dirty, {
      documentOf: (item) => {
        // What the document counts is in its series file before the document is captured.
        if (isSlot(item)) drainSeries(item);
        return {
          name: nameOf(item),
          document: {
            version: versionOf(item),
            checkpoint: item.checkpoint,
            eventCount: item.eventCount,
            lastEvent: item.lastEvent,
            data: dataOf(item),
          },
        };
      },
      // The series file holds what the document counts, durably, before the document says so.
      beforeCommit: async (item) => {
        if (isSlot(item) && item.series !== null) await item.series.sync();
      },
      // The guard, before every write: the log must hold at least what the read models saw.
      guard: async () => {
        this.pending = 0;
        this.head = await this.store.head();
        return checkRegression(this.store, this.extents(), this.head);
      },
      committed: (slot, written, stamp) => this.committed(slot, written, stamp),
      aborted: (slot) => {
        slot.dirty = true;
      },
    });
    if (outcome.status === 'refused') {
      await this.fail(outcome.problem);
      throw outcome.problem;
    }
    if (outcome.count > 0) this.emit();
  }

  private committed(slot: Item, written: Written, stamp: FileStamp): void {
    const name = nameOf(slot);
    const extent: ProjectedExtent = { name, checkpoint: written.checkpoint, eventCount: written.eventCount, lastEvent: written.lastEvent };
    slot.stamp = stamp;
    slot.persisted = extent;
    if (slot.healing !== null) {
      this.logger.info(
        { readModel: name, file: written.file, reason: slot.healing, checkpoint: extent.checkpoint, events: extent.eventCount },
        `healed ${name}.json: rebuilt from the log (${extent.eventCount} events up to position ${extent.checkpoint}); it was ${slot.healing}`,
      );
      slot.healed = slot.healing;
      slot.healing = null;
    }
  }

  /** Every `persistEveryMs`: the log file, a write or the guard, and the files. */
  private async tick(): Promise<void> {
    if (this.ticking || !this.stillRunning()) return;
    this.ticking = true;
    try {
      // Every await may see stop() or a failure: then the cycle ends there.
      if (!(await this.followStoreFile()) || !this.stillRunning()) return;
      if (this.items().some((s) => s.dirty)) {
        await this.flush();
      } else {
        // Idle: nothing to write, but a log cut under a quiet worker must still stop it.
        this.head = await this.store.head();
        const problem = await checkRegression(this.store, this.extents(), this.head);
        if (problem) {
          await this.fail(problem);
          return;
        }
      }
      if (!this.stillRunning()) return;
      await this.checkFiles();
    } catch (error) {
      if (!(error instanceof LogRegressionError)) this.reportUnexpected(error, 'a projection cycle failed');
    } finally {
      this.ticking = false;
    }
  }

  /** A read-model file changed under us (deleted, truncated, edited): check it and rewrite it if it is not sound. */
  private async checkFiles(): Promise<void> {
    let heal = false;
    for (const slot of this.items()) {
      if (!this.stillRunning()) return;
      if (slot.dirty || slot.persisted === null) continue;
      const name = nameOf(slot);
      const now = await this.models.stamp(name);
      const same =
        now !== null &&
        slot.stamp !== null &&
        now.ino === slot.stamp.ino &&
        now.size === slot.stamp.size &&
        now.mtimeMs === slot.stamp.mtimeMs;
      if (same) continue;
      const load = await this.models.load(name, versionOf(slot));
      if (load.status === 'ok') {
        slot.stamp = now;
        continue;
      }
      slot.healing = describeLoad(load);
      slot.dirty = true;
      heal = true;
      this.logger.warn(
        { readModel: name, file: this.models.pathOf(name), reason: slot.healing },
        `${name}.json is ${slot.healing}: writing it again from the log`,
      );
    }
    if (heal && this.stillRunning()) await this.flush();
  }

  /**
   * Is the file at the store's path still the one this connection reads (see followReplacedFile)?
   * A restored backup renamed over it is another file: an owned store is reopened and checked
   * by the guard; a store handed in cannot be, so the runner stops. False when it stopped.
   */
  private async followStoreFile(): Promise<boolean> {
    const file = await this.store.checkFile();
    switch (file.status) {
      case 'same':
        return true;
      case 'gone':
        await this.fail(
          new CorruptionError(`the trade log ${this.store.location} is gone: the read models were left untouched (restore the log)`),
        );
        return false;
      case 'in-use':
        await this.fail(
          new CorruptionError(
            `the trade log ${this.store.location} was replaced by another file while other processes still write to the old one: ` +
              'the read models were left untouched (stop every process using the log, then run ptrack project)',
          ),
        );
        return false;
      case 'replaced':
        break;
      default: {
        const _exhaustive: never = file;
        return _exhaustive;
      }
    }
    if (!file.reopenable) {
      await this.fail(
        new CorruptionError(
          `the trade log ${this.store.location} was replaced by another file while the read models followed it: they were left untouched (run ptrack project to check them against the new file)`,
        ),
      );
      return false;
    }
    this.logger.warn(
      { store: this.store.location },
      'the trade log file was replaced: reopening it and checking it against the read models',
    );
    this.subscription?.unsubscribe();
    this.subscription = null;
    await this.store.reopen();
    this.head = await this.store.head();
    const problem = await checkRegression(this.store, this.extents(), this.head);
    if (problem) {
      await this.fail(problem);
      return false;
    }
    this.subscribe();
    return true;
  }

  private reportUnexpected(error: unknown, what: string): void {
    if (error instanceof LogRegressionError || this.failure) return;
    this.logger.error({ err: error, stateDir: this.opts.stateDir }, `${what}: ${error instanceof Error ? error.message : String(error)}`);
  }

  /** Stops everything without writing, alerts, and settles `done` with the error. */
  async fail(error: TrackerError): Promise<void> {
    if (!this.move({ type: 'fail', error })) return;
    this.subscription?.unsubscribe();
    this.subscription = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.logger.fatal(
      {
        err: error,
        code: error.code,
        stateDir: this.opts.stateDir,
        store: this.store.location,
        readModels: this.slots.map((s) => ({ name: s.projection.name, checkpoint: s.persisted?.checkpoint ?? null })),
      },
      `projections stopped: ${error.message}`,
    );
    try {
      this.opts.onAlert?.({ error, stateDir: this.opts.stateDir, store: this.store.location });
    } catch (alertError) {
      this.logger.error({ err: alertError }, 'the onAlert callback threw');
    }
    for (const w of this.waiters) w.reject(error);
    this.waiters = [];
    this.closeSeries();
    if (this.owned) await this.store.close().catch(() => undefined);
    this.emit();
    this.subject.complete();
    this.settle.reject(error);
  }

  private closeSeries(): void {
    for (const slot of this.slots) slot.series?.close();
  }

  private stopping: Promise<void> | null = null;

  stop(): Promise<void> {
    if (isOver(this.lifecycle)) return Promise.resolve();
    return (this.stopping ??= this.stopNow());
  }

  private async stopNow(): Promise<void> {
    this.move({ type: 'stop' });
    this.subscription?.unsubscribe();
    this.subscription = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.emit();
    // A cycle under way ends at its next step (it sees the state); then the final write.
    await this.tickRun?.catch(() => undefined);
    try {
      await this.flush();
    } catch (error) {
      // fail() keeps the first failure: a write the guard refused has failed the runner already.
      await this.fail(
        error instanceof TrackerError
          ? error
          : new UnexpectedStoreError(`could not write the read models: ${String(error)}`, { cause: error }),
      );
      throw error;
    }
    if (!this.move({ type: 'stopped' })) return;
    for (const w of this.waiters) w.resolve();
    this.waiters = [];
    this.closeSeries();
    if (this.owned) await this.store.close();
    this.emit();
    this.subject.complete();
    this.settle.resolve();
  }
}
