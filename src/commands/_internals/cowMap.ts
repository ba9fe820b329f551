/*
 * A map that can be forked cheaply, so a state handed to a caller stays a value while the
 * next state is built from it. A fork shares the parent's frozen base and copies only the
 * changes made on top of it (overrides and deletions of base keys, keys added since); when
 * those grow past about 4 x sqrt(size), the fork flattens them into a new base. A fork thus
 * costs O(sqrt n) and the occasional flattening O(n) every O(sqrt n) changes, instead of a
 * whole copy of a big book per command. Values are never `undefined`.
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

  constructor(entries?: Iterable<readonly [K, V]> | null) {
    this.base = EMPTY as ReadonlyMap<K, V>;
    this.shadow = new Map();
    this.added = new Map(entries ?? undefined);
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

  /** A writable copy that shares this map's unchanged part; this map must no longer be written (freeze it). */
  fork(): CowMap<K, V> {
    const child = new CowMap<K, V>();
    const changes = this.shadow.size + this.added.size;
    if (changes > Math.max(64, 4 * Math.sqrt(this.count))) {
      child.base = this.flatten();
    } else {
      child.base = this.base;
      child.shadow = new Map(this.shadow);
      child.added = new Map(this.added);
    }
    child.count = this.count;
    return child;
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
    const flat = new Map(this.base);
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
  }
}

const EMPTY: ReadonlyMap<unknown, unknown> = new Map();
