import { defaultLimits, repairBookSnapshots, type BookLimits, type RepairedSnapshot } from '../commands/index.js';
import { openStore, type LogHead } from '../store/index.js';
import { READ_MODEL_NAMES } from './createProjections.js';
import { ReadModelStore } from './readModelStore.js';
import type { StartProjectionsOptions } from './runner.js';
import { BOOK_STAGE_NAME, startProjections } from './startProjections.js';
import { setRepeating } from '../_internals/timers.js';

export interface RebuildProgress {
  /** Events folded so far (by the read model furthest behind). */
  processed: number;
  /** Events in the log when the rebuild started. */
  total: number;
  elapsedMs: number;
  eventsPerSecond: number;
  done: boolean;
}

export interface RebuildOptions extends Omit<StartProjectionsOptions, 'rebuild'> {
  /** Called every `progressEveryMs` (default 250) and once at the end. */
  onProgress?: (progress: RebuildProgress) => void;
  progressEveryMs?: number;
  /**
   * With `acceptRegression`, the book snapshots are repaired after the rebuild (a snapshot ahead
   * of the log would wedge the book): those of the books the read models name, before and after,
   * and of `books`; folded under `limits` (default: the default limits).
   */
  snapshots?: { books?: readonly string[]; limits?: BookLimits };
}

export interface RebuildResult {
  events: number;
  head: LogHead;
  elapsedMs: number;
  eventsPerSecond: number;
  readModels: { name: string; checkpoint: number; eventCount: number }[];
  /** The book snapshots repaired (only with `acceptRegression`). */
  snapshotsRepaired: RepairedSnapshot[];
}

/**
 * Drops the read models and folds the whole log again, streaming it (one page in memory at a
 * time), then writes every read model. Without `acceptRegression` the files on disk are first
 * compared with the log, and a log that holds less than they were built from is refused with
 * a LogRegressionError (exit code 4): a rebuild must not hide a lost log by accident. With
 * `acceptRegression` it also repairs the book snapshots the log no longer backs
 * ({@link repairBookSnapshots}), as `ptrack rebuild --accept-regression` does.
 *
 * @example
 * ```ts
 * const r = await rebuildReadModels({ store: 'sqlite:./state/trades.db', stateDir: './state',
 *   onProgress: (p) => console.log(p.processed, p.eventsPerSecond) });
 * console.log(r.eventsPerSecond);
 * ```
 */
export async function rebuildReadModels(options: RebuildOptions): Promise<RebuildResult> {
  const started = performance.now();
  // The books are read before the rebuild rewrites the documents that name them.
  const booksBefore = options.acceptRegression === true ? await booksInReadModels(options.stateDir, READ_MODEL_NAMES) : [];
  // One write at the end: the documents are rewritten whole (the equity curve alone is ~28 MB at
  // 1,000,000 events), so writing them while folding makes a long rebuild quadratic.
  const handle = await startProjections({ persistEveryMs: 60_000, persistEveryEvents: Number.MAX_SAFE_INTEGER, ...options, rebuild: true });
  const total = handle.status().head.count;
  const progress = (done: boolean): RebuildProgress => {
    const s = handle.status();
    const processed = Math.min(...s.projections.map((p) => p.eventCount));
    const elapsedMs = performance.now() - started;
    return { processed, total, elapsedMs, eventsPerSecond: elapsedMs > 0 ? (processed / elapsedMs) * 1000 : 0, done };
  };
  const onProgress = options.onProgress;
  const timer = onProgress ? setRepeating(() => onProgress(progress(false)), options.progressEveryMs ?? 250) : null;
  try {
    await handle.whenCaughtUp();
    const final = progress(true);
    const readModels = handle.status().projections.map((p) => ({ name: p.name, checkpoint: p.checkpoint, eventCount: p.eventCount }));
    const head = handle.status().head;
    await handle.stop();
    const snapshotsRepaired = options.acceptRegression === true ? await repairSnapshots(options, booksBefore) : [];
    options.onProgress?.(final);
    return {
      events: final.processed,
      head,
      elapsedMs: final.elapsedMs,
      eventsPerSecond: final.eventsPerSecond,
      readModels,
      snapshotsRepaired,
    };
  } catch (error) {
    await handle.stop().catch(() => undefined);
    throw error;
  } finally {
    if (timer) clearInterval(timer);
  }
}

/** The book ids the read models in `stateDir` know of (from any document that can be read, and the book stage's file). */
export async function booksInReadModels(stateDir: string, names: readonly string[]): Promise<string[]> {
  const models = new ReadModelStore(stateDir);
  const books = new Set<string>();
  // The book stage's file holds the books; documents of older versions held them each as `data.fold`.
  for (const name of [...names, BOOK_STAGE_NAME]) {
    const load = await models.load(name, '');
    // Any intact document will do, whatever its version: only the book ids are read.
    const doc = load.status === 'version' || load.status === 'ok' ? load.document : null;
    const fold = name === BOOK_STAGE_NAME ? doc?.data : (doc?.data as { fold?: unknown } | undefined)?.fold;
    if (fold !== null && typeof fold === 'object') for (const id of Object.keys(fold)) books.add(id);
  }
  return [...books].sort();
}

/** The snapshot repair of a rebuild that accepted the log: the books named before, after, and asked for. */
async function repairSnapshots(options: RebuildOptions, booksBefore: readonly string[]): Promise<RepairedSnapshot[]> {
  const after = await booksInReadModels(options.stateDir, READ_MODEL_NAMES);
  const books = [...new Set([...(options.snapshots?.books ?? []), ...booksBefore, ...after])].sort();
  const limits = options.snapshots?.limits ?? defaultLimits;
  if (typeof options.store !== 'string') return repairBookSnapshots(options.store, books, limits);
  const store = await openStore(options.store, options.storeOptions);
  try {
    return await repairBookSnapshots(store, books, limits);
  } finally {
    await store.close();
  }
}
