import type { LogRegressionError } from './guard.js';
import type { FileStamp, PreparedDocument, ReadModelDocument, ReadModelStore } from './readModelStore.js';
import { present } from '../_internals/present.js';

/*
 * Writing the read models: prepare every document (to temporary files), then the corruption
 * guard, then commit them one by one. Whatever stops it (a prepare or a commit that fails, or
 * the guard refusing), one abort path removes the temporary files not yet committed and hands
 * their items back, so nothing half-written is left and nothing is lost.
 */

/** What {@link writeGuarded} does with each item, and the guard it runs between the phases. */
export interface WriteSteps<T> {
  /** The document of an item as it stands now (its name and content); called once per item. */
  documentOf(item: T): { name: string; document: Omit<ReadModelDocument, 'checksum'> };
  /**
   * The guard, once every document is prepared (what is written is captured: events folded
   * from now on go to the next write). A problem refuses the whole write.
   */
  guard(): Promise<LogRegressionError | null>;
  /** Runs before the item's document is committed (after the guard): what the document counts must be durable first. */
  beforeCommit?(item: T): Promise<void>;
  /** The item's file is on disk, holding `written` (the document as it was captured, without its data). */
  committed(item: T, written: Written, stamp: FileStamp): void;
  /** The item was not written (it is to be written again, unless the runner stops). */
  aborted(item: T): void;
}

/** Where a document went and the header it was written with. */
export type Written = { file: string } & Omit<ReadModelDocument, 'checksum' | 'data'>;

export type WriteOutcome = { status: 'written'; count: number } | { status: 'refused'; problem: LogRegressionError };

/**
 * Prepare → guard → commit, with one abort path. Resolves `refused` when the guard found a
 * problem (nothing was written), and rejects with what failed otherwise (what was committed
 * stays, the rest is aborted).
 *
 * @example
 * ```ts
 * const outcome = await writeGuarded(models, dirty, { documentOf, guard: () => checkRegression(store, extents), committed, aborted });
 * if (outcome.status === 'refused') await fail(outcome.problem);
 * ```
 */
export async function writeGuarded<T>(models: ReadModelStore, items: readonly T[], steps: WriteSteps<T>): Promise<WriteOutcome> {
  const prepared: { item: T; doc: PreparedDocument; written: Written }[] = [];
  let committed = 0;
  const abort = (): void => {
    for (const { item, doc } of prepared.slice(committed)) {
      models.abort(doc);
      steps.aborted(item);
    }
    // An item whose prepare threw was never added: it is handed back too.
    for (const item of items.slice(prepared.length)) steps.aborted(item);
  };
  try {
    for (const item of items) {
      const { name, document } = steps.documentOf(item);
      const doc = models.prepare(name, document);
      const { data: _data, ...header } = document;
      prepared.push({ item, doc, written: { file: doc.file, ...header } });
    }
    const problem = await steps.guard();
    if (problem) {
      abort();
      return { status: 'refused', problem };
    }
    for (; committed < prepared.length; committed++) {
      const { item, doc, written } = present(prepared[committed], 'a prepared document');
      await steps.beforeCommit?.(item);
      steps.committed(item, written, await models.commit(doc));
    }
  } catch (error) {
    abort();
    throw error;
  }
  return { status: 'written', count: committed };
}
