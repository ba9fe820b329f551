import { CorruptionError } from '../errors/index.js';
import type { LogHead, EventStore } from '../store/index.js';
import type { EventRef } from './readModelStore.js';

/** How far a read model got: what the guard compares with the log. */
export interface ProjectedExtent {
  name: string;
  checkpoint: number;
  eventCount: number;
  lastEvent: EventRef | null;
}

export interface RegressionDetail {
  head: LogHead;
  /** The read model that saw the most. */
  projected: ProjectedExtent;
  /** Events the log no longer holds (count), and positions its head is behind the checkpoint. */
  missingEvents: number;
  positionsBehind: number;
  /** The event at the checkpoint, now: null when it is gone. Set when the log was rewritten. */
  found?: EventRef | null;
}

/**
 * The log holds less than the read models were built from: fewer events, a head behind the
 * checkpoint, or another event at the checkpoint's position. Work stops and the read models
 * are left as they are until the log is restored or `ptrack rebuild --accept-regression` runs.
 */
export class LogRegressionError extends CorruptionError {
  constructor(
    message: string,
    readonly detail: RegressionDetail,
  ) {
    super(message);
  }
}

const HINT = '(restore the log, or run ptrack rebuild --accept-regression to rebuild the read models from it)';

const describeRef = (r: EventRef): string => `${r.type} ${r.stream}#${r.revision} recorded ${r.recordedAt}`;

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * The corruption guard: compares the log's head (and the event at each checkpoint) with what
 * the read models were built from. Returns the error to raise, or null when the log holds at
 * least everything they saw.
 *
 * @example
 * ```ts
 * const problem = await checkRegression(store, [{ name: 'portfolio', checkpoint: 150, eventCount: 150, lastEvent: null }]);
 * if (problem) throw problem; // "the log regressed: it holds 120 events ..."
 * ```
 */
export async function checkRegression(
  store: EventStore,
  extents: readonly ProjectedExtent[],
  head?: LogHead,
  /** Who saw the log go further, and what to do: the read models by default. */
  wording: { seen?: string; seenAt?: string; hint?: string } = {},
): Promise<LogRegressionError | null> {
  const seen = wording.seen ?? 'the read models were built from';
  const seenAt = wording.seenAt ?? 'the read models were built';
  const hint = wording.hint ?? HINT;
  if (extents.length === 0) return null;
  const h = head ?? (await store.head());
  let worst: ProjectedExtent | undefined;
  let worstGap = 0;
  for (const e of extents) {
    const gap = Math.max(e.eventCount - h.count, e.checkpoint - h.position);
    if (gap > worstGap) {
      worst = e;
      worstGap = gap;
    }
  }
  if (worst !== undefined) {
    const missingEvents = Math.max(0, worst.eventCount - h.count);
    const positionsBehind = Math.max(0, worst.checkpoint - h.position);
    const how =
      missingEvents > 0
        ? `${plural(missingEvents, 'event')} ${missingEvents === 1 ? 'is' : 'are'} missing`
        : `its last position is ${positionsBehind} behind the checkpoint`;
    return new LogRegressionError(
      `the log regressed: it holds ${plural(h.count, 'event')} (last position ${h.position}) but ${seen} ` +
        `${plural(worst.eventCount, 'event')} up to position ${worst.checkpoint}: ${how} ${hint}`,
      { head: h, projected: worst, missingEvents, positionsBehind },
    );
  }
  // Same length is not the same log: the event each checkpoint stands on must still be there.
  const checked = new Set<number>();
  for (const e of extents) {
    const ref = e.lastEvent;
    if (ref === null || checked.has(ref.position)) continue;
    checked.add(ref.position);
    // By stream and revision, not by position - 1: positions are dense on SQLite but not elsewhere.
    const [event] = await store.readStream(ref.stream, { fromRevision: ref.revision, limit: 1 });
    const found: EventRef | null =
      event === undefined || event.revision !== ref.revision
        ? null
        : {
            position: event.position,
            stream: event.stream,
            revision: event.revision,
            type: event.type,
            recordedAt: event.metadata.recordedAt,
          };
    if (found === null || found.position !== ref.position || found.type !== ref.type || found.recordedAt !== ref.recordedAt) {
      return new LogRegressionError(
        `the log regressed: ${seenAt} up to position ${ref.position} (${describeRef(ref)}) but ` +
          `${found === null ? 'the log no longer holds that position' : `the log now holds ${describeRef(found)} there`}: it was cut and written again ${hint}`,
        { head: h, projected: e, missingEvents: 0, positionsBehind: 0, found },
      );
    }
  }
  return null;
}
