import { z } from 'zod';
import { evolve, initialBookState, type BookState } from '../commands/index.js';
import { TrackerConfig, type TrackerConfigInput } from '../config/index.js';
import { ValidationError } from '../errors/index.js';
import { bookStream, type RecordedEvent } from '../events/index.js';
import { BookFold, createProjections, projectionOptionsOf, type AnyProjection, type FoldStep } from '../projections/index.js';
import { readAllEvents, type EventStore } from '../store/index.js';
import { parseOrThrow, quote } from '../_internals/zodIssues.js';
import { recordFrom } from '../_internals/records.js';

/*
 * Time travel lives with the tracker, above the configuration it parses: src/config spreads the
 * read models' options into the configuration, so src/projections must not load src/config (the
 * two folders' index.ts files would import each other).
 */

/** A moment in the log: a global position, or an ISO-8601 time. */
export type ReplayPoint = { position: number } | { time: string };

const IsoTime = z.iso.datetime({ offset: true });

/**
 * Reads `--until`: a whole number is a global position, anything else must be an ISO-8601
 * time with an offset (`2026-01-05T12:00:00Z`).
 */
export function parseReplayPoint(raw: string | number): ReplayPoint {
  if (typeof raw === 'number' || /^\d+$/.test(raw.trim())) {
    const position = Number(raw);
    if (!Number.isSafeInteger(position) || position < 0)
      throw new ValidationError(`--until: expected a position >= 0 or an ISO time, got ${quote(raw)}`);
    return { position };
  }
  if (!IsoTime.safeParse(raw).success) {
    throw new ValidationError(
      `--until: expected a position (a whole number) or an ISO-8601 time with an offset such as 2026-01-05T12:00:00Z, got ${quote(raw)}`,
    );
  }
  return { time: raw };
}

export interface ReplayOptions {
  until: ReplayPoint | string | number;
  /** The configuration: which book, its limits, and the read models' settings. */
  config?: TrackerConfigInput | TrackerConfig;
  /** Default: every read model (portfolio, equity, risk, performance, audit, orders) under the configuration's settings. */
  projections?: readonly AnyProjection[];
}

export interface ReplayResult {
  /** The last event folded in: its position and time (null, 0 for an empty prefix). */
  position: number;
  at: string | null;
  /** Events folded. */
  events: number;
  /** The configured book as the decider saw it then. */
  book: BookState;
  /** Each read model's data then, by name. */
  readModels: Record<string, unknown>;
}

/**
 * Time travel: the book and the read models as they were at a moment of the log. "At time T"
 * means the log up to (not including) the first event recorded after T: the prefix a log
 * that ended at T would hold. The log is streamed page by page.
 *
 * @example
 * ```ts
 * const then = await replayAt(store, { until: '2026-01-05T12:00:00Z', config: { book: 'main' } });
 * console.log(then.book.positions.get('AAPL-1')?.status, then.readModels.equity);
 * ```
 */
export async function replayAt(store: EventStore, options: ReplayOptions): Promise<ReplayResult> {
  const config = parseOrThrow(TrackerConfig, options.config ?? {}, 'replay');
  const point = typeof options.until === 'object' ? options.until : parseReplayPoint(options.until);
  const projections = options.projections ?? createProjections(projectionOptionsOf(config));
  const stream = bookStream(config.book);
  let book = initialBookState({ idempotencyWindow: config.idempotencyWindow, timeZone: config.timeZone });
  const states = projections.map((p) => p.initialState() as unknown);
  // As the runner does: the books are folded once per event (one stage per key) and handed to the read models reading them.
  const stages = new Map<string, BookFold>();
  for (const p of projections) if (p.book !== undefined && !stages.has(p.book.key)) stages.set(p.book.key, new BookFold(p.book.limits));
  const stageOf = (p: AnyProjection): BookFold | undefined => (p.book === undefined ? undefined : stages.get(p.book.key));
  const until = 'time' in point ? Date.parse(point.time) : null;
  let last: RecordedEvent | null = null;
  let events = 0;
  for await (const event of readAllEvents(store, 'position' in point ? { untilPosition: point.position } : {})) {
    if (until !== null && Date.parse(event.metadata.recordedAt) > until) break;
    if (event.stream === stream) book = evolve(book, event);
    const steps = new Map<BookFold, FoldStep | null>();
    for (const stage of stages.values()) steps.set(stage, stage.apply(event));
    for (const [i, p] of projections.entries()) {
      const stage = stageOf(p);
      states[i] =
        stage === undefined || p.book === undefined
          ? p.evolve(states[i], event)
          : p.book.evolve(states[i], event, steps.get(stage) ?? null, stage.books);
    }
    last = event;
    events += 1;
  }
  // Each read model's data as its file holds it (the books are in the stage, not in each).
  const readModels = recordFrom(
    projections.map((p, i) => {
      const stage = stageOf(p);
      return [
        p.name,
        (stage === undefined || p.book === undefined ? p.toJson(states[i]) : p.book.toJson(states[i], stage.books)) as unknown,
      ] as const;
    }),
  );
  return { position: last?.position ?? 0, at: last?.metadata.recordedAt ?? null, events, book, readModels };
}
