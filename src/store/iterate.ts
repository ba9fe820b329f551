import type { RecordedEvent } from '../events/index.js';
import { MAX_PAGE, type EventStore } from './port.js';
import { lastOf } from '../_internals/present.js';

/**
 * Every event after `fromPosition`, page by page: memory stays bounded by one page.
 *
 * @example
 * ```ts
 * for await (const event of readAllEvents(store)) console.log(event.position);
 * ```
 */
export async function* readAllEvents(
  store: EventStore,
  options: { fromPosition?: number; untilPosition?: number; pageSize?: number } = {},
): AsyncGenerator<RecordedEvent> {
  const pageSize = options.pageSize ?? MAX_PAGE;
  const until = options.untilPosition ?? Number.POSITIVE_INFINITY;
  let after = options.fromPosition ?? 0;
  for (;;) {
    const page = await store.readAll({ fromPosition: after, limit: pageSize });
    for (const event of page) {
      if (event.position > until) return;
      yield event;
      after = event.position;
    }
    if (page.length < pageSize) return;
  }
}

/** Every event of one stream from `fromRevision` (inclusive), page by page. */
export async function* readWholeStream(
  store: EventStore,
  stream: string,
  options: { fromRevision?: number; pageSize?: number } = {},
): AsyncGenerator<RecordedEvent> {
  const pageSize = options.pageSize ?? MAX_PAGE;
  let from = options.fromRevision ?? 0;
  for (;;) {
    const page = await store.readStream(stream, { fromRevision: from, limit: pageSize });
    for (const event of page) yield event;
    if (page.length < pageSize) return;
    from = lastOf(page, 'event of a full page').revision + 1;
  }
}
