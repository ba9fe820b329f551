/*
 * Book snapshots against the log: checking a stored snapshot (verify runs it) and repairing
 * one that cannot be trusted (rebuild --accept-regression, the CLI's and the library's). Next to
 * the handler's snapshots (snapshot.ts); the store is reached through its port only.
 */
import { canonicalJson } from './_internals/digest.js';
import { bookStream } from '../events/index.js';
import type { EventStore } from '../store/index.js';
import { evolve } from './evolve.js';
import { BOOK_SNAPSHOT_VERSION, decodeBookSnapshot, encodeBookSnapshot } from './snapshot.js';
import { bookStateToJson, initialBookState, type BookLimits, type BookState, type BookStateJson } from './state.js';

/** The port's largest page (store/port.ts MAX_PAGE), repeated: the core imports only its types. */
const PAGE = 10_000;

/** The book folded from a stream's events up to `untilRevision` (inclusive), page by page. */
async function foldStream(
  store: EventStore,
  stream: string,
  limits: BookLimits,
  untilRevision = Number.POSITIVE_INFINITY,
): Promise<BookState> {
  let state = initialBookState(limits);
  for (let from = 0; ;) {
    const page = await store.readStream(stream, { fromRevision: from, limit: PAGE });
    for (const event of page) {
      if (event.revision > untilRevision) return state;
      state = evolve(state, event);
    }
    const last = page[page.length - 1];
    if (page.length < PAGE || last === undefined) return state;
    from = last.revision + 1;
  }
}

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
    return {
      status: 'bad',
      revision: snapshot.revision,
      reason: `it is at revision ${snapshot.revision} but the log ends at revision ${head}`,
    };
  }
  const state = await foldStream(store, stream, decoded.json.limits, snapshot.revision);
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

/** A book snapshot rewritten by {@link repairBookSnapshots}: where it was, where the log ends, and why. */
export interface RepairedSnapshot {
  stream: string;
  from: number;
  to: number;
  reason: string;
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
export async function repairBookSnapshots(store: EventStore, books: readonly string[], limits: BookLimits): Promise<RepairedSnapshot[]> {
  const repaired: RepairedSnapshot[] = [];
  for (const book of books) {
    const stream = bookStream(book);
    const check = await checkBookSnapshot(store, stream);
    if (check.status !== 'bad') continue;
    const state = await foldStream(store, stream, limits);
    await store.writeSnapshot(stream, encodeBookSnapshot(state));
    repaired.push({ stream, from: check.revision, to: state.revision, reason: check.reason });
  }
  return repaired;
}
