/*
 * Settings the property tests read from the environment (the seed, the number of runs), so a
 * failure printed in CI can be replayed as it ran.
 */

/** The integer in `process.env[name]`, or `fallback` when it is unset or blank; anything else is an error naming the variable. */
export function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new Error(`${name} must be an integer, got "${raw}"`);
  return n;
}
