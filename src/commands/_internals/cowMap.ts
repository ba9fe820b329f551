/*
 * A map that can be forked cheaply, so a state handed to a caller stays a value while the
 * next state is built from it. A map is up to three layers: a frozen native Map (the base), an
 * optional frozen middle layer of changes to it, and its own changes on top (overrides and
 * deletions of keys below, keys added since). A fork shares everything below the top and copies
 * the top, which is kept under about 2 x cbrt(n) entries: past that, the top is merged into a new
 * middle layer (under about 2 x n^(2/3) entries), and past that, everything is flattened into a
 * new base. A fork thus copies O(cbrt n) entries on average (the merges and the occasional O(n)
 * flattening included) instead of a whole copy of a big book per command. Values are never
 * `undefined`.
 */

/** Marks a base key deleted by the layer above it. */
const GONE: unique symbol = Symbol('gone');
type Gone = typeof GONE;

/**
 * An insertion-ordered map with `fork()` (a cheap copy-on-write child) and `freeze()` (writes
 * then throw a TypeError). Iteration order is that of a native Map given the same calls.
 *
 * @example
 * ```ts
 * const a = new CowMap([['x', 1]]);
 * const b = a.fork();
 * b.set('y', 2);
 * a.freeze();
 * [...a.keys()]; // ['x'], while [...b.keys()] is ['x', 'y']
 * ```
 */
export class CowMap<K, V> implements ReadonlyMap<K, V> {
  /** Shared with forks: never written once a fork exists. */
  private base: ReadonlyMap<K, V>;
  /** Changes to base keys, kept in the base's order: a new value, or GONE. */
  private shadow: Map<K, V | Gone>;
  /** Keys not in the base (or added again after a delete), in insertion order. */
  private added: Map<K, V>;
  private count: number;
  private frozen = false;
  /**
   * Whether `shadow` and `added` are this map's own: a fork starts with its parent's (frozen)
   * top layer and copies it on its first write, so a map a command does not touch costs nothing.
   */
  private owned: boolean;

  constructor(entries?: Iterable<readonly [K, V]> | null) {
    this.base = EMPTY as ReadonlyMap<K, V>;
    this.shadow = NONE as Map<K, V | Gone>;
    this.added = entries ? new Map(entries) : (NONE as Map<K, V>);
    this.owned = this.added !== NONE;
    if (this.owned) this.shadow = new Map();
    this.count = this.added.size;
  }

  get size(): number {
    return this.count;
  }

  get(key: K): V | undefined {
    const a = this.added.get(key);
    if (a !== undefined) return a;
    if (this.shadow.size > 0) {
      const s = this.shadow.get(key);
      if (s !== undefined) return s === GONE ? undefined : s;
    }
    return this.base.get(key);
  }

  has(key: K): boolean {
    return this.get(key) !== undefined;
  }

  set(key: K, value: V): this {
    this.writable();
    if (this.added.has(key)) {
      this.added.set(key, value);
    } else if (this.base.has(key) && this.shadow.get(key) !== GONE) {
      // Overwriting keeps the key's place, as a Map does.
      this.shadow.set(key, value);
    } else {
      // A new key (or one deleted from the base and set again) goes to the end.
      this.added.set(key, value);
      this.count += 1;
    }
    return this;
  }

  delete(key: K): boolean {
    this.writable();
    if (this.added.delete(key)) {
      this.count -= 1;
      return true;
    }
    if (this.base.has(key) && this.shadow.get(key) !== GONE) {
      this.shadow.set(key, GONE);
      this.count -= 1;
      return true;
    }
    return false;
  }

  clear(): void {
    this.writable();
    this.base = EMPTY as ReadonlyMap<K, V>;
    this.shadow = new Map();
    this.added = new Map();
    this.owned = true;
    this.count = 0;
  }

  *entries(): MapIterator<[K, V]> {
    const shadow = this.shadow;
    for (const [key, value] of this.base) {
      if (shadow.size > 0) {
        const s = shadow.get(key);
        if (s === GONE) continue;
        if (s !== undefined) {
          yield [key, s];
          continue;
        }
      }
      yield [key, value];
    }
    yield* this.added;
  }

  *keys(): MapIterator<K> {
    for (const [key] of this.entries()) yield key;
  }

  *values(): MapIterator<V> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  /**
   * Visits every entry in iteration order through the layers' native `forEach`: no generator
   * step and no `[key, value]` pair per entry (several times faster than `entries()` on a big
   * book), for the planner's full passes over a book.
   */
  forEach(callback: (value: V, key: K, map: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    const shadow = this.shadow;
    if (shadow.size === 0) {
      this.base.forEach((value, key) => callback.call(thisArg, value, key, this));
    } else {
      this.base.forEach((value, key) => {
        const s = shadow.get(key);
        if (s === GONE) return;
        callback.call(thisArg, s === undefined ? value : s, key, this);
      });
    }
    this.added.forEach((value, key) => callback.call(thisArg, value, key, this));
  }

  /**
   * A writable copy that shares this map's unchanged part. This map must no longer be written:
   * forking freezes it, since the copy reads through it.
   */
  fork(): CowMap<K, V> {
    this.frozen = true;
    const child = new CowMap<K, V>();
    child.count = this.count;
    const top = this.shadow.size + this.added.size;
    if (top <= 2 * Math.max(4, Math.cbrt(this.count))) {
      child.base = this.base;
      child.shadow = this.shadow;
      child.added = this.added;
      return child;
    }
    const middle = this.base instanceof CowMap && !(this.base.base instanceof CowMap) ? (this.base as CowMap<K, V>) : null;
    const below = middle === null ? 0 : middle.shadow.size + middle.added.size;
    if (below + top <= 2 * Math.max(16, Math.cbrt(this.count) ** 2)) child.base = this.merged(middle);
    else child.base = this.flatten();
    return child;
  }

  /** This map as a frozen middle layer over the native base: the middle layer below it (if any) and the top merged. */
  private merged(middle: CowMap<K, V> | null): CowMap<K, V> {
    const layer = new CowMap<K, V>();
    layer.count = this.count;
    if (middle === null) {
      // This map is frozen: its top can be shared as it is.
      layer.base = this.base;
      layer.shadow = this.shadow;
      layer.added = this.added;
      return layer.freeze();
    }
    layer.base = middle.base;
    const shadow = new Map(middle.shadow);
    const added = new Map(middle.added);
    // The top's overrides and deletions are of keys the middle shows: its own added keys, or base keys.
    for (const [key, s] of this.shadow) {
      if (added.has(key)) {
        if (s === GONE) added.delete(key);
        else added.set(key, s);
      } else {
        shadow.set(key, s);
      }
    }
    // Keys the middle did not show go to the end, as they did on top (a base key deleted below stays GONE there, and added wins).
    for (const [key, value] of this.added) added.set(key, value);
    layer.shadow = shadow;
    layer.added = added;
    return layer.freeze();
  }

  /**
   * A writable layer over this map in O(1), for a short-lived scratch copy that is read and
   * dropped (never forked or handed out): its reads go through this map, which must stay frozen.
   */
  overlay(): CowMap<K, V> {
    const child = new CowMap<K, V>();
    child.base = this;
    child.count = this.count;
    return child;
  }

  /** The whole map as one native Map, in iteration order (native copies: no per-entry generator). */
  private flatten(): Map<K, V> {
    const flat = this.base instanceof CowMap ? (this.base as CowMap<K, V>).flatten() : new Map(this.base);
    // An override keeps its key's place; a deletion removes it; keys added (again) go to the end.
    for (const [key, s] of this.shadow) {
      if (s === GONE) flat.delete(key);
      else flat.set(key, s);
    }
    for (const [key, value] of this.added) flat.set(key, value);
    return flat;
  }

  /** Refuses every later write (a TypeError, like a frozen object in strict mode). */
  freeze(): this {
    this.frozen = true;
    return this;
  }

  get isFrozen(): boolean {
    return this.frozen;
  }

  private writable(): void {
    if (this.frozen) throw new TypeError('cannot change a frozen map: it belongs to a state that was handed out (fork it)');
    if (!this.owned) {
      this.shadow = new Map(this.shadow);
      this.added = new Map(this.added);
      this.owned = true;
    }
  }
}

const EMPTY: ReadonlyMap<unknown, unknown> = new Map();
/** The empty top layer a map starts with before its first write (never written: `owned` is false). */
const NONE: Map<unknown, unknown> = new Map();
