/*
 * Plain-object records keyed by names from outside (books, symbols, groups, setups, days), done
 * safely: a key such as `constructor`, `toString` or `__proto__` is data, never a member of
 * Object.prototype. Work in Maps; these two helpers are the way in and out of JSON documents.
 */

/**
 * A JSON-ready record from entries. Every key becomes an own data property (as with
 * `Object.fromEntries`): `__proto__` is a key like any other, not the object's prototype.
 *
 * @example
 * ```ts
 * recordFrom([['__proto__', 1]]) // { ['__proto__']: 1 }, Object.hasOwn(r, '__proto__') === true
 * ```
 */
export function recordFrom<V>(entries: Iterable<readonly [string, V]>): Record<string, V> {
  return Object.fromEntries(entries) as Record<string, V>;
}

/**
 * The value a record holds under `key` itself; undefined when it holds none (what
 * Object.prototype would answer for `constructor` or `toString` is not a value).
 *
 * @example
 * ```ts
 * ownValue({}, 'constructor') // undefined, where ({}).constructor is Object
 * ```
 */
export function ownValue<V>(record: Readonly<Record<string, V>> | null | undefined, key: string): V | undefined {
  return record !== null && record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}
