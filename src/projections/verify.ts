import { EventSchemaError } from '../errors/index.js';
import type { RecordedEvent } from '../events/index.js';
import { MAX_PAGE, type EventStore, type LogHead } from '../store/port.js';

export type VerifyProblemKind = 'unparseable' | 'position' | 'revision';

/** The first thing wrong with the log. */
export interface VerifyProblem {
  kind: VerifyProblemKind;
  position: number;
  stream?: string;
  revision?: number;
  message: string;
}

export interface VerifyReport {
  ok: boolean;
  /** Events read (up to the problem, when there is one). */
  events: number;
  streams: number;
  firstPosition: number | null;
  lastPosition: number;
  /** Positions skipped between events (allowed by the port; SQLite has none unless rows were deleted). */
  positionGaps: number;
  head: LogHead;
  problem: VerifyProblem | null;
}

/**
 * Checks the log itself, streaming it: every event parses (schema and upcasting), global
 * positions strictly increase, and revisions are contiguous per stream from 0. Stops at the
 * first problem and says where it is.
 *
 * @example
 * ```ts
 * const report = await verifyLog(store);
 * if (!report.ok) console.error(report.problem!.message);
 * ```
 */
export async function verifyLog(store: EventStore, options: { onProgress?: (events: number) => void } = {}): Promise<VerifyReport> {
  const head = await store.head();
  const revisions = new Map<string, number>();
  let events = 0;
  let firstPosition: number | null = null;
  let lastPosition = 0;
  let positionGaps = 0;
  let after = 0;
  let limit = MAX_PAGE;

  const report = (problem: VerifyProblem | null): VerifyReport => ({
    ok: problem === null,
    events,
    streams: revisions.size,
    firstPosition,
    lastPosition,
    positionGaps,
    head,
    problem,
  });

  const check = (e: RecordedEvent): VerifyProblem | null => {
    if (e.position <= lastPosition) {
      return {
        kind: 'position',
        position: e.position,
        stream: e.stream,
        revision: e.revision,
        message: `position ${e.position} (${e.stream}#${e.revision}) does not come after position ${lastPosition}: positions must strictly increase`,
      };
    }
    const previous = revisions.get(e.stream);
    const expected = previous === undefined ? 0 : previous + 1;
    if (e.revision !== expected) {
      const what = previous === undefined ? 'the stream starts with' : `revision ${previous} is followed by`;
      return {
        kind: 'revision',
        position: e.position,
        stream: e.stream,
        revision: e.revision,
        message: `stream ${e.stream}: ${what} revision ${e.revision} at position ${e.position}, expected revision ${expected}${
          e.revision > expected ? ` (${e.revision - expected} missing)` : ''
        }`,
      };
    }
    return null;
  };

  for (;;) {
    let page: RecordedEvent[];
    try {
      page = await store.readAll({ fromPosition: after, limit });
    } catch (error) {
      if (!(error instanceof EventSchemaError)) throw error;
      if (limit > 1) {
        // Narrow down: one event at a time up to the bad one (it is within this page), so that
        // a problem before it in the page is the one reported.
        limit = 1;
        continue;
      }
      const where = error.location;
      return report({
        kind: 'unparseable',
        position: where.position ?? after + 1,
        ...(where.stream === undefined ? {} : { stream: where.stream }),
        ...(where.revision === undefined ? {} : { revision: where.revision }),
        message: error.message,
      });
    }
    for (const e of page) {
      const problem = check(e);
      if (problem) return report(problem);
      if (firstPosition === null) firstPosition = e.position;
      else if (e.position > lastPosition + 1) positionGaps += 1;
      lastPosition = e.position;
      revisions.set(e.stream, e.revision);
      events += 1;
      after = e.position;
    }
    options.onProgress?.(events);
    if (page.length < limit) return report(null);
  }
}
