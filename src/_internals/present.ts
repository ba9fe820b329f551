/*
 * Checked access where the code around already guarantees a value: an index inside a loop's
 * bounds, the last item of a list known to be non-empty, a row every SQLite database returns.
 * Where a `!` would let a broken guarantee travel on as `undefined`, these stop at the spot
 * with a message naming what was missing (a bug in position-tracker, never bad input).
 */

/** `value`, which must be there; throws naming `what` when it is not. */
export function present<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`internal error: ${what} is missing`);
  return value;
}

/** The last item of a list that must not be empty. */
export function lastOf<T>(items: readonly T[], what: string): T {
  return present(items[items.length - 1], `the last ${what}`);
}
