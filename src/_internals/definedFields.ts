/*
 * Optional fields without the spreading ceremony: `...definedFields({ reason, seconds })` in
 * place of `...(reason === undefined ? {} : { reason }), ...(seconds === undefined ? {} : { seconds })`.
 * A key whose value is undefined is left out, not set to undefined, so it never overrides a
 * default in a later spread, never shows in `'key' in o`, and never reaches a strict schema or a
 * `toStrictEqual` as a key. exactOptionalPropertyTypes stays off: this keeps the output the same
 * as the spreads it replaces without retyping every options interface.
 */

/** `T` with each key that may be undefined made optional and its undefined taken out. */
export type DefinedFields<T> = { [K in keyof T as undefined extends T[K] ? never : K]: T[K] } & {
  [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined>;
};

/** A copy of `fields` without the keys whose value is undefined (null and other falsy values stay). */
export function definedFields<T extends object>(fields: T): DefinedFields<T> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) out[key] = value;
  return out as DefinedFields<T>;
}
