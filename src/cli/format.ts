import { CONTROL_CHARACTERS } from '../events/index.js';

const ALL_CONTROLS = new RegExp(CONTROL_CHARACTERS.source, 'g');
// The same set but line feed and tab, which a multi-line text may hold.
const CONTROLS_BUT_LINES = new RegExp(`(?![\\n\\t])${CONTROL_CHARACTERS.source}`, 'g');
const visible = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * Makes text safe for a terminal: every control character (ESC, BEL, NUL, CR, DEL, C1) and
 * every invisible mark that reorders or hides text (right-to-left marks, isolates, zero-width
 * characters) becomes a visible `\\u001b`-style escape. `lines` keeps line feeds and tabs (a
 * whole multi-line output); without it they are escaped too (one table cell, one field). The
 * escape is valid inside a JSON string and means the same character there, so JSON output
 * stays the same data. Used by every printer: the Io's stdout and stderr, and table cells.
 *
 * @example
 * ```ts
 * escapeControls('AAPL\u001b[2J') // 'AAPL\\u001b[2J'
 * ```
 */
export function escapeControls(text: string, options: { lines?: boolean } = {}): string {
  return text.replace(options.lines ? CONTROLS_BUT_LINES : ALL_CONTROLS, visible);
}

/** A plain text table; numbers right-aligned. */
export function table(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  // Escaped before measuring, so what is printed is what is aligned.
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : escapeControls(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'));
  const line = (r: readonly string[]): string =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
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

/**
 * A position's protection as the CLI prints it: `stop 95, take profit 120, trailing stop 2% (high-water 101)`,
 * or null when it holds none (the bot or the venue enforces it; the log keeps it).
 */
export function protectionText(p: {
  stop?: number | undefined;
  takeProfit?: number | undefined;
  trailingStop?: { distance: number; highWater: number } | { percent: number; highWater: number } | undefined;
}): string | null {
  const parts: string[] = [];
  if (p.stop !== undefined) parts.push(`stop ${num(p.stop)}`);
  if (p.takeProfit !== undefined) parts.push(`take profit ${num(p.takeProfit)}`);
  const t = p.trailingStop;
  if (t !== undefined)
    parts.push(`trailing stop ${'percent' in t ? `${num(t.percent)}%` : num(t.distance)} (high-water ${num(t.highWater)})`);
  return parts.length === 0 ? null : parts.join(', ');
}
