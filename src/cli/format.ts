/** A plain text table; numbers right-aligned. */
export function table(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'));
  const line = (r: readonly string[]): string =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

/** Money and values: up to 2 decimals, no trailing zeros beyond them. Not for quantities or prices: see {@link num}. */
export function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const rounded = Math.round(n * 100) / 100;
  return Object.is(rounded, -0) ? '0' : String(rounded);
}

/**
 * Quantities, prices, fractions and percentages: with the precision they have (0.0001 stays
 * 0.0001, where {@link fmt} would print 0), in plain digits (never 1e-7), without the float
 * noise of arithmetic (0.3 * 100 prints 30, not 30.000000000000004).
 *
 * @example
 * ```ts
 * num(0.0001) // '0.0001'
 * num(1e-7) // '0.0000001'
 * ```
 */
export function num(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (n === 0) return '0';
  const p = Number(n.toPrecision(12));
  const s = String(p);
  if (!/e-/i.test(s)) return s;
  const decimals = Math.min(100, 11 - Math.floor(Math.log10(Math.abs(p))));
  return p.toFixed(decimals).replace(/\.?0+$/, '');
}
