import {
  BOOK_SNAPSHOT_VERSION,
  bookStateToJson,
  decodeBookSnapshot,
  evolve,
  initialBookState,
  type BookStateJson,
} from '../commands/index.js';
import { canonicalJson } from '../_internals/digest.js';
import { readWholeStream } from './iterate.js';
import type { EventStore } from './port.js';

/** What a book's stored snapshot is worth against its log. */
export type BookSnapshotCheck =
  | { status: 'absent' }
  /** Another version: the handler ignores it and replays the log, so it can do no harm. */
  | { status: 'ignored'; version: number }
  | { status: 'ok'; revision: number }
  | { status: 'bad'; revision: number; reason: string };

/** A book's JSON in an order-free form: positions by id, map entries by key. */
function normalised(json: BookStateJson): Record<string, string> {
  const byKey = <T>(entries: [string, T][]): [string, T][] => [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const out: Record<string, string> = {};
  const parts: Record<string, unknown> = {
    ...json,
    positions: [...json.positions].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    lossStreaks: byKey(json.lossStreaks),
    cooldowns: byKey(json.cooldowns),
    orphans: byKey(json.orphans),
    commands: byKey(json.commands),
  };
  for (const key of Object.keys(parts).sort()) out[key] = canonicalJson(parts[key]);
  return out;
}

/**
 * Checks a book's stored snapshot against the log it claims to summarise: it must parse (shape
 * and checksum), must not be ahead of the log, and must equal the fold of the stream's events
 * up to its revision (under its own limits). Reads the stream up to that revision once.
 *
 * @example
 * ```ts
 * const check = await checkBookSnapshot(store, bookStream('main'));
 * if (check.status === 'bad') console.error(check.reason);
 * ```
 */
export async function checkBookSnapshot(store: EventStore, stream: string): Promise<BookSnapshotCheck> {
  const snapshot = await store.readSnapshot(stream);
  if (snapshot === null) return { status: 'absent' };
  if (snapshot.version !== BOOK_SNAPSHOT_VERSION) return { status: 'ignored', version: snapshot.version };
  const decoded = decodeBookSnapshot(snapshot);
  if (!decoded.ok) return { status: 'bad', revision: snapshot.revision, reason: decoded.reason };
  const head = await store.streamRevision(stream);
  if (snapshot.revision > head) {
    return { status: 'bad', revision: snapshot.revision, reason: `it is at revision ${snapshot.revision} but the log ends at revision ${head}` };
  }
  let state = initialBookState(decoded.json.limits);
  for await (const event of readWholeStream(store, stream)) {
    if (event.revision > snapshot.revision) break;
    state = evolve(state, event);
  }
  const fromLog = normalised(bookStateToJson(state));
  const stored = normalised(decoded.json);
  for (const key of new Set([...Object.keys(fromLog), ...Object.keys(stored)])) {
    if (fromLog[key] !== stored[key]) {
      return {
        status: 'bad',
        revision: snapshot.revision,
        reason: `it does not match the fold of the log up to revision ${snapshot.revision}: its ${key} differ`,
      };
    }
  }
  return { status: 'ok', revision: snapshot.revision };
}
