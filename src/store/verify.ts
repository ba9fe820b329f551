import { CorruptionError, EventSchemaError } from '../errors/index.js';
import { bookOfStream, type RecordedEvent } from '../events/index.js';
import { MAX_PAGE, type EventStore, type LogHead } from './port.js';
import { checkBookSnapshot } from '../commands/index.js';
import { definedFields } from '../_internals/definedFields.js';

export type VerifyProblemKind = 'damaged' | 'unparseable' | 'position' | 'revision' | 'snapshot';

/** The first thing wrong with the log. */
export interface VerifyProblem {
  kind: VerifyProblemKind;
  /** Where it is; 0 for damage the engine's integrity check found in the file rather than in one event, and for a book snapshot. */
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
  /** What the engine's own integrity check found (empty: sound); null for an engine without one. */
  integrity: string[] | null;
  problem: VerifyProblem | null;
}

/**
 * Checks the log itself: first the engine's own integrity check of its files (SQLite's
 * `PRAGMA integrity_check`), then, streaming the log, that every event parses (schema and
 * upcasting), global positions strictly increase, and revisions are contiguous per stream
 * from 0; then that every book's snapshot parses and equals the fold of the log up to the
 * revision it claims. Stops at the first problem and says where it is.
 *
 * @example
 * ```ts
 * const report = await verifyLog(store);
 * if (!report.ok) console.error(report.problem!.message);
 * ```
 */
export async function verifyLog(store: EventStore, options: { onProgress?: (events: number) => void } = {}): Promise<VerifyReport> {
  const integrity = store.checkIntegrity ? await store.checkIntegrity() : null;
  let head: LogHead = { position: 0, count: 0 };
  try {
    head = await store.head();
  } catch (error) {
    // A damaged file may not even give its head; the integrity check says what is wrong.
    if (!(error instanceof CorruptionError) || integrity === null || integrity.length === 0) throw error;
  }
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
    integrity,
    problem,
  });

  if (integrity !== null && integrity.length > 0) {
    const shown = integrity.slice(0, 5).join('; ');
    return report({
      kind: 'damaged',
      position: 0,
      message: `the ${store.engine} integrity check of ${store.location} found damage: ${shown}${integrity.length > 5 ? ` (and ${integrity.length - 5} more)` : ''}`,
    });
  }

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
      if (error instanceof CorruptionError) return report({ kind: 'damaged', position: after + 1, message: error.message });
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
        ...definedFields({ stream: where.stream, revision: where.revision }),
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
    if (page.length < limit) break;
  }

  // The log is sound; a book's snapshot is what commands start from, so it must agree with it.
  for (const stream of revisions.keys()) {
    if (bookOfStream(stream) === null) continue;
    const snapshot = await checkBookSnapshot(store, stream);
    if (snapshot.status === 'bad') {
      return report({
        kind: 'snapshot',
        position: 0,
        stream,
        revision: snapshot.revision,
        message: `the book snapshot of ${stream} (revision ${snapshot.revision}) cannot be trusted: ${snapshot.reason} (run ptrack rebuild --accept-regression to rewrite it from the log)`,
      });
    }
  }
  return report(null);
}
