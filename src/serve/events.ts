/**
 * The log as the API shows it: one JSON shape per event (the SSE stream's `data` too), and
 * GET /api/events?from=&limit= paged by global position.
 */
import { z } from 'zod';
import type { RecordedEvent } from '../events/index.js';
import type { EventStore } from '../store/index.js';
import { ValidationError } from '../errors/index.js';
import { parseOrThrow } from '../_internals/zodIssues.js';

/** One event of the log as the API and the stream send it. */
export interface ApiEvent {
  position: number;
  type: string;
  streamId: string;
  revision: number;
  recordedAt: string;
  data: unknown;
}

export const apiEvent = (e: RecordedEvent): ApiEvent => ({
  position: e.position,
  type: e.type,
  streamId: e.stream,
  revision: e.revision,
  recordedAt: e.metadata.recordedAt,
  data: e.data,
});

/** Most events one page holds. */
export const MAX_EVENTS_PAGE = 1000;

const Position = z.coerce.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
/** The query of /api/events: `from` (exclusive: events after it; default 0) and `limit` (1..1000, default 100). */
const EventsQuery = z.strictObject({
  from: Position.default(0),
  limit: z.coerce.number().int().min(1).max(MAX_EVENTS_PAGE).default(100),
});

/** One page of the log after `from`; `next` is the `from` of the following page (null at the end). */
export async function eventsPage(
  store: EventStore,
  params: URLSearchParams,
): Promise<{ from: number; limit: number; events: ApiEvent[]; next: number | null; head: { position: number; count: number } }> {
  // Keys from outside: a Map, then own properties only (Object.fromEntries never sets a prototype).
  const raw = new Map<string, string>();
  for (const [k, v] of params) {
    if (raw.has(k)) throw new ValidationError(`query: ${k}: given twice, expected once`);
    raw.set(k, v);
  }
  const q = parseOrThrow(EventsQuery, Object.fromEntries(raw), 'query');
  const [events, head] = await Promise.all([store.readAll({ fromPosition: q.from, limit: q.limit }), store.head()]);
  const last = events.at(-1);
  return {
    from: q.from,
    limit: q.limit,
    events: events.map(apiEvent),
    next: last !== undefined && last.position < head.position ? last.position : null,
    head,
  };
}
