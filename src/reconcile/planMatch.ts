/*
 * Which book position each outside position is, on a per-id account, in one pass over each side
 * and without a hash table of the run's ids. A profile of the plan for 100,000 positions put 90 %
 * of it in three string-keyed hash-table operations per position (looking each outside id up in
 * the book, building a Set of the outside ids, checking each IN position against it), the Set's
 * growth the dearest. Here the outside ids are hashed once into two typed arrays (chained
 * buckets, sized once), and one pass over the book finds each position's outside entries there:
 * what each outside position is here, which IN positions are missing outside, and whether an id
 * is outside, the same answers as `Map.get` / `Set.has` give.
 */
import type { Position, InPosition } from '../commands/index.js';
import type { ExternalPosition } from './externalSystem.js';

/** What the planner needs to know of the two sides, matched by id. */
export interface IdMatching {
  /** Per outside position (same index): the book's position of that id, if any. */
  localOf: readonly (Position | undefined)[];
  /** The IN positions no outside position names, in the book's order. */
  missing: readonly InPosition[];
  /** Whether an outside position has this id. */
  isOutside(id: string): boolean;
  /** False when the ids defeated the hash (a bucket deeper than {@link MAX_CHAIN}) and a native Set did the work. */
  indexed: boolean;
}

/** A bucket this deep means ids that defeat the hash (crafted, or one pattern): then the native Set and Map do it. */
export const MAX_CHAIN = 24;

/**
 * 32-bit hash of an id: FNV-1a over its length and characters (the first and last 16 of a longer
 * id: ids that differ only in their middle fill a bucket and fall back), then a final mix.
 */
export function hashId(s: string): number {
  const len = s.length;
  let h = Math.imul(0x811c9dc5 ^ len, 0x01000193);
  if (len <= 32) {
    for (let i = 0; i < len; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  } else {
    for (let i = 0; i < 16; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    for (let i = len - 16; i < len; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * Matches the outside positions with the book's by id (see the file's opening comment).
 *
 * @example
 * ```ts
 * const { localOf, missing } = matchById(snapshot.positions, book.positions);
 * ```
 */
export function matchById(positions: readonly ExternalPosition[], book: ReadonlyMap<string, Position>): IdMatching {
  const m = positions.length;
  let size = 16;
  while (size < 2 * m) size *= 2;
  const mask = size - 1;
  // head[bucket] = the last outside index put there (-1: none), next[i] = the one before it.
  const head = new Int32Array(size).fill(-1);
  const next = new Int32Array(m);
  const hashes = new Int32Array(m);
  const depth = new Uint8Array(size);
  const ids: string[] = new Array<string>(m);
  for (let i = 0; i < m; i++) {
    const id = (positions[i] as ExternalPosition).id;
    const h = hashId(id);
    const b = h & mask;
    const d = (depth[b] ?? 0) + 1;
    if (d > MAX_CHAIN) return matchNatively(positions, book);
    depth[b] = d;
    ids[i] = id;
    hashes[i] = h;
    next[i] = head[b] ?? -1;
    head[b] = i;
  }
  const isOutside = (id: string): boolean => {
    const h = hashId(id);
    for (let j = head[h & mask] ?? -1; j >= 0; j = next[j] ?? -1) if (hashes[j] === h && ids[j] === id) return true;
    return false;
  };
  const localOf = new Array<Position | undefined>(m).fill(undefined);
  const missing: InPosition[] = [];
  book.forEach((p, key) => {
    const h = hashId(key);
    let found = false;
    // Every entry of that id (a list may name one twice): each is that position.
    for (let j = head[h & mask] ?? -1; j >= 0; j = next[j] ?? -1) {
      if (hashes[j] === h && ids[j] === key) {
        localOf[j] = p;
        found = true;
      }
    }
    // A position is filed under its own id (evolve and snapshots do so); a hand-made book may not be.
    if (p.status === 'IN' && !(key === p.id ? found : isOutside(p.id))) missing.push(p);
  });
  return { localOf, missing, isOutside, indexed: true };
}

/** The same answers through a native Set and Map look-ups (ids that defeat the hash). */
function matchNatively(positions: readonly ExternalPosition[], book: ReadonlyMap<string, Position>): IdMatching {
  const outside = new Set<string>();
  for (const p of positions) outside.add(p.id);
  const missing: InPosition[] = [];
  book.forEach((p) => {
    if (p.status === 'IN' && !outside.has(p.id)) missing.push(p);
  });
  return { localOf: positions.map((p) => book.get(p.id)), missing, isOutside: (id) => outside.has(id), indexed: false };
}
