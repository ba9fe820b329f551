import {
  encodeBookSnapshot,
  evolve,
  initialBookState,
  type BookLimits,
} from '../commands/index.js';
import { bookStream } from '../events/index.js';
import { readWholeStream } from '../store/iterate.js';
import type { EventStore, LogHead } from '../store/port.js';
import { ReadModelStore } from './readModelStore.js';
import { checkBookSnapshot } from '../store/index.js';
import { startProjections, type StartProjectionsOptions } from './runner.js';
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
}

export interface RebuildResult {
  events: number;
  head: LogHead;
  elapsedMs: number;
  eventsPerSecond: number;
  readModels: { name: string; checkpoint: number; eventCount: number }[];
}

/**
 * Drops the read models and folds the whole log again, streaming it (one page in memory at a
 * time), then writes every read model. Without `acceptRegression` the files on disk are first
 * compared with the log, and a log that holds less than they were built from is refused with
 * a LogRegressionError (exit code 4): a rebuild must not hide a lost log by accident.
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
  const timer = options.onProgress ? setRepeating(() => options.onProgress!(progress(false)), options.progressEveryMs ?? 250) : null;
  try {
    await handle.whenCaughtUp();
    const final = progress(true);
    const readModels = handle.status().projections.map((p) => ({ name: p.name, checkpoint: p.checkpoint, eventCount: p.eventCount }));
    const head = handle.status().head;
    await handle.stop();
    options.onProgress?.(final);
    return { events: final.processed, head, elapsedMs: final.elapsedMs, eventsPerSecond: final.eventsPerSecond, readModels };
  } catch (error) {
    await handle.stop().catch(() => undefined);
    throw error;
  } finally {
    if (timer) clearInterval(timer);
  }
}

/** The book ids the read models in `stateDir` know of (from any document that can be read). */
export async function booksInReadModels(stateDir: string, names: readonly string[]): Promise<string[]> {
  const models = new ReadModelStore(stateDir);
  const books = new Set<string>();
  for (const name of names) {
    const load = await models.load(name, '');
    // Any intact document will do, whatever its version: only the book ids are read.
    const doc = load.status === 'version' || load.status === 'ok' ? load.document : null;
    const fold = (doc?.data as { fold?: unknown } | undefined)?.fold;
    if (fold !== null && typeof fold === 'object') for (const id of Object.keys(fold)) books.add(id);
  }
  return [...books].sort();
}

/**
 * Rewrites from the log every book snapshot that cannot be trusted: ahead of the log (after
 * the log lost events, the handler refuses to load the book), or of the wrong shape, with a
 * checksum that does not match, or different from the fold of the log it claims (see
 * {@link checkBookSnapshot}). The new snapshot is folded under the given limits (those the
 * handler checks a snapshot against). Returns the streams repaired and why.
 *
 * @example
 * ```ts
 * await repairBookSnapshots(store, ['main'], { idempotencyWindow: 1000, timeZone: 'UTC' });
 * ```
 */
export async function repairBookSnapshots(
  store: EventStore,
  books: readonly string[],
  limits: BookLimits,
): Promise<{ stream: string; from: number; to: number; reason: string }[]> {
  const repaired: { stream: string; from: number; to: number; reason: string }[] = [];
  for (const book of books) {
    const stream = bookStream(book);
    const check = await checkBookSnapshot(store, stream);
    if (check.status !== 'bad') continue;
    let state = initialBookState(limits);
    for await (const event of readWholeStream(store, stream)) state = evolve(state, event);
    await store.writeSnapshot(stream, encodeBookSnapshot(state));
    repaired.push({ stream, from: check.revision, to: state.revision, reason: check.reason });
  }
  return repaired;
}
