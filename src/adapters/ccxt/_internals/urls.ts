/*
 * Points a ccxt exchange at another host (a test server, a proxy): every URL in `urls.api` keeps
 * its path and gets the base URL's scheme, host and port.
 */

/** `value` with the origin of every URL string in it replaced by `base` (a URL's origin, no trailing slash). */
export function rebased(value: unknown, base: string): unknown {
  if (typeof value === 'string') return value.replace(/^https?:\/\/[^/]+/, base);
  if (Array.isArray(value)) return value.map((v) => rebased(v, base));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rebased(v, base)]));
  }
  return value;
}
